"""TikTok accounts, through Login Kit for Web and the Content Posting API (Direct Post).

Each organization enters its own TikTok app (``NetworkApp`` network "tiktok": the
client key and client secret). People connect with OAuth v2 (authorization code and
a state; TikTok asks for PKCE only from mobile and desktop apps, not from web apps).
Access tokens last 24 hours and are renewed with the refresh token (365 days).

Before every post the creator info is read: the privacy levels the creator may
choose, whether comments, duets and stitches can be turned on, and the longest video
they may post. A choice outside those is refused here, in words, before anything is
sent. Until TikTok has audited the organization's app, TikTok only allows private
(``SELF_ONLY``) posts: the app's option ``audited`` (set by an admin) and TikTok's
``unaudited_client_can_only_post_to_private_accounts`` error both say so.

A video is posted in three steps: ``video/init`` (FILE_UPLOAD: size, chunk size and
count) answers with a ``publish_id`` and an upload address, recorded at once as the
publish's checkpoint; the file is sent in chunks read one at a time from disk
(``PUT`` with ``Content-Range``); ``status/fetch`` is polled until
``PUBLISH_COMPLETE`` or ``FAILED``. An unknown outcome is reconciled by asking
``status/fetch`` about each recorded ``publish_id`` (and ``video/list`` for public
videos), so a post is never sent twice.

Facts: developers.tiktok.com pages named beside each entry of ``API``.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
from accounts.models import ChannelAccount

logger = logging.getLogger(__name__)

NETWORK = "tiktok"

# --- the one table: endpoints, scopes and limits ---------------------------------------

API: dict[str, str] = {
    # doc/login-kit-web: the authorization page (www.tiktok.com)
    "authorize": "/v2/auth/authorize/",
    # doc/oauth-user-access-token-management: code and refresh grants, revoke
    "token": "/v2/oauth/token/",
    "revoke": "/v2/oauth/revoke/",
    # doc/tiktok-api-v2-get-user-info
    "user_info": "/v2/user/info/",
    # doc/content-posting-api-reference-query-creator-info
    "creator_info": "/v2/post/publish/creator_info/query/",
    # doc/content-posting-api-reference-direct-post
    "video_init": "/v2/post/publish/video/init/",
    # doc/content-posting-api-reference-get-video-status
    "status": "/v2/post/publish/status/fetch/",
    # doc/tiktok-api-v2-video-list, doc/tiktok-api-v2-video-query
    "video_list": "/v2/video/list/",
    "video_query": "/v2/video/query/",
}
# doc/scopes-overview: the profile, posting directly, uploading, reading the videos.
SCOPES = ("user.info.basic", "user.info.stats", "video.publish", "video.upload", "video.list")
# video.list too: an unknown outcome is reconciled by reading the account's videos.
REQUIRED_SCOPES = ("user.info.basic", "video.publish", "video.list")
# doc/content-posting-api-reference-query-creator-info: privacy_level_options values.
PRIVACY_LEVELS = (
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
)
PRIVATE = "SELF_ONLY"
PRIVACY_LABELS = {
    "PUBLIC_TO_EVERYONE": _("Everyone"),
    "MUTUAL_FOLLOW_FRIENDS": _("Friends (followers the creator follows back)"),
    "FOLLOWER_OF_CREATOR": _("Followers"),
    "SELF_ONLY": _("Only the creator (private)"),
}
# doc/content-posting-api-media-transfer-guide: chunks of 5 to 64 MB (the last one up
# to 128 MB); files under 5 MB in one piece; 1 to 1,000 chunks.
MIN_CHUNK = 5 * 1024 * 1024
MAX_CHUNK = 64 * 1024 * 1024
MAX_LAST_CHUNK = 128 * 1024 * 1024
MAX_CHUNKS = 1000
CHUNK_BYTES = 10 * 1024 * 1024
# doc/content-posting-api-reference-direct-post: the title (caption) is at most 2,200
# UTF-16 code units.
TITLE_MAX = 2200
VIDEO_MIME_TYPES = ("video/mp4", "video/quicktime", "video/webm")
# Access tokens live 24 hours (token management guide); renewed in their last two hours.
ACCESS_TOKEN_SECONDS = 86400
REFRESH_MARGIN = timedelta(minutes=5)
STATUS_POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 15.0, 30.0)
# doc/tiktok-api-v2-video-list: at most 20 videos a page.
LIST_PAGE = 20
LIST_MAX_PAGES = 10
VIDEO_FIELDS = "id,create_time,title,video_description,share_url"
STATS_FIELDS = "id,like_count,comment_count,share_count,view_count"
MUSIC_CONSENT = _("By posting, you agree to TikTok's Music Usage Confirmation.")


def api_url() -> str:
    return str(getattr(settings, "TIKTOK_API_URL", "https://open.tiktokapis.com")).rstrip("/")


def auth_url() -> str:
    return str(getattr(settings, "TIKTOK_AUTH_URL", "https://www.tiktok.com")).rstrip("/")


def app_audited(
    account: ChannelAccount | None = None, *, options: Mapping[str, Any] | None = None
) -> bool:
    """Whether the organization's TikTok app has passed TikTok's audit (an admin says so
    on the app's page); until then TikTok takes private posts only."""
    if options is None and account is not None:
        from accounts.selectors import network_app_get

        app = network_app_get(organization=account.organization, network=NETWORK)
        options = app.options if app is not None else {}
    return bool((options or {}).get("audited"))


@dataclass(frozen=True)
class ChunkPlan:
    """How a file of ``size`` bytes is sent (the media transfer guide's rules)."""

    size: int
    chunk_size: int
    count: int

    def ranges(self) -> list[tuple[int, int]]:
        """(first byte, last byte) of each chunk; the last takes the trailing bytes."""
        out = []
        for index in range(self.count):
            first = index * self.chunk_size
            last = self.size - 1 if index == self.count - 1 else first + self.chunk_size - 1
            out.append((first, last))
        return out


def chunk_plan(size: int, preferred: int | None = None) -> ChunkPlan:
    if size <= 0:
        raise Rejected(gettext("The video file is empty."))
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, preferred or CHUNK_BYTES))
    if size < MIN_CHUNK or size <= chunk:
        if size > MAX_CHUNK:  # pragma: no cover - chunk is at most 64 MB
            raise Rejected(gettext("The video is too large."))
        return ChunkPlan(size=size, chunk_size=size, count=1)
    while size // chunk > MAX_CHUNKS and chunk < MAX_CHUNK:
        chunk = min(MAX_CHUNK, chunk * 2)
    count = size // chunk
    if count > MAX_CHUNKS or size - (count - 1) * chunk > MAX_LAST_CHUNK:
        raise Rejected(gettext("The video is too large for TikTok (at most 64 GB)."))
    return ChunkPlan(size=size, chunk_size=chunk, count=count)


