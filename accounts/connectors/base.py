"""The small base every network's connector builds on.

A connector is stateless: one instance per network (see ``registry``), and
every call names the ``ChannelAccount`` it acts for. Connectors never see a
Django request and never write the app's own tables: they return typed
results, and the services store them. (The Sandbox is the exception that
proves it: its "network" lives in the app's database.)

Every failure is raised as one of five kinds, classified here once, so callers
decide by kind and never parse messages:

==================  ===========================================================
``AuthError``       token revoked or expired beyond refresh: reconnect
``RateLimited``     wait ``retry_after`` seconds, then try again
``Rejected``        the network refused this content: permanent, tell the author
``TransientError``  try again later, with back-off
``UnknownOutcome``  a write may or may not have happened: reconcile before resending
==================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts import http

if TYPE_CHECKING:
    from accounts.models import ChannelAccount


class ErrorKind(models.TextChoices):
    AUTH = "auth", _("Needs reconnecting")
    RATE_LIMITED = "rate_limited", _("Rate limited")
    REJECTED = "rejected", _("Rejected by the network")
    TRANSIENT = "transient", _("Temporary failure")
    UNKNOWN_OUTCOME = "unknown_outcome", _("Outcome unknown")


# --- errors -------------------------------------------------------------------


class ConnectorError(Exception):
    """A call to a network failed. ``message`` is readable by the people using the app."""

    kind: ClassVar[ErrorKind]
    default_message: ClassVar[str | Promise] = _("The network could not be reached.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.status_code = status_code
        # What the network said, verbatim (for logs and the account page).
        self.detail = detail
        super().__init__(self.message)


class AuthError(ConnectorError):
    kind = ErrorKind.AUTH
    default_message = _(
        "The network no longer accepts this account's sign-in. Reconnect the account."
    )


class RateLimited(ConnectorError):
    kind = ErrorKind.RATE_LIMITED
    default_message = _("The network asks us to slow down. We will try again later.")

    def __init__(
        self,
        retry_after: float | None,
        message: str | Promise | None = None,
        *,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code, detail=detail)


class Rejected(ConnectorError):
    kind = ErrorKind.REJECTED
    default_message = _("The network refused this.")

    def __init__(
        self,
        reason: str | Promise = "",
        message: str | Promise | None = None,
        *,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        self.reason = str(reason)
        if message is None and reason:
            message = gettext("The network refused this: %(reason)s") % {"reason": reason}
        super().__init__(message, status_code=status_code, detail=detail or str(reason))


def normalize_base_url(value: str, *, only_the_address: str) -> str:
    """A server's base address as typed (``example.org``, ``https://Example.org/``) →
    ``https://example.org``; ``only_the_address`` is the refusal for a path, query or
    login in it. Anything that is not a web address is Rejected, never a ValueError."""
    from urllib.parse import urlsplit

    from django.conf import settings

    value = value.strip()
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for "host:name" or a port out of range
    except ValueError:
        raise Rejected(gettext("%(value)s is not a web address") % {"value": value}) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Rejected(gettext("%(value)s is not a web address") % {"value": value})
    if parts.username or parts.password or parts.query or parts.fragment or parts.path.strip("/"):
        raise Rejected(only_the_address)
    if parts.scheme == "http" and not getattr(settings, "CONNECTORS_ALLOW_PRIVATE_NETWORKS", False):
        raise Rejected(gettext("the server must use a secure (https) address"))
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


class NotSupported(Rejected):
    """The network has no such capability (the UI should have read ``capabilities``)."""

    def __init__(self, what: str | Promise) -> None:
        super().__init__(
            reason=str(what),
            message=gettext("This network does not support %(what)s.") % {"what": what},
        )


class TransientError(ConnectorError):
    kind = ErrorKind.TRANSIENT
    default_message = _("The network is not answering properly just now. We will try again.")


class UnknownOutcome(ConnectorError):
    kind = ErrorKind.UNKNOWN_OUTCOME
    default_message = _(
        "The network did not confirm in time. We will check whether it went through "
        "before trying again."
    )


# --- what goes in and out -----------------------------------------------------

Visibility = Literal["public", "unlisted", "followers", "direct"]
InboxKind = Literal["mention", "reply", "quote", "dm"]
TextCounting = Literal["chars", "graphemes", "chars_url23", "weighted", "emoji_bytes"]
ConnectMethod = Literal["oauth", "app_password", "none"]


@dataclass(frozen=True)
class RemoteRef:
    """A post (or message) on the network: its id, web address and anything else
    the network needs to point at it (Bluesky: ``uri`` and ``cid``)."""

    remote_id: str
    url: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CaptionTrack:
    """Captions of a video in one language (WebVTT text, validated on upload)."""

    language: str
    vtt: str
    name: str = ""


@dataclass(frozen=True)
class MediaItem:
    """An image (``content`` holds its bytes) or a video (``path`` names the file on
    local disk, read in chunks by the connector: a video is never held in memory)."""

    content: bytes
    mime_type: str
    alt_text: str = ""
    filename: str = ""
    # A signed, expiring public address of the same bytes, for networks that fetch
    # media by URL (Threads, Instagram); empty when the site has no public address.
    public_url: str = ""
    kind: Literal["image", "video"] = "image"
    # Video only: the file to stream from, its size and what ffprobe found.
    path: str = ""
    size_bytes: int = 0
    duration_ms: int = 0
    width: int = 0
    height: int = 0
    # Video only: captions per language (sent where the network takes caption files),
    # and the poster frame (JPEG bytes) for networks that take a thumbnail.
    captions: Sequence[CaptionTrack] = ()
    poster: bytes = b""

    @property
    def is_video(self) -> bool:
        return self.kind == "video"


@dataclass(frozen=True)
class Poll:
    options: Sequence[str]
    duration_minutes: int


@dataclass(frozen=True)
class PublishRequest:
    text: str
    media: Sequence[MediaItem] = ()
    reply_to: RemoteRef | None = None
    thread_root: RemoteRef | None = None
    language: str = ""
    content_warning: str = ""
    # Chosen by the caller and recorded before the call, so that an unknown
    # outcome can be reconciled (Mastodon ``Idempotency-Key``, Bluesky rkey…).
    idempotency_key: str = ""
    visibility: Visibility = "public"
    # Who may reply, where the network lets us choose (Threads' ``reply_control``).
    reply_control: str = ""
    # A post this one quotes, and a poll (networks that have them: X).
    quote_of: RemoteRef | None = None
    poll: Poll | None = None
    # Choices a network requires per post, by key (YouTube: "title", "privacy_status",
    # "category_id", "tags", "made_for_kids", "publish_at"; TikTok: "privacy_level",
    # "disable_comment", "disable_duet", "disable_stitch", "brand_content_toggle"…).
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str = ""
    published_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> RemoteRef:
        return RemoteRef(
            remote_id=self.remote_id,
            url=self.url,
            extra={k: str(v) for k, v in self.extra.items()},
        )


@dataclass(frozen=True)
class RecentPost:
    """One of the account's own recent posts, to reconcile an unknown outcome."""

    ref: RemoteRef
    text: str
    created_at: datetime | None
    reply_to_id: str = ""


