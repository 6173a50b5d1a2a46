"""Instagram professional accounts linked to a Facebook Page (Instagram API with
Facebook Login, host graph.facebook.com), through ``accounts.connectors.graph``.

Connected with the Page in one Facebook Login (``facebook.login_assets``); the
account acts with its Page's token.

Publishing uses containers: create one per image (``image_url``: Instagram
downloads it from our signed public address, with its ``alt_text``), poll each
until ``FINISHED`` (``ERROR``/``EXPIRED`` are explained and refused), combine
several into a ``CAROUSEL`` container, then ``media_publish``. Meta has no
idempotency key: the container id is remembered under the job's idempotency
key before publishing, so a later run looks at that container first
(``PUBLISHED``: never again; ``FINISHED``: publish that one, not a new one),
and an unknown outcome is reconciled by paging the account's recent media
(``lookup_recent``). The account's publishing limit (``content_publishing_limit``)
is read before publishing. A thread part becomes a comment (the "first comment").

Video goes out as a Reel: one ``REELS`` container whose ``video_url`` is our
signed public address (as for images), ``share_to_feed`` so it shows in the grid
too; Instagram downloads and processes it (minutes, not seconds), so its
``status_code`` is polled for up to ~5 minutes (the content-publishing guide:
once a minute, no more than five) and, if still ``IN_PROGRESS``, looked at again
on the dispatcher's next try (the same container, remembered under the key). Reels
take no alt text and no caption file (``alt_text`` is for images only, content-
publishing: "Reels and stories are not supported"): a video's captions stay burnt in
or in the description. Limits (``reference/ig-user/media#reel-specifications``):
MP4 or MOV, 3 seconds to 15 minutes, 300 MB, aspect ratio 0.01:1 to 10:1 with 9:16
recommended (the media library's fit table asks for 9:16).

Every path, the version and every metric name are in ``API``. Sources
(developers.facebook.com/documentation/instagram-platform): ``content-publishing``,
``reference/ig-user/media``, ``reference/ig-container``, ``reference/ig-user/media_publish``,
``reference/ig-user/content_publishing_limit``, ``comment-moderation``,
``reference/ig-comment/replies``, ``instagram-api-with-facebook-login/conversations-api``
(messaging), ``reference/instagram-media/insights`` and ``…/instagram-user/insights``
(``impressions``/``plays`` retired 2025-04-21; ``views`` instead).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import http
from accounts.connectors import graph
from accounts.connectors.base import (
    AccountMetrics,
    Capabilities,
    ConnectedAccount,
    InboxItem,
    InboxPage,
    Limits,
    MediaItem,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RateLimited,
    RecentPost,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.facebook import (
    INBOX_LOOKBACK,
    MetaAsset,
    MetaLogin,
    _cursor_time,
    _inbox_page,
    messaging_window_problem,
    read_messages,
    send_message,
)
from accounts.models import ChannelAccount

API = graph.GraphApi(
    version="v26.0",
    paths={
        "debug_token": "/debug_token",
        "object": "/{object_id}",
        "media": "/{ig_id}/media",
        "media_publish": "/{ig_id}/media_publish",
        "publishing_limit": "/{ig_id}/content_publishing_limit",
        "comments": "/{media_id}/comments",
        "mentions": "/{ig_id}/mentions",
        "replies": "/{comment_id}/replies",
        "conversations": "/{page_id}/conversations",
        "messages": "/{owner_id}/messages",
        "insights": "/{object_id}/insights",
    },
    metrics={
        "media": ("views", "reach", "likes", "comments", "shares", "saved", "total_interactions"),
        "account_total": ("reach", "views", "accounts_engaged", "total_interactions"),
        "account_followers": ("follower_count",),
    },
    fields={
        "profile": "id,username,name,followers_count,media_count",
        "container": "id,status_code,status",
        "media": "id,caption,timestamp,permalink,media_type",
        "media_counts": "id,like_count,comments_count",
        "comment": "id,text,timestamp,username,from,hidden,parent_id",
        "conversation": (
            "id,updated_time,participants,messages.limit(10){id,message,from,created_time}"
        ),
        "publishing_limit": "quota_usage,config",
        "mentioned_comment": "id,text,timestamp,username,media{id,permalink}",
    },
)
# Waits between looks at a container Instagram is still processing (bounded, ~60 s).
CONTAINER_POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 5.0, 8.0, 8.0, 10.0, 10.0, 10.0)
# A Reel processes for longer: look for up to ~5 minutes (content-publishing: query the
# status once a minute for no more than 5 minutes), then try again later.
VIDEO_POLL_DELAYS = (5.0, 10.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0)
# Reels (reference/ig-user/media#reel-specifications): MP4 or MOV, 3 s to 15 min, 300 MB.
REEL_MIME_TYPES = ("video/mp4", "video/quicktime")
REEL_MIN_SECONDS = 3
REEL_MAX_SECONDS = 15 * 60
REEL_MAX_BYTES = 300 * 1024 * 1024
# How long a container id is remembered under its idempotency key (containers expire in 24 h).
CONTAINER_MEMORY_SECONDS = 48 * 3600
INBOX_MEDIA = 25


@dataclass(frozen=True)
class PublishingLimit:
    used: int
    total: int
    window_seconds: int

    @property
    def remaining(self) -> int:
        return max(self.total - self.used, 0)


def connected_instagram(asset: MetaAsset, login: MetaLogin) -> ConnectedAccount:
    return ConnectedAccount(
        remote_id=asset.ig_id,
        handle="@" + (asset.ig_username or asset.ig_id),
        display_name=asset.ig_name or asset.ig_username,
        server_url=graph.graph_url(),
        credentials={
            "access_token": asset.page_token,
            "user_token": login.user_token,
            "page_id": asset.page_id,
        },
        credentials_expire_at=None,
        scopes=login.scopes,
        profile_url=f"https://www.instagram.com/{asset.ig_username}/" if asset.ig_username else "",
    )


def _container_key(account: ChannelAccount, key: str) -> str:
    return f"ig-container:{account.pk}:{key}"


class InstagramConnector(graph.GraphConnector):
    network = "instagram"
    label = _("Instagram")
    connect_method = "oauth"
    api = API
    health_fields = "id,username,name"
    capabilities = Capabilities(
        publish=True,
        images=True,
        videos=True,  # as a Reel
        alt_text=True,
        replies=True,
        threads=True,  # a thread part is published as a comment (the "first comment")
        direct_messages=True,
        delete=False,  # the API cannot delete published media
        inbox=True,
        metrics=True,
        impressions=True,
        lookup_recent=True,
        moderation=True,
    )
    # Captions 2,200 characters; JPEG only, 8 MB; carousel up to 10 (content-publishing).
    limits = Limits(
        max_text=2200,
        max_media=10,
        max_image_bytes=8 * 1024 * 1024,
        image_mime_types=("image/jpeg",),
        max_videos=1,
        video_mime_types=REEL_MIME_TYPES,
        max_video_bytes=REEL_MAX_BYTES,
        max_video_seconds=REEL_MAX_SECONDS,
        video_alone=True,
    )

    def _handle(self, body: Mapping[str, Any]) -> str:
        username = str(body.get("username") or "")
        return "@" + username if username else ""

    def _profile_url(self, body: Mapping[str, Any]) -> str:
        username = str(body.get("username") or "")
        return f"https://www.instagram.com/{username}/" if username else ""

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        problems = super().validate(request, account=account)
        if request.reply_to is None and not request.media:
            problems.append(gettext("Instagram posts need at least one image or a video."))
        for number, item in enumerate((m for m in request.media if m.is_video), start=1):
            if item.duration_ms and item.duration_ms < REEL_MIN_SECONDS * 1000:
                problems.append(
                    gettext("Video %(number)d is shorter than 3 seconds; a Reel needs at least 3.")
                    % {"number": number}
                )
        return problems

    # --- publishing -----------------------------------------------------------------

    def publishing_limit(self, account: ChannelAccount) -> PublishingLimit:
        body = self._call(
            account,
            "GET",
            "publishing_limit",
            ids={"ig_id": account.remote_id},
            params={"fields": API.fields["publishing_limit"]},
        ).body
        row = ((body or {}).get("data") or [{}])[0]
        config = row.get("config") or {}
        return PublishingLimit(
            used=int(row.get("quota_usage") or 0),
            total=int(config.get("quota_total") or 0),
            window_seconds=int(config.get("quota_duration") or 86400),
        )

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        if request.reply_to is not None:
            return self._comment(account, request.reply_to.remote_id, request.text, "comments")
        if not request.media:
            raise Rejected(gettext("Instagram posts need at least one image or a video"))
        video = any(item.is_video for item in request.media)
        memory = _container_key(account, request.idempotency_key) if request.idempotency_key else ""
        container_id = str(cache.get(memory) or "") if memory else ""
        if container_id:
            status = self._container_status(account, container_id)
            if status == "PUBLISHED":
                found = self._find_published(account, request)
                if found is not None:
                    return found
                raise UnknownOutcome(
                    detail=f"Container {container_id} is published but its media was not found yet"
                )
            if status not in ("FINISHED", "IN_PROGRESS"):
                container_id = ""  # ERROR or EXPIRED: start again with fresh containers
        if not container_id:
            limit = self.publishing_limit(account)
            if limit.total and limit.remaining <= 0:
                raise RateLimited(
                    3600.0,
                    ngettext(
                        "The Instagram account has used its %(total)d post for the last 24 hours. "
                        "We will try again later.",
                        "The Instagram account has used its %(total)d posts for the last 24 hours. "
                        "We will try again later.",
                        limit.total,
                    )
                    % {"total": limit.total},
                )
            container_id = self._create_containers(account, request)
            if memory:
                cache.set(memory, container_id, timeout=CONTAINER_MEMORY_SECONDS)
        self._wait_finished(account, container_id, video=video)
        answer = self._call(
            account,
            "POST",
            "media_publish",
            ids={"ig_id": account.remote_id},
            data={"creation_id": container_id},
            outcome_matters=True,
        )
        media_id = str((answer.body or {}).get("id") or "")
        if not media_id:
            raise UnknownOutcome(detail="media_publish answered without an id")
        permalink = ""
        with contextlib.suppress(TransientError, Rejected, RateLimited):
            permalink = str(
                (
                    self._call(
                        account,
                        "GET",
                        "object",
                        ids={"object_id": media_id},
                        params={"fields": "permalink"},
                    ).body
                    or {}
                ).get("permalink")
                or ""
            )
        return PublishResult(
            remote_id=media_id,
            url=permalink,
            published_at=timezone.now(),
            extra={"container_id": container_id},
        )

    def _create_containers(self, account: ChannelAccount, request: PublishRequest) -> str:
        if request.media[0].is_video:
            return self._reel_container(account, request.media[0], caption=request.text)
        carousel = len(request.media) > 1
        children = [
            self._image_container(
                account, item, caption="" if carousel else request.text, carousel_item=carousel
            )
            for item in request.media
        ]
        if not carousel:
            return children[0]
        for child in children:
            self._wait_finished(account, child)
        answer = self._call(
            account,
            "POST",
            "media",
            ids={"ig_id": account.remote_id},
            data={
                "media_type": "CAROUSEL",
                "children": ",".join(children),
                "caption": request.text,
            },
        )
        return self._id(answer)

    def _image_container(
        self, account: ChannelAccount, item: MediaItem, *, caption: str, carousel_item: bool
    ) -> str:
        if not item.public_url:
            raise Rejected(gettext("an image has no public address for Instagram to fetch"))
        data: dict[str, Any] = {"image_url": item.public_url}
        if caption:
            data["caption"] = caption
        if item.alt_text:
            data["alt_text"] = item.alt_text
        if carousel_item:
            data["is_carousel_item"] = "true"
        # Creating a container publishes nothing: a lost answer leaves an invisible orphan.
        return self._id(
            self._call(account, "POST", "media", ids={"ig_id": account.remote_id}, data=data)
        )

    def _reel_container(self, account: ChannelAccount, item: MediaItem, *, caption: str) -> str:
        """``POST /{ig-user-id}/media`` with ``media_type=REELS`` and ``video_url``
        (reference/ig-user/media; content-publishing "Reels posts")."""
        if not item.public_url:
            raise Rejected(gettext("the video has no public address for Instagram to fetch"))
        data: dict[str, Any] = {
            "media_type": "REELS",
            "video_url": item.public_url,
            "share_to_feed": "true",
        }
        if caption:
            data["caption"] = caption
        return self._id(
            self._call(account, "POST", "media", ids={"ig_id": account.remote_id}, data=data)
        )

    @staticmethod
    def _id(answer: graph.Answer) -> str:
        value = str((answer.body or {}).get("id") or "")
        if not value:
            raise TransientError(detail="Container answer without an id")
        return value

    def _container_status(self, account: ChannelAccount, container_id: str) -> str:
        body = self._call(
            account,
            "GET",
            "object",
            ids={"object_id": container_id},
            params={"fields": API.fields["container"]},
        ).body
        self._last_status = str((body or {}).get("status") or "")
        return str((body or {}).get("status_code") or "")

    def _wait_finished(
        self, account: ChannelAccount, container_id: str, *, video: bool = False
    ) -> None:
        for delay in (0.0, *(VIDEO_POLL_DELAYS if video else CONTAINER_POLL_DELAYS)):
            if delay:
                http.sleep(delay)
            status = self._container_status(account, container_id)
            if status == "FINISHED":
                return
            if status == "PUBLISHED":
                raise UnknownOutcome(detail=f"Container {container_id} is already published")
            if status == "ERROR":
                raise Rejected(
                    _container_error(getattr(self, "_last_status", ""), video=video),
                    detail=getattr(self, "_last_status", ""),
                )
            if status == "EXPIRED":
                raise Rejected(
                    gettext(
                        "Instagram let the prepared post expire (after 24 hours) before it was "
                        "published"
                    )
                )
        if video:
            raise TransientError(
                gettext(
                    "Instagram is still processing the Reel. We will look again later; it "
                    "will not be sent twice."
                )
            )
        raise TransientError(
            gettext("Instagram is still processing the images. We will try again.")
        )

    def _find_published(
        self, account: ChannelAccount, request: PublishRequest
    ) -> PublishResult | None:
        wanted = " ".join(request.text.split())
        for post in self.lookup_recent(account, limit=25):
            if " ".join(post.text.split()) == wanted:
                return PublishResult(
                    remote_id=post.ref.remote_id, url=post.ref.url, published_at=post.created_at
                )
        return None

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        first = self._call(
            account,
            "GET",
            "media",
            ids={"ig_id": account.remote_id},
            params={"fields": API.fields["media"], "limit": min(max(limit, 1), 50)},
        )
        posts: list[RecentPost] = []
        for row in self._all(account, first, max_pages=2):
            created = graph.parse_time(row.get("timestamp"))
            if since is not None and created is not None and created < since:
                break
            media_id = str(row.get("id") or "")
            posts.append(
                RecentPost(
                    ref=RemoteRef(remote_id=media_id, url=str(row.get("permalink") or "")),
                    text=str(row.get("caption") or ""),
                    created_at=created,
                )
            )
            comments = self._call(
                account,
                "GET",
                "comments",
                ids={"media_id": media_id},
                params={"fields": API.fields["comment"], "limit": 50},
            )
            for comment in self._all(account, comments, max_pages=2):
                if str((comment.get("from") or {}).get("id") or "") != account.remote_id:
                    continue
                posts.append(
                    RecentPost(
                        ref=RemoteRef(remote_id=str(comment.get("id") or "")),
                        text=str(comment.get("text") or ""),
                        created_at=graph.parse_time(comment.get("timestamp")),
                        reply_to_id=str(comment.get("parent_id") or media_id),
                    )
                )
        return posts

    # --- answering ----------------------------------------------------------------------

    def _comment(
        self, account: ChannelAccount, target_id: str, text: str, edge: str
    ) -> PublishResult:
        ids = {"media_id": target_id} if edge == "comments" else {"comment_id": target_id}
        answer = self._call(
            account, "POST", edge, ids=ids, data={"message": text}, outcome_matters=True
        )
        comment_id = str((answer.body or {}).get("id") or "")
        if not comment_id:
            raise UnknownOutcome(detail="Comment answer without an id")
        return PublishResult(
            remote_id=comment_id, published_at=timezone.now(), extra={"graph_kind": "comment"}
        )

    def reply(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        ref = request.reply_to
        if ref is None:
            raise Rejected(gettext("a reply needs the post it answers"))
        if request.visibility == "direct":
            return send_message(self, account, request, owner_id=account.remote_id)
        if ref.extra.get("graph_kind") == "mention":
            # Answering a mention elsewhere: POST /{ig-user-id}/mentions (ig-user/mentions).
            answer = self._call(
                account,
                "POST",
                "mentions",
                ids={"ig_id": account.remote_id},
                data={
                    "comment_id": ref.remote_id,
                    "media_id": ref.extra.get("media_id", ""),
                    "message": request.text,
                },
                outcome_matters=True,
            )
            comment_id = str((answer.body or {}).get("id") or "")
            if not comment_id:
                raise UnknownOutcome(detail="Mention reply answered without an id")
            return PublishResult(
                remote_id=comment_id, published_at=timezone.now(), extra={"graph_kind": "comment"}
            )
        if ref.extra.get("graph_kind") == "comment":
            # Replies go to the top-level comment (Instagram threads one level deep).
            top = ref.extra.get("parent_id") or ref.remote_id
            return self._comment(account, top, request.text, "replies")
        return self._comment(account, ref.remote_id, request.text, "comments")

    def reply_unavailable(self, account: ChannelAccount, ref: RemoteRef, *, direct: bool) -> str:
        return messaging_window_problem(account, ref) if direct else ""

    def hide_comment(self, account: ChannelAccount, ref: RemoteRef, *, hidden: bool) -> None:
        self._call(
            account,
            "POST",
            "object",
            ids={"object_id": ref.remote_id},
            data={"hide": "true" if hidden else "false"},
        )

    def delete_comment(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._call(account, "DELETE", "object", ids={"object_id": ref.remote_id})

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Comments (and replies) on recent media, and direct messages, newer than the cursor."""
        since = _cursor_time(cursor)
        lookback = timezone.now() - INBOX_LOOKBACK
        items: list[InboxItem] = []
        media = self._call(
            account,
            "GET",
            "media",
            ids={"ig_id": account.remote_id},
            params={"fields": "id,timestamp,permalink", "limit": INBOX_MEDIA},
        )
        for row in self._all(account, media, max_pages=1):
            created = graph.parse_time(row.get("timestamp"))
            if created is not None and created < lookback:
                break
            media_id = str(row.get("id") or "")
            comments = self._call(
                account,
                "GET",
                "comments",
                ids={"media_id": media_id},
                params={
                    "fields": API.fields["comment"] + ",replies{" + API.fields["comment"] + "}",
                    "limit": 50,
                },
            )
            for comment in self._all(account, comments, max_pages=4):
                rows = [comment, *((comment.get("replies") or {}).get("data") or [])]
                for entry in rows:
                    item = self._comment_item(
                        account, entry, media_id=media_id, permalink=str(row.get("permalink") or "")
                    )
                    if item is not None and (
                        since is None or (item.created_at and item.created_at >= since)
                    ):
                        items.append(item)
        page_id = str((account.credentials or {}).get("page_id") or "")
        if page_id:
            items.extend(read_messages(self, account, since, platform="instagram", page_id=page_id))
        return _inbox_page(items, cursor)

    def fetch_mention(self, account: ChannelAccount, comment_id: str) -> InboxItem | None:
        """A comment elsewhere that mentions the account (its id comes with the ``mentions``
        webhook: Instagram offers no list of mentions to poll)."""
        fields = f"mentioned_comment.comment_id({comment_id}){{{API.fields['mentioned_comment']}}}"
        try:
            body = self._call(
                account,
                "GET",
                "object",
                ids={"object_id": account.remote_id},
                params={"fields": fields},
            ).body
        except Rejected:
            return None  # deleted since, or no longer mentions us
        row = (body or {}).get("mentioned_comment") or {}
        if not row.get("id"):
            return None
        media = row.get("media") or {}
        username = str(row.get("username") or "")
        return InboxItem(
            remote_id=str(row["id"]),
            kind="mention",
            author_handle="@" + username if username else "",
            author_name=username,
            text=str(row.get("text") or ""),
            created_at=graph.parse_time(row.get("timestamp")),
            url=str(media.get("permalink") or ""),
            thread_root=RemoteRef(remote_id=str(media.get("id") or row["id"])),
            raw={"graph_kind": "mention", "media_id": str(media.get("id") or "")},
        )

    def _comment_item(
        self, account: ChannelAccount, row: Mapping[str, Any], *, media_id: str, permalink: str
    ) -> InboxItem | None:
        author = row.get("from") or {}
        username = str(row.get("username") or author.get("username") or "")
        if not row.get("id") or str(author.get("id") or "") == account.remote_id:
            return None
        parent = str(row.get("parent_id") or "")
        return InboxItem(
            remote_id=str(row["id"]),
            kind="reply",
            author_handle="@" + username if username else "",
            author_name=username,
            author_id=str(author.get("id") or ""),
            text=str(row.get("text") or ""),
            created_at=graph.parse_time(row.get("timestamp")),
            url=permalink,
            in_reply_to=RemoteRef(remote_id=parent or media_id),
            thread_root=RemoteRef(remote_id=media_id),
            raw={
                "graph_kind": "comment",
                "media_id": media_id,
                "parent_id": parent,
                "hidden": str(bool(row.get("hidden"))),
            },
        )

    # --- metrics -----------------------------------------------------------------------

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        results: list[PostMetrics] = []
        for ref in refs:
            try:
                insights = graph.insight_values(
                    self._call(
                        account,
                        "GET",
                        "insights",
                        ids={"object_id": ref.remote_id},
                        params={"metric": ",".join(API.metrics["media"])},
                    ).body
                )
            except Rejected as exc:
                if "does not exist" in exc.detail:
                    results.append(PostMetrics(remote_id=ref.remote_id, deleted=True))
                    continue
                raise
            results.append(
                PostMetrics(
                    remote_id=ref.remote_id,
                    likes=insights.get("likes", 0),
                    shares=insights.get("shares", 0),
                    replies=insights.get("comments", 0),
                    impressions=insights.get("views"),
                )
            )
        return results

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        body = self._call(
            account,
            "GET",
            "object",
            ids={"object_id": account.remote_id},
            params={"fields": API.fields["profile"]},
        ).body
        followers, posts = (body or {}).get("followers_count"), (body or {}).get("media_count")
        return AccountMetrics(
            followers=int(followers) if isinstance(followers, int) else None,
            posts=int(posts) if isinstance(posts, int) else None,
        )

    def fetch_account_insights(self, account: ChannelAccount) -> dict[str, int]:
        """Yesterday's reach, views and engagement (``total_value`` shape) and follower gain."""
        totals = graph.insight_values(
            self._call(
                account,
                "GET",
                "insights",
                ids={"object_id": account.remote_id},
                params={
                    "metric": ",".join(API.metrics["account_total"]),
                    "period": "day",
                    "metric_type": "total_value",
                },
            ).body
        )
        followers = graph.insight_values(
            self._call(
                account,
                "GET",
                "insights",
                ids={"object_id": account.remote_id},
                params={"metric": ",".join(API.metrics["account_followers"]), "period": "day"},
            ).body
        )
        return {**totals, **followers}


def _container_error(status: str, *, video: bool = False) -> str:
    """Instagram's container ``status`` (``ERROR: … 2207052``) in plain words."""
    for code, message in graph.IG_SUBCODE_MESSAGES.items():
        if str(code) in status:
            return str(message)
    if video:
        return gettext(
            "Instagram could not process the video (%(status)s). Use an MP4 (H.264 with AAC "
            "sound) of 3 seconds to 15 minutes."
        ) % {"status": status or "ERROR"}
    return gettext("Instagram could not process the images (%(status)s)") % {
        "status": status or "ERROR"
    }


def _message_json(text: str) -> str:
    return json.dumps({"text": text})
