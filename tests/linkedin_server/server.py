"""A small LinkedIn API server for the tests, served on 127.0.0.1 in a background thread.

It follows LinkedIn's documentation on learn.microsoft.com/linkedin for the parts
GovSocial uses (each handler names its page), including the error objects
(``{status, serviceErrorCode, code, message}``), Rest.li 2.0 URN encoding in
paths and queries, the ``LinkedIn-Version`` header (missing: 400
``VERSION_MISSING``; sunset: 426 ``NONEXISTENT_VERSION``), ``start``/``count``
paging, and daily limits that answer 429 with no rate-limit headers.

Videos follow marketing/community-management/shares/videos-api: initializeUpload names
4 MB parts, each PUT answers an ``ETag``, finalizeUpload wants those ETags in order, and
the video is ``PROCESSING`` for a few looks, then ``AVAILABLE`` (or
``PROCESSING_FAILED``).

One server plays both hosts: ``www.linkedin.com`` (``/oauth/v2/...``) and
``api.linkedin.com`` (``/rest/...``), plus the upload host (``/dms-uploads/...``).
Switches make it fail (``fail_next``) or hang (``hang``) for fault tests.
State is in memory, per server.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow:
# access tokens live 60 days; programmatic refresh tokens (approved partners) 365 days.
ACCESS_TOKEN_SECONDS = 60 * 24 * 3600
REFRESH_TOKEN_SECONDS = 365 * 24 * 3600
# learn.microsoft.com/linkedin/marketing/versioning: versions stay active for at least
# a year; the ones this server answers to (anything else is sunset or not yet out).
ACTIVE_VERSIONS = frozenset(
    {"202512", "202601", "202602", "202603", "202604", "202605", "202606", "202607",
     "202608", "202609", "202610", "202611"}
)  # fmt: skip
# learn.microsoft.com/linkedin/marketing/community-management/organizations/
# organization-access-control-by-role: roles that may post as the organization.
POSTING_ROLES = frozenset(
    {"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER",
     "RECRUITING_POSTER"}
)  # fmt: skip
ADMIN_ROLES = frozenset({"ADMINISTRATOR"})
KNOWN_SCOPES = frozenset(
    {"openid", "profile", "email", "w_member_social", "r_organization_social",
     "w_organization_social", "rw_organization_admin", "r_organization_admin",
     "r_organization_followers", "r_basicprofile", "w_organization_social_feed",
     "r_organization_social_feed"}
)  # fmt: skip
COMMENTARY_MAX = 3000
URN_RE = re.compile(r"urn:li:[A-Za-z]+:.+")
# marketing/community-management/shares/videos-api: parts of 4 MB; 75 KB to 500 MB.
VIDEO_PART_BYTES = 4 * 1024 * 1024
VIDEO_MIN_BYTES = 75 * 1024
VIDEO_MAX_BYTES = 500 * 1024 * 1024

Response = tuple[int, dict[str, str], bytes]


class ApiError(Exception):
    """LinkedIn's error object
    (learn.microsoft.com/linkedin/shared/api-guide/concepts/error-handling)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "",
        service_error_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.body: dict[str, Any] = {"status": status, "message": message}
        if service_error_code is not None:
            self.body["serviceErrorCode"] = service_error_code
        if code:
            self.body["code"] = code
        self.headers = headers or {}


class OAuthError(Exception):
    """``{error, error_description}`` of the OAuth endpoints."""

    def __init__(self, status: int, error: str, description: str) -> None:
        self.status = status
        self.body = {"error": error, "error_description": description}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    # Products added to the app decide which scopes it may ask for.
    scopes: set[str]
    # Programmatic refresh tokens are for approved partners only.
    refresh_tokens: bool = False


@dataclass
class Member:
    id: str
    name: str

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.id}"


@dataclass
class Organization:
    id: int
    name: str
    vanity_name: str
    followers_organic: int = 0
    followers_paid: int = 0
    employees_following: int = 0

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


@dataclass
class Token:
    token: str
    client_id: str
    member_id: str
    scopes: set[str]
    expires_at: datetime
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    member_id: str
    scopes: set[str]
    expires_at: datetime


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scopes: set[str]
    member_id: str
    expires_at: datetime
    used: bool = False


@dataclass
class Asset:
    """An image or document being uploaded (Images API / Documents API)."""

    urn: str
    owner: str
    kind: str  # "image" | "document"
    upload_token: str
    status: str = "WAITING_UPLOAD"
    content: bytes = b""
    content_type: str = ""
    # Videos: the parts' upload tokens and what each PUT received, the ETags handed out,
    # the captions and thumbnail uploaded, and how many looks processing still takes.
    size: int = 0
    part_tokens: list[str] = field(default_factory=list)
    parts: dict[int, bytes] = field(default_factory=dict)
    etags: dict[int, str] = field(default_factory=dict)
    captions_token: str = ""
    thumbnail_token: str = ""
    captions: bytes = b""
    thumbnail: bytes = b""
    looks_left: int = 0


@dataclass
class Post:
    urn: str
    author: str
    commentary: str
    content: dict[str, Any] | None
    created_at: datetime
    visibility: str = "PUBLIC"
    lifecycle_state: str = "PUBLISHED"
    deleted: bool = False
    created_by: str = ""
    activity: str = ""
    impressions: int = 0
    unique_impressions: int = 0
    clicks: int = 0
    likes: int = 0
    shares: int = 0


@dataclass
class Comment:
    id: str
    object: str  # the post's activity URN (nested comments too; parentComment says where)
    post_urn: str
    activity: str
    actor: str
    text: str
    created_at: datetime
    parent_comment: str | None = None
    agent: str | None = None

    @property
    def urn(self) -> str:
        # A comment URN names the post's activity, not its share URN (comments-api).
        return f"urn:li:comment:({self.activity},{self.id})"


@dataclass
class Failure:
    status: int
    method: str | None
    path_prefix: str | None
    times: int
    body: dict[str, Any]


@dataclass
class Hang:
    method: str | None
    path_prefix: str | None
    after_processing: bool


