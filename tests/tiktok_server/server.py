"""A small TikTok API server for the tests, served on 127.0.0.1 in a background thread.

It follows TikTok for Developers' documentation (developers.tiktok.com, each handler
names its page) for what GovSocial uses: Login Kit for Web's authorization page and
the v2 token endpoint (code and refresh grants), ``user/info``, the Content Posting
API's creator info, Direct Post ``video/init`` with FILE_UPLOAD, the chunked ``PUT``
to the upload address (the media transfer guide's chunk rules, ``Content-Range``),
``status/fetch`` with its processing states, and ``video/list``/``video/query``.
Every API answer carries ``{"data": ..., "error": {"code", "message", "log_id"}}``
(doc/tiktok-api-v2-error-handling) with the documented HTTP status.

Switches: ``fail_next`` (an error object), ``hang`` (no answer until stopped: a lost
answer), ``unaudited`` (the app may post privately only), ``processing_polls`` (how
many status reads stay in processing). State is in memory, per server.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# doc/content-posting-api-media-transfer-guide
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64 * 1024 * 1024
MAX_LAST_CHUNK = 128 * 1024 * 1024
# doc/oauth-user-access-token-management: 24 hours and 365 days.
ACCESS_SECONDS = 86400
REFRESH_SECONDS = 365 * 86400
PRIVACY_LEVELS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
RANGE_RE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")

Response = tuple[int, dict[str, str], bytes]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Creator:
    open_id: str
    display_name: str
    username: str
    privacy_levels: list[str] = field(default_factory=lambda: list(PRIVACY_LEVELS))
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600


@dataclass
class Publish:
    publish_id: str
    open_id: str
    post_info: dict[str, Any]
    video_size: int
    chunk_size: int
    total_chunk_count: int
    upload_token: str
    received: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str = ""
    polls: int = 0
    post_id: str = ""
    created: int = 0


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def get_stderr(self) -> Any:
        return io.StringIO()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class TikTokTestServer:
    def __init__(self) -> None:
        self.client_key = "tt-client-key"
        self.client_secret = "tt-client-secret"
        self.requests: list[LoggedRequest] = []
        self.client_waits: list[float] = []
        self.creator = Creator("open-id-1", "Helsingin kaupunki", "helsinki")
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (open_id, redirect, scope)
        self.tokens: dict[str, tuple[str, float, str]] = {}  # token -> (open_id, ends, scope)
        self.refresh_tokens: dict[str, str] = {}  # refresh -> open_id
        self.publishes: dict[str, Publish] = {}
        self.unaudited = False
        self.processing_polls = 2
        self.videos: dict[str, dict[str, Any]] = {}
        self._failures: list[tuple[str, int, str]] = []
        self._hangs: list[str] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._ids = itertools.count(7_300_000_000_000_000_001)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- running ---------------------------------------------------------------------

    def start(self) -> TikTokTestServer:
        self._httpd = make_server(
            "127.0.0.1", 0, self.wsgi, server_class=_Server, handler_class=_Handler
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

    # --- switches and helpers ------------------------------------------------------------

    def fail_next(self, path_prefix: str, status: int, code: str) -> None:
        """The next call under ``path_prefix`` answers TikTok's error object."""
        with self._lock:
            self._failures.append((path_prefix, status, code))

    def hang(self, path_prefix: str) -> None:
        """Calls under ``path_prefix`` are processed, then never answered (a lost answer)."""
        with self._lock:
            self._hangs.append(path_prefix)

    def release(self) -> None:
        with self._lock:
            self._hangs.clear()
        self._released.set()

    def issue_token(self, *, expired: bool = False, scope: str = "") -> tuple[str, str]:
        scope = scope or "user.info.basic,user.info.stats,video.publish,video.upload,video.list"
        access = "act." + secrets.token_urlsafe(16)
        refresh = "rft." + secrets.token_urlsafe(16)
        ends = time.time() + (-10 if expired else ACCESS_SECONDS)
        self.tokens[access] = (self.creator.open_id, ends, scope)
        self.refresh_tokens[refresh] = self.creator.open_id
        return access, refresh

    def authorize(self, authorization_url: str) -> dict[str, str]:
        """Play the person's browser on the authorization page: allow, return the query
        of the redirect back (``code`` and ``state``)."""
        import requests

        response = requests.get(authorization_url, allow_redirects=False, timeout=5)
        location = response.headers.get("Location", "")
        if response.status_code != 302:
            raise AssertionError(f"authorize answered {response.status_code}: {response.text}")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def requests_to(self, method: str, path_prefix: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def published(self) -> list[Publish]:
        return [p for p in self.publishes.values() if p.status == "PUBLISH_COMPLETE"]

    # --- WSGI ----------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "")
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
            self.requests.append(
                LoggedRequest(method, path, query, headers, body if len(body) < 4096 else b"")
            )
            failure = next((f for f in self._failures if path.startswith(f[0])), None)
            if failure is not None:
                self._failures.remove(failure)
            hang = any(path.startswith(p) for p in self._hangs)
        if failure is not None:
            status, extra, payload = self._error(ApiError(failure[1], failure[2], failure[2]))
        else:
            try:
                with self._lock:
                    status, extra, payload = self._dispatch(method, path, query, headers, body)
            except ApiError as exc:
                status, extra, payload = self._error(exc)
        if hang:
            self._released.wait(timeout=30)
        reasons = {200: "OK", 201: "Created", 206: "Partial Content", 302: "Found"}
        start_response(f"{status} {reasons.get(status, 'Error')}", list(extra.items()))
        return [payload]

    @staticmethod
    def _json(status: int, body: Any) -> Response:
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def _ok(self, data: Any) -> Response:
        return self._json(
            200, {"data": data, "error": {"code": "ok", "message": "", "log_id": "log1"}}
        )

    def _error(self, exc: ApiError) -> Response:
        return self._json(
            exc.status,
            {"error": {"code": exc.code, "message": exc.message, "log_id": "202612070000"}},
        )

    def _user(self, headers: dict[str, str], scope: str) -> str:
        """The bearer token's user (doc/tiktok-api-v2-error-handling: 401
        access_token_invalid, 401 scope_not_authorized)."""
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        entry = self.tokens.get(token)
        if entry is None or entry[1] < time.time():
            raise ApiError(401, "access_token_invalid", "The access token is invalid or expired.")
        if scope not in entry[2].split(","):
            raise ApiError(401, "scope_not_authorized", f"The user did not authorize {scope}.")
        return entry[0]

    def _dispatch(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        if method == "GET" and path == "/v2/auth/authorize/":
            return self._authorize(parse_qs(query))
        if method == "POST" and path == "/v2/oauth/token/":
            return self._token(parse_qs(body.decode()))
        if method == "POST" and path == "/v2/oauth/revoke/":
            return self._json(200, {})
        if method == "GET" and path == "/v2/user/info/":
            return self._user_info(headers, query)
        if method == "POST" and path == "/v2/post/publish/creator_info/query/":
            return self._creator_info(headers)
        if method == "POST" and path == "/v2/post/publish/video/init/":
            return self._video_init(headers, body)
        if method == "PUT" and path.startswith("/upload/"):
            return self._upload(path, headers, body)
        if method == "POST" and path == "/v2/post/publish/status/fetch/":
            return self._status(headers, body)
        if method == "POST" and path == "/v2/video/list/":
            return self._video_list(headers, body, query)
        if method == "POST" and path == "/v2/video/query/":
            return self._video_query(headers, body)
        raise ApiError(404, "invalid_params", f"No such endpoint {method} {path}")

    # doc/login-kit-web: client_key, scope (comma-separated), response_type=code,
    # redirect_uri, state; the person is sent back with code, scopes and state.
    def _authorize(self, q: dict[str, list[str]]) -> Response:
        one = {k: v[0] for k, v in q.items()}
        if one.get("client_key") != self.client_key or one.get("response_type") != "code":
            return self._json(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(12)
        self.codes[code] = (self.creator.open_id, one.get("redirect_uri", ""), one.get("scope", ""))
        back = {"code": code, "scopes": one.get("scope", ""), "state": one.get("state", "")}
        return 302, {"Location": one.get("redirect_uri", "") + "?" + urlencode(back)}, b""

    # doc/oauth-user-access-token-management
    def _token(self, form: dict[str, list[str]]) -> Response:
        one = {k: v[0] for k, v in form.items()}
        if (
            one.get("client_key") != self.client_key
            or one.get("client_secret") != self.client_secret
        ):
            return self._json(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is incorrect.",
                    "log_id": "l",
                },
            )
        grant = one.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(one.get("code", ""), None)
            if entry is None or entry[1] != one.get("redirect_uri"):
                return self._json(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Authorization code is expired.",
                        "log_id": "l",
                    },
                )
            scope = entry[2]
        elif grant == "refresh_token":
            if self.refresh_tokens.pop(one.get("refresh_token", ""), None) is None:
                return self._json(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Refresh token is invalid or expired.",
                        "log_id": "l",
                    },
                )
            scope = "user.info.basic,user.info.stats,video.publish,video.upload,video.list"
        else:
            return self._json(
                400, {"error": "unsupported_grant_type", "error_description": "", "log_id": "l"}
            )
        access, refresh = self.issue_token(scope=scope)
        return self._json(
            200,
            {
                "access_token": access,
                "expires_in": ACCESS_SECONDS,
                "open_id": self.creator.open_id,
                "refresh_expires_in": REFRESH_SECONDS,
                "refresh_token": refresh,
                "scope": scope,
                "token_type": "Bearer",
            },
        )

    # doc/tiktok-api-v2-get-user-info
    def _user_info(self, headers: dict[str, str], query: str) -> Response:
        self._user(headers, "user.info.basic")
        c = self.creator
        user: dict[str, Any] = {
            "open_id": c.open_id,
            "union_id": "u1",
            "display_name": c.display_name,
            "avatar_url": "",
        }
        if "follower_count" in query:  # doc/tiktok-api-v2-get-user-info: user.info.stats
            self._user(headers, "user.info.stats")
            user.update(follower_count=1520, following_count=12, video_count=len(self.videos))
        return self._ok({"user": user})

    # doc/content-posting-api-reference-query-creator-info
    def _creator_info(self, headers: dict[str, str]) -> Response:
        self._user(headers, "video.publish")
        c = self.creator
        return self._ok(
            {
                "creator_avatar_url": "",
                "creator_username": c.username,
                "creator_nickname": c.display_name,
                "privacy_level_options": list(c.privacy_levels),
                "comment_disabled": c.comment_disabled,
                "duet_disabled": c.duet_disabled,
                "stitch_disabled": c.stitch_disabled,
                "max_video_post_duration_sec": c.max_video_post_duration_sec,
            }
        )

    # doc/content-posting-api-reference-direct-post and the media transfer guide's rules
    def _video_init(self, headers: dict[str, str], body: bytes) -> Response:
        open_id = self._user(headers, "video.publish")
        try:
            payload = json.loads(body)
        except ValueError:
            raise ApiError(400, "invalid_params", "Body is not JSON.") from None
        post_info = payload.get("post_info") or {}
        source = payload.get("source_info") or {}
        level = post_info.get("privacy_level")
        if level not in self.creator.privacy_levels:
            raise ApiError(
                400,
                "privacy_level_option_mismatch",
                "privacy_level is not an option of the creator.",
            )
        if self.unaudited and level != "SELF_ONLY":
            raise ApiError(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to private accounts.",
            )
        if source.get("source") != "FILE_UPLOAD":
            raise ApiError(400, "invalid_params", "Only FILE_UPLOAD here.")
        size, chunk, count = (
            int(source.get(k) or 0) for k in ("video_size", "chunk_size", "total_chunk_count")
        )
        if size <= 0 or chunk <= 0:
            raise ApiError(400, "invalid_params", "video_size and chunk_size are required.")
        if size < MIN_CHUNK and chunk != size:
            raise ApiError(400, "invalid_params", "Videos under 5 MB are sent whole.")
        if size >= MIN_CHUNK and not (MIN_CHUNK <= chunk <= MAX_CHUNK) and chunk != size:
            raise ApiError(400, "invalid_params", "chunk_size must be 5 MB to 64 MB.")
        if size > MAX_CHUNK and count < 2:
            raise ApiError(400, "invalid_params", "Videos over 64 MB are sent in chunks.")
        if count != max(1, size // chunk) or not 1 <= count <= 1000:
            raise ApiError(
                400,
                "invalid_params",
                "total_chunk_count must be video_size / chunk_size, rounded down.",
            )
        publish_id = f"v_pub_file~v2-1.{next(self._ids)}"
        upload = secrets.token_urlsafe(10)
        self.publishes[publish_id] = Publish(
            publish_id, open_id, post_info, size, chunk, count, upload, created=int(time.time())
        )
        return self._ok(
            {"publish_id": publish_id, "upload_url": f"{self.base_url}/upload/{upload}/"}
        )

    def _upload(self, path: str, headers: dict[str, str], body: bytes) -> Response:
        token = path.split("/")[2]
        pub = next((p for p in self.publishes.values() if p.upload_token == token), None)
        if pub is None:
            raise ApiError(404, "invalid_params", "Unknown upload address.")
        match = RANGE_RE.fullmatch(headers.get("content-range", ""))
        if not match or headers.get("content-type") not in (
            "video/mp4",
            "video/quicktime",
            "video/webm",
        ):
            raise ApiError(
                400, "invalid_params", "Content-Range and a video Content-Type are required."
            )
        first, last, total = (int(g) for g in match.groups())
        is_last = pub.chunks == pub.total_chunk_count - 1
        expected_first = pub.chunks * pub.chunk_size
        expected_last = pub.video_size - 1 if is_last else expected_first + pub.chunk_size - 1
        if total != pub.video_size or first != expected_first or last != expected_last:
            raise ApiError(
                416, "invalid_params", "Chunks are sent in order with the planned ranges."
            )
        if len(body) != last - first + 1 or (is_last and len(body) > MAX_LAST_CHUNK):
            raise ApiError(400, "invalid_params", "The body does not match Content-Range.")
        pub.received.extend(body)
        pub.chunks += 1
        if pub.chunks < pub.total_chunk_count:
            return 206, {"Content-Range": f"bytes 0-{last}/{total}"}, b""
        pub.status = "PROCESSING_DOWNLOAD"
        return 201, {}, b""

    # doc/content-posting-api-reference-get-video-status
    def _status(self, headers: dict[str, str], body: bytes) -> Response:
        self._user(headers, "video.publish")
        publish_id = (json.loads(body or b"{}") or {}).get("publish_id", "")
        pub = self.publishes.get(publish_id)
        if pub is None:
            raise ApiError(400, "invalid_publish_id", "The publish_id does not exist.")
        if pub.status == "PROCESSING_DOWNLOAD":
            pub.polls += 1
            if pub.polls > self.processing_polls:
                self._complete(pub)
        data: dict[str, Any] = {"status": pub.status, "uploaded_bytes": len(pub.received)}
        if pub.status == "FAILED":
            data["fail_reason"] = pub.fail_reason
        if pub.status == "PUBLISH_COMPLETE" and pub.post_id:
            data["publicaly_available_post_id"] = [int(pub.post_id)]
        return self._ok(data)

    def _complete(self, pub: Publish) -> None:
        if not pub.received.startswith(b"\x00\x00\x00") or b"ftyp" not in bytes(pub.received[:16]):
            pub.status, pub.fail_reason = "FAILED", "file_format_check_failed"
            return
        pub.status = "PUBLISH_COMPLETE"
        pub.received = bytearray()  # not kept: the size was checked
        if pub.post_info.get("privacy_level") != "SELF_ONLY":
            pub.post_id = str(next(self._ids))
            self.videos[pub.post_id] = {
                "id": pub.post_id,
                "create_time": pub.created,
                "title": pub.post_info.get("title", ""),
                "share_url": f"https://www.tiktok.com/@{self.creator.username}/video/{pub.post_id}",
                "like_count": 3,
                "comment_count": 1,
                "share_count": 2,
                "view_count": 120,
            }

    # doc/tiktok-api-v2-video-list: newest first, max_count up to 20, cursor in ms.
    def _video_list(self, headers: dict[str, str], body: bytes, query: str) -> Response:
        self._user(headers, "video.list")
        payload = json.loads(body or b"{}") or {}
        count = min(int(payload.get("max_count") or 10), 20)
        videos = sorted(self.videos.values(), key=lambda v: v["create_time"], reverse=True)
        cursor = payload.get("cursor")
        if cursor is not None:
            videos = [v for v in videos if v["create_time"] * 1000 < int(cursor)]
        page = videos[:count]
        fields = (parse_qs(query).get("fields") or ["id,create_time,title,share_url"])[0].split(",")
        return self._ok(
            {
                "videos": [{k: v[k] for k in fields if k in v} for v in page],
                "cursor": page[-1]["create_time"] * 1000 if page else 0,
                "has_more": len(videos) > count,
            }
        )

    # doc/tiktok-api-v2-video-query: filters.video_ids, at most 20.
    def _video_query(self, headers: dict[str, str], body: bytes) -> Response:
        self._user(headers, "video.list")
        ids = ((json.loads(body or b"{}") or {}).get("filters") or {}).get("video_ids") or []
        if len(ids) > 20:
            raise ApiError(400, "invalid_params", "At most 20 video_ids.")
        return self._ok(
            {
                "videos": [self.videos[i] for i in ids if i in self.videos],
                "cursor": 0,
                "has_more": False,
            }
        )
