"""Facebook Pages, through Meta's Graph API (``accounts.connectors.graph``).

Connecting: the organization's own Meta app (``NetworkApp`` "meta") and Facebook
Login (code flow, state checked) give a short-lived user token, exchanged for a
long-lived one (~60 days); ``/me/accounts`` lists the Pages with their Page
tokens, which do not expire by date but die on a password change, a removed
permission or a lost Page role (error 190: reconnect). Instagram professional
accounts linked to those Pages connect in the same step (``instagram.py``).

Publishing: text and link posts on ``/{page-id}/feed``; photos are uploaded
unpublished (``/{page-id}/photos`` with ``published=false`` and their alt text
in ``alt_text_custom``) and attached to one post (``attached_media``). Meta has
no idempotency key: an unknown outcome is reconciled by paging the Page's
``published_posts`` for ours (the dispatcher matches text and time). A thread
part becomes a comment on the post (the "first comment").

Video (``docs/video-api/guides/publishing``): the file goes to Meta through the
Resumable Upload API (``docs/graph-api/guides/upload``): ``POST /{app-id}/uploads``
with the file's name, length and type opens a session (``upload:<id>``), with the
*user* token of the person who connected the Page (Meta wants an administrator or
developer of the organization's Meta app); ``POST /upload:<id>`` with
``Authorization: OAuth <token>`` and ``file_offset`` streams the bytes and answers
a file handle ``h``; an interrupted upload asks ``GET /upload:<id>`` for its
``file_offset`` and goes on from there. ``POST /{page-id}/videos`` on the video host
with ``fbuploader_video_file_chunk=<h>`` and the text as ``description`` makes the
video post. Its processing (``?fields=status``: ``video_status`` and the
uploading/processing/publishing phases, ``docs/graph-api/reference/video-status``)
is polled until ready, then captions go to ``/{video-id}/captions`` as SubRip files
named ``<name>.<locale>.srt`` (``docs/graph-api/reference/video/captions``; our
WebVTT is converted). Every step is recorded under the job's key
(``PublishCheckpoint``): a retry resumes the upload, never starts a second session
once a handle exists, and never posts a second video once the video id is known.
Limits: 10 GB and 240 minutes (video-api/guides/publishing), MP4 or MOV.

Every path, the version, the metric names and the permissions are in the
tables below, nowhere else. Sources (developers.facebook.com):
``docs/facebook-login/guides/advanced/manual-flow``,
``docs/facebook-login/guides/access-tokens/get-long-lived``,
``docs/graph-api/reference/user/accounts``, ``docs/pages-api/posts``,
``docs/graph-api/reference/page/photos``, ``docs/graph-api/reference/object/comments``,
``docs/graph-api/reference/comment``, ``docs/messenger-platform/conversations``,
``docs/messenger-platform/send-messages`` (+ message tags: HUMAN_AGENT),
``docs/graph-api/reference/insights`` (+ its deprecated-metrics page),
``docs/permissions/reference``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from requests_oauthlib import OAuth2Session

from accounts import http
from accounts.connectors import graph
from accounts.connectors.base import (
    AccountMetrics,
    AuthError,
    Capabilities,
    ConnectedAccount,
    InboxItem,
    InboxPage,
    Limits,
    MediaItem,
    OAuthStart,
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
from accounts.models import ChannelAccount

API = graph.GraphApi(
    version="v26.0",
    paths={
        "dialog": "/dialog/oauth",
        "access_token": "/oauth/access_token",
        "debug_token": "/debug_token",
        "me_accounts": "/me/accounts",
        "object": "/{object_id}",
        "feed": "/{page_id}/feed",
        "photos": "/{page_id}/photos",
        "published_posts": "/{page_id}/published_posts",
        # graph-api/guides/upload (Resumable Upload API)
        "uploads": "/{app_id}/uploads",
        "upload": "/upload:{session}",
        # video-api/guides/publishing (on the video host); graph-api/reference/video/captions
        "videos": "/{page_id}/videos",
        "captions": "/{video_id}/captions",
        "comments": "/{object_id}/comments",
        "conversations": "/{page_id}/conversations",
        "messages": "/{owner_id}/messages",
        "insights": "/{object_id}/insights",
    },
    metrics={
        # Current names (Nov 2025 / Jun 2026 retirements: impressions and page_fans* answer
        # "invalid metric" now).
        "page_day": (
            "page_media_view",
            "page_total_media_view_unique",
            "page_post_engagements",
            "page_follows",
        ),
        "post_lifetime": (
            "post_total_media_view_unique",
            "post_reactions_by_type_total",
            "post_clicks",
        ),
    },
    fields={
        "pages": "id,name,access_token,category,tasks",
        "page_instagram": "instagram_business_account{id,username,name}",
        "page_profile": "id,name,link,followers_count",
        "post": "id,message,created_time,permalink_url",
        "video": "id,status,post_id,permalink_url",
        "post_counts": "id,shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)",
        "comment": "id,message,created_time,from,parent{id},permalink_url,is_hidden",
        "conversation": (
            "id,updated_time,participants,messages.limit(10){id,message,from,created_time}"
        ),
    },
)

# Every permission the Meta app asks for, and what stops working without it
# (docs: permissions/reference). Instagram's are here too: one login grants both.
PERMISSIONS: dict[str, Any] = {
    "pages_show_list": _("List the Pages you manage, so you can pick which to connect."),
    "pages_manage_posts": _("Publish posts, photos and videos on the Page."),
    "pages_read_engagement": _("Read the Page's posts, followers and comments."),
    "pages_manage_engagement": _("Answer, hide and delete comments on the Page."),
    "pages_read_user_content": _("Read what visitors post and comment on the Page."),
    "pages_messaging": _("Read and answer the Page's Messenger conversations."),
    "read_insights": _("Read the Page's and its posts' figures (views, engagement)."),
    "business_management": _("Reach Pages that belong to a Business portfolio."),
    "instagram_basic": _("Read the linked Instagram account's profile and media."),
    "instagram_content_publish": _("Publish images, carousels and Reels on Instagram."),
    "instagram_manage_comments": _(
        "Read, answer, hide and delete Instagram comments and mentions."
    ),
    "instagram_manage_insights": _("Read Instagram figures (views, reach, followers)."),
    "instagram_manage_messages": _("Read and answer Instagram direct messages."),
}
FACEBOOK_SCOPES = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
    "pages_messaging",
    "read_insights",
    "business_management",
)
INSTAGRAM_SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
)
LOGIN_SCOPES = FACEBOOK_SCOPES + INSTAGRAM_SCOPES
# Messenger: a reply is allowed within 24 h of the person's last message; with the
# HUMAN_AGENT tag (an app permission granted after review), within 7 days.
MESSAGING_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
INBOX_LOOKBACK = timedelta(days=14)
INBOX_POSTS = 25
URL_RE = re.compile(r"https?://\S+")
# video-api/guides/publishing: Page videos up to 10 GB and 240 minutes; MP4 (recommended)
# or MOV.
MAX_VIDEO_BYTES = 10 * 1024**3
MAX_VIDEO_SECONDS = 240 * 60
VIDEO_MIME_TYPES = ("video/mp4", "video/quicktime")
# Waits between looks at a video Facebook is processing (~5 minutes in all); then the
# dispatcher tries again later, resuming from the recorded video id.
VIDEO_POLL_DELAYS = (2.0, 5.0, 10.0, 15.0, 30.0, 30.0, 60.0, 60.0, 60.0)
# Facebook's caption locales (graph-api/reference/video/captions) for our languages.
CAPTION_LOCALES = {
    "en": "en_US",
    "fi": "fi_FI",
    "sv": "sv_SE",
    "tr": "tr_TR",
    "id": "id_ID",
    "de": "de_DE",
    "fr": "fr_FR",
    "es": "es_ES",
    "nb": "nb_NO",
    "da": "da_DK",
    "et": "et_EE",
}


def dialog_url() -> str:
    return str(getattr(settings, "META_DIALOG_URL", "https://www.facebook.com")).rstrip("/")


# --- connecting ---------------------------------------------------------------------


@dataclass(frozen=True)
class MetaLogin:
    """A completed Facebook Login: the long-lived user token and what it grants."""

    user_token: str
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class MetaAsset:
    """A Page the person manages, with its token and the Instagram account linked to it."""

    page_id: str
    page_name: str
    page_token: str
    ig_id: str = ""
    ig_username: str = ""
    ig_name: str = ""


def login_start(
    *, app_id: str, redirect_uri: str, scopes: Sequence[str] = LOGIN_SCOPES
) -> OAuthStart:
    """Where to send the admin (the Login dialog), with a fresh state to keep server-side."""
    # Facebook takes a comma-separated scope list: one "scope" that oauthlib leaves as it is.
    session = OAuth2Session(client_id=app_id, redirect_uri=redirect_uri, scope=[",".join(scopes)])
    url, state = session.authorization_url(f"{dialog_url()}/{API.version}{API.paths['dialog']}")
    return OAuthStart(authorization_url=url, state=state, code_verifier="")


def login_finish(
    *,
    app_id: str,
    app_secret: str,
    redirect_uri: str,
    code: str,
    returned_state: str,
    expected_state: str,
) -> MetaLogin:
    """Check the state, trade the code for a user token, and that for a long-lived one."""
    if not expected_state or not hmac.compare_digest(returned_state, expected_state):
        raise AuthError(
            gettext(
                "The answer from the sign-in page does not match the request we sent. "
                "Start connecting again."
            )
        )
    base = graph.graph_url()
    try:
        short = graph.call(
            "GET",
            API.url(base, "access_token"),
            params={
                "client_id": app_id,
                "client_secret": app_secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        short_token = str((short.body or {}).get("access_token") or "")
        if not short_token:
            raise TransientError(detail="Token answer without an access token")
        long = graph.call(
            "GET",
            API.url(base, "access_token"),
            params={
                "grant_type": "fb_exchange_token",
                "client_id": app_id,
                "client_secret": app_secret,
                "fb_exchange_token": short_token,
            },
        )
    except Rejected as exc:
        raise AuthError(
            gettext("Meta did not accept the sign-in (%(reason)s). Start connecting again.")
            % {"reason": exc.reason or exc.message},
            detail=exc.detail,
        ) from exc
    user_token = str((long.body or {}).get("access_token") or "")
    if not user_token:
        raise TransientError(detail="Exchange answer without an access token")
    info = graph.debug_token(API, base, app_id=app_id, app_secret=app_secret, token=user_token)
    expires_in = (long.body or {}).get("expires_in")
    expires_at = info.expires_at or (
        timezone.now() + timedelta(seconds=int(expires_in)) if isinstance(expires_in, int) else None
    )
    return MetaLogin(
        user_token=user_token,
        expires_at=expires_at,
        data_access_expires_at=info.data_access_expires_at,
        scopes=info.scopes,
    )


def login_assets(*, user_token: str) -> list[MetaAsset]:
    """Every Page the person manages (paged), each with its linked Instagram account."""
    base = graph.graph_url()
    first = graph.call(
        "GET",
        API.url(base, "me_accounts"),
        token=user_token,
        params={"fields": API.fields["pages"], "limit": 50},
    )
    assets: list[MetaAsset] = []
    for page_rows in graph.pages(first, token=user_token):
        for row in page_rows:
            page_id, page_token = str(row.get("id") or ""), str(row.get("access_token") or "")
            if not page_id or not page_token:
                continue
            linked = graph.call(
                "GET",
                API.url(base, "object", object_id=page_id),
                token=page_token,
                params={"fields": API.fields["page_instagram"]},
            ).body
            ig = (linked or {}).get("instagram_business_account") or {}
            assets.append(
                MetaAsset(
                    page_id=page_id,
                    page_name=str(row.get("name") or page_id),
                    page_token=page_token,
                    ig_id=str(ig.get("id") or ""),
                    ig_username=str(ig.get("username") or ""),
                    ig_name=str(ig.get("name") or ""),
                )
            )
    return assets


def connected_page(asset: MetaAsset, login: MetaLogin) -> ConnectedAccount:
    return ConnectedAccount(
        remote_id=asset.page_id,
        handle=asset.page_name,
        display_name=asset.page_name,
        server_url=graph.graph_url(),
        credentials={"access_token": asset.page_token, "user_token": login.user_token},
        # Page tokens from a long-lived user token carry no expiry date.
        credentials_expire_at=None,
        scopes=login.scopes,
        profile_url=f"https://www.facebook.com/{asset.page_id}",
    )


def missing_permissions(granted: Sequence[str], wanted: Sequence[str]) -> list[tuple[str, str]]:
    """``(permission, what stops working)`` for each wanted permission not granted."""
    return [(scope, str(PERMISSIONS[scope])) for scope in wanted if scope not in granted]


# --- the connector -----------------------------------------------------------------


def comment_item(
    row: Mapping[str, Any], *, post_id: str, network: str, own_id: str
) -> InboxItem | None:
    """A Facebook comment as an inbox item (None for the Page's own comments)."""
    author = row.get("from") or {}
    if not row.get("id") or str(author.get("id") or "") == own_id:
        return None
    parent = (row.get("parent") or {}).get("id")
    return InboxItem(
        remote_id=str(row["id"]),
        kind="reply",
        author_handle=str(author.get("name") or ""),
        author_name=str(author.get("name") or ""),
        author_id=str(author.get("id") or ""),
        text=str(row.get("message") or ""),
        created_at=graph.parse_time(row.get("created_time")),
        url=str(row.get("permalink_url") or ""),
        in_reply_to=RemoteRef(remote_id=str(parent or post_id)),
        thread_root=RemoteRef(remote_id=post_id),
        raw={
            "graph_kind": "comment",
            "post_id": post_id,
            "is_hidden": str(bool(row.get("is_hidden"))),
        },
    )


class FacebookConnector(graph.GraphConnector):
    network = "facebook"
    label = _("Facebook Page")
    connect_method = "oauth"
    api = API
    health_fields = "id,name,link"
    capabilities = Capabilities(
        publish=True,
        images=True,
        videos=True,
        alt_text=True,
        replies=True,
        threads=True,  # a thread part is published as a comment on the post
        direct_messages=True,
        delete=True,
        inbox=True,
        metrics=True,
        impressions=True,
        lookup_recent=True,
        moderation=True,
    )
    # Page posts take 63,206 characters; Page photos are at most 4 MB (pages-api/posts,
    # graph-api/reference/page/photos).
    limits = Limits(
        max_text=63206,
        max_media=10,
        max_image_bytes=4 * 1024 * 1024,
        image_mime_types=("image/jpeg", "image/png", "image/gif"),
        max_videos=1,
        video_mime_types=VIDEO_MIME_TYPES,
        max_video_bytes=MAX_VIDEO_BYTES,
        max_video_seconds=MAX_VIDEO_SECONDS,
        video_alone=True,
    )

    def _profile_url(self, body: Mapping[str, Any]) -> str:
        return str(body.get("link") or "")

    # --- posts ---------------------------------------------------------------------

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        if request.reply_to is not None:
            return self._comment(account, request)
        videos = [item for item in request.media if item.is_video]
        if videos:
            return self._publish_video(account, request, videos[0])
        data: dict[str, Any] = {"message": request.text}
        photo_ids = [self._upload_photo(account, item) for item in request.media]
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        if not photo_ids:
            link = URL_RE.search(request.text)
            if link:
                data["link"] = link.group(0)
        answer = self._call(
            account,
            "POST",
            "feed",
            ids={"page_id": account.remote_id},
            data=data,
            outcome_matters=True,
        )
        post_id = str((answer.body or {}).get("id") or "")
        if not post_id:
            raise UnknownOutcome(detail="Post answer without an id")
        return PublishResult(
            remote_id=post_id,
            url=self._permalink(account, post_id),
            published_at=timezone.now(),
            extra={"photos": ",".join(photo_ids)} if photo_ids else {},
        )

    # --- video ---------------------------------------------------------------------

    def _publish_video(
        self, account: ChannelAccount, request: PublishRequest, item: MediaItem
    ) -> PublishResult:
        from accounts.services import publish_checkpoint_get, publish_checkpoint_save

        key = request.idempotency_key
        checkpoint: dict[str, Any] = publish_checkpoint_get(account=account, key=key) if key else {}

        def record(**values: Any) -> None:
            checkpoint.update(values)
            if key:
                publish_checkpoint_save(account=account, key=key, data=checkpoint)

        video_id = str(checkpoint.get("video_id") or "")
        if not video_id and checkpoint.get("video_sent_at"):
            # The video post was sent before and its answer lost (the dispatcher has looked
            # for it since): if it is on the Page now, it is ours; never post it twice.
            found = self._find_video_post(account, request, checkpoint)
            if found is not None:
                return found
        if not video_id:
            handle = str(checkpoint.get("handle") or "") or self._upload_video(
                account, item, checkpoint, record
            )
            record(video_sent_at=timezone.now().isoformat())
            data = {"description": request.text, "fbuploader_video_file_chunk": handle}
            answer = graph.call(
                "POST",
                API.url(graph.graph_video_url(), "videos", page_id=account.remote_id),
                token=self._token(account),
                data=data,
                outcome_matters=True,
                budget_owner=f"{self.network}:{account.remote_id}",
                timeout=self.timeout,
            )
            video_id = str((answer.body or {}).get("id") or "")
            if not video_id:
                raise UnknownOutcome(detail="videos answered without an id")
            record(video_id=video_id, text=request.text, sent_at=timezone.now().isoformat())
        body = self._wait_video_ready(account, video_id)
        sent = checkpoint.get("captions")
        if sent is None:
            sent = self._send_captions(account, video_id, item)
            record(captions=sent)
        post_id = str(body.get("post_id") or "")
        remote_id = f"{account.remote_id}_{post_id}" if post_id and "_" not in post_id else post_id
        return PublishResult(
            remote_id=remote_id or video_id,
            url=str(body.get("permalink_url") or "") or f"https://www.facebook.com/{video_id}",
            published_at=timezone.now(),
            extra={"video_id": video_id, "captions": ",".join(sent)},
        )

    def _find_video_post(
        self, account: ChannelAccount, request: PublishRequest, checkpoint: Mapping[str, Any]
    ) -> PublishResult | None:
        sent = graph.parse_time(str(checkpoint.get("video_sent_at") or ""))
        since = sent - timedelta(minutes=2) if sent else None
        wanted = " ".join(request.text.split())
        for post in self.lookup_recent(account, since=since, limit=25):
            if not post.reply_to_id and " ".join(post.text.split()) == wanted:
                return PublishResult(
                    remote_id=post.ref.remote_id, url=post.ref.url, published_at=post.created_at
                )
        return None

    def _upload_video(
        self,
        account: ChannelAccount,
        item: MediaItem,
        checkpoint: Mapping[str, Any],
        record: Any,
    ) -> str:
        """Send the file through the Resumable Upload API and return its handle. An upload
        is not a post: a failure here is transient, and the next try resumes the session."""
        from accounts.selectors import network_app_get

        user_token = str((account.credentials or {}).get("user_token") or "")
        app = network_app_get(organization=account.organization, network=self.platform)
        if app is None or not user_token:
            raise Rejected(
                gettext(
                    "Facebook takes videos only through the organization's Meta app, signed "
                    "in by a person. Connect the Page again from the organization's Meta app."
                )
            )
        base = self._base(account)
        session = str(checkpoint.get("upload_session") or "")
        offset = 0
        if session:
            status = graph.call(
                "GET",
                API.url(base, "upload", session=session),
                headers={"Authorization": f"OAuth {user_token}"},
                timeout=self.timeout,
            ).body
            offset = int((status or {}).get("file_offset") or 0)
        else:
            try:
                opened = graph.call(
                    "POST",
                    API.url(base, "uploads", app_id=app.client_id),
                    token=user_token,
                    params={
                        "file_name": item.filename or "video.mp4",
                        "file_length": item.size_bytes,
                        "file_type": item.mime_type,
                    },
                    timeout=self.timeout,
                )
            except AuthError as exc:
                code = re.match(r"\((\d+)", exc.detail)
                if code is None or int(code.group(1)) not in graph.PERMISSION_CODES:
                    raise  # the sign-in itself is gone: reconnect
                raise Rejected(
                    gettext(
                        "Facebook accepts a video upload only from a person with an "
                        "administrator or developer role on the organization's Meta app. "
                        "Have such a person connect the Page again."
                    ),
                    status_code=exc.status_code,
                    detail=exc.detail,
                ) from exc
            session = str((opened.body or {}).get("id") or "").removeprefix("upload:")
            if not session:
                raise TransientError(detail="uploads answered without a session id")
            record(upload_session=session)
        try:
            with open(item.path, "rb") as stream:
                stream.seek(offset)
                answer = graph.call(
                    "POST",
                    API.url(base, "upload", session=session),
                    headers={"Authorization": f"OAuth {user_token}", "file_offset": str(offset)},
                    data=stream,
                    timeout=(self.timeout[0], max(self.timeout[1], 300.0))
                    if isinstance(self.timeout, tuple)
                    else self.timeout,
                )
        except FileNotFoundError as exc:
            raise Rejected(gettext("The video file is missing from the media library.")) from exc
        handle = str((answer.body or {}).get("h") or "")
        if not handle:
            raise TransientError(detail="upload answered without a file handle")
        record(handle=handle)
        return handle

    def _wait_video_ready(self, account: ChannelAccount, video_id: str) -> dict[str, Any]:
        """Poll the video's ``status`` until Facebook has processed it."""
        for delay in (0.0, *VIDEO_POLL_DELAYS):
            if delay:
                http.sleep(delay)
            body = self._call(
                account,
                "GET",
                "object",
                ids={"object_id": video_id},
                params={"fields": API.fields["video"]},
            ).body
            body = body if isinstance(body, dict) else {}
            raw_status = body.get("status")
            status: dict[str, Any] = raw_status if isinstance(raw_status, dict) else {}
            state = str(status.get("video_status") or "")
            if state == "ready":
                return body
            phase_errors = [
                str(error.get("message") or "")
                for name in ("uploading_phase", "processing_phase", "publishing_phase")
                for error in ((status.get(name) or {}).get("errors") or [])
                if isinstance(error, dict)
            ]
            failed = any(
                (status.get(name) or {}).get("status") == "error"
                for name in ("uploading_phase", "processing_phase", "publishing_phase")
            )
            if state == "error" or failed:
                reason = "; ".join(e for e in phase_errors if e)
                raise Rejected(
                    gettext("Facebook could not process the video (%(reason)s)")
                    % {"reason": reason or gettext("no reason given")},
                    detail=json.dumps(status)[:500],
                )
        raise TransientError(
            gettext(
                "Facebook is still processing the video. We will look again later; it will "
                "not be sent twice."
            )
        )

    def _send_captions(self, account: ChannelAccount, video_id: str, item: MediaItem) -> list[str]:
        """Each caption track as a SubRip file on the video; the locales that went.
        Captions are an addition to a published video: a refused file is logged on the
        result, never a reason to publish the video again."""
        sent: list[str] = []
        for track in item.captions:
            locale = caption_locale(track.language)
            try:
                self._call(
                    account,
                    "POST",
                    "captions",
                    ids={"video_id": video_id},
                    data={"default_locale": locale} if not sent else {},
                    files={
                        "captions_file": (
                            f"captions.{locale}.srt",
                            vtt_to_srt(track.vtt).encode(),
                            "application/x-subrip",
                        )
                    },
                )
            except (Rejected, TransientError, RateLimited):
                continue
            sent.append(locale)
        return sent

    def _permalink(self, account: ChannelAccount, object_id: str) -> str:
        try:
            body = self._call(
                account,
                "GET",
                "object",
                ids={"object_id": object_id},
                params={"fields": "permalink_url"},
            ).body
        except (TransientError, Rejected, RateLimited):
            body = {}
        return str((body or {}).get("permalink_url") or f"https://www.facebook.com/{object_id}")

    def _upload_photo(self, account: ChannelAccount, item: Any) -> str:
        """Upload one photo, unpublished, with its alt text. An upload is not a post, so a
        failure here is transient (an orphan upload is harmless and never shown)."""
        data = {"published": "false"}
        if item.alt_text:
            data["alt_text_custom"] = item.alt_text
        extension = item.mime_type.split("/")[-1] if "/" in item.mime_type else "jpg"
        answer = self._call(
            account,
            "POST",
            "photos",
            ids={"page_id": account.remote_id},
            data=data,
            files={"source": (item.filename or f"photo.{extension}", item.content, item.mime_type)},
        )
        photo_id = str((answer.body or {}).get("id") or "")
        if not photo_id:
            raise TransientError(detail="Photo answer without an id")
        return photo_id

    def _comment(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        assert request.reply_to is not None
        answer = self._call(
            account,
            "POST",
            "comments",
            ids={"object_id": request.reply_to.remote_id},
            data={"message": request.text},
            outcome_matters=True,
        )
        comment_id = str((answer.body or {}).get("id") or "")
        if not comment_id:
            raise UnknownOutcome(detail="Comment answer without an id")
        return PublishResult(
            remote_id=comment_id,
            url=f"https://www.facebook.com/{request.reply_to.remote_id}?comment_id={comment_id}",
            published_at=timezone.now(),
            extra={"graph_kind": "comment"},
        )

    def reply(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        if request.reply_to is None:
            raise Rejected(gettext("a reply needs the post it answers"))
        if request.visibility == "direct":
            return send_message(self, account, request, owner_id=account.remote_id)
        return self._comment(account, request)

    def reply_unavailable(self, account: ChannelAccount, ref: RemoteRef, *, direct: bool) -> str:
        if not direct:
            return ""
        return messaging_window_problem(account, ref)

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._call(account, "DELETE", "object", ids={"object_id": ref.remote_id})

    def hide_comment(self, account: ChannelAccount, ref: RemoteRef, *, hidden: bool) -> None:
        self._call(
            account,
            "POST",
            "object",
            ids={"object_id": ref.remote_id},
            data={"is_hidden": "true" if hidden else "false"},
        )

    def delete_comment(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._call(account, "DELETE", "object", ids={"object_id": ref.remote_id})

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """The Page's recent posts, and its own comments on them (a thread's later parts)."""
        params: dict[str, Any] = {"fields": API.fields["post"], "limit": min(max(limit, 1), 100)}
        if since is not None:
            params["since"] = int(since.timestamp())
        first = self._call(
            account, "GET", "published_posts", ids={"page_id": account.remote_id}, params=params
        )
        posts: list[RecentPost] = []
        for row in self._all(account, first, max_pages=3):
            created = graph.parse_time(row.get("created_time"))
            if since is not None and created is not None and created < since:
                continue
            post_id = str(row.get("id") or "")
            posts.append(
                RecentPost(
                    ref=RemoteRef(remote_id=post_id, url=str(row.get("permalink_url") or "")),
                    text=str(row.get("message") or ""),
                    created_at=created,
                )
            )
            comments = self._call(
                account,
                "GET",
                "comments",
                ids={"object_id": post_id},
                params={"fields": API.fields["comment"], "filter": "stream", "limit": 50},
            )
            for comment in self._all(account, comments, max_pages=2):
                if str((comment.get("from") or {}).get("id") or "") != account.remote_id:
                    continue
                parent = str((comment.get("parent") or {}).get("id") or post_id)
                posts.append(
                    RecentPost(
                        ref=RemoteRef(
                            remote_id=str(comment.get("id") or ""),
                            url=str(comment.get("permalink_url") or ""),
                        ),
                        text=str(comment.get("message") or ""),
                        created_at=graph.parse_time(comment.get("created_time")),
                        reply_to_id=parent,
                    )
                )
        return posts

    # --- inbox -----------------------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Comments on the Page's recent posts and Messenger messages newer than the cursor
        (an epoch second; items of the same second are read again and de-duplicated)."""
        since = _cursor_time(cursor)
        items: list[InboxItem] = []
        posts = self._call(
            account,
            "GET",
            "published_posts",
            ids={"page_id": account.remote_id},
            params={
                "fields": "id,created_time",
                "limit": INBOX_POSTS,
                "since": int((timezone.now() - INBOX_LOOKBACK).timestamp()),
            },
        )
        for post in self._all(account, posts, max_pages=2):
            post_id = str(post.get("id") or "")
            comments = self._call(
                account,
                "GET",
                "comments",
                ids={"object_id": post_id},
                params={
                    "fields": API.fields["comment"],
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "limit": 50,
                },
            )
            for row in self._all(account, comments, max_pages=4):
                item = comment_item(
                    row, post_id=post_id, network=self.network, own_id=account.remote_id
                )
                if item is not None and (
                    since is None or (item.created_at and item.created_at >= since)
                ):
                    items.append(item)
        items.extend(
            read_messages(self, account, since, platform="messenger", page_id=account.remote_id)
        )
        return _inbox_page(items, cursor)

    # --- metrics ---------------------------------------------------------------------

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        results: list[PostMetrics] = []
        for ref in refs:
            try:
                body = self._call(
                    account,
                    "GET",
                    "object",
                    ids={"object_id": ref.remote_id},
                    params={"fields": API.fields["post_counts"]},
                ).body
            except Rejected as exc:
                if exc.status_code in (400, 404) and "does not exist" in exc.detail:
                    results.append(PostMetrics(remote_id=ref.remote_id, deleted=True))
                    continue
                raise
            insights = graph.insight_values(
                self._call(
                    account,
                    "GET",
                    "insights",
                    ids={"object_id": ref.remote_id},
                    params={"metric": ",".join(API.metrics["post_lifetime"]), "period": "lifetime"},
                ).body
            )
            reactions = ((body.get("reactions") or {}).get("summary") or {}).get("total_count")
            comments = ((body.get("comments") or {}).get("summary") or {}).get("total_count")
            results.append(
                PostMetrics(
                    remote_id=ref.remote_id,
                    likes=int(
                        reactions
                        if isinstance(reactions, int)
                        else insights.get("post_reactions_by_type_total", 0)
                    ),
                    shares=int((body.get("shares") or {}).get("count") or 0),
                    replies=int(comments or 0),
                    impressions=insights.get("post_total_media_view_unique"),
                )
            )
        return results

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        body = self._call(
            account,
            "GET",
            "object",
            ids={"object_id": account.remote_id},
            params={"fields": API.fields["page_profile"]},
        ).body
        followers = body.get("followers_count") if isinstance(body, dict) else None
        return AccountMetrics(followers=int(followers) if isinstance(followers, int) else None)

    def fetch_page_insights(self, account: ChannelAccount) -> dict[str, int]:
        """The Page's figures for the last day (views, unique viewers, engagements, follows)."""
        return graph.insight_values(
            self._call(
                account,
                "GET",
                "insights",
                ids={"object_id": account.remote_id},
                params={"metric": ",".join(API.metrics["page_day"]), "period": "day"},
            ).body
        )


def caption_locale(language: str) -> str:
    """Our language tag (``fi``, ``en-GB``) as Facebook's caption locale (``fi_FI``)."""
    primary, _sep, region = language.replace("_", "-").partition("-")
    primary = primary.lower()
    if region:
        return f"{primary}_{region.upper()}"
    return CAPTION_LOCALES.get(primary, f"{primary}_{primary.upper()}")


_VTT_TIME = re.compile(r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})")


def vtt_to_srt(vtt: str) -> str:
    """WebVTT cues as SubRip (the only caption format Facebook's captions edge takes):
    numbered cues, ``HH:MM:SS,mmm`` times, no header, notes, styles or cue settings."""

    def srt_time(match: re.Match[str]) -> str:
        hours = int(match.group(1) or 0)
        return f"{hours:02d}:{match.group(2)}:{match.group(3)},{match.group(4)}"

    cues: list[str] = []
    for block in re.split(r"\n\s*\n", vtt.replace("\r\n", "\n").strip()):
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((n for n, line in enumerate(lines) if "-->" in line), None)
        if timing is None:
            continue  # the header, a NOTE, a STYLE or REGION block
        start, _arrow, rest = lines[timing].partition("-->")
        end = rest.strip().split()[0] if rest.strip() else ""
        times = f"{_VTT_TIME.sub(srt_time, start.strip())} --> {_VTT_TIME.sub(srt_time, end)}"
        cues.append("\n".join([str(len(cues) + 1), times, *lines[timing + 1 :]]))
    return "\n\n".join(cues) + "\n"


def send_message(
    connector: graph.GraphConnector,
    account: ChannelAccount,
    request: PublishRequest,
    *,
    owner_id: str,
) -> PublishResult:
    assert request.reply_to is not None
    ref = request.reply_to
    recipient = ref.extra.get("recipient_id", "")
    if not recipient:
        raise Rejected(gettext("we do not know who sent this message, so it cannot be answered"))
    problem = messaging_window_problem(account, ref)
    if problem:
        raise Rejected(problem)
    data: dict[str, Any] = {
        "recipient": json.dumps({"id": recipient}),
        "message": json.dumps({"text": request.text}),
        "messaging_type": "RESPONSE",
    }
    if _outside(ref, MESSAGING_WINDOW):
        data["messaging_type"] = "MESSAGE_TAG"
        data["tag"] = "HUMAN_AGENT"
    answer = connector._call(
        account, "POST", "messages", ids={"owner_id": owner_id}, data=data, outcome_matters=True
    )
    message_id = str((answer.body or {}).get("message_id") or "")
    if not message_id:
        raise UnknownOutcome(detail="Send answer without a message id")
    return PublishResult(
        remote_id=message_id,
        published_at=timezone.now(),
        extra={"graph_kind": "message", "recipient_id": recipient},
    )


def read_messages(
    connector: graph.GraphConnector,
    account: ChannelAccount,
    since: datetime | None,
    *,
    platform: str,
    page_id: str,
) -> list[InboxItem]:
    answer = connector._call(
        account,
        "GET",
        "conversations",
        ids={"page_id": page_id},
        params={"platform": platform, "fields": API.fields["conversation"], "limit": 25},
    )
    items: list[InboxItem] = []
    for conversation in connector._all(account, answer, max_pages=4):
        messages = (conversation.get("messages") or {}).get("data") or []
        incoming = [
            m for m in messages if str((m.get("from") or {}).get("id") or "") != account.remote_id
        ]
        if not incoming:
            continue
        times = [t for t in (graph.parse_time(m.get("created_time")) for m in incoming) if t]
        latest = max(times, default=None)
        for message in incoming:
            created = graph.parse_time(message.get("created_time"))
            if since is not None and (created is None or created < since):
                continue
            author = message.get("from") or {}
            name = str(author.get("name") or author.get("username") or "")
            items.append(
                InboxItem(
                    remote_id=str(message.get("id") or ""),
                    kind="dm",
                    author_handle=("@" + name) if platform == "instagram" and name else name,
                    author_name=name,
                    author_id=str(author.get("id") or ""),
                    text=str(message.get("message") or ""),
                    created_at=created,
                    thread_root=RemoteRef(remote_id=str(conversation.get("id") or "")),
                    raw={
                        "graph_kind": "message",
                        "conversation_id": str(conversation.get("id") or ""),
                        "recipient_id": str(author.get("id") or ""),
                        "last_message_at": graph.format_time(latest) if latest else "",
                    },
                )
            )
    return items


def _outside(ref: RemoteRef, window: timedelta) -> bool:
    last = graph.parse_time(ref.extra.get("last_message_at", ""))
    return last is not None and timezone.now() - last > window


def messaging_window_problem(account: ChannelAccount, ref: RemoteRef) -> str:
    """Why a direct message cannot be answered now (Meta's 24-hour window), or ""."""
    if not _outside(ref, MESSAGING_WINDOW):
        return ""
    if _human_agent_enabled(account) and not _outside(ref, HUMAN_AGENT_WINDOW):
        return ""
    if _human_agent_enabled(account):
        return gettext(
            "Meta lets a person answer a message by hand only within 7 days of the sender's last "
            "message, and that time has passed. Answer them another way, or wait until they "
            "write again."
        )
    return gettext(
        "Meta lets an organization answer a message only within 24 hours of the sender's last "
        "message, and that time has passed. Answer them another way, or wait until they write "
        "again."
    )


def _human_agent_enabled(account: ChannelAccount) -> bool:
    """Whether the organization's Meta app has the Human Agent permission (set on its page)."""
    from accounts.selectors import network_app_get

    app = network_app_get(organization=account.organization, network="meta")
    return bool(app is not None and (app.options or {}).get("human_agent"))


def _cursor_time(cursor: str | None) -> datetime | None:
    if cursor and cursor.isdigit():
        return datetime.fromtimestamp(int(cursor), tz=timezone.get_current_timezone()).astimezone(
            UTC
        )
    return None


def _inbox_page(items: list[InboxItem], cursor: str | None) -> InboxPage:
    """Items oldest first; the next cursor is the newest item's second (or now, first time)."""
    items = [i for i in items if i.remote_id]
    items.sort(key=lambda i: i.created_at or graph.utcnow())
    newest = max((i.created_at for i in items if i.created_at), default=None)
    if newest is not None:
        next_cursor = str(int(newest.timestamp()))
    else:
        next_cursor = cursor or str(int((timezone.now() - INBOX_LOOKBACK).timestamp()))
    return InboxPage(items=items, next_cursor=next_cursor, has_more=False)
