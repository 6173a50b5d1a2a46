"""YouTube (the YouTube Data API v3), through the organization's own Google project
(``NetworkApp`` platform "google").

Connect: Google OAuth 2.0 authorization code with PKCE (S256) through
requests-oauthlib, ``access_type=offline`` and ``prompt=consent`` so that Google
hands out a refresh token every time; the channel is ``channels.list?mine=true``.
Access tokens last an hour and are renewed with the refresh token (which Google
keeps: a refresh answer carries no new one).

Publish: one video per post, uploaded with the resumable protocol (an initiating
``POST`` with the metadata, then the file ``PUT`` in chunks of a multiple of
256 KiB, read from disk a chunk at a time; a 308 answer's ``Range`` says what
arrived; a lost answer is followed by a status query ``Content-Range: bytes */N``).
Then the poster as the thumbnail (``thumbnails.set``) and each caption track
(``captions.insert``). A final answer that never came is reconciled by reading the
channel's uploads playlist (``playlistItems.list``).

Quota: every call costs units of the Google project's daily quota (10,000 by
default, and ``videos.insert`` its own bucket of 100 a day), reset at midnight
Pacific time. Units are counted per organization (one project per organization) and
Pacific day, in the cache, beside the per-endpoint call counts of ``accounts.usage``.
Facts: developers.google.com pages cited in ``ENDPOINTS`` below.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
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

if TYPE_CHECKING:
    from accounts.models import ChannelAccount

logger = logging.getLogger(__name__)

NETWORK = "youtube"
# The organization's Google project is stored as the network app of this platform.
PLATFORM = "google"
# developers.google.com/youtube/v3/guides/auth/server-side-web-apps (scopes:
# developers.google.com/identity/protocols/oauth2/scopes#youtube).
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/youtube.readonly",
)
ACCESS_TOKEN_SECONDS = 3600
REFRESH_MARGIN = timedelta(minutes=5)
# developers.google.com/youtube/v3/guides/using_resumable_upload_protocol: chunks are
# multiples of 256 KiB (the last one excepted).
CHUNK_UNIT = 256 * 1024
DEFAULT_CHUNK_BYTES = 32 * CHUNK_UNIT  # 8 MiB
# How many times one upload asks where it stands after a lost answer.
MAX_RESUMES = 5
# developers.google.com/youtube/v3/determine_quota_cost
DAILY_UNITS = 10_000
DAILY_UPLOADS = 100
PACIFIC = ZoneInfo("America/Los_Angeles")
PAGE_SIZE = 50
# An inbox sync reads at most this many pages of comment threads.
MAX_INBOX_PAGES = 5
WEB_URL = "https://www.youtube.com"
PRIVACY_STATUSES = ("private", "unlisted", "public")
TITLE_MAX = 100
VIDEO_MIME_TYPES = (
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-msvideo",
    "video/mpeg",
    "video/x-matroska",
)
# Who can watch a video is always chosen by a person (the composer asks, the API refuses
# a variant without it): no default, so nothing goes public, or stays hidden, by accident.
DESCRIPTION_MAX = 5000
# developers.google.com/youtube/v3/docs/comments#snippet.textOriginal
COMMENT_MAX = 10_000


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    # Units of the project's daily quota (videos.insert: of its own bucket of uploads).
    cost: int
    doc: str
    # The discovery document's method id (None: not a Data API method).
    method_id: str | None = None
    upload: bool = False


DOCS = "developers.google.com/youtube/v3/docs/"
ENDPOINTS: dict[str, Endpoint] = {
    "token": Endpoint("POST", "/token", 0,
                      "developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code"),
    "revoke": Endpoint("POST", "/revoke", 0,
                       "developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke"),
    "channels_list": Endpoint("GET", "/youtube/v3/channels", 1, DOCS + "channels/list",
                              "youtube.channels.list"),
    "videos_insert": Endpoint("POST", "/upload/youtube/v3/videos", 1, DOCS + "videos/insert",
                              "youtube.videos.insert", upload=True),
    "videos_list": Endpoint("GET", "/youtube/v3/videos", 1, DOCS + "videos/list",
                            "youtube.videos.list"),
    "videos_delete": Endpoint("DELETE", "/youtube/v3/videos", 50, DOCS + "videos/delete",
                              "youtube.videos.delete"),
    "thumbnails_set": Endpoint("POST", "/upload/youtube/v3/thumbnails/set", 50,
                               DOCS + "thumbnails/set", "youtube.thumbnails.set", upload=True),
    "captions_insert": Endpoint("POST", "/upload/youtube/v3/captions", 400,
                                DOCS + "captions/insert", "youtube.captions.insert", upload=True),
    "playlist_items_list": Endpoint("GET", "/youtube/v3/playlistItems", 1,
                                    DOCS + "playlistItems/list", "youtube.playlistItems.list"),
    "comment_threads_list": Endpoint("GET", "/youtube/v3/commentThreads", 1,
                                     DOCS + "commentThreads/list", "youtube.commentThreads.list"),
    "comments_list": Endpoint("GET", "/youtube/v3/comments", 1, DOCS + "comments/list",
                              "youtube.comments.list"),
    "comments_insert": Endpoint("POST", "/youtube/v3/comments", 50, DOCS + "comments/insert",
                                "youtube.comments.insert"),
    "comments_moderate": Endpoint("POST", "/youtube/v3/comments/setModerationStatus", 50,
                                  DOCS + "comments/setModerationStatus",
                                  "youtube.comments.setModerationStatus"),
    "comments_delete": Endpoint("DELETE", "/youtube/v3/comments", 50, DOCS + "comments/delete",
                                "youtube.comments.delete"),
}  # fmt: skip


# --- quota ------------------------------------------------------------------------


def pacific_day(moment: datetime | None = None) -> date:
    return (moment or datetime.now(tz=UTC)).astimezone(PACIFIC).date()


def next_pacific_midnight(moment: datetime | None = None) -> datetime:
    """When the Google project's daily quota resets (midnight America/Los_Angeles)."""
    day = pacific_day(moment) + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=PACIFIC).astimezone(UTC)


