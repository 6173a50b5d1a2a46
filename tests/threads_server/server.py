"""A small Threads API server for the tests, served on 127.0.0.1 in a background thread.

It follows Meta's Threads API documentation (developers.facebook.com
``documentation/threads/...``; the page is cited beside each endpoint) for the
parts GovSocial uses, and the shapes seen in real answers (NETWORK-APIS.md,
"Shapes of real answers"): ids are strings except the ``user_id`` of the
short-lived token answer (an integer); times look like
``2024-05-01T10:00:00+0000``; fields not asked for are left out, never null;
cursor paging with ``paging.cursors`` and a ``next`` only when there is more;
errors as Graph error objects ``{"error": {message, type, code,
error_subcode?, fbtrace_id}}``; an ``X-App-Usage`` header on every API answer.

One server plays both hosts: ``threads.net`` (the authorization window,
``/oauth/authorize``) and ``graph.threads.net`` (everything else).

Images are fetched by the server from the ``image_url`` it is given, as Threads
does ("Threads retrieves your image from the URL provided"), so the URL must
really serve a JPEG or PNG. Videos likewise from ``video_url`` (an MP4 or MOV of
at most 1 GB, documentation/threads/overview#video-specifications); a video
container stays ``IN_PROGRESS`` for ``video_processing_polls`` status reads, and
``video_error`` makes processing end in ``ERROR`` with that ``error_message``
(the values listed in documentation/threads/troubleshooting, e.g.
``FAILED_PROCESSING_VIDEO``).

Where the docs are silent the server makes a documented-looking choice and says
so in a comment marked "(not documented)".

Switches for fault tests: ``fail_next`` (answer with an error), ``hang`` (hold a
request before or after it takes effect), ``processing_polls`` (containers stay
IN_PROGRESS for that many status reads), ``expire_container``.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import secrets
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

VERSION = "v1.0"
# documentation/threads/get-started/get-access-tokens-and-permissions (+ threads-mentions,
# posts/delete-posts): the permissions an app may ask for.
KNOWN_SCOPES = {
    "threads_basic",
    "threads_content_publish",
    "threads_read_replies",
    "threads_manage_replies",
    "threads_manage_insights",
    "threads_manage_mentions",
    "threads_delete",
    "threads_keyword_search",
}
SHORT_LIVED = timedelta(hours=1)
LONG_LIVED = timedelta(days=60)
# documentation/threads/posts: "Text posts are limited to 500 characters."
MAX_TEXT = 500
# documentation/threads/posts (carousel posts): 2 to 20 children.
CAROUSEL_MIN, CAROUSEL_MAX = 2, 20
# documentation/threads/overview: 250 posts and 1,000 replies per 24 h.
POST_QUOTA, REPLY_QUOTA, DELETE_QUOTA = 250, 1000, 100
QUOTA_SECONDS = 86400
IMAGE_TYPES = {"image/jpeg", "image/png"}
MAX_IMAGE_BYTES = 8 * 1024 * 1024
# documentation/threads/overview#video-specifications: MOV or MP4, 1 GB at most.
VIDEO_TYPES = {"video/mp4", "video/quicktime"}
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
# documentation/threads/reply-management: the five reply_control values.
REPLY_CONTROLS = {
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
}
MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
USER_METRICS = ("views", "likes", "replies", "reposts", "quotes", "clicks", "followers_count")

Response = tuple[int, dict[str, str], bytes]


def graph_time(moment: datetime) -> str:
    """Graph's time format: no colon in the offset."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class GraphError(Exception):
    """A Graph error object (documentation/graph-api/guides/error-handling shape)."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        status: int = 400,
        type: str | None = None,
        subcode: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        # Token errors are OAuthException; the API's own errors THApiException (as in
        # recorded answers, e.g. fbsamples/threads_api#27: code 100, subcode 33).
        kind = type or ("OAuthException" if code in (190, 4, 10) else "THApiException")
        self.body: dict[str, Any] = {"message": message, "type": kind, "code": code}
        if subcode is not None:
            self.body["error_subcode"] = subcode
        self.body["fbtrace_id"] = "A" + secrets.token_urlsafe(16)


@dataclass
class App:
    id: str
    secret: str
    redirect_uris: list[str]


@dataclass
class User:
    id: str
    username: str
    name: str
    biography: str = ""
    followers_count: int = 0
    is_private: bool = False


@dataclass
class Token:
    token: str
    app_id: str
    user_id: str
    scopes: set[str]
    long_lived: bool
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False


@dataclass
class Grant:
    app_id: str
    redirect_uri: str
    scopes: set[str]
    user_id: str
    used: bool = False


@dataclass
class Container:
    id: str
    user_id: str
    media_type: str
    created_at: datetime
    text: str = ""
    image_url: str = ""
    image_bytes: bytes = b""
    video_url: str = ""
    video_bytes: bytes = b""
    alt_text: str = ""
    link_attachment: str = ""
    reply_to_id: str = ""
    reply_control: str = ""
    is_carousel_item: bool = False
    children: list[str] = field(default_factory=list)
    status: str = "IN_PROGRESS"
    error_message: str = ""
    polls_left: int = 0
    # A video's processing failure, shown once processing ends.
    pending_error: str = ""
    media_id: str = ""


@dataclass
class Media:
    id: str
    user_id: str
    media_type: str
    text: str
    timestamp: datetime
    shortcode: str
    alt_text: str = ""
    link_attachment: str = ""
    reply_control: str = "everyone"
    children: list[str] = field(default_factory=list)
    replied_to: str = ""
    root_post: str = ""
    hidden: bool = False
    deleted: bool = False
    is_carousel_item: bool = False
    image_bytes: bytes = b""
    video_bytes: bytes = b""
    mentions: list[str] = field(default_factory=list)
    views: int = 0
    likes: int = 0
    reposts: int = 0
    quotes: int = 0
    shares: int = 0


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
    form: dict[str, str]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> Any:
        return io.StringIO()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]

    def param(self, name: str, default: str = "") -> str:
        """Graph takes parameters in the query string or the form body alike."""
        return self.form.get(name, self.query.get(name, default))


class ThreadsTestServer:
    def __init__(self) -> None:
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.grants: dict[str, Grant] = {}
        self.containers: dict[str, Container] = {}
        self.media: dict[str, Media] = {}
        self.requests: list[LoggedRequest] = []
        # How many status reads a new container stays IN_PROGRESS for.
        self.processing_polls = 0
        # Video containers take longer; and a processing failure can be staged.
        self.video_processing_polls = 2
        self.video_error = ""
        # Calls each token may make before code 4 (None: unlimited).
        self.call_limit: int | None = None
        # Waits the client would have slept (the fixture records instead of sleeping).
        self.client_waits: list[float] = []
        # "Now" for the server's clocks; tests move it to age tokens.
        self.clock_offset = timedelta()
        self._calls: dict[str, int] = {}
        # Files the server hands out itself (``host_file``): a stand-in for the public
        # media URLs GovSocial gives Threads.
        self.files: dict[str, tuple[str, bytes]] = {}
        self._failures: list[Failure] = []
        self._hangs: list[Hang] = []
        self._lost: list[Failure] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._ids = itertools.count(17_841_400_000_000_001)
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        # The person who approves in the authorization window.
        self.user = self.create_user("cityofexample", "City of Example")
        self.app = self.create_app()

    # --- running -------------------------------------------------------------------

    def start(self) -> ThreadsTestServer:
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
        return self.base_url + "/oauth/authorize"

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    # --- switches and helpers for tests -----------------------------------------------

    def fail_next(
        self,
        status: int = 500,
        *,
        code: int = 2,
        message: str = "An unexpected error has occurred. Please retry your request later.",
        subcode: int | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with a Graph error (before acting)."""
        error = GraphError(message, code=code, status=status, subcode=subcode)
        with self._lock:
            self._failures.append(
                Failure(status, method, path_prefix, times, {"error": error.body}, headers or {})
            )

    def lose_answer(
        self, *, method: str | None = None, path_prefix: str | None = None, times: int = 1
    ) -> None:
        """Let the next ``times`` matching requests take effect, then answer 502 from "a
        proxy" instead of the real answer: the request happened, the answer was lost."""
        with self._lock:
            self._lost.append(Failure(502, method, path_prefix, times, {}, {}))

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

    def create_user(self, username: str, name: str = "", **values: Any) -> User:
        user = User(self.new_id(), username, name or username, **values)
        self.users[user.id] = user
        return user

    def create_app(self, redirect_uris: Iterable[str] = ()) -> App:
        app = App(
            id=str(next(self._ids))[-15:],
            secret=secrets.token_hex(16),
            redirect_uris=list(redirect_uris),
        )
        self.apps[app.id] = app
        return app

    def issue_token(
        self,
        user: User | None = None,
        *,
        scopes: Iterable[str] | None = None,
        long_lived: bool = True,
        age: timedelta = timedelta(),
    ) -> str:
        """A token as if the OAuth flow had run (for tests about other things)."""
        issued = self.now() - age
        token = Token(
            token="TH" + secrets.token_urlsafe(40),
            app_id=self.app.id,
            user_id=(user or self.user).id,
            scopes=set(scopes if scopes is not None else KNOWN_SCOPES),
            long_lived=long_lived,
            issued_at=issued,
            expires_at=issued + (LONG_LIVED if long_lived else SHORT_LIVED),
        )
        self.tokens[token.token] = token
        return token.token

    def approve(self, authorization_url: str) -> dict[str, str]:
        """Play the person's browser: open the authorization window, allow, and return the
        query of the redirect back to the app (``code`` and ``state``, or ``error``)."""
        import requests

        response = requests.get(authorization_url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location:
            raise AssertionError(f"authorize answered {response.status_code}: {response.text}")
        # Threads appends "#_" to the redirect; a browser never sends the fragment.
        query = urlsplit(location.split("#", 1)[0]).query
        return {k: v[0] for k, v in parse_qs(query).items()}

    def post_as(
        self,
        author: User,
        text: str,
        *,
        reply_to: str = "",
        mention: User | None = None,
        at: datetime | None = None,
    ) -> Media:
        """Someone (or the account itself) posts on Threads directly."""
        with self._lock:
            parent = self.media.get(reply_to) if reply_to else None
            media = self._make_media(
                author,
                media_type="TEXT_POST",
                text=text,
                replied_to=parent.id if parent else "",
                root_post=(parent.root_post or parent.id) if parent else "",
                at=at,
            )
            if mention is not None:
                media.mentions.append(mention.id)
            return media

    def posts_of(self, user: User) -> list[Media]:
        return [
            m
            for m in self.media.values()
            if m.user_id == user.id and not m.deleted and not m.is_carousel_item
        ]

    def host_file(self, content: bytes, content_type: str) -> str:
        """Serve ``content`` at a public-looking address and return it."""
        name = secrets.token_urlsafe(12)
        self.files[name] = (content_type, content)
        return f"{self.base_url}/files/{name}"

    def expire_container(self, container_id: str) -> None:
        with self._lock:
            self.containers[container_id].status = "EXPIRED"

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- the WSGI app --------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
        if method == "GET" and path.startswith("/files/"):
            # Hosted files are fetched by the server itself while it holds its lock.
            hosted = self.files.get(path.removeprefix("/files/"))
            if hosted is None:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"Not found"]
            start_response("200 OK", [("Content-Type", hosted[0])])
            return [hosted[1]]
        query = {
            k: v[0]
            for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
        }
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        form: dict[str, str] = {}
        if body and "json" not in environ.get("CONTENT_TYPE", ""):
            form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(LoggedRequest(method, path, dict(query), headers, dict(form)))
            hang = self._matching_hang(method, path)
            failure = self._take_failure(method, path)
        if hang is not None and not hang.after_processing:
            self._released.wait(timeout=30)
        if failure is not None:
            status, extra, payload = (
                failure.status,
                {"Content-Type": "application/json", **failure.headers},
                json.dumps(failure.body).encode(),
            )
        else:
            status, extra, payload = self._dispatch(_Request(method, path, query, form, headers))
            with self._lock:
                lost = self._take(self._lost, method, path)
            if lost is not None:
                status, extra = 502, {"Content-Type": "text/html"}
                payload = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        if hang is not None and hang.after_processing:
            self._released.wait(timeout=30)
        reason = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized",
                  403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
                  502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Status")  # fmt: skip
        start_response(f"{status} {reason}", list(extra.items()))
        return [payload]

    def _matching_hang(self, method: str, path: str) -> Hang | None:
        for hang in self._hangs:
            if hang.method in (None, method) and path.startswith(hang.path_prefix or ""):
                return hang
        return None

    def _take_failure(self, method: str, path: str) -> Failure | None:
        return self._take(self._failures, method, path)

    @staticmethod
    def _take(failures: list[Failure], method: str, path: str) -> Failure | None:
        for failure in failures:
            if failure.method in (None, method) and path.startswith(failure.path_prefix or ""):
                failure.times -= 1
                if failure.times <= 0:
                    failures.remove(failure)
                return failure
        return None

    def _dispatch(self, request: _Request) -> Response:
        v = re.escape("/" + VERSION)
        node = r"(?P<id>me|\d+)"
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", r"/oauth/authorize", self.authorize),
            ("POST", r"/oauth/access_token", self.short_lived_token),
            ("GET", r"/access_token", self.long_lived_token),
            ("GET", r"/refresh_access_token", self.refresh_token),
            ("GET", r"/debug_token", self.debug_token),
            ("GET", rf"{v}/debug_token", self.debug_token),
            ("POST", rf"{v}/{node}/threads", self.create_container),
            ("GET", rf"{v}/{node}/threads", self.user_threads),
            ("POST", rf"{v}/{node}/threads_publish", self.publish),
            ("GET", rf"{v}/{node}/threads_publishing_limit", self.publishing_limit),
            ("GET", rf"{v}/{node}/threads_insights", self.user_insights),
            ("GET", rf"{v}/{node}/mentions", self.mentions),
            ("GET", rf"{v}/{node}/replies", self.replies),
            ("GET", rf"{v}/{node}/conversation", self.conversation),
            ("POST", rf"{v}/{node}/manage_reply", self.manage_reply),
            ("GET", rf"{v}/{node}/insights", self.media_insights),
            ("GET", rf"{v}/{node}", self.get_node),
            ("DELETE", rf"{v}/{node}", self.delete_media),
        ]
        try:
            for route_method, pattern, handler in routes:
                match = re.fullmatch(pattern, request.path)
                if match and route_method == request.method:
                    with self._lock:
                        return handler(request, **match.groupdict())
            raise GraphError(
                "Unsupported request - method type: " + request.method.lower(), code=100
            )
        except GraphError as exc:
            return (
                exc.status,
                {"Content-Type": "application/json", **exc.headers},
                json.dumps({"error": exc.body}).encode(),
            )

    # --- auth ---------------------------------------------------------------------------

    def _authenticate(self, request: _Request, *scopes: str) -> tuple[Token, dict[str, str]]:
        """The token from ``access_token`` or ``Authorization: Bearer``; code 190 when it
        is unknown, expired or revoked (documentation/graph-api/guides/error-handling)."""
        auth = request.headers.get("Authorization", "")
        raw = auth[7:] if auth.startswith("Bearer ") else request.param("access_token")
        token = self.tokens.get(raw)
        if token is None:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        if token.revoked:
            raise GraphError(
                "Error validating access token: The user has not authorized application "
                + token.app_id
                + ".",
                code=190,
                subcode=458,
            )
        if token.expires_at <= self.now():
            raise GraphError(
                "Error validating access token: Session has expired.", code=190, subcode=463
            )
        used = self._calls.get(token.token, 0) + 1
        self._calls[token.token] = used
        limit = self.call_limit
        # X-App-Usage: percentages of the call budget (Graph convention; the Threads
        # overview gives the budget, 4800 x impressions per 24 h).
        percent = min(100, used * 100 // limit) if limit else min(100, used // 48)
        usage = {"X-App-Usage": json.dumps(
            {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
        )}  # fmt: skip
        if limit is not None and used > limit:
            raise GraphError("Application request limit reached", code=4, headers=usage)
        for scope in ("threads_basic", *scopes):
            if scope not in token.scopes:
                raise GraphError(
                    "(#10) Application does not have permission for this action",
                    code=10,
                    status=403,
                )
        return token, usage

    def _user_node(self, token: Token, node_id: str) -> User:
        user_id = token.user_id if node_id == "me" else node_id
        if user_id != token.user_id:
            raise GraphError(
                f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                code=100,
                subcode=33,
            )
        return self.users[user_id]

    def _media_node(self, media_id: str) -> Media:
        media = self.media.get(media_id)
        if media is None or media.deleted:
            raise GraphError(
                f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation.",
                code=100,
                subcode=33,
            )
        return media

    # documentation/threads/get-started/get-access-tokens-and-permissions -------------------

    def authorize(self, request: _Request) -> Response:
        """The authorization window; the person allows at once (no form)."""
        q = request.query
        app = self.apps.get(q.get("client_id", ""))
        if app is None or q.get("redirect_uri") not in app.redirect_uris:
            body = "<h1>Error</h1><p>Invalid redirect_uri or client_id.</p>"
            return 400, {"Content-Type": "text/html"}, body.encode()
        redirect_uri = q["redirect_uri"]
        state = {"state": q["state"]} if "state" in q else {}
        # Scopes are comma-separated in the docs; accept spaces too.
        scopes = {s for s in re.split(r"[,\s]+", q.get("scope", "")) if s}
        if q.get("response_type") != "code" or not scopes or not scopes <= KNOWN_SCOPES:
            return _redirect(
                redirect_uri,
                {"error": "invalid_scope" if scopes else "invalid_request", **state},
            )
        code = secrets.token_urlsafe(48)
        self.grants[code] = Grant(app.id, redirect_uri, scopes, self.user.id)
        return _redirect(redirect_uri, {"code": code, **state}, fragment="_")

    def short_lived_token(self, request: _Request) -> Response:
        """``POST /oauth/access_token``: the code for a one-hour token. The answer's
        ``user_id`` is a number (recorded answers); errors here use the older
        ``error_type``/``error_message`` shape."""
        app = self.apps.get(request.param("client_id"))
        grant = self.grants.get(request.param("code"))

        def fail(message: str) -> Response:
            body = {"error_type": "OAuthException", "code": 400, "error_message": message}
            return _json(400, body)

        if app is None or not secrets.compare_digest(app.secret, request.param("client_secret")):
            return fail("Invalid platform app")
        if request.param("grant_type") != "authorization_code":
            return fail("Unsupported grant_type")
        if grant is None or grant.used or grant.app_id != app.id:
            return fail("Invalid authorization code")
        if request.param("redirect_uri") != grant.redirect_uri:
            return fail("Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request")  # fmt: skip  # noqa: E501
        grant.used = True
        now = self.now()
        token = Token(
            token="TH" + secrets.token_urlsafe(40),
            app_id=app.id,
            user_id=grant.user_id,
            scopes=set(grant.scopes),
            long_lived=False,
            issued_at=now,
            expires_at=now + SHORT_LIVED,
        )
        self.tokens[token.token] = token
        return _json(200, {"access_token": token.token, "user_id": int(grant.user_id)})

    # documentation/threads/get-started/long-lived-tokens ------------------------------------

    def long_lived_token(self, request: _Request) -> Response:
        """``GET /access_token?grant_type=th_exchange_token&client_secret=&access_token=``."""
        if request.param("grant_type") != "th_exchange_token":
            raise GraphError("Unsupported grant type", code=100)
        token = self.tokens.get(request.param("access_token"))
        if token is None or token.expires_at <= self.now():
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        app = self.apps[token.app_id]
        if not secrets.compare_digest(app.secret, request.param("client_secret")):
            raise GraphError("Error validating client secret.", code=1)
        return _json(200, self._renew(token, long_lived=True))

    def refresh_token(self, request: _Request) -> Response:
        """``GET /refresh_access_token?grant_type=th_refresh_token&access_token=``: only for a
        long-lived token at least 24 hours old and not expired; valid 60 days from now."""
        if request.param("grant_type") != "th_refresh_token":
            raise GraphError("Unsupported grant type", code=100)
        token = self.tokens.get(request.param("access_token"))
        now = self.now()
        if token is None or token.revoked or token.expires_at <= now or not token.long_lived:
            raise GraphError(
                "Error validating access token: Session has expired.", code=190, subcode=463
            )
        if now - token.issued_at < timedelta(hours=24):
            # (not documented) the message for a token younger than 24 hours.
            raise GraphError("Access token must be at least 24 hours old to refresh.", code=100)
        return _json(200, self._renew(token, long_lived=True))

    def _renew(self, token: Token, *, long_lived: bool) -> dict[str, Any]:
        now = self.now()
        token.revoked = True
        new = Token(
            token="TH" + secrets.token_urlsafe(40),
            app_id=token.app_id,
            user_id=token.user_id,
            scopes=set(token.scopes),
            long_lived=long_lived,
            issued_at=now,
            expires_at=now + LONG_LIVED,
        )
        self.tokens[new.token] = new
        return {
            "access_token": new.token,
            "token_type": "bearer",
            "expires_in": int((new.expires_at - now).total_seconds()) - 56,
        }

    # documentation/threads/reference (debug_token: "Retrieve various data about an access
    # token"; fields as Graph's debug_token) ------------------------------------------------

    def debug_token(self, request: _Request) -> Response:
        _token, usage = self._authenticate(request)
        checked = self.tokens.get(request.param("input_token"))
        if checked is None:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        return _json(
            200,
            {
                "data": {
                    "type": "USER",
                    "application": "GovSocial",
                    "app_id": checked.app_id,
                    "is_valid": not checked.revoked and checked.expires_at > self.now(),
                    "issued_at": int(checked.issued_at.timestamp()),
                    "expires_at": int(checked.expires_at.timestamp()),
                    "data_access_expires_at": int(
                        (checked.issued_at + timedelta(days=90)).timestamp()
                    ),
                    "scopes": sorted(checked.scopes),
                    "user_id": checked.user_id,
                }
            },
            usage,
        )

    # documentation/threads/threads-profiles; documentation/threads/posts -------------------

    def get_node(self, request: _Request, id: str) -> Response:
        """A user (``me`` or an id), a container (``?fields=status,error_message``,
        documentation/threads/troubleshooting) or a media object
        (documentation/threads/retrieve-and-discover-posts/retrieve-posts)."""
        token, usage = self._authenticate(request)
        fields = _fields(request, default=("id",))
        if id == "me" or id in self.users:
            user = self._user_node(token, id)
            values = {
                "id": user.id,
                "username": user.username,
                "name": user.name,
                "threads_biography": user.biography,
                "threads_profile_picture_url": f"{self.base_url}/pictures/{user.id}.jpg",
                "is_verified": False,
            }
            return _json(200, _pick(values, fields), usage)
        container = self.containers.get(id)
        if container is not None and container.user_id == token.user_id:
            if container.status == "IN_PROGRESS" and container.polls_left > 0:
                container.polls_left -= 1
                if container.polls_left == 0:
                    container.status = "ERROR" if container.pending_error else "FINISHED"
                    container.error_message = container.pending_error
            values = {"id": container.id, "status": container.status}
            if container.status == "ERROR":
                values["error_message"] = container.error_message
            return _json(200, _pick(values, fields), usage)
        media = self._media_node(id)
        return _json(200, _pick(self._media_json(media), fields), usage)

    def _media_json(self, media: Media) -> dict[str, Any]:
        author = self.users[media.user_id]
        values: dict[str, Any] = {
            "id": media.id,
            "media_product_type": "THREADS",
            "media_type": media.media_type,
            "permalink": f"https://www.threads.com/@{author.username}/post/{media.shortcode}",
            "owner": {"id": author.id},
            "username": author.username,
            "timestamp": graph_time(media.timestamp),
            "shortcode": media.shortcode,
            "is_quote_post": False,
            "has_replies": any(m.replied_to == media.id and not m.deleted
                               for m in self.media.values()),
            "is_reply": bool(media.replied_to),
            "reply_audience": media.reply_control.upper(),
        }  # fmt: skip
        if media.text:
            values["text"] = media.text
        if media.alt_text:
            values["alt_text"] = media.alt_text
        if media.link_attachment:
            values["link_attachment_url"] = media.link_attachment
        if media.image_bytes:
            values["media_url"] = f"{self.base_url}/media/{media.id}.jpg"
        if media.video_bytes:
            values["media_url"] = f"{self.base_url}/media/{media.id}.mp4"
        if media.children:
            values["children"] = {"data": [{"id": c} for c in media.children]}
        if media.replied_to:
            values["replied_to"] = {"id": media.replied_to}
            values["root_post"] = {"id": media.root_post}
            root = self.media.get(media.root_post)
            values["is_reply_owned_by_me"] = bool(root and root.user_id == media.user_id)
            values["hide_status"] = "HIDDEN" if media.hidden else "NOT_HUSHED"
        return values

    def create_container(self, request: _Request, id: str) -> Response:
        """``POST /{threads-user-id}/threads`` (documentation/threads/posts)."""
        token, usage = self._authenticate(request, "threads_content_publish")
        user = self._user_node(token, id)
        media_type = request.param("media_type").upper()
        text = request.param("text")
        is_item = request.param("is_carousel_item").lower() == "true"
        if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            raise GraphError("Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}",
                             code=100)  # fmt: skip
        if len(text.encode("utf-8")) > MAX_TEXT and _threads_length(text) > MAX_TEXT:
            raise GraphError(
                "The post text is too long. Text posts are limited to 500 characters.",
                code=100,
                subcode=4279009,  # (not documented) the subcode we return for long text
            )
        if media_type == "TEXT" and not text:
            raise GraphError("Param text is required for media_type TEXT", code=100)
        reply_control = request.param("reply_control")
        if reply_control and reply_control not in REPLY_CONTROLS:
            raise GraphError("Param reply_control is not a valid value", code=100)
        reply_to_id = request.param("reply_to_id")
        if reply_to_id:
            self._media_node(reply_to_id)
        container = Container(
            id=self.new_id(),
            user_id=user.id,
            media_type=media_type,
            created_at=self.now(),
            text=text,
            alt_text=request.param("alt_text"),
            link_attachment=request.param("link_attachment"),
            reply_to_id=reply_to_id,
            reply_control=reply_control,
            is_carousel_item=is_item,
            polls_left=self.processing_polls,
        )
        if media_type == "IMAGE":
            container.image_url = request.param("image_url")
            if not container.image_url:
                raise GraphError("Param image_url is required for media_type IMAGE", code=100)
            container.image_bytes, problem = _fetch_image(container.image_url)
            if problem:
                container.status, container.error_message = "ERROR", problem
        elif media_type == "VIDEO":
            container.video_url = request.param("video_url")
            if not container.video_url:
                raise GraphError("Param video_url is required for media_type VIDEO", code=100)
            container.polls_left = max(self.video_processing_polls, self.processing_polls)
            container.video_bytes, problem = _fetch_video(container.video_url)
            container.pending_error = problem or self.video_error
        elif media_type == "CAROUSEL":
            children = [c for c in request.param("children").split(",") if c]
            if not CAROUSEL_MIN <= len(children) <= CAROUSEL_MAX:
                raise GraphError(
                    f"A carousel must have between {CAROUSEL_MIN} and {CAROUSEL_MAX} children.",
                    code=100,
                )
            for child_id in children:
                child = self.containers.get(child_id)
                if child is None or not child.is_carousel_item or child.user_id != user.id:
                    raise GraphError(f"Invalid carousel child {child_id}", code=100)
                if child.status != "FINISHED":
                    # documentation/threads/posts: each item must be FINISHED first.
                    raise GraphError(
                        "The media is not ready for publishing, please wait for a moment",
                        code=9007,
                        subcode=2207027,
                    )
            container.children = children
        if container.status == "IN_PROGRESS" and container.polls_left == 0:
            container.status = "ERROR" if container.pending_error else "FINISHED"
            container.error_message = container.pending_error
        self.containers[container.id] = container
        return _json(200, {"id": container.id}, usage)

    def publish(self, request: _Request, id: str) -> Response:
        """``POST /{threads-user-id}/threads_publish?creation_id=`` (documentation/threads/posts).
        The 250-posts/1,000-replies quotas apply here (documentation/threads/overview)."""
        token, usage = self._authenticate(request, "threads_content_publish")
        user = self._user_node(token, id)
        container = self.containers.get(request.param("creation_id"))
        if container is None or container.user_id != user.id or container.is_carousel_item:
            raise GraphError(
                "Media ID is not available",
                code=9007,
                subcode=2207032,  # (not documented)
            )
        if container.status == "PUBLISHED":
            raise GraphError("The media has already been published.", code=9007, subcode=2207032)
        if container.status == "EXPIRED":
            raise GraphError("The media container has expired.", code=9007, subcode=2207008)
        if container.status == "ERROR":
            raise GraphError("Media upload has failed with error code 2207001", code=9007,
                             subcode=2207001)  # fmt: skip
        if container.status != "FINISHED":
            raise GraphError(
                "The media is not ready for publishing, please wait for a moment",
                code=9007,
                subcode=2207027,
            )
        usage_posts, usage_replies, _ = self._quota_usage(user)
        if (container.reply_to_id and usage_replies >= REPLY_QUOTA) or (
            not container.reply_to_id and usage_posts >= POST_QUOTA
        ):
            # (not documented for Threads) Instagram's "max posts per day" error.
            raise GraphError("Application request limit reached", code=9, subcode=2207042)
        parent = self.media.get(container.reply_to_id) if container.reply_to_id else None
        children = []
        for child_id in container.children:
            child = self.containers[child_id]
            child_media = self._make_media(
                user,
                media_type="IMAGE",
                text="",
                image_bytes=child.image_bytes,
                alt_text=child.alt_text,
                carousel_item=True,
            )
            child.status, child.media_id = "PUBLISHED", child_media.id
            children.append(child_media.id)
        media = self._make_media(
            user,
            media_type={"TEXT": "TEXT_POST", "CAROUSEL": "CAROUSEL_ALBUM"}.get(
                container.media_type, container.media_type
            ),
            text=container.text,
            image_bytes=container.image_bytes,
            video_bytes=container.video_bytes,
            alt_text=container.alt_text,
            link_attachment=container.link_attachment,
            reply_control=container.reply_control or "everyone",
            replied_to=parent.id if parent else "",
            root_post=(parent.root_post or parent.id) if parent else "",
        )
        media.children = children
        container.status, container.media_id = "PUBLISHED", media.id
        return _json(200, {"id": media.id}, usage)

    def _make_media(
        self,
        user: User,
        *,
        media_type: str,
        text: str,
        at: datetime | None = None,
        image_bytes: bytes = b"",
        video_bytes: bytes = b"",
        alt_text: str = "",
        link_attachment: str = "",
        reply_control: str = "everyone",
        replied_to: str = "",
        root_post: str = "",
        carousel_item: bool = False,
    ) -> Media:
        media = Media(
            id=self.new_id(),
            user_id=user.id,
            media_type=media_type,
            text=text,
            timestamp=(at or self.now()).replace(microsecond=0),
            shortcode=base64.urlsafe_b64encode(secrets.token_bytes(8)).decode().rstrip("="),
            image_bytes=image_bytes,
            video_bytes=video_bytes,
            alt_text=alt_text,
            link_attachment=link_attachment,
            reply_control=reply_control,
            replied_to=replied_to,
            root_post=root_post,
            is_carousel_item=carousel_item,
        )
        self.media[media.id] = media
        return media

    def delete_media(self, request: _Request, id: str) -> Response:
        """``DELETE /{threads-media-id}`` (documentation/threads/posts/delete-posts)."""
        token, usage = self._authenticate(request, "threads_delete")
        media = self._media_node(id)
        if media.user_id != token.user_id:
            raise GraphError("(#10) Application does not have permission for this action",
                             code=10, status=403)  # fmt: skip
        media.deleted = True
        return _json(200, {"success": True, "deleted_id": media.id}, usage)

    # documentation/threads/threads-profiles (retrieve a user's threads) --------------------

    def user_threads(self, request: _Request, id: str) -> Response:
        token, usage = self._authenticate(request)
        user = self._user_node(token, id)
        posts = [m for m in self.posts_of(user) if not m.replied_to]
        posts = _time_window(posts, request)
        posts.sort(key=lambda m: (m.timestamp, int(m.id)), reverse=True)
        return self._page(request, posts, usage, default_limit=25)

    def publishing_limit(self, request: _Request, id: str) -> Response:
        """``GET /{threads-user-id}/threads_publishing_limit`` (documentation/threads/overview)."""
        token, usage = self._authenticate(request, "threads_content_publish")
        user = self._user_node(token, id)
        posts, replies, deletes = self._quota_usage(user)
        config = {"quota_total": POST_QUOTA, "quota_duration": QUOTA_SECONDS}
        values = {
            "quota_usage": posts,
            "config": config,
            "reply_quota_usage": replies,
            "reply_config": {"quota_total": REPLY_QUOTA, "quota_duration": QUOTA_SECONDS},
            "delete_quota_usage": deletes,
            "delete_config": {"quota_total": DELETE_QUOTA, "quota_duration": QUOTA_SECONDS},
        }
        fields = _fields(request, default=("quota_usage", "config"))
        if ("reply_quota_usage" in fields or "reply_config" in fields) and (
            "threads_manage_replies" not in token.scopes
        ):
            raise GraphError("(#10) Application does not have permission for this action",
                             code=10, status=403)  # fmt: skip
        return _json(200, {"data": [_pick(values, fields)]}, usage)

    def _quota_usage(self, user: User) -> tuple[int, int, int]:
        since = self.now() - timedelta(seconds=QUOTA_SECONDS)
        recent = [
            m
            for m in self.media.values()
            if m.user_id == user.id and m.timestamp >= since and not m.is_carousel_item
        ]
        replies = sum(1 for m in recent if m.replied_to)
        deletes = sum(1 for m in recent if m.deleted)
        return len(recent) - replies, replies, deletes

    # documentation/threads/reference/reply-management --------------------------------------

    def replies(self, request: _Request, id: str) -> Response:
        """Top-level replies to a post."""
        _token, usage = self._authenticate(request, "threads_read_replies")
        media = self._media_node(id)
        found = [m for m in self.media.values() if m.replied_to == media.id and not m.deleted]
        return self._reply_page(request, found, usage)

    def conversation(self, request: _Request, id: str) -> Response:
        """Every reply under a post, nested ones too, flattened."""
        _token, usage = self._authenticate(request, "threads_read_replies")
        media = self._media_node(id)
        root = media.root_post or media.id
        found = [
            m
            for m in self.media.values()
            if m.replied_to and not m.deleted and (m.root_post == root) and m.id != media.id
        ]
        if media.replied_to:
            found = [m for m in found if self._descends_from(m, media.id)]
        return self._reply_page(request, found, usage)

    def _descends_from(self, media: Media, ancestor_id: str) -> bool:
        current: Media | None = media
        while current is not None and current.replied_to:
            if current.replied_to == ancestor_id:
                return True
            current = self.media.get(current.replied_to)
        return False

    def _reply_page(self, request: _Request, found: list[Media], usage: dict[str, str]) -> Response:
        reverse = request.param("reverse", "true").lower() != "false"
        found.sort(key=lambda m: (m.timestamp, int(m.id)), reverse=reverse)
        return self._page(request, found, usage, default_limit=25)

    def manage_reply(self, request: _Request, id: str) -> Response:
        """``POST /{threads-reply-id}/manage_reply`` with ``hide=true|false``
        (documentation/threads/reply-management): top-level replies to our own posts."""
        token, usage = self._authenticate(request, "threads_manage_replies")
        reply = self._media_node(id)
        root = self.media.get(reply.root_post)
        if not reply.replied_to or root is None or root.user_id != token.user_id:
            raise GraphError("(#10) Application does not have permission for this action",
                             code=10, status=403)  # fmt: skip
        if reply.replied_to != reply.root_post:
            raise GraphError(
                "Only top-level replies can be hidden or unhidden.",
                code=100,  # (not documented)
            )
        hide = request.param("hide").lower()
        if hide not in ("true", "false"):
            raise GraphError("Param hide must be a boolean", code=100)
        for item in self.media.values():
            if item.id == reply.id or self._descends_from(item, reply.id):
                item.hidden = hide == "true"
        return _json(200, {"success": True}, usage)

    # documentation/threads/threads-mentions -------------------------------------------------

    def mentions(self, request: _Request, id: str) -> Response:
        token, usage = self._authenticate(request, "threads_manage_mentions")
        user = self._user_node(token, id)
        found = [m for m in self.media.values() if user.id in m.mentions and not m.deleted]
        found = _time_window(found, request)
        found.sort(key=lambda m: (m.timestamp, int(m.id)), reverse=True)
        return self._page(request, found, usage, default_limit=25)

    # documentation/threads/insights ---------------------------------------------------------

    def media_insights(self, request: _Request, id: str) -> Response:
        token, usage = self._authenticate(request, "threads_manage_insights")
        media = self._media_node(id)
        if media.user_id != token.user_id:
            raise GraphError("(#10) Application does not have permission for this action",
                             code=10, status=403)  # fmt: skip
        metrics = _metrics(request, MEDIA_METRICS)
        replies = sum(
            1
            for m in self.media.values()
            if not m.deleted
            and (m.root_post == media.id if not media.replied_to else m.replied_to == media.id)
        )
        counts = {
            "views": media.views,
            "likes": media.likes,
            "replies": replies,
            "reposts": media.reposts,
            "quotes": media.quotes,
            "shares": media.shares,
        }
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": counts[name]}],
                "title": name,
                "description": f"The number of {name} of your post.",
                "id": f"{media.id}/insights/{name}/lifetime",
            }
            for name in metrics
        ]
        return _json(200, {"data": data}, usage)

    def user_insights(self, request: _Request, id: str) -> Response:
        """Per-day ``views`` (``values`` with ``end_time``) and period totals for the
        others (``total_value``); ``followers_count`` is the current total."""
        token, usage = self._authenticate(request, "threads_manage_insights")
        user = self._user_node(token, id)
        metrics = _metrics(request, USER_METRICS)
        now = self.now()
        until = _epoch(request.param("until")) or now
        since = _epoch(request.param("since")) or (until - timedelta(days=1))
        if since < datetime.fromtimestamp(1712991600, UTC):
            raise GraphError("since must be on or after April 13, 2024 (1712991600)", code=100)
        posts = [m for m in self.posts_of(user) if since <= m.timestamp <= until]
        totals = {
            "likes": sum(m.likes for m in posts),
            "replies": sum(
                1 for m in self.media.values() if m.replied_to and m.replied_to in
                {p.id for p in posts}
            ),
            "reposts": sum(m.reposts for m in posts),
            "quotes": sum(m.quotes for m in posts),
            "clicks": 0,
            "followers_count": user.followers_count,
        }  # fmt: skip
        data = []
        for name in metrics:
            entry: dict[str, Any] = {
                "name": name,
                "period": "day",
                "title": name,
                "description": f"The number of {name}.",
                "id": f"{user.id}/insights/{name}/day",
            }
            if name == "views":
                days = []
                day = since.replace(hour=0, minute=0, second=0, microsecond=0)
                while day < until:
                    end = day + timedelta(days=1)
                    days.append(
                        {
                            "value": sum(m.views for m in posts if day <= m.timestamp < end),
                            "end_time": graph_time(end),
                        }
                    )
                    day = end
                entry["values"] = days
            else:
                entry["total_value"] = {"value": totals[name]}
            data.append(entry)
        return _json(200, {"data": data}, usage)

    # --- paging -----------------------------------------------------------------------------

    def _page(
        self, request: _Request, items: list[Media], usage: dict[str, str], *, default_limit: int
    ) -> Response:
        """Cursor paging: ``paging.cursors.before/after``, ``next`` only when more follow
        (NETWORK-APIS.md, shapes of Graph answers)."""
        fields = _fields(request, default=("id",))
        try:
            limit = max(1, min(int(request.param("limit") or default_limit), 100))
        except ValueError as exc:
            raise GraphError("Param limit must be an integer", code=100) from exc
        start = 0
        if request.param("after"):
            start = _decode_cursor(request.param("after")) + 1
        elif request.param("before"):
            start = max(0, _decode_cursor(request.param("before")) - limit)
        page = items[start : start + limit]
        body: dict[str, Any] = {"data": [_pick(self._media_json(m), fields) for m in page]}
        if page:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _encode_cursor(start),
                    "after": _encode_cursor(start + len(page) - 1),
                }
            }
            if start + len(page) < len(items):
                keep = {k: v for k, v in request.query.items() if k not in ("after", "before")}
                keep["after"] = paging["cursors"]["after"]
                paging["next"] = f"{self.base_url}{request.path}?{urlencode(keep)}"
            body["paging"] = paging
        return _json(200, body, usage)