class RecentPosts(list[RecentPost]):
    """What :meth:`Connector.lookup_recent` returns: a list (so callers that only
    iterate keep working) that also says whether it is ``complete``.

    ``complete`` is True only when the list holds *every* post of the account made
    since ``since``: the look-up read back (page by page) until it saw an older post,
    or reached the account's first post. When it stopped at ``limit`` first, or a
    connector cannot tell, it is False, and the dispatcher never concludes from the
    absence of a post that it was not published. A connector that returns a plain
    list is treated as incomplete."""

    def __init__(self, posts: Sequence[RecentPost] = (), *, complete: bool) -> None:
        super().__init__(posts)
        self.complete = complete


def lookup_is_complete(posts: Sequence[RecentPost]) -> bool:
    """Whether a ``lookup_recent`` answer covers every post since the time asked for."""
    return bool(getattr(posts, "complete", False))


@dataclass(frozen=True)
class InboxItem:
    remote_id: str
    kind: InboxKind
    author_handle: str
    author_name: str
    text: str
    created_at: datetime | None
    url: str = ""
    author_id: str = ""
    in_reply_to: RemoteRef | None = None
    thread_root: RemoteRef | None = None
    # A small subset of the network's own record, for the archive; never secrets.
    raw: Mapping[str, Any] = field(default_factory=dict)


