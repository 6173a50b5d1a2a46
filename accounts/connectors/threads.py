"""Threads (Meta), through the Threads API at graph.threads.net.

Each organization registers its own Threads app (``NetworkApp`` network
"threads": the Threads app id and secret). People connect with OAuth: the
authorization window gives a code, the code a one-hour token, and that token
a long-lived one (60 days), refreshed with ``th_refresh_token`` once it is a
day old and long before it ends (``refresh_ahead``).

Publishing goes through media containers: create (``POST /{user}/threads``),
wait until the container is FINISHED (or fail, saying why, on ERROR or
EXPIRED), then ``threads_publish``. Threads has no idempotency key, so the
container id is recorded (``PublishCheckpoint``) before ``threads_publish`` is
called. A publish sent again with the same key asks about that container
first: PUBLISHED means the post exists and is looked up among the account's
own recent posts, never sent twice.

Video: one ``VIDEO`` container whose ``video_url`` is our signed public address (with
the description as ``alt_text``, documentation/threads/posts/accessibility); Threads
downloads and processes it, so the container is polled for up to ~5 minutes and, if
still ``IN_PROGRESS``, looked at again on the dispatcher's next try (the recorded
container, never a second one). Threads takes no caption files: captions stay in the
media library (burnt-in captions are the way to show them there). Limits
(documentation/threads/overview#video-specifications): MP4 or MOV, at most 5 minutes
and 1 GB.

Every path, the API version and every metric name are in the tables below, so
when Meta renames something it changes in one place. Facts: NETWORK-APIS.md §7;
developers.facebook.com ``documentation/threads/{overview, posts,
reply-management, reference/reply-management, threads-mentions, insights,
troubleshooting, posts/delete-posts, get-started/long-lived-tokens,
get-started/get-access-tokens-and-permissions}``.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs

from django.conf import settings
from django.utils import timezone
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
    PublishingQuota,
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

API_VERSION = "v1.0"

# Every endpoint we call, in one table ({v}: API_VERSION). Paths on the API host except
# "authorize", which is the authorization window's own address (settings).
ENDPOINTS: Mapping[str, str] = {
    # documentation/threads/get-started/get-access-tokens-and-permissions
    "code_token": "/oauth/access_token",
    # documentation/threads/get-started/long-lived-tokens
    "long_lived_token": "/access_token",
    "refresh_token": "/refresh_access_token",
    # documentation/threads/reference (debug_token)
    "debug_token": "/{v}/debug_token",
    # documentation/threads/threads-profiles
    "profile": "/{v}/me",
    # documentation/threads/posts; documentation/threads/troubleshooting
    "containers": "/{v}/{user}/threads",
    "publish": "/{v}/{user}/threads_publish",
    "node": "/{v}/{id}",
    # documentation/threads/threads-profiles (a user's threads)
    "own_posts": "/{v}/{user}/threads",
    # documentation/threads/overview
    "publishing_limit": "/{v}/{user}/threads_publishing_limit",
    # documentation/threads/reference/reply-management
    "conversation": "/{v}/{id}/conversation",
    "manage_reply": "/{v}/{id}/manage_reply",
    # documentation/threads/threads-mentions
    "mentions": "/{v}/{user}/mentions",
    # documentation/threads/insights
    "media_insights": "/{v}/{id}/insights",
    "user_insights": "/{v}/{user}/threads_insights",
}

# documentation/threads/insights: the metric names in use now.
MEDIA_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
ACCOUNT_METRICS = ("followers_count",)

POST_FIELDS = "id,text,timestamp,permalink,shortcode,media_type,is_reply"
REPLY_FIELDS = (
    "id,text,username,timestamp,permalink,media_type,replied_to,root_post,is_reply,hide_status"
)

# What each permission lets GovSocial do (the connect page and the account page say it).
PERMISSIONS: Mapping[str, Any] = {
    "threads_basic": _("Read the profile; needed for everything else."),
    "threads_content_publish": _("Publish posts, images, videos, carousels and replies."),
    "threads_read_replies": _("Read replies to the account's posts into the inbox."),
    "threads_manage_replies": _("Answer, hide and unhide replies; set who may reply."),
    "threads_manage_insights": _("Read views, likes, replies and followers for analytics."),
    "threads_manage_mentions": _("Read posts that mention the account into the inbox."),
    "threads_delete": _("Delete the account's posts from GovSocial."),
}
SCOPES: tuple[str, ...] = tuple(PERMISSIONS)
REQUIRED_SCOPES = ("threads_basic", "threads_content_publish")

# documentation/threads/posts: 500 characters; emoji count as their UTF-8 bytes.
MAX_TEXT = 500
# documentation/threads/posts (carousel posts): up to 20 items.
MAX_MEDIA = 20
# Media specifications: JPEG or PNG, at most 8 MB.
MAX_IMAGE_BYTES = 8 * 1024 * 1024
# documentation/threads/overview#video-specifications: MOV or MP4, at most 1 GB and
# 5 minutes (300 s); H.264 or HEVC with AAC; aspect ratio 0.01:1 to 10:1.
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
MAX_VIDEO_SECONDS = 300
VIDEO_MIME_TYPES = ("video/mp4", "video/quicktime")
# documentation/threads/overview: 250 posts and 1,000 replies per rolling 24 hours.
POST_QUOTA, REPLY_QUOTA = 250, 1000
REPLY_CONTROLS = (
    "everyone",
    "accounts_you_follow",
    "mentioned_only",
    "parent_post_author_only",
    "followers_only",
)

# Waits between looks at a container that is still processing (bounded, ~2 min; the
# troubleshooting page suggests checking for no more than 5 minutes).
CONTAINER_POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 15.0, 30.0, 30.0)
# A video takes longer: look for up to ~5 minutes (the troubleshooting page's bound), then
# let the dispatcher try again later with the same container.
VIDEO_POLL_DELAYS = (5.0, 5.0, 10.0, 10.0, 15.0, 15.0, 30.0, 30.0, 30.0, 60.0, 60.0, 60.0)
# Long-lived tokens: 60 days; renew a month ahead so a failing refresh leaves time to act.
REFRESH_AHEAD = timedelta(days=30)
TOKEN_MIN_AGE = timedelta(hours=24)
INBOX_POSTS = 25  # own posts whose conversations each sync reads
INBOX_WINDOW = timedelta(days=14)
PAGE_LIMIT = 50

# Metric pulls stop for a while once this share of the app's call budget is used, so the
# budget is never spent by analytics (publishing and the inbox keep the rest).
USAGE_SLOWDOWN_PERCENT = 80
USAGE_PAUSE_SECONDS = 15 * 60

# Graph error codes (documentation/graph-api/guides/error-handling) and how we read them.
AUTH_CODES = frozenset({102, 190, 458, 459, 460, 463, 464, 467})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
PUBLISH_LIMIT_SUBCODE = 2207042
CONTAINER_ERRORS: Mapping[str, Any] = {
    "FAILED_DOWNLOADING_IMAGE": _("Threads could not download the image."),
    "FAILED_DOWNLOADING_VIDEO": _("Threads could not download the video."),
    "FAILED_PROCESSING_VIDEO": _("Threads could not process the video."),
    "FAILED_PROCESSING_AUDIO": _("Threads could not process the video's sound."),
    "INVALID_ASPEC_RATIO": _("The picture's shape (aspect ratio) is not accepted."),
    "INVALID_BIT_RATE": _("The video's bit rate is not accepted."),
    "INVALID_DURATION": _("The video is too long or too short."),
    "INVALID_FRAME_RATE": _("The video's frame rate is not accepted."),
}
URL_RE = re.compile(r"https?://[^\s<>\"']+")


def api_base() -> str:
    return str(getattr(settings, "THREADS_API_URL", "https://graph.threads.net")).rstrip("/")


def authorize_url() -> str:
    return str(getattr(settings, "THREADS_AUTHORIZE_URL", "https://threads.com/oauth/authorize"))


def threads_length(text: str) -> int:
    """The length as Threads counts it: characters, with an emoji (a character outside
    the Basic Multilingual Plane) counted as its UTF-8 bytes (documentation/threads/posts)."""
    return sum(len(ch.encode("utf-8")) if ord(ch) > 0xFFFF else 1 for ch in text)


def parse_time(value: Any) -> datetime | None:
    """``2024-05-01T10:00:00+0000`` (Graph's format, no colon in the offset)."""
    if not isinstance(value, str) or not value:
        return None
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def path(name: str, **values: str) -> str:
    return ENDPOINTS[name].format(v=API_VERSION, **values)


def graph_error(response: http.HttpResponse) -> dict[str, Any]:
    """The error object of a Graph answer (``{"error": {...}}``), or the older
    ``{error_type, code, error_message}`` shape the code exchange answers with."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    error = body.get("error")
    if isinstance(error, dict):
        return error
    if body.get("error_message"):
        return {
            "message": body.get("error_message"),
            "type": body.get("error_type"),
            "code": body.get("code"),
        }
    return {}


def classify(response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
    """Graph errors in the five kinds: 190 and friends → auth; missing permission →
    auth (reconnect granting it); throttling codes → rate limited; 1, 2 and 5xx →
    transient; content and parameter errors → rejected with the network's words."""
    error = graph_error(response)
    status = response.status
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    message = str(error.get("error_user_msg") or error.get("message") or "")[:500]
    detail = json.dumps(error)[:1000] if error else response.text[:300]
    if (
        code in AUTH_CODES
        or status == 401
        or (str(error.get("type")) == "OAuthException" and (code is None and status in (400, 401)))
    ):
        return AuthError(status_code=status, detail=detail)
    if code in PERMISSION_CODES:
        return AuthError(
            gettext(
                "Threads did not give GovSocial permission for this. Reconnect the account "
                "and allow every permission asked for."
            ),
            status_code=status,
            detail=detail,
        )
    if code in THROTTLE_CODES or status == 429:
        return RateLimited(
            response.retry_after or _regain_seconds(response), status_code=status, detail=detail
        )
    if subcode == PUBLISH_LIMIT_SUBCODE or code == 9:
        return RateLimited(
            3600.0,
            gettext(
                "The account has reached Threads' publishing limit (250 posts and 1,000 "
                "replies a day). We will try again later."
            ),
            status_code=status,
            detail=detail,
        )
    if code in TRANSIENT_CODES or status >= 500:
        if outcome_matters and status in (502, 504):
            return UnknownOutcome(status_code=status, detail=detail)
        return TransientError(status_code=status, detail=detail)
    if status == 404 or (code == 100 and subcode == 33):
        return Rejected(
            gettext("the post is not on Threads (deleted, or not ours)"),
            status_code=status,
            detail=detail,
        )
    return Rejected(
        message or gettext("Threads refused it"),
        status_code=status,
        detail=detail,
    )


def _regain_seconds(response: http.HttpResponse) -> float | None:
    """``estimated_time_to_regain_access`` (minutes) from a business use case header."""
    raw = response.headers.get("X-Business-Use-Case-Usage", "")
    try:
        usage = json.loads(raw) if raw else {}
    except ValueError:
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    waits = [m for m in minutes if isinstance(m, int | float) and m > 0]
    return float(max(waits)) * 60 if waits else None


def usage_percent(response: http.HttpResponse) -> int:
    """The highest share of the app's call budget used, from ``X-App-Usage`` (JSON in the
    header: ``call_count``, ``total_cputime``, ``total_time`` in per cent); 0 if absent."""
    raw = response.headers.get("X-App-Usage", "")
    try:
        usage = json.loads(raw) if raw else {}
    except ValueError:
        return 0
    if not isinstance(usage, dict):
        return 0
    values = [v for v in usage.values() if isinstance(v, int | float)]
    return int(max(values)) if values else 0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ThreadsConnector(Connector):
    network = "threads"
    label = _("Threads")
    connect_method = "oauth"
    capabilities = Capabilities(
        publish=True,
        images=True,
        videos=True,
        alt_text=True,
        replies=True,
        threads=True,
        direct_messages=False,
        delete=True,
        inbox=True,
        metrics=True,
        impressions=True,
        content_warning=False,
        visibility=False,
        language=False,
        lookup_recent=True,
        hide_replies=True,
        refresh_credentials=True,
        idempotency_window_seconds=0,
    )
    limits = Limits(
        max_text=MAX_TEXT,
        text_counting="emoji_bytes",
        max_media=MAX_MEDIA,
        max_image_bytes=MAX_IMAGE_BYTES,
        alt_text_max=1000,
        image_mime_types=("image/jpeg", "image/png"),
        max_videos=1,
        video_mime_types=VIDEO_MIME_TYPES,
        max_video_bytes=MAX_VIDEO_BYTES,
        max_video_seconds=MAX_VIDEO_SECONDS,
        video_alone=True,
    )
    refresh_ahead: ClassVar[timedelta] = REFRESH_AHEAD
    permissions = PERMISSIONS

    # --- plumbing ---------------------------------------------------------------

    def _base(self, account: ChannelAccount | None) -> str:
        return (account.server_url if account is not None and account.server_url else "") or (
            api_base()
        )

    def _request(
        self,
        method: str,
        base: str,
        url_path: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        outcome_matters: bool = False,
    ) -> http.HttpResponse:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = http.http_request(
                method,
                base.rstrip("/") + url_path,
                headers=headers,
                params=dict(params or {}) or None,
                data=dict(data or {}) or None,
                timeout=self.timeout,
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("this address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok:
            return response
        raise classify(response, outcome_matters=outcome_matters)

    def _json(self, response: http.HttpResponse, *, outcome_matters: bool = False) -> Any:
        try:
            body = response.json()
        except ValueError as exc:
            error = UnknownOutcome if outcome_matters else TransientError
            raise error(detail=f"Answer is not JSON ({response.status})") from exc
        if not isinstance(body, dict):
            error = UnknownOutcome if outcome_matters else TransientError
            raise error(detail="Answer is not a JSON object")
        return body

    def _get(
        self, account: ChannelAccount, url_path: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = self._request(
            "GET", self._base(account), url_path, token=self._token(account), params=params
        )
        body: dict[str, Any] = self._json(response)
        return body

    def _token(self, account: ChannelAccount) -> str:
        token = str((account.credentials or {}).get("access_token") or "")
        if not token:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        return token

    def _user(self, account: ChannelAccount) -> str:
        if not account.remote_id:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        return account.remote_id

    # --- connect ----------------------------------------------------------------

    def oauth_start(self, *, client: OAuthClient) -> OAuthStart:
        # Threads takes the permissions comma-separated (a string is passed through as is).
        session = OAuth2Session(
            client_id=client.client_id,
            redirect_uri=client.redirect_uri,
            scope=",".join(client.scopes),
        )
        url, state = session.authorization_url(authorize_url())
        return OAuthStart(authorization_url=url, state=state, code_verifier="")

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
                    "The answer from the sign-in page does not match the request we sent. "
                    "Start connecting again."
                )
            )
        base = client.server_url or api_base()
        body = WebApplicationClient(client.client_id).prepare_request_body(
            code=code.removesuffix("#_"),
            redirect_uri=client.redirect_uri,
            client_secret=client.client_secret,
            include_client_id=True,
        )
        form = {k: v[0] for k, v in _parse_form(body).items()}
        try:
            short = self._json(self._request("POST", base, path("code_token"), data=form))
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext("Threads did not accept the sign-in. Start connecting again."),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        short_token = str(short.get("access_token") or "")
        # The answer's user_id is a number; every other id is a string.
        user_id = str(short.get("user_id") or "")
        if not short_token or not user_id:
            raise TransientError(detail="Token answer without access_token or user_id")
        long = self._json(
            self._request(
                "GET",
                base,
                path("long_lived_token"),
                params={
                    "grant_type": "th_exchange_token",
                    "client_secret": client.client_secret,
                    "access_token": short_token,
                },
            )
        )
        access_token = str(long.get("access_token") or "")
        if not access_token:
            raise TransientError(detail="Long-lived token answer without access_token")
        expires_at = _expiry(long.get("expires_in"))
        granted = self._granted_scopes(base, access_token) or tuple(client.scopes)
        missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
        if missing:
            raise AuthError(
                gettext("Threads granted less access than GovSocial needs (missing: %(scopes)s).")
                % {"scopes": ", ".join(missing)}
            )
        profile = self._profile(base, access_token)
        if str(profile.get("id")) != user_id:
            raise TransientError(detail="Profile id differs from the token's user_id")
        return ConnectedAccount(
            remote_id=user_id,
            handle="@" + str(profile.get("username") or user_id),
            display_name=str(profile.get("name") or profile.get("username") or ""),
            server_url=base,
            credentials={
                "access_token": access_token,
                "token_type": "bearer",
                "issued_at": timezone.now().isoformat(),
            },
            credentials_expire_at=expires_at,
            scopes=granted,
            profile_url=f"https://www.threads.com/@{profile.get('username') or ''}",
        )

    def _profile(self, base: str, token: str) -> dict[str, Any]:
        body: dict[str, Any] = self._json(
            self._request(
                "GET", base, path("profile"), token=token, params={"fields": "id,username,name"}
            )
        )
        if not body.get("id"):
            raise TransientError(detail="Profile answer without an id")
        return body

    def _granted_scopes(self, base: str, token: str) -> tuple[str, ...]:
        """The permissions the token really carries (``debug_token``); empty when unknown."""
        try:
            body = self._json(
                self._request(
                    "GET", base, path("debug_token"), token=token, params={"input_token": token}
                )
            )
        except (TransientError, Rejected):
            return ()
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        return tuple(str(s) for s in (data or {}).get("scopes") or ())

    def check_health(self, account: ChannelAccount) -> HealthResult:
        base, token = self._base(account), self._token(account)
        profile = self._profile(base, token)
        scopes = self._granted_scopes(base, token) or tuple(account.scopes or ())
        return HealthResult(
            remote_id=str(profile["id"]),
            handle="@" + str(profile.get("username") or profile["id"]),
            display_name=str(profile.get("name") or ""),
            profile_url=f"https://www.threads.com/@{profile.get('username') or ''}",
            scopes=scopes,
        )

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        """Renew the long-lived token (it must be at least a day old and unexpired)."""
        credentials = dict(account.credentials or {})
        issued = parse_time(credentials.get("issued_at"))
        if issued is not None and timezone.now() - issued < TOKEN_MIN_AGE:
            raise TransientError(
                gettext("Threads renews a sign-in only once it is a day old. We will try later.")
            )
        response = self._request(
            "GET",
            self._base(account),
            path("refresh_token"),
            params={"grant_type": "th_refresh_token", "access_token": self._token(account)},
        )
        body = self._json(response)
        token = str(body.get("access_token") or "")
        if not token:
            raise TransientError(detail="Refresh answer without access_token")
        credentials.update(access_token=token, issued_at=timezone.now().isoformat())
        return CredentialUpdate(credentials=credentials, expires_at=_expiry(body.get("expires_in")))

    # --- rules ------------------------------------------------------------------

    def text_length(self, text: str, *, account: ChannelAccount | None = None) -> int:
        return threads_length(text)

    def publishing_quota(self, account: ChannelAccount) -> PublishingQuota:
        """The account's use of its 24-hour quotas (``threads_publishing_limit``)."""
        fields = "quota_usage,config"
        if "threads_manage_replies" in (account.scopes or ()):
            fields += ",reply_quota_usage,reply_config"
        body = self._get(
            account,
            path("publishing_limit", user=self._user(account)),
            {"fields": fields},
        )
        entries = body.get("data") or [{}]
        entry = entries[0] if isinstance(entries[0], dict) else {}
        config = entry.get("config") or {}
        reply_config = entry.get("reply_config") or {}
        replies_used = _int(entry.get("reply_quota_usage"))
        return PublishingQuota(
            posts_used=_int(entry.get("quota_usage")) or 0,
            posts_total=_int(config.get("quota_total")) or POST_QUOTA,
            window_seconds=_int(config.get("quota_duration")) or 86400,
            replies_used=replies_used,
            replies_total=(_int(reply_config.get("quota_total")) or REPLY_QUOTA)
            if replies_used is not None
            else None,
        )

    # --- publishing -------------------------------------------------------------

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        from accounts.services import publish_checkpoint_get, publish_checkpoint_save

        token, user = self._token(account), self._user(account)
        key = request.idempotency_key
        checkpoint = publish_checkpoint_get(account=account, key=key) if key else {}
        container_id = str(checkpoint.get("container_id") or "")
        if container_id:
            status, _message = self._container_status(account, token, container_id)
            if status == "PUBLISHED":
                # It went out before the answer was lost: find it, never send it again.
                return self._find_published(account, request, checkpoint)
            if status not in ("FINISHED", "IN_PROGRESS"):
                container_id = ""  # ERROR or EXPIRED and never published: start again
        if not container_id:
            container_id = self._create_post_container(account, token, user, request)
            if key:
                publish_checkpoint_save(
                    account=account,
                    key=key,
                    data={
                        "container_id": container_id,
                        "created_at": timezone.now().isoformat(),
                        "text": request.text,
                        "reply_to_id": request.reply_to.remote_id if request.reply_to else "",
                    },
                )
        video = any(item.is_video for item in request.media)
        self._wait_until_finished(account, token, container_id, video=video)
        response = self._request(
            "POST",
            self._base(account),
            path("publish", user=user),
            token=token,
            data={"creation_id": container_id},
            outcome_matters=True,
        )
        media_id = str(self._json(response, outcome_matters=True).get("id") or "")
        if not media_id:
            raise UnknownOutcome(detail="threads_publish answered without an id")
        if key:
            publish_checkpoint_save(
                account=account,
                key=key,
                data={**checkpoint, "container_id": container_id, "media_id": media_id},
            )
        return PublishResult(
            remote_id=media_id,
            url=self._permalink(account, token, media_id),
            published_at=timezone.now(),
            extra={"container_id": container_id},
        )

    def _permalink(self, account: ChannelAccount, token: str, media_id: str) -> str:
        """The post's address (best effort: the post exists whether or not this answers)."""
        try:
            body = self._json(
                self._request(
                    "GET",
                    self._base(account),
                    path("node", id=media_id),
                    token=token,
                    params={"fields": "permalink"},
                )
            )
        except ConnectorError:
            return ""
        return str(body.get("permalink") or "")

    def _find_published(
        self, account: ChannelAccount, request: PublishRequest, checkpoint: Mapping[str, Any]
    ) -> PublishResult:
        if checkpoint.get("media_id"):
            media_id = str(checkpoint["media_id"])
            return PublishResult(
                remote_id=media_id,
                url=self._permalink(account, self._token(account), media_id),
                extra={"container_id": str(checkpoint.get("container_id") or "")},
            )
        created = parse_time(checkpoint.get("created_at")) or (timezone.now() - timedelta(days=1))
        wanted = " ".join(request.text.split())
        reply_to_id = request.reply_to.remote_id if request.reply_to else ""
        for post in self.lookup_recent(
            account, since=created - timedelta(minutes=2), limit=50, replies=bool(reply_to_id)
        ):
            if " ".join(post.text.split()) == wanted and (
                not reply_to_id or post.reply_to_id == reply_to_id
            ):
                return PublishResult(
                    remote_id=post.ref.remote_id,
                    url=post.ref.url,
                    published_at=post.created_at,
                    extra={"container_id": str(checkpoint.get("container_id") or "")},
                )
        raise UnknownOutcome(
            gettext(
                "Threads says this post was published, but it is not among the account's "
                "posts yet. We will look again; it will not be sent twice."
            )
        )

    def _create_post_container(
        self, account: ChannelAccount, token: str, user: str, request: PublishRequest
    ) -> str:
        base: dict[str, str] = {}
        if request.text:
            base["text"] = request.text
        if request.reply_to is not None:
            base["reply_to_id"] = request.reply_to.remote_id
        reply_control = request.reply_control
        if reply_control:
            if reply_control not in REPLY_CONTROLS:
                raise Rejected(gettext("Threads does not know that choice of who may reply."))
            base["reply_control"] = reply_control
        media = list(request.media)
        for item in media:
            if not item.public_url:
                raise Rejected(
                    gettext(
                        "Threads fetches images and videos from a public web address, and "
                        "this one has none. Ask an administrator to check the site's public "
                        "address."
                    )
                )
        if not media:
            link = URL_RE.search(request.text or "")
            if link and request.reply_to is None:
                base["link_attachment"] = link.group(0).rstrip(".,;:!?)")
            return self._create_container(account, token, user, {"media_type": "TEXT", **base})
        if len(media) == 1 and media[0].is_video:
            # documentation/threads/posts: a video post is one VIDEO container whose
            # video_url Threads downloads (with alt_text, documentation/threads/posts/
            # accessibility); it processes for a while before it can be published.
            return self._create_container(
                account,
                token,
                user,
                {"media_type": "VIDEO", **_video_fields(media[0]), **base},
            )
        if len(media) == 1:
            return self._create_container(
                account,
                token,
                user,
                {"media_type": "IMAGE", **_image_fields(media[0]), **base},
            )
        children = [
            self._create_container(
                account,
                token,
                user,
                {"media_type": "IMAGE", "is_carousel_item": "true", **_image_fields(item)},
            )
            for item in media
        ]
        for child in children:
            self._wait_until_finished(account, token, child)
        return self._create_container(
            account,
            token,
            user,
            {"media_type": "CAROUSEL", "children": ",".join(children), **base},
        )

    def _create_container(
        self, account: ChannelAccount, token: str, user: str, fields: Mapping[str, str]
    ) -> str:
        # A container is not a post: creating one twice leaves an orphan that expires, so
        # failures here are ordinary (not unknown outcomes).
        response = self._request(
            "POST", self._base(account), path("containers", user=user), token=token, data=fields
        )
        container_id = str(self._json(response).get("id") or "")
        if not container_id:
            raise TransientError(detail="Container answer without an id")
        return container_id

    def _container_status(
        self, account: ChannelAccount, token: str, container_id: str
    ) -> tuple[str, str]:
        body = self._json(
            self._request(
                "GET",
                self._base(account),
                path("node", id=container_id),
                token=token,
                params={"fields": "status,error_message"},
            )
        )
        # Instagram names the field status_code; Threads status. Read either.
        status = str(body.get("status") or body.get("status_code") or "")
        return status, str(body.get("error_message") or "")

    def _wait_until_finished(
        self, account: ChannelAccount, token: str, container_id: str, *, video: bool = False
    ) -> None:
        for delay in (0.0, *(VIDEO_POLL_DELAYS if video else CONTAINER_POLL_DELAYS)):
            if delay:
                http.sleep(delay)
            status, message = self._container_status(account, token, container_id)
            if status == "FINISHED":
                return
            if status == "ERROR":
                reason = CONTAINER_ERRORS.get(message)
                if reason:
                    explained = str(reason)
                elif video:
                    explained = gettext(
                        "Threads could not process the video (%(code)s). Use an MP4 (H.264 "
                        "with AAC sound) of at most 5 minutes and 1 GB."
                    ) % {"code": message or "ERROR"}
                else:
                    explained = gettext(
                        "Threads could not process the media (%(code)s). Use a JPEG or PNG "
                        "image under 8 MB."
                    ) % {"code": message or "ERROR"}
                raise Rejected(explained, detail=message)
            if status == "EXPIRED":
                raise TransientError(
                    gettext("The prepared post expired on Threads before it was published."),
                    detail="EXPIRED",
                )
            if status == "PUBLISHED":
                raise UnknownOutcome(detail="Container already PUBLISHED")
        if video:
            raise TransientError(
                gettext(
                    "Threads is still processing the video. We will look again later; it "
                    "will not be sent twice."
                )
            )
        raise TransientError(gettext("Threads is still processing the media. We will try again."))

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        try:
            self._request(
                "DELETE",
                self._base(account),
                path("node", id=ref.remote_id),
                token=self._token(account),
            )
        except Rejected as exc:
            if exc.status_code == 404 or "not on Threads" in exc.message:
                return  # already gone
            raise

    def lookup_recent(
        self,
        account: ChannelAccount,
        *,
        since: datetime | None = None,
        limit: int = 20,
        replies: bool = True,
    ) -> list[RecentPost]:
        """The account's own recent posts, newest first, paged until ``since`` or ``limit``.
        Replies we published are found through the conversations of those posts."""
        user = self._user(account)
        params: dict[str, Any] = {"fields": POST_FIELDS, "limit": min(max(limit, 1), PAGE_LIMIT)}
        if since is not None:
            params["since"] = int(since.timestamp())
        posts: list[RecentPost] = []
        own = self._paged(account, path("own_posts", user=user), params, limit=limit)
        for entry in own:
            posts.append(self._recent(entry))
        # Complete when the posts since ``since`` ended before ``limit`` (the API filters
        # by ``since`` itself) and, for replies, every post's conversation was read.
        complete = since is not None and len(own) < limit and (not replies or len(own) <= 10)
        if replies:
            for post in list(posts)[:10]:
                for entry in self._paged(
                    account,
                    path("conversation", id=post.ref.remote_id),
                    {"fields": REPLY_FIELDS + ",owner", "reverse": "false", "limit": PAGE_LIMIT},
                    limit=100,
                ):
                    if str((entry.get("owner") or {}).get("id") or "") == user or (
                        entry.get("username") and "@" + str(entry.get("username")) == account.handle
                    ):
                        recent = self._recent(entry)
                        if since is None or recent.created_at is None or recent.created_at >= since:
                            posts.append(recent)
        return RecentPosts(posts, complete=complete)

    def _recent(self, entry: Mapping[str, Any]) -> RecentPost:
        return RecentPost(
            ref=RemoteRef(remote_id=str(entry["id"]), url=str(entry.get("permalink") or "")),
            text=str(entry.get("text") or ""),
            created_at=parse_time(entry.get("timestamp")),
            reply_to_id=str((entry.get("replied_to") or {}).get("id") or ""),
        )

    def _paged(
        self, account: ChannelAccount, url_path: str, params: Mapping[str, Any], *, limit: int
    ) -> list[dict[str, Any]]:
        """Follow ``paging.cursors.after`` while ``paging.next`` says there is more."""
        found: list[dict[str, Any]] = []
        query = dict(params)
        for _page in range(20):
            body = self._get(account, url_path, query)
            found.extend(e for e in body.get("data") or [] if isinstance(e, dict) and e.get("id"))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if len(found) >= limit or not paging.get("next") or not after:
                break
            query["after"] = after
        return found[:limit]

    # --- inbox ------------------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Replies to the account's recent posts (their whole conversations) and posts
        that mention it, newer than the cursor, oldest first.

        The cursor is ``{"t": epoch seconds, "ids": [...]}``: the newest time seen and
        the ids seen at that second, so items sharing a second are neither lost nor
        repeated."""
        state = _load_cursor(cursor)
        watermark = datetime.fromtimestamp(state["t"], UTC) if state["t"] else None
        seen = set(state["ids"])
        user = self._user(account)
        since = watermark or (timezone.now() - INBOX_WINDOW)
        post_window = min(since, timezone.now() - INBOX_WINDOW)
        items: dict[str, InboxItem] = {}
        own = self._paged(
            account,
            path("own_posts", user=user),
            {"fields": "id", "limit": INBOX_POSTS, "since": int(post_window.timestamp())},
            limit=INBOX_POSTS,
        )
        for post in own:
            for entry in self._paged(
                account,
                path("conversation", id=str(post["id"])),
                {"fields": REPLY_FIELDS, "reverse": "false", "limit": PAGE_LIMIT},
                limit=500,
            ):
                if "@" + str(entry.get("username") or "") == account.handle:
                    continue  # our own answers
                items[str(entry["id"])] = self._inbox_item(entry, kind="reply")
        if "threads_manage_mentions" in (account.scopes or ()):
            params = {
                "fields": REPLY_FIELDS,
                "limit": PAGE_LIMIT,
                "since": max(int(since.timestamp()), 1688540400),
            }
            try:
                mentions = self._paged(account, path("mentions", user=user), params, limit=500)
            except AuthError as exc:
                if exc.status_code != 403:
                    raise
                mentions = []  # the permission was not granted after all
            for entry in mentions:
                items.setdefault(str(entry["id"]), self._inbox_item(entry, kind="mention"))
        fresh = [
            item
            for item in items.values()
            if item.created_at is not None
            and (
                watermark is None
                or item.created_at > watermark
                or (item.created_at == watermark and item.remote_id not in seen)
            )
        ]
        fresh.sort(key=lambda item: (item.created_at or since, int(item.remote_id)))
        if fresh:
            newest = max(item.created_at for item in fresh if item.created_at)
            at_newest = {i.remote_id for i in fresh if i.created_at == newest}
            if watermark is not None and newest == watermark:
                at_newest |= seen
            next_cursor = json.dumps({"t": int(newest.timestamp()), "ids": sorted(at_newest)})
        else:
            next_cursor = cursor or json.dumps({"t": int(since.timestamp()), "ids": []})
        return InboxPage(items=fresh, next_cursor=next_cursor, has_more=False)

    def _inbox_item(self, entry: Mapping[str, Any], *, kind: str) -> InboxItem:
        username = str(entry.get("username") or "")
        replied_to = str((entry.get("replied_to") or {}).get("id") or "")
        root = str((entry.get("root_post") or {}).get("id") or "")
        return InboxItem(
            remote_id=str(entry["id"]),
            kind="reply" if kind == "reply" else "mention",
            author_handle="@" + username if username else "",
            author_name=username,
            text=str(entry.get("text") or ""),
            created_at=parse_time(entry.get("timestamp")),
            url=str(entry.get("permalink") or ""),
            in_reply_to=RemoteRef(remote_id=replied_to) if replied_to else None,
            thread_root=RemoteRef(remote_id=root) if root else None,
            raw={
                "media_type": str(entry.get("media_type") or ""),
                "hide_status": str(entry.get("hide_status") or ""),
            },
        )

    def hide_reply(self, account: ChannelAccount, ref: RemoteRef, *, hide: bool = True) -> None:
        """Hide (or show again) a top-level reply to one of the account's posts; its
        nested replies follow (documentation/threads/reply-management)."""
        response = self._request(
            "POST",
            self._base(account),
            path("manage_reply", id=ref.remote_id),
            token=self._token(account),
            data={"hide": "true" if hide else "false"},
        )
        if not self._json(response).get("success"):
            raise TransientError(detail="manage_reply did not answer success")

    # --- metrics ----------------------------------------------------------------

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        metrics: list[PostMetrics] = []
        token = self._token(account)
        last: http.HttpResponse | None = None
        for ref in refs:
            self._pace(last)
            try:
                last = self._request(
                    "GET",
                    self._base(account),
                    path("media_insights", id=ref.remote_id),
                    token=token,
                    params={"metric": ",".join(MEDIA_METRICS)},
                )
            except Rejected as exc:
                if "not on Threads" in exc.message:
                    metrics.append(PostMetrics(remote_id=ref.remote_id, deleted=True))
                    continue
                raise
            values = _insight_values(self._json(last))
            metrics.append(
                PostMetrics(
                    remote_id=ref.remote_id,
                    likes=values.get("likes"),
                    shares=_sum(values.get("reposts"), values.get("shares")),
                    replies=values.get("replies"),
                    quotes=values.get("quotes"),
                    impressions=values.get("views"),
                )
            )
        return metrics

    def _pace(self, last: http.HttpResponse | None) -> None:
        """Stop a metric pull while the app's call budget is mostly used (usage headers),
        before Threads itself starts refusing."""
        if last is not None and usage_percent(last) >= USAGE_SLOWDOWN_PERCENT:
            raise RateLimited(
                USAGE_PAUSE_SECONDS,
                gettext(
                    "This Threads app has used most of its calls for now; figures are read "
                    "again later so that publishing keeps working."
                ),
            )

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        body = self._get(
            account,
            path("user_insights", user=self._user(account)),
            {"metric": ",".join(ACCOUNT_METRICS)},
        )
        return AccountMetrics(followers=_insight_values(body).get("followers_count"))


def _image_fields(item: MediaItem) -> dict[str, str]:
    fields = {"image_url": str(item.public_url)}
    if item.alt_text:
        fields["alt_text"] = item.alt_text
    return fields


def _video_fields(item: MediaItem) -> dict[str, str]:
    fields = {"video_url": str(item.public_url)}
    if item.alt_text:
        fields["alt_text"] = item.alt_text
    return fields


def _insight_values(body: Mapping[str, Any]) -> dict[str, int]:
    """Insights in either shape: ``values[{value}]`` (summed) or ``total_value{value}``."""
    values: dict[str, int] = {}
    for entry in body.get("data") or []:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        total = entry.get("total_value")
        if isinstance(total, dict) and isinstance(total.get("value"), int):
            values[str(entry["name"])] = total["value"]
            continue
        numbers = [v.get("value") for v in entry.get("values") or [] if isinstance(v, dict)]
        ints = [n for n in numbers if isinstance(n, int)]
        if ints:
            values[str(entry["name"])] = sum(ints)
    return values


def _sum(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _expiry(expires_in: Any) -> datetime | None:
    seconds = _int(expires_in)
    return timezone.now() + timedelta(seconds=seconds) if seconds else None


def _load_cursor(cursor: str | None) -> dict[str, Any]:
    try:
        state = json.loads(cursor) if cursor else {}
    except ValueError:
        state = {}
    if not isinstance(state, dict):
        state = {}
    return {
        "t": _int(state.get("t")) or 0,
        "ids": [str(i) for i in state.get("ids") or [] if isinstance(i, str | int)],
    }


def _parse_form(body: str) -> dict[str, list[str]]:
    return parse_qs(body, keep_blank_values=True)
