"""Bluesky (the AT Protocol), through the account's own server (PDS), with an app password.

Connecting: the handle leads to the account's DID (``com.atproto.identity.resolveHandle``),
the DID to its server (the ``#atproto_pds`` service of its DID document, from the PLC
directory or ``did:web``), unless the person names a self-hosted server. There
``com.atproto.server.createSession`` trades the handle and app password for a session.
The app password is used that once and never stored: the session renews itself with
``com.atproto.server.refreshSession`` (the refresh token is the bearer), so a revoked
app password shows up as a refused renewal, which asks for a reconnect. The account's
main password is refused: it could change the account's password and settings.

Access tokens last about two hours. A call refused with ``ExpiredToken`` renews the
session once (holding the account's row lock, see ``_renew``) and is sent again.

Publishing writes an ``app.bsky.feed.post`` record at a record key (a TID) derived from
the request's idempotency key, so a resend of the same request cannot make a second
post: the PDS refuses a used key (with a plain 500), and ``getRecord`` at that key shows
the post that is already there. Reads the AppView answers (posts, profiles,
notifications) go through the PDS, which proxies them.

Facts: NETWORK-APIS.md §2; bsky-docs ``advanced-guides/posts.md``; the lexicons of
``bluesky-social/atproto``; behaviour measured on the real servers in
``tests/test_bsky_network.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json as jsonlib
import logging
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, unquote

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import http
from accounts.connectors.base import (
    AccountMetrics,
    ArchiveMedia,
    AuthError,
    Capabilities,
    ConnectedAccount,
    Connector,
    ConnectorError,
    CredentialUpdate,
    FoundPost,
    HealthResult,
    HistoryPage,
    HistoryPost,
    InboxItem,
    InboxKind,
    InboxPage,
    Limits,
    ListeningCapability,
    MediaItem,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RateLimited,
    RecentPost,
    RecentPosts,
    Rejected,
    RemoteRef,
    SearchPage,
    ThreadComment,
    TransientError,
    UnknownOutcome,
    normalize_base_url,
)
from accounts.connectors.text import (
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    bluesky_facets,
    grapheme_length,
)

if TYPE_CHECKING:
    from accounts.models import ChannelAccount

logger = logging.getLogger(__name__)

POST_COLLECTION = "app.bsky.feed.post"
WEB_APP_URL = "https://bsky.app"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# The ``scope`` claim of an access token that the account's main password opened (an app
# password's says com.atproto.appPass or com.atproto.appPassPrivileged).
FULL_ACCESS_SCOPE = "com.atproto.access"
# XRPC error names that mean the sign-in no longer works. An access token refused with
# one of ``RENEWABLE_ERRORS`` (or a bare 401) is renewed once before giving up.
AUTH_ERRORS = frozenset(
    {
        "InvalidToken",
        "AuthenticationRequired",
        "AuthMissing",
        "AccountTakedown",
        "AccountDeactivated",
        "AuthFactorTokenRequired",
    }
)
RENEWABLE_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
NOT_FOUND_ERRORS = frozenset({"RecordNotFound", "NotFound"})
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 URIs
# app.bsky.feed.searchPosts: limit 1..100 (default 25); the query is at most what the
# Bluesky app sends; longer ones are cut (the local filter still checks the whole term).
SEARCH_LIMIT_MAX = 100
SEARCH_QUERY_MAX = 300
INBOX_REASONS: tuple[InboxKind, ...] = ("mention", "reply", "quote")
INBOX_PAGE_SIZE = 50
# Notifications come newest first; a sync walks back to the last one it saw, at most this far.
INBOX_MAX_PAGES = 10
# How far before the newest notification seen a sync looks again (see ``fetch_inbox``),
# and how many notifications of that stretch the cursor remembers.
INBOX_OVERLAP = timedelta(minutes=10)
INBOX_SEEN_MAX = 300
AUTHOR_FEED_LIMIT = 100
# How deep below a post app.bsky.feed.getPostThread reads its replies (its maximum).
THREAD_DEPTH = 1000
# A resend with the same idempotency key finds the first post at its record key for as
# long as the post exists; the promise is kept to a day, as a deleted post would come back.
IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60
_HANDLE_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_DID_RE = re.compile(r"^did:(?:plc:[a-z2-7]{24}|web:[a-zA-Z0-9._:%-]+)$")


# --- errors of the connect flow ---------------------------------------------------


# app.bsky.embed.video (lexicons/app/bsky/embed/video.json): video maxSize 100000000,
# at most 20 captions, each a text/vtt blob of at most 20000 bytes.
VIDEO_MAX_BYTES = 100_000_000
VIDEO_MAX_CAPTIONS = 20
CAPTION_MAX_BYTES = 20_000


class _ConnectRefused(Rejected):
    """A refusal whose message is said to the person as it is."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(reason=message, message=message, status_code=status_code)


class UnknownHandle(_ConnectRefused):
    """The handle is not a handle, or no account answers to it."""


class NotAnAppPassword(_ConnectRefused):
    """The person typed the account's main password (or one that needs a second factor)."""


class _SessionExpired(AuthError):
    """The access token was refused as expired (or unreadable): renewing may help."""


# --- small pure helpers -------------------------------------------------------------


