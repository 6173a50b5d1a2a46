"""A small Mastodon server for the tests, served on 127.0.0.1 in a background thread.

It follows the documented API (mastodon/documentation ``methods/{apps,oauth,
statuses,media,notifications,accounts,instance}.md``, ``client/quotes.md``),
including its errors, for the parts GovSocial uses: app registration, OAuth
with PKCE (S256) and revocation, verify_credentials, statuses with
``Idempotency-Key``, media that processes asynchronously (202, then 206 until
ready), status edits with their history and a status's context (the archive:
``methods/statuses.md#edit``, ``#history``, ``#context``), notifications with ``Link``
pagination, and ``X-RateLimit-*`` headers
with 429 when a configured limit is exceeded. Switches make it fail
(``fail_next``) or hang (``hang``) for fault tests. State is in memory, per
server.

It also gives the shapes a real 4.x server gives (NETWORK-APIS.md, "Shapes of
real answers"), which the reference pages alone do not show:

- the default notification policy (4.3+) filters private mentions from
  accounts the user does not follow, and notifications from limited
  (silenced) accounts: ``GET /api/v1/notifications`` leaves them out unless
  ``include_filtered=true``; they are listed under notification requests;
- status HTML as Mastodon's formatter writes it: h-card mentions showing
  ``@username`` only (a ``mentions`` list carries the ``acct``), hashtag
  anchors, links shortened with invisible and ellipsis spans, and on a quote
  post (4.5) a ``quote-inline`` "RE: <link>" paragraph before the text;
- notifications whose ``status`` is null, display names that are "";
- an unknown path answers 404 with an empty ``text/html`` body;
- rate limits per endpoint (the API, media uploads, deletes), each window
  aligned to the clock as rack-attack does, resets with microseconds;
- in limited-federation mode the instance endpoints need the token, and an
  older server has no ``/api/v2/instance`` (only v1).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

KNOWN_SCOPES = {
    "read", "write", "follow", "push", "profile",
    "read:accounts", "read:statuses", "read:notifications", "read:follows", "read:search",
    "write:statuses", "write:media", "write:accounts", "write:follows", "write:notifications",
}  # fmt: skip
IDEMPOTENCY_SECONDS = 3600
URL_RE = re.compile(r"https?://\S+")
# What Mastodon's formatter links: URLs, @user and @user@domain mentions, #hashtags
# (app/lib/text_formatter.rb with twitter-text's patterns, simplified).
TOKEN_RE = re.compile(
    r"(?P<url>https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'])"
    r"|(?<![/\w@])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)"
    r"(?:@(?P<domain>[\w.-]+\w))?"
    r"|(?<![=/)\w#])#(?P<tag>\w*[^\W\d_]\w*)",
    re.IGNORECASE,
)
# The notification policy a 4.3+ server starts with (entities/NotificationPolicy.md).
DEFAULT_POLICY = {
    "for_not_following": "accept",
    "for_not_followers": "accept",
    "for_new_accounts": "accept",
    "for_private_mentions": "filter",
    "for_limited_accounts": "filter",
}
# rack-attack throttles (config/initializers/rack_attack.rb): name → (limit, period s).
THROTTLES = {
    "throttle_authenticated_api": (300, 300),
    "throttle_media": (30, 1800),
    "throttle_statuses_delete": (30, 1800),
}

Response = tuple[int, dict[str, str], bytes]


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body


def _iso_micro(moment: datetime) -> str:
    """Ruby's ``Time#iso8601(6)`` in UTC, as rate-limit resets are written."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class App:
    id: str
    name: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: set[str]
    website: str = ""


@dataclass
class Account:
    id: str
    username: str
    display_name: str
    followers_count: int = 0
    following_count: int = 0
    # None for an account of this server; else the remote server's domain.
    domain: str | None = None
    # Limited ("silenced") by a moderator.
    silenced: bool = False
    # Ids of the accounts this one follows.
    follows: set[str] = field(default_factory=set)


@dataclass
class Token:
    token: str
    client_id: str
    account_id: str
    scopes: set[str]
    revoked: bool = False


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scopes: set[str]
    account_id: str
    code_challenge: str
    code_challenge_method: str
    used: bool = False


@dataclass
class Media:
    id: str
    account_id: str
    description: str
    mime_type: str
    processing_left: int
    attached: bool = False


@dataclass
class Status:
    id: str
    account_id: str
    text: str
    visibility: str
    created_at: datetime
    spoiler_text: str = ""
    language: str | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    sensitive: bool = False
    favourites_count: int = 0
    reblogs_count: int = 0
    replies_count: int = 0
    deleted: bool = False
    quoted_status_id: str | None = None
    quote_state: str = "accepted"
    # Edits (methods/statuses.md#edit): when last edited, and every earlier version
    # as (text, spoiler_text, created_at), oldest first, for the status history.
    edited_at: datetime | None = None
    earlier_versions: list[tuple[str, str, datetime]] = field(default_factory=list)
    # A status federated from another server keeps its origin's ``uri`` ("URI of the
    # status used for federation") and ``url`` ("can be remote"), with a local ``id``
    # of this server's own (https://docs.joinmastodon.org/entities/Status/#uri).
    origin_uri: str = ""
    origin_url: str = ""


@dataclass
class Notification:
    id: str
    type: str
    account_id: str  # who is notified
    from_account_id: str
    status_id: str | None
    created_at: datetime
    filtered: bool = False


@dataclass
class NotificationRequest:
    """Filtered notifications from one account (entities/NotificationRequest.md)."""

    id: str
    account_id: str
    from_account_id: str
    created_at: datetime
    updated_at: datetime
    notifications_count: int = 0
    last_status_id: str | None = None
    dismissed: bool = False