# --- listening (search of public posts by others) ---------------------------


@dataclass(frozen=True)
class ListeningCapability:
    """What a network lets us search for listening, and how far back.

    ``words``: free text (words and phrases); ``hashtags``: posts by hashtag;
    ``handles``: posts mentioning an account; ``lookback_days``: how far back a
    search reaches (None: as far as the network keeps; 0: not at all)."""

    words: bool = False
    hashtags: bool = False
    handles: bool = False
    lookback_days: int | None = 0

    @property
    def searchable(self) -> bool:
        return self.words or self.hashtags or self.handles


@dataclass(frozen=True)
class FoundPost:
    """A public post a search found (anyone's, not only ours)."""

    remote_id: str
    url: str
    author_handle: str
    author_name: str
    text: str
    created_at: datetime | None
    language: str = ""
    likes: int = 0
    shares: int = 0
    replies: int = 0
    quotes: int = 0
    author_id: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    # The post's identity across the whole network, where ``remote_id`` is only the
    # id on the server that answered (Mastodon: the status's ActivityPub ``uri``, the
    # same through every instance). Empty where ``remote_id`` already is that.
    canonical_id: str = ""


@dataclass(frozen=True)
class SearchPage:
    """One page of search results, newest first; ``next_cursor`` pages further back."""

    posts: Sequence[FoundPost]
    next_cursor: str = ""


@dataclass(frozen=True)
class InboxPage:
    """Items that arrived after the cursor, oldest first.

    Store ``next_cursor`` and pass it next time; ``has_more`` says that calling
    again at once would return more.
    """

    items: Sequence[InboxItem]
    next_cursor: str | None
    has_more: bool = False


@dataclass(frozen=True)
class ArchiveMedia:
    """An image (or other attachment) of an archived post, as the network shows it."""

    url: str
    alt_text: str = ""
    mime_type: str = ""


@dataclass(frozen=True)
class HistoryPost:
    """One of the account's own posts as the network shows it now, for the archive.

    ``edited_at`` is when it was last edited (None: never, or the network does not
    say); ``replies`` how many answers the network counts (None: unknown)."""

    ref: RemoteRef
    text: str
    created_at: datetime | None
    edited_at: datetime | None = None
    language: str = ""
    reply_to_id: str = ""
    content_warning: str = ""
    media: Sequence[ArchiveMedia] = ()
    replies: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryPage:
    """A page of the account's own posts, newest first, from a cursor.

    ``next_cursor`` None: this page reached the account's first post."""

    posts: Sequence[HistoryPost]
    next_cursor: str | None


@dataclass(frozen=True)
class PostVersion:
    """One version of a post (Mastodon's status edits): the text as it stood from
    ``created_at`` until the next version."""

    text: str
    created_at: datetime | None
    content_warning: str = ""
    media: Sequence[ArchiveMedia] = ()


@dataclass(frozen=True)
class ThreadComment:
    """Someone's comment (or reply) below one of the account's posts."""

    ref: RemoteRef
    author_handle: str
    author_name: str
    text: str
    created_at: datetime | None
    author_id: str = ""
    edited_at: datetime | None = None
    in_reply_to_id: str = ""
    language: str = ""