@dataclass(frozen=True)
class CreatorInfo:
    """What TikTok says the creator may choose for the next post."""

    nickname: str
    username: str
    privacy_levels: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_duration_sec: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "nickname": self.nickname,
            "username": self.username,
            "privacy_levels": list(self.privacy_levels),
            "comment_disabled": self.comment_disabled,
            "duet_disabled": self.duet_disabled,
            "stitch_disabled": self.stitch_disabled,
            "max_duration_sec": self.max_duration_sec,
        }


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _option_on(options: Mapping[str, Any], key: str) -> bool:
    return _bool(options.get(key))


def creator_problems(info: CreatorInfo, request: PublishRequest, *, audited: bool) -> list[str]:
    """Every reason the creator info refuses this post, in words."""
    options = request.options or {}
    problems: list[str] = []
    level = str(options.get("privacy_level") or "")
    allowed = (
        info.privacy_levels if audited else tuple(p for p in info.privacy_levels if p == PRIVATE)
    )
    if not level:
        problems.append(gettext("Choose who can see the video on TikTok."))
    elif level not in allowed:
        if not audited and level != PRIVATE:
            problems.append(
                gettext(
                    "TikTok has not yet audited the organization's TikTok app, so it only "
                    "allows private posts (only the creator can see them)."
                )
            )
        else:
            problems.append(
                gettext("TikTok does not let this account post with the privacy level %(level)s.")
                % {"level": str(PRIVACY_LABELS.get(level, level))}
            )
    # A toggle left off means "allow": TikTok refuses allowing what the creator turned off.
    for key, disabled, what in (
        ("disable_comment", info.comment_disabled, gettext("comments")),
        ("disable_duet", info.duet_disabled, gettext("duets")),
        ("disable_stitch", info.stitch_disabled, gettext("stitches")),
    ):
        if disabled and not _option_on(options, key):
            problems.append(
                gettext(
                    "The creator has turned off %(what)s in TikTok's settings, so they cannot "
                    "be allowed on this post."
                )
                % {"what": what}
            )
    for item in request.media:
        if (
            item.is_video
            and info.max_duration_sec
            and item.duration_ms > info.max_duration_sec * 1000
        ):
            problems.append(
                gettext(
                    "The video is %(length)d seconds long; this account may post videos of at "
                    "most %(limit)d seconds."
                )
                % {"length": (item.duration_ms + 999) // 1000, "limit": info.max_duration_sec}
            )
    if _option_on(options, "brand_content_toggle") and level == PRIVATE:
        problems.append(gettext("Branded content cannot be private on TikTok."))
    return problems


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TikTokConnector(Connector):
    network = NETWORK
    label = _("TikTok")
    connect_method = "oauth"
    capabilities = Capabilities(
        videos=True,
        publish=True,
        images=True,
        alt_text=False,
        replies=False,
        threads=False,
        direct_messages=False,
        delete=False,
        inbox=False,
        metrics=True,
        impressions=True,
        content_warning=False,
        visibility=False,
        language=False,
        lookup_recent=True,
        refresh_credentials=True,
        idempotency_window_seconds=0,
    )
    refresh_ahead = timedelta(hours=2)
    reconnect_help = _(
        "TikTok renews a sign-in for a year. To renew it after that, open the account in "
        "GovSocial, choose Reconnect and sign in at TikTok as the same account."
    )
    limits = Limits(
        max_text=TITLE_MAX,
        text_counting="chars",
        max_media=1,
        max_image_bytes=0,
        image_mime_types=VIDEO_MIME_TYPES,
        max_videos=1,
        video_mime_types=VIDEO_MIME_TYPES,
        # doc/content-posting-api-media-transfer-guide: "Maximum video size: 4GB".
        max_video_bytes=4 * 1024**3,
        video_alone=True,
    )

    # --- plumbing -------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        account: ChannelAccount | None,
        token: str = "",
        outcome_matters: bool = False,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        endpoint: str = "",
    ) -> http.HttpResponse:
        request_headers = {**(headers or {})}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        if json is not None:
            request_headers["Content-Type"] = "application/json; charset=UTF-8"
        if endpoint:
            from accounts.usage import api_call_record

            api_call_record(account=account, network=NETWORK, endpoint=f"{method} {endpoint}")
        try:
            response = http.http_request(
                method,
                url,
                headers=request_headers,
                params=params,
                json=json,
                data=data,
                timeout=self.timeout,
                idempotent=False if method != "GET" else None,
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("the TikTok address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok:
            body = self._body(response)
            error = body.get("error")
            if isinstance(error, dict) and str(error.get("code") or "ok") != "ok":
                raise self._classify(response, outcome_matters=outcome_matters)
            return response
        raise self._classify(response, outcome_matters=outcome_matters)

    @staticmethod
    def _body(response: http.HttpResponse) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _classify(self, response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
        """TikTok's ``{"error": {"code", "message", "log_id"}}`` (doc/tiktok-api-v2-error-
        handling) as one of the five kinds."""
        status = response.status
        body = self._body(response)
        error = body.get("error")
        if isinstance(error, dict):
            code = str(error.get("code") or "")
            message = str(error.get("message") or "")
            log_id = str(error.get("log_id") or "")
        else:  # the OAuth endpoints: {"error": "...", "error_description": "..."}
            code = str(error or "")
            message = str(body.get("error_description") or "")
            log_id = str(body.get("log_id") or "")
        detail = " ".join(f"{status} {code} {message} {log_id}".split())
        if code == "rate_limit_exceeded" or status == 429:
            return RateLimited(
                response.retry_after or 60.0,
                gettext("TikTok asks us to slow down. We will try again in a minute."),
                status_code=status,
                detail=detail,
            )
        if code == "spam_risk_too_many_posts":
            return Rejected(
                gettext("TikTok says this account has posted too many times today. Try tomorrow"),
                status_code=status,
                detail=detail,
            )
        if code == "spam_risk_user_banned_from_posting":
            return Rejected(
                gettext("TikTok has banned this account from posting"),
                status_code=status,
                detail=detail,
            )
        if code.startswith("spam_risk"):
            return Rejected(
                gettext("TikTok refused the post as a spam risk"), status_code=status, detail=detail
            )
        if code == "reached_active_user_cap":
            return RateLimited(
                86400.0,
                gettext(
                    "The organization's TikTok app has reached TikTok's daily cap of people "
                    "posting through it. Try again tomorrow."
                ),
                status_code=status,
                detail=detail,
            )
        if code == "unaudited_client_can_only_post_to_private_accounts":
            return Rejected(
                gettext(
                    "TikTok has not yet audited the organization's TikTok app, so it only "
                    "allows private posts (only the creator can see them)"
                ),
                status_code=status,
                detail=detail,
            )
        if code in ("access_token_invalid", "invalid_grant") or status == 401:
            return AuthError(status_code=401, detail=detail)
        if code == "scope_not_authorized":
            return AuthError(
                gettext(
                    "The TikTok sign-in lacks a permission GovSocial needs. Reconnect the "
                    "account and allow everything GovSocial asks for."
                ),
                status_code=status,
                detail=detail,
            )
        if outcome_matters and status in (500, 502, 504):
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        return Rejected(message or gettext("TikTok refused it"), status_code=status, detail=detail)

    # --- tokens ---------------------------------------------------------------------

    def _client(self, account: ChannelAccount) -> OAuthClient:
        from accounts.selectors import network_app_get

        app = network_app_get(organization=account.organization, network=NETWORK)
        if app is None:
            raise AuthError(
                gettext(
                    "The organization's TikTok app is not set up (or was removed), so GovSocial "
                    "cannot renew this account's sign-in. An admin enters it under Network apps."
                )
            )
        return app.as_client(server_url=api_url(), redirect_uri="", scopes=SCOPES)

    def _token(self, account: ChannelAccount) -> str:
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
        from accounts.services import channel_account_refresh_credentials

        channel_account_refresh_credentials(account=account, stale_credentials=stale)

    def _call(
        self, account: ChannelAccount, method: str, endpoint: str, **kwargs: Any
    ) -> dict[str, Any]:
        """An authenticated call to the API; an invalid token is renewed once and the call
        sent again (it was refused, so nothing happened). Returns the ``data`` object."""
        stored = dict(account.credentials or {})
        url = api_url() + API[endpoint]
        try:
            response = self._send(
                method,
                url,
                account=account,
                token=self._token(account),
                endpoint=endpoint,
                **kwargs,
            )
        except AuthError as exc:
            if exc.status_code != 401:
                raise
            logger.info("TikTok access token of account %s refused; renewing", account.pk)
            self._renew(account, stored)
            response = self._send(
                method,
                url,
                account=account,
                token=self._token(account),
                endpoint=endpoint,
                **kwargs,
            )
        data = self._body(response).get("data")
        return data if isinstance(data, dict) else {}

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        stored = dict(account.credentials or {})
        refresh = str(stored.get("refresh_token") or "")
        if not refresh:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        client = self._client(account)
        try:
            response = self._send(
                "POST",
                api_url() + API["token"],
                account=account,
                endpoint="token",
                data={
                    "client_key": client.client_id,
                    "client_secret": client.client_secret,
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext(
                    "TikTok no longer renews this account's sign-in (it was revoked, or a year "
                    "has passed). Reconnect the account."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        return self._credential_update(self._body(response), stored)

    def _credential_update(
        self, body: Mapping[str, Any], stored: Mapping[str, Any] | None = None
    ) -> CredentialUpdate:
        access = str(body.get("access_token") or "")
        if not access:
            raise TransientError(detail="Token answer without an access token")
        seconds = body.get("expires_in")
        lifetime = (
            int(seconds) if isinstance(seconds, int) and seconds > 0 else ACCESS_TOKEN_SECONDS
        )
        credentials = {
            **dict(stored or {}),
            "access_token": access,
            "refresh_token": str(
                body.get("refresh_token") or (stored or {}).get("refresh_token") or ""
            ),
            "open_id": str(body.get("open_id") or (stored or {}).get("open_id") or ""),
            "scope": str(body.get("scope") or (stored or {}).get("scope") or ""),
        }
        return CredentialUpdate(
            credentials=credentials, expires_at=datetime.now(tz=UTC) + timedelta(seconds=lifetime)
        )

    # --- connect ----------------------------------------------------------------------

    def oauth_start(self, *, client: OAuthClient) -> OAuthStart:
        state = secrets.token_urlsafe(32)
        query = urlencode(
            {
                "client_key": client.client_id,
                "scope": ",".join(client.scopes),
                "response_type": "code",
                "redirect_uri": client.redirect_uri,
                "state": state,
            }
        )
        return OAuthStart(
            authorization_url=f"{auth_url()}{API['authorize']}?{query}",
            state=state,
            code_verifier="",
        )

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
                    "The answer from TikTok's sign-in page does not match the request we sent. "
                    "Start connecting again."
                )
            )
        try:
            response = self._send(
                "POST",
                api_url() + API["token"],
                account=None,
                endpoint="token",
                data={
                    "client_key": client.client_id,
                    "client_secret": client.client_secret,
                    "code": code,
                    "grant_type": "authorization_code",
                    "redirect_uri": client.redirect_uri,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext(
                    "TikTok did not accept the sign-in (the app's client key, secret and "
                    "redirect address must match). Start connecting again."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        update = self._credential_update(self._body(response))
        granted = tuple(s for s in str(update.credentials.get("scope") or "").split(",") if s)
        missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
        if missing:
            raise AuthError(
                gettext("TikTok granted less access than GovSocial needs (missing: %(scopes)s).")
                % {"scopes": ", ".join(missing)}
            )
        user = self._user_info(str(update.credentials["access_token"]), account=None)
        open_id = str(user.get("open_id") or update.credentials.get("open_id") or "")
        name = str(user.get("display_name") or open_id)
        return ConnectedAccount(
            remote_id=open_id,
            handle=name,
            display_name=name,
            server_url=api_url(),
            credentials=update.credentials,
            credentials_expire_at=update.expires_at,
            scopes=granted,
            profile_url="",
        )

    def _user_info(self, token: str, *, account: ChannelAccount | None) -> dict[str, Any]:
        response = self._send(
            "GET",
            api_url() + API["user_info"],
            account=account,
            token=token,
            endpoint="user_info",
            params={"fields": "open_id,union_id,avatar_url,display_name"},
        )
        user = (self._body(response).get("data") or {}).get("user")
        if not isinstance(user, dict) or not user.get("open_id"):
            raise TransientError(detail="user/info answered without an open_id")
        return user

    def disconnect(self, account: ChannelAccount) -> None:
        token = str((account.credentials or {}).get("access_token") or "")
        if not token:
            return
        try:
            client = self._client(account)
        except AuthError:
            return
        self._send(
            "POST",
            api_url() + API["revoke"],
            account=account,
            endpoint="revoke",
            data={
                "client_key": client.client_id,
                "client_secret": client.client_secret,
                "token": token,
            },
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def check_health(self, account: ChannelAccount) -> HealthResult:
        data = self._call(
            account,
            "GET",
            "user_info",
            params={"fields": "open_id,union_id,avatar_url,display_name"},
        )
        user = data.get("user") or {}
        name = str(user.get("display_name") or account.handle)
        return HealthResult(
            remote_id=str(user.get("open_id") or account.remote_id),
            handle=name,
            display_name=name,
            scopes=tuple(account.scopes or ()),
        )

    # --- creator info and checks ------------------------------------------------------

    def creator_info(self, account: ChannelAccount) -> CreatorInfo:
        data = self._call(account, "POST", "creator_info", json={})
        levels = tuple(
            str(p) for p in data.get("privacy_level_options") or () if p in PRIVACY_LEVELS
        )
        return CreatorInfo(
            nickname=str(data.get("creator_nickname") or ""),
            username=str(data.get("creator_username") or ""),
            privacy_levels=levels,
            comment_disabled=_bool(data.get("comment_disabled")),
            duet_disabled=_bool(data.get("duet_disabled")),
            stitch_disabled=_bool(data.get("stitch_disabled")),
            max_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
        )

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        problems: list[str] = []
        videos = [m for m in request.media if m.is_video]
        if len(videos) != 1 or len(request.media) != 1:
            problems.append(gettext("A TikTok post is one video."))
        if _utf16_len(request.text) > TITLE_MAX:
            problems.append(
                gettext("The text is %(length)d characters long; the limit is %(limit)d.")
                % {"length": _utf16_len(request.text), "limit": TITLE_MAX}
            )
        limits = self.limits_for(account)
        for number, item in enumerate(videos, start=1):
            problems.extend(self._video_problems(number, item, limits))
        level = str((request.options or {}).get("privacy_level") or "")
        if not level:
            problems.append(gettext("Choose who can see the video on TikTok."))
        elif level not in PRIVACY_LEVELS:
            problems.append(gettext("TikTok does not know that privacy level."))
        return problems

    # --- publishing -------------------------------------------------------------------

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        from accounts.services import publish_checkpoint_get, publish_checkpoint_save

        key = request.idempotency_key
        checkpoint = publish_checkpoint_get(account=account, key=key) if key else {}
        publish_id = str(checkpoint.get("publish_id") or "")
        if publish_id:
            status = self._status(account, publish_id)
            state = str(status.get("status") or "")
            if state == "PUBLISH_COMPLETE":
                return self._result(publish_id, status)
            if state in ("PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX") or (
                state == "PROCESSING_UPLOAD" and checkpoint.get("uploaded")
            ):
                return self._wait(account, publish_id)
            # FAILED, or an upload that never finished: that publish makes no post.
        videos = [m for m in request.media if m.is_video and m.path]
        if len(videos) != 1:
            raise Rejected(gettext("A TikTok post is one video."))
        video = videos[0]
        info = self.creator_info(account)
        problems = creator_problems(info, request, audited=app_audited(account))
        if problems:
            raise Rejected(" ".join(problems))
        plan = chunk_plan(video.size_bytes)
        options = request.options or {}
        post_info: dict[str, Any] = {
            "title": request.text,
            "privacy_level": str(options["privacy_level"]),
            "disable_comment": _option_on(options, "disable_comment"),
            "disable_duet": _option_on(options, "disable_duet"),
            "disable_stitch": _option_on(options, "disable_stitch"),
            "brand_content_toggle": _option_on(options, "brand_content_toggle"),
            "brand_organic_toggle": _option_on(options, "brand_organic_toggle"),
        }
        if options.get("video_cover_timestamp_ms") not in (None, ""):
            post_info["video_cover_timestamp_ms"] = int(options["video_cover_timestamp_ms"])
        data = self._call(
            account,
            "POST",
            "video_init",
            outcome_matters=True,
            json={
                "post_info": post_info,
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": plan.size,
                    "chunk_size": plan.chunk_size,
                    "total_chunk_count": plan.count,
                },
            },
        )
        publish_id = str(data.get("publish_id") or "")
        upload_url = str(data.get("upload_url") or "")
        if not publish_id or not upload_url:
            raise UnknownOutcome(detail="video/init answered without publish_id or upload_url")
        record = {
            "publish_id": publish_id,
            "created_at": timezone.now().isoformat(),
            "text": request.text,
        }
        if key:
            publish_checkpoint_save(account=account, key=key, data=record)
        self._upload(account, upload_url, video, plan)
        if key:
            publish_checkpoint_save(account=account, key=key, data={**record, "uploaded": True})
        return self._wait(account, publish_id)

    def _upload(
        self, account: ChannelAccount, upload_url: str, video: MediaItem, plan: ChunkPlan
    ) -> None:
        """Send the file chunk by chunk, each read from disk only when it is sent."""
        with open(video.path, "rb") as handle:
            for first, last in plan.ranges():
                handle.seek(first)
                body = handle.read(last - first + 1)
                if len(body) != last - first + 1:
                    raise Rejected(gettext("The video file is shorter than recorded."))
                self._send(
                    "PUT",
                    upload_url,
                    account=account,
                    outcome_matters=True,
                    data=body,
                    headers={
                        "Content-Type": video.mime_type or "video/mp4",
                        "Content-Length": str(len(body)),
                        "Content-Range": f"bytes {first}-{last}/{plan.size}",
                    },
                )
                del body

    def _status(self, account: ChannelAccount, publish_id: str) -> dict[str, Any]:
        return self._call(account, "POST", "status", json={"publish_id": publish_id})

    def _wait(self, account: ChannelAccount, publish_id: str) -> PublishResult:
        for delay in (0.0, *STATUS_POLL_DELAYS):
            if delay:
                http.sleep(delay)
            status = self._status(account, publish_id)
            state = str(status.get("status") or "")
            if state == "PUBLISH_COMPLETE":
                return self._result(publish_id, status)
            if state == "FAILED":
                reason = str(status.get("fail_reason") or "")
                raise Rejected(
                    gettext("TikTok could not post the video (%(reason)s)")
                    % {"reason": reason or gettext("no reason given")},
                    detail=reason,
                )
        raise UnknownOutcome(
            gettext(
                "TikTok is still processing the video. We will check again; it will not be "
                "sent twice."
            )
        )

    @staticmethod
    def _result(publish_id: str, status: Mapping[str, Any]) -> PublishResult:
        ids = status.get("publicaly_available_post_id") or []
        post_id = str(ids[0]) if ids else ""
        return PublishResult(
            # A private post has no public id: the publish id names it.
            remote_id=post_id or publish_id,
            url="",
            published_at=timezone.now(),
            extra={"publish_id": publish_id, "public": bool(post_id)},
        )

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """Posts made through GovSocial since ``since`` (every publish records its
        ``publish_id`` before any byte is sent, and ``status/fetch`` says what became
        of it), then the account's public videos from ``video/list``."""
        from accounts.models import PublishCheckpoint

        found: list[RecentPost] = []
        complete = True
        checkpoints = PublishCheckpoint.objects.filter(channel_account=account)
        if since is not None:
            checkpoints = checkpoints.filter(created_at__gte=since - timedelta(minutes=5))
        for checkpoint in checkpoints.order_by("-created_at")[:limit]:
            publish_id = str((checkpoint.data or {}).get("publish_id") or "")
            if not publish_id:
                continue
            state = str(self._status(account, publish_id).get("status") or "")
            if state == "FAILED" or (
                state == "PROCESSING_UPLOAD" and not checkpoint.data.get("uploaded")
            ):
                continue
            found.append(
                RecentPost(
                    ref=RemoteRef(
                        remote_id=publish_id,
                        extra={"idempotency_key": checkpoint.key, "publish_id": publish_id},
                    ),
                    text=str(checkpoint.data.get("text") or ""),
                    created_at=checkpoint.created_at,
                )
            )
        cursor: int | None = None
        for _page in range(LIST_MAX_PAGES):
            body: dict[str, Any] = {"max_count": LIST_PAGE}
            if cursor is not None:
                body["cursor"] = cursor
            data = self._call(
                account, "POST", "video_list", params={"fields": VIDEO_FIELDS}, json=body
            )
            older = False
            for video in data.get("videos") or []:
                created = (
                    datetime.fromtimestamp(int(video["create_time"]), tz=UTC)
                    if video.get("create_time")
                    else None
                )
                if since is not None and created is not None and created < since:
                    older = True
                    break
                found.append(
                    RecentPost(
                        ref=RemoteRef(
                            remote_id=str(video.get("id") or ""),
                            url=str(video.get("share_url") or ""),
                        ),
                        text=str(video.get("title") or video.get("video_description") or ""),
                        created_at=created,
                    )
                )
            if older or not data.get("has_more"):
                break
            cursor = int(data.get("cursor") or 0)
        else:
            complete = False
        return RecentPosts(found, complete=complete)

    # --- statistics -------------------------------------------------------------------

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        """Followers, following and videos (``user/info`` with the ``user.info.stats``
        scope; without it TikTok tells none of them)."""
        if "user.info.stats" not in (account.scopes or ()):
            return AccountMetrics()
        data = self._call(
            account,
            "GET",
            "user_info",
            params={"fields": "open_id,follower_count,following_count,video_count"},
        )
        user = data.get("user") or {}

        def number(key: str) -> int | None:
            value = user.get(key)
            return int(value) if isinstance(value, int) else None

        return AccountMetrics(
            followers=number("follower_count"),
            following=number("following_count"),
            posts=number("video_count"),
        )

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        """Views, likes, comments and shares of public videos (``video/query``, 20 at a
        time); a private post has no statistics."""
        ids = [r.remote_id for r in refs if r.remote_id.isdigit()]
        out: list[PostMetrics] = []
        for start in range(0, len(ids), 20):
            batch = ids[start : start + 20]
            data = self._call(
                account,
                "POST",
                "video_query",
                params={"fields": STATS_FIELDS},
                json={"filters": {"video_ids": batch}},
            )
            seen = set()
            for video in data.get("videos") or []:
                vid = str(video.get("id") or "")
                seen.add(vid)
                out.append(
                    PostMetrics(
                        remote_id=vid,
                        likes=int(video.get("like_count") or 0),
                        shares=int(video.get("share_count") or 0),
                        replies=int(video.get("comment_count") or 0),
                        impressions=int(video.get("view_count") or 0),
                    )
                )
            out.extend(PostMetrics(remote_id=v, deleted=True) for v in batch if v not in seen)
        return out