@dataclass
class Failure:
    status: int
    method: str | None
    path_prefix: str | None
    times: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Hang:
    method: str | None
    path_prefix: str | None
    after_processing: bool


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> Any:
        return io.StringIO()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class MastodonTestServer:
    def __init__(
        self, *, domain: str = "social.example", first_id: int = 110_000_000_000_000_001
    ) -> None:
        self.domain = domain
        self.max_characters = 500
        self.max_media_attachments = 4
        # How many times GET /api/v1/media/:id answers 206 before the image is ready;
        # above 0, POST /api/v2/media answers 202 with a null url.
        self.media_processing_polls = 0
        # Videos are always processed in the background (docs.joinmastodon.org/methods/
        # media/#v2: "202 Accepted: MediaAttachment was created successfully, but the
        # full-size file is still processing"): GET /api/v1/media/:id answers
        # "206 Partial content: MediaAttachment is still being processed" this many times.
        self.video_processing_polls = 2
        self.video_size_limit = 99 * 1024 * 1024
        # What each uploaded video's bytes were (to check what arrived), by media id.
        self.media_bytes: dict[str, bytes] = {}
        # API requests per token allowed in the current five minutes (None: the
        # documented 300, enforced only when set).
        self.rate_limit: int | None = None
        # Every throttle's (limit, period in seconds), enforced where they apply.
        self.throttles: dict[str, tuple[int, int]] = dict(THROTTLES)
        # Limited-federation mode: even the public instance endpoints need a token.
        self.limited_federation = False
        # An older server (< 4.0) has /api/v1/instance only.
        self.instance_v2 = True
        # Full-text search of statuses needs Elasticsearch configured on the instance
        # (admin/elasticsearch.md); without it GET /api/v2/search finds no statuses by text.
        self.full_text_search = True
        # "Show trends / public preview": off, the tag timeline needs a signed-in token.
        self.public_preview = True
        # Each account's notification policy (DEFAULT_POLICY unless changed).
        self.policies: dict[str, dict[str, str]] = {}
        self.notification_requests: dict[str, NotificationRequest] = {}
        self.requests: list[LoggedRequest] = []
        # Waits the client would have slept (the fixture records instead of sleeping).
        self.client_waits: list[float] = []
        self.apps: dict[str, App] = {}
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}
        self.grants: dict[str, Grant] = {}
        self.media: dict[str, Media] = {}
        self.statuses: dict[str, Status] = {}
        self.notifications: dict[str, Notification] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, datetime]] = {}
        # (throttle, token, window start) → requests counted.
        self._usage: dict[tuple[str, str, int], int] = {}
        # (recipient, sender) pairs whose notifications are always accepted.
        self._permissions: set[tuple[str, str]] = set()
        self._failures: list[Failure] = []
        self._hangs: list[Hang] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        # Each server numbers its own statuses: give two servers different starts to
        # see one status under two local ids.
        self._ids = itertools.count(first_id)
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # The person who approves on /oauth/authorize.
        self.user = self.create_account("comms", "City of Example")

    # --- running -----------------------------------------------------------------

    def start(self) -> MastodonTestServer:
        self._httpd = make_server(
            "127.0.0.1",
            0,
            self.wsgi,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        assert self._httpd is not None
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- switches and helpers for tests --------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        times: int = 1,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (before doing anything)."""
        default = {"error": "We're sorry, but something went wrong on our end."}
        with self._lock:
            self._failures.append(
                Failure(status, method, path_prefix, times, body or default, headers or {})
            )

    def hang(
        self, *, method: str | None = None, path_prefix: str | None = None, after_processing: bool
    ) -> None:
        """Hold matching requests until :meth:`release` (or the server stops). With
        ``after_processing`` the request takes effect first and only the answer is held."""
        with self._lock:
            self._released.clear()
            self._hangs.append(Hang(method, path_prefix, after_processing))

    def release(self) -> None:
        with self._lock:
            self._hangs.clear()
        self._released.set()

    def new_id(self) -> str:
        return str(next(self._ids))

    def create_account(
        self,
        username: str,
        display_name: str = "",
        *,
        domain: str | None = None,
        silenced: bool = False,
        **counts: int,
    ) -> Account:
        """An account; its display name stays "" unless given, as on real servers."""
        account = Account(
            self.new_id(),
            username,
            display_name,
            followers_count=counts.get("followers_count", 0),
            following_count=counts.get("following_count", 0),
            domain=domain,
            silenced=silenced,
        )
        self.accounts[account.id] = account
        return account

    def follow(self, follower: Account, followed: Account) -> None:
        follower.follows.add(followed.id)

    def policy_of(self, account: Account) -> dict[str, str]:
        return self.policies.setdefault(account.id, dict(DEFAULT_POLICY))

    def notify_without_status(self, recipient: Account, sender: Account, kind: str) -> None:
        """A notification whose ``status`` is null (as real servers answer when the
        status is gone or cannot be shown)."""
        with self._lock:
            self._notify(recipient.id, kind, sender.id, None)

    def issue_token(
        self, account: Account | None = None, *, scopes: Iterable[str] | None = None
    ) -> str:
        """A token as if the OAuth flow had run (for tests about other things)."""
        app = self._register_app("Test", ["urn:ietf:wg:oauth:2.0:oob"], "read write")
        token = Token(
            secrets.token_urlsafe(32),
            app.client_id,
            (account or self.user).id,
            set(scopes or {"read", "write"}),
        )
        self.tokens[token.token] = token
        return token.token

    def post_as(
        self,
        author: Account,
        text: str,
        *,
        mention: Account | None = None,
        in_reply_to: str | None = None,
        visibility: str = "public",
        quote: Status | None = None,
        language: str = "en",
    ) -> Status:
        """Someone else posts; the accounts it mentions (in the text or with
        ``mention``), and the one it answers, get a notification, filtered or not
        by their policy. A ``quote`` (4.5) notifies the quoted post's author."""
        with self._lock:
            parent = self.statuses.get(in_reply_to) if in_reply_to else None
            status = self._create_status(
                author,
                text=text,
                visibility=visibility,
                in_reply_to=parent,
                spoiler_text="",
                language=language,
                media_ids=[],
            )
            if quote is not None:
                status.quoted_status_id = quote.id
            notified = {a.id for a in self._mentioned(status)}
            if mention is not None:
                notified.add(mention.id)
            if parent is not None and parent.account_id != author.id:
                notified.add(parent.account_id)
            notified.discard(author.id)
            quoted_author = quote.account_id if quote is not None else None
            for account_id in sorted(notified):
                kind = "quote" if account_id == quoted_author else "mention"
                self._notify(account_id, kind, author.id, status.id)
            if quoted_author and quoted_author not in notified and quoted_author != author.id:
                self._notify(quoted_author, "quote", author.id, status.id)
            return status

    def federate(self, origin: MastodonTestServer, status: Status, *, author: Account) -> Status:
        """``status`` of ``origin`` as this server stores it once it has federated:
        under a local id of its own, by ``author`` (this server's record of the remote
        account, ``domain`` set), keeping the origin's ``uri`` and ``url``."""
        origin_json = origin._status_json(status)
        with self._lock:
            copy = self._create_status(
                author,
                text=status.text,
                visibility=status.visibility,
                in_reply_to=None,
                spoiler_text=status.spoiler_text,
                language=status.language,
                media_ids=[],
            )
            copy.created_at = status.created_at
            copy.origin_uri = origin_json["uri"]
            copy.origin_url = origin_json["url"]
            return copy

    def approve(self, authorization_url: str) -> dict[str, str]:
        """Play the person's browser: open the sign-in address and return the query of
        the redirect back to the app (``code`` and ``state``, or ``error``)."""
        import requests

        response = requests.get(authorization_url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location:
            raise AssertionError(f"authorize answered {response.status_code}: {response.text}")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def statuses_of(self, account: Account) -> list[Status]:
        return [s for s in self.statuses.values() if s.account_id == account.id and not s.deleted]

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- the WSGI app ---------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            self.requests.append(LoggedRequest(method, path, query, headers))
            hang = self._matching_hang(method, path)
            failure = self._take_failure(method, path)
        if hang is not None and not hang.after_processing:
            self._released.wait(timeout=30)
        if failure is not None:
            status, extra, payload = (
                failure.status,
                failure.headers,
                json.dumps(failure.body).encode(),
            )
            extra = {"Content-Type": "application/json", **extra}
        else:
            status, extra, payload = self._dispatch(method, path, query, headers, body)
        if hang is not None and hang.after_processing:
            self._released.wait(timeout=30)
        reason = {
            200: "OK", 202: "Accepted", 206: "Partial Content", 302: "Found",
            400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            409: "Conflict", 422: "Unprocessable Content", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout",
        }.get(status, "Status")  # fmt: skip
        start_response(f"{status} {reason}", list(extra.items()))
        return [payload]

    def _matching_hang(self, method: str, path: str) -> Hang | None:
        for hang in self._hangs:
            if (hang.method in (None, method)) and path.startswith(hang.path_prefix or ""):
                return hang
        return None

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.method in (None, method) and path.startswith(failure.path_prefix or ""):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _dispatch(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("POST", r"/api/v1/apps", self.create_app),
            ("GET", r"/oauth/authorize", self.authorize),
            ("POST", r"/oauth/token", self.token),
            ("POST", r"/oauth/revoke", self.revoke),
            ("GET", r"/api/v2/instance", self.instance),
            ("GET", r"/api/v1/instance", self.instance_v1),
            ("GET", r"/api/v1/accounts/verify_credentials", self.verify_credentials),
            ("GET", r"/api/v1/accounts/(?P<id>\w+)/statuses", self.account_statuses),
            ("POST", r"/api/v1/statuses", self.create_status),
            ("GET", r"/api/v1/statuses/(?P<id>\w+)", self.get_status),
            ("DELETE", r"/api/v1/statuses/(?P<id>\w+)", self.delete_status),
            ("PUT", r"/api/v1/statuses/(?P<id>\w+)", self.edit_status),
            ("GET", r"/api/v1/statuses/(?P<id>\w+)/history", self.status_history),
            ("GET", r"/api/v1/statuses/(?P<id>\w+)/context", self.status_context),
            ("POST", r"/api/v2/media", self.upload_media),
            ("GET", r"/api/v1/media/(?P<id>\w+)", self.get_media),
            ("GET", r"/api/v1/notifications", self.list_notifications),
            ("GET", r"/api/v1/timelines/tag/(?P<hashtag>[^/]+)", self.tag_timeline),
            ("GET", r"/api/v2/search", self.search),
            ("GET", r"/api/v2/notifications/policy", self.notification_policy),
            ("GET", r"/api/v1/notifications/requests", self.list_notification_requests),
            (
                "POST",
                r"/api/v1/notifications/requests/(?P<id>\w+)/accept",
                self.accept_notification_request,
            ),
        ]
        if not self.instance_v2:
            routes = [route for route in routes if route[1] != r"/api/v2/instance"]
        request = _Request(method, path, query, headers, body)
        try:
            for route_method, pattern, handler in routes:
                match = re.fullmatch(pattern, path)
                if match and route_method == method:
                    with self._lock:
                        result: Response = handler(request, **match.groupdict())
                    return result
            # Rails' catch-all route: an unknown path is a 404 with an empty HTML body.
            return 404, {"Content-Type": "text/html; charset=utf-8"}, b""
        except HttpError as exc:
            extra = getattr(exc, "headers", {})
            return (
                exc.status,
                {"Content-Type": "application/json", **extra},
                json.dumps(exc.body).encode(),
            )

    # --- auth ------------------------------------------------------------------------

    def _authenticate(self, request: _Request, *scopes: str) -> tuple[Token, dict[str, str]]:
        auth = request.headers.get("Authorization", "")
        token = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None or token.revoked:
            raise HttpError(401, {"error": "The access token is invalid"})
        rate_headers = self._count_request(token, request)
        for scope in scopes:
            if scope not in token.scopes and scope.split(":")[0] not in token.scopes:
                raise HttpError(403, {"error": "This action is outside the authorized scopes"})
        return token, rate_headers

    def _throttles_for(self, request: _Request) -> list[str]:
        names = ["throttle_authenticated_api"]
        if request.method == "POST" and request.path in ("/api/v1/media", "/api/v2/media"):
            names.append("throttle_media")
        if request.method == "DELETE" and request.path.startswith("/api/v1/statuses/"):
            names.append("throttle_statuses_delete")
        return names

    def _count_request(self, token: Token, request: _Request) -> dict[str, str]:
        """Count the request in every throttle that applies (rack-attack: fixed windows
        aligned to the clock). The headers describe the throttle closest to exhaustion
        (app/controllers/concerns/rate_limit_headers.rb); reset has microseconds."""
        now = datetime.now(UTC)
        tightest: tuple[int, int, datetime] | None = None
        exceeded = False
        for name in self._throttles_for(request):
            limit, period = self.throttles[name]
            if name == "throttle_authenticated_api" and self.rate_limit is not None:
                limit = self.rate_limit
            epoch = int(now.timestamp())
            window = epoch - epoch % period
            key = (name, token.token, window)
            used = self._usage.get(key, 0) + 1
            self._usage[key] = used
            remaining = max(limit - used, 0)
            reset_at = datetime.fromtimestamp(window + period, tz=UTC)
            if tightest is None or remaining < tightest[1]:
                tightest = (limit, remaining, reset_at)
            enforced = name != "throttle_authenticated_api" or self.rate_limit is not None
            exceeded = exceeded or (enforced and used > limit)
        assert tightest is not None
        limit, remaining, reset_at = tightest
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": _iso_micro(reset_at),
        }
        if exceeded:
            raise _RateLimited(headers)
        return headers

    # --- apps and OAuth -------------------------------------------------------------------

    def _register_app(self, name: str, redirect_uris: list[str], scopes: str) -> App:
        app = App(
            id=self.new_id(),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=redirect_uris,
            scopes=set(scopes.split()),
        )
        self.apps[app.client_id] = app
        return app

    def create_app(self, request: _Request) -> Response:
        data = request.data()
        name = str(data.get("client_name") or "").strip()
        raw_uris = data.get("redirect_uris") or ""
        uris = raw_uris if isinstance(raw_uris, list) else str(raw_uris).split()
        scopes = str(data.get("scopes") or "read")
        errors = []
        if not name:
            errors.append("Name can't be blank")
        if not uris:
            errors.append("Redirect URI can't be blank")
        if not set(scopes.split()) <= KNOWN_SCOPES:
            errors.append("Scopes are invalid")
        if errors:
            raise HttpError(422, {"error": "Validation failed: " + ", ".join(errors)})
        app = self._register_app(name, uris, scopes)
        app.website = str(data.get("website") or "")
        return _json(
            200,
            {
                "id": app.id,
                "name": app.name,
                "website": app.website or None,
                "scopes": sorted(app.scopes),
                "redirect_uri": "\n".join(app.redirect_uris),
                "redirect_uris": app.redirect_uris,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
            },
        )

    def authorize(self, request: _Request) -> Response:
        """Approves at once as ``self.user`` and redirects back with a code (no form)."""
        q = {k: v[0] for k, v in request.query.items()}
        app = self.apps.get(q.get("client_id", ""))
        if app is None or q.get("redirect_uri") not in app.redirect_uris:
            body = "<h1>An error has occurred</h1><p>Client authentication failed.</p>"
            return 400, {"Content-Type": "text/html"}, body.encode()
        redirect_uri = q["redirect_uri"]
        scopes = set(q.get("scope", "read").split())
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", **state})
        if not scopes <= app.scopes:
            return _redirect(redirect_uri, {"error": "invalid_scope", **state})
        method = q.get("code_challenge_method", "")
        if q.get("code_challenge") and method != "S256":
            return _redirect(redirect_uri, {"error": "invalid_request", **state})
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            account_id=self.user.id,
            code_challenge=q.get("code_challenge", ""),
            code_challenge_method=method,
        )
        return _redirect(redirect_uri, {"code": code, **state})

    def _client(self, data: dict[str, Any], request: _Request) -> App:
        client_id, client_secret = data.get("client_id"), data.get("client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
        app = self.apps.get(str(client_id or ""))
        if app is None or not secrets.compare_digest(app.client_secret, str(client_secret or "")):
            raise HttpError(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to unknown client, "
                    "no client authentication included, or unsupported authentication method.",
                },
            )
        return app

    def token(self, request: _Request) -> Response:
        data = request.data()
        app = self._client(data, request)
        if data.get("grant_type") != "authorization_code":
            raise HttpError(400, {"error": "unsupported_grant_type"})
        invalid_grant = HttpError(
            400,
            {
                "error": "invalid_grant",
                "error_description": "The provided authorization grant is invalid, expired, "
                "revoked, does not match the redirection URI used in the authorization request, "
                "or was issued to another client.",
            },
        )
        grant = self.grants.get(str(data.get("code") or ""))
        if (
            grant is None
            or grant.used
            or grant.client_id != app.client_id
            or grant.redirect_uri != data.get("redirect_uri")
        ):
            raise invalid_grant
        if grant.code_challenge:
            verifier = str(data.get("code_verifier") or "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not verifier or not secrets.compare_digest(expected, grant.code_challenge):
                raise invalid_grant
        grant.used = True
        token = Token(secrets.token_urlsafe(32), app.client_id, grant.account_id, grant.scopes)
        self.tokens[token.token] = token
        return _json(
            200,
            {
                "access_token": token.token,
                "token_type": "Bearer",
                "scope": " ".join(sorted(token.scopes)),
                "created_at": int(datetime.now(UTC).timestamp()),
            },
        )

    def revoke(self, request: _Request) -> Response:
        data = request.data()
        app = self._client(data, request)
        token = self.tokens.get(str(data.get("token") or ""))
        if token is not None:
            if token.client_id != app.client_id:
                raise HttpError(
                    403,
                    {
                        "error": "unauthorized_client",
                        "error_description": "You are not authorized to revoke this token",
                    },
                )
            token.revoked = True
        return _json(200, {})

    # --- instance and accounts ----------------------------------------------------------

    def _public(self, request: _Request) -> dict[str, str]:
        """A public endpoint: open to all, except in limited-federation mode, where it
        needs a user token (Api::BaseController#require_authenticated_user!)."""
        if not self.limited_federation:
            return {}
        auth = request.headers.get("Authorization", "")
        token = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None or token.revoked:
            raise HttpError(401, {"error": "This API requires an authenticated user"})
        return self._count_request(token, request)

    def _configuration(self) -> dict[str, Any]:
        return {
            "statuses": {
                "max_characters": self.max_characters,
                "max_media_attachments": self.max_media_attachments,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": [
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    "video/mp4",
                    "video/webm",
                    "video/quicktime",
                ],
                "image_size_limit": 16777216,
                "video_size_limit": self.video_size_limit,
                "description_limit": 1500,
            },
        }

    def instance(self, request: _Request) -> Response:
        """``GET /api/v2/instance`` (methods/instance.md#v2)."""
        rate = self._public(request)
        return _json(
            200,
            {
                "domain": self.domain,
                "title": "Test instance",
                "version": "4.5.0",
                "configuration": self._configuration(),
            },
            rate,
        )

    def instance_v1(self, request: _Request) -> Response:
        """``GET /api/v1/instance`` (methods/instance.md#v1; the domain is ``uri``)."""
        rate = self._public(request)
        return _json(
            200,
            {
                "uri": self.domain,
                "title": "Test instance",
                "version": "3.5.3" if not self.instance_v2 else "4.5.0",
                "configuration": self._configuration(),
            },
            rate,
        )

    def _acct(self, account: Account) -> str:
        return f"{account.username}@{account.domain}" if account.domain else account.username

    def _profile_url(self, account: Account) -> str:
        return f"https://{account.domain or self.domain}/@{account.username}"

    def _account_json(self, account: Account) -> dict[str, Any]:
        statuses = len(self.statuses_of(account))
        return {
            "id": account.id,
            "username": account.username,
            "acct": self._acct(account),
            "display_name": account.display_name,
            "url": self._profile_url(account),
            "followers_count": account.followers_count,
            "following_count": account.following_count,
            "statuses_count": statuses,
        }

    def verify_credentials(self, request: _Request) -> Response:
        token, rate = self._authenticate(request, "read:accounts")
        return _json(200, self._account_json(self.accounts[token.account_id]), rate)

    def account_statuses(self, request: _Request, id: str) -> Response:
        _, rate = self._authenticate(request, "read:statuses")
        if id not in self.accounts:
            raise HttpError(404, {"error": "Record not found"})
        statuses = [s for s in self.statuses.values() if s.account_id == id and not s.deleted]
        page, links = _paginate(statuses, request, default_limit=20, max_limit=40)
        return _json(200, [self._status_json(s) for s in page], {**rate, **links})

    # --- statuses -----------------------------------------------------------------------

    def _status_url(self, status: Status) -> str:
        author = self.accounts[status.account_id]
        return f"https://{author.domain or self.domain}/@{author.username}/{status.id}"

    def _find_account(self, username: str, domain: str | None) -> Account | None:
        if domain and domain.lower() == self.domain:
            domain = None
        for account in self.accounts.values():
            same_domain = (account.domain or "").lower() == (domain or "").lower()
            if account.username.lower() == username.lower() and same_domain:
                return account
        return None

    def _mentioned(self, status: Status) -> list[Account]:
        found: dict[str, Account] = {}
        for match in TOKEN_RE.finditer(status.text):
            if match.group("user"):
                account = self._find_account(match.group("user"), match.group("domain"))
                if account is not None:
                    found.setdefault(account.id, account)
        return list(found.values())

    def _render(self, text: str) -> str:
        """Text as Mastodon's formatter writes it (app/lib/text_formatter.rb): links
        shortened with invisible/ellipsis spans, known mentions as h-cards showing the
        username only, hashtags as tag links; paragraphs and line breaks."""
        paragraphs = []
        for paragraph in text.split("\n\n"):
            if not paragraph:
                continue
            out: list[str] = []
            last = 0
            for match in TOKEN_RE.finditer(paragraph):
                out.append(html.escape(paragraph[last : match.start()]))
                out.append(self._render_token(match))
                last = match.end()
            out.append(html.escape(paragraph[last:]))
            paragraphs.append("<p>" + "".join(out).replace("\n", "<br />") + "</p>")
        return "".join(paragraphs)

    def _render_token(self, match: re.Match[str]) -> str:
        if match.group("url"):
            return _link(match.group("url"))
        if match.group("tag"):
            tag = match.group("tag")
            href = f"https://{self.domain}/tags/{tag.lower()}"
            return (
                f'<a href="{href}" class="mention hashtag" rel="tag">'
                f"#<span>{html.escape(tag)}</span></a>"
            )
        account = self._find_account(match.group("user"), match.group("domain"))
        if account is None:
            # An account the server does not know stays plain text.
            return html.escape(match.group(0))
        return (
            f'<span class="h-card" translate="no"><a href="{self._profile_url(account)}" '
            f'class="u-url mention">@<span>{html.escape(account.username)}</span></a></span>'
        )

    def _quote_json(self, status: Status) -> dict[str, Any] | None:
        """``quote`` (entities/Quote.md): the quoted status only once accepted; a
        quoted status's own quote is shallow (entities/ShallowQuote.md)."""
        if status.quoted_status_id is None:
            return None
        quoted = self.statuses.get(status.quoted_status_id)
        state = "deleted" if quoted is None or quoted.deleted else status.quote_state
        return {
            "state": state,
            "quoted_status": (
                self._status_json(quoted, shallow=True)
                if quoted is not None and state == "accepted"
                else None
            ),
        }

    def _status_json(
        self, status: Status, *, with_source: bool = False, shallow: bool = False
    ) -> dict[str, Any]:
        author = self.accounts[status.account_id]
        paragraphs = self._render(status.text)
        if status.quoted_status_id is not None:
            # client/quotes.md: the server adds a fallback "RE: <link>" for clients
            # that do not show quotes; clients that do hide it.
            quoted = self.statuses.get(status.quoted_status_id)
            if quoted is not None:
                paragraphs = (
                    f'<p class="quote-inline">RE: {_link(self._status_url(quoted))}</p>'
                    + paragraphs
                )
        data: dict[str, Any] = {
            "id": status.id,
            "created_at": _iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": status.origin_uri
            or f"https://{author.domain or self.domain}/users/{author.username}"
            f"/statuses/{status.id}",
            "url": status.origin_url or self._status_url(status),
            "replies_count": status.replies_count,
            "reblogs_count": status.reblogs_count,
            "favourites_count": status.favourites_count,
            "content": paragraphs,
            "account": self._account_json(author),
            "media_attachments": [self._media_json(self.media[m]) for m in status.media_ids],
            "mentions": [
                {
                    "id": account.id,
                    "username": account.username,
                    "url": self._profile_url(account),
                    "acct": self._acct(account),
                }
                for account in self._mentioned(status)
            ],
            "tags": [
                {
                    "name": m.group("tag").lower(),
                    "url": f"https://{self.domain}/tags/{m.group('tag').lower()}",
                }
                for m in TOKEN_RE.finditer(status.text)
                if m.group("tag")
            ],
            "emojis": [],
            "quotes_count": sum(
                1 for s in self.statuses.values() if s.quoted_status_id == status.id
            ),
            "edited_at": _iso(status.edited_at) if status.edited_at else None,
        }
        if shallow:
            data["quote"] = (
                {"state": status.quote_state, "quoted_status_id": status.quoted_status_id}
                if status.quoted_status_id
                else None
            )
        else:
            data["quote"] = self._quote_json(status)
        if with_source:
            data["text"] = status.text
        return data

    def _create_status(
        self,
        author: Account,
        *,
        text: str,
        visibility: str,
        in_reply_to: Status | None,
        spoiler_text: str,
        language: str | None,
        media_ids: list[str],
    ) -> Status:
        status = Status(
            id=self.new_id(),
            account_id=author.id,
            text=text,
            visibility=visibility,
            created_at=datetime.now(UTC),
            spoiler_text=spoiler_text,
            language=language,
            in_reply_to_id=in_reply_to.id if in_reply_to else None,
            in_reply_to_account_id=in_reply_to.account_id if in_reply_to else None,
            media_ids=media_ids,
            sensitive=bool(spoiler_text),
        )
        if in_reply_to is not None:
            in_reply_to.replies_count += 1
        self.statuses[status.id] = status
        return status

    def create_status(self, request: _Request) -> Response:
        token, rate = self._authenticate(request, "write:statuses")
        key = request.headers.get("Idempotency-Key", "")
        now = datetime.now(UTC)
        if key:
            seen = self._idempotency.get((token.account_id, key))
            if seen is not None and (now - seen[1]).total_seconds() < IDEMPOTENCY_SECONDS:
                return _json(200, self._status_json(self.statuses[seen[0]]), rate)
        data = request.data()
        text = str(data.get("status") or "")
        spoiler = str(data.get("spoiler_text") or "")
        media_ids = [str(m) for m in (data.get("media_ids") or data.get("media_ids[]") or [])]
        visibility = str(data.get("visibility") or "public")
        if visibility not in ("public", "unlisted", "private", "direct"):
            raise HttpError(
                422, {"error": "Validation failed: Visibility is not included in the list"}
            )
        if not text.strip() and not media_ids:
            raise HttpError(422, {"error": "Validation failed: Text can't be blank"})
        countable = URL_RE.sub("x" * 23, text + spoiler)
        if len(countable) > self.max_characters:
            raise HttpError(
                422,
                {
                    "error": "Validation failed: Text character limit of "
                    f"{self.max_characters} exceeded"
                },
            )
        if len(media_ids) > self.max_media_attachments:
            raise HttpError(422, {"error": "Validation failed: Media attachments are too many"})
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.account_id != token.account_id:
                raise HttpError(422, {"error": "Validation failed: Media attachments are invalid"})
            if media.processing_left > 0:
                raise HttpError(
                    422,
                    {
                        "error": "Cannot attach files that have not finished processing. "
                        "Try again in a moment!"
                    },
                )
        parent = None
        if data.get("in_reply_to_id"):
            parent = self.statuses.get(str(data["in_reply_to_id"]))
            if parent is None or parent.deleted:
                raise HttpError(404, {"error": "Record not found"})
        status = self._create_status(
            self.accounts[token.account_id],
            text=text,
            visibility=visibility,
            in_reply_to=parent,
            spoiler_text=spoiler,
            language=str(data["language"]) if data.get("language") else None,
            media_ids=media_ids,
        )
        status.sensitive = bool(data.get("sensitive")) or bool(spoiler)
        for media_id in media_ids:
            self.media[media_id].attached = True
        if key:
            self._idempotency[(token.account_id, key)] = (status.id, now)
        return _json(200, self._status_json(status), rate)

    def get_status(self, request: _Request, id: str) -> Response:
        _, rate = self._authenticate(request, "read:statuses")
        status = self.statuses.get(id)
        if status is None or status.deleted:
            raise HttpError(404, {"error": "Record not found"})
        return _json(200, self._status_json(status), rate)

    def delete_status(self, request: _Request, id: str) -> Response:
        token, rate = self._authenticate(request, "write:statuses")
        status = self.statuses.get(id)
        if status is None or status.deleted:
            raise HttpError(404, {"error": "Record not found"})
        if status.account_id != token.account_id:
            raise HttpError(403, {"error": "This action is not allowed"})
        status.deleted = True
        return _json(200, self._status_json(status, with_source=True), rate)

    # --- edits, history and context (the archive) ----------------------------------------

    def _edit(self, status: Status, text: str, spoiler_text: str | None = None) -> None:
        moment = status.edited_at or status.created_at
        status.earlier_versions.append((status.text, status.spoiler_text, moment))
        status.text = text
        if spoiler_text is not None:
            status.spoiler_text = spoiler_text
        status.edited_at = datetime.now(UTC)

    def edit_as(self, status: Status, text: str) -> Status:
        """The author edits the status in Mastodon's own app."""
        with self._lock:
            self._edit(status, text)
            return status

    def delete_as(self, status: Status) -> None:
        """The author deletes the status in Mastodon's own app."""
        with self._lock:
            status.deleted = True
            parent = self.statuses.get(status.in_reply_to_id or "")
            if parent is not None:
                parent.replies_count = max(parent.replies_count - 1, 0)

    def edit_status(self, request: _Request, id: str) -> Response:
        """PUT /api/v1/statuses/:id: only the author may edit; answers the Status.
        Docs: https://docs.joinmastodon.org/methods/statuses/#edit"""
        token, rate = self._authenticate(request, "write:statuses")
        status = self.statuses.get(id)
        if status is None or status.deleted:
            raise HttpError(404, {"error": "Record not found"})
        if status.account_id != token.account_id:
            raise HttpError(403, {"error": "This action is not allowed"})
        data = request.data()
        text = str(data.get("status") or "")
        if not text.strip() and not status.media_ids:
            raise HttpError(422, {"error": "Validation failed: Text can't be blank"})
        spoiler = data.get("spoiler_text")
        self._edit(status, text, str(spoiler) if spoiler is not None else None)
        return _json(200, self._status_json(status), rate)

    def status_history(self, request: _Request, id: str) -> Response:
        """GET /api/v1/statuses/:id/history: StatusEdit entities, the original first and
        the current version last; a status never edited has one entry.
        Docs: https://docs.joinmastodon.org/methods/statuses/#history
        (entity: https://docs.joinmastodon.org/entities/StatusEdit/)"""
        _, rate = self._authenticate(request, "read:statuses")
        status = self.statuses.get(id)
        if status is None or status.deleted:
            raise HttpError(404, {"error": "Record not found"})
        author = self._account_json(self.accounts[status.account_id])
        versions = [
            *status.earlier_versions,
            (status.text, status.spoiler_text, status.edited_at or status.created_at),
        ]
        media = [self._media_json(self.media[m]) for m in status.media_ids]
        body = [
            {
                "content": self._render(text),
                "spoiler_text": spoiler,
                "sensitive": bool(spoiler),
                "created_at": _iso(moment),
                "account": author,
                "poll": None,
                "media_attachments": media,
                "emojis": [],
            }
            for text, spoiler, moment in versions
        ]
        return _json(200, body, rate)

    def status_context(self, request: _Request, id: str) -> Response:
        """GET /api/v1/statuses/:id/context: ``ancestors`` and ``descendants`` (the
        whole tree below, depth first in time order); deleted statuses are left out.
        Docs: https://docs.joinmastodon.org/methods/statuses/#context
        (entity: https://docs.joinmastodon.org/entities/Context/)"""
        _, rate = self._authenticate(request, "read:statuses")
        status = self.statuses.get(id)
        if status is None or status.deleted:
            raise HttpError(404, {"error": "Record not found"})
        ancestors: list[Status] = []
        parent = self.statuses.get(status.in_reply_to_id or "")
        while parent is not None and not parent.deleted:
            ancestors.insert(0, parent)
            parent = self.statuses.get(parent.in_reply_to_id or "")
        descendants: list[Status] = []

        def walk(of: Status) -> None:
            children = sorted(
                (s for s in self.statuses.values() if s.in_reply_to_id == of.id and not s.deleted),
                key=lambda s: int(s.id),
            )
            for child in children:
                descendants.append(child)
                walk(child)

        walk(status)
        body = {
            "ancestors": [self._status_json(s) for s in ancestors],
            "descendants": [self._status_json(s) for s in descendants],
        }
        return _json(200, body, rate)

    # --- media -------------------------------------------------------------------------

    def _media_json(self, media: Media) -> dict[str, Any]:
        ready = media.processing_left <= 0
        video = media.mime_type.startswith("video/")
        extension = "mp4" if video else "png"
        return {
            "id": media.id,
            "type": "video" if video else "image",
            "url": f"https://{self.domain}/media/{media.id}.{extension}" if ready else None,
            "preview_url": f"https://{self.domain}/media/{media.id}-small.png",
            "description": media.description or None,
            "meta": {},
        }

    def upload_media(self, request: _Request) -> Response:
        token, rate = self._authenticate(request, "write:media")
        fields, files = request.multipart()
        upload = files.get("file")
        if upload is None:
            raise HttpError(422, {"error": "Validation failed: File can't be blank"})
        mime_type = upload[1]
        video = mime_type in ("video/mp4", "video/webm", "video/quicktime")
        if not mime_type.startswith("image/") and not video:
            raise HttpError(422, {"error": "Validation failed: File content type is invalid"})
        if video and len(upload[2]) > self.video_size_limit:
            raise HttpError(
                422, {"error": "Validation failed: File file size must be less than 99 MB"}
            )
        description = fields.get("description", "")
        if len(description) > 1500:
            raise HttpError(
                422,
                {
                    "error": "Validation failed: Description is too long "
                    "(maximum is 1500 characters)"
                },
            )
        media = Media(
            id=self.new_id(),
            account_id=token.account_id,
            description=description,
            mime_type=mime_type,
            processing_left=self.video_processing_polls if video else self.media_processing_polls,
        )
        self.media[media.id] = media
        if video:
            self.media_bytes[media.id] = upload[2]
        return _json(202 if media.processing_left > 0 else 200, self._media_json(media), rate)

    def get_media(self, request: _Request, id: str) -> Response:
        token, rate = self._authenticate(request, "write:media")
        media = self.media.get(id)
        if media is None or media.account_id != token.account_id:
            raise HttpError(404, {"error": "Record not found"})
        if media.processing_left > 0:
            media.processing_left -= 1
            return _json(206, self._media_json(media), rate)
        return _json(200, self._media_json(media), rate)

    # --- notifications ------------------------------------------------------------------

    def _answers_private_mention_by(self, status: Status, recipient: Account) -> bool:
        """The status answers (up the thread, a few levels) a private mention the
        recipient sent to its author (NotifyService::FilterCondition#response_to_recipient?)."""
        parent_id = status.in_reply_to_id
        for _level in range(3):
            parent = self.statuses.get(parent_id) if parent_id else None
            if parent is None:
                return False
            if (
                parent.account_id == recipient.id
                and parent.visibility == "direct"
                and status.account_id in {a.id for a in self._mentioned(parent)}
            ):
                return True
            parent_id = parent.in_reply_to_id
        return False

    def _policy_verdict(
        self, recipient: Account, sender: Account, kind: str, status_id: str | None
    ) -> str:
        """accept, filter or drop, by the recipient's notification policy (4.3+,
        entities/NotificationPolicy.md; app/services/notify_service.rb)."""
        if kind not in ("mention", "quote", "follow", "favourite", "reblog"):
            return "accept"
        if (recipient.id, sender.id) in self._permissions:
            return "accept"
        rules = self.policy_of(recipient)
        following = sender.id in recipient.follows
        verdicts: list[str] = []
        if sender.silenced and not following:
            verdicts.append(rules["for_limited_accounts"])
        if not following:
            verdicts.append(rules["for_not_following"])
        if recipient.id not in sender.follows:
            verdicts.append(rules["for_not_followers"])
        status = self.statuses.get(status_id) if status_id else None
        if (
            kind == "mention"
            and status is not None
            and status.visibility == "direct"
            and not following
            and not self._answers_private_mention_by(status, recipient)
        ):
            verdicts.append(rules["for_private_mentions"])
        if "drop" in verdicts:
            return "drop"
        return "filter" if "filter" in verdicts else "accept"

    def _notify(
        self, account_id: str, kind: str, from_account_id: str, status_id: str | None
    ) -> None:
        recipient, sender = self.accounts[account_id], self.accounts[from_account_id]
        if recipient.domain is not None:
            return  # another server's account: notified there, not here
        verdict = self._policy_verdict(recipient, sender, kind, status_id)
        if verdict == "drop":
            return
        now = datetime.now(UTC)
        note = Notification(
            id=self.new_id(),
            type=kind,
            account_id=account_id,
            from_account_id=from_account_id,
            status_id=status_id,
            created_at=now,
            filtered=verdict == "filter",
        )
        self.notifications[note.id] = note
        if note.filtered:
            request = next(
                (
                    r
                    for r in self.notification_requests.values()
                    if (r.account_id, r.from_account_id) == (account_id, from_account_id)
                    and not r.dismissed
                ),
                None,
            )
            if request is None:
                request = NotificationRequest(
                    self.new_id(), account_id, from_account_id, created_at=now, updated_at=now
                )
                self.notification_requests[request.id] = request
            request.notifications_count += 1
            request.updated_at = now
            request.last_status_id = status_id or request.last_status_id

    def _notification_json(self, note: Notification) -> dict[str, Any]:
        status = self.statuses.get(note.status_id) if note.status_id else None
        data: dict[str, Any] = {
            "id": note.id,
            "type": note.type,
            "created_at": _iso(note.created_at),
            "group_key": f"ungrouped-{note.id}",
            "account": self._account_json(self.accounts[note.from_account_id]),
            "status": self._status_json(status) if status is not None else None,
        }
        if note.filtered:
            data["filtered"] = True
        return data

    def list_notifications(self, request: _Request) -> Response:
        """``GET /api/v1/notifications`` (methods/notifications.md#get). Filtered
        notifications only with ``include_filtered`` (4.3+, a Rails "truthy" value)."""
        token, rate = self._authenticate(request, "read:notifications")
        types = set(request.query.get("types[]", []))
        excluded = set(request.query.get("exclude_types[]", []))
        include_filtered = (request.query.get("include_filtered") or ["false"])[0].lower() in (
            "1", "true", "t", "on", "yes",
        )  # fmt: skip
        notes = [
            n
            for n in self.notifications.values()
            if n.account_id == token.account_id
            and (not types or n.type in types)
            and n.type not in excluded
            and (include_filtered or not n.filtered)
        ]
        page, links = _paginate(notes, request, default_limit=40, max_limit=80)
        body = [self._notification_json(n) for n in page]
        return _json(200, body, {**rate, **links})

    # --- listening: tag timelines and search ---------------------------------------------

    def _searchable(self, status: Status) -> bool:
        return not status.deleted and status.visibility in ("public", "unlisted")

    def tag_timeline(self, request: _Request, hashtag: str) -> Response:
        """``GET /api/v1/timelines/tag/:hashtag`` (docs.joinmastodon.org/methods/timelines/#tag):
        public statuses with the hashtag (case-insensitive, without the ``#``), newest
        first, ``limit`` 20 by default and 40 at most, paged by ``max_id``/``since_id``/
        ``min_id`` with a ``Link`` header. Anonymous unless the instance turned public
        preview off (then ``read:statuses``). ``local``/``remote``/``only_media`` and
        ``any[]``/``all[]``/``none[]`` are accepted; every status here is local and
        without media, so they change nothing."""
        rate: dict[str, str] = {}
        if not self.public_preview or request.headers.get("Authorization"):
            _, rate = self._authenticate(request, "read:statuses")
        tag = unquote(hashtag).lstrip("#").lower()
        matching = [
            s
            for s in self.statuses.values()
            if s.visibility == "public"
            and not s.deleted
            and any((m.group("tag") or "").lower() == tag for m in TOKEN_RE.finditer(s.text))
        ]
        page, links = _paginate(matching, request, default_limit=20, max_limit=40)
        return _json(200, [self._status_json(s) for s in page], {**rate, **links})

    def search(self, request: _Request) -> Response:
        """``GET /api/v2/search`` (docs.joinmastodon.org/methods/search/#v2) with
        ``type=statuses``: ``q`` required; a user token with ``read:search``;
        ``limit`` 20 by default, 40 at most; ``max_id``/``min_id`` page the statuses
        (no ``Link`` header: search pages by its parameters). Statuses are found by
        their words (every word of ``q``, a phrase's quotes dropped, as the start of a
        word, case-insensitive) only where full-text search is configured; otherwise
        ``statuses`` is empty. Answers ``{accounts, statuses, hashtags}``."""
        _, rate = self._authenticate(request, "read:search")
        q = (request.query.get("q") or [""])[0].strip()
        if not q:
            raise HttpError(400, {"error": "Validation failed: q is missing"})
        kind = (request.query.get("type") or [""])[0]
        statuses: list[Status] = []
        if kind in ("", "statuses") and self.full_text_search:
            words = [w.strip('"').lstrip("#").lower() for w in q.split() if w.strip('"#')]
            statuses = [
                s
                for s in self.statuses.values()
                if self._searchable(s)
                and all(re.search(rf"(?<!\w){re.escape(w)}", s.text.lower()) for w in words)
            ]
        page, _links = _paginate(statuses, request, default_limit=20, max_limit=40)
        body = {"accounts": [], "statuses": [self._status_json(s) for s in page], "hashtags": []}
        return _json(200, body, rate)

    def notification_policy(self, request: _Request) -> Response:
        """``GET /api/v2/notifications/policy`` (methods/notifications.md#get-policy)."""
        token, rate = self._authenticate(request, "read:notifications")
        pending = [
            r
            for r in self.notification_requests.values()
            if r.account_id == token.account_id and not r.dismissed
        ]
        summary = {
            "pending_requests_count": len(pending),
            "pending_notifications_count": sum(r.notifications_count for r in pending),
        }
        rules = self.policy_of(self.accounts[token.account_id])
        return _json(200, {**rules, "summary": summary}, rate)

    def list_notification_requests(self, request: _Request) -> Response:
        """``GET /api/v1/notifications/requests`` (methods/notifications.md#get-requests)."""
        token, rate = self._authenticate(request, "read:notifications")
        pending = [
            r
            for r in self.notification_requests.values()
            if r.account_id == token.account_id and not r.dismissed
        ]
        page, links = _paginate(pending, request, default_limit=40, max_limit=80)
        body = []
        for r in page:
            last = self.statuses.get(r.last_status_id) if r.last_status_id else None
            item = {
                "id": r.id,
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
                "notifications_count": str(r.notifications_count),
                "account": self._account_json(self.accounts[r.from_account_id]),
            }
            if last is not None:
                item["last_status"] = self._status_json(last)
            body.append(item)
        return _json(200, body, {**rate, **links})

    def accept_notification_request(self, request: _Request, id: str) -> Response:
        """``POST /api/v1/notifications/requests/:id/accept``: the sender's filtered
        notifications join the main list (same ids), later ones are accepted."""
        token, rate = self._authenticate(request, "write:notifications")
        found = self.notification_requests.get(id)
        if found is None or found.account_id != token.account_id:
            raise HttpError(404, {"error": "Record not found"})
        found.dismissed = True
        self._permissions.add((found.account_id, found.from_account_id))
        for note in self.notifications.values():
            if (note.account_id, note.from_account_id) == (found.account_id, found.from_account_id):
                note.filtered = False
        return _json(200, {}, rate)


