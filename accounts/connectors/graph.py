"""What Facebook Pages and Instagram share: Meta's Graph API, over ``accounts.http``.

Each network module keeps its own table (``API``) of the version, every
endpoint path and every metric name it uses; this module only knows how the
Graph answers:

- errors come as ``{"error": {message, type, code, error_subcode?, fbtrace_id}}``
  and are sorted into the five kinds here (:func:`classify`);
- usage comes in headers holding JSON (``X-App-Usage``,
  ``X-Business-Use-Case-Usage``), in percent of the allowance; reads refuse to
  go on above :data:`USAGE_SLOW_DOWN_PERCENT` until the time Meta names, so a
  pull slows down before Meta blocks the app (:func:`parse_usage`);
- lists page by cursor: ``paging.next`` is an absolute URL (with our token in
  it: never logged), and the last page has none;
- times look like ``2024-05-01T10:00:00+0000``;
- webhook deliveries are signed with ``X-Hub-Signature-256: sha256=<hex
  HMAC-SHA256(app secret, raw body)>``.

Sources: developers.facebook.com ``docs/graph-api/guides/error-handling``,
``docs/graph-api/overview/rate-limiting``, ``docs/graph-api/results`` (paging),
``docs/graph-api/webhooks/getting-started`` (signatures).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import http
from accounts.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    HealthResult,
    RateLimited,
    Rejected,
    TransientError,
    UnknownOutcome,
)

if TYPE_CHECKING:
    from accounts.models import ChannelAccount

logger = logging.getLogger(__name__)

GRAPH_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# Above this share of any allowance (percent), reads wait until Meta gives access back.
USAGE_SLOW_DOWN_PERCENT = 90
# How long to keep away when a header is over the line but names no time (seconds).
USAGE_DEFAULT_WAIT_SECONDS = 600
MAX_PAGES = 20

AUTH_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
DUPLICATE_CODE = 506
# Messenger / Instagram messaging: sent outside the allowed window (send-api error codes).
MESSAGING_WINDOW_SUBCODES = frozenset({2018278, 2534022})
POLICY_CODE = 368

# Token subcodes (error-handling guide), in words a comms person understands.
AUTH_SUBCODE_MESSAGES: dict[int, Any] = {
    458: _("The GovSocial app was removed from the Facebook account that connected this one."),
    459: _("Facebook wants the person who connected this account to log in and confirm it."),
    460: _("The password of the Facebook account that connected this one was changed."),
    463: _("The sign-in has expired."),
    464: _("The Facebook account that connected this one is not confirmed."),
    467: _("The person who connected this account logged out of Facebook, or the sign-in ended."),
    492: _("The person who connected this account no longer has a role on the Page."),
}

# Instagram's content errors (code 9004/36003/…, subcode 2207xxx), explained.
IG_SUBCODE_MESSAGES: dict[int, Any] = {
    2207001: _("Instagram could not process the post. Try again in a moment."),
    2207003: _("Instagram could not download an image in time."),
    2207004: _("An image is too large for Instagram (8 MB at most)."),
    2207005: _("Instagram does not take this image format (use JPEG)."),
    2207006: _("Instagram could not find the media to publish; it may have expired."),
    2207008: _("The media container expired before it was published (after 24 hours)."),
    2207009: _("An image's shape is outside what Instagram takes (between 4:5 and 1.91:1 wide)."),
    2207010: _("The caption is too long for Instagram (2,200 characters)."),
    2207016: _("Instagram could not download the image or video from our server."),
    2207020: _("The media container expired before it was published (after 24 hours)."),
    2207023: _("Instagram does not recognise this kind of media."),
    2207026: _("Instagram does not take this video format (use MP4 with H.264 and AAC)."),
    2207028: _("A carousel needs between 2 and 10 images."),
    2207042: _("The account has reached Instagram's daily publishing limit."),
    2207050: _("The Instagram account is restricted or inactive."),
    2207051: _("Instagram blocked this post as possible spam or a policy breach."),
    2207052: _("Instagram could not fetch the image or video from the address we gave."),
    2207053: _("Instagram refused an image; upload a different file."),
}


# --- time -------------------------------------------------------------------------


def parse_time(value: Any) -> datetime | None:
    """``2024-05-01T10:00:00+0000`` (or with a colon in the offset) → aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, GRAPH_TIME_FORMAT)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(GRAPH_TIME_FORMAT)


