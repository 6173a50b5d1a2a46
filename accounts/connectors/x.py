"""X (the API v2), with the organization's own X app (``NetworkApp`` network "x").

Connect: OAuth 2.0 authorization code with PKCE (S256) through requests-oauthlib;
the token endpoint takes the app's client id and secret as HTTP Basic (a
confidential client). Access tokens last two hours; the refresh token is
single-use and rotates, so a refresh runs through
``accounts.services.channel_account_refresh_credentials``, which holds the
account's row lock while it spends the old refresh token and stores the new pair.

Publish: text counted as X counts it (``twitter-text-parser``: weighted, every URL
23), images uploaded then described (``POST /2/media/metadata``), replies and
threads (each part a reply to the one before), quotes where the plan allows.
X has no idempotency key: a 403 "duplicate content" is reconciled by looking up
the account's recent posts before anything is reported.

Every call is counted per account, endpoint and day (``accounts.usage``); pulls
stop when the account's monthly call budget is spent. Facts: NETWORK-APIS.md §3;
docs.x.com pages cited in ``ENDPOINTS`` below.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oauthlib.oauth2 import WebApplicationClient
from requests_oauthlib import OAuth2Session

from accounts import http
from accounts.connectors.base import (
    AccountMetrics,
    AuthError,
    Capabilities,
    ConnectedAccount,
    Connector,
    ConnectorError,
    CredentialUpdate,
    HealthResult,
    InboxItem,
    InboxKind,
    InboxPage,
    Limits,
    MediaItem,
    OAuthClient,
    OAuthStart,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RateLimited,
    RecentPost,
    RecentPosts,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.captions import language_name, srt_from_vtt

if TYPE_CHECKING:
    from accounts.models import ChannelAccount

logger = logging.getLogger(__name__)

NETWORK = "x"
# docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code ("Scopes").
SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "media.write",
    "dm.read",
    "dm.write",
)
# Without these the account cannot publish or renew its sign-in.
REQUIRED_SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    # Calls per 15-minute window per user (docs.x.com/x-api/fundamentals/rate-limits).
    per_15_min: int
    doc: str


# Every endpoint this connector calls, with its documented per-user limit and page.
ENDPOINTS: dict[str, Endpoint] = {
    "token": Endpoint("POST", "/2/oauth2/token", 0,
                      "docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token"),
    "revoke": Endpoint("POST", "/2/oauth2/revoke", 0,
                       "docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token"),
    "users_me": Endpoint("GET", "/2/users/me", 75, "docs.x.com/x-api/users/get-my-user"),
    "create_post": Endpoint("POST", "/2/tweets", 100, "docs.x.com/x-api/posts/create-post"),
    "delete_post": Endpoint("DELETE", "/2/tweets/{id}", 50, "docs.x.com/x-api/posts/delete-post"),
    "lookup_posts": Endpoint("GET", "/2/tweets", 900, "docs.x.com/x-api/posts/get-posts-by-ids"),
    "user_posts": Endpoint("GET", "/2/users/{id}/tweets", 900, "docs.x.com/x-api/users/get-posts"),
    "mentions": Endpoint("GET", "/2/users/{id}/mentions", 300,
                         "docs.x.com/x-api/users/get-mentions"),
    "dm_events": Endpoint("GET", "/2/dm_events", 15,
                          "docs.x.com/x-api/direct-messages/get-dm-events"),
    "dm_send": Endpoint("POST", "/2/dm_conversations/with/{id}/messages", 15,
                        "docs.x.com/x-api/direct-messages/create-dm-message-by-participant-id"),
    "media_upload": Endpoint("POST", "/2/media/upload", 500, "docs.x.com/x-api/media/upload-media"),
    "media_initialize": Endpoint("POST", "/2/media/upload/initialize", 180,
                                 "docs.x.com/x-api/media/initialize-media-upload"),
    "media_append": Endpoint("POST", "/2/media/upload/{id}/append", 1000,
                             "docs.x.com/x-api/media/append-media-upload"),
    "media_finalize": Endpoint("POST", "/2/media/upload/{id}/finalize", 180,
                               "docs.x.com/x-api/media/finalize-media-upload"),
    "media_status": Endpoint("GET", "/2/media/upload", 1000,
                             "docs.x.com/x-api/media/get-media-upload-status"),
    "media_metadata": Endpoint("POST", "/2/media/metadata", 500,
                               "docs.x.com/x-api/media/create-media-metadata"),
    # The rate-limits page lists no per-user figure for subtitles (0: not published).
    "media_subtitles": Endpoint("POST", "/2/media/subtitles", 0,
                                "docs.x.com/x-api/media/create-media-subtitles"),
}  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """What an X API plan allows, shown to the people who reply and message."""

    key: str
    label: Any
    # Self-serve plans: a reply only to a post that mentions or quotes the account.
    replies_only_when_summoned: bool
    quotes: bool
    direct_messages: bool


PLANS: dict[str, Plan] = {
    "pay_per_use": Plan("pay_per_use", _("Pay-per-use (self-serve)"), True, False, True),
    "enterprise": Plan("enterprise", _("Enterprise"), False, True, True),
}
DEFAULT_PLAN = "pay_per_use"

# Direct messages per day per user (docs.x.com/x-api/fundamentals/rate-limits).
DM_PER_DAY = 1440
ACCESS_TOKEN_SECONDS = 7200
SNOWFLAKE_EPOCH_MS = 1288834974657
# Non-public metrics: the author's own posts of the last 30 days (docs.x.com/x-api/
# fundamentals/metrics).
NON_PUBLIC_WINDOW = timedelta(days=30)
# Renew a little before the access token's end, so a call never starts with a dead token.
REFRESH_MARGIN = timedelta(minutes=5)
MEDIA_CHUNK_BYTES = 1024 * 1024
# Images above this go in chunks (initialize, append, finalize).
SIMPLE_UPLOAD_MAX_BYTES = 1024 * 1024
MEDIA_POLL_LIMIT = 10
# Videos (docs.x.com/x-api/media/quickstart/best-practices and media/introduction): one per
# post, MP4 or MOV, at most 512 MB and 140 seconds with ``media_category=tweet_video``;
# sent in 4 MB segments (the APPEND limit is 5 MB per segment, at most 1,000 segments).
VIDEO_MIME_TYPES = ("video/mp4", "video/quicktime")
VIDEO_MAX_BYTES = 512 * 1024 * 1024
VIDEO_MAX_SECONDS = 140
VIDEO_CHUNK_BYTES = 4 * 1024 * 1024
# How long one publish waits for X to process a video (``check_after_secs`` apart); past
# it the publish is tried again later, reusing the uploaded video (a checkpoint).
VIDEO_PROCESSING_MAX_SECONDS = 300
PAGE_SIZE = 100
# A mentions sync reads at most this many pages (X keeps the 800 newest mentions).
MAX_INBOX_PAGES = 8
# A duplicate refusal is "already published" only for a post this recent.
DUPLICATE_LOOKBACK = timedelta(hours=1)
DUPLICATE_DETAIL = "duplicate content"
# ``entities``: X shows every link as a t.co link (and adds one for attached media);
# ``entities.urls`` give each one's ``expanded_url`` (docs.x.com/x-api/fundamentals/
# data-dictionary, the Tweet object).
TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,entities"
WEB_URL = "https://x.com"


def plan_for(account: ChannelAccount | None) -> Plan:
    """The plan of the organization's X app (an admin chooses it with the app)."""
    if account is None:
        return PLANS[DEFAULT_PLAN]
    from accounts.selectors import network_app_get

    app = network_app_get(organization=account.organization, network=NETWORK)
    key = str((app.options or {}).get("plan") or DEFAULT_PLAN) if app else DEFAULT_PLAN
    return PLANS.get(key, PLANS[DEFAULT_PLAN])