@dataclass
class LoggedRequest:
    method: str
    path: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> Any:
        return io.StringIO()

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        # wsgiref decodes PATH_INFO; the raw path shows whether URNs were URL-encoded.
        environ["RAW_PATH"] = self.path.split("?", 1)[0]
        return environ


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class LinkedInTestServer:
    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.client_waits: list[float] = []
        self.apps: dict[str, App] = {}
        self.members: dict[str, Member] = {}
        self.organizations: dict[int, Organization] = {}
        # (member id, organization id) -> role, all APPROVED.
        self.acls: dict[tuple[str, int], str] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.grants: dict[str, Grant] = {}
        self.assets: dict[str, Asset] = {}
        self.posts: dict[str, Post] = {}
        self.comments: dict[str, Comment] = {}
        # Web pages outside LinkedIn that posts link to: slug -> HTML.
        self.web_pages: dict[str, str] = {}
        self.active_versions = set(ACTIVE_VERSIONS)
        # GET /rest/videos/{urn} answers PROCESSING this many times after finalizeUpload;
        # with ``video_processing_fails`` processing then ends in PROCESSING_FAILED.
        self.video_processing_looks = 1
        self.video_processing_fails = False
        # Calls a member may make per day through one app (None: unlimited);
        # learn.microsoft.com/linkedin/shared/api-guide/concepts/rate-limits.
        self.daily_limit: int | None = None
        self._daily_usage: dict[tuple[str, str], int] = {}
        # The approving person on /oauth/v2/authorization.
        self._failures: list[Failure] = []
        self._hangs: list[Hang] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._ids = itertools.count(7_100_000_000_000_000_001)
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.member = self.create_member("Kaisa Viestintä")

    # --- running -----------------------------------------------------------------

    def start(self) -> LinkedInTestServer:
        self._httpd = make_server(
            "127.0.0.1", 0, self.wsgi, server_class=_ThreadingWSGIServer, handler_class=_Handler
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

    # --- switches and helpers for tests --------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        times: int = 1,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (before doing anything)."""
        default = {"status": status, "message": "Internal Server Error"}
        with self._lock:
            self._failures.append(Failure(status, method, path_prefix, times, body or default))

    def hang(
        self, *, method: str | None = None, path_prefix: str | None = None, after_processing: bool
    ) -> None:
        """Hold matching requests until :meth:`release`. With ``after_processing`` the
        request takes effect first and only the answer is held (a lost answer)."""
        with self._lock:
            self._released.clear()
            self._hangs.append(Hang(method, path_prefix, after_processing))

    def release(self) -> None:
        with self._lock:
            self._hangs.clear()
        self._released.set()

    def new_id(self) -> str:
        return str(next(self._ids))

    def create_app(
        self,
        *,
        redirect_uris: Iterable[str],
        scopes: Iterable[str] = (
            "openid",
            "profile",
            "w_member_social",
            "r_organization_social",
            "w_organization_social",
            "rw_organization_admin",
        ),
        refresh_tokens: bool = False,
    ) -> App:
        """An app in the developer portal with the Community Management API product."""
        app = App(
            client_id=secrets.token_hex(7),
            client_secret=secrets.token_urlsafe(12),
            redirect_uris=list(redirect_uris),
            scopes=set(scopes),
            refresh_tokens=refresh_tokens,
        )
        self.apps[app.client_id] = app
        return app

    def create_member(self, name: str) -> Member:
        member = Member(secrets.token_urlsafe(7).replace("-", "a").replace("_", "b"), name)
        self.members[member.id] = member
        return member

    def create_organization(
        self, name: str, *, admin: Member | None = None, role: str = "ADMINISTRATOR", **counts: int
    ) -> Organization:
        org = Organization(
            int(self.new_id()[-8:]), name, re.sub(r"\W+", "-", name.lower()).strip("-"), **counts
        )
        self.organizations[org.id] = org
        if admin is not None:
            self.acls[(admin.id, org.id)] = role
        return org

    def issue_token(
        self,
        member: Member | None = None,
        *,
        scopes: Iterable[str] | None = None,
        expires_in: timedelta = timedelta(seconds=ACCESS_TOKEN_SECONDS),
    ) -> str:
        """A token as if the OAuth flow had run (for tests about other things)."""
        app = self.create_app(redirect_uris=["http://localhost/cb"])
        token = Token(
            "AQV" + secrets.token_urlsafe(40),
            app.client_id,
            (member or self.member).id,
            set(scopes or app.scopes),
            datetime.now(UTC) + expires_in,
        )
        self.tokens[token.token] = token
        return token.token

    def comment_as(
        self, member: Member, on: str, text: str, *, parent: Comment | None = None
    ) -> Comment:
        """Someone comments on a post (or replies to a comment)."""
        with self._lock:
            post_urn = parent.post_urn if parent else on
            comment = Comment(
                id=self.new_id(),
                object=self.posts[post_urn].activity,
                post_urn=post_urn,
                activity=self.posts[post_urn].activity,
                actor=member.urn,
                text=text,
                created_at=datetime.now(UTC),
                parent_comment=parent.urn if parent else None,
            )
            self.comments[comment.urn] = comment
            return comment

    def approve(self, authorization_url: str) -> dict[str, str]:
        """Play the member's browser: open the sign-in address, allow, and return the
        query of the redirect back to the app (``code`` and ``state``, or ``error``)."""
        import requests

        response = requests.get(authorization_url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location:
            raise AssertionError(f"authorization answered {response.status_code}: {response.text}")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def posts_of(self, organization: Organization) -> list[Post]:
        return [p for p in self.posts.values() if p.author == organization.urn and not p.deleted]

    def requests_to(self, method: str, path_prefix: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # --- the WSGI app ---------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
        raw_path = environ.get("RAW_PATH", path)
        query = environ.get("QUERY_STRING", "")
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            self.requests.append(LoggedRequest(method, path, raw_path, query, headers, body))
            hang = self._matching(self._hangs, method, path)
            failure = self._take_failure(method, path)
        if hang is not None and not hang.after_processing:
            self._released.wait(timeout=30)
        if failure is not None:
            status, extra, payload = (
                failure.status,
                {"Content-Type": "application/json"},
                json.dumps(failure.body).encode(),
            )
        else:
            status, extra, payload = self._dispatch(method, path, raw_path, query, headers, body)
        if hang is not None and hang.after_processing:
            self._released.wait(timeout=30)
        reason = {
            200: "OK", 201: "Created", 204: "No Content", 302: "Found", 400: "Bad Request",
            401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 422: "Unprocessable Entity",
            426: "Upgrade Required", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
        }.get(status, "Status")  # fmt: skip
        start_response(f"{status} {reason}", list(extra.items()))
        return [payload]

    @staticmethod
    def _matching(items: list[Hang], method: str, path: str) -> Hang | None:
        for item in items:
            if item.method in (None, method) and path.startswith(item.path_prefix or ""):
                return item
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
        raw_path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> Response:
        request = _Request(method, path, raw_path, query, headers, body)
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", r"/oauth/v2/authorization", self.authorization),
            ("POST", r"/oauth/v2/accessToken", self.access_token),
            ("PUT", r"/dms-uploads/(?P<token>[\w-]+)", self.upload),
            ("GET", r"/web/(?P<slug>[\w-]+)", self.web_page),
            ("GET", r"/rest/organizationAcls", self.organization_acls),
            ("GET", r"/rest/organizations/(?P<id>\d+)", self.organization),
            ("POST", r"/rest/posts", self.create_post),
            ("GET", r"/rest/posts", self.find_posts),
            ("GET", r"/rest/posts/(?P<urn>urn:li:\w+:\d+)", self.get_post),
            ("DELETE", r"/rest/posts/(?P<urn>urn:li:\w+:\d+)", self.delete_post),
            ("POST", r"/rest/images", self.initialize_image),
            ("GET", r"/rest/images/(?P<urn>urn:li:image:[\w-]+)", self.get_image),
            ("POST", r"/rest/documents", self.initialize_document),
            ("GET", r"/rest/documents/(?P<urn>urn:li:document:[\w-]+)", self.get_document),
            ("POST", r"/rest/videos", self.videos_action),
            ("GET", r"/rest/videos/(?P<urn>urn:li:video:[\w-]+)", self.get_video),
            ("GET", r"/rest/socialActions/(?P<urn>.+)/comments", self.list_comments),
            ("POST", r"/rest/socialActions/(?P<urn>.+)/comments", self.create_comment),
            (
                "GET",
                r"/rest/organizationalEntityShareStatistics",
                self.share_statistics,
            ),
            (
                "GET",
                r"/rest/organizationalEntityFollowerStatistics",
                self.follower_statistics,
            ),
        ]
        try:
            with self._lock:
                for route_method, pattern, handler in routes:
                    match = re.fullmatch(pattern, path)
                    if match and route_method == method:
                        if path.startswith("/rest/"):
                            self._check_rest_headers(request)
                        return handler(request, **match.groupdict())
                if path.startswith("/rest/"):
                    self._check_rest_headers(request)
                raise ApiError(404, "No virtual resource found", code="NOT_FOUND")
        except ApiError as exc:
            return _json(exc.status, exc.body, exc.headers)
        except OAuthError as exc:
            return _json(exc.status, exc.body)

    def web_page(self, request: _Request, slug: str) -> Response:
        """Not LinkedIn: a web page elsewhere that a post links to (for link cards)."""
        page = self.web_pages.get(slug)
        if page is None:
            return 404, {"Content-Type": "text/html"}, b"<title>Not found</title>"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.encode()

    # --- headers, tokens and limits ---------------------------------------------------

    def _check_rest_headers(self, request: _Request) -> None:
        """learn.microsoft.com/linkedin/marketing/versioning: every /rest call names a version.

        The answers are the ones LinkedIn gives (n8n-io/n8n#14737 shows the 426)."""
        version = request.headers.get("linkedin-version", "")
        if not version:
            raise ApiError(
                400,
                "A version must be present. Please specify a version by adding the "
                "LinkedIn-Version header.",
                code="VERSION_MISSING",
            )
        if not re.fullmatch(r"\d{6}(\.\d{2})?", version):
            raise ApiError(400, f"Invalid version {version}", code="INVALID_VERSION")
        if version[:6] not in self.active_versions:
            raise ApiError(
                426,
                f"Requested version {version[:6]}01 is not active",
                code="NONEXISTENT_VERSION",
            )
        # learn.microsoft.com/linkedin/shared/api-guide/concepts/protocol-version
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise ApiError(
                400,
                "Rest.li protocol 2.0.0 is required: set X-Restli-Protocol-Version: 2.0.0",
                code="ILLEGAL_ARGUMENT",
            )
        if "urn:li:" in request.raw_path:
            # URNs in a path must be URL-encoded (shared/api-guide/concepts/urns).
            raise ApiError(400, "Syntax exception in path variables", code="ILLEGAL_ARGUMENT")

    def _authenticate(self, request: _Request, *any_of_scopes: str) -> Token:
        """learn.microsoft.com/linkedin/shared/authentication/token-introspection and
        .../api-guide/concepts/error-handling: 401 with serviceErrorCode 65600/65601/65602."""
        auth = request.headers.get("authorization", "")
        token = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None:
            raise ApiError(
                401, "Invalid access token", code="INVALID_ACCESS_TOKEN", service_error_code=65600
            )
        if token.revoked:
            raise ApiError(
                401,
                "The token used in the request has been revoked by the user",
                code="REVOKED_ACCESS_TOKEN",
                service_error_code=65601,
            )
        if token.expires_at <= datetime.now(UTC):
            raise ApiError(
                401,
                "The token used in the request has expired",
                code="EXPIRED_ACCESS_TOKEN",
                service_error_code=65602,
            )
        # Daily limits per member and app, reset at midnight UTC; 429 has no headers.
        key = (token.client_id, token.member_id)
        self._daily_usage[key] = self._daily_usage.get(key, 0) + 1
        if self.daily_limit is not None and self._daily_usage[key] > self.daily_limit:
            raise ApiError(
                429,
                "Resource level throttle APPLICATION DAY limit for calls to this resource is "
                "reached.",
                code="TOO_MANY_REQUESTS",
                service_error_code=101,
            )
        if any_of_scopes and not token.scopes & set(any_of_scopes):
            raise ApiError(
                403,
                f"Not enough permissions to access: {request.method} {request.path}",
                code="ACCESS_DENIED",
                service_error_code=100,
            )
        return token

    def _require_role(self, token: Token, org_urn: str, roles: frozenset[str]) -> Organization:
        org = self._organization_of(org_urn)
        role = self.acls.get((token.member_id, org.id)) if org else None
        if org is None or role not in roles:
            raise ApiError(
                403,
                f"Not enough permissions to access: organization {org_urn}",
                code="ACCESS_DENIED",
                service_error_code=100,
            )
        return org

    def _organization_of(self, urn: str) -> Organization | None:
        match = re.fullmatch(r"urn:li:organization:(\d+)", urn or "")
        return self.organizations.get(int(match.group(1))) if match else None

    # --- OAuth: learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow

    def authorization(self, request: _Request) -> Response:
        """Step 2: the member signs in and allows; the browser goes back with code + state.

        Approves at once as ``self.member`` (no form)."""
        q = request.params()
        app = self.apps.get(q.get("client_id", ""))
        if app is None or q.get("redirect_uri") not in app.redirect_uris:
            body = b"<h1>Bummer, something went wrong.</h1><p>The redirect_uri does not match"
            return 400, {"Content-Type": "text/html"}, body
        redirect_uri = q["redirect_uri"]
        state = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return _redirect(
                redirect_uri,
                {"error": "invalid_request", "error_description": "response_type", **state},
            )
        scopes = set(q.get("scope", "").split())
        if not scopes or not scopes <= app.scopes:
            return _redirect(
                redirect_uri,
                {
                    "error": "unauthorized_scope_error",
                    "error_description": "Scope &quot;"
                    + ",".join(sorted(scopes - app.scopes) or ["(none)"])
                    + "&quot; is not authorized for your application",
                    **state,
                },
            )
        code = secrets.token_urlsafe(48)
        self.grants[code] = Grant(
            app.client_id,
            redirect_uri,
            scopes,
            self.member.id,
            datetime.now(UTC) + timedelta(minutes=30),
        )
        return _redirect(redirect_uri, {"code": code, **state})

    def access_token(self, request: _Request) -> Response:
        """Step 3 (code for token), and programmatic refresh
        (shared/authentication/programmatic-refresh-tokens)."""
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise OAuthError(400, "invalid_request", "Content-Type must be form-urlencoded")
        data = request.form()
        app = self.apps.get(data.get("client_id", ""))
        if app is None or data.get("client_secret") != app.client_secret:
            raise OAuthError(401, "invalid_client", "Client authentication failed")
        now = datetime.now(UTC)
        grant_type = data.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.grants.get(data.get("code", ""))
            if grant is None or grant.used or grant.expires_at < now:
                raise OAuthError(
                    400,
                    "invalid_request",
                    "Unable to retrieve access token: appid/redirect uri/code verifier does "
                    "not match authorization code. Or authorization code expired. Or external "
                    "member binding exists",
                )
            if grant.client_id != app.client_id or grant.redirect_uri != data.get("redirect_uri"):
                raise OAuthError(
                    400,
                    "invalid_redirect_uri",
                    "Unable to retrieve access token: appid/redirect uri/code verifier does "
                    "not match authorization code.",
                )
            grant.used = True
            member_id, scopes = grant.member_id, grant.scopes
            refresh: RefreshToken | None = None
            if app.refresh_tokens:
                refresh = RefreshToken(
                    "AQX" + secrets.token_urlsafe(40),
                    app.client_id,
                    member_id,
                    scopes,
                    now + timedelta(seconds=REFRESH_TOKEN_SECONDS),
                )
                self.refresh_tokens[refresh.token] = refresh
        elif grant_type == "refresh_token":
            refresh = self.refresh_tokens.get(data.get("refresh_token", ""))
            if refresh is None or refresh.client_id != app.client_id or refresh.expires_at < now:
                raise OAuthError(
                    400, "invalid_request", "The provided refresh token is invalid or expired"
                )
            member_id, scopes = refresh.member_id, refresh.scopes
        else:
            raise OAuthError(400, "invalid_request", "A required parameter grant_type is missing")
        token = Token(
            "AQV" + secrets.token_urlsafe(40),
            app.client_id,
            member_id,
            set(scopes),
            now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
        self.tokens[token.token] = token
        body: dict[str, Any] = {
            "access_token": token.token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": ",".join(sorted(scopes)),
        }
        if refresh is not None:
            # The refresh token keeps its first expiry: refreshing does not extend it.
            body["refresh_token"] = refresh.token
            body["refresh_token_expires_in"] = int((refresh.expires_at - now).total_seconds())
        return _json(200, body)

    # --- organizations --------------------------------------------------------------

    def organization_acls(self, request: _Request) -> Response:
        """GET /rest/organizationAcls?q=roleAssignee: organizations the member holds a role in
        (marketing/community-management/organizations/organization-access-control-by-role)."""
        token = self._authenticate(
            request, "rw_organization_admin", "r_organization_admin", "r_organization_social",
            "w_organization_social",
        )  # fmt: skip
        q = request.params()
        if q.get("q") != "roleAssignee":
            raise ApiError(400, "Invalid finder", code="ILLEGAL_ARGUMENT")
        elements = []
        for (member_id, org_id), role in sorted(self.acls.items(), key=lambda kv: kv[0][1]):
            if member_id != token.member_id:
                continue
            if q.get("role") and q["role"] != role:
                continue
            if q.get("state") and q["state"] != "APPROVED":
                continue
            elements.append(
                {
                    "roleAssignee": self.members[member_id].urn,
                    "state": "APPROVED",
                    "role": role,
                    "organization": f"urn:li:organization:{org_id}",
                }
            )
        return _json(200, _paged(elements, request))

    def organization(self, request: _Request, id: str) -> Response:
        """GET /rest/organizations/{id} (organizations/organization-lookup-api)."""
        self._authenticate(request)
        org = self.organizations.get(int(id))
        if org is None:
            raise ApiError(404, f"Organization {id} not found", code="NOT_FOUND")
        return _json(
            200,
            {
                "id": org.id,
                "localizedName": org.name,
                "vanityName": org.vanity_name,
                "name": {
                    "localized": {"fi_FI": org.name},
                    "preferredLocale": {"country": "FI", "language": "fi"},
                },
            },
        )

    # --- posts: marketing/community-management/shares/posts-api ------------------------

    def _post_json(self, post: Post) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": post.urn,
            "author": post.author,
            "commentary": post.commentary,
            "visibility": post.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": post.lifecycle_state,
            "lifecycleStateInfo": {"isEditedByAuthor": False},
            "isReshareDisabledByAuthor": False,
            "createdAt": _ms(post.created_at),
            "publishedAt": _ms(post.created_at),
            "lastModifiedAt": _ms(post.created_at),
        }
        if post.content is not None:
            body["content"] = post.content
        return body

    def create_post(self, request: _Request) -> Response:
        """POST /rest/posts: 201 with the URN in ``x-restli-id``; 422 ``DUPLICATE_POST``
        names the earlier URN (even when that post has since been deleted)."""
        token = self._authenticate(request, "w_organization_social", "w_member_social")
        data = request.json()
        author = str(data.get("author") or "")
        for name in ("author", "lifecycleState", "visibility", "distribution"):
            if name not in data:
                raise ApiError(
                    422, f"/{name} :: field is required but not found", code="UNPROCESSABLE_ENTITY"
                )
        if author.startswith("urn:li:organization:"):
            if "w_organization_social" not in token.scopes:
                raise ApiError(
                    403,
                    "Not enough permissions to access: partnerApiPostsExternal.CREATE",
                    code="ACCESS_DENIED",
                    service_error_code=100,
                )
            self._require_role(token, author, POSTING_ROLES)
        elif author != self.members[token.member_id].urn:
            raise ApiError(403, "Member is not the author", code="ACCESS_DENIED")
        commentary = str(data.get("commentary") or "")
        if len(commentary) > COMMENTARY_MAX:
            raise ApiError(
                422,
                f"/commentary :: length of {len(commentary)} exceeds maximum of {COMMENTARY_MAX}",
                code="UNPROCESSABLE_ENTITY",
            )
        content = data.get("content")
        if content is not None:
            self._check_content(content, author)
        for earlier in self.posts.values():
            if (
                earlier.author == author
                and earlier.commentary == commentary
                and earlier.content == content
            ):
                raise ApiError(
                    422, f"Content is a duplicate of {earlier.urn}", code="DUPLICATE_POST"
                )
        post = Post(
            urn=f"urn:li:share:{self.new_id()}",
            author=author,
            commentary=commentary,
            content=content,
            created_at=datetime.now(UTC),
            visibility=str(data.get("visibility")),
            lifecycle_state=str(data.get("lifecycleState")),
            created_by=token.member_id,
            activity=f"urn:li:activity:{self.new_id()}",
        )
        self.posts[post.urn] = post
        for asset_urn in _content_assets(content):
            self.assets[asset_urn].status = "AVAILABLE"
        return 201, {"x-restli-id": post.urn, "Content-Type": "application/json"}, b""

    def _check_content(self, content: Any, author: str) -> None:
        if not isinstance(content, dict) or len(content) != 1:
            raise ApiError(422, "/content :: exactly one content type", code="UNPROCESSABLE_ENTITY")
        if "media" in content:
            media = content["media"]
            asset = self.assets.get(str(media.get("id") or ""))
            if asset is None or asset.owner != author:
                raise ApiError(422, "/content/media/id :: media not found", code="INVALID_MEDIA")
            if asset.status == "WAITING_UPLOAD" or (
                asset.kind == "video" and asset.status != "AVAILABLE"
            ):
                raise ApiError(
                    422, f"Media {asset.urn} has not been uploaded", code="INVALID_MEDIA"
                )
            if asset.kind == "document" and not media.get("title"):
                raise ApiError(
                    422,
                    "/content/media/title :: required for documents",
                    code="UNPROCESSABLE_ENTITY",
                )
        elif "multiImage" in content:
            images = (content["multiImage"] or {}).get("images") or []
            # marketing/community-management/shares/multiimage-post-api: 2 to 20 images.
            if not 2 <= len(images) <= 20:
                raise ApiError(
                    422,
                    "/content/multiImage/images :: needs 2 to 20 images",
                    code="UNPROCESSABLE_ENTITY",
                )
            for image in images:
                asset = self.assets.get(str(image.get("id") or ""))
                if asset is None or asset.kind != "image" or asset.status == "WAITING_UPLOAD":
                    raise ApiError(422, "Invalid image in multiImage", code="INVALID_MEDIA")
        elif "article" in content:
            article = content["article"] or {}
            if not article.get("source") or not article.get("title"):
                raise ApiError(
                    422,
                    "/content/article :: source and title are required",
                    code="UNPROCESSABLE_ENTITY",
                )
        else:
            raise ApiError(422, "/content :: unknown content type", code="UNPROCESSABLE_ENTITY")

    def get_post(self, request: _Request, urn: str) -> Response:
        """GET /rest/posts/{encoded urn}."""
        self._authenticate(request, "r_organization_social", "w_organization_social")
        post = self.posts.get(urn)
        if post is None or post.deleted:
            raise ApiError(404, f"Post {urn} not found", code="NOT_FOUND", service_error_code=0)
        return _json(200, self._post_json(post))

    def delete_post(self, request: _Request, urn: str) -> Response:
        """DELETE /rest/posts/{encoded urn}: 204, also for an already deleted post."""
        token = self._authenticate(request, "w_organization_social")
        post = self.posts.get(urn)
        if post is not None:
            self._require_role(token, post.author, POSTING_ROLES)
            post.deleted = True
        return 204, {}, b""

    def find_posts(self, request: _Request) -> Response:
        """GET /rest/posts?q=author&author={encoded urn}&start&count, newest first."""
        token = self._authenticate(request, "r_organization_social")
        q = request.params()
        if q.get("q") != "author" or not q.get("author"):
            raise ApiError(
                400, "Invalid finder: q=author&author= expected", code="ILLEGAL_ARGUMENT"
            )
        if "urn:li:" in request.raw_query_value("author"):
            raise ApiError(400, "Syntax exception in query parameters", code="ILLEGAL_ARGUMENT")
        self._require_role(token, q["author"], POSTING_ROLES | {"ANALYST"})
        posts = sorted(
            (p for p in self.posts.values() if p.author == q["author"] and not p.deleted),
            key=lambda p: (p.created_at, p.urn),
            reverse=True,
        )
        return _json(200, _paged([self._post_json(p) for p in posts], request, max_count=100))

    # --- media: shares/images-api, shares/documents-api ---------------------------------

    def _initialize(self, request: _Request, kind: str) -> Response:
        token = self._authenticate(request, "w_organization_social", "w_member_social")
        if request.params().get("action") != "initializeUpload":
            raise ApiError(400, "Unknown action", code="ILLEGAL_ARGUMENT")
        owner = str(((request.json().get("initializeUploadRequest") or {}).get("owner")) or "")
        if owner.startswith("urn:li:organization:"):
            self._require_role(token, owner, POSTING_ROLES)
        elif owner != self.members[token.member_id].urn:
            raise ApiError(422, "/initializeUploadRequest/owner :: invalid owner")
        asset = Asset(
            urn=f"urn:li:{kind}:D4D10AQ{secrets.token_hex(8)}",
            owner=owner,
            kind=kind,
            upload_token=secrets.token_urlsafe(24),
        )
        self.assets[asset.urn] = asset
        expires = datetime.now(UTC) + timedelta(hours=24)
        return _json(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": _ms(expires),
                    "uploadUrl": f"{self.base_url}/dms-uploads/{asset.upload_token}",
                    kind: asset.urn,
                }
            },
        )

    def initialize_image(self, request: _Request) -> Response:
        return self._initialize(request, "image")

    def initialize_document(self, request: _Request) -> Response:
        return self._initialize(request, "document")

    def upload(self, request: _Request, token: str) -> Response:
        """PUT the bytes to the uploadUrl (no LinkedIn-Version needed; the bearer token is)."""
        self._authenticate(request)
        video = self._video_upload(token, request.body)
        if video is not None:
            return video
        asset = next((a for a in self.assets.values() if a.upload_token == token), None)
        if asset is None:
            return 404, {}, b""
        if not request.body:
            return 400, {}, b""
        if asset.kind == "document" and not request.body.startswith(b"%PDF"):
            asset.status = "PROCESSING_FAILED"
        else:
            asset.status = "AVAILABLE" if asset.kind == "image" else "PROCESSING"
        asset.content = request.body
        asset.content_type = request.headers.get("content-type", "")
        return 201, {}, b""

    # --- videos: marketing/community-management/shares/videos-api -----------------------

    def videos_action(self, request: _Request) -> Response:
        action = request.params().get("action")
        if action == "initializeUpload":
            return self.initialize_video(request)
        if action == "finalizeUpload":
            return self.finalize_video(request)
        raise ApiError(400, "Unknown action", code="ILLEGAL_ARGUMENT")

    def initialize_video(self, request: _Request) -> Response:
        """POST /rest/videos?action=initializeUpload: the video URN, one upload
        instruction per 4 MB part (``firstByte``/``lastByte``), an ``uploadToken`` when
        there are several parts, and the captions and thumbnail addresses asked for."""
        token = self._authenticate(request, "w_organization_social", "w_member_social")
        data = request.json().get("initializeUploadRequest") or {}
        owner = str(data.get("owner") or "")
        if owner.startswith("urn:li:organization:"):
            self._require_role(token, owner, POSTING_ROLES)
        elif owner != self.members[token.member_id].urn:
            raise ApiError(422, "/initializeUploadRequest/owner :: invalid owner")
        size = data.get("fileSizeBytes")
        if not isinstance(size, int) or not VIDEO_MIN_BYTES <= size <= VIDEO_MAX_BYTES:
            raise ApiError(
                422,
                "/initializeUploadRequest/fileSizeBytes :: must be between 75 KB and 500 MB",
                code="UNPROCESSABLE_ENTITY",
            )
        video = Asset(
            urn=f"urn:li:video:C5F10AQ{secrets.token_hex(8)}",
            owner=owner,
            kind="video",
            upload_token=secrets.token_urlsafe(24) if size > VIDEO_PART_BYTES else "",
            size=size,
        )
        instructions = []
        for first in range(0, size, VIDEO_PART_BYTES):
            part = secrets.token_urlsafe(24)
            video.part_tokens.append(part)
            instructions.append(
                {
                    "uploadUrl": f"{self.base_url}/dms-uploads/{part}",
                    "firstByte": first,
                    "lastByte": min(first + VIDEO_PART_BYTES, size) - 1,
                }
            )
        value: dict[str, Any] = {
            "uploadUrlsExpireAt": _ms(datetime.now(UTC) + timedelta(hours=24)),
            "video": video.urn,
            "uploadInstructions": instructions,
            "uploadToken": video.upload_token,
        }
        if data.get("uploadCaptions"):
            video.captions_token = secrets.token_urlsafe(24)
            value["captionsUploadUrl"] = f"{self.base_url}/dms-uploads/{video.captions_token}"
        if data.get("uploadThumbnail"):
            video.thumbnail_token = secrets.token_urlsafe(24)
            value["thumbnailUploadUrl"] = f"{self.base_url}/dms-uploads/{video.thumbnail_token}"
        self.assets[video.urn] = video
        return _json(200, {"value": value})

    def _video_upload(self, token: str, body: bytes) -> Response | None:
        """A PUT to a video part's address answers 200 with the part's ``ETag``."""
        for video in self.assets.values():
            if video.kind != "video":
                continue
            if token in video.part_tokens:
                index = video.part_tokens.index(token)
                first = index * VIDEO_PART_BYTES
                if len(body) != min(first + VIDEO_PART_BYTES, video.size) - first:
                    return 400, {}, b""
                video.parts[index] = body
                video.etags[index] = f"/ambry-video/signedId/{secrets.token_hex(12)}"
                return 200, {"ETag": video.etags[index]}, b""
            if token and token == video.captions_token:
                video.captions = body
                return 200, {}, b""
            if token and token == video.thumbnail_token:
                video.thumbnail = body
                return 200, {}, b""
        return None

    def finalize_video(self, request: _Request) -> Response:
        """POST /rest/videos?action=finalizeUpload with every part's ETag, in order."""
        self._authenticate(request, "w_organization_social", "w_member_social")
        data = request.json().get("finalizeUploadRequest") or {}
        video = self.assets.get(str(data.get("video") or ""))
        if video is None or video.kind != "video":
            raise ApiError(404, "Video not found", code="NOT_FOUND")
        if str(data.get("uploadToken") or "") != video.upload_token:
            raise ApiError(400, "Invalid upload token", code="ILLEGAL_ARGUMENT")
        expected = [video.etags.get(i) for i in range(len(video.part_tokens))]
        if None in expected or data.get("uploadedPartIds") != expected:
            raise ApiError(
                400,
                "Uploaded part ids do not match the uploaded parts",
                code="ILLEGAL_ARGUMENT",
            )
        video.content = b"".join(video.parts[i] for i in range(len(video.part_tokens)))
        video.status = "PROCESSING"
        video.looks_left = self.video_processing_looks
        return 200, {}, b""

    def get_video(self, request: _Request, urn: str) -> Response:
        """GET /rest/videos/{encoded urn}: WAITING_UPLOAD, PROCESSING, AVAILABLE or
        PROCESSING_FAILED."""
        self._authenticate(request)
        video = self.assets.get(urn)
        if video is None or video.kind != "video":
            raise ApiError(404, f"Video {urn} not found", code="NOT_FOUND")
        if video.status == "PROCESSING":
            if video.looks_left > 0:
                video.looks_left -= 1
            elif self.video_processing_fails or video.content[4:8] != b"ftyp":
                video.status = "PROCESSING_FAILED"
            else:
                video.status = "AVAILABLE"
        body: dict[str, Any] = {"id": video.urn, "owner": video.owner, "status": video.status}
        if video.status == "AVAILABLE":
            body["downloadUrl"] = f"{self.base_url}/media/{secrets.token_hex(8)}"
            if video.captions:
                body["captions"] = {"format": "SRT"}
        return _json(200, body)

    def _asset_json(self, asset: Asset) -> dict[str, Any]:
        return {
            "id": asset.urn,
            "owner": asset.owner,
            "status": asset.status,
            "downloadUrl": f"{self.base_url}/media/{asset.upload_token}"
            if asset.status == "AVAILABLE"
            else None,
        }

    def get_image(self, request: _Request, urn: str) -> Response:
        self._authenticate(request)
        asset = self.assets.get(urn)
        if asset is None:
            raise ApiError(404, f"Image {urn} not found", code="NOT_FOUND")
        return _json(200, self._asset_json(asset))

    def get_document(self, request: _Request, urn: str) -> Response:
        self._authenticate(request)
        asset = self.assets.get(urn)
        if asset is None:
            raise ApiError(404, f"Document {urn} not found", code="NOT_FOUND")
        if asset.status == "PROCESSING":
            # Processing finishes between two looks.
            asset.status = "AVAILABLE"
            return _json(200, {**self._asset_json(asset), "status": "PROCESSING"})
        return _json(200, self._asset_json(asset))

    # --- comments: marketing/community-management/shares/comments-api -------------------

    def _comment_json(self, comment: Comment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": comment.id,
            "commentUrn": comment.urn,
            "actor": comment.actor,
            "object": comment.object,
            "message": {"text": comment.text, "attributes": []},
            "created": {"actor": comment.actor, "time": _ms(comment.created_at)},
            "lastModified": {"actor": comment.actor, "time": _ms(comment.created_at)},
            "likesSummary": {"totalLikes": 0, "likedByCurrentUser": False},
            "commentsSummary": {
                "aggregatedTotalComments": sum(
                    1 for c in self.comments.values() if c.parent_comment == comment.urn
                ),
                "selectedComments": [],
            },
        }
        if comment.parent_comment:
            body["parentComment"] = comment.parent_comment
        if comment.agent:
            body["agent"] = comment.agent
        return body

    def list_comments(self, request: _Request, urn: str) -> Response:
        """GET /rest/socialActions/{encoded post or comment urn}/comments (start/count),
        oldest first; on a comment URN, the replies to it."""
        # comments-api: newer versions name these permissions ``*_feed``.
        self._authenticate(
            request, "r_organization_social", "r_organization_social_feed", "r_member_social"
        )
        if "urn:li:" in request.raw_path:
            raise ApiError(400, "Syntax exception in path variables", code="ILLEGAL_ARGUMENT")
        if urn.startswith("urn:li:comment:"):
            found = [c for c in self.comments.values() if c.parent_comment == urn]
        else:
            post = self._post_for(urn)
            found = [
                c
                for c in self.comments.values()
                if post is not None and c.post_urn == post.urn and not c.parent_comment
            ]
        found.sort(key=lambda c: (c.created_at, int(c.id)))
        return _json(200, _paged([self._comment_json(c) for c in found], request, max_count=100))

    def create_comment(self, request: _Request, urn: str) -> Response:
        """POST /rest/socialActions/{encoded urn}/comments as the organization
        (``actor`` an organization URN the member may post for)."""
        token = self._authenticate(
            request, "w_organization_social", "w_organization_social_feed", "w_member_social"
        )
        data = request.json()
        actor = str(data.get("actor") or "")
        text = str((data.get("message") or {}).get("text") or "")
        if not text:
            raise ApiError(422, "/message/text :: field is required", code="UNPROCESSABLE_ENTITY")
        if actor.startswith("urn:li:organization:"):
            self._require_role(token, actor, POSTING_ROLES)
        elif actor != self.members[token.member_id].urn:
            raise ApiError(403, "Actor mismatch", code="ACCESS_DENIED", service_error_code=100)
        parent_urn = data.get("parentComment")
        parent = self.comments.get(str(parent_urn)) if parent_urn else None
        if parent_urn and parent is None:
            raise ApiError(404, f"Comment {parent_urn} not found", code="NOT_FOUND")
        post = self._post_for(str(data.get("object") or ""))
        if post is None or post.deleted:
            raise ApiError(404, f"{data.get('object')} not found", code="NOT_FOUND")
        if parent is not None and parent.post_urn != post.urn:
            raise ApiError(
                400, "/parentComment :: not a comment on /object", code="ILLEGAL_ARGUMENT"
            )
        if urn != (parent.urn if parent else urn) or (
            parent is None and self._post_for(urn) is not post
        ):
            raise ApiError(400, "The path must name the object or the parent comment")
        comment = Comment(
            id=self.new_id(),
            object=post.activity,
            post_urn=post.urn,
            activity=post.activity,
            actor=actor,
            text=text,
            created_at=datetime.now(UTC),
            parent_comment=parent.urn if parent else None,
            agent=self.members[token.member_id].urn if actor.startswith("urn:li:org") else None,
        )
        self.comments[comment.urn] = comment
        return (
            201,
            {"Content-Type": "application/json", "x-restli-id": comment.id},
            json.dumps(self._comment_json(comment)).encode(),
        )

    def _post_for(self, urn: str) -> Post | None:
        """A post by its share/ugcPost URN or by its activity URN."""
        if urn in self.posts:
            return self.posts[urn]
        return next((p for p in self.posts.values() if p.activity == urn), None)

    # --- statistics: marketing/community-management/organizations/... ------------------

    def share_statistics(self, request: _Request) -> Response:
        """GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&...&shares=List(...)
        (organizations/share-statistics): lifetime totals per post."""
        token = self._authenticate(request, "rw_organization_admin", "r_organization_admin")
        q = request.params()
        if q.get("q") != "organizationalEntity":
            raise ApiError(400, "Invalid finder", code="ILLEGAL_ARGUMENT")
        org = self._require_role(token, q.get("organizationalEntity", ""), ADMIN_ROLES)
        elements = []
        for name in ("shares", "ugcPosts"):
            for urn in request.restli_list(name):
                post = self.posts.get(urn)
                if post is None or post.author != org.urn or post.deleted:
                    continue
                comments = sum(1 for c in self.comments.values() if c.post_urn == urn)
                engaged = post.clicks + post.likes + comments + post.shares
                elements.append(
                    {
                        "share" if name == "shares" else "ugcPost": urn,
                        "organizationalEntity": org.urn,
                        "totalShareStatistics": {
                            "uniqueImpressionsCount": post.unique_impressions,
                            "shareCount": post.shares,
                            "engagement": engaged / post.impressions if post.impressions else 0.0,
                            "clickCount": post.clicks,
                            "likeCount": post.likes,
                            "impressionCount": post.impressions,
                            "commentCount": comments,
                        },
                    }
                )
        if not q.get("shares") and not q.get("ugcPosts"):
            posts = [p for p in self.posts.values() if p.author == org.urn and not p.deleted]
            elements.append(
                {
                    "organizationalEntity": org.urn,
                    "totalShareStatistics": {
                        "impressionCount": sum(p.impressions for p in posts),
                        "likeCount": sum(p.likes for p in posts),
                    },
                }
            )
        return _json(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements})

    def follower_statistics(self, request: _Request) -> Response:
        """GET /rest/organizationalEntityFollowerStatistics?q=organizationalEntity&...
        (organizations/follower-statistics): lifetime counts by facet."""
        token = self._authenticate(request, "rw_organization_admin", "r_organization_admin")
        q = request.params()
        if q.get("q") != "organizationalEntity":
            raise ApiError(400, "Invalid finder", code="ILLEGAL_ARGUMENT")
        org = self._require_role(token, q.get("organizationalEntity", ""), ADMIN_ROLES)
        outside = org.followers_organic - org.employees_following
        return _json(
            200,
            {
                "paging": {"start": 0, "count": 10, "links": []},
                "elements": [
                    {
                        "organizationalEntity": org.urn,
                        "followerCountsByAssociationType": [
                            {
                                "followerCounts": {
                                    "organicFollowerCount": org.employees_following,
                                    "paidFollowerCount": 0,
                                },
                                "associationType": "EMPLOYEE",
                            },
                            {
                                "followerCounts": {
                                    "organicFollowerCount": outside,
                                    "paidFollowerCount": org.followers_paid,
                                },
                            },
                        ],
                        "followerCountsBySeniority": [],
                        "followerCountsByIndustry": [],
                        "followerCountsByFunction": [],
                        "followerCountsByStaffCountRange": [],
                        "followerCountsByGeoCountry": [],
                        "followerCountsByGeo": [],
                    }
                ],
            },
        )