def _quota_key(organization_id: int, bucket: str, day: date) -> str:
    return f"accounts:youtube-quota:{organization_id}:{bucket}:{day.isoformat()}"


@dataclass(frozen=True)
class QuotaUsage:
    units: int
    units_total: int
    uploads: int
    uploads_total: int
    resets_at: datetime

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.units / self.units_total)) if self.units_total else 0


def quota_record(organization_id: int, endpoint: str, *, moment: datetime | None = None) -> None:
    """Count one call's units against the organization's Google project for the Pacific day
    (Google counts invalid requests too, so this runs before the call)."""
    spec = ENDPOINTS[endpoint]
    if not spec.cost:
        return
    bucket = "uploads" if endpoint == "videos_insert" else "units"
    key = _quota_key(organization_id, bucket, pacific_day(moment))
    try:
        cache.add(key, 0, timeout=2 * 86400)
        cache.incr(key, spec.cost)
    except Exception:  # pragma: no cover - counting never breaks the call it counts
        logger.exception("Could not count YouTube quota for organization %s", organization_id)


def quota_usage(organization_id: int, *, moment: datetime | None = None) -> QuotaUsage:
    day = pacific_day(moment)
    return QuotaUsage(
        units=int(cache.get(_quota_key(organization_id, "units", day)) or 0),
        units_total=DAILY_UNITS,
        uploads=int(cache.get(_quota_key(organization_id, "uploads", day)) or 0),
        uploads_total=DAILY_UPLOADS,
        resets_at=next_pacific_midnight(moment),
    )


