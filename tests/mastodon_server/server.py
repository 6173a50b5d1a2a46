"""A small Mastodon server for the tests, served on 127.0.0.1 in a background thread.

It follows the documented API (mastodon/documentation ``methods/{apps,oauth,
statuses,media,notifications,accounts,instance}.md``), including its errors,
for the parts GovSocial uses: app registration, OAuth with PKCE (S256) and
revocation, verify_credentials, statuses with ``Idempotency-Key``, media that
processes asynchronously (202, then 206 until ready), notifications with
``Link`` pagination, and ``X-RateLimit-*`` headers with 429 when a configured
limit is exceeded. Switches make it fail (``fail_next``) or hang (``hang``)
for fault tests. State is in memory, per server.
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
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

KNOWN_SCOPES = {
    "read", "write", "follow", "push", "profile",
    "read:accounts", "read:statuses", "read:notifications", "read:follows",
    "write:statuses", "write:media", "write:accounts", "write:follows",
}  # fmt: skip
IDEMPOTENCY_SECONDS = 3600
URL_RE = re.compile(r"https?://\S+")

Response = tuple[int, dict[str, str], bytes]


class HttpError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body


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


@dataclass
class Notification:
    id: str
    type: str
    account_id: str  # who is notified
    from_account_id: str
    status_id: str | None
    created_at: datetime


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
    def __init__(self, *, domain: str = "social.example") -> None:
        self.domain = domain
        self.max_characters = 500
        self.max_media_attachments = 4
        # How many times GET /api/v1/media/:id answers 206 before the image is ready;
        # above 0, POST /api/v2/media answers 202 with a null url.
        self.media_processing_polls = 0
        # Requests per token allowed in the current window (None: unlimited).
        self.rate_limit: int | None = None
        self.rate_limit_window = timedelta(minutes=5)
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
        self._usage: dict[str, tuple[int, datetime]] = {}
        self._failures: list[Failure] = []
        self._hangs: list[Hang] = []
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._ids = itertools.count(110_000_000_000_000_001)
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

    def create_account(self, username: str, display_name: str = "", **counts: int) -> Account:
        account = Account(self.new_id(), username, display_name or username, **counts)
        self.accounts[account.id] = account
        return account

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
    ) -> Status:
        """Someone else posts; the mentioned (or replied-to) account gets a notification."""
        with self._lock:
            parent = self.statuses.get(in_reply_to) if in_reply_to else None
            status = self._create_status(
                author,
                text=text,
                visibility=visibility,
                in_reply_to=parent,
                spoiler_text="",
                language="en",
                media_ids=[],
            )
            notified = {a.id for a in ([mention] if mention else [])}
            if parent is not None and parent.account_id != author.id:
                notified.add(parent.account_id)
            for account_id in sorted(notified):
                self._notify(account_id, "mention", author.id, status.id)
            return status

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
            ("GET", r"/api/v1/accounts/verify_credentials", self.verify_credentials),
            ("GET", r"/api/v1/accounts/(?P<id>\w+)/statuses", self.account_statuses),
            ("POST", r"/api/v1/statuses", self.create_status),
            ("GET", r"/api/v1/statuses/(?P<id>\w+)", self.get_status),
            ("DELETE", r"/api/v1/statuses/(?P<id>\w+)", self.delete_status),
            ("POST", r"/api/v2/media", self.upload_media),
            ("GET", r"/api/v1/media/(?P<id>\w+)", self.get_media),
            ("GET", r"/api/v1/notifications", self.list_notifications),
        ]
        request = _Request(method, path, query, headers, body)
        try:
            for route_method, pattern, handler in routes:
                match = re.fullmatch(pattern, path)
                if match and route_method == method:
                    with self._lock:
                        result: Response = handler(request, **match.groupdict())
                    return result
            raise HttpError(404, {"error": "Record not found"})
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
        rate_headers = self._count_request(token)
        for scope in scopes:
            if scope not in token.scopes and scope.split(":")[0] not in token.scopes:
                raise HttpError(403, {"error": "This action is outside the authorized scopes"})
        return token, rate_headers

    def _count_request(self, token: Token) -> dict[str, str]:
        now = datetime.now(UTC)
        used, reset_at = self._usage.get(token.token, (0, now + self.rate_limit_window))
        if reset_at <= now:
            used, reset_at = 0, now + self.rate_limit_window
        used += 1
        self._usage[token.token] = (used, reset_at)
        limit = self.rate_limit if self.rate_limit is not None else 300
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(limit - used, 0)),
            "X-RateLimit-Reset": _iso(reset_at),
        }
        if self.rate_limit is not None and used > self.rate_limit:
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

    def instance(self, request: _Request) -> Response:
        return _json(
            200,
            {
                "domain": self.domain,
                "title": "Test instance",
                "version": "4.4.0",
                "configuration": {
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
                        ],
                        "image_size_limit": 16777216,
                        "description_limit": 1500,
                    },
                },
            },
        )

    def _account_json(self, account: Account) -> dict[str, Any]:
        statuses = len(self.statuses_of(account))
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "url": f"https://{self.domain}/@{account.username}",
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

    def _status_json(self, status: Status, *, with_source: bool = False) -> dict[str, Any]:
        author = self.accounts[status.account_id]
        paragraphs = "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br />')}</p>"
            for p in status.text.split("\n\n")
            if p
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
            "uri": f"https://{self.domain}/users/{author.username}/statuses/{status.id}",
            "url": f"https://{self.domain}/@{author.username}/{status.id}",
            "replies_count": status.replies_count,
            "reblogs_count": status.reblogs_count,
            "favourites_count": status.favourites_count,
            "content": paragraphs,
            "account": self._account_json(author),
            "media_attachments": [self._media_json(self.media[m]) for m in status.media_ids],
            "mentions": [],
            "tags": [],
            "emojis": [],
        }
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

    # --- media -------------------------------------------------------------------------

    def _media_json(self, media: Media) -> dict[str, Any]:
        ready = media.processing_left <= 0
        return {
            "id": media.id,
            "type": "image",
            "url": f"https://{self.domain}/media/{media.id}.png" if ready else None,
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
        if not mime_type.startswith("image/"):
            raise HttpError(422, {"error": "Validation failed: File content type is invalid"})
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
            processing_left=self.media_processing_polls,
        )
        self.media[media.id] = media
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

    def _notify(self, account_id: str, kind: str, from_account_id: str, status_id: str) -> None:
        note = Notification(
            id=self.new_id(),
            type=kind,
            account_id=account_id,
            from_account_id=from_account_id,
            status_id=status_id,
            created_at=datetime.now(UTC),
        )
        self.notifications[note.id] = note

    def list_notifications(self, request: _Request) -> Response:
        token, rate = self._authenticate(request, "read:notifications")
        types = set(request.query.get("types[]", []))
        excluded = set(request.query.get("exclude_types[]", []))
        notes = [
            n
            for n in self.notifications.values()
            if n.account_id == token.account_id
            and (not types or n.type in types)
            and n.type not in excluded
        ]
        page, links = _paginate(notes, request, default_limit=40, max_limit=80)
        body = [
            {
                "id": n.id,
                "type": n.type,
                "created_at": _iso(n.created_at),
                "account": self._account_json(self.accounts[n.from_account_id]),
                "status": self._status_json(self.statuses[n.status_id]) if n.status_id else None,
            }
            for n in page
        ]
        return _json(200, body, {**rate, **links})


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


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(uri).query else "?"
    return 302, {"Location": uri + separator + urlencode(params)}, b""
