"""A small Graph API server (graph.facebook.com semantics) for the tests, on 127.0.0.1.

It follows Meta's documentation for the parts GovSocial uses, each route with
its doc page beside it (developers.facebook.com). Paths carry a version prefix
(``/v26.0/...``; any ``vNN.N`` is accepted, as Meta serves older versions);
answers reproduce the shapes recorded from the live API (NETWORK-APIS.md,
"Shapes of real answers"): ids are strings, times ``2024-05-01T10:00:00+0000``,
fields not asked for are left out, lists page by cursor with an absolute
``paging.next`` that embeds the access token and is absent on the last page,
error objects ``{message, type, code, error_subcode?, fbtrace_id}``, usage
headers (``X-App-Usage`` for user and app tokens, ``X-Business-Use-Case-Usage``
for Page tokens) holding JSON on every answer. Instagram containers go
``IN_PROGRESS`` → ``FINISHED`` (or ``ERROR`` when the image cannot be fetched:
the server really GETs ``image_url``) → ``PUBLISHED``, and ``EXPIRED`` on demand;
Reels containers (``media_type=REELS`` with ``video_url``, fetched likewise) stay
``IN_PROGRESS`` for ``video_polls`` reads and end ``FINISHED``, or ``ERROR`` with
``video_error`` in ``status`` (content-publishing "Reels posts";
instagram-platform/instagram-graph-api/reference/ig-container).

Facebook Page videos follow the Video API publishing guide: the Resumable Upload
API (``POST /{app-id}/uploads`` → ``upload:<id>``, ``POST /upload:<id>`` with
``Authorization: OAuth`` and ``file_offset`` → ``{"h": handle}``, ``GET /upload:<id>``
→ ``file_offset``; graph-api/guides/upload, graph-api/reference/application/uploads),
then ``POST /{page-id}/videos`` with ``fbuploader_video_file_chunk``
(video-api/guides/publishing; graph-api/reference/page/videos); the video's
``status`` (graph-api/reference/video-status) reads ``processing`` for
``video_polls`` looks, then ``ready`` (the Page post appears then) or ``error`` with
``video_error`` in the processing phase's ``errors``; captions
(graph-api/reference/video/captions) must be SubRip files named
``<name>.<locale>.srt``. ``cut_upload_after`` keeps only that many bytes of the next
upload and answers 503, as a dropped connection would leave it.

Switches: ``fail_next`` (answer with a Graph error), ``hang`` (hold requests),
``usage_percent`` (what the usage headers report). State is in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests

from tests.mastodon_server.server import _Request

Response = tuple[int, dict[str, str], bytes]
VERSION_RE = re.compile(r"^/v\d+\.\d+(?P<rest>/.*)$")
SHORT_LIVED_SECONDS = 5400
LONG_LIVED_SECONDS = 5183944  # ~60 days, as the docs' example
DATA_ACCESS_SECONDS = 90 * 86400
PAGE_SIZE_DEFAULT = 25

# Page Insights metrics that answer today, and those retired (docs: graph-api/reference/insights,
# pages-api/platforminsights/page/deprecated-metrics): the retired ones answer error 100.
PAGE_METRICS = {
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
    "page_follows",
    "page_daily_follows",
    "page_daily_follows_unique",
}
POST_METRICS = {
    "post_total_media_view_unique",
    "post_media_view",
    "post_reactions_by_type_total",
    "post_clicks",
}
RETIRED_METRICS = {
    "page_impressions",
    "page_impressions_unique",
    "page_fans",
    "page_fan_adds",
    "page_engaged_users",
    "post_impressions",
    "post_impressions_unique",
    "post_engaged_users",
    "impressions",
    "plays",
    "video_views",
}
# Instagram media and account metrics (instagram-platform/reference/instagram-media/insights,
# …/instagram-user/insights).
IG_MEDIA_METRICS = {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}
IG_ACCOUNT_METRICS = {"reach", "views", "follower_count", "accounts_engaged", "total_interactions"}


# graph-api/guides/upload: the file types the Resumable Upload API takes.
UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
UNSUPPORTED_VIDEO = "The video file you selected is in a format we don't support."


def graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class GraphError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: int,
        subcode: int | None = None,
        status: int = 400,
        type: str = "OAuthException",
        user_msg: str = "",
    ) -> None:
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "type": type,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(9),
        }
        if subcode is not None:
            self.body["error_subcode"] = subcode
        if user_msg:
            self.body["error_user_msg"] = user_msg


@dataclass
class Token:
    token: str
    kind: str  # "user", "page", "app"
    app_id: str
    user_id: str = ""
    page_id: str = ""
    scopes: set[str] = field(default_factory=set)
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    valid: bool = True
    invalid_subcode: int | None = None


@dataclass
class Page:
    id: str
    name: str
    category: str = "Government organization"
    followers_count: int = 0
    ig_id: str = ""
    token: str = ""


@dataclass
class IgAccount:
    id: str
    username: str
    name: str
    followers_count: int = 0
    publish_quota_total: int = 100


@dataclass
class Post:
    id: str
    owner_id: str  # page id, or ig account id for Instagram media
    message: str
    created: datetime
    link: str = ""
    attached_media: list[str] = field(default_factory=list)
    media_type: str = ""  # Instagram: IMAGE, CAROUSEL_ALBUM
    children: list[str] = field(default_factory=list)
    shares: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    insights: dict[str, int] = field(default_factory=dict)
    deleted: bool = False


@dataclass
class Photo:
    id: str
    page_id: str
    content: bytes
    alt_text: str
    published: bool


@dataclass
class Comment:
    id: str
    object_id: str  # post or media id it is on
    parent_id: str  # parent comment id ("" when top level)
    from_id: str
    from_name: str
    message: str
    created: datetime
    hidden: bool = False
    deleted: bool = False


@dataclass
class Message:
    id: str
    from_id: str
    from_name: str
    to_id: str
    text: str
    created: datetime
    tag: str = ""


@dataclass
class Conversation:
    id: str
    owner_id: str  # page or ig account id
    platform: str  # messenger or instagram
    user_id: str
    user_name: str
    messages: list[Message] = field(default_factory=list)


@dataclass
class Container:
    id: str
    ig_id: str
    media_type: str
    caption: str
    image_url: str
    alt_text: str
    is_carousel_item: bool
    children: list[str]
    status_code: str
    created: datetime
    polls_left: int = 0
    error: str = ""
    media_id: str = ""
    fetched_bytes: int = 0
    video_url: str = ""
    share_to_feed: bool = False


@dataclass
class UploadSession:
    id: str
    app_id: str
    user_id: str
    file_name: str
    file_length: int
    file_type: str
    received: bytearray = field(default_factory=bytearray)
    handle: str = ""


@dataclass
class Video:
    id: str
    page_id: str
    description: str
    content: bytes
    created: datetime
    polls_left: int = 0
    error: str = ""
    state: str = "processing"  # processing, ready, error
    post_id: str = ""
    captions: dict[str, str] = field(default_factory=dict)  # locale -> SubRip text
    default_locale: str = ""


@dataclass
class Failure:
    method: str | None
    path_prefix: str | None
    times: int
    error: GraphError
    headers: dict[str, str]


@dataclass
class LoggedRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> Any:
        return io.StringIO()


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class GraphTestServer:
    def __init__(self) -> None:
        self.version = "v26.0"
        self.app_id = "1234567890123456"
        self.app_secret = secrets.token_hex(16)
        self.verify_token = "verify-" + secrets.token_hex(8)
        # How often a new container answers IN_PROGRESS before it is FINISHED.
        self.container_polls = 1
        # Reels process for longer; ``video_error`` makes processing fail with that status.
        self.video_polls = 2
        self.video_error = ""
        self.uploads: dict[str, UploadSession] = {}
        self.videos: dict[str, Video] = {}
        self.cut_upload_after: int | None = None
        # What the usage headers report (percent of every allowance); None: counted.
        self.usage_percent: int | None = None
        self.regain_minutes = 0
        # Granted on the OAuth dialog; tests remove some to decline them.
        self.granted_scopes: set[str] | None = None
        self.human_agent_enabled = False
        self.requests: list[LoggedRequest] = []
        self.client_waits: list[float] = []
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, tuple[str, set[str]]] = {}
        self.pages: dict[str, Page] = {}
        self.ig_accounts: dict[str, IgAccount] = {}
        self.posts: dict[str, Post] = {}
        self.photos: dict[str, Photo] = {}
        self.comments: dict[str, Comment] = {}
        self.conversations: dict[str, Conversation] = {}
        self.containers: dict[str, Container] = {}
        self.hosted: dict[str, tuple[str, bytes]] = {}
        self._failures: list[Failure] = []
        self._hang: tuple[str | None, str | None, bool] | None = None
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._ids = itertools.count(17_841_400_000_000_001)
        self._calls = 0
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.user_id = self.new_id()
        self.user_name = "Comms Person"

    # --- running

    def start(self) -> GraphTestServer:
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

    # --- helpers for tests

    def new_id(self) -> str:
        return str(next(self._ids))

    def fail_next(
        self,
        code: int,
        *,
        message: str = "An unknown error has occurred.",
        subcode: int | None = None,
        status: int = 400,
        method: str | None = None,
        path_prefix: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests (path without version) with an error."""
        error = GraphError(message, code=code, subcode=subcode, status=status)
        with self._lock:
            self._failures.append(Failure(method, path_prefix, times, error, headers or {}))

    def hang(
        self, *, method: str | None = None, path_prefix: str | None = None, after_processing: bool
    ) -> None:
        with self._lock:
            self._released.clear()
            self._hang = (method, path_prefix, after_processing)

    def release(self) -> None:
        with self._lock:
            self._hang = None
        self._released.set()

    def create_page(self, name: str, *, with_instagram: str = "", followers: int = 0) -> Page:
        page = Page(self.new_id(), name, followers_count=followers)
        page.token = self._issue("page", page_id=page.id, user_id=self.user_id).token
        if with_instagram:
            ig = IgAccount(self.new_id(), with_instagram, name, followers_count=followers)
            self.ig_accounts[ig.id] = ig
            page.ig_id = ig.id
        self.pages[page.id] = page
        return page

    def user_token(self, scopes: set[str] | None = None) -> str:
        """A long-lived user token, as if Facebook Login had run."""
        return self._issue(
            "user", user_id=self.user_id, scopes=scopes or set(ALL_SCOPES), long_lived=True
        ).token

    def revoke(self, token: str, *, subcode: int = 460) -> None:
        self.tokens[token].valid = False
        self.tokens[token].invalid_subcode = subcode

    def host_image(self, content: bytes, mime_type: str = "image/jpeg") -> str:
        """Serve ``content`` at a public address (standing in for our signed media URL)."""
        name = secrets.token_hex(8)
        self.hosted[name] = (mime_type, content)
        return f"{self.base_url}/_files/{name}"

    def comment_as(
        self,
        object_id: str,
        text: str,
        *,
        name: str = "Resident",
        parent_id: str = "",
        ago: timedelta = timedelta(0),
    ) -> Comment:
        comment = Comment(
            id=f"{object_id.split('_')[-1]}_{self.new_id()}",
            object_id=object_id,
            parent_id=parent_id,
            from_id=self.new_id(),
            from_name=name,
            message=text,
            created=datetime.now(UTC) - ago,
        )
        self.comments[comment.id] = comment
        return comment

    def message_from(
        self,
        owner_id: str,
        text: str,
        *,
        name: str = "Resident",
        platform: str = "messenger",
        ago: timedelta = timedelta(0),
    ) -> Conversation:
        conversation = next(
            (
                c
                for c in self.conversations.values()
                if c.owner_id == owner_id and c.user_name == name and c.platform == platform
            ),
            None,
        )
        if conversation is None:
            conversation = Conversation(
                "t_" + self.new_id(), owner_id, platform, self.new_id(), name
            )
            self.conversations[conversation.id] = conversation
        conversation.messages.append(
            Message(
                "m_" + secrets.token_urlsafe(12),
                conversation.user_id,
                name,
                owner_id,
                text,
                datetime.now(UTC) - ago,
            )
        )
        return conversation

    def mention_in_comment(self, ig_id: str, text: str, *, name: str = "neighbour") -> Comment:
        """Someone mentions our account (``@username`` in ``text``) in a comment on another
        account's media; returns the comment (its id is what the webhook carries)."""
        other = IgAccount(self.new_id(), name + "_media", name)
        self.ig_accounts[other.id] = other
        media = Post(self.new_id(), other.id, "Their post", datetime.now(UTC), media_type="IMAGE")
        self.posts[media.id] = media
        return self.comment_as(media.id, text, name=name)

    def posts_of(self, owner_id: str) -> list[Post]:
        return [p for p in self.posts.values() if p.owner_id == owner_id and not p.deleted]

    def requests_to(self, method: str, path_suffix: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def approve(self, authorization_url: str) -> dict[str, str]:
        """Play the person's browser on the Login dialog: approve, return the redirect query."""
        response = requests.get(authorization_url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location", "")
        if response.status_code != 302 or not location:
            raise AssertionError(f"dialog answered {response.status_code}: {response.text}")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def signed_delivery(
        self, payload: dict[str, Any], *, secret: str | None = None
    ) -> tuple[bytes, str]:
        """A webhook delivery's raw body and its ``X-Hub-Signature-256`` header value
        (docs: graph-api/webhooks/getting-started#validate-payloads)."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        key = (secret or self.app_secret).encode()
        return body, "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    # --- the WSGI app

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        raw_path = environ.get("PATH_INFO", "")
        if raw_path.startswith("/_files/"):
            # Hosted images are served outside the lock: the server fetches them itself.
            status, file_headers, payload = self._file(raw_path[len("/_files/") :])
            start_response(
                f"{status} {'OK' if status == 200 else 'Not Found'}", list(file_headers.items())
            )
            return [payload]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        request = _Request(method, raw_path, query, headers, body)
        params = {k: v[0] for k, v in query.items()}
        files: dict[str, tuple[str, str, bytes]] = {}
        if "/upload:" in raw_path:
            pass  # the Resumable Upload API's body is the file's bytes, not a form
        elif method in ("POST", "DELETE") and body:
            if headers.get("Content-Type", "").startswith("multipart/form-data"):
                fields, files = request.multipart()
                params.update(fields)
            else:
                params.update({k: str(v) for k, v in request.data().items()})
        match = VERSION_RE.match(raw_path)
        path = match.group("rest") if match else raw_path
        with self._lock:
            self.requests.append(LoggedRequest(method, path, dict(params), headers))
            hang = self._hang
            hang_here = (
                hang is not None and hang[0] in (None, method) and path.startswith(hang[1] or "")
            )
            failure = self._take_failure(method, path)
        if hang_here and hang is not None and not hang[2]:
            self._released.wait(timeout=30)
        extra: dict[str, str] = {}
        if failure is not None:
            status, payload = (
                failure.error.status,
                json.dumps({"error": failure.error.body}).encode(),
            )
            extra = {
                "Content-Type": "application/json",
                **self._usage_headers(params, headers),
                **failure.headers,
            }
        elif raw_path.endswith("/dialog/oauth") or (not match and raw_path == "/dialog/oauth"):
            status, extra, payload = self.dialog(params)
        elif not match:
            error = GraphError("Unknown path components: " + raw_path, code=2500)
            status, payload = 400, json.dumps({"error": error.body}).encode()
            extra = {"Content-Type": "application/json"}
        else:
            status, extra, payload = self._dispatch(method, path, params, headers, files, body)
        if hang_here and hang is not None and hang[2]:
            self._released.wait(timeout=30)
        reasons = {
            200: "OK",
            302: "Found",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            500: "Internal Server Error",
            503: "Service Unavailable",
        }
        start_response(f"{status} {reasons.get(status, 'Status')}", list(extra.items()))
        return [payload]

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.method in (None, method) and path.startswith(failure.path_prefix or ""):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _file(self, name: str) -> Response:
        if name not in self.hosted:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        mime, content = self.hosted[name]
        return 200, {"Content-Type": mime}, content

    def _dispatch(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: dict[str, str],
        files: dict[str, tuple[str, str, bytes]],
        body: bytes = b"",
    ) -> Response:
        routes: list[tuple[str, str, Callable[..., Any]]] = [
            ("POST", r"/(?P<id>\d+)/uploads", self.start_upload),
            ("GET", r"/upload:(?P<sid>[\w-]+)", self.upload_status),
            ("POST", r"/upload:(?P<sid>[\w-]+)", self.upload_bytes),
            ("POST", r"/(?P<id>\d+)/videos", self.create_video),
            ("POST", r"/(?P<id>\d+)/captions", self.create_captions),
            ("GET", r"/oauth/access_token", self.access_token),
            ("GET", r"/debug_token", self.debug_token),
            ("GET", r"/me", self.me),
            ("GET", r"/me/accounts", self.me_accounts),
            ("GET", r"/(?P<id>\d+)/content_publishing_limit", self.publishing_limit),
            ("POST", r"/(?P<id>\d+)/media_publish", self.media_publish),
            ("POST", r"/(?P<id>\d+)/media", self.create_container),
            ("POST", r"/(?P<id>\d+)/mentions", self.reply_to_mention),
            ("GET", r"/(?P<id>\d+)/media", self.list_media),
            ("POST", r"/(?P<id>\d+)/feed", self.create_post),
            ("POST", r"/(?P<id>\d+)/photos", self.upload_photo),
            ("GET", r"/(?P<id>\d+)/(?:published_posts|feed)", self.list_posts),
            ("GET", r"/(?P<id>\d+)/conversations", self.list_conversations),
            ("POST", r"/(?P<id>\d+)/messages", self.send_message),
            ("GET", r"/(?P<id>[\d_]+)/insights", self.insights),
            ("GET", r"/(?P<id>[\d_]+)/(?:comments|replies)", self.list_comments),
            ("POST", r"/(?P<id>[\d_]+)/(?:comments|replies)", self.create_comment),
            ("GET", r"/(?P<id>[\d_]+)", self.get_object),
            ("POST", r"/(?P<id>[\d_]+)", self.update_object),
            ("DELETE", r"/(?P<id>[\d_]+)", self.delete_object),
        ]
        try:
            with self._lock:
                self._calls += 1
                for route_method, pattern, handler in routes:
                    found = re.fullmatch(pattern, path)
                    if found and route_method == method:
                        token = None
                        if handler not in (self.access_token,):
                            token = self._authenticate(params, headers)
                        status, answer = handler(
                            token,
                            params,
                            files=files,
                            body=body,
                            headers=headers,
                            **found.groupdict(),
                        )
                        return (
                            status,
                            {
                                "Content-Type": "application/json",
                                **self._usage_headers(params, headers),
                            },
                            json.dumps(answer).encode(),
                        )
                raise GraphError(
                    f"Unsupported {method.lower()} request. Object with ID '{path.strip('/')}' "
                    "does not exist, cannot be loaded due to missing permissions, or does not "
                    "support this operation.",
                    code=100,
                    subcode=33,
                    type="GraphMethodException",
                )
        except GraphError as exc:
            return (
                exc.status,
                {"Content-Type": "application/json", **self._usage_headers(params, headers)},
                json.dumps({"error": exc.body}).encode(),
            )

    # --- tokens and usage

    def _issue(
        self,
        kind: str,
        *,
        user_id: str = "",
        page_id: str = "",
        scopes: set[str] | None = None,
        long_lived: bool = False,
    ) -> Token:
        now = datetime.now(UTC)
        expires = None
        if kind == "user":
            expires = now + timedelta(
                seconds=LONG_LIVED_SECONDS if long_lived else SHORT_LIVED_SECONDS
            )
        token = Token(
            token="EAA" + secrets.token_urlsafe(40),
            kind=kind,
            app_id=self.app_id,
            user_id=user_id,
            page_id=page_id,
            scopes=set(scopes if scopes is not None else ALL_SCOPES),
            expires_at=expires,
            data_access_expires_at=now + timedelta(seconds=DATA_ACCESS_SECONDS),
        )
        self.tokens[token.token] = token
        return token

    def _token_string(self, params: dict[str, str], headers: dict[str, str]) -> str:
        auth = headers.get("Authorization", "")
        if auth.startswith(("Bearer ", "OAuth ")):
            return auth.split(" ", 1)[1]
        return params.get("access_token", "")

    def _authenticate(self, params: dict[str, str], headers: dict[str, str]) -> Token:
        """docs: graph-api/guides/error-handling (190 and its subcodes)."""
        raw = self._token_string(params, headers)
        if raw == f"{self.app_id}|{self.app_secret}":
            return Token(raw, "app", self.app_id)
        token = self.tokens.get(raw)
        if token is None:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", code=190)
        if not token.valid:
            raise GraphError(
                "Error validating access token: The session has been invalidated because the "
                "user changed their password or Facebook has changed the session for security "
                "reasons.",
                code=190,
                subcode=token.invalid_subcode,
                status=400,
            )
        if token.expires_at and token.expires_at < datetime.now(UTC):
            raise GraphError(
                "Error validating access token: Session has expired", code=190, subcode=463
            )
        if token.kind == "page":
            # A Page token carries the scopes of the user token it came from.
            user_scopes = [t.scopes for t in self.tokens.values() if t.kind == "user" and t.valid]
            token.scopes = user_scopes[-1] if user_scopes else set(ALL_SCOPES)
        return token

    def _usage_headers(self, params: dict[str, str], headers: dict[str, str]) -> dict[str, str]:
        """docs: graph-api/overview/rate-limiting (X-App-Usage; X-Business-Use-Case-Usage)."""
        percent = (
            self.usage_percent if self.usage_percent is not None else min(self._calls // 50, 100)
        )
        token = self.tokens.get(self._token_string(params, headers))
        if token is not None and token.kind == "page":
            entry = {
                "type": "pages",
                "call_count": percent,
                "total_cputime": max(percent - 5, 0),
                "total_time": max(percent - 3, 0),
                "estimated_time_to_regain_access": self.regain_minutes,
            }
            return {"X-Business-Use-Case-Usage": json.dumps({token.page_id: [entry]})}
        return {
            "X-App-Usage": json.dumps(
                {
                    "call_count": percent,
                    "total_time": max(percent - 3, 0),
                    "total_cputime": max(percent - 5, 0),
                }
            )
        }

    def _need(self, token: Token | None, scope: str) -> Token:
        assert token is not None
        if token.kind != "app" and scope not in token.scopes:
            raise GraphError(f"(#200) Requires {scope} permission to manage the object", code=200)
        return token

    # --- Facebook Login (docs: facebook-login/guides/advanced/manual-flow;
    #     facebook-login/guides/access-tokens/get-long-lived) ------------------------------------

    def dialog(self, params: dict[str, str]) -> Response:
        if params.get("client_id") != self.app_id or not params.get("redirect_uri"):
            return 400, {"Content-Type": "text/html"}, b"<h1>Invalid App ID</h1>"
        requested = {s for s in re.split(r"[,\s]+", params.get("scope", "")) if s}
        granted = requested & self.granted_scopes if self.granted_scopes is not None else requested
        code = secrets.token_urlsafe(24)
        self.codes[code] = (params["redirect_uri"], granted)
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        sep = "&" if "?" in params["redirect_uri"] else "?"
        return 302, {"Location": params["redirect_uri"] + sep + urlencode(query)}, b""

    def access_token(
        self, token: Token | None, params: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        if params.get("client_id") != self.app_id or params.get("client_secret") != self.app_secret:
            raise GraphError("Error validating client secret.", code=1, type="OAuthException")
        if params.get("grant_type") == "fb_exchange_token":
            short = self.tokens.get(params.get("fb_exchange_token", ""))
            if short is None or not short.valid:
                raise GraphError("Invalid OAuth access token.", code=190)
            issued = self._issue(
                "user", user_id=short.user_id, scopes=short.scopes, long_lived=True
            )
            return 200, {
                "access_token": issued.token,
                "token_type": "bearer",
                "expires_in": LONG_LIVED_SECONDS,
            }
        code = params.get("code", "")
        if code not in self.codes:
            raise GraphError("This authorization code has been used.", code=100, subcode=36009)
        redirect_uri, scopes = self.codes.pop(code)
        if params.get("redirect_uri") != redirect_uri:
            raise GraphError(
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request",
                code=100,
                subcode=36008,
            )
        issued = self._issue("user", user_id=self.user_id, scopes=scopes)
        return 200, {
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": SHORT_LIVED_SECONDS,
        }

    def debug_token(self, token: Token | None, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        """docs: graph-api/reference/debug_token (expiries are epoch integers)."""
        inspected = self.tokens.get(params.get("input_token", ""))
        if inspected is None:
            return 200, {
                "data": {
                    "error": {"code": 190, "message": "Invalid OAuth access token."},
                    "is_valid": False,
                    "scopes": [],
                }
            }
        data: dict[str, Any] = {
            "app_id": inspected.app_id,
            "type": inspected.kind.upper(),
            "application": "GovSocial",
            "data_access_expires_at": int(inspected.data_access_expires_at.timestamp())
            if inspected.data_access_expires_at
            else 0,
            "expires_at": int(inspected.expires_at.timestamp()) if inspected.expires_at else 0,
            "is_valid": inspected.valid,
            "scopes": sorted(inspected.scopes),
            "user_id": inspected.user_id,
        }
        if inspected.page_id:
            data["profile_id"] = inspected.page_id
        return 200, {"data": data}

    def me(self, token: Token | None, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        assert token is not None
        if token.kind == "page":
            page = self.pages[token.page_id]
            return 200, self._fields({"id": page.id, "name": page.name}, params)
        return 200, self._fields({"id": token.user_id, "name": self.user_name}, params)

    def me_accounts(self, token: Token | None, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        """docs: graph-api/reference/user/accounts (pages_show_list; Page tokens inside)."""
        self._need(token, "pages_show_list")
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "category": p.category,
                "access_token": p.token,
                "tasks": [
                    "ADVERTISE",
                    "ANALYZE",
                    "CREATE_CONTENT",
                    "MESSAGING",
                    "MODERATE",
                    "MANAGE",
                ],
            }
            for p in self.pages.values()
        ]
        return 200, self._paged(rows, params, "/me/accounts")

    # --- generic objects

    def _fields(self, obj: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        """Only the fields asked for (``id`` always): Graph leaves out what was not requested."""
        wanted = self._wanted(params)
        if not wanted:
            return {k: v for k, v in obj.items() if k in ("id", "name", "message", "created_time")}
        return {k: v for k, v in obj.items() if k == "id" or k in wanted}

    @staticmethod
    def _wanted(params: dict[str, str]) -> set[str]:
        raw = params.get("fields", "")
        depth, current, names = 0, "", []
        for char in raw:
            if char in "({":
                depth += 1
            elif char in ")}":
                depth -= 1
            elif char == "," and depth == 0:
                names.append(current)
                current = ""
                continue
            current += char
        if current:
            names.append(current)
        return {re.split(r"[.{(]", n.strip(), maxsplit=1)[0] for n in names if n.strip()}

    def _paged(
        self, rows: list[dict[str, Any]], params: dict[str, str], path: str
    ) -> dict[str, Any]:
        """Cursor paging (docs: graph-api/results): ``next`` is absolute, embeds the token,
        and is absent on the last page."""
        limit = int(params.get("limit") or PAGE_SIZE_DEFAULT)
        start = int(params.get("after") or 0) if str(params.get("after") or "0").isdigit() else 0
        chunk = rows[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if rows:
            paging: dict[str, Any] = {
                "cursors": {"before": str(start), "after": str(start + len(chunk))}
            }
            if start + limit < len(rows):
                query = {k: v for k, v in params.items() if k != "after"}
                query["after"] = str(start + len(chunk))
                paging["next"] = f"{self.base_url}/{self.version}{path}?{urlencode(query)}"
            body["paging"] = paging
        return body

    def get_object(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        if id in self.pages:
            page = self.pages[id]
            obj: dict[str, Any] = {
                "id": page.id,
                "name": page.name,
                "category": page.category,
                "followers_count": page.followers_count,
                "link": f"https://www.facebook.com/{page.id}",
            }
            if page.ig_id:
                # A nested field list (``instagram_business_account{id,username}``) expands it.
                ig = self.ig_accounts[page.ig_id]
                nested = re.search(
                    r"instagram_business_account\{([^}]*)\}", params.get("fields", "")
                )
                full = {"id": ig.id, "username": ig.username, "name": ig.name}
                wanted = set(nested.group(1).split(",")) if nested else {"id"}
                obj["instagram_business_account"] = {
                    k: v for k, v in full.items() if k == "id" or k in wanted
                }
            return 200, self._fields(obj, params)
        if id in self.ig_accounts:
            ig = self.ig_accounts[id]
            mentioned = re.search(
                r"mentioned_comment\.comment_id\((\w+)\)", params.get("fields", "")
            )
            if mentioned:
                # docs: instagram-platform/reference/ig-user/mentioned_comment
                comment = self.comments.get(mentioned.group(1))
                if comment is None or comment.deleted or f"@{ig.username}" not in comment.message:
                    raise self._missing(mentioned.group(1))
                media = self.posts[comment.object_id]
                found = {
                    "id": comment.id,
                    "text": comment.message,
                    "timestamp": graph_time(comment.created),
                    "username": comment.from_name,
                    "media": {
                        "id": media.id,
                        "permalink": f"https://www.instagram.com/p/{media.id[-8:]}/",
                    },
                }
                return 200, {"mentioned_comment": found, "id": ig.id}
            obj = {
                "id": ig.id,
                "username": ig.username,
                "name": ig.name,
                "followers_count": ig.followers_count,
                "media_count": len(self.posts_of(ig.id)),
            }
            return 200, self._fields(obj, params)
        if id in self.containers:
            c = self.containers[id]
            if c.status_code == "IN_PROGRESS":
                if c.polls_left <= 0:
                    c.status_code = "ERROR" if c.error else "FINISHED"
                c.polls_left -= 1
            obj = {
                "id": c.id,
                "status_code": c.status_code,
                "status": f"{c.status_code}: {c.error}" if c.error else c.status_code,
            }
            return 200, self._fields(obj, params)
        if id in self.videos:
            return 200, self._fields(self._video_obj(self.videos[id]), params)
        if id in self.posts and not self.posts[id].deleted:
            return 200, self._fields(self._post_obj(self.posts[id], params), params)
        if id in self.comments and not self.comments[id].deleted:
            return 200, self._fields(self._comment_obj(self.comments[id]), params)
        raise self._missing(id)

    def _missing(self, id: str) -> GraphError:
        return GraphError(
            f"Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.",
            code=100,
            subcode=33,
            type="GraphMethodException",
        )

    def _post_obj(self, post: Post, params: dict[str, str]) -> dict[str, Any]:
        if post.media_type:  # Instagram media (reference/ig-media)
            return {
                "id": post.id,
                "caption": post.message,
                "media_type": post.media_type,
                "permalink": f"https://www.instagram.com/p/{post.id[-8:]}/",
                "timestamp": graph_time(post.created),
                "like_count": post.reactions.get("like", 0),
                "comments_count": self._comment_count(post.id),
                "username": self.ig_accounts[post.owner_id].username,
            }
        obj: dict[str, Any] = {
            "id": post.id,
            "message": post.message,
            "created_time": graph_time(post.created),
            "permalink_url": f"https://www.facebook.com/{post.id}",
            "shares": {"count": post.shares},
        }
        if not post.message:
            obj.pop("message")
        obj["comments"] = {
            "data": [],
            "summary": {
                "order": "ranked",
                "total_count": self._comment_count(post.id),
                "can_comment": True,
            },
        }
        obj["reactions"] = {
            "data": [],
            "summary": {"total_count": sum(post.reactions.values()), "viewer_reaction": "NONE"},
        }
        if post.shares == 0:
            obj.pop("shares")  # Graph omits shares until there are some
        return obj

    def _comment_count(self, object_id: str) -> int:
        return sum(1 for c in self.comments.values() if c.object_id == object_id and not c.deleted)

    def _comment_obj(self, c: Comment) -> dict[str, Any]:
        post = self.posts.get(c.object_id)
        if post is not None and post.media_type:  # IG comment (reference/ig-comment)
            obj: dict[str, Any] = {
                "id": c.id,
                "text": c.message,
                "timestamp": graph_time(c.created),
                "username": c.from_name.lower().replace(" ", "_"),
                "from": {"id": c.from_id, "username": c.from_name.lower().replace(" ", "_")},
                "hidden": c.hidden,
                "media": {"id": c.object_id},
            }
            if c.parent_id:
                obj["parent_id"] = c.parent_id
            return obj
        obj = {
            "id": c.id,
            "message": c.message,
            "created_time": graph_time(c.created),
            "from": {"id": c.from_id, "name": c.from_name},
            "is_hidden": c.hidden,
            "permalink_url": f"https://www.facebook.com/{c.object_id}?comment_id={c.id}",
        }
        if c.parent_id:
            obj["parent"] = {"id": c.parent_id}
        return obj

    def update_object(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        """Hide or unhide a comment: FB ``is_hidden`` (reference/comment), IG ``hide``
        (reference/ig-comment)."""
        comment = self.comments.get(id)
        if comment is None or comment.deleted:
            raise self._missing(id)
        if "is_hidden" in params:
            self._need(token, "pages_manage_engagement")
            comment.hidden = params["is_hidden"] == "true"
        elif "hide" in params:
            self._need(token, "instagram_manage_comments")
            comment.hidden = params["hide"] == "true"
        else:
            raise GraphError("(#100) No fields to update", code=100)
        return 200, {"success": True}

    def delete_object(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        target: Post | Comment | None = self.comments.get(id) or self.posts.get(id)
        if target is None or target.deleted:
            raise self._missing(id)
        target.deleted = True
        return 200, {"success": True}

    # --- Pages: posts and photos (docs: pages-api/posts; graph-api/reference/page/photos)

    def _page(self, token: Token | None, id: str) -> Page:
        if id not in self.pages:
            raise self._missing(id)
        assert token is not None
        if token.kind == "user":
            raise GraphError(
                "(#200) Requires a Page access token for this call", code=200, subcode=2069007
            )
        return self.pages[id]

    def upload_photo(
        self,
        token: Token | None,
        params: dict[str, str],
        *,
        id: str,
        files: dict[str, tuple[str, str, bytes]],
        **_: Any,
    ) -> tuple[int, Any]:
        page = self._page(self._need(token, "pages_manage_posts"), id)
        content = files["source"][2] if "source" in files else b""
        if not content and params.get("url"):
            content = requests.get(params["url"], timeout=5).content
        if not content:
            raise GraphError("(#324) Requires upload file", code=324)
        photo = Photo(
            self.new_id(),
            page.id,
            content,
            params.get("alt_text_custom", ""),
            params.get("published", "true") != "false",
        )
        self.photos[photo.id] = photo
        if photo.published:
            post = Post(
                f"{page.id}_{self.new_id()}",
                page.id,
                params.get("caption", ""),
                datetime.now(UTC),
                attached_media=[photo.id],
            )
            self.posts[post.id] = post
            return 200, {"id": photo.id, "post_id": post.id}
        return 200, {"id": photo.id}

    def create_post(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        page = self._page(self._need(token, "pages_manage_posts"), id)
        attached: list[str] = []
        for key in sorted(k for k in params if k.startswith("attached_media[")):
            media = json.loads(params[key])
            photo = self.photos.get(str(media.get("media_fbid")))
            if photo is None or photo.page_id != page.id:
                raise GraphError(
                    "(#100) param attached_media must be an array of valid media", code=100
                )
            if any(photo.id in p.attached_media for p in self.posts.values() if not p.deleted):
                raise GraphError("Photos already posted", code=506, subcode=1366051)
            attached.append(photo.id)
        message = params.get("message", "")
        if not message and not attached and not params.get("link"):
            raise GraphError("(#100) Missing message or attachment", code=100)
        recent = [
            p
            for p in self.posts_of(page.id)
            if p.message == message
            and message
            and (datetime.now(UTC) - p.created) < timedelta(minutes=5)
        ]
        if recent and not attached:
            raise GraphError("Duplicate status message", code=506)
        post = Post(
            f"{page.id}_{self.new_id()}",
            page.id,
            message,
            datetime.now(UTC),
            link=params.get("link", ""),
            attached_media=attached,
        )
        self.posts[post.id] = post
        return 200, {"id": post.id}

    def list_posts(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        page = self._page(token, id)
        since = int(params.get("since") or 0)
        rows = [
            self._fields(self._post_obj(p, params), params)
            for p in sorted(self.posts_of(page.id), key=lambda p: p.created, reverse=True)
            if p.created.timestamp() >= since
        ]
        return 200, self._paged(rows, params, f"/{id}/published_posts")

    # --- comments (docs: graph-api/reference/object/comments;
    #     instagram-platform/comment-moderation)

    def list_comments(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        if id not in self.posts and id not in self.comments:
            raise self._missing(id)
        is_reply_list = id in self.comments
        rows = [
            c
            for c in self.comments.values()
            if not c.deleted
            and (
                (c.parent_id == id)
                if is_reply_list
                else (c.object_id == id and (params.get("filter") == "stream" or not c.parent_id))
            )
        ]
        reverse = params.get("order") == "reverse_chronological"
        rows.sort(key=lambda c: c.created, reverse=reverse)
        return 200, self._paged(
            [self._fields(self._comment_obj(c), params) for c in rows], params, f"/{id}/comments"
        )

    def create_comment(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        assert token is not None
        parent = self.comments.get(id)
        post = self.posts.get(parent.object_id if parent else id)
        if post is None or post.deleted or (parent is not None and parent.deleted):
            raise self._missing(id)
        if post.media_type:
            self._need(token, "instagram_manage_comments")
            if parent is not None and parent.parent_id:
                raise GraphError("(#100) Replies can only be made to top-level comments", code=100)
            if parent is not None and parent.hidden:
                raise GraphError("(#100) Cannot reply to a hidden comment", code=100)
        else:
            self._need(token, "pages_manage_engagement")
        message = params.get("message", "")
        if not message:
            raise GraphError("(#100) The parameter message is required", code=100)
        owner_name = (
            self.ig_accounts[post.owner_id].username
            if post.media_type
            else self.pages[post.owner_id].name
        )
        comment = Comment(
            f"{post.id.split('_')[-1]}_{self.new_id()}",
            post.id,
            parent.id if parent else "",
            post.owner_id,
            owner_name,
            message,
            datetime.now(UTC),
        )
        self.comments[comment.id] = comment
        return 200, {"id": comment.id}

    # --- Messenger and Instagram messaging (docs: messenger-platform/conversations;
    #     messenger-platform/send-messages; …/policy/policy-overview#24hours) -----------------

    def list_conversations(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        platform = params.get("platform", "messenger")
        owner = id if platform == "messenger" else self.pages[id].ig_id if id in self.pages else id
        self._need(
            token, "pages_messaging" if platform == "messenger" else "instagram_manage_messages"
        )
        rows = []
        for c in sorted(
            self.conversations.values(), key=lambda c: c.messages[-1].created, reverse=True
        ):
            if c.owner_id != owner or c.platform != platform:
                continue
            owner_name = (
                self.pages[owner].name if owner in self.pages else self.ig_accounts[owner].username
            )
            messages = [
                {
                    "id": m.id,
                    "message": m.text,
                    "created_time": graph_time(m.created),
                    "from": {"id": m.from_id, "name": m.from_name}
                    if platform == "messenger"
                    else {"id": m.from_id, "username": m.from_name},
                }
                for m in reversed(c.messages)
            ]
            row = {
                "id": c.id,
                "updated_time": graph_time(c.messages[-1].created),
                "participants": {
                    "data": [
                        {"id": c.user_id, "name": c.user_name},
                        {"id": owner, "name": owner_name},
                    ]
                },
                "messages": {"data": messages},
            }
            rows.append(self._fields(row, params))
        return 200, self._paged(rows, params, f"/{id}/conversations")

    def send_message(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        recipient = json.loads(params.get("recipient") or "{}").get("id", "")
        message = json.loads(params.get("message") or "{}")
        owner = id
        platform = "instagram" if id in self.ig_accounts else "messenger"
        self._need(
            token, "pages_messaging" if platform == "messenger" else "instagram_manage_messages"
        )
        conversation = next(
            (
                c
                for c in self.conversations.values()
                if c.owner_id == owner and c.user_id == recipient
            ),
            None,
        )
        if conversation is None:
            raise GraphError("(#100) No matching user found", code=100, subcode=2018001)
        last_in = max(
            (m.created for m in conversation.messages if m.from_id == recipient), default=None
        )
        age = datetime.now(UTC) - last_in if last_in else timedelta(days=365)
        tag = params.get("tag", "")
        if params.get("messaging_type") == "MESSAGE_TAG" and tag == "HUMAN_AGENT":
            if not self.human_agent_enabled:
                raise GraphError(
                    "(#200) The HUMAN_AGENT tag is not enabled for this app",
                    code=200,
                    subcode=2018336,
                )
            window = timedelta(days=7)
        else:
            window = timedelta(hours=24)
        if age > window:
            raise GraphError(
                "(#10) This message is sent outside of allowed window. Learn more about the new "
                "policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
                code=10,
                subcode=2018278,
            )
        sent = Message(
            "m_" + secrets.token_urlsafe(12),
            owner,
            "",
            recipient,
            str(message.get("text") or ""),
            datetime.now(UTC),
            tag=tag,
        )
        conversation.messages.append(sent)
        return 200, {"recipient_id": recipient, "message_id": sent.id}

    # --- insights (docs: graph-api/reference/insights; instagram-platform insights)

    def insights(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        metrics = [m for m in params.get("metric", "").split(",") if m]
        if not metrics:
            raise GraphError("No metric was specified to be fetched.", code=3001, subcode=1504028)
        is_ig = id in self.ig_accounts or (id in self.posts and bool(self.posts[id].media_type))
        allowed = (
            IG_ACCOUNT_METRICS
            if id in self.ig_accounts
            else IG_MEDIA_METRICS
            if is_ig
            else PAGE_METRICS
            if id in self.pages
            else POST_METRICS
        )
        self._need(token, "instagram_manage_insights" if is_ig else "read_insights")
        for metric in metrics:
            if metric not in allowed:
                raise GraphError(
                    f"(#100) The value must be a valid insights metric: {metric}", code=100
                )
        period = params.get("period", "lifetime")
        now = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
        stored = (
            self.posts[id].insights
            if id in self.posts
            else self._account_insights.setdefault(id, {})
        )
        data = []
        for metric in metrics:
            value = stored.get(metric, 0)
            entry: dict[str, Any] = {
                "name": metric,
                "period": period,
                "title": metric.replace("_", " ").title(),
                "description": "",
                "id": f"{id}/insights/{metric}/{period}",
            }
            if params.get("metric_type") == "total_value" and metric != "follower_count":
                entry["total_value"] = {"value": value}
            elif metric == "post_reactions_by_type_total":
                reactions = self.posts[id].reactions if id in self.posts else {}
                entry["values"] = [{"value": dict(reactions)}]
            elif period == "day":
                entry["values"] = [
                    {"value": max(value - 1, 0), "end_time": graph_time(now - timedelta(days=1))},
                    {"value": value, "end_time": graph_time(now)},
                ]
            else:
                entry["values"] = [{"value": value}]
            data.append(entry)
        return 200, {"data": data}

    @property
    def _account_insights(self) -> dict[str, dict[str, int]]:
        if not hasattr(self, "_account_insights_store"):
            self._account_insights_store: dict[str, dict[str, int]] = {}
        return self._account_insights_store

    def set_insights(self, object_id: str, **values: int) -> None:
        (
            self.posts[object_id].insights
            if object_id in self.posts
            else self._account_insights.setdefault(object_id, {})
        ).update(values)

    # --- Instagram content publishing (docs: instagram-platform/content-publishing;
    #     …/reference/ig-user/media; …/ig-container; …/ig-user/media_publish;
    #     …/ig-user/content_publishing_limit) -----------------------------------------------------

    def _ig(self, token: Token | None, id: str) -> IgAccount:
        if id not in self.ig_accounts:
            raise self._missing(id)
        return self.ig_accounts[id]

    def create_container(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        ig = self._ig(self._need(token, "instagram_content_publish"), id)
        media_type = params.get("media_type", "IMAGE")
        children = [c for c in params.get("children", "").split(",") if c]
        if media_type == "CAROUSEL":
            if not 2 <= len(children) <= 10:
                raise GraphError(
                    "The carousel must have between 2 and 10 items",
                    code=9004,
                    subcode=2207028,
                    user_msg="Carousel needs 2 to 10 items",
                )
            for child in children:
                c = self.containers.get(child)
                if c is None or not c.is_carousel_item or c.status_code != "FINISHED":
                    raise GraphError("Media ID is not available", code=9007, subcode=2207006)
        elif media_type == "REELS":
            if not params.get("video_url"):
                raise GraphError("(#100) The parameter video_url is required", code=100)
        elif media_type in ("VIDEO",):
            # Deprecated for feed videos since Reels took over (content-publishing).
            raise GraphError(
                "(#100) The parameter media_type with value VIDEO is no longer supported. "
                "Use REELS instead.",
                code=100,
            )
        elif not params.get("image_url"):
            raise GraphError("(#100) The parameter image_url is required", code=100)
        if len(params.get("caption", "")) > 2200:
            raise GraphError("The caption is too long", code=100, subcode=2207010)
        container = Container(
            self.new_id(),
            ig.id,
            media_type,
            params.get("caption", ""),
            params.get("image_url", ""),
            params.get("alt_text", ""),
            params.get("is_carousel_item") == "true",
            children,
            "IN_PROGRESS",
            datetime.now(UTC),
            polls_left=self.container_polls,
        )
        if media_type == "REELS":
            container.video_url = params["video_url"]
            container.share_to_feed = params.get("share_to_feed") == "true"
            container.polls_left = self.video_polls
            try:  # Meta downloads the video from the address given, as it does images.
                got = requests.get(container.video_url, timeout=10)
                if got.status_code != 200 or not got.headers.get("Content-Type", "").startswith(
                    "video/"
                ):
                    container.error = f"Media download has failed. ({got.status_code}) 2207052"
                elif got.content[4:8] != b"ftyp":
                    container.error = "Media upload has failed with error code 2207026"
                container.fetched_bytes = len(got.content)
            except requests.RequestException:
                container.error = "Media download has failed. 2207052"
            container.error = container.error or self.video_error
        if container.image_url:
            try:  # Meta downloads the image from the address given: so do we.
                got = requests.get(container.image_url, timeout=5)
                if got.status_code != 200 or not got.headers.get("Content-Type", "").startswith(
                    "image/"
                ):
                    container.error = f"Media download has failed. ({got.status_code}) 2207052"
                container.fetched_bytes = len(got.content)
            except requests.RequestException:
                container.error = "Media download has failed. 2207052"
        self.containers[container.id] = container
        return 200, {"id": container.id}

    def expire(self, container_id: str) -> None:
        self.containers[container_id].status_code = "EXPIRED"

    def media_publish(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        ig = self._ig(self._need(token, "instagram_content_publish"), id)
        container = self.containers.get(params.get("creation_id", ""))
        if container is None or container.ig_id != ig.id:
            raise GraphError("Media ID is not available", code=9007, subcode=2207006)
        if container.status_code == "EXPIRED":
            raise GraphError("The media container has expired", code=9004, subcode=2207008)
        if container.status_code == "PUBLISHED":
            raise GraphError("Media ID is not available", code=9007, subcode=2207006)
        if container.status_code != "FINISHED":
            raise GraphError(
                "The media is not ready for publishing, please wait for a moment",
                code=9007,
                subcode=2207027,
            )
        if self._quota_used(ig.id) >= ig.publish_quota_total:
            raise GraphError("Application request limit reached", code=9, subcode=2207042)
        media = Post(
            self.new_id(),
            ig.id,
            container.caption,
            datetime.now(UTC),
            media_type={"CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(
                container.media_type, "IMAGE"
            ),
            children=container.children or [container.id],
        )
        self.posts[media.id] = media
        container.status_code = "PUBLISHED"
        container.media_id = media.id
        return 200, {"id": media.id}

    # --- Facebook Page videos (docs: graph-api/guides/upload;
    #     graph-api/reference/application/uploads; video-api/guides/publishing;
    #     graph-api/reference/page/videos; graph-api/reference/video-status;
    #     graph-api/reference/video/captions) -----------------------------------------------

    def start_upload(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        """``POST /{app-id}/uploads``: a User token of someone with a role on the app."""
        assert token is not None
        if id != self.app_id:
            raise self._missing(id)
        if token.kind != "user":
            raise GraphError("(#100) A User access token is required", code=100)
        try:
            length = int(params.get("file_length", ""))
        except ValueError:
            raise GraphError("(#100) Param file_length must be an integer", code=100) from None
        file_type = params.get("file_type", "")
        if file_type not in UPLOAD_TYPES:
            raise GraphError("(#100) Param file_type is not a supported MIME type", code=100)
        if not params.get("file_name"):
            raise GraphError("(#100) The parameter file_name is required", code=100)
        session = UploadSession(
            secrets.token_hex(12), id, token.user_id, params["file_name"], length, file_type
        )
        self.uploads[session.id] = session
        return 200, {"id": f"upload:{session.id}"}

    def _session(self, token: Token | None, sid: str) -> UploadSession:
        session = self.uploads.get(sid)
        if session is None or token is None or token.user_id != session.user_id:
            raise GraphError("(#100) Invalid upload session", code=100)
        return session

    def upload_status(
        self, token: Token | None, params: dict[str, str], *, sid: str, **_: Any
    ) -> tuple[int, Any]:
        """``GET /upload:<id>``: where an interrupted upload stands."""
        session = self._session(token, sid)
        return 200, {"id": f"upload:{session.id}", "file_offset": len(session.received)}

    def upload_bytes(
        self,
        token: Token | None,
        params: dict[str, str],
        *,
        sid: str,
        body: bytes,
        headers: dict[str, str],
        **_: Any,
    ) -> tuple[int, Any]:
        """``POST /upload:<id>`` with ``file_offset``: the bytes from that offset on."""
        session = self._session(token, sid)
        if not headers.get("Authorization", "").startswith("OAuth "):
            raise GraphError("(#100) Authorization: OAuth <token> is required", code=100)
        try:
            offset = int(headers.get("File-Offset", ""))
        except ValueError:
            raise GraphError("(#100) The file_offset header is required", code=100) from None
        if offset != len(session.received):
            # (not documented) the error for an offset that does not match what arrived.
            raise GraphError(
                f"(#100) file_offset {offset} does not match the {len(session.received)} "
                "bytes received",
                code=100,
            )
        if self.cut_upload_after is not None:
            session.received.extend(body[: self.cut_upload_after])
            self.cut_upload_after = None
            raise GraphError(
                "An unexpected error has occurred. Please retry your request later.",
                code=2,
                status=503,
                type="OAuthException",
            )
        session.received.extend(body)
        if len(session.received) != session.file_length:
            raise GraphError(
                f"(#100) Received {len(session.received)} bytes of {session.file_length}",
                code=100,
            )
        session.handle = "2:" + secrets.token_urlsafe(24)
        return 200, {"h": session.handle}

    def create_video(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        """``POST /{page-id}/videos`` with ``fbuploader_video_file_chunk``: a video post."""
        page = self._page(self._need(token, "pages_manage_posts"), id)
        handle = params.get("fbuploader_video_file_chunk", "")
        session = next((u for u in self.uploads.values() if handle and u.handle == handle), None)
        if session is None:
            raise GraphError("(#100) Invalid file handle", code=100)
        video = Video(
            self.new_id(),
            page.id,
            params.get("description", ""),
            bytes(session.received),
            datetime.now(UTC),
            polls_left=self.video_polls,
            error=self.video_error,
        )
        if video.content[4:8] != b"ftyp":
            video.error = video.error or UNSUPPORTED_VIDEO
        self.videos[video.id] = video
        return 200, {"id": video.id}

    def _video_obj(self, video: Video) -> dict[str, Any]:
        if video.state == "processing":
            if video.polls_left <= 0:
                video.state = "error" if video.error else "ready"
                if video.state == "ready":
                    post = Post(
                        f"{video.page_id}_{self.new_id()}",
                        video.page_id,
                        video.description,
                        datetime.now(UTC),
                    )
                    self.posts[post.id] = post
                    video.post_id = post.id
            video.polls_left -= 1
        processing: dict[str, Any] = {
            "status": {"processing": "in_progress", "ready": "complete", "error": "error"}[
                video.state
            ]
        }
        if video.state == "error":
            # (not documented) the error code; the phase's ``errors`` list is in the SDK
            # (VideoStatusProcessingPhase: errors, status).
            processing["errors"] = [{"code": 1363008, "message": video.error}]
        obj: dict[str, Any] = {
            "id": video.id,
            "status": {
                "video_status": video.state,
                "uploading_phase": {"status": "complete", "bytes_transferred": len(video.content)},
                "processing_phase": processing,
                "publishing_phase": {
                    "status": "complete" if video.state == "ready" else "not_started",
                    **({"publish_status": "published"} if video.state == "ready" else {}),
                },
            },
            "permalink_url": f"/{video.page_id}/videos/{video.id}/",
            "description": video.description,
            "created_time": graph_time(video.created),
        }
        if video.post_id:
            obj["post_id"] = video.post_id
        return obj

    def create_captions(
        self,
        token: Token | None,
        params: dict[str, str],
        *,
        id: str,
        files: dict[str, tuple[str, str, bytes]],
        **_: Any,
    ) -> tuple[int, Any]:
        """``POST /{video-id}/captions`` with ``captions_file`` (``name.xx_XX.srt``)."""
        self._need(token, "pages_manage_posts")
        video = self.videos.get(id)
        if video is None:
            raise self._missing(id)
        if "captions_file" not in files:
            raise GraphError("(#100) The parameter captions_file is required", code=100)
        name, _type, content = files["captions_file"]
        found = re.fullmatch(r".+\.([a-z]{2}_[A-Z]{2})\.srt", name)
        text = content.decode("utf-8", "replace")
        srt_cue = re.search(r"^1\r?\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}", text)
        if not found or not srt_cue:
            # The reference lists error 100 "Invalid parameter" for this edge.
            raise GraphError("(#100) Invalid parameter", code=100)
        video.captions[found.group(1)] = text
        if params.get("default_locale"):
            video.default_locale = params["default_locale"]
        return 200, {"success": True}

    def _quota_used(self, ig_id: str) -> int:
        day_ago = datetime.now(UTC) - timedelta(days=1)
        return sum(1 for p in self.posts_of(ig_id) if p.created > day_ago)

    def reply_to_mention(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        """docs: instagram-platform/reference/ig-user/mentions (reply to a comment mention)."""
        ig = self._ig(self._need(token, "instagram_manage_comments"), id)
        mentioned = self.comments.get(params.get("comment_id", ""))
        if mentioned is None or f"@{ig.username}" not in mentioned.message:
            raise GraphError("(#100) The comment does not mention this account", code=100)
        comment = Comment(
            f"{mentioned.object_id}_{self.new_id()}",
            mentioned.object_id,
            mentioned.id,
            ig.id,
            ig.username,
            params.get("message", ""),
            datetime.now(UTC),
        )
        self.comments[comment.id] = comment
        return 200, {"id": comment.id}

    def publishing_limit(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        ig = self._ig(token, id)
        row = {
            "quota_usage": self._quota_used(ig.id),
            "config": {"quota_total": ig.publish_quota_total, "quota_duration": 86400},
        }
        wanted = self._wanted(params)
        return 200, {"data": [{k: v for k, v in row.items() if not wanted or k in wanted}]}

    def list_media(
        self, token: Token | None, params: dict[str, str], *, id: str, **_: Any
    ) -> tuple[int, Any]:
        ig = self._ig(token, id)
        rows = [
            self._fields(self._post_obj(p, params), params)
            for p in sorted(self.posts_of(ig.id), key=lambda p: p.created, reverse=True)
        ]
        return 200, self._paged(rows, params, f"/{id}/media")


ALL_SCOPES = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "pages_manage_engagement",
    "pages_read_user_content",
    "pages_messaging",
    "read_insights",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "instagram_manage_messages",
)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