def _content_assets(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return []
    if "media" in content:
        return [str(content["media"].get("id"))]
    if "multiImage" in content:
        return [str(i.get("id")) for i in content["multiImage"].get("images") or []]
    return []


@dataclass
class _Request:
    method: str
    path: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes
    _params: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        if not self._params:
            self._params = {
                k: v[0] for k, v in parse_qs(self.query, keep_blank_values=True).items()
            }
        return self._params

    def raw_query_value(self, name: str) -> str:
        for part in self.query.split("&"):
            key, _, value = part.partition("=")
            if key == name:
                return value
        return ""

    def restli_list(self, name: str) -> list[str]:
        """``name=List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A2)``: Rest.li 2.0 wants each
        URN encoded inside an unencoded ``List(...)``."""
        raw = self.raw_query_value(name)
        if not raw:
            return []
        if not (raw.startswith("List(") and raw.endswith(")")):
            raise ApiError(400, f"Invalid Rest.li list for {name}", code="ILLEGAL_ARGUMENT")
        items = raw[5:-1].split(",")
        if any(":" in item for item in items):
            raise ApiError(400, "Syntax exception in query parameters", code="ILLEGAL_ARGUMENT")
        return [unquote(item) for item in items if item]

    def json(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.body or b"{}")
        except ValueError:
            raise ApiError(400, "Malformed JSON body", code="ILLEGAL_ARGUMENT") from None
        return loaded if isinstance(loaded, dict) else {}

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


def _paged(elements: list[Any], request: _Request, *, max_count: int = 100) -> dict[str, Any]:
    """Rest.li offset paging (shared/api-guide/concepts/pagination): start and count."""
    q = request.params()
    try:
        start = max(0, int(q.get("start") or 0))
        count = min(max(1, int(q.get("count") or 10)), max_count)
    except ValueError:
        raise ApiError(400, "start and count must be numbers", code="ILLEGAL_ARGUMENT") from None
    page = elements[start : start + count]
    links = []
    if start + count < len(elements):
        base = {k: v for k, v in q.items() if k not in ("start", "count")}
        href = f"{request.path}?" + urlencode({**base, "start": start + count, "count": count})
        links.append({"rel": "next", "type": "application/json", "href": href})
    return {
        "paging": {"start": start, "count": count, "links": links, "total": len(elements)},
        "elements": page,
    }


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return 302, {"Location": uri + separator + urlencode(params, quote_via=quote)}, b""