def snowflake_time(remote_id: str) -> datetime | None:
    """When a post was made, read from its id (docs.x.com/fundamentals/x-ids)."""
    if not remote_id.isdigit():
        return None
    millis = (int(remote_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def x_text_length(text: str) -> int:
    """X's weighted length (twitter-text v3: CJK and emoji count 2, every URL 23)."""
    # Imported here: twitter-text's URL and emoji tables weigh ~12 MB, and a web worker
    # only needs them when someone writes for X (issue 14: memory).
    from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def expanded_text(tweet: Mapping[str, Any], *, media_links: bool = True) -> str:
    """A post's ``text`` with each t.co link put back as the URL it stands for
    (``entities.urls[].expanded_url``). The link X adds for attached media (the entity
    with a ``media_key``) is dropped when ``media_links`` is false, as when comparing
    with the text we sent. Without ``entities`` the text is left as it is."""
    text = str(tweet.get("text") or "")
    entities = tweet.get("entities")
    urls = entities.get("urls") if isinstance(entities, Mapping) else None
    for entity in urls if isinstance(urls, list) else []:
        if not isinstance(entity, Mapping) or not entity.get("url"):
            continue
        short = str(entity["url"])
        if entity.get("media_key") and not media_links:
            # The media link closes the text, after a space (or is all of it).
            if text.endswith(" " + short):
                text = text[: -len(short) - 1]
            else:
                text = text.replace(short, "", 1)
            continue
        # Replaced by value, not by ``start``/``end``: the t.co codes are unique, and the
        # offsets would need X's own way of counting characters.
        text = text.replace(short, str(entity.get("expanded_url") or short), 1)
    return text


def _with_scheme(text: str) -> str:
    """``text`` with ``http://`` before each URL typed without a scheme, as X gives it
    back in ``expanded_url``."""
    from twitter_text import extract_urls_with_indices

    out, last = "", 0
    for found in extract_urls_with_indices(text):
        start, end = found["indices"]
        url = text[start:end]
        out += text[last:start] + (url if "://" in url[:10] else f"http://{url}")
        last = end
    return out + text[last:]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _problem_text(body: Any) -> str:
    """``detail`` (or ``title``) of a problem+json body, or an OAuth error's description."""
    if not isinstance(body, dict):
        return ""
    for key in ("detail", "error_description", "title", "error"):
        if body.get(key):
            return str(body[key])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")
    return ""


def _when(moment: datetime) -> str:
    return formats.date_format(moment, "DATETIME_FORMAT")


class XConnector(Connector):
    network = NETWORK
    label = _("X")
    connect_method = "oauth"
    capabilities = Capabilities(
        publish=True,
        images=True,
        videos=True,
        alt_text=True,
        replies=True,
        threads=True,
        direct_messages=True,
        delete=True,
        inbox=True,
        metrics=True,
        impressions=True,
        content_warning=False,
        visibility=False,
        language=False,
        lookup_recent=True,
        refresh_credentials=True,
        idempotency_window_seconds=0,
    )
    # The background task renews a two-hour token in its last 20 minutes (calls renew
    # on demand too), which keeps an idle account's refresh token alive.
    refresh_ahead = timedelta(minutes=20)
    limits = Limits(
        max_text=280,
        text_counting="weighted",
        max_media=4,
        max_image_bytes=5 * 1024 * 1024,
        alt_text_max=1000,
        image_mime_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
        characters_per_url=23,
        max_videos=1,
        video_mime_types=VIDEO_MIME_TYPES,
        max_video_bytes=VIDEO_MAX_BYTES,
        max_video_seconds=VIDEO_MAX_SECONDS,
        video_alone=True,
    )

    # --- plumbing -------------------------------------------------------------------

    @staticmethod
    def api_url() -> str:
        return str(settings.X_API_URL).rstrip("/")

    def _send(
        self,
        endpoint: str,
        *,
        account: ChannelAccount | None,
        token: str = "",
        path_id: str = "",
        outcome_matters: bool = False,
        ok_statuses: Sequence[int] = (),
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
    ) -> http.HttpResponse:
        """One call, counted, with every failure classified. ``outcome_matters`` marks a
        write that must not happen twice (a post, a message)."""
        spec = ENDPOINTS[endpoint]
        path = spec.path.replace("{id}", quote(path_id, safe=""))
        request_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        from accounts.usage import api_call_record

        api_call_record(account=account, network=NETWORK, endpoint=f"{spec.method} {spec.path}")
        try:
            response = http.http_request(
                spec.method,
                self.api_url() + path,
                headers=request_headers,
                params=params,
                json=json,
                data=data,
                files=files,
                timeout=self.timeout,
                idempotent=spec.method == "GET" or None,
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("the X address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok or response.status in ok_statuses:
            return response
        raise self._classify(response, outcome_matters=outcome_matters)

    def _classify(self, response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
        status = response.status
        try:
            body = response.json()
        except ValueError:
            body = None
        detail = _problem_text(body) or response.text[:300]
        kind = str(body.get("type") or "") if isinstance(body, dict) else ""
        if status == 401:
            return AuthError(status_code=status, detail=detail)
        if status == 429:
            reset = response.rate_limit.reset_at
            if kind.endswith("/usage-capped"):
                until = reset or _next_month()
                return RateLimited(
                    max(0.0, (until - datetime.now(tz=UTC)).total_seconds()),
                    gettext(
                        "The X app's plan has used up its API allowance (%(detail)s). "
                        "Rate limited until %(until)s."
                    )
                    % {"detail": detail, "until": _when(until)},
                    status_code=status,
                    detail=detail,
                )
            retry = response.retry_after
            message = None
            if reset is not None:
                message = gettext("X asks us to slow down. Rate limited until %(until)s.") % {
                    "until": _when(reset)
                }
            return RateLimited(retry, message, status_code=status, detail=detail)
        if status == 403:
            lowered = detail.lower()
            if DUPLICATE_DETAIL in lowered:
                return _Duplicate(gettext("X refused it as a duplicate of an earlier post"),
                                  status_code=status, detail=detail)  # fmt: skip
            if "scope" in lowered or kind.endswith("/not-authorized-for-resource"):
                return AuthError(
                    gettext(
                        "X refused this because the sign-in lacks a permission. Reconnect the "
                        "account and allow everything GovSocial asks for."
                    ),
                    status_code=status,
                    detail=detail,
                )
            if kind.endswith("/client-forbidden") or "client-not-enrolled" in response.text:
                return Rejected(
                    gettext(
                        "X refuses the organization's X app: in the X developer console it must "
                        "belong to a project with access to this part of the API"
                    ),
                    status_code=status,
                    detail=detail,
                )
            if "quoting" in lowered:
                return Rejected(
                    gettext("the X app's plan does not allow quoting this post"),
                    status_code=status,
                    detail=detail,
                )
            if "not been mentioned" in lowered or "engaged by the author" in lowered:
                return Rejected(
                    gettext(
                        "the X app's plan allows replies only to posts that mention or quote "
                        "this account"
                    ),
                    status_code=status,
                    detail=detail,
                )
            return Rejected(detail or gettext("X does not allow this"), status_code=status)
        if outcome_matters and status in (500, 502, 504):
            # The post or message may exist behind a failing front: look before resending.
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        if status == 404:
            return Rejected(gettext("the post is not on X"), status_code=status, detail=detail)
        return Rejected(detail or gettext("X refused it"), status_code=status, detail=detail)

    def _json(self, response: http.HttpResponse, *, outcome_matters: bool = False) -> Any:
        try:
            body = response.json()
        except ValueError as exc:
            error = UnknownOutcome if outcome_matters else TransientError
            raise error(detail=f"Answer is not JSON ({response.status})") from exc
        return body if isinstance(body, dict) else {}

    # --- tokens ---------------------------------------------------------------------

    def _client(self, account: ChannelAccount) -> OAuthClient:
        from accounts.selectors import network_app_get

        app = network_app_get(organization=account.organization, network=NETWORK)
        if app is None:
            raise AuthError(
                gettext(
                    "The organization's X app is not set up (or was removed), so GovSocial "
                    "cannot renew this account's sign-in. An admin enters it under X app settings."
                )
            )
        return app.as_client(server_url=self.api_url(), redirect_uri="", scopes=SCOPES)

    @staticmethod
    def _basic(client: OAuthClient) -> str:
        pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    def _token(self, account: ChannelAccount) -> str:
        """A live access token, renewed first (under the row lock) when it is about to end."""
        stored = dict(account.credentials or {})
        token = str(stored.get("access_token") or "")
        if not token:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        expires = account.credentials_expire_at
        if expires is not None and expires - REFRESH_MARGIN <= datetime.now(tz=UTC):
            self._renew(account, stored)
            token = str((account.credentials or {}).get("access_token") or "")
        return token

    def _renew(self, account: ChannelAccount, stale: Mapping[str, Any]) -> None:
        if account.pk is None:
            update = self.refresh_credentials(account)
            account.credentials = dict(update.credentials)
            account.credentials_expire_at = update.expires_at
            return
        # Imported here: the services build on the connectors, not the other way round.
        from accounts.services import channel_account_refresh_credentials

        channel_account_refresh_credentials(account=account, stale_credentials=stale)

    def _call(self, account: ChannelAccount, endpoint: str, **kwargs: Any) -> http.HttpResponse:
        """An authenticated call; a 401 renews the sign-in once and sends the call again
        (it was refused, so nothing happened)."""
        token = self._token(account)
        stored = dict(account.credentials or {})
        try:
            return self._send(endpoint, account=account, token=token, **kwargs)
        except AuthError as exc:
            if exc.status_code != 401:
                raise
            logger.info("X access token of account %s refused; renewing", account.pk)
        self._renew(account, stored)
        return self._send(endpoint, account=account, token=self._token(account), **kwargs)

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        """Spend the single-use refresh token for a new pair (the caller holds the lock)."""
        stored = dict(account.credentials or {})
        refresh = str(stored.get("refresh_token") or "")
        if not refresh:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        client = self._client(account)
        try:
            response = self._send(
                "token",
                account=account,
                data={"grant_type": "refresh_token", "refresh_token": refresh},
                headers={
                    "Authorization": self._basic(client),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext(
                    "X no longer renews this account's sign-in (it was revoked, or the app "
                    "changed). Reconnect the account."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        return self._credential_update(self._json(response), stored)

    def _credential_update(
        self, body: Mapping[str, Any], stored: Mapping[str, Any] | None = None
    ) -> CredentialUpdate:
        access = str(body.get("access_token") or "")
        if not access or str(body.get("token_type", "")).lower() != "bearer":
            raise TransientError(detail="Token answer without a bearer access token")
        seconds = body.get("expires_in")
        lifetime = (
            int(seconds) if isinstance(seconds, int) and seconds > 0 else ACCESS_TOKEN_SECONDS
        )
        credentials = {
            **dict(stored or {}),
            "access_token": access,
            "token_type": "bearer",
            # A refresh answer without a new refresh token keeps none: the old one is spent.
            "refresh_token": str(body.get("refresh_token") or ""),
            "scope": str(body.get("scope") or ""),
        }
        return CredentialUpdate(
            credentials=credentials, expires_at=datetime.now(tz=UTC) + timedelta(seconds=lifetime)
        )

    # --- connect ----------------------------------------------------------------------

    def oauth_start(self, *, client: OAuthClient) -> OAuthStart:
        oauth_client = WebApplicationClient(client.client_id)
        verifier = oauth_client.create_code_verifier(64)
        challenge = oauth_client.create_code_challenge(verifier, "S256")
        session = OAuth2Session(
            client=oauth_client, redirect_uri=client.redirect_uri, scope=list(client.scopes)
        )
        url, state = session.authorization_url(
            str(settings.X_AUTHORIZE_URL), code_challenge=challenge, code_challenge_method="S256"
        )
        return OAuthStart(authorization_url=url, state=state, code_verifier=verifier)

    def oauth_finish(
        self,
        *,
        client: OAuthClient,
        code: str,
        returned_state: str,
        expected_state: str,
        code_verifier: str,
    ) -> ConnectedAccount:
        if not expected_state or not hmac.compare_digest(returned_state, expected_state):
            raise AuthError(
                gettext(
                    "The answer from X's sign-in page does not match the request we sent. "
                    "Start connecting again."
                )
            )
        body = WebApplicationClient(client.client_id).prepare_request_body(
            code=code, redirect_uri=client.redirect_uri, code_verifier=code_verifier
        )
        try:
            response = self._send(
                "token",
                account=None,
                data=body,
                headers={
                    "Authorization": self._basic(client),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext(
                    "X did not accept the sign-in (the code is valid for 30 seconds, and the "
                    "app's id, secret and callback address must match). Start connecting again."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        update = self._credential_update(self._json(response))
        granted = tuple(str(update.credentials.get("scope") or "").split())
        missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
        if missing:
            raise AuthError(
                gettext("X granted less access than GovSocial needs (missing: %(scopes)s).")
                % {"scopes": ", ".join(missing)}
            )
        profile = self._me(str(update.credentials["access_token"]), account=None)
        username = str(profile.get("username") or "")
        return ConnectedAccount(
            remote_id=str(profile["id"]),
            handle=f"@{username}",
            display_name=str(profile.get("name") or username),
            server_url=self.api_url(),
            credentials=update.credentials,
            credentials_expire_at=update.expires_at,
            scopes=granted,
            profile_url=f"{WEB_URL}/{username}",
        )

    def _me(self, token: str, *, account: ChannelAccount | None) -> dict[str, Any]:
        response = self._send(
            "users_me",
            account=account,
            token=token,
            params={"user.fields": "public_metrics,profile_image_url"},
        )
        data = self._json(response).get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise TransientError(detail="users/me answered without a user id")
        return data

    def disconnect(self, account: ChannelAccount) -> None:
        """Revoke the refresh token (and with it the grant)."""
        stored = account.credentials or {}
        token = str(stored.get("refresh_token") or stored.get("access_token") or "")
        if not token:
            return
        try:
            client = self._client(account)
        except AuthError:
            return
        self._send(
            "revoke",
            account=account,
            data={"token": token, "token_type_hint": "refresh_token"},
            headers={"Authorization": self._basic(client)},
        )

    def check_health(self, account: ChannelAccount) -> HealthResult:
        profile = self._me_for(account)
        username = str(profile.get("username") or "")
        return HealthResult(
            remote_id=str(profile["id"]),
            handle=f"@{username}",
            display_name=str(profile.get("name") or username),
            profile_url=f"{WEB_URL}/{username}",
            scopes=tuple(account.scopes or ()),
        )

    def _me_for(self, account: ChannelAccount) -> dict[str, Any]:
        response = self._call(
            account, "users_me", params={"user.fields": "public_metrics,profile_image_url"}
        )
        data = self._json(response).get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise TransientError(detail="users/me answered without a user id")
        return data

    # --- rules --------------------------------------------------------------------------

    def text_length(self, text: str, *, account: ChannelAccount | None = None) -> int:
        return x_text_length(text)

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        problems = super().validate(request, account=account)
        if request.quote_of is not None and not plan_for(account).quotes:
            problems.append(gettext("The X app's plan does not allow quoting posts."))
        if request.poll is not None:
            if request.media or request.quote_of is not None:
                problems.append(gettext("A poll on X cannot have images or quote a post."))
            options = request.poll.options
            if not 2 <= len(options) <= 4 or any(not 1 <= len(o) <= 25 for o in options):
                problems.append(gettext("A poll has 2 to 4 choices of at most 25 characters."))
            if not 5 <= request.poll.duration_minutes <= 10080:
                problems.append(gettext("A poll runs from 5 minutes to 7 days."))
        return problems

    def reply_notes(self, account: ChannelAccount, *, kind: str) -> list[str]:
        plan = plan_for(account)
        if kind == "dm":
            if not plan.direct_messages or "dm.write" not in (account.scopes or []):
                return [gettext("This X account may not send direct messages; answer on X.")]
            return [
                gettext(
                    "X allows %(per_window)d direct messages per 15 minutes and %(per_day)d a "
                    "day from this account."
                )
                % {"per_window": ENDPOINTS["dm_send"].per_15_min, "per_day": DM_PER_DAY}
            ]
        notes = [
            gettext("X allows %(per_window)d posts and replies per 15 minutes from this account.")
            % {"per_window": ENDPOINTS["create_post"].per_15_min}
        ]
        if plan.replies_only_when_summoned:
            notes.append(
                gettext(
                    "On the X app's plan (%(plan)s), replies can go only to posts that mention "
                    "or quote this account. This one does, so the reply can go; a reply "
                    "further down a conversation that does not mention the account is refused."
                )
                % {"plan": plan.label}
            )
        return notes

    # --- posts --------------------------------------------------------------------------

    def post_url(self, account: ChannelAccount, remote_id: str) -> str:
        username = account.handle.lstrip("@") or "i"
        return f"{WEB_URL}/{username}/status/{remote_id}"

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        if request.visibility == "direct":
            return self._send_dm(account, request)
        media_ids = [
            self._upload_video(account, item, key=request.idempotency_key)
            if item.is_video
            else self._upload_media(account, item)
            for item in request.media
        ]
        body: dict[str, Any] = {}
        if request.text:
            body["text"] = request.text
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if request.reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": request.reply_to.remote_id}
        if request.quote_of is not None:
            body["quote_tweet_id"] = request.quote_of.remote_id
        if request.poll is not None:
            body["poll"] = {
                "options": list(request.poll.options),
                "duration_minutes": request.poll.duration_minutes,
            }
        started = datetime.now(tz=UTC)
        try:
            response = self._call(account, "create_post", json=body, outcome_matters=True)
        except _Duplicate as exc:
            found = self._find_published(account, request, since=started - DUPLICATE_LOOKBACK)
            if found is not None:
                return found
            raise Rejected(
                gettext(
                    "X refused this post as a duplicate of one already on the account. "
                    "Change the text and try again."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        data = self._json(response, outcome_matters=True).get("data") or {}
        if not isinstance(data, dict) or not data.get("id"):
            raise UnknownOutcome(detail="Post answer without an id")
        remote_id = str(data["id"])
        return PublishResult(
            remote_id=remote_id,
            url=self.post_url(account, remote_id),
            published_at=started,
            extra={"media_ids": ",".join(media_ids)} if media_ids else {},
        )

    def _find_published(
        self, account: ChannelAccount, request: PublishRequest, *, since: datetime
    ) -> PublishResult | None:
        """X says the text is a duplicate: is it our own recent post (an earlier attempt
        whose answer was lost)? Then that post is the result."""
        reply_to = request.reply_to.remote_id if request.reply_to else ""
        sent = " ".join(self.comparable_text(request.text, account=account).split())
        for post in self.lookup_recent(account, since=since, limit=PAGE_SIZE * 3):
            if " ".join(post.text.split()) == sent and post.reply_to_id == reply_to:
                return PublishResult(
                    remote_id=post.ref.remote_id,
                    url=post.ref.url,
                    published_at=post.created_at,
                    extra={"reconciled": "duplicate"},
                )
        return None

    def _upload_media(self, account: ChannelAccount, item: MediaItem) -> str:
        """Upload one image (in one call, or in chunks when large), wait while X processes
        it, then give it its alt text. An upload is not a post: failures are transient."""
        try:
            if len(item.content) <= SIMPLE_UPLOAD_MAX_BYTES:
                response = self._call(
                    account,
                    "media_upload",
                    files={"media": (item.filename or "image", item.content, item.mime_type)},
                    data={"media_category": "tweet_image"},
                )
                media = self._json(response).get("data") or {}
            else:
                media = self._upload_chunked(account, item)
            media_id = str(media.get("id") or "")
            if not media_id:
                raise TransientError(detail="Media answer without an id")
            self._wait_for_processing(account, media_id, media.get("processing_info"))
            if item.alt_text:
                self._call(
                    account,
                    "media_metadata",
                    json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
                )
        except UnknownOutcome as exc:
            raise TransientError(detail=exc.detail) from exc
        return media_id

    def _upload_chunked(self, account: ChannelAccount, item: MediaItem) -> dict[str, Any]:
        response = self._call(
            account,
            "media_initialize",
            json={
                "media_type": item.mime_type,
                "total_bytes": len(item.content),
                "media_category": "tweet_image",
            },
        )
        media_id = str((self._json(response).get("data") or {}).get("id") or "")
        if not media_id:
            raise TransientError(detail="Upload initialize answered without an id")
        for index, start in enumerate(range(0, len(item.content), MEDIA_CHUNK_BYTES)):
            chunk = item.content[start : start + MEDIA_CHUNK_BYTES]
            # 204 with an empty text/html body: nothing to read.
            self._call(
                account,
                "media_append",
                path_id=media_id,
                files={"media": ("chunk", chunk, "application/octet-stream")},
                data={"segment_index": str(index)},
            )
        response = self._call(account, "media_finalize", path_id=media_id)
        data = self._json(response).get("data") or {}
        return data if isinstance(data, dict) else {}

    # --- video ------------------------------------------------------------------------

    def _upload_video(self, account: ChannelAccount, item: MediaItem, *, key: str) -> str:
        """One video: uploaded in segments read from its file (initialize, append,
        finalize), waited for while X processes it, then given its captions as subtitles.

        An upload is not a post, so nothing here can publish twice; but a publish tried
        again (same idempotency key) reuses the video an earlier try uploaded while X
        keeps it, so a slow processing run does not send the file again."""
        from accounts.services import publish_checkpoint_get, publish_checkpoint_save

        keep = bool(key) and account.pk is not None
        state = dict(publish_checkpoint_get(account=account, key=key)) if keep else {}
        try:
            media_id, info = self._reusable_video(account, state)
            if not media_id:
                media_id, info = self._send_video(account, item)
                expires = datetime.now(tz=UTC) + timedelta(seconds=_int(info.pop("_expires")) or 0)
                state = {"x_video": media_id, "x_video_expires": expires.isoformat()}
                if keep:
                    publish_checkpoint_save(account=account, key=key, data=state)
            self._wait_for_video(account, media_id, info)
            if item.captions and not state.get("x_subtitles"):
                self._add_subtitles(account, media_id, item)
                if keep:
                    publish_checkpoint_save(
                        account=account, key=key, data={**state, "x_subtitles": True}
                    )
        except UnknownOutcome as exc:
            raise TransientError(detail=exc.detail) from exc
        return media_id

    def _reusable_video(
        self, account: ChannelAccount, state: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The video an earlier try uploaded, with its processing state, while X keeps it."""
        media_id = str(state.get("x_video") or "")
        expires = _parse_time(state.get("x_video_expires"))
        if not media_id or expires is None or expires <= datetime.now(tz=UTC):
            return "", {}
        try:
            response = self._call(
                account, "media_status", params={"command": "STATUS", "media_id": media_id}
            )
        except Rejected:
            return "", {}  # X no longer knows it: upload again
        data = self._json(response).get("data") or {}
        info = data.get("processing_info")
        return media_id, info if isinstance(info, dict) else {"state": "succeeded"}

    def _send_video(self, account: ChannelAccount, item: MediaItem) -> tuple[str, dict[str, Any]]:
        try:
            size = os.path.getsize(item.path)
            handle = open(item.path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise Rejected(gettext("the video file is missing"), detail=str(exc)) from exc
        with handle:
            response = self._call(
                account,
                "media_initialize",
                json={
                    "media_type": item.mime_type,
                    "total_bytes": size,
                    "media_category": "tweet_video",
                },
            )
            media_id = str((self._json(response).get("data") or {}).get("id") or "")
            if not media_id:
                raise TransientError(detail="Upload initialize answered without an id")
            index = 0
            while chunk := handle.read(VIDEO_CHUNK_BYTES):
                # 204 with an empty text/html body: nothing to read.
                self._call(
                    account,
                    "media_append",
                    path_id=media_id,
                    files={"media": ("chunk", chunk, "application/octet-stream")},
                    data={"segment_index": str(index)},
                )
                index += 1
        response = self._call(account, "media_finalize", path_id=media_id)
        data = self._json(response).get("data") or {}
        info = data.get("processing_info") if isinstance(data, dict) else None
        info = dict(info) if isinstance(info, dict) else {"state": "succeeded"}
        info["_expires"] = data.get("expires_after_secs") if isinstance(data, dict) else 0
        return media_id, info

    def _wait_for_video(self, account: ChannelAccount, media_id: str, info: Any) -> None:
        """Poll STATUS as X asks (``check_after_secs``) until ``succeeded``; ``failed`` is
        X refusing the video, and waiting too long leaves it for a later try."""
        waited = 0.0
        while True:
            info = info if isinstance(info, dict) else {}
            state = str(info.get("state") or "succeeded")
            if state == "succeeded":
                return
            if state == "failed":
                error = info.get("error") or {}
                raise Rejected(
                    gettext(
                        "X could not process the video (%(reason)s). X takes H.264 MP4 or MOV "
                        "videos with AAC sound, up to 140 seconds and 512 MB."
                    )
                    % {"reason": error.get("message") or error.get("name") or state}
                )
            delay = float(info.get("check_after_secs") or 1)
            if waited + delay > VIDEO_PROCESSING_MAX_SECONDS:
                raise TransientError(
                    gettext(
                        "X is still processing the video after %(minutes)d minutes. We will try "
                        "again later with the video already uploaded."
                    )
                    % {"minutes": VIDEO_PROCESSING_MAX_SECONDS // 60}
                )
            http.sleep(delay)
            waited += delay
            response = self._call(
                account, "media_status", params={"command": "STATUS", "media_id": media_id}
            )
            info = (self._json(response).get("data") or {}).get("processing_info")

    def _add_subtitles(self, account: ChannelAccount, media_id: str, item: MediaItem) -> None:
        """Each caption track as an SRT subtitles file (simple upload, ``media_category``
        ``subtitles``), then attached to the video (docs.x.com/x-api/media/
        create-media-subtitles)."""
        for track in item.captions:
            response = self._call(
                account,
                "media_upload",
                files={
                    "media": (
                        f"{track.language}.srt",
                        srt_from_vtt(track.vtt).encode(),
                        "text/srt",
                    )
                },
                data={"media_category": "subtitles"},
            )
            subtitles_id = str((self._json(response).get("data") or {}).get("id") or "")
            if not subtitles_id:
                raise TransientError(detail="Subtitles upload answered without an id")
            self._call(
                account,
                "media_subtitles",
                json={
                    "id": media_id,
                    "media_category": "TweetVideo",
                    "subtitles": {
                        "id": subtitles_id,
                        "language_code": track.language.split("-")[0].upper(),
                        "display_name": language_name(track.language),
                    },
                },
            )

    def _wait_for_processing(self, account: ChannelAccount, media_id: str, info: Any) -> None:
        for _attempt in range(MEDIA_POLL_LIMIT):
            state = (
                str((info or {}).get("state") or "succeeded")
                if isinstance(info, dict)
                else "succeeded"
            )
            if state == "succeeded":
                return
            if state == "failed":
                error = (info or {}).get("error") or {}
                raise Rejected(
                    gettext("X could not process an image: %(reason)s")
                    % {"reason": error.get("message") or state}
                )
            http.sleep(float((info or {}).get("check_after_secs") or 1))
            response = self._call(
                account, "media_status", params={"command": "STATUS", "media_id": media_id}
            )
            info = (self._json(response).get("data") or {}).get("processing_info")
        raise TransientError(gettext("X is still processing an image. We will try again."))

    def _send_dm(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        if request.reply_to is None:
            raise Rejected(gettext("a direct message needs the conversation it answers"))
        if not plan_for(account).direct_messages or "dm.write" not in (account.scopes or []):
            raise Rejected(gettext("this X account may not send direct messages"))
        participant = _dm_partner(request.reply_to, account.remote_id)
        if not participant:
            raise Rejected(gettext("the conversation of this message is unknown"))
        response = self._call(
            account, "dm_send", path_id=participant, json={"text": request.text},
            outcome_matters=True,
        )  # fmt: skip
        data = self._json(response, outcome_matters=True).get("data") or {}
        event_id = str(data.get("dm_event_id") or "")
        if not event_id:
            raise UnknownOutcome(detail="Message answer without an event id")
        conversation = str(data.get("dm_conversation_id") or "")
        return PublishResult(
            remote_id=f"dm:{event_id}",
            url=f"{WEB_URL}/messages/{conversation}" if conversation else "",
            published_at=datetime.now(tz=UTC),
        )

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._call(account, "delete_post", path_id=ref.remote_id, ok_statuses=(404,))

    def comparable_text(self, text: str, *, account: ChannelAccount | None = None) -> str:
        """:meth:`lookup_recent` gives links back as X expanded them: a URL typed
        without a scheme comes back with ``http://``."""
        return _with_scheme(text)

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """The account's own posts, newest first, paging until older than ``since``."""
        posts: list[RecentPost] = []
        complete = False
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "tweet.fields": "created_at,referenced_tweets,entities",
        }
        if since is not None:
            params["start_time"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        while len(posts) < limit:
            response = self._call(account, "user_posts", path_id=account.remote_id, params=params)
            body = self._json(response)
            for tweet in body.get("data") or []:
                created_at = _parse_time(tweet.get("created_at"))
                replied = next(
                    (
                        str(ref.get("id"))
                        for ref in tweet.get("referenced_tweets") or []
                        if ref.get("type") == "replied_to"
                    ),
                    "",
                )
                posts.append(
                    RecentPost(
                        ref=RemoteRef(
                            remote_id=str(tweet["id"]),
                            url=self.post_url(account, str(tweet["id"])),
                        ),
                        # As we sent it: links expanded, X's media link left out.
                        text=expanded_text(tweet, media_links=False),
                        created_at=created_at,
                        reply_to_id=replied,
                    )
                )
            next_token = (body.get("meta") or {}).get("next_token")
            oldest = posts[-1].created_at if posts else None
            if not next_token or (since is not None and oldest is not None and oldest < since):
                # Read back to the account's first post, or past ``since``: nothing missed.
                complete = len(posts) <= limit
                break
            params["pagination_token"] = next_token
        return RecentPosts(posts[:limit], complete=complete)

    # --- inbox ----------------------------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Mentions and replies (``since_id``), then direct messages where the plan and the
        sign-in allow. The cursor is ``<mentions since_id>;<newest DM event id>``; a first
        sync that finds nothing starts from its own time (``t<epoch>``)."""
        self._check_budget(account)
        mention_cursor, _, dm_cursor = (cursor or "").partition(";")
        items, newest = self._mentions(account, mention_cursor)
        next_mentions = newest or mention_cursor or f"t{int(datetime.now(tz=UTC).timestamp())}"
        next_dm = dm_cursor
        if plan_for(account).direct_messages and "dm.read" in (account.scopes or []):
            dms, newest_dm = self._direct_messages(account, dm_cursor)
            items.extend(dms)
            next_dm = newest_dm or dm_cursor or "0"
        items.sort(key=lambda item: item.created_at or datetime.min.replace(tzinfo=UTC))
        return InboxPage(items=items, next_cursor=f"{next_mentions};{next_dm}", has_more=False)

    def _mentions(self, account: ChannelAccount, cursor: str) -> tuple[list[InboxItem], str]:
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "tweet.fields": TWEET_FIELDS,
            "expansions": "author_id",
            "user.fields": "username,name",
        }
        if cursor.isdigit():
            params["since_id"] = cursor
        elif cursor.startswith("t") and cursor[1:].isdigit():
            moment = datetime.fromtimestamp(int(cursor[1:]), tz=UTC)
            params["start_time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        items: list[InboxItem] = []
        newest = ""
        for _page in range(MAX_INBOX_PAGES):
            response = self._call(account, "mentions", path_id=account.remote_id, params=params)
            body = self._json(response)
            meta = body.get("meta") or {}
            newest = newest or str(meta.get("newest_id") or "")
            users = {str(u.get("id")): u for u in (body.get("includes") or {}).get("users") or []}
            items.extend(self._mention_item(account, t, users) for t in body.get("data") or [])
            if not meta.get("next_token"):
                break
            params["pagination_token"] = meta["next_token"]
        return items, newest

    def _mention_item(
        self, account: ChannelAccount, tweet: Mapping[str, Any], users: Mapping[str, Any]
    ) -> InboxItem:
        author = users.get(str(tweet.get("author_id") or "")) or {}
        username = str(author.get("username") or "")
        refs = {str(r.get("type")): str(r.get("id")) for r in tweet.get("referenced_tweets") or []}
        kind: InboxKind = "mention"
        if str(tweet.get("in_reply_to_user_id") or "") == account.remote_id:
            kind = "reply"
        elif "quoted" in refs:
            kind = "quote"
        parent = refs.get("replied_to") or refs.get("quoted")
        conversation = str(tweet.get("conversation_id") or "")
        remote_id = str(tweet["id"])
        return InboxItem(
            remote_id=remote_id,
            kind=kind,
            author_handle=f"@{username}" if username else "",
            author_name=str(author.get("name") or username),
            author_id=str(tweet.get("author_id") or ""),
            text=expanded_text(tweet),
            created_at=_parse_time(tweet.get("created_at")),
            url=f"{WEB_URL}/{username or 'i'}/status/{remote_id}",
            in_reply_to=RemoteRef(remote_id=parent) if parent else None,
            thread_root=RemoteRef(remote_id=conversation) if conversation else None,
            raw={"conversation_id": conversation, "referenced_tweets": refs},
        )

    def _direct_messages(self, account: ChannelAccount, cursor: str) -> tuple[list[InboxItem], str]:
        """DM events newer than the cursor (X has no ``since_id`` here: page newest first
        until the cursor's event)."""
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "event_types": "MessageCreate",
            "dm_event.fields": "created_at,sender_id,dm_conversation_id",
            "expansions": "sender_id",
            "user.fields": "username,name",
        }
        after = int(cursor) if cursor.isdigit() else None
        items: list[InboxItem] = []
        newest = ""
        for _page in range(MAX_INBOX_PAGES):
            response = self._call(account, "dm_events", params=params)
            body = self._json(response)
            users = {str(u.get("id")): u for u in (body.get("includes") or {}).get("users") or []}
            reached = False
            for event in body.get("data") or []:
                event_id = str(event.get("id") or "")
                if not event_id.isdigit():
                    continue
                newest = newest or event_id
                if after is not None and int(event_id) <= after:
                    reached = True
                    break
                sender = str(event.get("sender_id") or "")
                if sender == account.remote_id:
                    continue  # our own message
                author = users.get(sender) or {}
                username = str(author.get("username") or "")
                conversation = str(event.get("dm_conversation_id") or "")
                items.append(
                    InboxItem(
                        remote_id=f"dm:{event_id}",
                        kind="dm",
                        author_handle=f"@{username}" if username else "",
                        author_name=str(author.get("name") or username),
                        author_id=sender,
                        text=str(event.get("text") or ""),
                        created_at=_parse_time(event.get("created_at")),
                        url=f"{WEB_URL}/messages/{conversation}" if conversation else "",
                        thread_root=RemoteRef(remote_id=f"dm:{conversation}")
                        if conversation
                        else None,
                        raw={"dm_conversation_id": conversation},
                    )
                )
            next_token = (body.get("meta") or {}).get("next_token")
            if reached or not next_token or after is None:
                # A first sync reads one page: older messages are history, not new work.
                break
            params["pagination_token"] = next_token
        return items, newest

    # --- metrics --------------------------------------------------------------------------

    def _check_budget(self, account: ChannelAccount) -> None:
        from accounts.usage import pull_budget_spent

        usage = pull_budget_spent(account)
        if usage is not None:
            raise RateLimited(
                max(0.0, (usage.resets_at - datetime.now(tz=UTC)).total_seconds()),
                gettext(
                    "This account's monthly budget of %(budget)d X API calls is spent, so "
                    "GovSocial stopped reading from X until %(until)s. Publishing goes on."
                )
                % {"budget": usage.budget or 0, "until": _when(usage.resets_at)},
            )

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        """Public metrics per post; impressions from the non-public metrics for our own
        posts of the last 30 days (X refuses them per post otherwise: then public only)."""
        self._check_budget(account)
        ids = [ref.remote_id for ref in refs if ref.remote_id.isdigit()]
        # A post's id tells its age (a Snowflake): older posts are asked for their public
        # numbers only, so no paid call is spent on a refusal.
        cutoff = datetime.now(tz=UTC) - NON_PUBLIC_WINDOW + timedelta(hours=1)
        young = [i for i in ids if (snowflake_time(i) or cutoff) > cutoff]
        old = [i for i in ids if i not in set(young)]
        results: dict[str, PostMetrics] = {}
        gone: set[str] = set()
        for start in range(0, len(young), 100):
            batch = young[start : start + 100]
            found, missing = self._lookup(account, batch, "public_metrics,non_public_metrics")
            results.update(found)
            gone |= missing
            old.extend(i for i in batch if i not in found and i not in missing)
        for start in range(0, len(old), 100):
            found, missing = self._lookup(account, old[start : start + 100], "public_metrics")
            results.update(found)
            gone |= missing
        for remote_id in gone:
            results.setdefault(remote_id, PostMetrics(remote_id=remote_id, deleted=True))
        return [results[i] for i in ids if i in results]

    def _lookup(
        self, account: ChannelAccount, ids: list[str], fields: str
    ) -> tuple[dict[str, PostMetrics], set[str]]:
        """Metrics of found posts, and the ids X says do not exist (partial errors)."""
        response = self._call(
            account, "lookup_posts", params={"ids": ",".join(ids), "tweet.fields": fields}
        )
        body = self._json(response)
        found: dict[str, PostMetrics] = {}
        for tweet in body.get("data") or []:
            public = tweet.get("public_metrics") or {}
            private = tweet.get("non_public_metrics") or {}
            impressions = private.get("impression_count", public.get("impression_count"))
            found[str(tweet["id"])] = PostMetrics(
                remote_id=str(tweet["id"]),
                likes=_int(public.get("like_count")),
                shares=_int(public.get("repost_count", public.get("retweet_count"))),
                replies=_int(public.get("reply_count")),
                quotes=_int(public.get("quote_count")),
                impressions=_int(impressions),
            )
        gone = {
            str(error.get("resource_id") or error.get("value"))
            for error in body.get("errors") or []
            if str(error.get("type") or "").endswith("/resource-not-found")
        }
        return found, gone

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        self._check_budget(account)
        metrics = self._me_for(account).get("public_metrics") or {}
        return AccountMetrics(
            followers=_int(metrics.get("followers_count")),
            following=_int(metrics.get("following_count")),
            posts=_int(metrics.get("tweet_count")),
        )


class _Duplicate(Rejected):
    """X refused a post as duplicate content (reconciled before anyone is told)."""


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) else None


def _next_month() -> datetime:
    from accounts.usage import next_month_start

    return next_month_start()


def _dm_partner(ref: RemoteRef, own_id: str) -> str:
    """The other participant of the DM conversation ``ref`` belongs to (``low-high`` ids
    in its web address)."""
    conversation = ref.url.rsplit("/", 1)[-1] if ref.url else ""
    for participant in conversation.split("-"):
        if participant.isdigit() and participant != own_id:
            return participant
    return ""