def _encode_tid(value: int) -> str:
    return "".join(TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def _tid_micros(uri: str) -> int:
    """The time in a TID record key (microseconds since 1970); 0 for other keys."""
    rkey = uri.rsplit("/", 1)[-1]
    if len(rkey) != 13 or any(char not in TID_ALPHABET for char in rkey):
        return 0
    value = 0
    for char in rkey:
        value = value << 5 | TID_ALPHABET.index(char)
    return value >> 10


def tid_from_key(key: str) -> str:
    """The record key for the post sent with idempotency key ``key``: always the same TID.

    A TID is 53 bits of microseconds and 10 bits of clock id. Both come from a hash of
    the key; the time is kept between 2005 and 2023 (2^50 to 2^50 + 2^49 µs) so the key
    looks like any other TID (first character ``3``) and is never in the future. The
    spec says a TID's time is not to be trusted, and nothing orders posts by it.
    """
    digest = hashlib.sha256(f"govsocial:bluesky:rkey:{key}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    micros = (1 << 50) + (number >> 10) % (1 << 49)
    return _encode_tid(micros << 10 | (number & 0x3FF))


def new_tid() -> str:
    """A fresh TID for a post sent without an idempotency key."""
    return _encode_tid((time.time_ns() // 1000) << 10 | secrets.randbelow(1024))


def normalize_identifier(value: str) -> str:
    """``@City.bsky.social `` → ``city.bsky.social``; a DID passes as it is."""
    value = value.strip().lstrip("@").strip()
    if value.startswith("did:"):
        if not _DID_RE.match(value):
            raise UnknownHandle(gettext("%(value)s is not a Bluesky identity.") % {"value": value})
        return value
    value = value.lower()
    if "@" in value or len(value) > 253 or not _HANDLE_RE.match(value):
        raise UnknownHandle(
            gettext(
                "%(value)s is not a Bluesky handle. A handle looks like "
                "cityofexample.bsky.social, or the organization's own domain."
            )
            % {"value": value}
        )
    return value


def normalize_server_url(value: str) -> str:
    """``pds.example.gov``, ``https://PDS.example.gov/`` → ``https://pds.example.gov``."""
    return normalize_base_url(
        value,
        only_the_address=gettext("give only the server's address, like https://pds.example.gov"),
    )


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a session token, unverified: only the PDS that signed it can check
    it, and we read just its expiry and scope (what kind of password opened the session)."""
    try:
        payload = token.split(".")[1]
        claims = jsonlib.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _jwt_expiry(token: str) -> datetime | None:
    exp = jwt_claims(token).get("exp")
    return datetime.fromtimestamp(exp, tz=UTC) if isinstance(exp, int | float) else None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _page_cursor(server_cursor: str, *, previous: str) -> str:
    """Where the next page of notifications starts.

    The AppView's cursor is the sort time of the page's last notification, and the
    next page starts strictly before it: the notifications of that same millisecond
    (a burst written to the second) that did not fit on the page would be skipped.
    So the next page starts just after it instead, repeating that time's
    notifications (the caller keeps each URI once). Only when that would ask for the
    same page again (a whole page at one time) is the server's cursor used as it is."""
    boundary = _parse_time(server_cursor)
    if boundary is None:
        return server_cursor
    after = (boundary + timedelta(milliseconds=1)).astimezone(UTC)
    overlapping = after.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return server_cursor if overlapping == previous else overlapping


def _now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def split_at_uri(uri: str) -> tuple[str, str, str]:
    """``at://did/collection/rkey`` → (did, collection, rkey)."""
    parts = uri.removeprefix("at://").split("/") if uri.startswith("at://") else []
    if len(parts) != 3 or not all(parts):
        raise Rejected(gettext("%(value)s is not a Bluesky post") % {"value": uri})
    return parts[0], parts[1], parts[2]


def post_url(author: str, uri: str) -> str:
    """The post's page in the Bluesky app (``author`` a DID or handle)."""
    return f"{WEB_APP_URL}/profile/{author}/post/{uri.rsplit('/', 1)[-1]}"


def _uri_of(ref: RemoteRef) -> str:
    uri = str(ref.extra.get("uri") or ref.remote_id)
    split_at_uri(uri)
    return uri


def _strong_ref(value: Any) -> RemoteRef | None:
    """A ``com.atproto.repo.strongRef`` ({uri, cid}) as a RemoteRef."""
    if not isinstance(value, Mapping) or not value.get("uri"):
        return None
    uri, cid = str(value["uri"]), str(value.get("cid") or "")
    did = uri.removeprefix("at://").split("/", 1)[0]
    return RemoteRef(remote_id=uri, url=post_url(did, uri), extra={"uri": uri, "cid": cid})


def _pds_endpoint(document: Any) -> str:
    """The ``#atproto_pds`` service endpoint of a DID document ("" when it has none)."""
    if not isinstance(document, Mapping):
        return ""
    for service in document.get("service") or []:
        if not isinstance(service, Mapping):
            continue
        if str(service.get("id", "")).endswith("#atproto_pds") and isinstance(
            service.get("serviceEndpoint"), str
        ):
            return str(service["serviceEndpoint"]).rstrip("/")
    return ""


def _aspect_ratio(content: bytes) -> tuple[int, int] | None:
    """Width and height as shown (EXIF rotation applied), so the app reserves the right
    space; None when Pillow is missing or cannot read the image."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            # Orientations 5-8 turn the picture a quarter: width and height swap.
            if image.getexif().get(0x0112) in (5, 6, 7, 8):
                width, height = height, width
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return (width, height) if width > 0 and height > 0 else None


@dataclass(frozen=True)
class _Session:
    access: str
    refresh: str
    did: str
    pds: str
    # What was stored when the call started: renewal compares against it (see ``_renew``).
    stored: Mapping[str, Any]


@dataclass(frozen=True)
class _InboxCursor:
    """Where the inbox sync stands: the newest notification time seen, and the
    notifications seen within ``INBOX_OVERLAP`` of it (those are looked at again)."""

    newest: datetime
    seen: frozenset[str]

    def dump(self) -> str:
        return jsonlib.dumps(
            {"newest": self.newest.isoformat(), "seen": sorted(self.seen)}, separators=(",", ":")
        )

    @classmethod
    def parse(cls, value: str | None) -> _InboxCursor | None:
        try:
            state = jsonlib.loads(value or "")
        except ValueError:
            return None
        newest = _parse_time(state.get("newest")) if isinstance(state, dict) else None
        if newest is None:
            return None
        return cls(newest, frozenset(str(uri) for uri in state.get("seen") or []))


class BlueskyConnector(Connector):
    network = "bluesky"
    label = _("Bluesky")
    connect_method = "app_password"
    capabilities = Capabilities(
        videos=True,
        publish=True,
        images=True,
        alt_text=True,
        replies=True,
        threads=True,
        # Chat needs a privileged app password and another service: not through us.
        direct_messages=False,
        delete=True,
        inbox=True,
        metrics=True,
        impressions=False,
        # Bluesky has no written content warning; its self-labels name adult content or
        # graphic media only, and putting one on a post with a warning would misdescribe it.
        content_warning=False,
        visibility=False,  # every post is public
        language=True,
        lookup_recent=True,
        refresh_credentials=True,
        idempotency_window_seconds=IDEMPOTENCY_WINDOW_SECONDS,
        archive=True,
    )
    limits = Limits(
        max_text=BLUESKY_MAX_GRAPHEMES,
        text_counting="graphemes",
        max_media=4,
        max_image_bytes=1_000_000,  # app.bsky.embed.images: maxSize of each image
        alt_text_max=2000,  # the Bluesky app's limit; the lexicon sets none
        image_mime_types=("image/jpeg", "image/png", "image/webp"),
        # app.bsky.embed.video: one mp4 "up to 100mb" (maxSize 100000000); the Bluesky
        # app takes up to 3 minutes (bsky.social/about/blog "video" posts).
        max_videos=1,
        video_mime_types=("video/mp4",),
        max_video_bytes=VIDEO_MAX_BYTES,
        max_video_seconds=180,
        video_alone=True,
    )

    # --- plumbing ---------------------------------------------------------------

    def _xrpc(
        self,
        method: str,
        base_url: str,
        nsid: str,
        *,
        token: str = "",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | BinaryIO | None = None,
        content_type: str = "",
        outcome_matters: bool = False,
        missing_ok: bool = False,
    ) -> Any:
        """One XRPC call; returns the answer's JSON (None for a missing record when
        ``missing_ok``). Every failure is classified; ``outcome_matters`` marks a write
        that must not happen twice, whose unanswered sending is an unknown outcome."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        if data is not None and not isinstance(data, bytes):
            # A streamed file sent again (after renewing the session) starts from its start.
            data.seek(0)
        try:
            response = http.http_request(
                method,
                f"{base_url}/xrpc/{nsid}",
                headers=headers,
                params=params,
                json=json,
                data=data,
                timeout=self.timeout,
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("this server address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok:
            return self._json(response, outcome_matters=outcome_matters)
        error, message = _xrpc_error(response)
        if missing_ok and (error in NOT_FOUND_ERRORS or response.status == 404):
            return None
        raise self._classify(response, error, message, outcome_matters=outcome_matters)

    def _classify(
        self, response: http.HttpResponse, error: str, message: str, *, outcome_matters: bool
    ) -> ConnectorError:
        status = response.status
        detail = f"{error}: {message}" if error else message
        if error in RENEWABLE_ERRORS or (status == 401 and not error):
            return _SessionExpired(status_code=status, detail=detail)
        if status == 401 or error in AUTH_ERRORS:
            return AuthError(status_code=status, detail=detail)
        if status == 429 or error == "RateLimitExceeded":
            return RateLimited(response.retry_after, status_code=status, detail=detail)
        if outcome_matters and status in (502, 503, 504):
            # A proxy gave up waiting: the PDS behind it may have written the record.
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        if status == 413 or error == "BlobTooLarge":
            return Rejected(gettext("the image is too large"), status_code=status, detail=detail)
        if status == 404 or error in NOT_FOUND_ERRORS:
            return Rejected(
                gettext("the post is not on Bluesky"), status_code=status, detail=detail
            )
        return Rejected(message or error or gettext("Bluesky refused it"), status_code=status)

    def _json(self, response: http.HttpResponse, *, outcome_matters: bool = False) -> Any:
        try:
            body = response.json()
        except ValueError as exc:
            error = UnknownOutcome if outcome_matters else TransientError
            raise error(detail=f"Answer is not JSON ({response.status})") from exc
        return body if body is not None else {}

    def _get_json(self, url: str) -> Any:
        """A plain GET of a JSON document (DID documents); None when it is not there."""
        try:
            response = http.http_request(
                "GET", url, headers={"Accept": "application/json"}, timeout=self.timeout
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("this server address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            raise TransientError(detail=str(exc)) from exc
        if response.status in (404, 410):
            return None
        if not response.ok:
            raise TransientError(status_code=response.status, detail=response.text[:300])
        return self._json(response)

    def _session(self, account: ChannelAccount) -> _Session:
        stored = dict(account.credentials or {})
        session = _Session(
            access=str(stored.get("accessJwt") or ""),
            refresh=str(stored.get("refreshJwt") or ""),
            did=str(stored.get("did") or account.remote_id or ""),
            pds=str(stored.get("pds") or account.server_url or "").rstrip("/"),
            stored=stored,
        )
        if not (session.access or session.refresh) or not session.did or not session.pds:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        return session

    def _call(self, account: ChannelAccount, method: str, nsid: str, **kwargs: Any) -> Any:
        """An authenticated call to the account's PDS. An expired access token renews the
        session once and the call is sent again (it was refused, so nothing happened)."""
        session = self._session(account)
        if session.access:
            try:
                return self._xrpc(method, session.pds, nsid, token=session.access, **kwargs)
            except _SessionExpired:
                logger.info("Bluesky session of account %s expired; renewing", account.pk)
        self._renew(account, session)
        session = self._session(account)
        try:
            return self._xrpc(method, session.pds, nsid, token=session.access, **kwargs)
        except _SessionExpired as exc:
            raise AuthError(status_code=exc.status_code, detail=exc.detail) from exc

    def _renew(self, account: ChannelAccount, session: _Session) -> None:
        """Renew the session and store it, through the service that holds the account's
        row lock: of two workers whose token expired together, the second finds the
        session renewed (the stored credentials are no longer ``session.stored``) and
        uses it. A refused renewal marks the account for reconnecting there."""
        if account.pk is None:
            update = self.refresh_credentials(account)
            account.credentials = dict(update.credentials)
            account.credentials_expire_at = update.expires_at
            return
        # Imported here: the services build on the connectors, not the other way round.
        from accounts.services import channel_account_refresh_credentials

        channel_account_refresh_credentials(account=account, stale_credentials=session.stored)

    # --- identity ------------------------------------------------------------------

    def resolve_handle(self, handle: str, *, service: str) -> str:
        """The DID of ``handle``, asked of ``service`` (a PDS or bsky.social)."""
        unknown = gettext("No Bluesky account answers to %(handle)s.") % {"handle": handle}
        try:
            body = self._xrpc(
                "GET", service, "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
        except Rejected as exc:
            if exc.status_code in (400, 404):
                # "Unable to resolve handle": no DNS record or well-known file names a DID.
                raise UnknownHandle(unknown, status_code=exc.status_code) from exc
            raise
        did = str(body.get("did") or "")
        if not did:
            raise UnknownHandle(unknown)
        return did

    def _resolve_mention(
        self, service: str, handle: str, cache: dict[str, str | None]
    ) -> str | None:
        if handle not in cache:
            try:
                cache[handle] = self.resolve_handle(handle.lower(), service=service)
            except Rejected:
                # Nobody answers to it (or the server will not look it up): plain text.
                cache[handle] = None
        return cache[handle]

    def pds_for_did(self, did: str) -> str:
        """The address of the server (PDS) that holds ``did``'s repository."""
        if did.startswith("did:plc:"):
            plc = str(getattr(settings, "BLUESKY_PLC_URL", "https://plc.directory")).rstrip("/")
            url = f"{plc}/{quote(did, safe=':')}"
        elif did.startswith("did:web:") and ":" not in did[len("did:web:") :]:
            url = f"https://{unquote(did[len('did:web:') :])}/.well-known/did.json"
        else:
            raise UnknownHandle(
                gettext("GovSocial cannot find the server of %(did)s.") % {"did": did}
            )
        endpoint = _pds_endpoint(self._get_json(url))
        if not endpoint:
            raise UnknownHandle(
                gettext("%(did)s names no Bluesky server (PDS) in its identity record.")
                % {"did": did}
            )
        return endpoint

    # --- connect --------------------------------------------------------------------

    def connect(self, *, server_url: str, identifier: str, secret: str) -> ConnectedAccount:
        """Open a session with the handle and an app password; store only the session."""
        identifier = normalize_identifier(identifier)
        password = secret.strip()
        expected_did = ""
        if server_url:
            login_url = normalize_server_url(server_url)
        else:
            service = str(getattr(settings, "BLUESKY_DEFAULT_SERVICE", "https://bsky.social"))
            expected_did = (
                identifier
                if identifier.startswith("did:")
                else self.resolve_handle(identifier, service=service.rstrip("/"))
            )
            login_url = self.pds_for_did(expected_did)
        try:
            session = self._xrpc(
                "POST",
                login_url,
                "com.atproto.server.createSession",
                json={"identifier": identifier, "password": password},
            )
        except AuthError as exc:
            if "AuthFactorTokenRequired" in exc.detail:
                raise NotAnAppPassword(_main_password_message()) from exc
            raise AuthError(
                gettext(
                    "Bluesky did not accept this handle and app password. Check both; if "
                    "the app password was revoked, make a new one."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        access, refresh = str(session.get("accessJwt") or ""), str(session.get("refreshJwt") or "")
        did = str(session.get("did") or "")
        if not access or not refresh or not did:
            raise TransientError(detail="createSession answered without a session")
        scope = str(jwt_claims(access).get("scope") or "")
        if scope == FULL_ACCESS_SCOPE:
            self._end_session(login_url, refresh)
            raise NotAnAppPassword(_main_password_message())
        if expected_did and did != expected_did:
            self._end_session(login_url, refresh)
            raise AuthError(
                gettext("The server signed in another account than %(handle)s.")
                % {"handle": identifier}
            )
        # An entryway (bsky.social) signs people in for the PDS their DID document names.
        pds = (_pds_endpoint(session.get("didDoc")) or login_url) if server_url else login_url
        handle = str(session.get("handle") or identifier)
        credentials = {"accessJwt": access, "refreshJwt": refresh, "did": did, "pds": pds}
        return ConnectedAccount(
            remote_id=did,
            handle=handle,
            display_name=self._display_name(pds, access, did),
            server_url=pds,
            credentials=credentials,
            credentials_expire_at=_jwt_expiry(refresh),
            scopes=(scope,) if scope else (),
            profile_url=f"{WEB_APP_URL}/profile/{handle}",
        )

    def _display_name(self, pds: str, token: str, did: str) -> str:
        # The name is a nicety: a profile the AppView has not indexed yet (or any failure
        # to read it) is no reason to refuse the connect.
        try:
            profile = self._xrpc(
                "GET", pds, "app.bsky.actor.getProfile", token=token, params={"actor": did}
            )
        except ConnectorError:
            return ""
        return str((profile or {}).get("displayName") or "")

    def _end_session(self, pds: str, refresh_token: str) -> None:
        try:
            self._xrpc("POST", pds, "com.atproto.server.deleteSession", token=refresh_token)
        except AuthError:
            pass  # already gone
        except ConnectorError as exc:
            logger.warning("Could not end a Bluesky session at %s: %s", pds, exc.detail)

    def disconnect(self, account: ChannelAccount) -> None:
        """End the session (its refresh token dies); the app password itself can only be
        revoked by the account's owner, in Bluesky's settings."""
        credentials = account.credentials or {}
        refresh = str(credentials.get("refreshJwt") or "")
        pds = str(credentials.get("pds") or account.server_url or "")
        if not refresh or not pds:
            return
        try:
            self._xrpc("POST", pds, "com.atproto.server.deleteSession", token=refresh)
        except AuthError:
            return  # the session had ended already: nothing left to revoke

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        """A new session from the refresh token (never by signing in again)."""
        session = self._session(account)
        if not session.refresh:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        try:
            body = self._xrpc(
                "POST", session.pds, "com.atproto.server.refreshSession", token=session.refresh
            )
        except AuthError as exc:
            raise AuthError(
                gettext(
                    "Bluesky no longer renews this account's sign-in: the app password may "
                    "have been revoked. Reconnect the account with a new app password."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        access, refresh = str(body.get("accessJwt") or ""), str(body.get("refreshJwt") or "")
        if not access or not refresh:
            raise TransientError(detail="refreshSession answered without a session")
        if body.get("did") and body["did"] != session.did:
            raise AuthError(gettext("Bluesky renewed the sign-in of another account."))
        _require_active(body)
        return CredentialUpdate(
            credentials={**session.stored, "accessJwt": access, "refreshJwt": refresh},
            expires_at=_jwt_expiry(refresh),
        )

    def check_health(self, account: ChannelAccount) -> HealthResult:
        body = self._call(account, "GET", "com.atproto.server.getSession")
        did = str(body.get("did") or "")
        if account.remote_id and did != account.remote_id:
            raise AuthError(gettext("The stored sign-in belongs to another Bluesky account."))
        _require_active(body)
        handle = str(body.get("handle") or account.handle)
        return HealthResult(
            remote_id=did,
            handle=handle,
            profile_url=f"{WEB_APP_URL}/profile/{handle}",
            scopes=tuple(account.scopes or ()),
        )

    # --- posts ----------------------------------------------------------------------

    def text_length(self, text: str, *, account: ChannelAccount | None = None) -> int:
        return grapheme_length(text)

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        problems = super().validate(request, account=account)
        size = len(request.text.encode("utf-8"))
        if size > BLUESKY_MAX_BYTES:
            problems.append(
                gettext("The text takes %(size)d bytes; Bluesky takes at most %(limit)d.")
                % {"size": size, "limit": BLUESKY_MAX_BYTES}
            )
        return problems

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        """Create the post at the record key of its idempotency key; a resend finds it."""
        session = self._session(account)
        rkey = tid_from_key(request.idempotency_key) if request.idempotency_key else new_tid()
        record: dict[str, Any] = {"$type": POST_COLLECTION, "text": request.text}
        mentions: dict[str, str | None] = {}
        facets = bluesky_facets(
            request.text,
            resolve_handle=lambda handle: self._resolve_mention(session.pds, handle, mentions),
        )
        if facets:
            record["facets"] = facets
        if request.language:
            record["langs"] = [request.language]
        if request.reply_to is not None:
            record["reply"] = self._reply_refs(account, request.reply_to, request.thread_root)
        videos = [item for item in request.media if item.is_video]
        if videos:
            record["embed"] = self._upload_video(account, videos[0])
        elif request.media:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [self._upload_image(account, item) for item in request.media],
            }
        record["createdAt"] = _now_iso()
        body = {"repo": session.did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        try:
            created = self._call(
                account, "POST", "com.atproto.repo.createRecord", json=body, outcome_matters=True
            )
        except (TransientError, UnknownOutcome) as exc:
            if exc.status_code is None or exc.status_code < 500:
                raise
            # The PDS answers a used record key with a plain 500: the post may be there.
            try:
                existing = self._own_record(account, rkey)
            except ConnectorError:
                raise exc from None
            if existing is None:
                raise
            logger.info("Bluesky post %s was already there (a resend)", existing["uri"])
            created = existing
        uri, cid = str(created.get("uri") or ""), str(created.get("cid") or "")
        if not uri or not cid:
            raise UnknownOutcome(detail="createRecord answered without uri and cid")
        value = created.get("value") or record
        return PublishResult(
            remote_id=uri,
            url=post_url(session.did, uri),
            published_at=_parse_time(value.get("createdAt")),
            extra={
                "uri": uri,
                "cid": cid,
                "rkey": rkey,
                "idempotency_key": request.idempotency_key,
            },
        )

    def lookup_by_key(self, account: ChannelAccount, idempotency_key: str) -> RecentPost | None:
        """The post sent with ``idempotency_key``, read from the PDS (no AppView delay),
        or None when it is not there."""
        record = self._own_record(account, tid_from_key(idempotency_key))
        if record is None:
            return None
        return _recent_post(record, extra={"idempotency_key": idempotency_key})

    def _own_record(self, account: ChannelAccount, rkey: str) -> dict[str, Any] | None:
        session = self._session(account)
        record: dict[str, Any] | None = self._xrpc(
            "GET",
            session.pds,
            "com.atproto.repo.getRecord",
            params={"repo": session.did, "collection": POST_COLLECTION, "rkey": rkey},
            missing_ok=True,
        )
        return record

    def _reply_refs(
        self, account: ChannelAccount, reply_to: RemoteRef, thread_root: RemoteRef | None
    ) -> dict[str, dict[str, str]]:
        """``reply.parent`` and ``reply.root`` (uri and cid each). The root is the given
        thread root, else the parent's own root, else the parent itself."""
        parent_uri = _uri_of(reply_to)
        parent_cid = str(reply_to.extra.get("cid") or "")
        root: dict[str, str] | None = None
        if thread_root is not None:
            root_uri, root_cid = _uri_of(thread_root), str(thread_root.extra.get("cid") or "")
            if not root_cid:
                root_cid = str(self._post_view(account, root_uri)["cid"])
            root = {"uri": root_uri, "cid": root_cid}
        if not parent_cid or root is None:
            view = self._post_view(account, parent_uri)
            parent_cid = parent_cid or str(view["cid"])
            if root is None:
                own_root = ((view.get("record") or {}).get("reply") or {}).get("root") or {}
                if own_root.get("uri") and own_root.get("cid"):
                    root = {"uri": str(own_root["uri"]), "cid": str(own_root["cid"])}
        parent = {"uri": parent_uri, "cid": parent_cid}
        return {"root": root or parent, "parent": parent}

    def _post_view(self, account: ChannelAccount, uri: str) -> dict[str, Any]:
        body = self._call(account, "GET", "app.bsky.feed.getPosts", params={"uris": [uri]})
        for post in body.get("posts") or []:
            if post.get("uri") == uri and post.get("cid"):
                return dict(post)
        raise Rejected(gettext("the post being answered is no longer on Bluesky"))

    def _upload_image(self, account: ChannelAccount, item: MediaItem) -> dict[str, Any]:
        """Upload one image; an upload is not a post, so a failure here is not an unknown
        outcome (an orphaned blob is harmless, and the PDS drops it)."""
        body = self._call(
            account,
            "POST",
            "com.atproto.repo.uploadBlob",
            data=item.content,
            content_type=item.mime_type,
        )
        blob = body.get("blob")
        if not isinstance(blob, dict):
            raise TransientError(detail="uploadBlob answered without a blob")
        image: dict[str, Any] = {"image": blob, "alt": item.alt_text}
        ratio = _aspect_ratio(item.content)
        if ratio is not None:
            image["aspectRatio"] = {"width": ratio[0], "height": ratio[1]}
        return image

    def _upload_video(self, account: ChannelAccount, item: MediaItem) -> dict[str, Any]:
        """An ``app.bsky.embed.video``: the mp4 uploaded as a blob, streamed from its file
        (never read whole into memory), and each caption track as a ``text/vtt`` blob.

        ``com.atproto.repo.uploadBlob`` of a ``video/mp4`` is what every PDS takes (the
        local dev-env one included); the record is the lexicon's {video, alt, aspectRatio,
        captions: [{lang, file}]}."""
        if not item.path:
            raise Rejected(gettext("the video file is missing"))
        try:
            handle = open(item.path, "rb")  # noqa: SIM115 - closed below, streamed by requests
        except OSError as exc:
            raise Rejected(gettext("the video file is missing"), detail=str(exc)) from exc
        with handle:
            body = self._call(
                account,
                "POST",
                "com.atproto.repo.uploadBlob",
                data=handle,
                content_type=item.mime_type or "video/mp4",
            )
        blob = body.get("blob")
        if not isinstance(blob, dict):
            raise TransientError(detail="uploadBlob answered without a blob")
        embed: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": blob}
        if item.alt_text:
            embed["alt"] = item.alt_text
        if item.width and item.height:
            embed["aspectRatio"] = {"width": item.width, "height": item.height}
        captions = []
        for track in list(item.captions)[:VIDEO_MAX_CAPTIONS]:
            data = track.vtt.encode("utf-8")
            if len(data) > CAPTION_MAX_BYTES:
                raise Rejected(
                    gettext("the %(language)s captions are larger than Bluesky takes (20 kB)")
                    % {"language": track.language}
                )
            answer = self._call(
                account,
                "POST",
                "com.atproto.repo.uploadBlob",
                data=data,
                content_type="text/vtt",
            )
            file = answer.get("blob")
            if not isinstance(file, dict):
                raise TransientError(detail="uploadBlob answered without a blob")
            captions.append({"lang": track.language, "file": file})
        if captions:
            embed["captions"] = captions
        return embed

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        session = self._session(account)
        repo, collection, rkey = split_at_uri(_uri_of(ref))
        if repo != session.did:
            raise Rejected(gettext("the post belongs to another account"))
        # Deleting what is already gone is no error on the PDS: no unknown outcome here.
        self._call(
            account,
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": session.did, "collection": collection, "rkey": rkey},
        )

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """The account's own recent posts and replies, newest first, from the AppView's
        author feed: the repository lists records by key, and keys derived from
        idempotency keys say nothing about time (see ``tid_from_key``). The AppView may
        lag the PDS by seconds; ``lookup_by_key`` reads the PDS itself.

        Pages back by ``cursor`` until a post the AppView indexed before ``since``
        (the feed's own order; ``createdAt`` is whatever the client wrote), the end of
        the feed, or ``limit`` posts (then not ``complete``)."""
        session = self._session(account)
        posts: list[RecentPost] = []
        cursor = ""
        while True:
            params: dict[str, Any] = {
                "actor": session.did,
                "filter": "posts_with_replies",
                "limit": AUTHOR_FEED_LIMIT,
            }
            if cursor:
                params["cursor"] = cursor
            body = self._call(account, "GET", "app.bsky.feed.getAuthorFeed", params=params)
            feed = body.get("feed") or []
            for item in feed:
                post = item.get("post") or {}
                if item.get("reason") or (post.get("author") or {}).get("did") != session.did:
                    continue  # a repost, or someone else's post shown in the feed
                recent = _recent_post(post)
                indexed = _parse_time(post.get("indexedAt")) or recent.created_at
                if since is not None and indexed is not None and indexed < since:
                    return RecentPosts(posts, complete=True)
                if len(posts) >= limit:
                    return RecentPosts(posts, complete=False)
                if since is None or recent.created_at is None or recent.created_at >= since:
                    posts.append(recent)
            next_cursor = str(body.get("cursor") or "")
            if not feed or not next_cursor or next_cursor == cursor:
                return RecentPosts(posts, complete=True)
            cursor = next_cursor

    # --- inbox and metrics --------------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Mentions, replies and quotes that arrived after ``cursor``, oldest first.

        Notifications come newest first and page backwards; each carries the time the
        AppView sorts it by, which is the post's own ``createdAt`` when that is earlier
        (to the second, as many clients write it). So a sync walks back to
        ``INBOX_OVERLAP`` before the newest time it saw last and leaves out the
        notifications it returned then (the cursor lists them): a post whose clock ran a
        little behind, or two in the same second, are not lost. Without a cursor the
        newest page is returned (if it is empty, the cursor starts at now).
        Notifications are not marked as read: people using the account in the Bluesky
        app still see them as new."""
        state = _InboxCursor.parse(cursor)
        floor = state.newest - INBOX_OVERLAP if state is not None else None
        fresh: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
        window: dict[str, datetime] = {}
        page_cursor = ""
        for _page in range(INBOX_MAX_PAGES):
            params: dict[str, Any] = {"limit": INBOX_PAGE_SIZE, "reasons": list(INBOX_REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            body = self._call(
                account, "GET", "app.bsky.notification.listNotifications", params=params
            )
            walked_past = False
            for notification in body.get("notifications") or []:
                moment = _parse_time(notification.get("indexedAt"))
                uri = str(notification.get("uri") or "")
                if moment is None or not uri:
                    continue
                if floor is not None and moment < floor:
                    walked_past = True
                    break
                window[uri] = max(moment, window.get(uri, moment))
                if state is not None and uri in state.seen:
                    continue
                if notification.get("reason") in INBOX_REASONS:
                    _keep_notification(fresh, uri, moment, notification)
            server_cursor = str(body.get("cursor") or "")
            if walked_past or state is None or not server_cursor:
                break
            page_cursor = _page_cursor(server_cursor, previous=page_cursor)
        else:
            logger.warning(
                "Bluesky account %s: more than %d pages of notifications since the last sync",
                account.pk,
                INBOX_MAX_PAGES,
            )
        # Within one second, the record key (a TID: creation time in microseconds, as
        # nearly every client makes it) tells which came first.
        ordered = sorted(
            fresh.items(), key=lambda kept: (kept[1][0], _tid_micros(kept[0]), kept[0])
        )
        return InboxPage(
            items=[self._inbox_item(notification) for _uri, (_at, notification) in ordered],
            next_cursor=_next_inbox_cursor(state, window),
            has_more=False,
        )

    def _inbox_item(self, notification: Mapping[str, Any]) -> InboxItem:
        record = notification.get("record") or {}
        author = notification.get("author") or {}
        uri = str(notification["uri"])
        reply = record.get("reply") or {}
        parent, root = _strong_ref(reply.get("parent")), _strong_ref(reply.get("root"))
        kind: InboxKind = notification["reason"]
        in_reply_to = parent
        if kind == "quote":
            in_reply_to = _quoted(record.get("embed")) or parent
        author_did = str(author.get("did") or "")
        return InboxItem(
            remote_id=uri,
            kind=kind,
            author_handle=str(author.get("handle") or ""),
            author_name=str(author.get("displayName") or author.get("handle") or ""),
            author_id=author_did,
            text=str(record.get("text") or ""),
            created_at=_parse_time(record.get("createdAt"))
            or _parse_time(notification.get("indexedAt")),
            url=post_url(author_did or split_at_uri(uri)[0], uri),
            in_reply_to=in_reply_to,
            thread_root=root,
            raw={
                "uri": uri,
                "cid": str(notification.get("cid") or ""),
                "reason": str(notification.get("reason") or ""),
                "indexed_at": str(notification.get("indexedAt") or ""),
                "langs": [str(lang) for lang in record.get("langs") or []],
            },
        )

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        uris = [(ref.remote_id, _uri_of(ref)) for ref in refs]
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(uris), GET_POSTS_BATCH):
            batch = [uri for _id, uri in uris[start : start + GET_POSTS_BATCH]]
            body = self._call(account, "GET", "app.bsky.feed.getPosts", params={"uris": batch})
            for post in body.get("posts") or []:
                found[str(post.get("uri"))] = post
        metrics: list[PostMetrics] = []
        for remote_id, uri in uris:
            post = found.get(uri)
            if post is None:
                # Deleted (or hidden from us): getPosts leaves it out.
                metrics.append(PostMetrics(remote_id=remote_id, deleted=True))
                continue
            metrics.append(
                PostMetrics(
                    remote_id=remote_id,
                    likes=int(post.get("likeCount") or 0),
                    shares=int(post.get("repostCount") or 0),
                    replies=int(post.get("replyCount") or 0),
                    quotes=int(post.get("quoteCount") or 0),
                    impressions=None,
                )
            )
        return metrics

    # --- listening ---------------------------------------------------------------

    # app.bsky.feed.searchPosts searches the text of every public post the AppView
    # indexed (words, phrases, #tags, and mentions through the same query), with
    # ``since`` to stop at the last poll: docs.bsky.app/docs/api/app-bsky-feed-search-posts
    listening = ListeningCapability(words=True, hashtags=True, handles=True, lookback_days=None)

    def search_posts(
        self,
        account: ChannelAccount,
        term: str,
        *,
        since: datetime | None = None,
        cursor: str = "",
        limit: int = 50,
    ) -> SearchPage:
        """``app.bsky.feed.searchPosts`` through the account's PDS (which proxies it to
        the AppView with the account's token: the search may need a signed-in viewer).
        Parameters as the lexicon defines them: q, sort=latest, since (inclusive,
        against sortAt), limit, cursor."""
        params: dict[str, Any] = {
            "q": term[:SEARCH_QUERY_MAX],
            "sort": "latest",
            "limit": max(1, min(limit, SEARCH_LIMIT_MAX)),
        }
        if since is not None:
            params["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if cursor:
            params["cursor"] = cursor
        body = self._call(account, "GET", "app.bsky.feed.searchPosts", params=params)
        posts = [
            found for found in (_found_post(post) for post in body.get("posts") or []) if found
        ]
        return SearchPage(posts=posts, next_cursor=str(body.get("cursor") or ""))

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        session = self._session(account)
        profile = self._call(
            account, "GET", "app.bsky.actor.getProfile", params={"actor": session.did}
        )
        return AccountMetrics(
            followers=int(profile.get("followersCount") or 0),
            following=int(profile.get("followsCount") or 0),
            posts=int(profile.get("postsCount") or 0),
        )

    # --- the complete record --------------------------------------------------------------

    def fetch_own_history(self, account: ChannelAccount, cursor: str | None = None) -> HistoryPage:
        """The account's own posts and replies (reposts left out), newest first, from
        the AppView's author feed; ``cursor`` is the feed's own.
        Docs: https://docs.bsky.app/docs/api/app-bsky-feed-get-author-feed"""
        session = self._session(account)
        params: dict[str, Any] = {
            "actor": session.did,
            "filter": "posts_with_replies",
            "limit": AUTHOR_FEED_LIMIT,
        }
        if cursor:
            params["cursor"] = cursor
        body = self._call(account, "GET", "app.bsky.feed.getAuthorFeed", params=params)
        feed = [item for item in body.get("feed") or [] if isinstance(item, dict)]
        posts = [
            _history_post(item["post"])
            for item in feed
            if not item.get("reason")
            and isinstance(item.get("post"), dict)
            and (item["post"].get("author") or {}).get("did") == session.did
        ]
        next_cursor = str(body.get("cursor") or "")
        return HistoryPage(
            posts=posts,
            next_cursor=next_cursor if feed and next_cursor and next_cursor != cursor else None,
        )

    def fetch_replies(self, account: ChannelAccount, ref: RemoteRef) -> list[ThreadComment]:
        """Every reply below the post, by anyone but the account, from its thread.
        Bluesky keeps no edit history (a post cannot be edited), so versions come only
        from what the archive itself saw.
        Docs: https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread"""
        session = self._session(account)
        body = self._call(
            account,
            "GET",
            "app.bsky.feed.getPostThread",
            params={"uri": _uri_of(ref), "depth": THREAD_DEPTH, "parentHeight": 0},
            missing_ok=True,
        )
        if body is None:
            return []  # NotFound: the post itself is gone
        comments: list[ThreadComment] = []

        def walk(node: Mapping[str, Any]) -> None:
            for reply in node.get("replies") or []:
                post = reply.get("post") if isinstance(reply, dict) else None
                if not isinstance(post, dict) or not post.get("uri"):
                    continue  # notFoundPost / blockedPost
                author = post.get("author") or {}
                record = post.get("record") or {}
                if author.get("did") != session.did:
                    uri = str(post["uri"])
                    parent = (record.get("reply") or {}).get("parent") or {}
                    langs = record.get("langs") or []
                    comments.append(
                        ThreadComment(
                            ref=RemoteRef(
                                remote_id=uri,
                                url=post_url(str(author.get("did") or split_at_uri(uri)[0]), uri),
                                extra={"uri": uri, "cid": str(post.get("cid") or "")},
                            ),
                            author_handle=str(author.get("handle") or ""),
                            author_name=str(
                                author.get("displayName") or author.get("handle") or ""
                            ),
                            author_id=str(author.get("did") or ""),
                            text=str(record.get("text") or ""),
                            created_at=_parse_time(record.get("createdAt"))
                            or _parse_time(post.get("indexedAt")),
                            in_reply_to_id=str(parent.get("uri") or ""),
                            language=str(langs[0]) if langs else "",
                        )
                    )
                walk(reply)

        thread = body.get("thread")
        if isinstance(thread, dict):
            walk(thread)
        return comments


def _found_post(post: Mapping[str, Any]) -> FoundPost | None:
    """A post view (app.bsky.feed.defs#postView) from a search, as a found post."""
    uri = str(post.get("uri") or "")
    if not uri:
        return None
    record = post.get("record") or {}
    author = post.get("author") or {}
    author_did = str(author.get("did") or "") or uri.removeprefix("at://").split("/")[0]
    langs = record.get("langs") or []
    return FoundPost(
        remote_id=uri,
        url=post_url(author_did, uri),
        author_handle=str(author.get("handle") or ""),
        author_name=str(author.get("displayName") or ""),
        author_id=author_did,
        text=str(record.get("text") or ""),
        created_at=_parse_time(record.get("createdAt")) or _parse_time(post.get("indexedAt")),
        language=str(langs[0]) if isinstance(langs, list) and langs else "",
        likes=int(post.get("likeCount") or 0),
        shares=int(post.get("repostCount") or 0),
        replies=int(post.get("replyCount") or 0),
        quotes=int(post.get("quoteCount") or 0),
        extra={"uri": uri, "cid": str(post.get("cid") or "")},
    )


def _xrpc_error(response: http.HttpResponse) -> tuple[str, str]:
    """The XRPC error name and message of a failed answer."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:300].strip()
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def _require_active(session: Mapping[str, Any]) -> None:
    """A taken-down, suspended or deactivated account cannot post: reconnecting (after
    sorting it out with Bluesky) is what it needs."""
    if session.get("active") is False:
        raise AuthError(
            gettext("Bluesky says this account is %(status)s.")
            % {"status": str(session.get("status") or gettext("not active"))}
        )


def _main_password_message() -> str:
    return gettext(
        "This is the account's main password. Make an app password for GovSocial in "
        "Bluesky (Settings → Privacy and security → App passwords) and use that instead."
    )


def _recent_post(post: Mapping[str, Any], *, extra: Mapping[str, str] | None = None) -> RecentPost:
    """A record (getRecord's answer, or a post view) as a RecentPost."""
    uri, cid = str(post["uri"]), str(post.get("cid") or "")
    value = post.get("value") or post.get("record") or {}
    parent = (value.get("reply") or {}).get("parent") or {}
    did = split_at_uri(uri)[0]
    return RecentPost(
        ref=RemoteRef(
            remote_id=uri,
            url=post_url(did, uri),
            extra={"uri": uri, "cid": cid, "rkey": uri.rsplit("/", 1)[-1], **(extra or {})},
        ),
        text=str(value.get("text") or ""),
        created_at=_parse_time(value.get("createdAt")),
        reply_to_id=str(parent.get("uri") or ""),
    )


_KIND_PREFERENCE = {"reply": 0, "quote": 1, "mention": 2}


def _keep_notification(
    fresh: dict[str, tuple[datetime, Mapping[str, Any]]],
    uri: str,
    moment: datetime,
    notification: Mapping[str, Any],
) -> None:
    """One item per post: a reply that also mentions us is a reply."""
    kept = fresh.get(uri)
    reason = str(notification.get("reason"))
    if kept is None or _KIND_PREFERENCE[reason] < _KIND_PREFERENCE[str(kept[1].get("reason"))]:
        fresh[uri] = (moment, notification)


def _next_inbox_cursor(state: _InboxCursor | None, window: Mapping[str, datetime]) -> str:
    """The cursor after a sync that saw ``window`` (URI → time)."""
    if not window and state is None:
        # A first sync that found nothing starts at "now": without a cursor the next
        # sync would read only the newest page again, and lose the rest of a burst.
        # The look-back (``INBOX_OVERLAP``) covers a clock a little off from the AppView's.
        return _InboxCursor(datetime.now(tz=UTC), frozenset()).dump()
    newest = max([*window.values(), *([state.newest] if state is not None else [])])
    recent = sorted(
        (uri for uri, moment in window.items() if moment >= newest - INBOX_OVERLAP),
        key=lambda uri: window[uri],
        reverse=True,
    )
    return _InboxCursor(newest, frozenset(recent[:INBOX_SEEN_MAX])).dump()


def _quoted(embed: Any) -> RemoteRef | None:
    """The post a quote embeds (``app.bsky.embed.record``, or with media)."""
    if not isinstance(embed, Mapping):
        return None
    record = embed.get("record")
    if isinstance(record, Mapping) and isinstance(record.get("record"), Mapping):
        record = record["record"]  # app.bsky.embed.recordWithMedia
    return _strong_ref(record)


def _history_post(post: Mapping[str, Any]) -> HistoryPost:
    """A post view of the account's own post, for the archive."""
    recent = _recent_post(post)
    record = post.get("record") or {}
    langs = record.get("langs") or []
    embed = post.get("embed") or {}
    images = embed.get("images") or (embed.get("media") or {}).get("images") or []
    replies = post.get("replyCount")
    return HistoryPost(
        ref=recent.ref,
        text=recent.text,
        created_at=recent.created_at or _parse_time(post.get("indexedAt")),
        language=str(langs[0]) if langs else "",
        reply_to_id=recent.reply_to_id,
        media=tuple(
            ArchiveMedia(
                url=str(image.get("fullsize") or image.get("thumb") or ""),
                alt_text=str(image.get("alt") or ""),
                mime_type="image/*",
            )
            for image in images
            if isinstance(image, dict)
        ),
        replies=replies if isinstance(replies, int) else None,
        raw={"cid": str(post.get("cid") or "")},
    )
