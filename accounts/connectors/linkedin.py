"""LinkedIn organization pages, through the versioned Community Management API.

Each organization enters its own LinkedIn app (``NetworkApp`` network "linkedin")
with the Community Management API product. People connect with 3-legged OAuth
(authorization code and a state; LinkedIn has no PKCE for web apps), then pick
which of the pages they administer become channel accounts: one token serves
them all. Access tokens last 60 days; only approved partners also get a refresh
token (365 days from the first consent, not extended by refreshing), so most
accounts must be reconnected, and the app warns 14 days ahead.

Every ``/rest`` call names the API version (``settings.LINKEDIN_API_VERSION``) and
Rest.li 2.0.0; URNs are URL-encoded in paths and queries. There is no idempotency
key: a 422 ``DUPLICATE_POST`` names the earlier post's URN, which is confirmed
with a GET (a deleted post leaves a "ghost" URN behind), and an unknown outcome
is reconciled by reading the page's recent posts.

Facts: NETWORK-APIS.md §6 and learn.microsoft.com/linkedin pages named in ``API``.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
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
from accounts.connectors.captions import srt_from_vtt
from accounts.models import ChannelAccount

# --- the one table: endpoints, version, scopes and limits ---------------------------------

API: dict[str, str] = {
    # shared/authentication/authorization-code-flow
    "authorize": "/oauth/v2/authorization",
    "token": "/oauth/v2/accessToken",
    # marketing/community-management/organizations/organization-access-control-by-role
    "acls": "/rest/organizationAcls",
    # marketing/community-management/organizations/organization-lookup-api
    "organization": "/rest/organizations/{id}",
    # marketing/community-management/shares/posts-api
    "posts": "/rest/posts",
    "post": "/rest/posts/{urn}",
    # marketing/community-management/shares/images-api
    "images": "/rest/images",
    # marketing/community-management/shares/videos-api
    "videos": "/rest/videos",
    "video": "/rest/videos/{urn}",
    # marketing/community-management/shares/documents-api
    "documents": "/rest/documents",
    "document": "/rest/documents/{urn}",
    # marketing/community-management/shares/comments-api
    "comments": "/rest/socialActions/{urn}/comments",
    # marketing/community-management/organizations/share-statistics
    "share_statistics": "/rest/organizationalEntityShareStatistics",
    # marketing/community-management/organizations/follower-statistics
    "follower_statistics": "/rest/organizationalEntityFollowerStatistics",
}
# marketing/versioning: a version (YYYYMM) is sunset about a year after its release
# ("202304 - April 15, 2024"; "202508 will be sunset on August 17, 2026"; "202601 will
# be sunset on January 15, 2027"). Known dates; others: the 15th, a year on.
VERSION_SUNSETS: dict[str, date] = {
    "202504": date(2026, 4, 15),
    "202508": date(2026, 8, 17),
    "202601": date(2027, 1, 15),
    "202604": date(2027, 4, 15),
    "202609": date(2027, 9, 15),
}
VERSION_WARNING_DAYS = 61  # "within two months of its sunset"
# community-management/community-management-overview (permissions): post, comment and
# read as the organization, list its pages and read their statistics.
SCOPES = ("w_organization_social", "r_organization_social", "rw_organization_admin")
# organization-access-control-by-role: who may post as the page, and who reads statistics.
POSTING_ROLES = frozenset(
    {
        "ADMINISTRATOR",
        "CONTENT_ADMINISTRATOR",
        "DIRECT_SPONSORED_CONTENT_POSTER",
        "RECRUITING_POSTER",
    }
)
ACCESS_TOKEN_DAYS = 60
CONSENT_SETTLE_SECONDS = 3.0
TEXT_MAX = 3000
# posts-api (altText): at most 4,086 characters; multiimage-post-api: 2 to 20 images.
ALT_TEXT_MAX = 4086
MAX_IMAGES = 20
DOCUMENT_TYPES = ("application/pdf",)
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
PAGE_SIZE = 50
# How far back lookups and the inbox read the page's posts.
LOOKUP_MAX_PAGES = 10
INBOX_POSTS = 20
INBOX_MAX_AGE = timedelta(days=30)
DOCUMENT_POLL_DELAYS = (0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0)
# videos-api ("Video specifications"): MP4, 3 seconds to 30 minutes, 75 KB to 500 MB, aspect
# ratio 1:2.4 to 2.4:1; uploaded in the parts ``uploadInstructions`` name (4 MB each), the
# captions as one SRT file and the thumbnail as an image, both optional.
VIDEO_MIME_TYPES = ("video/mp4",)
VIDEO_MIN_BYTES = 75 * 1024
VIDEO_MAX_BYTES = 500 * 1024 * 1024
VIDEO_MIN_SECONDS = 3
VIDEO_MAX_SECONDS = 30 * 60
# How long one publish looks at a video LinkedIn is processing (seconds between looks);
# past it the publish is tried again later with the video already uploaded.
VIDEO_POLL_DELAYS = (1.0, 2.0, 3.0, 5.0, 5.0, 10.0, 10.0, 15.0, 15.0, 30.0, 30.0, 60.0)
FEED_URL = "https://www.linkedin.com/feed/update/{urn}/"
# "little text" (shared/api-guide/concepts/little-text-format): these must be escaped.
LITTLE_TEXT_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
HASHTAG = re.compile(r"(?<![\w\\])#(\w+)")
URL = re.compile(r"https?://[^\s<>\"]+")
DUPLICATE_URN = re.compile(r"(urn:li:(?:share|ugcPost):\d+)")


def api_url() -> str:
    return str(getattr(settings, "LINKEDIN_API_URL", "https://api.linkedin.com")).rstrip("/")


def auth_url() -> str:
    return str(getattr(settings, "LINKEDIN_AUTH_URL", "https://www.linkedin.com")).rstrip("/")


def api_version() -> str:
    return str(getattr(settings, "LINKEDIN_API_VERSION", "202609"))


def version_sunset(version: str) -> date | None:
    """When LinkedIn retires ``version`` (YYYYMM): the known date, else a year after."""
    if version in VERSION_SUNSETS:
        return VERSION_SUNSETS[version]
    if not re.fullmatch(r"20\d{2}(0[1-9]|1[0-2])", version):
        return None
    return date(int(version[:4]) + 1, int(version[4:]), 15)


@dataclass(frozen=True)
class VersionWarning:
    version: str
    sunset: date
    days_left: int

    @property
    def sunset_passed(self) -> bool:
        return self.days_left < 0


def version_warning(*, today: date | None = None) -> VersionWarning | None:
    """A warning for admins when the configured version is within two months of its
    sunset (or past it); None while it is safe."""
    version = api_version()
    sunset = version_sunset(version)
    if sunset is None:
        return None
    today = today or timezone.now().date()
    left = (sunset - today).days
    if left > VERSION_WARNING_DAYS:
        return None
    return VersionWarning(version=version, sunset=sunset, days_left=left)


# --- text -------------------------------------------------------------------------------


def escape_little_text(text: str) -> str:
    """Plain text as ``commentary``: reserved characters escaped, hashtags kept as
    LinkedIn's hashtag template so they stay links."""
    parts: list[str] = []
    last = 0
    for match in HASHTAG.finditer(text):
        parts.append(LITTLE_TEXT_RESERVED.sub(r"\\\1", text[last : match.start()]))
        parts.append("{hashtag|\\#|" + match.group(1) + "}")
        last = match.end()
    parts.append(LITTLE_TEXT_RESERVED.sub(r"\\\1", text[last:]))
    return "".join(parts)