def _fields(request: _Request, *, default: tuple[str, ...]) -> list[str]:
    raw = request.param("fields")
    return [f.strip() for f in raw.split(",") if f.strip()] if raw else list(default)


def _pick(values: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """Only the fields asked for, and absent ones left out (never null)."""
    return {name: values[name] for name in fields if name in values}


def _metrics(request: _Request, known: tuple[str, ...]) -> list[str]:
    names = [m for m in request.param("metric").split(",") if m]
    if not names:
        raise GraphError("The parameter metric is required", code=100)
    for name in names:
        if name not in known:
            raise GraphError(
                f"(#100) metric[0] must be one of the following values: {', '.join(known)}",
                code=100,
            )
    return names


def _epoch(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except ValueError as exc:
        raise GraphError("Invalid timestamp", code=100) from exc


def _time_window(items: list[Media], request: _Request) -> list[Media]:
    since, until = _epoch(request.param("since")), _epoch(request.param("until"))
    return [
        m
        for m in items
        if (since is None or m.timestamp >= since) and (until is None or m.timestamp <= until)
    ]


def _encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"idx:{index}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return int(base64.urlsafe_b64decode(padded).decode().split(":", 1)[1])
    except (ValueError, IndexError) as exc:
        raise GraphError("Invalid cursor", code=100) from exc


def _threads_length(text: str) -> int:
    """Characters, with emoji counted as their UTF-8 bytes (documentation/threads/posts)."""
    return sum(len(ch.encode("utf-8")) if ord(ch) > 0xFFFF else 1 for ch in text)


def _fetch_image(url: str) -> tuple[bytes, str]:
    """Fetch the image as Threads does; the status's ``error_message`` on failure."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (test server)
            content_type = answer.headers.get_content_type()
            content = answer.read(MAX_IMAGE_BYTES + 1)
    except (OSError, ValueError):
        return b"", "FAILED_DOWNLOADING_IMAGE"  # (not documented) the message for images
    if content_type not in IMAGE_TYPES or len(content) > MAX_IMAGE_BYTES:
        return b"", "UNKNOWN"
    return content, ""


def _fetch_video(url: str) -> tuple[bytes, str]:
    """Fetch the video as Threads does; the status's ``error_message`` on failure
    (documentation/threads/troubleshooting lists FAILED_DOWNLOADING_VIDEO and
    FAILED_PROCESSING_VIDEO)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (test server)
            content_type = answer.headers.get_content_type()
            content = answer.read(MAX_VIDEO_BYTES + 1)
    except (OSError, ValueError):
        return b"", "FAILED_DOWNLOADING_VIDEO"
    if content_type not in VIDEO_TYPES or len(content) > MAX_VIDEO_BYTES:
        return b"", "FAILED_DOWNLOADING_VIDEO"
    if content[4:8] != b"ftyp":  # not an MP4/MOV file: it cannot be processed
        return b"", "FAILED_PROCESSING_VIDEO"
    return content, ""


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        json.dumps(body).encode(),
    )


def _redirect(uri: str, params: dict[str, str], *, fragment: str = "") -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    location = uri + separator + urlencode(params) + (f"#{fragment}" if fragment else "")
    return 302, {"Location": location}, b""