@dataclass(frozen=True)
class PostMetrics:
    remote_id: str
    likes: int | None = None
    shares: int | None = None
    replies: int | None = None
    quotes: int | None = None
    impressions: int | None = None  # None where the network does not tell
    deleted: bool = False


@dataclass(frozen=True)
class AccountMetrics:
    followers: int | None = None
    following: int | None = None
    posts: int | None = None


@dataclass(frozen=True)
class PublishingQuota:
    """How much of the account's publishing allowance is used in the network's window
    (Threads: 250 posts and 1,000 replies per rolling 24 hours)."""

    posts_used: int
    posts_total: int
    window_seconds: int = 86400
    replies_used: int | None = None
    replies_total: int | None = None

    @property
    def posts_left(self) -> int:
        return max(self.posts_total - self.posts_used, 0)


@dataclass(frozen=True)
class HealthResult:
    """The account as the network sees it now (the check raises on failure)."""

    remote_id: str
    handle: str
    display_name: str = ""
    profile_url: str = ""
    scopes: Sequence[str] = ()


@dataclass(frozen=True)
class Capabilities:
    publish: bool = True
    images: bool = False
    # Takes a video (which, how large and how long: ``Limits.video_*``).
    videos: bool = False
    alt_text: bool = False
    replies: bool = False
    threads: bool = False
    direct_messages: bool = False
    delete: bool = False
    inbox: bool = False
    metrics: bool = False
    impressions: bool = False
    content_warning: bool = False
    visibility: bool = False
    language: bool = False
    lookup_recent: bool = False
    # Hide (and show again) a reply to the account's own post.
    hide_replies: bool = False
    # Credentials expire and the connector can renew them.
    refresh_credentials: bool = False
    # Comments on the account's posts can be hidden, shown again and deleted.
    moderation: bool = False
    # The account's own history (posts made anywhere, their comments) can be archived.
    archive: bool = False
    # Re-sending a publish with the same idempotency key within this many seconds
    # returns the first post instead of making a second one (0: no such promise).
    idempotency_window_seconds: int = 0


@dataclass(frozen=True)
class Limits:
    max_text: int
    text_counting: TextCounting = "chars"
    max_media: int = 0
    max_image_bytes: int = 0
    alt_text_max: int = 0
    image_mime_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    characters_per_url: int = 23
    # Videos (where ``Capabilities.videos``): at most ``max_videos`` per post, of these
    # types, this large (0: no limit) and this long in seconds (0: no limit); with
    # ``video_alone`` a post with a video has no images beside it.
    max_videos: int = 1
    video_mime_types: tuple[str, ...] = ("video/mp4",)
    max_video_bytes: int = 0
    max_video_seconds: int = 0
    video_alone: bool = True


@dataclass(frozen=True)
class OAuthClient:
    """The app's registration with an OAuth server (per instance on Mastodon)."""

    server_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...]
    remote_app_id: str = ""


@dataclass(frozen=True)
class OAuthStart:
    """Where to send the person, and what to keep (server-side) until they return."""

    authorization_url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class ConnectedAccount:
    """What a completed connect flow yields, for the service to store."""

    remote_id: str
    handle: str
    display_name: str
    server_url: str
    credentials: Mapping[str, Any]
    credentials_expire_at: datetime | None = None
    scopes: Sequence[str] = ()
    profile_url: str = ""
    limits: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CredentialUpdate:
    credentials: Mapping[str, Any]
    expires_at: datetime | None = None


# --- the connector ------------------------------------------------------------