_TEMPLATE = re.compile(r"\{hashtag\|\\#\|([^}]*)\}|@\[([^\]]*)\]\([^)]*\)")


def unescape_little_text(text: str) -> str:
    """``commentary`` as the plain text a person wrote (templates become their words)."""

    def template(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "#" + match.group(1)
        return match.group(2)

    return re.sub(r"\\(.)", r"\1", _TEMPLATE.sub(template, text))


def _urn(value: str) -> str:
    """A URN for a path or query: every reserved character encoded (shared/api-guide/
    concepts/urns)."""
    return quote(value, safe="")


def _org_urn(account: ChannelAccount) -> str:
    return f"urn:li:organization:{account.remote_id}"


def _parse_ms(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    return None


def _post_of_comment(urn: str) -> str:
    """``urn:li:comment:(urn:li:share:1,2)`` → ``urn:li:share:1``."""
    match = re.fullmatch(r"urn:li:comment:\((.+),\w+\)", urn)
    return match.group(1) if match else ""


class _PageTitle(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            name = values.get("property") or values.get("name") or ""
            if name in ("og:title", "og:description", "description") and values.get("content"):
                self.meta.setdefault(name, str(values["content"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@dataclass(frozen=True)
class Page:
    """An organization page the signed-in member holds a role on."""

    remote_id: str
    name: str
    vanity_name: str
    role: str

    @property
    def can_post(self) -> bool:
        return self.role in POSTING_ROLES


@dataclass(frozen=True)
class LinkedInSignIn:
    """What a finished sign-in yields: the token bundle and the member's pages."""

    credentials: Mapping[str, Any]
    expires_at: datetime
    scopes: tuple[str, ...]
    pages: tuple[Page, ...]

    def connected(self, page: Page) -> ConnectedAccount:
        return ConnectedAccount(
            remote_id=page.remote_id,
            handle=page.vanity_name or page.remote_id,
            display_name=page.name,
            server_url=api_url(),
            credentials=dict(self.credentials),
            credentials_expire_at=self.expires_at,
            scopes=self.scopes,
            profile_url=f"https://www.linkedin.com/company/{page.vanity_name or page.remote_id}/",
        )


class LinkedInConnector(Connector):
    network = "linkedin"
    label = _("LinkedIn")
    connect_method = "oauth"
    capabilities = Capabilities(
        publish=True,
        images=True,
        videos=True,
        alt_text=True,
        replies=True,
        threads=False,
        direct_messages=False,
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
    reconnect_help = _(
        "LinkedIn ends every sign-in after 60 days. To renew it, an admin of the page opens "
        "the account in GovSocial, chooses Reconnect, signs in at LinkedIn and ticks the "
        "same page: its scheduled posts stay as they are."
    )
    limits = Limits(
        max_text=TEXT_MAX,
        text_counting="chars",
        max_media=MAX_IMAGES,
        alt_text_max=ALT_TEXT_MAX,
        image_mime_types=("image/jpeg", "image/png", "image/gif"),
        max_videos=1,
        video_mime_types=VIDEO_MIME_TYPES,
        max_video_bytes=VIDEO_MAX_BYTES,
        max_video_seconds=VIDEO_MAX_SECONDS,
        video_alone=True,
    )

    # --- plumbing ---------------------------------------------------------------

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": api_version(),
            "X-Restli-Protocol-Version": "2.0.0",
            "Accept": "application/json",
        }

    def _request(
        self,
        method: str,
        url: str,
        *,
        token: str,
        outcome_matters: bool = False,
        ok_statuses: Sequence[int] = (),
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        rest: bool = True,
    ) -> http.HttpResponse:
        """One call, every failure classified. ``outcome_matters`` marks a write that
        must not happen twice (creating a post): no answer is an unknown outcome."""
        request_headers = self._headers(token) if rest else {"Authorization": f"Bearer {token}"}
        request_headers.update(headers or {})
        try:
            response = http.http_request(
                method, url, headers=request_headers, json=json, data=data, timeout=self.timeout
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("this address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok or response.status in ok_statuses:
            return response
        raise self._classify(response, outcome_matters=outcome_matters)

    def _get(self, account: ChannelAccount, url: str, **kwargs: Any) -> Any:
        return self._json(self._request("GET", url, token=self._token(account), **kwargs))

    @staticmethod
    def _error_body(response: http.HttpResponse) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {"message": response.text[:300]}
        return body if isinstance(body, dict) else {}

    def _classify(self, response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
        """LinkedIn's ``{status, serviceErrorCode, code, message}`` as one of the five kinds
        (shared/api-guide/concepts/error-handling), in words a comms person understands."""
        status = response.status
        body = self._error_body(response)
        code = str(body.get("code") or "")
        detail = f"{status} {code} {body.get('serviceErrorCode', '')} {body.get('message', '')}"
        detail = " ".join(detail.split())
        if status == 401:
            if body.get("serviceErrorCode") == 65601 or code == "REVOKED_ACCESS_TOKEN":
                message = gettext(
                    "Someone withdrew GovSocial's access on LinkedIn. An admin of the page must "
                    "reconnect it."
                )
            else:
                message = gettext(
                    "LinkedIn's sign-in for this page has expired (LinkedIn ends it after 60 "
                    "days). An admin of the page must reconnect it."
                )
            return AuthError(message, status_code=status, detail=detail)
        if status == 403:
            return AuthError(
                gettext(
                    "LinkedIn refused: a permission is missing, or the person who connected "
                    "the page is no longer one of its admins. An admin of the page must "
                    "reconnect it (check the app's Community Management API product too)."
                ),
                status_code=status,
                detail=detail,
            )
        if status == 429:
            # Daily limits, reset at midnight UTC; LinkedIn sends no header saying when.
            now = datetime.now(UTC)
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            return RateLimited(
                (midnight - now).total_seconds() + 60,
                gettext(
                    "LinkedIn's daily limit for this page is reached. We will try again after "
                    "midnight (UTC)."
                ),
                status_code=status,
                detail=detail,
            )
        if status == 426 or code in ("NONEXISTENT_VERSION", "VERSION_MISSING"):
            return Rejected(
                gettext(
                    "LinkedIn no longer accepts API version %(version)s that GovSocial uses. "
                    "The administrator of this GovSocial installation must update "
                    "LINKEDIN_API_VERSION."
                )
                % {"version": api_version()},
                status_code=status,
                detail=detail,
            )
        if outcome_matters and status in (502, 504):
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        if status == 404:
            return Rejected(
                gettext("it is no longer on LinkedIn"), status_code=status, detail=detail
            )
        message = str(body.get("message") or "") or gettext("LinkedIn refused it")
        return Rejected(message[:300], status_code=status, detail=detail)

    def _json(self, response: http.HttpResponse, *, outcome_matters: bool = False) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            error = UnknownOutcome if outcome_matters else TransientError
            raise error(detail=f"Answer is not JSON ({response.status})") from exc

    def _token(self, account: ChannelAccount) -> str:
        token = str((account.credentials or {}).get("access_token") or "")
        if not token:
            raise AuthError(gettext("No sign-in is stored for this page. Connect it again."))
        return token

    def _base(self, account: ChannelAccount | None = None) -> str:
        # The API address is ours, recorded at connect time, never typed in by a person.
        return account.server_url if account is not None and account.server_url else api_url()

    # --- connect ----------------------------------------------------------------

    def oauth_start(self, *, client: OAuthClient) -> OAuthStart:
        session = OAuth2Session(
            client_id=client.client_id, redirect_uri=client.redirect_uri, scope=list(client.scopes)
        )
        url, state = session.authorization_url(client.server_url + API["authorize"])
        return OAuthStart(authorization_url=url, state=state, code_verifier="")

    def sign_in(
        self, *, client: OAuthClient, code: str, returned_state: str, expected_state: str
    ) -> LinkedInSignIn:
        """Trade the code for a token and list the pages the member holds a role on."""
        if not expected_state or not hmac.compare_digest(returned_state, expected_state):
            raise AuthError(
                gettext(
                    "The answer from LinkedIn's sign-in page does not match the request we "
                    "sent. Start connecting again."
                )
            )
        try:
            response = http.http_request(
                "POST",
                client.server_url + API["token"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": client.client_id,
                    "client_secret": client.client_secret,
                    "redirect_uri": client.redirect_uri,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=self.timeout,
            )
        except http.HttpError as exc:
            raise TransientError(detail=str(exc)) from exc
        token = self._token_answer(response)
        access_token = token["access_token"]
        now = timezone.now()
        credentials = self._credentials(token, now=now)
        granted = tuple(sorted(set(re.split(r"[ ,]+", str(token.get("scope") or ""))) - {""}))
        # The comments API's newer pages name the social permissions ``*_feed``.
        missing = [
            scope
            for scope in SCOPES
            if granted and scope not in granted and f"{scope}_feed" not in granted
        ]
        if missing:
            raise AuthError(
                gettext(
                    "LinkedIn granted less access than GovSocial needs (missing: %(scopes)s). "
                    "Check that the app has the Community Management API product."
                )
                % {"scopes": ", ".join(missing)}
            )
        try:
            pages = self.pages(access_token)
        except AuthError as exc:
            # A new token is sometimes refused as revoked (65601) for a few seconds
            # after consent (NETWORK-APIS.md §6): wait once, then ask again.
            if "65601" not in exc.detail:
                raise
            http.sleep(CONSENT_SETTLE_SECONDS)
            pages = self.pages(access_token)
        return LinkedInSignIn(
            credentials=credentials,
            expires_at=now + timedelta(seconds=int(token.get("expires_in") or 0)),
            scopes=granted or SCOPES,
            pages=tuple(pages),
        )

    def _token_answer(self, response: http.HttpResponse) -> dict[str, Any]:
        body = self._error_body(response)
        if response.status in (400, 401):
            raise AuthError(
                gettext("LinkedIn did not accept the sign-in (%(error)s). Start connecting again.")
                % {"error": body.get("error_description") or body.get("error") or response.status},
                status_code=response.status,
            )
        if not response.ok:
            raise self._classify(response, outcome_matters=False)
        if not body.get("access_token"):
            raise TransientError(detail="Token answer without an access token")
        return body

    @staticmethod
    def _credentials(token: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
        credentials: dict[str, Any] = {"access_token": str(token["access_token"])}
        if token.get("refresh_token"):
            credentials["refresh_token"] = str(token["refresh_token"])
            seconds = int(token.get("refresh_token_expires_in") or 0)
            credentials["refresh_token_expires_at"] = (now + timedelta(seconds=seconds)).isoformat()
        return credentials

    def pages(self, access_token: str, *, only: str = "") -> list[Page]:
        """Organization pages the member holds an approved role on (every role; the
        caller offers only those that can post)."""
        base = api_url()
        roles: dict[str, str] = {}
        start = 0
        for _page in range(LOOKUP_MAX_PAGES):
            response = self._request(
                "GET",
                f"{base}{API['acls']}?q=roleAssignee&state=APPROVED&start={start}&count={PAGE_SIZE}",
                token=access_token,
            )
            body = self._json(response) or {}
            elements = body.get("elements") or []
            for element in elements:
                match = re.fullmatch(r"urn:li:organization:(\d+)", str(element.get("organization")))
                if match and element.get("state", "APPROVED") == "APPROVED":
                    role = str(element.get("role") or "")
                    # A member may hold several roles; keep one that can post.
                    if roles.get(match.group(1)) not in POSTING_ROLES:
                        roles[match.group(1)] = role
            if len(elements) < PAGE_SIZE:
                break
            start += PAGE_SIZE
        pages = []
        for org_id, role in roles.items():
            if only and org_id != only:
                continue
            org = self._json(
                self._request(
                    "GET", base + API["organization"].format(id=org_id), token=access_token
                )
            )
            pages.append(
                Page(
                    remote_id=org_id,
                    name=str(org.get("localizedName") or org_id),
                    vanity_name=str(org.get("vanityName") or ""),
                    role=role,
                )
            )
        return sorted(pages, key=lambda page: page.name.casefold())

    def renewable(self, account: ChannelAccount) -> bool:
        """Only approved partners get refresh tokens, and those end a year after consent."""
        credentials = account.credentials or {}
        if not credentials.get("refresh_token"):
            return False
        try:
            ends = datetime.fromisoformat(str(credentials.get("refresh_token_expires_at")))
        except ValueError:
            return False
        return ends > timezone.now() + timedelta(days=1)

    def refresh_credentials(self, account: ChannelAccount) -> CredentialUpdate:
        """shared/authentication/programmatic-refresh-tokens: a new access token; the
        refresh token keeps its first expiry."""
        from accounts.selectors import network_app_get

        credentials = dict(account.credentials or {})
        refresh_token = str(credentials.get("refresh_token") or "")
        app = network_app_get(organization=account.organization, network=self.network)
        if not refresh_token or app is None:
            raise AuthError(
                gettext(
                    "LinkedIn gives this app no way to renew the sign-in. An admin of the page "
                    "must reconnect it before it ends."
                )
            )
        try:
            response = http.http_request(
                "POST",
                auth_url() + API["token"],
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=self.timeout,
            )
        except http.HttpError as exc:
            raise TransientError(detail=str(exc)) from exc
        token = self._token_answer(response)
        now = timezone.now()
        renewed = {**credentials, **self._credentials(token, now=now)}
        return CredentialUpdate(
            credentials=renewed,
            expires_at=now + timedelta(seconds=int(token.get("expires_in") or 0)),
        )

    def check_health(self, account: ChannelAccount) -> HealthResult:
        token = self._token(account)
        page = next(
            (
                p
                for p in self.pages(token, only=account.remote_id)
                if p.remote_id == account.remote_id
            ),
            None,
        )
        if page is None or not page.can_post:
            raise AuthError(
                gettext(
                    "The person who connected %(page)s is no longer one of its admins on "
                    "LinkedIn. Another admin of the page must reconnect it."
                )
                % {"page": account.display_name or account.handle}
            )
        return HealthResult(
            remote_id=page.remote_id,
            handle=page.vanity_name or page.remote_id,
            display_name=page.name,
            profile_url=f"https://www.linkedin.com/company/{page.vanity_name or page.remote_id}/",
            scopes=tuple(account.scopes or ()),
        )

    # --- posts ------------------------------------------------------------------

    def validate(
        self, request: PublishRequest, *, account: ChannelAccount | None = None
    ) -> list[str]:
        documents = [m for m in request.media if m.mime_type in DOCUMENT_TYPES]
        if not documents:
            problems = super().validate(request, account=account)
            for number, video in enumerate((m for m in request.media if m.is_video), start=1):
                if video.duration_ms and video.duration_ms < VIDEO_MIN_SECONDS * 1000:
                    problems.append(
                        gettext("Video %(number)d is shorter than 3 seconds; LinkedIn needs more.")
                        % {"number": number}
                    )
                if video.size_bytes and video.size_bytes < VIDEO_MIN_BYTES:
                    problems.append(
                        gettext("Video %(number)d is smaller than 75 KB; LinkedIn refuses it.")
                        % {"number": number}
                    )
            return problems
        images = [m for m in request.media if m.mime_type not in DOCUMENT_TYPES]
        problems = super().validate(
            PublishRequest(text=request.text or " ", media=images), account=account
        )
        if images or len(documents) > 1:
            problems.append(gettext("A LinkedIn post takes one document alone, without images."))
        if any(len(d.content) > MAX_DOCUMENT_BYTES for d in documents):
            problems.append(gettext("A document on LinkedIn may be at most 100 MB."))
        return problems

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        token = self._token(account)
        author = _org_urn(account)
        body: dict[str, Any] = {
            "author": author,
            "commentary": escape_little_text(request.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        content = self._content(account, token, request)
        if content is not None:
            body["content"] = content
        response = self._request(
            "POST",
            self._base(account) + API["posts"],
            token=token,
            json=body,
            outcome_matters=True,
            ok_statuses=(422,),
            headers={"Content-Type": "application/json"},
        )
        if response.status == 422:
            return self._duplicate(account, response)
        urn = str(response.headers.get("x-restli-id") or "")
        if not urn:
            raise UnknownOutcome(detail="Post created without an x-restli-id header")
        return PublishResult(
            remote_id=urn, url=FEED_URL.format(urn=urn), published_at=timezone.now()
        )

    def _duplicate(self, account: ChannelAccount, response: http.HttpResponse) -> PublishResult:
        """422: a duplicate names the earlier post, which is ours only if it still exists."""
        body = self._error_body(response)
        match = DUPLICATE_URN.search(str(body.get("message") or ""))
        if body.get("code") != "DUPLICATE_POST" or match is None:
            raise self._classify(response, outcome_matters=True)
        urn = match.group(1)
        found = self._request(
            "GET",
            self._base(account) + API["post"].format(urn=_urn(urn)),
            token=self._token(account),
            ok_statuses=(404,),
        )
        post = self._json(found) if found.status == 200 else None
        if not isinstance(post, dict) or post.get("author") != _org_urn(account):
            raise Rejected(
                gettext(
                    "LinkedIn refuses this text because the page already posted the same, and "
                    "that post has since been deleted. Change the text a little and try again."
                ),
                status_code=422,
                detail=str(body.get("message") or ""),
            )
        return PublishResult(
            remote_id=urn,
            url=FEED_URL.format(urn=urn),
            published_at=_parse_ms(post.get("publishedAt") or post.get("createdAt")),
            extra={"duplicate_of": urn},
        )

    def _content(
        self, account: ChannelAccount, token: str, request: PublishRequest
    ) -> dict[str, Any] | None:
        documents = [m for m in request.media if m.mime_type in DOCUMENT_TYPES]
        videos = [m for m in request.media if m.is_video]
        images = [m for m in request.media if m.mime_type not in DOCUMENT_TYPES and not m.is_video]
        if videos:
            urn = self._upload_video(account, token, videos[0], key=request.idempotency_key)
            return {"media": {"id": urn}}
        if documents:
            document = documents[0]
            urn = self._upload(account, token, document, kind="document")
            return {"media": {"id": urn, "title": document.filename or "document.pdf"}}
        if len(images) == 1:
            urn = self._upload(account, token, images[0], kind="image")
            return {"media": {"id": urn, "altText": images[0].alt_text[:ALT_TEXT_MAX]}}
        if images:
            return {
                "multiImage": {
                    "images": [
                        {
                            "id": self._upload(account, token, image, kind="image"),
                            "altText": image.alt_text[:ALT_TEXT_MAX],
                        }
                        for image in images
                    ]
                }
            }
        link = URL.search(request.text)
        return self._article(link.group(0).rstrip(".,;:!?)")) if link else None

    def _upload(self, account: ChannelAccount, token: str, item: MediaItem, *, kind: str) -> str:
        """initializeUpload, then PUT the bytes; documents are processed before use.

        An upload is not a post: an orphan is harmless, so failures here are transient."""
        endpoint = API["images"] if kind == "image" else API["documents"]
        response = self._request(
            "POST",
            f"{self._base(account)}{endpoint}?action=initializeUpload",
            token=token,
            json={"initializeUploadRequest": {"owner": _org_urn(account)}},
            headers={"Content-Type": "application/json"},
        )
        value = (self._json(response) or {}).get("value") or {}
        upload_url, urn = str(value.get("uploadUrl") or ""), str(value.get(kind) or "")
        if not upload_url or not urn:
            raise TransientError(detail=f"initializeUpload answered without {kind} or uploadUrl")
        try:
            uploaded = http.http_request(
                "PUT",
                upload_url,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": item.mime_type or "application/octet-stream",
                },
                data=item.content,
                timeout=self.timeout,
                idempotent=True,
            )
        except http.HttpError as exc:
            raise TransientError(detail=str(exc)) from exc
        if not uploaded.ok:
            raise self._classify(uploaded, outcome_matters=False)
        if kind == "document":
            self._wait_for_document(account, token, urn)
        return urn

    # --- video -------------------------------------------------------------------

    def _upload_video(
        self, account: ChannelAccount, token: str, item: MediaItem, *, key: str
    ) -> str:
        """marketing/community-management/shares/videos-api: initializeUpload, PUT each
        part to its uploadUrl (keeping the ETag it answers), the captions (SRT) and the
        poster frame to their own addresses, finalizeUpload with the ETags in order,
        then wait until the video is AVAILABLE.

        An upload is not a post (failures here are transient), and a publish tried again
        with the same key reuses the video an earlier try finalized."""
        from accounts.services import publish_checkpoint_get, publish_checkpoint_save

        keep = bool(key) and account.pk is not None
        state = publish_checkpoint_get(account=account, key=key) if keep else {}
        urn = str(state.get("linkedin_video") or "")
        if urn and self._video_status(account, token, urn) not in ("PROCESSING", "AVAILABLE"):
            urn = ""  # gone, or never finished: upload again
        if not urn:
            urn = self._send_video(account, token, item)
            if keep:
                publish_checkpoint_save(account=account, key=key, data={"linkedin_video": urn})
        self._wait_for_video(account, token, urn)
        return urn

    def _send_video(self, account: ChannelAccount, token: str, item: MediaItem) -> str:
        try:
            size = os.path.getsize(item.path)
            handle = open(item.path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise Rejected(gettext("the video file is missing"), detail=str(exc)) from exc
        captions = item.captions[:1]  # LinkedIn takes one captions file per video
        with handle:
            response = self._request(
                "POST",
                f"{self._base(account)}{API['videos']}?action=initializeUpload",
                token=token,
                json={
                    "initializeUploadRequest": {
                        "owner": _org_urn(account),
                        "fileSizeBytes": size,
                        "uploadCaptions": bool(captions),
                        "uploadThumbnail": bool(item.poster),
                    }
                },
                headers={"Content-Type": "application/json"},
            )
            value = (self._json(response) or {}).get("value") or {}
            urn = str(value.get("video") or "")
            parts = value.get("uploadInstructions") or []
            if not urn or not parts:
                raise TransientError(detail="initializeUpload answered without video or parts")
            etags: list[str] = []
            for part in parts:
                first, last = int(part["firstByte"]), int(part["lastByte"])
                handle.seek(first)
                uploaded = self._put(str(part["uploadUrl"]), token, handle.read(last - first + 1))
                etag = uploaded.headers.get("ETag") or uploaded.headers.get("etag") or ""
                if not etag:
                    raise TransientError(detail="A video part was taken without an ETag")
                etags.append(etag)
        if captions and value.get("captionsUploadUrl"):
            srt = srt_from_vtt(captions[0].vtt).encode()
            self._put(str(value["captionsUploadUrl"]), token, srt)
        if item.poster and value.get("thumbnailUploadUrl"):
            self._put(str(value["thumbnailUploadUrl"]), token, item.poster)
        self._request(
            "POST",
            f"{self._base(account)}{API['videos']}?action=finalizeUpload",
            token=token,
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": str(value.get("uploadToken") or ""),
                    "uploadedPartIds": etags,
                }
            },
            headers={"Content-Type": "application/json"},
        )
        return urn

    def _put(self, url: str, token: str, data: bytes) -> http.HttpResponse:
        try:
            response = http.http_request(
                "PUT",
                url,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/octet-stream",
                },
                data=data,
                timeout=self.timeout,
                idempotent=True,
            )
        except http.HttpError as exc:
            raise TransientError(detail=str(exc)) from exc
        if not response.ok:
            raise self._classify(response, outcome_matters=False)
        return response

    def _video_status(self, account: ChannelAccount, token: str, urn: str) -> str:
        url = self._base(account) + API["video"].format(urn=_urn(urn))
        response = self._request("GET", url, token=token, ok_statuses=(404,))
        if response.status == 404:
            return ""
        return str((self._json(response) or {}).get("status") or "")

    def _wait_for_video(self, account: ChannelAccount, token: str, urn: str) -> None:
        for delay in (0.0, *VIDEO_POLL_DELAYS):
            if delay:
                http.sleep(delay)
            status = self._video_status(account, token, urn)
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Rejected(
                    gettext(
                        "LinkedIn could not process the video. LinkedIn takes MP4 videos of 3 "
                        "seconds to 30 minutes and 75 KB to 500 MB, in aspect ratios from 1:2.4 "
                        "to 2.4:1."
                    )
                )
        raise TransientError(
            gettext(
                "LinkedIn is still processing the video. We will try again later with the "
                "video already uploaded."
            )
        )

    def _wait_for_document(self, account: ChannelAccount, token: str, urn: str) -> None:
        url = self._base(account) + API["document"].format(urn=_urn(urn))
        for delay in (0.0, *DOCUMENT_POLL_DELAYS):
            if delay:
                http.sleep(delay)
            status = str((self._json(self._request("GET", url, token=token)) or {}).get("status"))
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Rejected(gettext("LinkedIn could not read the document (is it a PDF?)"))
        raise TransientError(
            gettext("LinkedIn is still processing the document. We will try again.")
        )

    def _article(self, link: str) -> dict[str, Any] | None:
        """A link card: LinkedIn shows no preview of its own, so the page's title (and
        description) are read here. A page we cannot read leaves the link in the text."""
        try:
            response = http.http_request(
                "GET", link, headers={"Accept": "text/html"}, timeout=(3.0, 5.0)
            )
        except http.HttpError:
            return None
        if not response.ok or "html" not in response.headers.get("Content-Type", ""):
            return None
        parser = _PageTitle()
        try:
            parser.feed(response.text[:200_000])
        except (ValueError, AssertionError):
            return None
        title = (parser.meta.get("og:title") or parser.title).strip()
        if not title:
            return None
        article: dict[str, Any] = {"source": link, "title": title[:400]}
        description = parser.meta.get("og:description") or parser.meta.get("description")
        if description:
            article["description"] = description.strip()[:4086]
        return {"article": article}

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        self._request(
            "DELETE",
            self._base(account) + API["post"].format(urn=_urn(ref.remote_id)),
            token=self._token(account),
            ok_statuses=(404,),
        )

    def _recent_posts(
        self, account: ChannelAccount, *, since: datetime | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """The page's posts, newest first, paging until one is older than ``since``, and
        whether that was reached (False: stopped at ``LOOKUP_MAX_PAGES`` first)."""
        author = _urn(_org_urn(account))
        posts: list[dict[str, Any]] = []
        start = 0
        for _page in range(LOOKUP_MAX_PAGES):
            body = self._get(
                account,
                f"{self._base(account)}{API['posts']}?q=author&author={author}"
                f"&start={start}&count={PAGE_SIZE}&sortBy=CREATED",
            )
            elements = [e for e in (body or {}).get("elements") or [] if isinstance(e, dict)]
            posts.extend(elements)
            oldest = _parse_ms(elements[-1].get("createdAt")) if elements else None
            if (
                len(elements) < PAGE_SIZE
                or since is None
                or (oldest is not None and oldest < since)
            ):
                return posts, True
            start += PAGE_SIZE
        return posts, False

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        recent: list[RecentPost] = []
        found, complete = self._recent_posts(account, since=since)
        for post in found:
            created = _parse_ms(post.get("createdAt"))
            if since is not None and created is not None and created < since:
                continue
            urn = str(post.get("id") or "")
            recent.append(
                RecentPost(
                    ref=RemoteRef(remote_id=urn, url=FEED_URL.format(urn=urn)),
                    text=unescape_little_text(str(post.get("commentary") or "")),
                    created_at=created,
                )
            )
        return RecentPosts(recent, complete=complete)

    # --- inbox: comments on the page's posts, and replies to them ------------------------

    def _comments(self, account: ChannelAccount, on: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        start = 0
        for _page in range(LOOKUP_MAX_PAGES):
            body = self._get(
                account,
                f"{self._base(account)}{API['comments'].format(urn=_urn(on))}"
                f"?start={start}&count={PAGE_SIZE}",
            )
            elements = [e for e in (body or {}).get("elements") or [] if isinstance(e, dict)]
            found.extend(elements)
            if len(elements) < PAGE_SIZE:
                break
            start += PAGE_SIZE
        return found

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Comments on the page's recent posts and replies to them, newer than the cursor
        (the newest comment's time, in ms). The page's own comments are left out.

        Mentions of the page come only through the organization social action
        notifications API, which LinkedIn grants to approved apps: not read here."""
        since_ms = int(cursor) if cursor and cursor.isdigit() else 0
        oldest = datetime.now(UTC) - INBOX_MAX_AGE
        posts = self._recent_posts(account, since=oldest)[0][:INBOX_POSTS]
        org = _org_urn(account)
        items: list[InboxItem] = []
        newest = since_ms
        for post in posts:
            post_urn = str(post.get("id") or "")
            if not post_urn:
                continue
            for comment in self._comments(account, post_urn):
                threads: list[tuple[dict[str, Any], dict[str, Any] | None]] = [(comment, None)]
                summary = comment.get("commentsSummary") or {}
                if summary.get("aggregatedTotalComments"):
                    threads += [
                        (reply, comment)
                        for reply in self._comments(account, str(comment.get("commentUrn")))
                    ]
                for found, parent in threads:
                    created_ms = int((found.get("created") or {}).get("time") or 0)
                    newest = max(newest, created_ms)
                    if created_ms < since_ms or found.get("actor") == org:
                        continue
                    items.append(self._inbox_item(found, post_urn, parent))
        items.sort(key=lambda item: item.created_at or datetime.min.replace(tzinfo=UTC))
        return InboxPage(items=items, next_cursor=str(newest), has_more=False)

    def _inbox_item(
        self, comment: Mapping[str, Any], post_urn: str, parent: Mapping[str, Any] | None
    ) -> InboxItem:
        actor = str(comment.get("actor") or "")
        urn = str(comment.get("commentUrn") or "")
        return InboxItem(
            remote_id=urn,
            kind="reply",
            # Comments name the member only by URN; their name needs a permission
            # LinkedIn does not give page tools.
            author_handle=actor,
            author_name="",
            author_id=actor,
            text=unescape_little_text(str((comment.get("message") or {}).get("text") or "")),
            created_at=_parse_ms((comment.get("created") or {}).get("time")),
            url=FEED_URL.format(urn=post_urn) + f"?commentUrn={_urn(urn)}",
            in_reply_to=RemoteRef(remote_id=str(parent.get("commentUrn")) if parent else post_urn),
            # LinkedIn nests one level: an answer to a reply goes under the first comment.
            thread_root=RemoteRef(remote_id=str(parent.get("commentUrn"))) if parent else None,
            raw={
                "post": post_urn,
                "parent_comment": str(parent.get("commentUrn")) if parent else "",
            },
        )

    @staticmethod
    def _reply_target(reply_to: RemoteRef, thread_root: RemoteRef | None) -> tuple[str, str]:
        """Where an answer goes: under the thread's first comment (LinkedIn nests one
        level), else under the comment or post answered; and the post's URN."""
        root = thread_root.remote_id if thread_root else ""
        parent = root if root.startswith("urn:li:comment:") else reply_to.remote_id
        post_urn = _post_of_comment(parent) if parent.startswith("urn:li:comment:") else parent
        return parent, post_urn

    def reply(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        """A comment as the page, under the comment being answered (or under the first
        comment of its thread: LinkedIn nests one level)."""
        if request.reply_to is None:
            raise Rejected(_("a reply needs the comment it answers"))
        parent, post_urn = self._reply_target(request.reply_to, request.thread_root)
        body: dict[str, Any] = {
            "actor": _org_urn(account),
            "object": post_urn,
            "message": {"text": escape_little_text(request.text)},
        }
        if parent.startswith("urn:li:comment:"):
            body["parentComment"] = parent
        on = parent if parent.startswith("urn:li:comment:") else post_urn
        response = self._request(
            "POST",
            self._base(account) + API["comments"].format(urn=_urn(on)),
            token=self._token(account),
            json=body,
            outcome_matters=True,
            headers={"Content-Type": "application/json"},
        )
        created = self._json(response, outcome_matters=True) or {}
        urn = str(created.get("commentUrn") or "")
        if not urn:
            raise UnknownOutcome(detail="Comment answer without a commentUrn")
        return PublishResult(
            remote_id=urn,
            url=FEED_URL.format(urn=post_urn) + f"?commentUrn={_urn(urn)}",
            published_at=_parse_ms((created.get("created") or {}).get("time")),
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
        """The page's own comments where :meth:`reply` would have put the answer."""
        parent, _post = self._reply_target(reply_to, thread_root)
        found: list[RecentPost] = []
        for comment in self._comments(account, parent):
            created = _parse_ms((comment.get("created") or {}).get("time"))
            if comment.get("actor") != _org_urn(account):
                continue
            if since is not None and created is not None and created < since:
                continue
            urn = str(comment.get("commentUrn") or "")
            found.append(
                RecentPost(
                    ref=RemoteRef(remote_id=urn),
                    text=unescape_little_text(str((comment.get("message") or {}).get("text"))),
                    created_at=created,
                    reply_to_id=reply_to.remote_id,
                )
            )
        return found[-limit:]

    # --- metrics ------------------------------------------------------------------

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        """Lifetime share statistics of the page's posts (comments are not posts: skipped)."""
        shares = [r.remote_id for r in refs if r.remote_id.startswith("urn:li:share:")]
        ugc = [r.remote_id for r in refs if r.remote_id.startswith("urn:li:ugcPost:")]
        if not shares and not ugc:
            return []
        query = f"q=organizationalEntity&organizationalEntity={_urn(_org_urn(account))}"
        for name, urns in (("shares", shares), ("ugcPosts", ugc)):
            if urns:
                query += f"&{name}=List({','.join(_urn(u) for u in urns)})"
        body = self._get(account, f"{self._base(account)}{API['share_statistics']}?{query}")
        seen: dict[str, PostMetrics] = {}
        for element in (body or {}).get("elements") or []:
            urn = str(element.get("share") or element.get("ugcPost") or "")
            stats = element.get("totalShareStatistics") or {}
            if not urn:
                continue
            seen[urn] = PostMetrics(
                remote_id=urn,
                likes=int(stats.get("likeCount") or 0),
                shares=int(stats.get("shareCount") or 0),
                replies=int(stats.get("commentCount") or 0),
                impressions=int(stats.get("impressionCount") or 0),
            )
        metrics = []
        for urn in shares + ugc:
            if urn in seen:
                metrics.append(seen[urn])
                continue
            # No statistics: is the post gone?
            gone = self._request(
                "GET",
                self._base(account) + API["post"].format(urn=_urn(urn)),
                token=self._token(account),
                ok_statuses=(404,),
            )
            if gone.status == 404:
                metrics.append(PostMetrics(remote_id=urn, deleted=True))
        return metrics

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        """Lifetime follower statistics: every follower counted once, by association."""
        body = self._get(
            account,
            f"{self._base(account)}{API['follower_statistics']}?q=organizationalEntity"
            f"&organizationalEntity={_urn(_org_urn(account))}",
        )
        elements = (body or {}).get("elements") or []
        if not elements:
            return AccountMetrics()
        total = 0
        for entry in elements[0].get("followerCountsByAssociationType") or []:
            counts = entry.get("followerCounts") or {}
            total += int(counts.get("organicFollowerCount") or 0)
            total += int(counts.get("paidFollowerCount") or 0)
        return AccountMetrics(followers=total)
