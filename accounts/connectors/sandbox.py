"""The Sandbox: a network that lives inside the app.

It is for training new staff and rehearsing crisis drills, and it is what a
fresh install demonstrates with. Posts land in a feed in the database
(``SandboxPost``); a simulated audience of citizens answers them
(:func:`simulate_audience`, deterministic for a given seed), so the inbox,
metrics and replies all have something to show.

Drills and fault tests make it fail on purpose: put ``sandbox_fail_mode`` in
the account's credentials (one of :data:`FAIL_MODES`), and optionally
``sandbox_fail_only`` (a list of operation names such as ``["publish"]``).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.connectors.base import (
    AccountMetrics,
    AuthError,
    Capabilities,
    ConnectedAccount,
    Connector,
    HealthResult,
    InboxItem,
    InboxKind,
    InboxPage,
    Limits,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RateLimited,
    RecentPost,
    RecentPosts,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.text import grapheme_length
from accounts.models import ChannelAccount, SandboxFollower, SandboxPost

# What a drill can make the Sandbox do: "timeout" publishes and then loses the
# answer (the post exists: reconcile, don't resend); "timeout_unsent" loses the
# request before it lands (nothing was published).
FAIL_MODES = ("auth", "rejected", "rate_limited", "transient", "timeout", "timeout_unsent")
FAIL_RETRY_AFTER_SECONDS = 60
INBOX_PAGE_SIZE = 40
WRITES = frozenset({"publish", "reply", "delete"})


def _fail_if_asked(account: ChannelAccount, operation: str) -> str:
    """Raise the configured drill failure for ``operation``; return a mode the caller
    must act out itself ("timeout" for writes), or ""."""
    credentials = account.credentials or {}
    mode = str(credentials.get("sandbox_fail_mode") or "")
    only = credentials.get("sandbox_fail_only") or []
    if not mode or (only and operation not in only):
        return ""
    if mode == "auth":
        raise AuthError(detail="sandbox_fail_mode=auth")
    if mode == "rate_limited":
        raise RateLimited(FAIL_RETRY_AFTER_SECONDS, status_code=429, detail="sandbox drill")
    if mode == "rejected":
        raise Rejected(gettext("the Sandbox was told to refuse everything (drill)"))
    if mode == "transient" or (mode.startswith("timeout") and operation not in WRITES):
        raise TransientError(detail=f"sandbox_fail_mode={mode}")
    if mode == "timeout_unsent":
        raise UnknownOutcome(detail="sandbox_fail_mode=timeout_unsent")
    return mode


def _new_remote_id() -> str:
    return "sbx_" + uuid.uuid4().hex[:20]


def _ref(post: SandboxPost | None) -> RemoteRef | None:
    return RemoteRef(remote_id=post.remote_id) if post is not None else None


class SandboxConnector(Connector):
    network = "sandbox"
    label = _("Sandbox (practice feed inside GovSocial)")
    is_sandbox = True
    connect_method = "none"
    capabilities = Capabilities(
        publish=True,
        images=True,
        alt_text=True,
        replies=True,
        threads=True,
        direct_messages=True,
        delete=True,
        inbox=True,
        metrics=True,
        impressions=True,
        content_warning=True,
        visibility=True,
        language=True,
        lookup_recent=True,
        idempotency_window_seconds=7 * 24 * 3600,
    )
    limits = Limits(
        max_text=500,
        text_counting="graphemes",
        max_media=4,
        max_image_bytes=8 * 1024 * 1024,
        alt_text_max=1500,
    )

    def text_length(self, text: str, *, account: ChannelAccount | None = None) -> int:
        return grapheme_length(text)

    def connect(self, *, server_url: str, identifier: str, secret: str) -> ConnectedAccount:
        handle = identifier.strip().lstrip("@")
        if not handle:
            raise Rejected(gettext("a Sandbox account needs a name"))
        return ConnectedAccount(
            remote_id=f"sandbox:{handle}",
            handle=handle,
            display_name=handle,
            server_url="",
            credentials={},
        )

    def check_health(self, account: ChannelAccount) -> HealthResult:
        _fail_if_asked(account, "check_health")
        return HealthResult(
            remote_id=account.remote_id or f"sandbox:{account.handle}",
            handle=account.handle,
            display_name=account.display_name,
        )

    # posts --------------------------------------------------------------------

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        mode = _fail_if_asked(account, "reply" if request.reply_to else "publish")
        problems = self.validate(request, account=account)
        if problems:
            raise Rejected(" ".join(problems), status_code=422)
        parent = None
        if request.reply_to is not None:
            parent = SandboxPost.objects.filter(
                account=account, remote_id=request.reply_to.remote_id, deleted_at__isnull=True
            ).first()
            if parent is None:
                raise Rejected(gettext("the post being answered is not in the feed any more"))
        key = request.idempotency_key[:100]
        again = (
            bool(key) and SandboxPost.objects.filter(account=account, idempotency_key=key).exists()
        )
        post = self._create_once(account, request, parent)
        if not again and parent is None and settings.SANDBOX_AUDIENCE_REACTS:
            _audience_reacts_later(account, post)
        if mode == "timeout":
            raise UnknownOutcome(detail=f"sandbox_fail_mode=timeout ({post.remote_id})")
        return PublishResult(
            remote_id=post.remote_id, url="", published_at=post.created_at, extra={}
        )

    def _create_once(
        self, account: ChannelAccount, request: PublishRequest, parent: SandboxPost | None
    ) -> SandboxPost:
        key = request.idempotency_key[:100]
        if key:
            existing = SandboxPost.objects.filter(account=account, idempotency_key=key).first()
            if existing is not None:
                return existing
        post = SandboxPost(
            account=account,
            remote_id=_new_remote_id(),
            is_own=True,
            author_handle=account.handle,
            author_name=account.display_name,
            text=request.text,
            media=[
                {
                    "mime_type": item.mime_type,
                    "alt_text": item.alt_text,
                    "size": len(item.content),
                    "sha256": hashlib.sha256(item.content).hexdigest(),
                }
                for item in request.media
            ],
            in_reply_to=parent,
            thread_root=(parent.thread_root or parent) if parent is not None else None,
            visibility=request.visibility,
            language=request.language,
            content_warning=request.content_warning,
            idempotency_key=key,
        )
        try:
            with transaction.atomic():
                post.save(force_insert=True)
        except IntegrityError:
            # Another worker published with the same key a moment ago: that post is ours.
            return SandboxPost.objects.get(account=account, idempotency_key=key)
        return post

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        _fail_if_asked(account, "delete")
        SandboxPost.objects.filter(
            account=account, remote_id=ref.remote_id, is_own=True, deleted_at__isnull=True
        ).update(deleted_at=timezone.now())

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        _fail_if_asked(account, "lookup_recent")
        posts = SandboxPost.objects.filter(
            account=account, is_own=True, deleted_at__isnull=True
        ).select_related("in_reply_to")
        if since is not None:
            posts = posts.filter(created_at__gte=since)
        rows = list(posts.order_by("-created_at", "-id")[: limit + 1])
        return RecentPosts(
            [
                RecentPost(
                    ref=RemoteRef(
                        remote_id=post.remote_id,
                        extra={"idempotency_key": post.idempotency_key},
                    ),
                    text=post.text,
                    created_at=post.created_at,
                    reply_to_id=post.in_reply_to.remote_id if post.in_reply_to else "",
                )
                for post in rows[:limit]
            ],
            # Every post since then fitted within the limit.
            complete=len(rows) <= limit,
        )

    # inbox and metrics ----------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        _fail_if_asked(account, "fetch_inbox")
        after = int(cursor) if cursor and cursor.isdigit() else 0
        rows = list(
            SandboxPost.objects.filter(
                account=account, is_own=False, deleted_at__isnull=True, pk__gt=after
            )
            .select_related("in_reply_to", "thread_root", "quote_of")
            .order_by("pk")[: INBOX_PAGE_SIZE + 1]
        )
        has_more = len(rows) > INBOX_PAGE_SIZE
        rows = rows[:INBOX_PAGE_SIZE]
        items = [self._inbox_item(post) for post in rows]
        next_cursor = str(rows[-1].pk) if rows else (cursor or "0")
        return InboxPage(items=items, next_cursor=next_cursor, has_more=has_more)

    def _inbox_item(self, post: SandboxPost) -> InboxItem:
        kind: InboxKind
        if post.visibility == "direct":
            kind = "dm"
        elif post.quote_of_id:
            kind = "quote"
        elif post.in_reply_to_id:
            kind = "reply"
        else:
            kind = "mention"
        return InboxItem(
            remote_id=post.remote_id,
            kind=kind,
            author_handle=post.author_handle,
            author_name=post.author_name,
            author_id=f"sandbox:{post.author_handle}",
            text=post.text,
            created_at=post.created_at,
            in_reply_to=_ref(post.in_reply_to or post.quote_of),
            thread_root=_ref(post.thread_root),
            raw={"visibility": post.visibility, "language": post.language},
        )

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        _fail_if_asked(account, "fetch_post_metrics")
        live = Q(replies__deleted_at__isnull=True)
        posts = {
            post.remote_id: post
            for post in SandboxPost.objects.filter(
                account=account, remote_id__in=[ref.remote_id for ref in refs]
            ).annotate(
                reply_count=Count("replies", filter=live, distinct=True),
                quote_count=Count(
                    "quotes", filter=Q(quotes__deleted_at__isnull=True), distinct=True
                ),
            )
        }
        metrics: list[PostMetrics] = []
        for ref in refs:
            post = posts.get(ref.remote_id)
            if post is None or post.deleted_at is not None:
                metrics.append(PostMetrics(remote_id=ref.remote_id, deleted=True))
                continue
            metrics.append(
                PostMetrics(
                    remote_id=post.remote_id,
                    likes=post.likes,
                    shares=post.reposts,
                    replies=post.reply_count,
                    quotes=post.quote_count,
                    impressions=post.impressions,
                )
            )
        return metrics

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        _fail_if_asked(account, "fetch_account_metrics")
        return AccountMetrics(
            followers=SandboxFollower.objects.filter(account=account).count(),
            following=0,
            posts=SandboxPost.objects.filter(
                account=account, is_own=True, deleted_at__isnull=True
            ).count(),
        )


# --- the simulated audience -------------------------------------------------------

CITIZENS: tuple[tuple[str, str], ...] = (
    ("aino.virtanen", "Aino Virtanen"),
    ("erik.lindqvist", "Erik Lindqvist"),
    ("ayse.yilmaz", "Ayşe Yılmaz"),  # noqa: RUF001 (a Turkish name)
    ("budi.santoso", "Budi Santoso"),
    ("maria.garcia", "María García"),
    ("sam.taylor", "Sam Taylor"),
    ("leena.korhonen", "Leena Korhonen"),
    ("mehmet.kaya", "Mehmet Kaya"),
    ("siti.rahma", "Siti Rahma"),
    ("oskar.nyberg", "Oskar Nyberg"),
)


def _everyday_replies() -> list[str]:
    return [
        gettext("Thanks for letting us know!"),
        gettext("Does this apply to the whole city or only some districts?"),
        gettext("Where can I find more information about this?"),
        gettext("Great news, thank you."),
        gettext("Is there a version of this in plain language?"),
        gettext("What are the opening hours during the holidays?"),
    ]


def _crisis_replies() -> list[str]:
    return [
        gettext("Why are we only hearing about this now?"),
        gettext("Is the water safe to drink or not? Please answer."),
        gettext("My street is not on your list. What should we do?"),
        gettext("People are sharing rumours that the roads are closed. Is that true?"),
        gettext("Where is the nearest place to get help?"),
        gettext("Please post updates more often, we are worried."),
    ]


def _mentions(handle: str) -> list[str]:
    return [
        gettext("@%(handle)s the street lights on my road have been out for a week.")
        % {"handle": handle},
        gettext("@%(handle)s when does the new library open?") % {"handle": handle},
        gettext("@%(handle)s thank you for the quick help yesterday!") % {"handle": handle},
    ]


def _messages() -> list[str]:
    return [
        gettext("Hello, I would like to report a problem with my bin collection."),
        gettext("Can I ask a question privately about my application?"),
    ]


def _audience_reacts_later(account: ChannelAccount, post: SandboxPost) -> None:
    """After the publish commits, the practice audience reacts to the new post on its
    own, a little later, as a real one would (a task on the ``sync`` queue)."""
    from accounts.tasks import QUEUE, sandbox_audience_reacts

    account_id, remote_id = account.pk, post.remote_id
    transaction.on_commit(
        lambda: sandbox_audience_reacts.apply_async(
            args=[account_id, remote_id],
            queue=QUEUE,
            countdown=settings.SANDBOX_AUDIENCE_DELAY_SECONDS,
        )
    )


def _audience_language(code: str) -> str:
    """The app language the audience speaks for a post's language code ("fi-FI" → "fi");
    "" when the app has no such language."""
    base = (code or "").split("-")[0].lower()
    return base if base in {c for c, _name in settings.LANGUAGES} else ""


@dataclass
class AudienceActivity:
    replies: int = 0
    mentions: int = 0
    messages: int = 0
    quotes: int = 0
    likes: int = 0
    reposts: int = 0
    follows: int = 0


def simulate_audience(
    account: ChannelAccount,
    *,
    seed: int | str,
    actions: int = 10,
    mood: str = "everyday",
    remote_id: str = "",
) -> AudienceActivity:
    """Let simulated citizens react to ``account``'s Sandbox feed.

    The same seed over the same feed gives the same reactions, so a training
    session or a drill can be replayed. ``mood`` "crisis" makes the audience
    anxious and talkative, for crisis drills.
    """
    if account.network != SandboxConnector.network:
        raise ValueError("Only Sandbox accounts have a simulated audience.")
    rng = random.Random(f"{seed}:{mood}")  # noqa: S311 (a simulation, not a secret)
    home = _audience_language(account.organization.default_language) or settings.LANGUAGE_CODE

    def replies_in(language: str) -> list[str]:
        # Citizens answer a post in its own language (fi, sv, en), else the organization's.
        with translation.override(_audience_language(language) or home):
            return _crisis_replies() if mood == "crisis" else _everyday_replies()

    def said_in_home_language(texts: Any) -> list[str]:
        with translation.override(home):
            return list(texts())

    weights = (
        {"reply": 5, "mention": 2, "message": 2, "quote": 1, "like": 2, "repost": 2, "follow": 1}
        if mood == "crisis"
        else {
            "reply": 3,
            "mention": 2,
            "message": 1,
            "quote": 1,
            "like": 5,
            "repost": 2,
            "follow": 3,
        }
    )
    activity = AudienceActivity()
    with transaction.atomic():
        targets = list(
            SandboxPost.objects.select_for_update()
            .filter(account=account, is_own=True, deleted_at__isnull=True)
            .filter(**({"remote_id": remote_id} if remote_id else {}))
            .order_by("pk")
        )
        for _ in range(actions):
            action = rng.choices(list(weights), weights=list(weights.values()))[0]
            if action in ("reply", "quote", "like", "repost") and not targets:
                action = "mention"
            handle, name = rng.choice(CITIZENS)
            target = rng.choice(targets) if targets else None
            if target is not None:
                target.impressions += rng.randint(20, 200)
            if action in ("like", "repost") and target is not None:
                field = "likes" if action == "like" else "reposts"
                setattr(target, field, getattr(target, field) + 1)
                setattr(activity, field, getattr(activity, field) + 1)
                continue
            if action == "follow":
                _, created = SandboxFollower.objects.get_or_create(account=account, handle=handle)
                activity.follows += int(created)
                continue
            post = SandboxPost(
                account=account,
                remote_id=_new_remote_id(),
                is_own=False,
                author_handle=handle,
                author_name=name,
            )
            if action == "reply" and target is not None:
                post.text = rng.choice(replies_in(target.language))
                post.language = _audience_language(target.language) or home
                post.in_reply_to = target
                post.thread_root = target.thread_root or target
                activity.replies += 1
            elif action == "quote" and target is not None:
                post.text = rng.choice(replies_in(target.language))
                post.language = _audience_language(target.language) or home
                post.quote_of = target
                activity.quotes += 1
            elif action == "message":
                post.text = rng.choice(said_in_home_language(_messages))
                post.language = home
                post.visibility = "direct"
                activity.messages += 1
            else:
                post.text = rng.choice(said_in_home_language(lambda: _mentions(account.handle)))
                post.language = home
                activity.mentions += 1
            post.save(force_insert=True)
        for target in targets:
            target.save(update_fields=["likes", "reposts", "impressions"])
    return activity