class _RateLimited(HttpError):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(429, {"error": "Too many requests"})
        self.headers = headers


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def data(self) -> dict[str, Any]:
        """The parameters of a JSON or form-encoded body (``x[]`` keys become lists)."""
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            loaded = json.loads(self.body or b"{}")
            return loaded if isinstance(loaded, dict) else {}
        if content_type.startswith("multipart/form-data"):
            return self.multipart()[0]
        form = parse_qs(self.body.decode(), keep_blank_values=True)
        return {k: (v if k.endswith("[]") else v[0]) for k, v in form.items()}

    def multipart(self) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
        content_type = self.headers.get("Content-Type", "")
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body
        )
        fields: dict[str, str] = {}
        files: dict[str, tuple[str, str, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            if filename:
                files[str(name)] = (filename, part.get_content_type(), payload)
            elif name:
                fields[str(name)] = payload.decode()
        return fields, files


def _paginate(
    items: list[Any], request: _Request, *, default_limit: int, max_limit: int
) -> tuple[list[Any], dict[str, str]]:
    """Mastodon's id pagination: newest first; ``min_id`` gives the page just after it."""
    q = {k: v[0] for k, v in request.query.items()}
    limit = min(int(q.get("limit") or default_limit), max_limit)
    ordered = sorted(items, key=lambda item: int(item.id), reverse=True)
    if q.get("max_id"):
        ordered = [i for i in ordered if int(i.id) < int(q["max_id"])]
    if q.get("since_id"):
        ordered = [i for i in ordered if int(i.id) > int(q["since_id"])]
    if q.get("min_id"):
        ordered = [i for i in ordered if int(i.id) > int(q["min_id"])]
        page = list(reversed(list(reversed(ordered))[:limit]))
    else:
        page = ordered[:limit]
    if not page:
        return page, {}
    keep = [
        (k, v)
        for k, values in request.query.items()
        for v in values
        if k not in ("max_id", "min_id", "since_id")
    ]
    base = f"{request.headers.get('Host', '')}{request.path}"
    next_url = f"http://{base}?" + urlencode([*keep, ("max_id", page[-1].id)])
    prev_url = f"http://{base}?" + urlencode([*keep, ("min_id", page[0].id)])
    return page, {"Link": f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'}


def _link(url: str) -> str:
    """A link as Mastodon shortens it (TextFormatter#link_to_url, shortened_url):
    the scheme and ``www.`` hidden, 30 characters shown, the rest hidden after an
    ellipsis."""
    prefix_match = re.match(r"https?://(www\.)?", url)
    prefix = prefix_match.group(0) if prefix_match else ""
    rest = url[len(prefix) :]
    shown, hidden = rest[:30], rest[30:]
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span>'
        f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
        f'<span class="invisible">{html.escape(hidden)}</span></a>'
    )


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return 302, {"Location": uri + separator + urlencode(params)}, b""