# --- usage headers ----------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """The highest share (percent) of any allowance used, and Meta's wait, if any."""

    percent: int = 0
    regain_seconds: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def _header_json(headers: Mapping[str, str], name: str) -> Any:
    raw = headers.get(name) or headers.get(name.lower())
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def parse_usage(headers: Mapping[str, str]) -> Usage:
    """``X-App-Usage`` ``{"call_count":28,"total_time":25,"total_cputime":25}`` and
    ``X-Business-Use-Case-Usage`` ``{"<id>":[{"type":"pages","call_count":…,
    "estimated_time_to_regain_access":<minutes>}]}`` (also Instagram's)."""
    percent = 0
    regain: float | None = None
    detail: dict[str, Any] = {}
    app = _header_json(headers, "X-App-Usage")
    if isinstance(app, dict):
        detail["app"] = app
        for key in ("call_count", "total_time", "total_cputime"):
            value = app.get(key)
            if isinstance(value, int | float):
                percent = max(percent, int(value))
    buc = _header_json(headers, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        detail["business"] = buc
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                for key in ("call_count", "total_time", "total_cputime"):
                    value = entry.get(key)
                    if isinstance(value, int | float):
                        percent = max(percent, int(value))
                minutes = entry.get("estimated_time_to_regain_access")
                if isinstance(minutes, int | float) and minutes > 0:
                    regain = max(regain or 0.0, float(minutes) * 60)
    return Usage(percent=percent, regain_seconds=regain, detail=detail)


def _usage_key(token_owner: str) -> str:
    return "graph-usage:" + hashlib.sha256(token_owner.encode()).hexdigest()[:32]


def note_usage(owner: str, usage: Usage) -> None:
    """Remember a high usage for ``owner`` (an app or account id), so the next reads wait."""
    if usage.percent >= USAGE_SLOW_DOWN_PERCENT or usage.regain_seconds:
        wait = usage.regain_seconds or USAGE_DEFAULT_WAIT_SECONDS
        cache.set(_usage_key(owner), {"percent": usage.percent, "wait": wait}, timeout=int(wait))
    else:
        cache.delete(_usage_key(owner))


def check_budget(owner: str) -> None:
    """Raise :class:`RateLimited` when Meta said the allowance is (nearly) spent."""
    noted = cache.get(_usage_key(owner))
    if noted:
        raise RateLimited(
            float(noted["wait"]),
            gettext(
                "Meta says %(percent)d%% of this account's allowance is used. "
                "We wait before reading more."
            )
            % {"percent": int(noted["percent"])},
        )


# --- errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class GraphErrorBody:
    message: str = ""
    type: str = ""
    code: int | None = None
    subcode: int | None = None
    fbtrace_id: str = ""
    user_message: str = ""


def error_body(response: http.HttpResponse) -> GraphErrorBody | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None

    def _int(value: Any) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return GraphErrorBody(
        message=str(error.get("message") or ""),
        type=str(error.get("type") or ""),
        code=_int(error.get("code")),
        subcode=_int(error.get("error_subcode")),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
        user_message=str(error.get("error_user_msg") or ""),
    )


def classify(response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
    """One Graph answer that is not a success, as one of the five kinds."""
    status = response.status
    error = error_body(response)
    if error is None:
        detail = f"HTTP {status}: {response.text[:200]}"
        if outcome_matters and status in (502, 504):
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        if status == 429:
            return RateLimited(response.retry_after, status_code=status, detail=detail)
        return Rejected(gettext("the network refused it"), status_code=status, detail=detail)
    detail = (
        f"({error.code}"
        + (f"/{error.subcode}" if error.subcode else "")
        + f") {error.message} [fbtrace_id {error.fbtrace_id}]"
    )
    code, subcode = error.code or 0, error.subcode or 0
    if subcode in MESSAGING_WINDOW_SUBCODES:
        return Rejected(
            gettext(
                "Meta lets a Page or account answer a message only within 24 hours of the "
                "person's last message (7 days for a person answering by hand, where the app "
                "has that permission). Answer them another way, or wait until they write again."
            ),
            status_code=status,
            detail=detail,
        )
    if code in AUTH_CODES:
        message = AUTH_SUBCODE_MESSAGES.get(subcode)
        text = (
            gettext("%(reason)s Reconnect the account.") % {"reason": message} if message else None
        )
        return AuthError(text, status_code=status, detail=detail)
    if code in RATE_LIMIT_CODES:
        usage = parse_usage(response.headers)
        wait = usage.regain_seconds if usage.regain_seconds else response.retry_after
        return RateLimited(wait, status_code=status, detail=detail)
    if code in PERMISSION_CODES:
        return AuthError(
            gettext(
                "The connection lacks a permission this needs (%(message)s). Reconnect the "
                "account and grant every permission asked for."
            )
            % {"message": error.message},
            status_code=status,
            detail=detail,
        )
    if 2207000 <= subcode <= 2207999:
        explained = IG_SUBCODE_MESSAGES.get(subcode)
        return Rejected(
            str(explained) if explained else (error.user_message or error.message),
            status_code=status,
            detail=detail,
        )
    if code == DUPLICATE_CODE:
        return Rejected(
            gettext("the same post was already published on this Page"),
            status_code=status,
            detail=detail,
        )
    if code == POLICY_CODE:
        return Rejected(
            gettext("Meta blocked this for now as it may go against its community standards"),
            status_code=status,
            detail=detail,
        )
    if code in TRANSIENT_CODES or status >= 500:
        if outcome_matters and status in (502, 504):
            return UnknownOutcome(status_code=status, detail=detail)
        return TransientError(status_code=status, detail=detail)
    return Rejected(error.user_message or error.message, status_code=status, detail=detail)


# --- calls ------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"(access_token|client_secret|input_token|fb_exchange_token|code)=[^&#\s]+")


def redact(url_or_text: str) -> str:
    """The text with every token, secret and code in it replaced (for logs and details)."""
    return _TOKEN_RE.sub(r"\1=REDACTED", url_or_text)


@dataclass(frozen=True)
class Answer:
    body: Any
    status: int
    usage: Usage


def call(
    method: str,
    url: str,
    *,
    token: str = "",
    params: Mapping[str, Any] | None = None,
    # A form (mapping), or a file opened for reading to stream as the body (uploads).
    data: Mapping[str, Any] | IO[bytes] | None = None,
    files: Mapping[str, Any] | None = None,
    outcome_matters: bool = False,
    budget_owner: str = "",
    timeout: http.Timeout = http.DEFAULT_TIMEOUT,
    ok_statuses: tuple[int, ...] = (),
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One Graph call, every failure classified. ``outcome_matters`` marks a write
    that must not happen twice (its timeout is an :class:`UnknownOutcome`).
    ``budget_owner`` (the account or app id) makes reads wait while Meta's usage
    headers say the allowance is nearly spent."""
    is_read = method.upper() == "GET"
    if budget_owner and is_read:
        check_budget(budget_owner)
    sent_headers = {"Accept": "application/json", **(headers or {})}
    if token:
        sent_headers["Authorization"] = f"Bearer {token}"
    try:
        response = http.http_request(
            method,
            url,
            headers=sent_headers,
            params=params,
            data=data,
            files=files,
            timeout=timeout,
        )
    except (http.BlockedAddress, http.InvalidURL) as exc:
        raise Rejected(gettext("this address is not allowed"), detail=redact(str(exc))) from exc
    except http.HttpError as exc:
        if outcome_matters and exc.request_sent:
            raise UnknownOutcome(detail=redact(str(exc))) from exc
        raise TransientError(detail=redact(str(exc))) from exc
    usage = parse_usage(response.headers)
    if budget_owner:
        note_usage(budget_owner, usage)
    if usage.percent >= USAGE_SLOW_DOWN_PERCENT:
        logger.info("Graph usage at %s%% after %s", usage.percent, redact(_path(url)))
    if not (response.ok or response.status in ok_statuses):
        raise classify(response, outcome_matters=outcome_matters)
    try:
        body = response.json()
    except ValueError as exc:
        kind = UnknownOutcome if outcome_matters else TransientError
        raise kind(detail=f"Answer is not JSON ({response.status})") from exc
    return Answer(body=body, status=response.status, usage=usage)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def pages(
    first: Answer,
    *,
    token: str = "",
    budget_owner: str = "",
    max_pages: int = MAX_PAGES,
    timeout: http.Timeout = http.DEFAULT_TIMEOUT,
) -> Iterator[list[dict[str, Any]]]:
    """The ``data`` of ``first`` and of every page after it, following ``paging.next``
    (absolute, possibly on another version, with the token inside) until there is none."""
    answer = first
    for _number in range(max_pages):
        body = answer.body if isinstance(answer.body, dict) else {}
        yield [item for item in body.get("data") or [] if isinstance(item, dict)]
        next_url = next_page_url(body)
        if not next_url:
            return
        logger.debug("Graph next page %s", redact(next_url))
        answer = call("GET", next_url, token=token, budget_owner=budget_owner, timeout=timeout)


def next_page_url(body: Mapping[str, Any]) -> str:
    paging = body.get("paging") if isinstance(body, Mapping) else None
    if not isinstance(paging, Mapping):
        return ""
    return str(paging.get("next") or "")


def after_cursor(body: Mapping[str, Any]) -> str:
    paging = body.get("paging") if isinstance(body, Mapping) else None
    cursors = paging.get("cursors") if isinstance(paging, Mapping) else None
    return str(cursors.get("after") or "") if isinstance(cursors, Mapping) else ""


# --- insights ---------------------------------------------------------------------


def insight_values(body: Any) -> dict[str, int]:
    """``{metric: latest value}`` from an insights answer of either shape:
    ``values: [{value, end_time}]`` (the last one counts) or ``total_value: {value}``.
    A value that is itself a breakdown (``{"like": 3, "love": 1}``) is summed."""
    result: dict[str, int] = {}
    data = body.get("data") if isinstance(body, dict) else None
    for entry in data or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        value: Any = None
        total = entry.get("total_value")
        if isinstance(total, dict) and "value" in total:
            value = total["value"]
        else:
            values = entry.get("values") or []
            if values and isinstance(values[-1], dict):
                value = values[-1].get("value")
        if isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, int | float))
        if isinstance(value, int | float):
            result[str(entry["name"])] = int(value)
    return result


# --- webhooks ---------------------------------------------------------------------


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: str, body: bytes, header: str) -> bool:
    """Constant-time check of ``X-Hub-Signature-256`` against the raw body."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(app_secret, body), header.strip())


@dataclass(frozen=True)
class WebhookEvent:
    """One change or message of a delivery, with a key that is the same when Meta
    delivers it again."""

    object: str  # "page" or "instagram"
    account_id: str  # the Page id or Instagram account id
    field: str  # "feed", "comments", "mentions", "messages"
    key: str
    value: Mapping[str, Any]
    time: int = 0


def parse_delivery(body: bytes) -> list[WebhookEvent]:
    """The events in one delivery (``{"object", "entry": [{id, time, changes|messaging}]}``).

    Raises ``ValueError`` on a body that is not a Meta delivery."""
    payload = json.loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a Meta webhook delivery")
    kind = str(payload.get("object") or "")
    events: list[WebhookEvent] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        account_id = str(entry.get("id") or "")
        moment = int(entry.get("time") or 0) if str(entry.get("time") or "0").isdigit() else 0
        for change in entry.get("changes") or []:
            if not isinstance(change, dict):
                continue
            raw_value = change.get("value")
            value: dict[str, Any] = raw_value if isinstance(raw_value, dict) else {}
            name = str(change.get("field") or "")
            item_id = str(value.get("comment_id") or value.get("id") or value.get("post_id") or "")
            verb = str(value.get("verb") or "")
            key = f"{kind}:{account_id}:{name}:{item_id}:{verb}" if item_id else ""
            if not key:
                key = (
                    "sha:" + hashlib.sha256(json.dumps(change, sort_keys=True).encode()).hexdigest()
                )
            events.append(WebhookEvent(kind, account_id, name, key, value, moment))
        for message in entry.get("messaging") or []:
            if not isinstance(message, dict):
                continue
            mid = str((message.get("message") or {}).get("mid") or "")
            key = (
                f"{kind}:{account_id}:messages:{mid}"
                if mid
                else (
                    "sha:"
                    + hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest()
                )
            )
            events.append(WebhookEvent(kind, account_id, "messages", key, message, moment))
    return events


def utcnow() -> datetime:
    return datetime.now(tz=UTC)


# --- what the Facebook and Instagram connectors share ---------------------------------


@dataclass(frozen=True)
class GraphApi:
    """One network's table: the pinned version, every path (with ``{placeholders}``)
    and every metric or field list it asks for."""

    version: str
    paths: Mapping[str, str]
    metrics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)

    def url(self, base_url: str, name: str, **ids: str) -> str:
        from urllib.parse import quote

        path = self.paths[name].format(**{k: quote(str(v), safe="") for k, v in ids.items()})
        return f"{base_url.rstrip('/')}/{self.version}{path}"


@dataclass(frozen=True)
class TokenInfo:
    """What ``debug_token`` says about a token (expiries are epoch integers there)."""

    valid: bool
    scopes: tuple[str, ...]
    expires_at: datetime | None
    data_access_expires_at: datetime | None
    user_id: str = ""


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, int) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def debug_token(
    api: GraphApi, base_url: str, *, app_id: str, app_secret: str, token: str
) -> TokenInfo:
    """Ask Meta about ``token`` with the app's own token (``app_id|app_secret``)."""
    answer = call(
        "GET",
        api.url(base_url, "debug_token"),
        token=f"{app_id}|{app_secret}",
        params={"input_token": token},
    )
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if not isinstance(data, dict):
        raise TransientError(detail="debug_token answered without data")
    return TokenInfo(
        valid=bool(data.get("is_valid")),
        scopes=tuple(str(s) for s in data.get("scopes") or []),
        expires_at=_epoch(data.get("expires_at")),
        data_access_expires_at=_epoch(data.get("data_access_expires_at")),
        user_id=str(data.get("user_id") or ""),
    )


def graph_url() -> str:
    return str(getattr(settings, "META_GRAPH_URL", "https://graph.facebook.com")).rstrip("/")


def graph_video_url() -> str:
    """The host Page videos are published on (video-api/guides/publishing)."""
    return str(
        getattr(settings, "META_GRAPH_VIDEO_URL", "https://graph-video.facebook.com")
    ).rstrip("/")


class GraphConnector(Connector):
    """The plumbing of a connector that speaks to the Graph with a Page token."""

    api: ClassVar[GraphApi]
    # Fields that name the account in ``check_health`` (Page: name; Instagram: username).
    health_fields: ClassVar[str] = "id,name"
    # The Meta app platform (``NetworkApp.network``) both connectors are set up through.
    platform: ClassVar[str] = "meta"

    def _base(self, account: ChannelAccount) -> str:
        return (account.server_url or graph_url()).rstrip("/")

    def _token(self, account: ChannelAccount) -> str:
        token = str((account.credentials or {}).get("access_token") or "")
        if not token:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        return token

    def _call(
        self,
        account: ChannelAccount,
        method: str,
        name: str,
        *,
        ids: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        outcome_matters: bool = False,
        ok_statuses: tuple[int, ...] = (),
    ) -> Answer:
        return call(
            method,
            self.api.url(self._base(account), name, **(ids or {})),
            token=self._token(account),
            params=params,
            data=data,
            files=files,
            outcome_matters=outcome_matters,
            budget_owner=f"{self.network}:{account.remote_id}",
            timeout=self.timeout,
            ok_statuses=ok_statuses,
        )

    def _all(
        self, account: ChannelAccount, first: Answer, *, max_pages: int = MAX_PAGES
    ) -> Iterator[dict[str, Any]]:
        for page in pages(
            first,
            token=self._token(account),
            budget_owner=f"{self.network}:{account.remote_id}",
            max_pages=max_pages,
            timeout=self.timeout,
        ):
            yield from page

    def token_info(self, account: ChannelAccount) -> TokenInfo | None:
        """What Meta says about the account's token (None when the organization has no Meta
        app stored, since ``debug_token`` needs the app's own token)."""
        from accounts.selectors import network_app_get

        app = network_app_get(organization=account.organization, network=self.platform)
        if app is None:
            return None
        token = str((account.credentials or {}).get("user_token") or self._token(account))
        return debug_token(
            self.api,
            self._base(account),
            app_id=app.client_id,
            app_secret=app.client_secret,
            token=token,
        )

    def check_health(self, account: ChannelAccount) -> HealthResult:
        answer = self._call(
            account,
            "GET",
            "object",
            ids={"object_id": account.remote_id},
            params={"fields": self.health_fields},
        )
        body = answer.body if isinstance(answer.body, dict) else {}
        info = self.token_info(account)
        if info is not None and not info.valid:
            raise AuthError(gettext("Meta says this account's sign-in is no longer valid."))
        return HealthResult(
            remote_id=str(body.get("id") or account.remote_id),
            handle=self._handle(body) or account.handle,
            display_name=str(body.get("name") or account.display_name),
            profile_url=self._profile_url(body),
            scopes=info.scopes if info is not None else tuple(account.scopes or ()),
        )

    def _handle(self, body: Mapping[str, Any]) -> str:
        return str(body.get("name") or "")

    def _profile_url(self, body: Mapping[str, Any]) -> str:
        return ""