class Connector:
    """One network. Subclasses declare what they can do and override those methods;
    the rest raise :class:`NotSupported`."""

    network: ClassVar[str]
    label: ClassVar[str | Promise]
    is_sandbox: ClassVar[bool] = False
    connect_method: ClassVar[ConnectMethod] = "oauth"
    capabilities: ClassVar[Capabilities] = Capabilities()
    limits: ClassVar[Limits] = Limits(max_text=500)
    # What reconnecting means on this network, added to the notice that a sign-in ends.
    reconnect_help: ClassVar[str | Promise] = ""
    # (connect, read) seconds for every call this connector makes.
    timeout: tuple[float, float] = http.DEFAULT_TIMEOUT
    # How long before its end the background task renews a sign-in (None: the default
    # day). Short-lived tokens (X: two hours) set less, or they would renew every tick;
    # tokens renewable only once a day or less often (Threads) set more.
    refresh_ahead: ClassVar[timedelta | None] = None

    # connect ------------------------------------------------------------------

    def register_client(self, *, server_url: str, redirect_uri: str) -> OAuthClient:
        """Register the app with the network (Mastodon: once per instance)."""
        raise NotSupported(_("registering the app"))

    def oauth_start(self, *, client: OAuthClient) -> OAuthStart:
        raise NotSupported(_("connecting through the network's sign-in page"))

    def oauth_finish(
        self,
        *,
        client: OAuthClient,
        code: str,
        returned_state: str,
        expected_state: str,
        code_verifier: str,
    ) -> ConnectedAccount:
        raise NotSupported(_("connecting through the network's sign-in page"))

    def connect(self, *, server_url: str, identifier: str, secret: str) -> ConnectedAccount:
        """Connect with a handle and an app password (or, in the Sandbox, nothing)."""
        raise NotSupported(_("connecting with an app password"))

    def disconnect(self, account: ChannelAccount) -> None:
        """Give the network back the account's token where it lets us revoke it."""

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        raise NotSupported(_("renewing the sign-in"))

    def renewable(self, account: ChannelAccount) -> bool:
        """Whether the app can renew this account's sign-in itself (LinkedIn: only where
        the app was given a refresh token); if not, people are warned before it ends."""
        return self.capabilities.refresh_credentials

    def check_health(self, account: ChannelAccount) -> HealthResult:
        raise NotSupported(_("checking the connection"))

    # posts --------------------------------------------------------------------

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        raise NotSupported(_("publishing"))

    def reply(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        """Publish ``request`` as an answer to ``request.reply_to``."""
        if not self.capabilities.replies:
            raise NotSupported(_("replies"))
        if request.reply_to is None:
            raise Rejected(_("a reply needs the post it answers"))
        return self.publish(account, request)

    def reply_notes(self, account: ChannelAccount, *, kind: str) -> list[str]:
        """What the person answering an inbox item of ``kind`` should know beforehand
        (the plan's reply and message limits), in words; empty when nothing."""
        return []

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        raise NotSupported(_("deleting posts"))

    def publishing_quota(self, account: ChannelAccount) -> PublishingQuota | None:
        """The account's use of a publishing allowance; None where the network has none."""
        return None

    def hide_reply(self, account: ChannelAccount, ref: RemoteRef, *, hide: bool = True) -> None:
        """Hide (``hide=False``: show again) a reply to one of the account's posts."""
        raise NotSupported(_("hiding replies"))

    def reply_unavailable(self, account: ChannelAccount, ref: RemoteRef, *, direct: bool) -> str:
        """Why nothing can be sent in answer to ``ref`` just now (Meta's 24-hour messaging
        window), in words; "" when it can."""
        return ""

    # moderation -------------------------------------------------------------------

    def hide_comment(self, account: ChannelAccount, ref: RemoteRef, *, hidden: bool) -> None:
        """Hide (or show again) someone's comment on one of the account's posts."""
        raise NotSupported(_("hiding comments"))

    def delete_comment(self, account: ChannelAccount, ref: RemoteRef) -> None:
        """Delete someone's comment on one of the account's posts."""
        raise NotSupported(_("deleting comments"))

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """The account's own posts (replies too) made at or after ``since``, newest
        first, at most ``limit`` of them: read back page by page until a post older
        than ``since`` (or the account's first post) is reached. Return
        :class:`RecentPosts` with ``complete`` set as it describes; reconciling an
        unknown outcome relies on it."""
        raise NotSupported(_("looking up recent posts"))

    def comparable_text(self, text: str, *, account: ChannelAccount | None = None) -> str:
        """``text`` (as we sent it) in the form :meth:`lookup_recent` gives a post's
        text, so that reconciling compares like with like. Most networks give the
        text back as sent."""
        return text

    def lookup_replies(
        self,
        account: ChannelAccount,
        *,
        reply_to: RemoteRef,
        thread_root: RemoteRef | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[RecentPost]:
        """The account's own recent answers, to reconcile a reply whose outcome is
        unknown. Where replies are posts, the recent posts; a network whose replies
        are something else (LinkedIn's comments) reads them where they are."""
        return self.lookup_recent(account, since=since, limit=limit)

    # inbox and metrics ----------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        raise NotSupported(_("the inbox"))

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        raise NotSupported(_("post metrics"))

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        raise NotSupported(_("account metrics"))

    # listening ------------------------------------------------------------------

    # What this network's search can find for listening (nothing, by default).
    listening: ClassVar[ListeningCapability] = ListeningCapability()

    def search_posts(
        self,
        account: ChannelAccount,
        term: str,
        *,
        since: datetime | None = None,
        cursor: str = "",
        limit: int = 50,
    ) -> SearchPage:
        """Public posts matching ``term`` (a word, a phrase, ``#hashtag`` or ``@handle``),
        newest first, searched as ``account``. ``since`` is a hint: a network that cannot
        filter by time returns older posts too, and the caller stops paging."""
        raise NotSupported(_("searching public posts"))

    # the complete record ----------------------------------------------------------

    def fetch_own_history(self, account: ChannelAccount, cursor: str | None = None) -> HistoryPage:
        """A page of the account's own posts (made through us or not), newest first,
        starting after ``cursor`` (None: the newest)."""
        raise NotSupported(_("archiving the account's history"))

    def fetch_status_history(self, account: ChannelAccount, ref: RemoteRef) -> list[PostVersion]:
        """Every version of one of the account's posts, oldest first; empty where the
        network keeps no edit history."""
        return []

    def fetch_replies(self, account: ChannelAccount, ref: RemoteRef) -> list[ThreadComment]:
        """Every comment and reply below the post (the whole thread under it), as the
        network shows them now: a deleted one is simply missing."""
        raise NotSupported(_("archiving comments"))

    # rules ----------------------------------------------------------------------

    def limits_for(self, account: ChannelAccount | None = None) -> Limits:
        """The limits for ``account``: the network's defaults, overridden by what the
        network reported for it at connect time (``ChannelAccount.network_limits``)."""
        reported = dict(getattr(account, "network_limits", None) or {})
        if not reported:
            return self.limits
        known = {name for name in Limits.__dataclass_fields__ if name != "text_counting"}
        values = {k: v for k, v in reported.items() if k in known}
        for name in ("image_mime_types", "video_mime_types"):
            if name in values:
                values[name] = tuple(values[name])
        return Limits(**{**self.limits.__dict__, **values})

    def text_length(self, text: str, *, account: ChannelAccount | None = None) -> int:
        """The length of ``text`` as this network counts it."""
        return len(text)

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        """Every reason the network would refuse ``request``, in words; empty when fine."""
        limits = self.limits_for(account)
        caps = self.capabilities
        problems: list[str] = []
        length = self.text_length(request.text, account=account) + (
            self.text_length(request.content_warning, account=account)
            if request.content_warning and self._warning_counts_as_text
            else 0
        )
        if not request.text.strip() and not request.media:
            problems.append(gettext("Write some text."))
        if length > limits.max_text:
            problems.append(
                gettext("The text is %(length)d characters long; the limit is %(limit)d.")
                % {"length": length, "limit": limits.max_text}
            )
        images = [item for item in request.media if not item.is_video]
        videos = [item for item in request.media if item.is_video]
        if images:
            if not caps.images:
                problems.append(gettext("This network does not take images here."))
            elif len(images) > limits.max_media:
                problems.append(
                    gettext("Attach at most %(limit)d images.") % {"limit": limits.max_media}
                )
        if videos:
            if not caps.videos:
                problems.append(gettext("This network does not take videos here."))
            else:
                if len(videos) > limits.max_videos:
                    problems.append(
                        ngettext(
                            "Attach at most %(limit)d video.",
                            "Attach at most %(limit)d videos.",
                            limits.max_videos,
                        )
                        % {"limit": limits.max_videos}
                    )
                if images and limits.video_alone:
                    problems.append(
                        gettext("On this network a video goes alone: remove the images.")
                    )
        for number, item in enumerate(images, start=1):
            problems.extend(self._media_problems(number, item, limits))
        if caps.videos:
            for number, item in enumerate(videos, start=1):
                problems.extend(self._video_problems(number, item, limits))
        if request.reply_to is not None and not caps.replies:
            problems.append(gettext("This network does not take replies from us."))
        if request.content_warning and not caps.content_warning:
            problems.append(gettext("This network has no content warnings."))
        if request.visibility == "direct":
            if not caps.direct_messages:
                problems.append(gettext("This network does not take direct messages from us."))
        elif request.visibility != "public" and not caps.visibility:
            problems.append(gettext("On this network every post is public."))
        return problems

    def _video_problems(self, number: int, item: MediaItem, limits: Limits) -> list[str]:
        """What this network would refuse about a video (type, size, length, description)."""
        problems: list[str] = []
        if item.mime_type not in limits.video_mime_types:
            problems.append(
                gettext("Video %(number)d is a %(type)s file, which this network does not take.")
                % {"number": number, "type": item.mime_type}
            )
        if limits.max_video_bytes and item.size_bytes > limits.max_video_bytes:
            problems.append(
                gettext("Video %(number)d is larger than %(limit)d MB.")
                % {"number": number, "limit": max(1, limits.max_video_bytes // (1024 * 1024))}
            )
        if limits.max_video_seconds and item.duration_ms > limits.max_video_seconds * 1000:
            problems.append(
                gettext("Video %(number)d is longer than %(limit)s; this network takes no more.")
                % {"number": number, "limit": _duration_words(limits.max_video_seconds)}
            )
        too_long = limits.alt_text_max and len(item.alt_text) > limits.alt_text_max
        if self.capabilities.alt_text and too_long:
            problems.append(
                gettext("The description of video %(number)d is over %(limit)d characters.")
                % {"number": number, "limit": limits.alt_text_max}
            )
        return problems

    # Mastodon counts the content warning into the status length.
    _warning_counts_as_text: ClassVar[bool] = False

    def _media_problems(self, number: int, item: MediaItem, limits: Limits) -> list[str]:
        problems: list[str] = []
        if item.mime_type not in limits.image_mime_types:
            problems.append(
                gettext("Image %(number)d is a %(type)s file, which this network does not take.")
                % {"number": number, "type": item.mime_type}
            )
        if limits.max_image_bytes and len(item.content) > limits.max_image_bytes:
            problems.append(
                gettext("Image %(number)d is larger than %(limit)d MB.")
                % {"number": number, "limit": max(1, limits.max_image_bytes // (1024 * 1024))}
            )
        too_long = limits.alt_text_max and len(item.alt_text) > limits.alt_text_max
        if self.capabilities.alt_text and too_long:
            problems.append(
                gettext("The description of image %(number)d is over %(limit)d characters.")
                % {"number": number, "limit": limits.alt_text_max}
            )
        return problems


def _duration_words(seconds: int) -> str:
    """ "3 minutes", "90 seconds", "1 hour" (the largest whole unit)."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    if seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