# --- helpers ------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _google_error(body: Any) -> tuple[str, str]:
    """(reason, message) of a Google error body ``{"error": {"code", "message",
    "errors": [{"domain", "reason", "message"}]}}``, or of an OAuth error answer."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, str):  # the token endpoint: {"error": "invalid_grant", ...}
        return error, str(body.get("error_description") or error)
    if not isinstance(error, dict):
        return "", ""
    reason = ""
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason") or "")
    return reason, str(error.get("message") or "")


def _when(moment: datetime) -> str:
    return formats.date_format(moment, "DATETIME_FORMAT")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def video_url(video_id: str) -> str:
    return f"{WEB_URL}/watch?v={quote(video_id, safe='')}"


class YouTubeConnector(Connector):
    network = NETWORK
    label = _("YouTube")
    connect_method = "oauth"
    capabilities = Capabilities(
        publish=True,
        images=False,
        videos=True,
        replies=True,
        inbox=True,
        moderation=True,
        delete=True,
        metrics=True,
        visibility=False,
        lookup_recent=True,
        refresh_credentials=True,
    )
    # videos/insert: "Maximum file size: 256GB; accepted media MIME types: video/*,
    # application/octet-stream"; 12 hours at most (support.google.com/youtube/answer/71673).
    limits = Limits(
        max_text=DESCRIPTION_MAX,
        max_media=1,
        max_videos=1,
        video_mime_types=VIDEO_MIME_TYPES,
        max_video_bytes=256 * 1024**3,
        max_video_seconds=12 * 3600,
        video_alone=True,
    )
    refresh_ahead = timedelta(minutes=15)
    chunk_bytes = DEFAULT_CHUNK_BYTES

    # --- plumbing -------------------------------------------------------------------

    @staticmethod
    def api_url() -> str:
        return str(settings.YOUTUBE_API_URL).rstrip("/")

    @staticmethod
    def token_url() -> str:
        return str(settings.YOUTUBE_TOKEN_URL).rstrip("/")

    def _url(self, endpoint: str) -> str:
        spec = ENDPOINTS[endpoint]
        base = self.token_url() if endpoint in ("token", "revoke") else self.api_url()
        return base + spec.path

    def _send(
        self,
        endpoint: str,
        *,
        account: ChannelAccount | None,
        organization_id: int | None = None,
        token: str = "",
        url: str = "",
        method: str = "",
        outcome_matters: bool = False,
        ok_statuses: Sequence[int] = (),
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
    ) -> http.HttpResponse:
        """One call, counted (calls and quota units), every failure classified."""
        spec = ENDPOINTS[endpoint]
        request_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        from accounts.usage import api_call_record

        api_call_record(account=account, network=NETWORK, endpoint=f"{spec.method} {spec.path}")
        org_id = organization_id or (account.organization_id if account is not None else None)
        if org_id is not None and not url:
            quota_record(org_id, endpoint)
        verb = method or spec.method
        try:
            response = http.http_request(
                verb,
                url or self._url(endpoint),
                headers=request_headers,
                params=params,
                json=json,
                data=data,
                timeout=self.timeout,
                idempotent=verb == "GET" or None,
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("the YouTube address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok or response.status in ok_statuses:
            return response
        raise self._classify(response, outcome_matters=outcome_matters)

    def _classify(self, response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
        """developers.google.com/youtube/v3/docs/errors"""
        status = response.status
        try:
            body = response.json()
        except ValueError:
            body = None
        reason, message = _google_error(body)
        detail = f"{reason}: {message}" if reason else (message or response.text[:300])
        if status == 401 or reason in ("invalid_grant", "authError", "unauthorized_client"):
            return AuthError(status_code=status, detail=detail)
        if reason in ("quotaExceeded", "dailyLimitExceeded"):
            until = next_pacific_midnight()
            return RateLimited(
                max(0.0, (until - datetime.now(tz=UTC)).total_seconds()),
                gettext(
                    "The organization's Google project has used up today's YouTube quota. "
                    "Rate limited until %(until)s, when Google resets it."
                )
                % {"until": _when(until)},
                status_code=status,
                detail=detail,
            )
        if status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            return RateLimited(
                response.retry_after,
                gettext("YouTube asks us to slow down. We will try again shortly."),
                status_code=status,
                detail=detail,
            )
        if reason == "uploadLimitExceeded":
            return Rejected(
                gettext("the channel has reached YouTube's limit of uploads for now"),
                status_code=status,
                detail=detail,
            )
        if reason in ("invalidTitle", "invalidVideoMetadata"):
            return Rejected(
                gettext(
                    "YouTube does not accept the video's title (at most 100 characters, no < or >)"
                ),
                status_code=status,
                detail=detail,
            )
        if reason in ("insufficientPermissions", "youtubeSignupRequired"):
            return AuthError(
                gettext(
                    "YouTube refused this because the sign-in lacks a permission or the Google "
                    "account has no channel. Reconnect the account and allow everything."
                ),
                status_code=status,
                detail=detail,
            )
        if status == 403:
            return Rejected(
                gettext("YouTube does not allow this channel to do that"),
                status_code=status,
                detail=detail,
            )
        if outcome_matters and status in (500, 502, 504):
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        if status == 404:
            return Rejected(
                gettext("the video is not on YouTube"), status_code=status, detail=detail
            )
        return Rejected(message or gettext("YouTube refused it"), status_code=status, detail=detail)

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

        app = network_app_get(organization=account.organization, network=PLATFORM)
        if app is None:
            raise AuthError(
                gettext(
                    "The organization's Google project is not set up (or was removed), so "
                    "GovSocial cannot renew this channel's sign-in. An admin enters it under "
                    "Network apps."
                )
            )
        return app.as_client(server_url=self.api_url(), redirect_uri="", scopes=SCOPES)

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

    def _call(self, account: ChannelAccount, endpoint: str, **kwargs: Any) -> http.HttpResponse:
        """An authenticated call; a 401 renews the sign-in once and sends it again."""
        token = self._token(account)
        stored = dict(account.credentials or {})
        try:
            return self._send(endpoint, account=account, token=token, **kwargs)
        except AuthError as exc:
            if exc.status_code != 401:
                raise
            logger.info("YouTube access token of account %s refused; renewing", account.pk)
        self._renew(account, stored)
        return self._send(endpoint, account=account, token=self._token(account), **kwargs)

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        stored = dict(account.credentials or {})
        refresh = str(stored.get("refresh_token") or "")
        if not refresh:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        client = self._client(account)
        try:
            response = self._send(
                "token",
                account=account,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext(
                    "Google no longer renews this channel's sign-in (it was revoked, or the "
                    "project changed). Reconnect the account."
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
        previous = dict(stored or {})
        credentials = {
            **previous,
            "access_token": access,
            "token_type": "bearer",
            # Google keeps the refresh token: a refresh answer usually carries none.
            "refresh_token": str(body.get("refresh_token") or previous.get("refresh_token") or ""),
            "scope": str(body.get("scope") or previous.get("scope") or ""),
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
            str(settings.YOUTUBE_AUTHORIZE_URL),
            code_challenge=challenge,
            code_challenge_method="S256",
            access_type="offline",
            prompt="consent",
            include_granted_scopes="true",
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
                    "The answer from Google's sign-in page does not match the request we sent. "
                    "Start connecting again."
                )
            )
        body = WebApplicationClient(client.client_id).prepare_request_body(
            code=code,
            redirect_uri=client.redirect_uri,
            code_verifier=code_verifier,
            client_secret=client.client_secret,
            include_client_id=True,
        )
        try:
            response = self._send(
                "token",
                account=None,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext(
                    "Google did not accept the sign-in (the project's client id, secret and "
                    "redirect address must match). Start connecting again."
                ),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        update = self._credential_update(self._json(response))
        granted = tuple(str(update.credentials.get("scope") or "").split())
        missing = [scope for scope in SCOPES if scope not in granted]
        if missing:
            raise AuthError(
                gettext("Google granted less access than GovSocial needs (missing: %(scopes)s).")
                % {"scopes": ", ".join(missing)}
            )
        if not update.credentials.get("refresh_token"):
            raise AuthError(
                gettext(
                    "Google gave no refresh token, so the sign-in could not be kept. Start "
                    "connecting again."
                )
            )
        channel = self._channel(str(update.credentials["access_token"]), account=None)
        snippet = channel.get("snippet") or {}
        custom = str(snippet.get("customUrl") or "")
        return ConnectedAccount(
            remote_id=str(channel["id"]),
            handle=custom or str(snippet.get("title") or channel["id"]),
            display_name=str(snippet.get("title") or custom),
            server_url=self.api_url(),
            credentials=update.credentials,
            credentials_expire_at=update.expires_at,
            scopes=granted,
            profile_url=f"{WEB_URL}/channel/{channel['id']}",
        )

    def _channel(self, token: str, *, account: ChannelAccount | None) -> dict[str, Any]:
        params = {"part": "snippet,statistics,contentDetails", "mine": "true"}
        if account is not None:
            response = self._call(account, "channels_list", params=params)
        else:
            response = self._send("channels_list", account=None, token=token, params=params)
        items = self._json(response).get("items") or []
        if not items or not isinstance(items[0], dict) or not items[0].get("id"):
            raise AuthError(
                gettext(
                    "This Google account has no YouTube channel. Create the channel on YouTube "
                    "first, then connect again."
                )
            )
        return items[0]

    def disconnect(self, account: ChannelAccount) -> None:
        stored = account.credentials or {}
        token = str(stored.get("refresh_token") or stored.get("access_token") or "")
        if token:
            self._send("revoke", account=account, data={"token": token})

    def check_health(self, account: ChannelAccount) -> HealthResult:
        channel = self._channel("", account=account)
        snippet = channel.get("snippet") or {}
        return HealthResult(
            remote_id=str(channel["id"]),
            handle=str(snippet.get("customUrl") or snippet.get("title") or channel["id"]),
            display_name=str(snippet.get("title") or ""),
            profile_url=f"{WEB_URL}/channel/{channel['id']}",
            scopes=tuple(account.scopes or ()),
        )

    # --- rules ------------------------------------------------------------------------

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        problems: list[str] = []
        if request.reply_to is not None:
            # An answer to a comment: text only.
            if not request.text.strip():
                problems.append(gettext("Write some text."))
            if len(request.text) > COMMENT_MAX:
                problems.append(
                    gettext("A YouTube comment has at most %(limit)d characters.")
                    % {"limit": COMMENT_MAX}
                )
            if request.media:
                problems.append(gettext("An answer to a comment on YouTube is text only."))
            return problems
        videos = [item for item in request.media if item.is_video]
        if len(videos) != 1 or len(request.media) != 1:
            problems.append(gettext("A YouTube post is one video."))
        limits = self.limits_for(account)
        for number, item in enumerate(videos, start=1):
            problems.extend(self._video_problems(number, item, limits))
        title = _title(request)
        if not title:
            problems.append(gettext("Give the video a title."))
        elif len(title) > TITLE_MAX or "<" in title or ">" in title:
            problems.append(gettext("A YouTube title has at most 100 characters and no < or >."))
        if len(request.text) > DESCRIPTION_MAX:
            problems.append(
                gettext("The description is %(length)d characters long; the limit is %(limit)d.")
                % {"length": len(request.text), "limit": DESCRIPTION_MAX}
            )
        options = request.options or {}
        privacy = str(options.get("privacy_status") or "")
        if not privacy:
            problems.append(gettext("Choose who can watch the video on YouTube."))
        elif privacy not in PRIVACY_STATUSES:
            problems.append(gettext("Choose who can watch the video: private, unlisted or public."))
        if options.get("publish_at") and privacy != "private":
            problems.append(gettext("A video scheduled to go public is uploaded as private."))
        return problems

    # --- posts ------------------------------------------------------------------------

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        problems = self.validate(request, account=account)
        if problems:
            raise Rejected(problems[0])
        video = request.media[0]
        started = datetime.now(tz=UTC)
        session_uri = self._start_upload(account, request, video)
        resource = self._upload(account, session_uri, video)
        video_id = str(resource.get("id") or "")
        if not video_id:
            raise UnknownOutcome(detail="Upload finished without a video id")
        self._after_upload(account, video_id, video)
        return PublishResult(remote_id=video_id, url=video_url(video_id), published_at=started)

    def _metadata(self, request: PublishRequest) -> dict[str, Any]:
        options = request.options or {}
        snippet: dict[str, Any] = {"title": _title(request), "description": request.text}
        if options.get("tags"):
            snippet["tags"] = [str(tag) for tag in options["tags"]]
        if options.get("category_id"):
            snippet["categoryId"] = str(options["category_id"])
        language = str(options.get("default_language") or request.language or "")
        if language:
            snippet["defaultLanguage"] = language
        status: dict[str, Any] = {
            "privacyStatus": str(options["privacy_status"]),
            "selfDeclaredMadeForKids": bool(options.get("made_for_kids", False)),
        }
        publish_at = options.get("publish_at")
        if publish_at:
            moment = publish_at if isinstance(publish_at, datetime) else _parse_time(publish_at)
            if moment is not None:
                status["publishAt"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"snippet": snippet, "status": status}

    def _start_upload(
        self, account: ChannelAccount, request: PublishRequest, video: MediaItem
    ) -> str:
        """The initiating request: the metadata, answered with the session URI."""
        size = video.size_bytes or os.path.getsize(video.path)
        try:
            response = self._call(
                account,
                "videos_insert",
                params={"uploadType": "resumable", "part": "snippet,status"},
                json=self._metadata(request),
                headers={
                    "X-Upload-Content-Length": str(size),
                    "X-Upload-Content-Type": video.mime_type or "video/*",
                    "Content-Type": "application/json; charset=UTF-8",
                },
            )
        except UnknownOutcome as exc:
            # Starting a session creates no video: nothing to reconcile.
            raise TransientError(detail=exc.detail) from exc
        location = response.headers.get("Location") or response.headers.get("location") or ""
        if not location:
            raise TransientError(detail="Upload session started without a Location")
        return location

    def _upload(
        self, account: ChannelAccount, session_uri: str, video: MediaItem
    ) -> dict[str, Any]:
        """PUT the file in chunks; after a lost answer, ask where the upload stands
        (``Content-Range: bytes */N``) and go on from there."""
        size = video.size_bytes or os.path.getsize(video.path)
        chunk = max(CHUNK_UNIT, (self.chunk_bytes // CHUNK_UNIT) * CHUNK_UNIT)
        offset = 0
        resumes = 0
        with open(video.path, "rb") as handle:
            while True:
                handle.seek(offset)
                data = handle.read(chunk)
                end = offset + len(data) - 1
                try:
                    response = self._call(
                        account,
                        "videos_insert",
                        url=session_uri,
                        method="PUT",
                        data=data,
                        outcome_matters=True,
                        ok_statuses=(308,),
                        headers={
                            "Content-Length": str(len(data)),
                            "Content-Range": f"bytes {offset}-{end}/{size}",
                        },
                    )
                except (UnknownOutcome, TransientError) as exc:
                    resumes += 1
                    if resumes > MAX_RESUMES:
                        raise UnknownOutcome(detail=exc.detail) from exc
                    response = self._upload_status(account, session_uri, size)
                if response.status in (200, 201):
                    return dict(self._json(response, outcome_matters=True))
                offset = _received(response)

    def _upload_status(
        self, account: ChannelAccount, session_uri: str, size: int
    ) -> http.HttpResponse:
        """developers.google.com/youtube/v3/guides/using_resumable_upload_protocol
        ("Step 4 - Resume an interrupted upload")."""
        try:
            return self._call(
                account,
                "videos_insert",
                url=session_uri,
                method="PUT",
                data=b"",
                outcome_matters=True,
                ok_statuses=(308,),
                headers={"Content-Length": "0", "Content-Range": f"bytes */{size}"},
            )
        except (TransientError, UnknownOutcome) as exc:
            raise UnknownOutcome(detail=exc.detail) from exc

    def _after_upload(self, account: ChannelAccount, video_id: str, video: MediaItem) -> None:
        """The poster as the thumbnail, then each caption track. The video is up: a
        failure here is logged, never a reason to upload it again."""
        if video.poster:
            try:
                self._call(
                    account,
                    "thumbnails_set",
                    params={"videoId": video_id, "uploadType": "media"},
                    data=video.poster,
                    headers={"Content-Type": "image/jpeg"},
                )
            except ConnectorError as exc:
                logger.warning("Thumbnail of YouTube video %s not set: %s", video_id, exc.detail)
        for track in video.captions:
            boundary = "govsocial-caption-boundary"
            metadata = {
                "snippet": {
                    "videoId": video_id,
                    "language": track.language,
                    "name": track.name or track.language,
                }
            }
            import json as jsonlib

            body = (
                f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
                f"{jsonlib.dumps(metadata)}\r\n"
                f"--{boundary}\r\nContent-Type: text/vtt; charset=UTF-8\r\n\r\n{track.vtt}\r\n"
                f"--{boundary}--\r\n"
            ).encode()
            try:
                self._call(
                    account,
                    "captions_insert",
                    params={"uploadType": "multipart", "part": "snippet"},
                    data=body,
                    headers={"Content-Type": f"multipart/related; boundary={boundary}"},
                )
            except ConnectorError as exc:
                logger.warning(
                    "Captions (%s) of YouTube video %s not added: %s",
                    track.language,
                    video_id,
                    exc.detail,
                )

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._call(account, "videos_delete", params={"id": ref.remote_id}, ok_statuses=(404,))

    def _uploads_playlist(self, account: ChannelAccount) -> str:
        channel = self._channel("", account=account)
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get(
            "uploads"
        )
        return str(uploads or "")

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """The channel's uploads, newest first (the uploads playlist), paging back past
        ``since``. The text of each is its description, as we sent it."""
        playlist = self._uploads_playlist(account)
        if not playlist:
            return RecentPosts([], complete=False)
        posts: list[RecentPost] = []
        complete = False
        params: dict[str, Any] = {
            "part": "snippet,contentDetails",
            "playlistId": playlist,
            "maxResults": PAGE_SIZE,
        }
        while len(posts) < limit:
            body = self._json(self._call(account, "playlist_items_list", params=params))
            for item in body.get("items") or []:
                snippet = item.get("snippet") or {}
                video_id = str(
                    (item.get("contentDetails") or {}).get("videoId")
                    or (snippet.get("resourceId") or {}).get("videoId")
                    or ""
                )
                if not video_id:
                    continue
                posts.append(
                    RecentPost(
                        ref=RemoteRef(remote_id=video_id, url=video_url(video_id)),
                        text=str(snippet.get("description") or ""),
                        created_at=_parse_time(snippet.get("publishedAt")),
                    )
                )
            token = body.get("nextPageToken")
            oldest = posts[-1].created_at if posts else None
            if not token or (since is not None and oldest is not None and oldest < since):
                complete = len(posts) <= limit
                break
            params["pageToken"] = token
        return RecentPosts(posts[:limit], complete=complete)

    # --- comments (the inbox) -----------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """People's comments on the channel's videos (top-level comments, newest first from
        ``commentThreads.list``), returned oldest first. The cursor is the publishing time
        of the newest comment seen; a first sync reads one page."""
        since = _parse_time(cursor) if cursor else None
        params: dict[str, Any] = {
            "part": "snippet",
            "allThreadsRelatedToChannelId": account.remote_id,
            "order": "time",
            "maxResults": 100,
            "textFormat": "plainText",
        }
        items: list[InboxItem] = []
        has_more = False
        for _page in range(MAX_INBOX_PAGES):
            body = self._json(self._call(account, "comment_threads_list", params=params))
            reached_old = False
            for thread in body.get("items") or []:
                item = self._comment_item(account, thread)
                if item is None:
                    continue
                if since is not None and item.created_at is not None and item.created_at <= since:
                    reached_old = True
                    break
                items.append(item)
            token = body.get("nextPageToken")
            if reached_old or not token or since is None:
                break
            params["pageToken"] = token
        else:
            has_more = True
        items.sort(key=lambda i: i.created_at or datetime.min.replace(tzinfo=UTC))
        newest = items[-1].created_at if items else since
        next_cursor = newest.isoformat() if newest is not None else cursor
        return InboxPage(items=items, next_cursor=next_cursor, has_more=has_more)

    def _comment_item(self, account: ChannelAccount, thread: Any) -> InboxItem | None:
        snippet = (thread or {}).get("snippet") or {}
        top = snippet.get("topLevelComment") or {}
        comment = top.get("snippet") or {}
        comment_id = str(top.get("id") or thread.get("id") or "")
        author_id = str((comment.get("authorChannelId") or {}).get("value") or "")
        if not comment_id or author_id == account.remote_id:
            return None
        video_id = str(snippet.get("videoId") or comment.get("videoId") or "")
        name = str(comment.get("authorDisplayName") or "")
        return InboxItem(
            remote_id=comment_id,
            kind="reply",
            author_handle=name,
            author_name=name.lstrip("@"),
            text=str(comment.get("textOriginal") or comment.get("textDisplay") or ""),
            created_at=_parse_time(comment.get("publishedAt")),
            url=f"{video_url(video_id)}&lc={quote(comment_id, safe='')}" if video_id else "",
            author_id=author_id,
            in_reply_to=RemoteRef(remote_id=video_id, url=video_url(video_id))
            if video_id
            else None,
            raw={"videoId": video_id, "commentId": comment_id},
        )

    def reply(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        """An answer to a comment (``comments.insert`` with the comment as ``parentId``)."""
        if request.reply_to is None:
            raise Rejected(gettext("a reply needs the comment it answers"))
        started = datetime.now(tz=UTC)
        body = {"snippet": {"parentId": request.reply_to.remote_id, "textOriginal": request.text}}
        response = self._call(
            account, "comments_insert", params={"part": "snippet"}, json=body,
            outcome_matters=True,
        )  # fmt: skip
        comment_id = str(self._json(response, outcome_matters=True).get("id") or "")
        if not comment_id:
            raise UnknownOutcome(detail="Comment answer without an id")
        url = request.reply_to.url.split("&lc=")[0] if request.reply_to.url else ""
        return PublishResult(
            remote_id=comment_id,
            url=f"{url}&lc={quote(comment_id, safe='')}" if url else "",
            published_at=started,
        )

    def lookup_replies(
        self,
        account: ChannelAccount,
        *,
        reply_to: RemoteRef,
        thread_root: RemoteRef | None = None,
        since: datetime | None = None,
        limit: int = 20,
    ) -> list[RecentPost]:
        """The channel's own answers under a comment (``comments.list?parentId=``)."""
        params: dict[str, Any] = {
            "part": "snippet",
            "parentId": reply_to.remote_id,
            "maxResults": 100,
            "textFormat": "plainText",
        }
        posts: list[RecentPost] = []
        while True:
            body = self._json(self._call(account, "comments_list", params=params))
            for comment in body.get("items") or []:
                snippet = comment.get("snippet") or {}
                author = str((snippet.get("authorChannelId") or {}).get("value") or "")
                if author != account.remote_id:
                    continue
                posts.append(
                    RecentPost(
                        ref=RemoteRef(remote_id=str(comment.get("id") or "")),
                        text=str(snippet.get("textOriginal") or ""),
                        created_at=_parse_time(snippet.get("publishedAt")),
                        reply_to_id=reply_to.remote_id,
                    )
                )
            token = body.get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
        posts.sort(key=lambda p: p.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return RecentPosts(posts[:limit], complete=len(posts) <= limit)

    def hide_comment(self, account: ChannelAccount, ref: RemoteRef, *, hidden: bool) -> None:
        """Hold a comment for review (hidden from the public), or publish it again."""
        self._call(
            account,
            "comments_moderate",
            params={
                "id": ref.remote_id,
                "moderationStatus": "heldForReview" if hidden else "published",
            },
        )

    def delete_comment(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._call(account, "comments_delete", params={"id": ref.remote_id}, ok_statuses=(404,))

    # --- metrics ----------------------------------------------------------------------

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        metrics: list[PostMetrics] = []
        ids = [ref.remote_id for ref in refs]
        for start in range(0, len(ids), PAGE_SIZE):
            batch = ids[start : start + PAGE_SIZE]
            params = {"part": "statistics", "id": ",".join(batch)}
            body = self._json(self._call(account, "videos_list", params=params))
            found = {
                str(item.get("id")): item.get("statistics") or {}
                for item in body.get("items") or []
            }
            for video_id in batch:
                stats = found.get(video_id)
                if stats is None:
                    metrics.append(PostMetrics(remote_id=video_id, deleted=True))
                    continue
                metrics.append(
                    PostMetrics(
                        remote_id=video_id,
                        likes=_int(stats.get("likeCount")),
                        replies=_int(stats.get("commentCount")),
                        impressions=_int(stats.get("viewCount")),
                    )
                )
        return metrics

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        stats = self._channel("", account=account).get("statistics") or {}
        hidden = bool(stats.get("hiddenSubscriberCount"))
        return AccountMetrics(
            followers=None if hidden else _int(stats.get("subscriberCount")),
            posts=_int(stats.get("videoCount")),
        )


def _title(request: PublishRequest) -> str:
    title = str((request.options or {}).get("title") or "").strip()
    if title:
        return title
    first = request.text.strip().splitlines()[0] if request.text.strip() else ""
    return first[:TITLE_MAX]


def _received(response: http.HttpResponse) -> int:
    """The next byte to send, from a 308's ``Range: bytes=0-N`` (none: nothing arrived)."""
    value = response.headers.get("Range") or response.headers.get("range") or ""
    _, _, span = value.partition("=")
    _, _, last = span.partition("-")
    try:
        return int(last) + 1
    except ValueError:
        return 0
