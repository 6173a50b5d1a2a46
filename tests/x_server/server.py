"""A small X API v2 server for the tests, served on 127.0.0.1 in a background thread.

It follows docs.x.com (each endpoint cites its page beside its handler) and the
"Shapes of real answers" in NETWORK-APIS.md, for the parts GovSocial uses:

- OAuth 2.0 authorization code with PKCE (S256): ``/i/oauth2/authorize`` (approved
  at once as ``self.user``, see :meth:`XTestServer.approve`), ``POST /2/oauth2/token``
  (confidential clients authenticate with HTTP Basic), refresh tokens that are
  single-use and rotate (``offline.access`` only), ``POST /2/oauth2/revoke``;
  access tokens live ``access_token_seconds`` (two hours by default).
- ``GET /2/users/me``, ``POST /2/tweets`` (text, reply, quote, media, poll; duplicate
  text is a 403), ``DELETE /2/tweets/:id``, ``GET /2/tweets?ids=`` (public and
  non-public metrics, partial ``errors`` beside ``data``), ``GET /2/users/:id/tweets``
  and ``/mentions`` (``meta.next_token`` paging, ``since_id``/``until_id``, no ``data``
  key when empty), direct messages (``GET /2/dm_events``, ``POST
  /2/dm_conversations/with/:id/messages``), media (simple ``POST /2/media/upload``;
  ``initialize``/``append`` (204, empty ``text/html``)/``finalize`` and ``STATUS``;
  ``POST /2/media/metadata`` for alt text); videos (``media_category=tweet_video``,
  at most 512 MB, processed after FINALIZE: ``processing_info.state`` pending, then
  in_progress, then succeeded or failed with an ``error``, each with
  ``check_after_secs``) and their subtitles (an SRT file uploaded with
  ``media_category=subtitles``, then ``POST /2/media/subtitles``).
- Every answer carries ``x-rate-limit-limit/remaining/reset`` (reset as epoch
  seconds; the header names' case differs between endpoints, as on the real API);
  a spent window is a 429, and ``usage_capped`` makes every call a 429
  ``usage-capped`` problem. Errors are problem+json objects with a ``type`` URI.
  Ids are numbers beyond a double's precision, always sent as strings.

Switches make it fail (``fail_next``) or hang (``hang``) for fault tests. State is
in memory, per server.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from twitter_text import extract_urls_with_indices, parse_tweet

# docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code ("Scopes").
KNOWN_SCOPES = {
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.read",
    "users.email",
    "follows.read",
    "follows.write",
    "offline.access",
    "space.read",
    "mute.read",
    "mute.write",
    "like.read",
    "like.write",
    "list.read",
    "list.write",
    "block.read",
    "block.write",
    "bookmark.read",
    "bookmark.write",
    "dm.read",
    "dm.write",
    "media.write",
}
PROBLEMS = "https://api.x.com/2/problems/"
# docs.x.com/x-api/fundamentals/rate-limits (per user, 15-minute windows).
DEFAULT_LIMITS = {
    "POST /2/tweets": 100,
    "DELETE /2/tweets": 50,
    "GET /2/tweets": 900,
    "GET /2/users/me": 75,
    "GET /2/users/tweets": 900,
    "GET /2/users/mentions": 300,
    "GET /2/dm_events": 15,
    "POST /2/dm_conversations": 15,
    "POST /2/media/upload": 500,
    "POST /2/media/upload/initialize": 180,
    "POST /2/media/upload/append": 1000,
    "POST /2/media/upload/finalize": 180,
    "GET /2/media/upload": 1000,
    "POST /2/media/metadata": 500,
    # Not on the rate-limits page; the server still answers with the headers.
    "POST /2/media/subtitles": 500,
}
# docs.x.com/x-api/media/introduction ("Size restrictions"): video 512 MB.
VIDEO_MAX_BYTES = 512 * 1024 * 1024
# docs.x.com/x-api/media/quickstart/best-practices ("Media categories").
MEDIA_CATEGORIES = (
    "tweet_image", "dm_image", "tweet_gif", "dm_gif", "tweet_video", "dm_video",
    "amplify_video", "subtitles",
)  # fmt: skip
WINDOW = timedelta(minutes=15)
# docs.x.com/fundamentals/x-ids: ids are Snowflakes, milliseconds since this epoch.
SNOWFLAKE_EPOCH_MS = 1288834974657
CODE_LIFETIME = timedelta(seconds=30)
# docs.x.com/resources/fundamentals/counting-characters: every URL is wrapped in a t.co
# link of 23 characters (``https://t.co/`` and a 10-character code), as in the sample
# post of docs.x.com/x-api/fundamentals/data-dictionary ("https://t.co/yvxdK6aOo2").
TCO_CODE_LENGTH = 10
TCO_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DISPLAY_URL_MAX = 26

Response = tuple[int, dict[str, str], bytes]


class HttpError(Exception):
    def __init__(
        self, status: int, body: dict[str, Any], *, content_type: str = "application/problem+json"
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers: dict[str, str] = {}


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> HttpError:
    """A v2 error: problem+json with a ``type`` URI
    (docs.x.com/x-api/fundamentals/response-codes-and-errors)."""
    return HttpError(
        status, {"title": title, "detail": detail, "type": type_, "status": status, **extra}
    )


def invalid_request(message: str, parameter: str = "") -> HttpError:
    return HttpError(
        400,
        {
            "errors": [{"parameters": {parameter: []} if parameter else {}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request",
        },
    )


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    confidential: bool = True


@dataclass
class User:
    id: str
    username: str
    name: str
    followers_count: int = 0
    following_count: int = 0


@dataclass
class Token:
    value: str
    client_id: str
    user_id: str
    scopes: set[str]
    expires_at: datetime
    revoked: bool = False


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scopes: set[str]
    user_id: str
    code_challenge: str
    issued_at: datetime
    used: bool = False


@dataclass
class Media:
    id: str
    user_id: str
    media_type: str
    size: int
    processing_left: int = 0
    finalized: bool = True
    chunks: dict[int, bytes] = field(default_factory=dict)
    alt_text: str = ""
    category: str = "tweet_image"
    # Videos: where processing stands, why it failed, and the subtitles attached.
    state: str = "succeeded"
    error: dict[str, Any] | None = None
    subtitles: list[dict[str, str]] = field(default_factory=list)
    content: bytes = b""

    @property
    def is_video(self) -> bool:
        return self.media_type.startswith("video/")


@dataclass
class Tweet:
    id: str
    author_id: str
    text: str
    created_at: datetime
    in_reply_to_tweet_id: str | None = None
    in_reply_to_user_id: str | None = None
    conversation_id: str = ""
    quote_tweet_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    poll: dict[str, Any] | None = None
    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    bookmark_count: int = 0
    impression_count: int = 0
    url_link_clicks: int = 0
    user_profile_clicks: int = 0
    deleted: bool = False
    # The text as the author sent it; ``text`` is what X shows (links wrapped in t.co).
    sent_text: str = ""
    # ``entities.urls`` as the post object gives them (start, end, url, expanded_url,
    # display_url, and media_key on the link X adds for attached media).
    urls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DmEvent:
    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_at: datetime

    @property
    def conversation_id(self) -> str:
        low, high = sorted((self.sender_id, self.recipient_id), key=int)
        return f"{low}-{high}"


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
    body: bytes


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> Any:
        return io.StringIO()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class XTestServer:
    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.client_waits: list[float] = []
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.grants: dict[str, Grant] = {}
        self.media: dict[str, Media] = {}
        self.tweets: dict[str, Tweet] = {}
        self.dm_events: dict[str, DmEvent] = {}
        self.access_token_seconds = 7200
        self.limits = dict(DEFAULT_LIMITS)
        # True: every call is refused as over the plan's usage cap.
        self.usage_capped = False
        # The self-serve rule: replies only to posts that mention or quote the author.
        self.replies_only_when_summoned = True
        # Self-serve plans cannot quote (``quote_tweet_id`` is Enterprise-only).
        self.quotes_allowed = False
        # How many STATUS checks a finalized chunked upload stays "in_progress".
        self.media_processing_polls = 0
        # How many STATUS checks a finalized video stays "in_progress" (after "pending"),
        # and, when set, the reason its processing then fails.
        self.video_processing_polls = 1
        self.video_processing_error = ""
        # Refresh tokens spent (the second use of one is refused).
        self.spent_refresh_tokens: set[str] = set()
        self._usage: dict[tuple[str, str], tuple[int, datetime]] = {}
        self._failures: list[Failure] = []
        self._hangs: list[Hang] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        # Snowflake ids (milliseconds since X's epoch, shifted 22 bits, then a sequence):
        # beyond 2**53, so a client that reads them as floats gets them wrong.
        self._sequence = itertools.count(1)
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # The person who approves on /i/oauth2/authorize.
        self.user = self.create_user("KaupunkiX", "City of Example", followers_count=1520)

    # --- running -----------------------------------------------------------------

    def start(self) -> XTestServer:
        self._httpd = make_server(
            "127.0.0.1",
            0,
            self.wsgi,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
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

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/i/oauth2/authorize"

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
        default = {
            "title": "Service Unavailable",
            "detail": "Service Unavailable",
            "type": "about:blank",
            "status": status,
        }
        with self._lock:
            self._failures.append(
                Failure(status, method, path_prefix, times, body or default, headers or {})
            )

    def hang(
        self, *, method: str | None = None, path_prefix: str | None = None, after_processing: bool
    ) -> None:
        with self._lock:
            self._released.clear()
            self._hangs.append(Hang(method, path_prefix, after_processing))

    def release(self) -> None:
        with self._lock:
            self._hangs.clear()
        self._released.set()

    def new_id(self, at: datetime | None = None) -> str:
        moment = at or datetime.now(UTC)
        millis = int(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
        return str((millis << 22) | (next(self._sequence) & 0x3FFFFF))

    def create_app(self, *, redirect_uris: Iterable[str] = (), confidential: bool = True) -> App:
        app = App(
            secrets.token_urlsafe(24), secrets.token_urlsafe(36), list(redirect_uris), confidential
        )
        self.apps[app.client_id] = app
        return app

    def create_user(self, username: str, name: str = "", **counts: int) -> User:
        user = User(self.new_id(), username, name or username, **counts)
        self.users[user.id] = user
        return user

    def issue_token(
        self,
        user: User | None = None,
        *,
        scopes: Iterable[str] | None = None,
        app: App | None = None,
    ) -> dict[str, str]:
        """A token pair as if the OAuth flow had run (for tests about other things)."""
        app = app or self.create_app()
        granted = set(scopes or KNOWN_SCOPES)
        with self._lock:
            return self._issue(app.client_id, (user or self.user).id, granted)

    def post_as(
        self,
        author: User,
        text: str,
        *,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        created_at: datetime | None = None,
    ) -> Tweet:
        """Someone posts (bypassing the API's rules)."""
        with self._lock:
            parent = self.tweets.get(in_reply_to) if in_reply_to else None
            return self._create_tweet(
                author.id, text, parent=parent, quote_tweet_id=quote_of, created_at=created_at
            )

    def send_dm(self, sender: User, recipient: User, text: str) -> DmEvent:
        with self._lock:
            event = DmEvent(self.new_id(), sender.id, recipient.id, text, datetime.now(UTC))
            self.dm_events[event.id] = event
            return event

    def approve(self, authorization_url: str, *, deny: bool = False) -> dict[str, str]:
        """Play the person's browser on X's consent page: return the query of the
        redirect back to the app (``code`` and ``state``, or ``error``)."""
        import requests

        if deny:
            authorization_url += "&_deny=1"
        response = requests.get(authorization_url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location:
            raise AssertionError(f"authorize answered {response.status_code}: {response.text}")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def tweets_of(self, user: User) -> list[Tweet]:
        return [t for t in self.tweets.values() if t.author_id == user.id and not t.deleted]

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def expire_access_tokens(self) -> None:
        with self._lock:
            for token in self.tokens.values():
                token.expires_at = datetime.now(UTC) - timedelta(seconds=1)

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
            self.requests.append(LoggedRequest(method, path, query, headers, body))
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
            extra = {"Content-Type": "application/problem+json", **extra}
        else:
            status, extra, payload = self._dispatch(method, path, query, headers, body)
        if hang is not None and hang.after_processing:
            self._released.wait(timeout=30)
        reason = {
            200: "OK",
            201: "Created",
            204: "No Content",
            302: "Found",
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }.get(status, "Status")
        start_response(f"{status} {reason}", list(extra.items()))
        return [payload]

    def _matching_hang(self, method: str, path: str) -> Hang | None:
        for hang in self._hangs:
            if hang.method in (None, method) and path.startswith(hang.path_prefix or ""):
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
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", r"/i/oauth2/authorize", self.authorize),
            ("POST", r"/2/oauth2/token", self.token),
            ("POST", r"/2/oauth2/revoke", self.revoke),
            ("GET", r"/2/users/me", self.users_me),
            ("POST", r"/2/tweets", self.create_tweet),
            ("GET", r"/2/tweets", self.lookup_tweets),
            ("DELETE", r"/2/tweets/(?P<id>\d+)", self.delete_tweet),
            ("GET", r"/2/users/(?P<id>\d+)/tweets", self.user_tweets),
            ("GET", r"/2/users/(?P<id>\d+)/mentions", self.user_mentions),
            ("GET", r"/2/dm_events", self.list_dm_events),
            ("POST", r"/2/dm_conversations/with/(?P<id>\d+)/messages", self.send_dm_message),
            ("POST", r"/2/media/upload", self.media_upload),
            ("GET", r"/2/media/upload", self.media_status),
            ("POST", r"/2/media/upload/initialize", self.media_initialize),
            ("POST", r"/2/media/upload/(?P<id>\d+)/append", self.media_append),
            ("POST", r"/2/media/upload/(?P<id>\d+)/finalize", self.media_finalize),
            ("POST", r"/2/media/metadata", self.media_metadata),
            ("POST", r"/2/media/subtitles", self.media_subtitles),
        ]
        request = _Request(method, path, query, headers, body)
        try:
            for route_method, pattern, handler in routes:
                match = re.fullmatch(pattern, path)
                if match and route_method == method:
                    with self._lock:
                        answer = handler(request, **match.groupdict())
                    break
            else:
                raise problem(
                    404,
                    "Not Found Error",
                    f"The requested resource {path} was not found",
                    PROBLEMS + "resource-not-found",
                )
        except HttpError as exc:
            answer = (
                exc.status,
                {"Content-Type": exc.content_type, **exc.headers},
                json.dumps(exc.body).encode(),
            )
        status, answer_headers, payload = answer
        if not any(name.lower().startswith("x-rate-limit-") for name in answer_headers):
            # Answers refused before a user's window was counted (no or a bad token, the
            # token endpoint, the usage cap) carry the client's own window.
            with self._lock:
                answer_headers = {**answer_headers, **self._peek(f"{method} {path}")}
        return status, answer_headers, payload

    def _peek(self, endpoint: str) -> dict[str, str]:
        """Count a call in an app-wide window without refusing it."""
        limit = self.limits.get(endpoint, 900)
        try:
            return self._count("app", endpoint)
        except HttpError as exc:
            return exc.headers or {"x-rate-limit-limit": str(limit)}

    # --- auth and limits ---------------------------------------------------------------

    def _authenticate(
        self, request: _Request, endpoint: str, *scopes: str
    ) -> tuple[Token, dict[str, str]]:
        """Bearer user token, then the plan's usage cap, then the endpoint's window."""
        auth = request.headers.get("Authorization", "")
        token = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        now = datetime.now(UTC)
        if token is None or token.revoked or token.expires_at <= now:
            raise problem(401, "Unauthorized", "Unauthorized")
        if self.usage_capped:
            # docs.x.com/x-api/fundamentals/post-cap: over the plan's cap, every call is a 429.
            raise HttpError(
                429,
                {
                    "title": "UsageCapExceeded",
                    "detail": "Usage cap exceeded: Monthly product cap",
                    "type": PROBLEMS + "usage-capped",
                    "period": "Monthly",
                    "scope": "Product",
                },
            )
        rate = self._count(token.user_id, endpoint)
        missing = [s for s in scopes if s not in token.scopes]
        if missing:
            error = problem(
                403,
                "Forbidden",
                "You are not permitted to perform this action. Missing scopes: "
                + " ".join(missing),
                PROBLEMS + "not-authorized-for-resource",
            )
            error.headers = rate
            raise error
        return token, rate

    def _count(self, user_id: str, endpoint: str) -> dict[str, str]:
        now = datetime.now(UTC)
        used, reset_at = self._usage.get((user_id, endpoint), (0, now + WINDOW))
        if reset_at <= now:
            used, reset_at = 0, now + WINDOW
        used += 1
        self._usage[(user_id, endpoint)] = (used, reset_at)
        limit = self.limits.get(endpoint, 900)
        values = (str(limit), str(max(limit - used, 0)), str(int(reset_at.timestamp())))
        # Header-name case differs between X's endpoints: media answers capitalised.
        names = (
            ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")
            if "/media/" in endpoint
            else ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
        )
        headers = dict(zip(names, values, strict=True))
        if used > limit:
            error = problem(429, "Too Many Requests", "Too Many Requests")
            error.headers = headers
            raise error
        return headers

    def _issue(self, client_id: str, user_id: str, scopes: set[str]) -> dict[str, Any]:
        access = Token(
            secrets.token_urlsafe(40),
            client_id,
            user_id,
            scopes,
            datetime.now(UTC) + timedelta(seconds=self.access_token_seconds),
        )
        self.tokens[access.value] = access
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": self.access_token_seconds,
            "access_token": access.value,
            "scope": " ".join(sorted(scopes)),
        }
        if "offline.access" in scopes:
            refresh = Token(
                secrets.token_urlsafe(40),
                client_id,
                user_id,
                scopes,
                datetime.now(UTC) + timedelta(days=180),
            )
            self.refresh_tokens[refresh.value] = refresh
            answer["refresh_token"] = refresh.value
        return answer

    # --- OAuth 2.0 -------------------------------------------------------------------------

    def authorize(self, request: _Request) -> Response:
        """docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (step 1-3)."""
        q = {k: v[0] for k, v in request.query.items()}
        app = self.apps.get(q.get("client_id", ""))
        if app is None or (app.redirect_uris and q.get("redirect_uri") not in app.redirect_uris):
            body = (
                b"<h1>Something went wrong</h1><p>You weren't able to give access to the App.</p>"
            )
            return 400, {"Content-Type": "text/html"}, body
        redirect_uri = q["redirect_uri"]
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("_deny"):
            return _redirect(redirect_uri, {"error": "access_denied", **state})
        scopes = set(q.get("scope", "").split())
        if q.get("response_type") != "code" or not scopes or not scopes <= KNOWN_SCOPES:
            return _redirect(redirect_uri, {"error": "invalid_request", **state})
        if not q.get("code_challenge") or q.get("code_challenge_method") not in ("S256", "plain"):
            return _redirect(redirect_uri, {"error": "invalid_request", **state})
        challenge = q["code_challenge"]
        if q["code_challenge_method"] == "plain":
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(challenge.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
        code = secrets.token_urlsafe(48)
        self.grants[code] = Grant(
            app.client_id, redirect_uri, scopes, self.user.id, challenge, datetime.now(UTC)
        )
        return _redirect(redirect_uri, {"state": q.get("state", ""), "code": code})

    def _client(self, data: dict[str, Any], request: _Request) -> App:
        """Confidential clients send Basic client_id:client_secret; public ones client_id."""
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            app = self.apps.get(client_id)
            if app is None or not secrets.compare_digest(app.client_secret, client_secret):
                raise HttpError(
                    401,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                    content_type="application/json",
                )
            return app
        app = self.apps.get(str(data.get("client_id") or ""))
        if app is None or app.confidential:
            raise HttpError(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
                content_type="application/json",
            )
        return app

    def token(self, request: _Request) -> Response:
        """docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (step 5) and
        .../authorization-code ("Refresh tokens"). Refresh tokens are single-use: each
        refresh answers a new pair and the spent one is refused (trypost#126)."""
        data = request.data()
        app = self._client(data, request)
        invalid = HttpError(
            400,
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
            content_type="application/json",
        )
        grant_type = data.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.grants.get(str(data.get("code") or ""))
            if (
                grant is None
                or grant.used
                or grant.client_id != app.client_id
                or grant.redirect_uri != data.get("redirect_uri")
                or datetime.now(UTC) - grant.issued_at > CODE_LIFETIME
            ):
                raise invalid
            verifier = str(data.get("code_verifier") or "")
            expected = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if not verifier or not secrets.compare_digest(expected, grant.code_challenge):
                raise HttpError(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the code verifier did not match.",
                    },
                    content_type="application/json",
                )
            grant.used = True
            return _json(200, self._issue(app.client_id, grant.user_id, grant.scopes))
        if grant_type == "refresh_token":
            value = str(data.get("refresh_token") or "")
            refresh = self.refresh_tokens.get(value)
            if refresh is None or refresh.revoked or refresh.client_id != app.client_id:
                raise invalid
            refresh.revoked = True
            self.spent_refresh_tokens.add(value)
            return _json(200, self._issue(app.client_id, refresh.user_id, refresh.scopes))
        raise HttpError(
            400,
            {
                "error": "invalid_request",
                "error_description": "Missing required parameter [grant_type].",
            },
            content_type="application/json",
        )

    def revoke(self, request: _Request) -> Response:
        """docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token (revoke)."""
        data = request.data()
        app = self._client(data, request)
        value = str(data.get("token") or "")
        for store in (self.tokens, self.refresh_tokens):
            token = store.get(value)
            if token is not None and token.client_id == app.client_id:
                token.revoked = True
        return _json(200, {"revoked": True})

    # --- users -------------------------------------------------------------------------------

    def _user_json(self, user: User, fields: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "public_metrics" in fields:
            body["public_metrics"] = {
                "followers_count": user.followers_count,
                "following_count": user.following_count,
                "tweet_count": len(self.tweets_of(user)),
                "listed_count": 0,
                "like_count": 0,
                "media_count": 0,
            }
        if "profile_image_url" in fields:
            body["profile_image_url"] = f"https://pbs.twimg.com/profile_images/{user.id}/normal.jpg"
        return body

    def users_me(self, request: _Request) -> Response:
        """docs.x.com/x-api/users/get-my-user"""
        token, rate = self._authenticate(request, "GET /2/users/me", "users.read", "tweet.read")
        fields = request.fields("user.fields")
        return _json(200, {"data": self._user_json(self.users[token.user_id], fields)}, rate)

    # --- posts ------------------------------------------------------------------------------------

    def _create_tweet(
        self,
        author_id: str,
        text: str,
        *,
        parent: Tweet | None = None,
        quote_tweet_id: str | None = None,
        media_ids: list[str] | None = None,
        poll: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Tweet:
        tweet_id = self.new_id(created_at)
        shown, urls = self._wrap_links(
            text, tweet_id, author_id, [self.media[m] for m in media_ids or [] if m in self.media]
        )
        tweet = Tweet(
            id=tweet_id,
            author_id=author_id,
            text=shown,
            sent_text=text,
            urls=urls,
            created_at=created_at or datetime.now(UTC),
            in_reply_to_tweet_id=parent.id if parent else None,
            in_reply_to_user_id=parent.author_id if parent else None,
            conversation_id=parent.conversation_id if parent else tweet_id,
            quote_tweet_id=quote_tweet_id,
            media_ids=media_ids or [],
            poll=poll,
        )
        if parent is not None:
            parent.reply_count += 1
        if quote_tweet_id and quote_tweet_id in self.tweets:
            self.tweets[quote_tweet_id].quote_count += 1
        self.tweets[tweet.id] = tweet
        return tweet

    def _tco(self) -> str:
        return "https://t.co/" + "".join(
            secrets.choice(TCO_ALPHABET) for _ in range(TCO_CODE_LENGTH)
        )

    def _wrap_links(
        self, text: str, tweet_id: str, author_id: str, media: list[Media]
    ) -> tuple[str, list[dict[str, Any]]]:
        """The text X shows and its ``entities.urls`` (docs.x.com/x-api/fundamentals/
        data-dictionary, the Tweet object's sample answer): every URL replaced by a t.co
        link with ``expanded_url`` (the URL as typed, ``http://`` added when it had no
        scheme) and a shortened ``display_url``; attached media add one more t.co link at
        the end, whose entity carries ``media_key`` and points at the post's photo or
        video page. Offsets are characters of the shown text."""
        shown = ""
        urls: list[dict[str, Any]] = []
        last = 0
        for found in extract_urls_with_indices(text):
            start, end = found["indices"]
            typed = str(found["url"])
            expanded = typed if re.match(r"(?i)https?://", typed) else f"http://{typed}"
            display = re.sub(r"(?i)^https?://(www\.)?", "", expanded)
            if len(display) > DISPLAY_URL_MAX:
                display = display[: DISPLAY_URL_MAX - 1] + "\u2026"
            shown += text[last:start]
            link = self._tco()
            urls.append(
                {
                    "start": len(shown),
                    "end": len(shown) + len(link),
                    "url": link,
                    "expanded_url": expanded,
                    "display_url": display,
                }
            )
            shown += link
            last = end
        shown += text[last:]
        if media:
            first = media[0]
            kind = "video" if first.is_video else "photo"
            username = self.users[author_id].username if author_id in self.users else "i"
            link = self._tco()
            if shown:
                shown += " "
            urls.append(
                {
                    "start": len(shown),
                    "end": len(shown) + len(link),
                    "url": link,
                    "expanded_url": f"https://x.com/{username}/status/{tweet_id}/{kind}/1",
                    "display_url": f"pic.x.com/{link.rsplit('/', 1)[1]}",
                    "media_key": _media_key(first),
                }
            )
            shown += link
        return shown, urls

    def _mentions(self, tweet: Tweet, user: User) -> bool:
        return (
            re.search(rf"(?<!\w)@{re.escape(user.username)}\b", tweet.text, re.IGNORECASE)
            is not None
        )

    def create_tweet(self, request: _Request) -> Response:
        """docs.x.com/x-api/posts/create-post (POST /2/tweets)."""
        token, rate = self._authenticate(
            request, "POST /2/tweets", "tweet.write", "tweet.read", "users.read"
        )
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise invalid_request("Request body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise invalid_request("Request body must be an object")
        text = str(data.get("text") or "")
        media_ids = [str(m) for m in ((data.get("media") or {}).get("media_ids") or [])]
        poll = data.get("poll")
        if not text and not media_ids:
            raise invalid_request("$.text: is missing but it is required", "text")
        if text and not parse_tweet(text).valid:
            raise problem(403, "Forbidden", "Your Tweet text is too long.")
        author = self.users[token.user_id]
        # Duplicate content: X refuses text identical to one of the author's recent posts.
        if text and any(t.sent_text == text for t in self.tweets_of(author)):
            raise _with(
                problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                ),
                rate,
            )
        if len(media_ids) > 4:
            raise invalid_request(
                "$.media.media_ids: there must be no more than 4 items", "media.media_ids"
            )
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.user_id != author.id or not media.finalized:
                raise invalid_request(
                    f"Your media IDs are invalid. ({media_id})", "media.media_ids"
                )
            if media.processing_left > 0 or media.state != "succeeded":
                raise invalid_request(
                    "Your media IDs are invalid. Media is still processing.", "media.media_ids"
                )
        chosen = [self.media[m] for m in media_ids]
        if any(m.is_video for m in chosen) and len(chosen) > 1:
            # "up to 4 photos, 1 animated GIF or 1 video in a Post" (media best practices).
            raise invalid_request("Your media IDs are invalid.", "media.media_ids")
        if poll is not None:
            options = poll.get("options") if isinstance(poll, dict) else None
            duration = poll.get("duration_minutes") if isinstance(poll, dict) else None
            if media_ids or data.get("quote_tweet_id"):
                raise invalid_request("A poll cannot be combined with media or a quote.", "poll")
            if (
                not isinstance(options, list)
                or not 2 <= len(options) <= 4
                or any(not isinstance(o, str) or not 1 <= len(o) <= 25 for o in options)
                or not isinstance(duration, int)
                or not 5 <= duration <= 10080
            ):
                raise invalid_request(
                    "$.poll: options must be 2-4 choices of 1-25 characters; "
                    "duration_minutes 5-10080",
                    "poll",
                )
        parent = None
        reply = data.get("reply")
        if reply is not None:
            parent = self.tweets.get(str((reply or {}).get("in_reply_to_tweet_id") or ""))
            if parent is None or parent.deleted:
                raise _with(
                    problem(
                        403,
                        "Forbidden",
                        "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    ),
                    rate,
                )
            summoned = (
                parent.author_id == author.id
                or self._mentions(parent, author)
                or (
                    parent.quote_tweet_id
                    and self.tweets[parent.quote_tweet_id].author_id == author.id
                )
            )
            if self.replies_only_when_summoned and not summoned:
                raise _with(
                    problem(
                        403,
                        "Forbidden",
                        "Reply to this conversation is not allowed because you have not been "
                        "mentioned "
                        "or otherwise engaged by the author of the post you are replying to.",
                    ),
                    rate,
                )
        quote = str(data.get("quote_tweet_id") or "") or None
        if quote is not None and (quote not in self.tweets or self.tweets[quote].deleted):
            raise invalid_request(f"Could not find quoted Tweet {quote}", "quote_tweet_id")
        if quote is not None and not self.quotes_allowed:
            raise _with(
                problem(
                    403,
                    "Forbidden",
                    "Quoting this post is not allowed because you have not been mentioned or "
                    "otherwise engaged by the author of the post you are quoting.",
                ),
                rate,
            )
        tweet = self._create_tweet(
            author.id,
            text,
            parent=parent,
            quote_tweet_id=quote,
            media_ids=media_ids,
            poll={"options": list(poll["options"]), "duration_minutes": poll["duration_minutes"]}
            if poll
            else None,
        )
        for media_id in media_ids:
            self.media[media_id].category = "attached"
        body = {"data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}}
        return _json(201, body, rate)

    def delete_tweet(self, request: _Request, id: str) -> Response:
        """docs.x.com/x-api/posts/delete-post (DELETE /2/tweets/:id)."""
        token, rate = self._authenticate(
            request, "DELETE /2/tweets", "tweet.write", "tweet.read", "users.read"
        )
        tweet = self.tweets.get(id)
        if tweet is not None and tweet.author_id != token.user_id:
            raise _with(
                problem(403, "Forbidden", "You are not authorized to delete this Tweet."), rate
            )
        if tweet is not None:
            tweet.deleted = True
        return _json(200, {"data": {"deleted": tweet is not None}}, rate)

    def _tweet_json(self, tweet: Tweet, fields: set[str], viewer: str) -> dict[str, Any]:
        """Default fields id, text, edit_history_tweet_ids; others only when asked."""
        body: dict[str, Any] = {
            "id": tweet.id,
            "text": tweet.text,
            "edit_history_tweet_ids": [tweet.id],
        }
        if "created_at" in fields:
            body["created_at"] = _iso(tweet.created_at)
        if "author_id" in fields:
            body["author_id"] = tweet.author_id
        if "conversation_id" in fields:
            body["conversation_id"] = tweet.conversation_id
        if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
            body["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        if "referenced_tweets" in fields:
            refs = []
            if tweet.in_reply_to_tweet_id:
                refs.append({"type": "replied_to", "id": tweet.in_reply_to_tweet_id})
            if tweet.quote_tweet_id:
                refs.append({"type": "quoted", "id": tweet.quote_tweet_id})
            if refs:
                body["referenced_tweets"] = refs
        if "attachments" in fields and tweet.media_ids:
            body["attachments"] = {
                "media_keys": [_media_key(self.media[m]) for m in tweet.media_ids]
            }
        if "entities" in fields and tweet.urls:
            body["entities"] = {"urls": [dict(u) for u in tweet.urls]}
        if "public_metrics" in fields:
            body["public_metrics"] = {
                "repost_count": tweet.retweet_count,
                "reply_count": tweet.reply_count,
                "like_count": tweet.like_count,
                "quote_count": tweet.quote_count,
                "bookmark_count": tweet.bookmark_count,
                "impression_count": tweet.impression_count,
            }
        if "non_public_metrics" in fields:
            body["non_public_metrics"] = {
                "impression_count": tweet.impression_count,
                "url_link_clicks": tweet.url_link_clicks,
                "user_profile_clicks": tweet.user_profile_clicks,
            }
        return body

    def lookup_tweets(self, request: _Request) -> Response:
        """docs.x.com/x-api/posts/get-posts-by-ids; docs.x.com/x-api/fundamentals/metrics
        (non-public metrics: the author's own posts of the last 30 days, user context)."""
        token, rate = self._authenticate(request, "GET /2/tweets", "tweet.read", "users.read")
        ids = [i for i in ",".join(request.query.get("ids", [])).split(",") if i]
        if not ids or len(ids) > 100 or any(not i.isdigit() for i in ids):
            raise invalid_request("The `ids` query parameter value is not valid", "ids")
        fields = request.fields("tweet.fields")
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for tweet_id in ids:
            tweet = self.tweets.get(tweet_id)
            if tweet is None or tweet.deleted:
                errors.append(
                    {
                        "value": tweet_id,
                        "detail": f"Could not find tweet with ids: [{tweet_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": tweet_id,
                        "type": PROBLEMS + "resource-not-found",
                    }
                )
                continue
            private_ok = tweet.author_id == token.user_id and now - tweet.created_at <= timedelta(
                days=30
            )
            if "non_public_metrics" in fields and not private_ok:
                errors.append(
                    {
                        "value": tweet_id,
                        "detail": "Sorry, you are not authorized to access 'non_public_metrics' "
                        f"on the Tweet with ids: [{tweet_id}].",
                        "title": "Field Authorization Error",
                        "resource_type": "tweet",
                        "parameter": "non_public_metrics",
                        "resource_id": tweet_id,
                        "field": "non_public_metrics",
                        "section": "data",
                        "type": PROBLEMS + "not-authorized-for-field",
                    }
                )
                continue
            data.append(self._tweet_json(tweet, fields, token.user_id))
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return _json(200, body, rate)

    def _timeline(
        self, request: _Request, tweets: list[Tweet], *, minimum: int, maximum: int
    ) -> dict[str, Any]:
        """Newest first; ``since_id``/``until_id`` exclusive bounds; ``pagination_token``
        continues after the last page; ``meta`` with newest/oldest ids and ``next_token``."""
        q = {k: v[0] for k, v in request.query.items()}
        try:
            size = int(q.get("max_results") or 10)
        except ValueError as exc:
            raise invalid_request(
                "The `max_results` query parameter value is not valid", "max_results"
            ) from exc
        if not minimum <= size <= maximum:
            raise invalid_request(
                f"The `max_results` query parameter value [{size}] is not between "
                f"{minimum} and {maximum}",
                "max_results",
            )
        ordered = sorted(tweets, key=lambda t: int(t.id), reverse=True)
        for bound, keep in (
            ("since_id", lambda t, b: int(t.id) > b),
            ("until_id", lambda t, b: int(t.id) < b),
        ):
            if q.get(bound):
                if not q[bound].isdigit():
                    raise invalid_request(
                        f"The `{bound}` query parameter value is not valid", bound
                    )
                ordered = [t for t in ordered if keep(t, int(q[bound]))]
        if q.get("start_time"):
            start = datetime.fromisoformat(q["start_time"].replace("Z", "+00:00"))
            ordered = [t for t in ordered if t.created_at >= start]
        if q.get("pagination_token"):
            try:
                after = int(base64.urlsafe_b64decode(q["pagination_token"] + "==").decode())
            except ValueError as exc:
                raise invalid_request(
                    "The `pagination_token` query parameter value is not valid", "pagination_token"
                ) from exc
            ordered = [t for t in ordered if int(t.id) < after]
        page = ordered[:size]
        fields = request.fields("tweet.fields")
        meta: dict[str, Any] = {"result_count": len(page)}
        body: dict[str, Any] = {}
        if page:
            body["data"] = [self._tweet_json(t, fields, "") for t in page]
            meta["newest_id"], meta["oldest_id"] = page[0].id, page[-1].id
            if len(ordered) > size:
                meta["next_token"] = (
                    base64.urlsafe_b64encode(page[-1].id.encode()).decode().rstrip("=")
                )
            if "author_id" in request.fields("expansions"):
                authors = {t.author_id for t in page}
                user_fields = request.fields("user.fields")
                body["includes"] = {
                    "users": [self._user_json(self.users[a], user_fields) for a in sorted(authors)]
                }
        body["meta"] = meta
        return body

    def user_tweets(self, request: _Request, id: str) -> Response:
        """docs.x.com/x-api/users/get-posts (GET /2/users/:id/tweets; 5-100 per page)."""
        _, rate = self._authenticate(request, "GET /2/users/tweets", "tweet.read", "users.read")
        user = self.users.get(id)
        if user is None:
            raise _with(
                problem(
                    404,
                    "Not Found Error",
                    f"Could not find user with id: [{id}].",
                    PROBLEMS + "resource-not-found",
                ),
                rate,
            )
        return _json(
            200, self._timeline(request, self.tweets_of(user), minimum=5, maximum=100), rate
        )

    def user_mentions(self, request: _Request, id: str) -> Response:
        """docs.x.com/x-api/users/get-mentions (GET /2/users/:id/mentions; 5-100 per page;
        replies to the user's posts carry the @mention and appear here)."""
        _, rate = self._authenticate(request, "GET /2/users/mentions", "tweet.read", "users.read")
        user = self.users.get(id)
        if user is None:
            raise _with(
                problem(
                    404,
                    "Not Found Error",
                    f"Could not find user with id: [{id}].",
                    PROBLEMS + "resource-not-found",
                ),
                rate,
            )
        mentions = [
            t
            for t in self.tweets.values()
            if not t.deleted
            and t.author_id != id
            and (self._mentions(t, user) or t.in_reply_to_user_id == id)
        ]
        return _json(200, self._timeline(request, mentions, minimum=5, maximum=100), rate)

    # --- direct messages ------------------------------------------------------------------------

    def list_dm_events(self, request: _Request) -> Response:
        """docs.x.com/x-api/direct-messages/get-dm-events (GET /2/dm_events; newest first,
        ``next_token``/``previous_token``; default fields id, event_type, text)."""
        token, rate = self._authenticate(
            request, "GET /2/dm_events", "dm.read", "tweet.read", "users.read"
        )
        q = {k: v[0] for k, v in request.query.items()}
        size = int(q.get("max_results") or 100)
        if not 1 <= size <= 100:
            raise invalid_request(
                "The `max_results` query parameter value is not between 1 and 100", "max_results"
            )
        events = sorted(
            (e for e in self.dm_events.values() if token.user_id in (e.sender_id, e.recipient_id)),
            key=lambda e: int(e.id),
            reverse=True,
        )
        if q.get("pagination_token"):
            after = int(base64.urlsafe_b64decode(q["pagination_token"] + "==").decode())
            events = [e for e in events if int(e.id) < after]
        page = events[:size]
        fields = request.fields("dm_event.fields")
        data = []
        for event in page:
            item: dict[str, Any] = {
                "id": event.id,
                "event_type": "MessageCreate",
                "text": event.text,
            }
            if "sender_id" in fields:
                item["sender_id"] = event.sender_id
            if "dm_conversation_id" in fields:
                item["dm_conversation_id"] = event.conversation_id
            if "created_at" in fields:
                item["created_at"] = _iso(event.created_at)
            if "participant_ids" in fields:
                item["participant_ids"] = [event.sender_id, event.recipient_id]
            data.append(item)
        meta: dict[str, Any] = {"result_count": len(page)}
        body: dict[str, Any] = {}
        if page:
            body["data"] = data
            meta["previous_token"] = (
                base64.urlsafe_b64encode(page[0].id.encode()).decode().rstrip("=")
            )
            if len(events) > size:
                meta["next_token"] = (
                    base64.urlsafe_b64encode(page[-1].id.encode()).decode().rstrip("=")
                )
            if "sender_id" in request.fields("expansions"):
                body["includes"] = {
                    "users": [
                        self._user_json(self.users[u], set())
                        for u in sorted({e.sender_id for e in page})
                    ]
                }
        body["meta"] = meta
        return _json(200, body, rate)

    def send_dm_message(self, request: _Request, id: str) -> Response:
        """docs.x.com/x-api/direct-messages/create-dm-message-by-participant-id"""
        token, rate = self._authenticate(
            request, "POST /2/dm_conversations", "dm.write", "dm.read", "tweet.read", "users.read"
        )
        data = request.data()
        text = str(data.get("text") or "")
        if not text and not data.get("attachments"):
            raise invalid_request("$.text: is missing but it is required", "text")
        if id not in self.users:
            raise _with(
                problem(
                    404,
                    "Not Found Error",
                    f"Could not find user with id: [{id}].",
                    PROBLEMS + "resource-not-found",
                ),
                rate,
            )
        event = self.send_dm(self.users[token.user_id], self.users[id], text)
        return _json(
            201,
            {"data": {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}},
            rate,
        )

    # --- media ----------------------------------------------------------------------------------

    def _media_json(self, media: Media, *, with_processing: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": media.id,
            "media_key": _media_key(media),
            "size": media.size,
            "expires_after_secs": 86400,
        }
        if media.media_type.startswith("image/") and media.finalized:
            body["image"] = {"image_type": media.media_type, "w": 1200, "h": 675}
        if media.is_video and media.finalized:
            body["video"] = {"video_type": media.media_type}
        if with_processing and media.processing_left > 0:
            body["processing_info"] = {"state": "pending", "check_after_secs": 1}
        return body

    def media_upload(self, request: _Request) -> Response:
        """docs.x.com/x-api/media/upload-media (simple upload; multipart ``media`` +
        ``media_category``, or JSON with the bytes base64-encoded)."""
        token, rate = self._authenticate(request, "POST /2/media/upload", "media.write")
        fields, files = request.form()
        content = files.get("media", (b"", ""))[0] if "media" in files else b""
        if not content and fields.get("media"):
            try:
                content = base64.b64decode(fields["media"], validate=True)
            except ValueError as exc:
                raise _with(invalid_request("media is not valid base64", "media"), rate) from exc
        category = fields.get("media_category", "")
        if not content:
            raise _with(invalid_request("$.media: is missing but it is required", "media"), rate)
        if category not in ("tweet_image", "dm_image", "subtitles"):
            raise _with(
                invalid_request(
                    "$.media_category: is missing but it is required", "media_category"
                ),
                rate,
            )
        media_type = _sniff(content)
        if category == "subtitles":
            # Subtitles are SubRip text (developer.x.com media/upload-media/api-reference/
            # post-media-subtitles-create: "an invalid subtitle file" is a 400).
            media_type = "text/srt" if _SRT.match(content.decode("utf-8", "replace")) else None
        if media_type is None:
            raise _with(invalid_request("media type unrecognized.", "media"), rate)
        if len(content) > 5 * 1024 * 1024 and media_type != "image/gif":
            raise _with(invalid_request("File size exceeds 5242880 bytes.", "media"), rate)
        media = Media(self.new_id(), token.user_id, media_type, len(content), category=category)
        media.content = content
        self.media[media.id] = media
        return _json(200, {"data": self._media_json(media, with_processing=False)}, rate)

    def media_initialize(self, request: _Request) -> Response:
        """docs.x.com/x-api/media/initialize-media-upload"""
        token, rate = self._authenticate(request, "POST /2/media/upload/initialize", "media.write")
        data = request.data()
        total = data.get("total_bytes")
        media_type = str(data.get("media_type") or "")
        if not isinstance(total, int) or total <= 0:
            raise _with(
                invalid_request("$.total_bytes: is missing but it is required", "total_bytes"), rate
            )
        if not media_type:
            raise _with(
                invalid_request("$.media_type: is missing but it is required", "media_type"), rate
            )
        category = str(data.get("media_category") or "tweet_image")
        if category not in MEDIA_CATEGORIES:
            raise _with(invalid_request("$.media_category: invalid value", "media_category"), rate)
        if category.endswith("_video") and not media_type.startswith("video/"):
            raise _with(invalid_request("media type unrecognized.", "media_type"), rate)
        if category.endswith("_video") and total > VIDEO_MAX_BYTES:
            raise _with(
                invalid_request(f"File size exceeds {VIDEO_MAX_BYTES} bytes.", "total_bytes"), rate
            )
        media = Media(
            self.new_id(),
            token.user_id,
            media_type,
            total,
            finalized=False,
            category=category,
        )
        self.media[media.id] = media
        return _json(
            200,
            {"data": {"id": media.id, "media_key": _media_key(media), "expires_after_secs": 86400}},
            rate,
        )

    def media_append(self, request: _Request, id: str) -> Response:
        """docs.x.com/x-api/media/append-media-upload. The real API answers 204 with a
        ``text/html`` content type and an empty body (NETWORK-APIS.md, shapes)."""
        token, rate = self._authenticate(request, "POST /2/media/upload/append", "media.write")
        media = self.media.get(id)
        if media is None or media.user_id != token.user_id or media.finalized:
            raise _with(invalid_request("Invalid or expired media id", "id"), rate)
        fields, files = request.form()
        if "media" in files:
            chunk = files["media"][0]
        else:
            try:
                chunk = base64.b64decode(fields.get("media", ""), validate=True)
            except ValueError as exc:
                raise _with(invalid_request("media is not valid base64", "media"), rate) from exc
        try:
            index = int(fields.get("segment_index", ""))
        except ValueError as exc:
            raise _with(
                invalid_request("$.segment_index: is missing but it is required", "segment_index"),
                rate,
            ) from exc
        if not chunk or not 0 <= index <= 999:
            raise _with(
                invalid_request("Segment is empty or its index is out of range", "segment_index"),
                rate,
            )
        media.chunks[index] = chunk
        return 204, {"Content-Type": "text/html;charset=utf-8", **rate}, b""

    def media_finalize(self, request: _Request, id: str) -> Response:
        """docs.x.com/x-api/media/finalize-media-upload"""
        token, rate = self._authenticate(request, "POST /2/media/upload/finalize", "media.write")
        media = self.media.get(id)
        if media is None or media.user_id != token.user_id:
            raise _with(invalid_request("Invalid or expired media id", "id"), rate)
        received = b"".join(media.chunks[i] for i in sorted(media.chunks))
        if sorted(media.chunks) != list(range(len(media.chunks))) or len(received) != media.size:
            raise _with(
                invalid_request(
                    f"File size mismatch: expected {media.size} bytes, received {len(received)}.",
                    "id",
                ),
                rate,
            )
        media.finalized = True
        if media.is_video:
            # Processing starts "pending", then runs "in_progress" for a few STATUS checks.
            media.content = received
            media.state = "pending"
            media.processing_left = self.video_processing_polls
            body = self._media_json(media, with_processing=False)
            body["processing_info"] = {"state": "pending", "check_after_secs": 1}
            return _json(200, {"data": body}, rate)
        media.processing_left = self.media_processing_polls
        return _json(200, {"data": self._media_json(media, with_processing=True)}, rate)

    def media_status(self, request: _Request) -> Response:
        """docs.x.com/x-api/media/get-media-upload-status (``command=STATUS``)."""
        token, rate = self._authenticate(request, "GET /2/media/upload", "media.write")
        q = {k: v[0] for k, v in request.query.items()}
        media = self.media.get(q.get("media_id", ""))
        if q.get("command") != "STATUS" or media is None or media.user_id != token.user_id:
            raise _with(invalid_request("Invalid media_id or command", "media_id"), rate)
        body = self._media_json(media, with_processing=False)
        if media.is_video:
            body["processing_info"] = self._video_progress(media)
            return _json(200, {"data": body}, rate)
        if media.processing_left > 0:
            media.processing_left -= 1
            body["processing_info"] = {
                "state": "in_progress",
                "check_after_secs": 1,
                "progress_percent": 50,
            }
        else:
            body["processing_info"] = {"state": "succeeded", "progress_percent": 100}
        return _json(200, {"data": body}, rate)

    def _video_progress(self, media: Media) -> dict[str, Any]:
        """One STATUS look at a video: pending -> in_progress -> failed | succeeded
        (developer.x.com/en/docs/twitter-api/v1/media/upload-media/api-reference/
        get-media-upload-status gives the states and the failed answer's ``error``)."""
        if media.processing_left > 0:
            media.processing_left -= 1
            media.state = "in_progress"
            done = 100 * (self.video_processing_polls - media.processing_left)
            return {
                "state": "in_progress",
                "check_after_secs": 1,
                "progress_percent": min(99, done // (1 + self.video_processing_polls)),
            }
        if media.state in ("pending", "in_progress"):
            if self.video_processing_error:
                media.state = "failed"
                media.error = {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": self.video_processing_error,
                }
            elif not _is_mp4(media.content):
                media.state = "failed"
                media.error = {
                    "code": 1,
                    "name": "InvalidMedia",
                    "message": "Unsupported video format",
                }
            else:
                media.state = "succeeded"
        if media.state == "failed":
            return {"state": "failed", "progress_percent": 12, "error": media.error or {}}
        return {"state": "succeeded", "progress_percent": 100}

    def media_subtitles(self, request: _Request) -> Response:
        """docs.x.com/x-api/media/create-media-subtitles: attach an uploaded SRT file
        (``media_category=subtitles``) to a video, by language."""
        token, rate = self._authenticate(request, "POST /2/media/subtitles", "media.write")
        data = request.data()
        video = self.media.get(str(data.get("id") or ""))
        found = data.get("subtitles")
        subtitles: dict[str, Any] = found if isinstance(found, dict) else {}
        track = self.media.get(str(subtitles.get("id") or ""))
        if video is None or video.user_id != token.user_id or not video.is_video:
            raise _with(problem(404, "Not Found Error", "Could not find the media"), rate)
        if data.get("media_category") not in ("TweetVideo", "AmplifyVideo"):
            raise _with(invalid_request("$.media_category: invalid value", "media_category"), rate)
        if track is None or track.user_id != token.user_id or track.category != "subtitles":
            raise _with(invalid_request("Invalid subtitles media id", "subtitles.id"), rate)
        language = str(subtitles.get("language_code") or "")
        if not re.fullmatch(r"[A-Za-z]{2}", language) or not subtitles.get("display_name"):
            raise _with(
                invalid_request(
                    "$.subtitles: language_code and display_name are required", "subtitles"
                ),
                rate,
            )
        entry = {
            "display_name": str(subtitles["display_name"]),
            "id": track.id,
            "language_code": language,
        }
        video.subtitles = [s for s in video.subtitles if s["language_code"] != language] + [entry]
        return _json(
            200,
            {
                "data": {
                    "associated_subtitles": video.subtitles,
                    "id": video.id,
                    "media_category": data["media_category"],
                }
            },
            rate,
        )

    def media_metadata(self, request: _Request) -> Response:
        """docs.x.com/x-api/media/create-media-metadata (alt text up to 1,000 characters)."""
        token, rate = self._authenticate(request, "POST /2/media/metadata", "media.write")
        data = request.data()
        media = self.media.get(str(data.get("id") or ""))
        alt = ((data.get("metadata") or {}).get("alt_text") or {}).get("text")
        if media is None or media.user_id != token.user_id:
            raise _with(invalid_request("Invalid media id", "id"), rate)
        if not isinstance(alt, str) or len(alt) > 1000:
            raise _with(
                invalid_request(
                    "$.metadata.alt_text.text: must be at most 1000 characters",
                    "metadata.alt_text.text",
                ),
                rate,
            )
        media.alt_text = alt
        return _json(
            200,
            {"data": {"id": media.id, "associated_metadata": {"alt_text": {"text": alt}}}},
            rate,
        )


def _media_key(media: Media) -> str:
    """Media keys are ``<type>_<id>``: 3 for photos, 7 for videos (as in the media
    object's samples, docs.x.com/x-api/fundamentals/data-dictionary)."""
    return f"{7 if media.is_video else 3}_{media.id}"


def _with(error: HttpError, headers: dict[str, str]) -> HttpError:
    error.headers = headers
    return error


_SRT = re.compile(r"\s*\d+\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}")


def _is_mp4(content: bytes) -> bool:
    """An ISO base media file (MP4 or MOV): its first box is ``ftyp``."""
    return content[4:8] == b"ftyp"


def _sniff(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def fields(self, name: str) -> set[str]:
        return {f for value in self.query.get(name, []) for f in value.split(",") if f}

    def data(self) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            try:
                loaded = json.loads(self.body or b"{}")
            except ValueError as exc:
                raise invalid_request("Request body is not valid JSON") from exc
            return loaded if isinstance(loaded, dict) else {}
        if content_type.startswith("multipart/form-data"):
            return dict(self.form()[0])
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def form(self) -> tuple[dict[str, str], dict[str, tuple[bytes, str]]]:
        """Fields and files of a multipart body; a JSON body's keys as fields."""
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            data = self.data()
            return {k: str(v) for k, v in data.items()}, {}
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body
        )
        fields: dict[str, str] = {}
        files: dict[str, tuple[bytes, str]] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            payload = part.get_payload(decode=True)
            payload = payload if isinstance(payload, bytes) else b""
            if part.get_filename():
                files[name] = (payload, part.get_content_type())
            else:
                fields[name] = payload.decode()
        return fields, files


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(body).encode(),
    )


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return 302, {"Location": uri + separator + urlencode(params)}, b""
