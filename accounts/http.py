"""The one way the app talks to social networks over HTTP.

Every connector calls :func:`http_request`, so these rules hold everywhere:

- a timeout on every call (connect, read);
- retries only for safe reads (GET/HEAD, or a call its caller marks idempotent),
  bounded, with a small back-off, and only after a connection failure, a 5xx or
  a 429 whose wait is short; a write is sent once, and its caller decides;
- rate-limit headers of every style become ``retry_after`` (seconds) and a
  :class:`RateLimit`;
- addresses on loopback, private, link-local or reserved networks are refused
  (an instance address is typed in by a person) unless
  ``settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS`` is on. The check runs on the
  resolved names before the call and again on the connected socket, so a name
  that re-resolves to a private address between the two is still refused.

Failures to get an answer raise :class:`HttpError` subclasses that say whether
the request may have reached the server (``request_sent``); answers of any
status are returned, and connectors classify them.

Tests replace this one function, or point it at a local server.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError, NewConnectionError, ReadTimeoutError

logger = logging.getLogger(__name__)

Timeout = float | tuple[float, float]

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 20.0)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_RETRIES = 2
RETRY_BACKOFF_SECONDS = (0.5, 1.5)
# A read is retried after a 429 or 503 only when the server asks for a wait this
# short; longer waits go back to the caller as ``retry_after``.
MAX_RETRY_WAIT_SECONDS = 5.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 3
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
# Reset values above this are epoch seconds rather than a delay (X, Bluesky).
_EPOCH_THRESHOLD = 1_000_000_000

# Replaced by tests so that retries and polling never really wait.
sleep: Callable[[float], None] = time.sleep


class HttpError(Exception):
    """No usable answer came back."""

    request_sent = True  # whether the server may have received (and acted on) the request

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class InvalidURL(HttpError):
    request_sent = False


class BlockedAddress(HttpError):
    """The address is on a loopback, private, link-local or reserved network."""

    request_sent = False


class ConnectFailed(HttpError):
    """Name not resolved, connection refused or connect timeout: nothing was sent."""

    request_sent = False


class ResponseTimeout(HttpError):
    """The request went out and no answer came in time."""


class ConnectionLost(HttpError):
    """The connection broke after the request went out."""


class ResponseTooLarge(HttpError):
    pass


@dataclass(frozen=True)
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None


@dataclass(frozen=True)
class HttpResponse:
    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed_ms: int
    retry_after: float | None = None
    rate_limit: RateLimit = field(default_factory=RateLimit)
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content) if self.content else None

    @property
    def links(self) -> dict[str, str]:
        """The ``Link`` header as ``{rel: absolute URL}``."""
        return parse_link_header(self.headers.get("Link", ""), base_url=self.url)


def parse_link_header(value: str, *, base_url: str = "") -> dict[str, str]:
    links: dict[str, str] = {}
    for part in value.split(","):
        pieces = part.strip().split(";")
        target = pieces[0].strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        url = urljoin(base_url, target[1:-1])
        for param in pieces[1:]:
            name, _, raw = param.strip().partition("=")
            if name.strip().lower() == "rel":
                for rel in raw.strip().strip('"').split():
                    links.setdefault(rel.lower(), url)
    return links


# --- rate-limit headers ------------------------------------------------------


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def _parse_moment(value: str, now: datetime) -> datetime | None:
    """A reset given as delay seconds, epoch seconds, an ISO timestamp or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number > _EPOCH_THRESHOLD:
            return datetime.fromtimestamp(number, tz=UTC)
        return datetime.fromtimestamp(now.timestamp() + max(number, 0.0), tz=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def parse_rate_limit(headers: Mapping[str, str], *, now: datetime | None = None) -> RateLimit:
    """Limit, remaining and reset from Mastodon, X or draft-standard headers."""
    now = now or datetime.now(tz=UTC)
    headers = headers if isinstance(headers, CaseInsensitiveDict) else CaseInsensitiveDict(headers)
    for prefix in ("X-RateLimit-", "x-rate-limit-", "RateLimit-"):
        limit = _parse_int(headers.get(prefix + "Limit"))
        remaining = _parse_int(headers.get(prefix + "Remaining"))
        reset_raw = headers.get(prefix + "Reset")
        if limit is None and remaining is None and reset_raw is None:
            continue
        reset_at = _parse_moment(reset_raw, now) if reset_raw else None
        return RateLimit(limit=limit, remaining=remaining, reset_at=reset_at)
    return RateLimit()


def parse_retry_after(
    headers: Mapping[str, str], *, status: int, now: datetime | None = None
) -> float | None:
    """Seconds to wait before calling again, or None when nothing says to wait.

    Read only when the server is refusing for now (429, 503) or says the
    current window is spent (remaining 0). ``Retry-After`` wins; then the reset
    time of ``X-RateLimit-Reset`` (Mastodon, ISO timestamp), ``x-rate-limit-reset``
    (X, epoch seconds) or ``RateLimit-Reset`` (draft standard, seconds).
    """
    now = now or datetime.now(tz=UTC)
    headers = headers if isinstance(headers, CaseInsensitiveDict) else CaseInsensitiveDict(headers)
    rate_limit = parse_rate_limit(headers, now=now)
    if status not in (429, 503) and rate_limit.remaining != 0:
        return None
    retry_after = headers.get("Retry-After")
    moment = _parse_moment(retry_after, now) if retry_after else None
    if moment is None:
        moment = rate_limit.reset_at
    if moment is None:
        return None
    return max(0.0, round((moment - now).total_seconds(), 3))


# --- the private-address guard ------------------------------------------------


def _is_blocked_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectFailed(f"Cannot resolve {host}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def _allow_private(allow_private: bool | None) -> bool:
    if allow_private is not None:
        return allow_private
    return bool(getattr(settings, "CONNECTORS_ALLOW_PRIVATE_NETWORKS", False))


def check_destination(url: str, *, allow_private: bool | None = None) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidURL(f"Not an http(s) address: {url!r}", url=url)
    if _allow_private(allow_private):
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InvalidURL(f"Bad port in {url!r}", url=url) from exc
    for address in _resolve(parts.hostname, port):
        if _is_blocked_ip(address):
            raise BlockedAddress(
                f"{parts.hostname} resolves to {address}, which is not a public address", url=url
            )


def _refuse_private_peer(sock: socket.socket) -> None:
    peer = sock.getpeername()[0]
    if _is_blocked_ip(str(peer)):
        sock.close()
        raise BlockedAddress(f"Connected to {peer}, which is not a public address")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _refuse_private_peer(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _refuse_private_peer(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Checks the address of every socket it opens (direct connections; a proxy is trusted)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


_sessions = threading.local()


def _session(guarded: bool) -> requests.Session:
    """One pooled session per thread (requests sessions are not thread-safe)."""
    name = "guarded" if guarded else "open"
    session: requests.Session | None = getattr(_sessions, name, None)
    if session is None:
        session = requests.Session()
        if guarded:
            adapter = _GuardedAdapter()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        setattr(_sessions, name, session)
    return session


# --- the call -----------------------------------------------------------------


def _user_agent() -> str:
    site = getattr(settings, "SITE_URL", "")
    return f"GovSocial/1 (+{site})" if site else "GovSocial/1"


def _send_once(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    params: Any,
    json: Any,
    data: Any,
    files: Any,
    timeout: Timeout,
) -> requests.Response:
    try:
        response = session.request(
            method,
            url,
            headers=headers,
            params=params,
            json=json,
            data=data,
            files=files,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
    except BlockedAddress as exc:
        exc.url = url
        raise
    except requests.exceptions.ConnectTimeout as exc:
        raise ConnectFailed(f"Connecting to {urlsplit(url).netloc} timed out", url=url) from exc
    except requests.exceptions.ReadTimeout as exc:
        raise ResponseTimeout(f"No answer from {urlsplit(url).netloc} in time", url=url) from exc
    except requests.exceptions.ConnectionError as exc:
        if _nothing_sent(exc):
            raise ConnectFailed(f"Cannot connect to {urlsplit(url).netloc}", url=url) from exc
        raise ConnectionLost(f"Connection to {urlsplit(url).netloc} broke", url=url) from exc
    except (requests.exceptions.InvalidURL, LocationParseError) as exc:
        # LocationParseError: a host urllib3 cannot encode (a label over 63 characters).
        raise InvalidURL(str(exc), url=url) from exc
    return response


def _nothing_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the failure happened while connecting (refused, DNS), before sending."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)  # NameResolutionError is one too


def _read_body(response: requests.Response, url: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise ResponseTooLarge(
                    f"Answer from {urlsplit(url).netloc} is larger than {MAX_RESPONSE_BYTES} bytes",
                    url=url,
                )
            chunks.append(chunk)
    except requests.exceptions.ConnectionError as exc:
        # requests reports a read timeout while streaming the body as a ConnectionError.
        if exc.args and isinstance(exc.args[0], ReadTimeoutError):
            raise ResponseTimeout(
                f"No answer from {urlsplit(url).netloc} in time", url=url
            ) from exc
        raise ConnectionLost(f"Connection to {urlsplit(url).netloc} broke", url=url) from exc
    except requests.exceptions.RequestException as exc:
        raise ConnectionLost(f"Connection to {urlsplit(url).netloc} broke", url=url) from exc
    finally:
        response.close()
    return b"".join(chunks)


def http_request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Any = None,
    json: Any = None,
    data: Any = None,
    files: Any = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    idempotent: bool | None = None,
    allow_private: bool | None = None,
) -> HttpResponse:
    """Send one request and return the answer, whatever its status.

    ``idempotent`` defaults to True for GET, HEAD and OPTIONS; only idempotent
    calls are retried, and only GET/HEAD follow redirects (each hop checked).
    Raises :class:`HttpError` when no answer came back.
    """
    method = method.upper()
    if timeout is None or (isinstance(timeout, tuple) and None in timeout):
        raise ValueError("Every network call needs a timeout.")
    retryable = method in SAFE_METHODS if idempotent is None else idempotent
    guarded = not _allow_private(allow_private)
    session = _session(guarded)
    request_headers = {"User-Agent": _user_agent(), **(headers or {})}
    attempts = 0
    current_url = url
    redirects = 0
    while True:
        attempts += 1
        started = time.monotonic()
        try:
            check_destination(current_url, allow_private=not guarded)
            raw = _send_once(
                session,
                method,
                current_url,
                headers=request_headers,
                params=params,
                json=json,
                data=data,
                files=files,
                timeout=timeout,
            )
            content = _read_body(raw, current_url)
        except (InvalidURL, BlockedAddress):
            logger.warning("Refused %s %s", method, _loggable(current_url))
            raise
        except HttpError as exc:
            logger.info("%s %s failed: %s", method, _loggable(current_url), exc)
            if retryable and attempts <= MAX_RETRIES:
                sleep(RETRY_BACKOFF_SECONDS[min(attempts - 1, len(RETRY_BACKOFF_SECONDS) - 1)])
                continue
            raise
        elapsed_ms = int((time.monotonic() - started) * 1000)
        response_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(raw.headers)
        now = datetime.now(tz=UTC)
        response = HttpResponse(
            method=method,
            url=raw.url or current_url,
            status=raw.status_code,
            headers=response_headers,
            content=content,
            elapsed_ms=elapsed_ms,
            retry_after=parse_retry_after(response_headers, status=raw.status_code, now=now),
            rate_limit=parse_rate_limit(response_headers, now=now),
            attempts=attempts,
        )
        logger.info(
            "%s %s -> %s in %d ms", method, _loggable(current_url), response.status, elapsed_ms
        )
        location = response_headers.get("Location")
        if (
            method in ("GET", "HEAD")
            and response.status in (301, 302, 303, 307, 308)
            and location
            and redirects < MAX_REDIRECTS
        ):
            redirects += 1
            attempts -= 1
            next_url = urljoin(current_url, location)
            if urlsplit(next_url).netloc != urlsplit(current_url).netloc:
                # Never hand a bearer token to another host.
                request_headers = {
                    k: v for k, v in request_headers.items() if k.lower() != "authorization"
                }
            current_url, params = next_url, None
            continue
        if (
            retryable
            and response.status in RETRY_STATUSES
            and attempts <= MAX_RETRIES
            and (response.retry_after is None or response.retry_after <= MAX_RETRY_WAIT_SECONDS)
        ):
            backoff = RETRY_BACKOFF_SECONDS[min(attempts - 1, len(RETRY_BACKOFF_SECONDS) - 1)]
            sleep(max(backoff, response.retry_after or 0.0))
            continue
        return response


def _loggable(url: str) -> str:
    """The URL without its query string, which may carry tokens or codes."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
