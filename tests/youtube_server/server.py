"""A small YouTube Data API v3 (and Google OAuth 2.0) server for the tests, on 127.0.0.1
in a background thread. Each handler cites the documentation page it follows:

- Google OAuth 2.0 for web server apps with PKCE (S256): the consent page is
  :meth:`YouTubeTestServer.approve` (approved at once), ``POST /token`` (authorization
  code and refresh token grants; client id and secret in the body), ``POST /revoke``.
- ``channels.list?mine=true``, the resumable ``videos.insert`` (an initiating POST
  answered with a ``Location`` session URI; chunks PUT with ``Content-Range``, each a
  multiple of 256 KiB but the last; 308 with ``Range: bytes=0-N``; a status query
  ``Content-Range: bytes */N``; 201 with the video resource at the end),
  ``thumbnails.set``, ``captions.insert`` (multipart/related), ``playlistItems.list``
  (the uploads playlist, newest first, ``nextPageToken``), ``videos.list`` and
  ``videos.delete``.
- Quota in units per project (client id) and day, per
  developers.google.com/youtube/v3/determine_quota_cost: over it, every call is a 403
  ``quotaExceeded`` in Google's error body.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

CHUNK_UNIT = 256 * 1024
# developers.google.com/youtube/v3/determine_quota_cost (videos.insert: its own bucket).
COSTS = {
    "youtube.channels.list": 1,
    "youtube.videos.list": 1,
    "youtube.videos.delete": 50,
    "youtube.playlistItems.list": 1,
    "youtube.thumbnails.set": 50,
    "youtube.captions.insert": 400,
    "youtube.commentThreads.list": 1,
    "youtube.comments.list": 1,
    "youtube.comments.insert": 50,
    "youtube.comments.setModerationStatus": 50,
    "youtube.comments.delete": 50,
}
SCOPES = {
    "https://www.googleapis.com/auth/youtube",
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.readonly",
}

Response = tuple[int, dict[str, str], bytes]


class ApiError(Exception):
    """developers.google.com/youtube/v3/docs/core_errors: the error body."""

    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube") -> None:
        self.status = status
        self.body = {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": domain, "reason": reason, "message": message}],
            }
        }


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Video:
    id: str
    snippet: dict[str, Any]
    status: dict[str, Any]
    content: bytes
    published_at: datetime
    thumbnail: bytes = b""
    captions: list[dict[str, Any]] = field(default_factory=list)
    views: int = 0
    likes: int = 0
    comments: int = 0


@dataclass
class Comment:
    id: str
    video_id: str
    author_channel_id: str
    author_name: str
    text: str
    published_at: datetime
    parent_id: str = ""
    moderation_status: str = "published"


@dataclass
class Upload:
    metadata: dict[str, Any]
    total: int
    received: bytearray = field(default_factory=bytearray)
    video: Video | None = None


class YouTubeTestServer:
    def __init__(self) -> None:
        self.requests: list[LoggedRequest] = []
        self.client_id = "govsocial-test.apps.googleusercontent.com"
        self.client_secret = "GOCSPX-" + secrets.token_urlsafe(12)
        self.redirect_uris: list[str] = []
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # access token -> scope
        self.refresh_tokens: set[str] = set()
        self.channel_id = "UC" + secrets.token_urlsafe(16)[:22]
        self.uploads_playlist = "UU" + self.channel_id[2:]
        self.videos: dict[str, Video] = {}
        self.comments: dict[str, Comment] = {}
        self.uploads: dict[str, Upload] = {}
        self.units_used = 0
        self.uploads_used = 0
        self.daily_units = 10_000
        self.subscribers = 4200
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._httpd: WSGIServer | None = None
        self.base_url = ""

    # --- running -------------------------------------------------------------------

    def start(self) -> YouTubeTestServer:
        self._httpd = make_server(
            "127.0.0.1", 0, self.wsgi, server_class=_Threading, handler_class=_Quiet
        )
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}"
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/o/oauth2/v2/auth"

    def requests_to(self, method: str, path: str) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- the consent page
    # developers.google.com/identity/protocols/oauth2/web-server#creatingclient

    def approve(self, authorization_url: str) -> dict[str, str]:
        """The person approves every scope asked for: the code and state to send back."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        assert query["response_type"] == "code"
        assert query["client_id"] == self.client_id
        assert query["redirect_uri"] in self.redirect_uris, query["redirect_uri"]
        assert query["code_challenge_method"] == "S256" and query["code_challenge"]
        assert query["access_type"] == "offline"
        assert query["prompt"] == "consent"
        scopes = query["scope"].split()
        assert set(scopes) <= SCOPES, scopes
        code = "4/" + secrets.token_urlsafe(24)
        self.codes[code] = {
            "challenge": query["code_challenge"],
            "redirect_uri": query["redirect_uri"],
            "scope": " ".join(scopes),
        }
        return {"code": code, "state": query["state"]}

    # --- WSGI ----------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        request = LoggedRequest(method, path, query, headers, body)
        with self._lock:
            self.requests.append(request)
            try:
                status, extra, content = self._route(request)
            except ApiError as error:
                status, extra, content = error.status, {}, json.dumps(error.body).encode()
        reasons = {
            200: "OK",
            201: "Created",
            204: "No Content",
            302: "Found",
            308: "Resume Incomplete",
        }
        start_response(
            f"{status} {reasons.get(status, 'Error')}",
            [("Content-Type", "application/json; charset=UTF-8"), *extra.items()],
        )
        return [content]

    def _route(self, r: LoggedRequest) -> Response:
        if r.method == "POST" and r.path == "/token":
            return self._token(r)
        if r.method == "POST" and r.path == "/revoke":
            # developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
            form = {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
            self.refresh_tokens.discard(form.get("token", ""))
            return 200, {}, b"{}"
        if r.method == "GET" and r.path == "/o/oauth2/v2/auth":
            # The consent page, approved at once: back to the redirect URI with a code.
            answer = self.approve(f"{self.authorize_url}?{urlencode(r.query, doseq=True)}")
            redirect_uri = r.query["redirect_uri"][0]
            return 302, {"Location": f"{redirect_uri}?{urlencode(answer)}"}, b""
        self._authorize(r)
        if r.method == "GET" and r.path == "/youtube/v3/channels":
            return self._channels(r)
        if r.path == "/upload/youtube/v3/videos" and r.method == "POST":
            return self._upload_start(r)
        if r.path == "/upload/youtube/v3/videos" and r.method == "PUT":
            return self._upload_chunk(r)
        if r.method == "POST" and r.path == "/upload/youtube/v3/thumbnails/set":
            return self._thumbnail(r)
        if r.method == "POST" and r.path == "/upload/youtube/v3/captions":
            return self._caption(r)
        if r.method == "GET" and r.path == "/youtube/v3/playlistItems":
            return self._playlist_items(r)
        if r.method == "GET" and r.path == "/youtube/v3/videos":
            return self._videos_list(r)
        if r.method == "DELETE" and r.path == "/youtube/v3/videos":
            self._spend("youtube.videos.delete")
            if self.videos.pop(r.query["id"][0], None) is None:
                raise ApiError(404, "videoNotFound", "The video could not be found.")
            return 204, {}, b""
        if r.path.startswith("/youtube/v3/comment"):
            return self._comments(r)
        raise ApiError(404, "notFound", "Not Found", domain="global")

    def _authorize(self, r: LoggedRequest) -> None:
        auth = r.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise ApiError(401, "authError", "Invalid Credentials", domain="global")

    def _spend(self, method_id: str) -> None:
        """developers.google.com/youtube/v3/determine_quota_cost; every request costs,
        a refused one too; over the day's units, a 403 quotaExceeded."""
        if self.units_used >= self.daily_units:
            raise ApiError(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
            )
        self.units_used += COSTS[method_id]

    # --- token
    # developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code

    def _token(self, r: LoggedRequest) -> Response:
        form = {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return 401, {}, json.dumps({"error": "invalid_client"}).encode()
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if (
                grant is None
                or grant["challenge"] != challenge
                or (grant["redirect_uri"] != form.get("redirect_uri"))
            ):
                return 400, {}, json.dumps({"error": "invalid_grant"}).encode()
            refresh = "1//" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(refresh)
            return self._issue(grant["scope"], refresh)
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                body = {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
                return 400, {}, json.dumps(body).encode()
            return self._issue(
                " ".join(sorted(SCOPES - {"https://www.googleapis.com/auth/youtube"})), ""
            )
        return 400, {}, json.dumps({"error": "unsupported_grant_type"}).encode()

    def _issue(self, scope: str, refresh: str) -> Response:
        access = "ya29." + secrets.token_urlsafe(24)
        self.tokens[access] = scope
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": 3599,
            "scope": scope,
            "token_type": "Bearer",
        }
        if refresh:
            body["refresh_token"] = refresh
        return 200, {}, json.dumps(body).encode()

    # --- channels (developers.google.com/youtube/v3/docs/channels/list) -------------------

    def _channels(self, r: LoggedRequest) -> Response:
        self._spend("youtube.channels.list")
        assert r.query.get("mine") == ["true"]
        resource = {
            "kind": "youtube#channel",
            "id": self.channel_id,
            "snippet": {"title": "Example City", "customUrl": "@examplecity"},
            "statistics": {
                "subscriberCount": str(self.subscribers),
                "hiddenSubscriberCount": False,
                "videoCount": str(len(self.videos)),
                "viewCount": "0",
            },
            "contentDetails": {"relatedPlaylists": {"uploads": self.uploads_playlist}},
        }
        return (
            200,
            {},
            json.dumps({"kind": "youtube#channelListResponse", "items": [resource]}).encode(),
        )

    # --- videos.insert, resumable
    # developers.google.com/youtube/v3/guides/using_resumable_upload_protocol

    def _upload_start(self, r: LoggedRequest) -> Response:
        assert r.query.get("uploadType") == ["resumable"]
        if self.uploads_used >= 100 or self.units_used >= self.daily_units:
            raise ApiError(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            )
        self.uploads_used += 1
        metadata = json.loads(r.body or b"{}")
        title = str((metadata.get("snippet") or {}).get("title") or "")
        if not title or len(title) > 100 or "<" in title or ">" in title:
            raise ApiError(
                400,
                "invalidTitle",
                "The request metadata specifies an invalid or empty video title.",
            )
        total = int(r.headers["X-Upload-Content-Length"])
        upload_id = secrets.token_urlsafe(16)
        self.uploads[upload_id] = Upload(metadata=metadata, total=total)
        query = urlencode({"uploadType": "resumable", "upload_id": upload_id})
        location = f"{self.base_url}/upload/youtube/v3/videos?{query}"
        return 200, {"Location": location}, b""

    def _upload_chunk(self, r: LoggedRequest) -> Response:
        upload = self.uploads.get(r.query.get("upload_id", [""])[0])
        if upload is None:
            raise ApiError(404, "notFound", "Upload session not found.", domain="global")
        span, _, total = r.headers["Content-Range"].removeprefix("bytes ").partition("/")
        assert int(total) == upload.total
        if span == "*":  # a status query: where does the upload stand?
            return self._upload_answer(upload)
        first, _, last = span.partition("-")
        if int(first) != len(upload.received):
            return self._upload_answer(upload)
        chunk = r.body
        assert len(chunk) == int(last) - int(first) + 1
        ends = int(last) + 1 == upload.total
        assert ends or len(chunk) % CHUNK_UNIT == 0, "a chunk must be a multiple of 256 KiB"
        upload.received.extend(chunk)
        return self._upload_answer(upload)

    def _upload_answer(self, upload: Upload) -> Response:
        if len(upload.received) < upload.total:
            headers = {"Content-Length": "0"}
            if upload.received:
                headers["Range"] = f"bytes=0-{len(upload.received) - 1}"
            return 308, headers, b""
        if upload.video is None:
            video_id = f"vid{next(self._ids):08d}"
            snippet = dict(upload.metadata.get("snippet") or {})
            snippet["channelId"] = self.channel_id
            snippet["publishedAt"] = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            upload.video = Video(
                id=video_id,
                snippet=snippet,
                status=dict(upload.metadata.get("status") or {}),
                content=bytes(upload.received),
                published_at=datetime.now(tz=UTC),
            )
            self.videos[video_id] = upload.video
        return 201, {}, json.dumps(self._resource(upload.video)).encode()

    def _resource(self, video: Video) -> dict[str, Any]:
        return {
            "kind": "youtube#video",
            "id": video.id,
            "snippet": video.snippet,
            "status": video.status,
        }

    # --- thumbnails.set (developers.google.com/youtube/v3/docs/thumbnails/set) ----------

    def _thumbnail(self, r: LoggedRequest) -> Response:
        self._spend("youtube.thumbnails.set")
        video = self.videos.get(r.query.get("videoId", [""])[0])
        if video is None:
            raise ApiError(
                404, "videoNotFound", "The video that you are trying to update cannot be found."
            )
        assert r.headers["Content-Type"] in ("image/jpeg", "image/png")
        video.thumbnail = r.body
        return 200, {}, json.dumps({"kind": "youtube#thumbnailSetResponse", "items": [{}]}).encode()

    # --- captions.insert (developers.google.com/youtube/v3/docs/captions/insert) --------

    def _caption(self, r: LoggedRequest) -> Response:
        self._spend("youtube.captions.insert")
        assert r.query.get("uploadType") == ["multipart"] and r.query.get("part") == ["snippet"]
        message = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {r.headers['Content-Type']}\r\n\r\n".encode() + r.body
        )
        parts = list(message.iter_parts())
        metadata = json.loads(parts[0].get_content())
        vtt = parts[1].get_content()
        snippet = metadata["snippet"]
        video = self.videos.get(snippet.get("videoId", ""))
        if video is None:
            raise ApiError(
                404, "videoNotFound", "The video identified by the videoId could not be found."
            )
        if not vtt.startswith("WEBVTT"):
            raise ApiError(400, "invalidCaptionFile", "The caption track is not valid.")
        video.captions.append(
            {"language": snippet["language"], "name": snippet["name"], "vtt": vtt}
        )
        caption_id = f"cap{next(self._ids)}"
        body = {"kind": "youtube#caption", "id": caption_id, "snippet": snippet}
        return 200, {}, json.dumps(body).encode()

    # --- playlistItems.list (developers.google.com/youtube/v3/docs/playlistItems/list) ----

    def _playlist_items(self, r: LoggedRequest) -> Response:
        self._spend("youtube.playlistItems.list")
        if r.query.get("playlistId") != [self.uploads_playlist]:
            raise ApiError(404, "playlistNotFound", "The playlist could not be found.")
        size = int(r.query.get("maxResults", ["5"])[0])
        start = int(r.query.get("pageToken", ["0"])[0] or 0)
        ordered = sorted(self.videos.values(), key=lambda v: v.published_at, reverse=True)
        page = ordered[start : start + size]
        items = [
            {
                "kind": "youtube#playlistItem",
                "id": f"pl-{video.id}",
                "snippet": {
                    "publishedAt": video.snippet["publishedAt"],
                    "title": video.snippet.get("title", ""),
                    "description": video.snippet.get("description", ""),
                    "playlistId": self.uploads_playlist,
                    "resourceId": {"kind": "youtube#video", "videoId": video.id},
                },
                "contentDetails": {"videoId": video.id},
            }
            for video in page
        ]
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items}
        if start + size < len(ordered):
            body["nextPageToken"] = str(start + size)
        return 200, {}, json.dumps(body).encode()

    # --- videos.list (developers.google.com/youtube/v3/docs/videos/list) ------------------

    def _videos_list(self, r: LoggedRequest) -> Response:
        self._spend("youtube.videos.list")
        ids = r.query.get("id", [""])[0].split(",")
        items = [
            {
                "kind": "youtube#video",
                "id": v.id,
                "statistics": {
                    "viewCount": str(v.views),
                    "likeCount": str(v.likes),
                    "commentCount": str(v.comments),
                },
            }
            for v in (self.videos.get(i) for i in ids)
            if v is not None
        ]
        return 200, {}, json.dumps({"kind": "youtube#videoListResponse", "items": items}).encode()

    # --- comments ---------------------------------------------------------------------

    def add_comment(self, video_id: str, author: str, text: str, when: datetime) -> Comment:
        comment = Comment(
            id=f"Ugz{next(self._ids):06d}", video_id=video_id,
            author_channel_id="UC" + author.lower().ljust(22, "x")[:22],
            author_name=f"@{author}", text=text, published_at=when,
        )  # fmt: skip
        self.comments[comment.id] = comment
        return comment

    def _comment_resource(self, c: Comment) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": self.channel_id,
            "videoId": c.video_id,
            "textDisplay": c.text,
            "textOriginal": c.text,
            "authorDisplayName": c.author_name,
            "authorChannelId": {"value": c.author_channel_id},
            "publishedAt": c.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "moderationStatus": c.moderation_status,
        }
        if c.parent_id:
            snippet["parentId"] = c.parent_id
        return {"kind": "youtube#comment", "id": c.id, "snippet": snippet}

    def _comments(self, r: LoggedRequest) -> Response:
        q = {k: v[0] for k, v in r.query.items()}
        if r.method == "GET" and r.path == "/youtube/v3/commentThreads":
            # developers.google.com/youtube/v3/docs/commentThreads/list (order=time: newest
            # first; held comments are not listed by default)
            self._spend("youtube.commentThreads.list")
            assert q["allThreadsRelatedToChannelId"] == self.channel_id
            tops = sorted(
                (c for c in self.comments.values()
                 if not c.parent_id and c.moderation_status == "published"),
                key=lambda c: c.published_at, reverse=True,
            )  # fmt: skip
            size = int(q.get("maxResults", "20"))
            start = int(q.get("pageToken") or 0)
            items = [
                {
                    "kind": "youtube#commentThread",
                    "id": c.id,
                    "snippet": {
                        "channelId": self.channel_id,
                        "videoId": c.video_id,
                        "topLevelComment": self._comment_resource(c),
                        "canReply": True,
                        "totalReplyCount": 0,
                        "isPublic": True,
                    },
                }
                for c in tops[start : start + size]
            ]
            body: dict[str, Any] = {"kind": "youtube#commentThreadListResponse", "items": items}
            if start + size < len(tops):
                body["nextPageToken"] = str(start + size)
            return 200, {}, json.dumps(body).encode()
        if r.method == "GET" and r.path == "/youtube/v3/comments":
            # developers.google.com/youtube/v3/docs/comments/list
            self._spend("youtube.comments.list")
            found = [c for c in self.comments.values() if c.parent_id == q["parentId"]]
            body = {
                "kind": "youtube#commentListResponse",
                "items": [self._comment_resource(c) for c in found],
            }
            return 200, {}, json.dumps(body).encode()
        if r.method == "POST" and r.path == "/youtube/v3/comments":
            # developers.google.com/youtube/v3/docs/comments/insert
            self._spend("youtube.comments.insert")
            snippet = json.loads(r.body)["snippet"]
            parent = self.comments.get(snippet["parentId"])
            if parent is None:
                raise ApiError(
                    404, "parentCommentNotFound", "The parent comment could not be found."
                )
            comment = Comment(
                id=f"{parent.id}.{next(self._ids)}", video_id=parent.video_id,
                author_channel_id=self.channel_id, author_name="@examplecity",
                text=snippet["textOriginal"], published_at=datetime.now(tz=UTC),
                parent_id=parent.id,
            )  # fmt: skip
            self.comments[comment.id] = comment
            return 200, {}, json.dumps(self._comment_resource(comment)).encode()
        if r.method == "POST" and r.path == "/youtube/v3/comments/setModerationStatus":
            # developers.google.com/youtube/v3/docs/comments/setModerationStatus (204)
            self._spend("youtube.comments.setModerationStatus")
            assert q["moderationStatus"] in ("heldForReview", "published", "rejected")
            for comment_id in q["id"].split(","):
                if comment_id not in self.comments:
                    raise ApiError(404, "commentNotFound", "The comment could not be found.")
                self.comments[comment_id].moderation_status = q["moderationStatus"]
            return 204, {}, b""
        if r.method == "DELETE" and r.path == "/youtube/v3/comments":
            # developers.google.com/youtube/v3/docs/comments/delete (204)
            self._spend("youtube.comments.delete")
            if self.comments.pop(q["id"], None) is None:
                raise ApiError(404, "commentNotFound", "The comment could not be found.")
            return 204, {}, b""
        raise ApiError(404, "notFound", "Not Found", domain="global")


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
