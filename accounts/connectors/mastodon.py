"""Mastodon (any instance), through its REST API.

The app registers itself once per instance (``POST /api/v1/apps``; the
services keep the result in ``MastodonApp``), then people connect with OAuth
(authorization code with PKCE S256 and a state). Tokens never expire and
cannot be refreshed; a 401 means revoked: reconnect.

Every status is posted with an ``Idempotency-Key`` (the request's key), so
re-sending the same request within an hour returns the first status instead
of a second one: that is how an unknown outcome is reconciled.

What a real 4.x server does beyond its reference pages (NETWORK-APIS.md,
"Shapes of real answers"), handled here: the default notification policy (4.3+)
keeps first private mentions out of the notification list unless asked with
``include_filtered``; an instance in limited-federation mode wants the token on
its instance endpoint, and one older than 4.0 has only ``/api/v1/instance``; a
quote post (4.5) carries a ``quote-inline`` fallback paragraph that clients
hide; mentions are shown as ``@name`` even when written ``@name@domain``.

Facts: NETWORK-APIS.md §1; mastodon/documentation ``methods/{apps,oauth,
statuses,media,notifications,accounts,instance}.md``, ``client/quotes.md``,
``entities/{NotificationPolicy,NotificationRequest,Quote}.md``.
"""

from __future__ import annotations

import hmac
import io
import os
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oauthlib.oauth2 import WebApplicationClient
from requests_oauthlib import OAuth2Session

from accounts import http
from accounts.connectors.base import (
    AccountMetrics,
    ArchiveMedia,
    AuthError,
    Capabilities,
    ConnectedAccount,
    Connector,
    ConnectorError,
    FoundPost,
    HealthResult,
    HistoryPage,
    HistoryPost,
    InboxItem,
    InboxKind,
    InboxPage,
    Limits,
    ListeningCapability,
    MediaItem,
    OAuthClient,
    OAuthStart,
    PostMetrics,
    PostVersion,
    PublishRequest,
    PublishResult,
    RateLimited,
    RecentPost,
    RecentPosts,
    Rejected,
    RemoteRef,
    SearchPage,
    ThreadComment,
    TransientError,
    UnknownOutcome,
    normalize_base_url,
)
from accounts.connectors.text import mastodon_length
from accounts.models import ChannelAccount, MastodonApp

# read:search: full-text search of statuses for listening (docs.joinmastodon.org/api/oauth-scopes).
SCOPES = (
    "read:accounts",
    "read:statuses",
    "read:notifications",
    "read:search",
    "write:statuses",
    "write:media",
)
CLIENT_NAME = "GovSocial"
VISIBILITY = {
    "public": "public",
    "unlisted": "unlisted",
    "followers": "private",
    "direct": "direct",
}
# Waits between looks at an image the instance is still processing (bounded, ~30 s).
MEDIA_POLL_DELAYS = (0.5, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 5.0, 5.0, 5.0)
INBOX_PAGE_SIZE = 40
# GET /api/v1/accounts/:id/statuses answers at most 40 statuses a page.
LOOKUP_PAGE_SIZE = 40
# Tag timelines and search answer at most 40 statuses a page.
SEARCH_PAGE_SIZE = 40
# ``min_id`` before every notification id (Mastodon ids are positive numbers).
INBOX_FROM_THE_BEGINNING = "0"


def normalize_server_url(value: str) -> str:
    """``mastodon.social``, ``https://Mastodon.Social/`` → ``https://mastodon.social``."""
    return normalize_base_url(
        value, only_the_address=gettext("give only the server's address, like mastodon.social")
    )


class _TextExtractor(HTMLParser):
    """Text of status HTML. Links keep their full address (the invisible and
    ellipsis spans of a shortened link are all text). Optionally it drops the
    ``quote-inline`` fallback paragraph, and writes mentions as ``@acct``."""

    def __init__(self, *, drop_quote_inline: bool, mentions: Mapping[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop_quote_inline = drop_quote_inline
        self._mentions = mentions
        self._skipping = 0  # depth inside a dropped element
        self._mention: list[str] = []  # the acct of the mention link being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if self._skipping:
            if tag not in ("br", "img"):
                self._skipping += 1
            return
        if tag == "p" and self._drop_quote_inline and "quote-inline" in classes:
            self._skipping = 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a" and "mention" in classes and "hashtag" not in classes:
            acct = self._mentions.get(dict(attrs).get("href") or "")
            if acct:
                self._mention.append(acct)
                self.parts.append(f"@{acct}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # ``<br />``: an element with no end to wait for.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            self._skipping -= 1
            return
        if tag == "p":
            self.parts.append("\n\n")
        elif tag == "a" and self._mention:
            self._mention.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and not self._mention:
            self.parts.append(data)


def html_to_text(
    content: str, *, drop_quote_inline: bool = False, mentions: Mapping[str, str] | None = None
) -> str:
    """Mastodon's status HTML as plain text (paragraphs and line breaks kept).

    ``mentions`` maps a profile address to the ``acct`` to write for a mention
    linking there (Mastodon shows only ``@username``)."""
    parser = _TextExtractor(drop_quote_inline=drop_quote_inline, mentions=mentions or {})
    parser.feed(content or "")
    parser.close()
    return "".join(parser.parts).strip()


def _has_quote(status: Mapping[str, Any]) -> bool:
    """A status that is a quote post (4.5): its ``quote`` is set, in any state."""
    return isinstance(status.get("quote"), dict)


def status_text(status: Mapping[str, Any]) -> str:
    """The text of a status as its readers see it in Mastodon's own clients: a quote
    post's ``quote-inline`` "RE: <link>" paragraph left out (client/quotes.md)."""
    return html_to_text(str(status.get("content") or ""), drop_quote_inline=_has_quote(status))


def status_source_text(status: Mapping[str, Any]) -> str:
    """The text of a status close to how it was written: each mention as its full
    ``@acct`` (``@name`` for this server's accounts, ``@name@domain`` for others),
    where the HTML shows ``@name`` only."""
    mentions = {
        str(m.get("url") or ""): str(m.get("acct") or "")
        for m in status.get("mentions") or []
        if isinstance(m, dict) and m.get("url") and m.get("acct")
    }
    return html_to_text(
        str(status.get("content") or ""), drop_quote_inline=_has_quote(status), mentions=mentions
    )


def _quoted_link(status: Mapping[str, Any]) -> tuple[str, str]:
    """(id, web address) of the post a quote post quotes, or ("", ""): from the quote
    when the server shows it, else from the ``quote-inline`` fallback link."""
    quote = status.get("quote")
    if not isinstance(quote, dict):
        return "", ""
    quoted = quote.get("quoted_status")
    quoted_id = str(quote.get("quoted_status_id") or "")
    if isinstance(quoted, dict):
        quoted_id = str(quoted.get("id") or quoted_id)
        url = _web_address(quoted.get("url") or quoted.get("uri"))
        if url:
            return quoted_id, url
    finder = _QuoteInlineLink()
    finder.feed(str(status.get("content") or ""))
    finder.close()
    return quoted_id, finder.href


def _web_address(value: Any) -> str:
    """``value`` if it is an http(s) address (it ends up as a link on our pages)."""
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) else ""


class _QuoteInlineLink(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href = ""
        self._inside = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "p" and "quote-inline" in (values.get("class") or "").split():
            self._inside = 1
        elif self._inside and tag == "a" and not self.href:
            self.href = _web_address(values.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._inside = 0


def _recent_post(status: Mapping[str, Any]) -> RecentPost:
    return RecentPost(
        ref=RemoteRef(
            remote_id=str(status["id"]),
            url=str(status.get("url") or status.get("uri") or ""),
        ),
        # Mentions as written (``@name@domain``), not as shown (``@name``), so a reply
        # that opens with a full mention is recognised.
        text=status_source_text(status),
        created_at=_parse_time(status.get("created_at")),
        reply_to_id=str(status.get("in_reply_to_id") or ""),
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _path_id(remote_id: str) -> str:
    return quote(str(remote_id), safe="")


def _error_text(response: http.HttpResponse) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip()
    if isinstance(body, dict):
        parts = [str(body.get("error") or ""), str(body.get("error_description") or "")]
        return " ".join(p for p in parts if p).strip()
    return ""


class MastodonConnector(Connector):
    network = "mastodon"
    label = _("Mastodon")
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
        impressions=False,
        content_warning=True,
        visibility=True,
        language=True,
        lookup_recent=True,
        refresh_credentials=False,
        idempotency_window_seconds=3600,
        archive=True,
    )
    # The documented defaults; each instance reports its own at connect time.
    limits = Limits(
        max_text=500,
        text_counting="chars_url23",
        max_media=4,
        max_image_bytes=16 * 1024 * 1024,
        alt_text_max=1500,
        image_mime_types=("image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"),
        characters_per_url=23,
        # docs.joinmastodon.org/methods/instance/#v2 configuration.media_attachments:
        # video_size_limit (99 MB by default since 4.3), the instance says at connect time.
        max_videos=1,
        video_mime_types=("video/mp4", "video/webm", "video/quicktime"),
        max_video_bytes=99 * 1024 * 1024,
        video_alone=True,
    )
    _warning_counts_as_text = True
    inbox_page_size = INBOX_PAGE_SIZE

    # --- plumbing ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        server_url: str,
        path: str,
        *,
        token: str | None = None,
        outcome_matters: bool = False,
        ok_statuses: Sequence[int] = (),
        headers: Mapping[str, str] | None = None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
    ) -> http.HttpResponse:
        """One call, with every failure classified. ``outcome_matters`` marks a write
        that must not happen twice: if it may have reached the server without an
        answer, that is an :class:`UnknownOutcome`, never a retryable failure."""
        request_headers = {"Accept": "application/json", **(headers or {})}
        if token:
            request_headers["Authorization"] = f"Bearer {token}"
        try:
            response = http.http_request(
                method,
                server_url + path,
                headers=request_headers,
                params=params,
                json=json,
                data=data,
                files=files,
                timeout=self.timeout,
            )
        except (http.BlockedAddress, http.InvalidURL) as exc:
            raise Rejected(gettext("this server address is not allowed"), detail=str(exc)) from exc
        except http.HttpError as exc:
            if outcome_matters and exc.request_sent:
                raise UnknownOutcome(detail=str(exc)) from exc
            raise TransientError(detail=str(exc)) from exc
        if response.ok or response.status in ok_statuses:
            return response
        raise self._classify(response, outcome_matters=outcome_matters)

    def _classify(self, response: http.HttpResponse, *, outcome_matters: bool) -> ConnectorError:
        status = response.status
        detail = _error_text(response)
        if status == 401:
            return AuthError(status_code=status, detail=detail)
        if status == 403:
            lowered = detail.lower()
            if "scope" in lowered or "token" in lowered:
                return AuthError(status_code=status, detail=detail)
            return Rejected(detail or gettext("the server does not allow this"), status_code=status)
        if status == 429:
            return RateLimited(response.retry_after, status_code=status, detail=detail)
        if outcome_matters and status in (409, 502, 504):
            # A proxy that gave up, or a concurrent request with the same key: the
            # status may have been created behind it.
            return UnknownOutcome(status_code=status, detail=detail)
        if status >= 500 or status == 408:
            return TransientError(status_code=status, detail=detail)
        if status == 404:
            return Rejected(
                gettext("the post is not on the server"), status_code=status, detail=detail
            )
        return Rejected(detail or gettext("the server refused it"), status_code=status)

    def _json(self, response: http.HttpResponse, *, outcome_matters: bool = False) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            error = UnknownOutcome if outcome_matters else TransientError
            raise error(detail=f"Answer is not JSON ({response.status})") from exc

    def _token(self, account: ChannelAccount) -> str:
        token = str((account.credentials or {}).get("access_token") or "")
        if not token or not account.server_url:
            raise AuthError(gettext("No sign-in is stored for this account. Connect it again."))
        return token

    # --- connect ----------------------------------------------------------------

    def register_client(self, *, server_url: str, redirect_uri: str) -> OAuthClient:
        server_url = normalize_server_url(server_url)
        response = self._request(
            "POST",
            server_url,
            "/api/v1/apps",
            json={
                "client_name": CLIENT_NAME,
                "redirect_uris": redirect_uri,
                "scopes": " ".join(SCOPES),
                "website": getattr(settings, "SITE_URL", ""),
            },
        )
        body = self._json(response)
        if not isinstance(body, dict) or not body.get("client_id") or not body.get("client_secret"):
            raise TransientError(detail="App registration answered without client credentials")
        return OAuthClient(
            server_url=server_url,
            client_id=str(body["client_id"]),
            client_secret=str(body["client_secret"]),
            redirect_uri=redirect_uri,
            scopes=SCOPES,
            remote_app_id=str(body.get("id") or ""),
        )

    def oauth_start(self, *, client: OAuthClient) -> OAuthStart:
        oauth_client = WebApplicationClient(client.client_id)
        verifier = oauth_client.create_code_verifier(64)
        challenge = oauth_client.create_code_challenge(verifier, "S256")
        session = OAuth2Session(
            client=oauth_client, redirect_uri=client.redirect_uri, scope=list(client.scopes)
        )
        url, state = session.authorization_url(
            client.server_url + "/oauth/authorize",
            code_challenge=challenge,
            code_challenge_method="S256",
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
                    "The answer from the sign-in page does not match the request we sent. "
                    "Start connecting again."
                )
            )
        body = WebApplicationClient(client.client_id).prepare_request_body(
            code=code,
            redirect_uri=client.redirect_uri,
            client_secret=client.client_secret,
            code_verifier=code_verifier,
            scope=" ".join(client.scopes),
        )
        try:
            response = self._request(
                "POST",
                client.server_url,
                "/oauth/token",
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        except (AuthError, Rejected) as exc:
            raise AuthError(
                gettext("The server did not accept the sign-in. Start connecting again."),
                status_code=exc.status_code,
                detail=exc.detail,
            ) from exc
        token = self._json(response)
        access_token = str(token.get("access_token") or "") if isinstance(token, dict) else ""
        if not access_token or str(token.get("token_type", "")).lower() != "bearer":
            raise TransientError(detail="Token answer without a bearer access token")
        granted = tuple(str(token.get("scope") or " ".join(client.scopes)).split())
        missing = [
            scope for scope in SCOPES if scope not in granted and not _implied(scope, granted)
        ]
        if missing:
            raise AuthError(
                gettext(
                    "The server granted less access than GovSocial needs (missing: %(scopes)s)."
                )
                % {"scopes": ", ".join(missing)}
            )
        profile = self._verify_credentials(client.server_url, access_token)
        limits, domain = self.fetch_instance(client.server_url, token=access_token)
        return ConnectedAccount(
            remote_id=str(profile["id"]),
            handle=self._handle(profile, domain or urlsplit(client.server_url).netloc),
            display_name=str(profile.get("display_name") or profile.get("username") or ""),
            server_url=client.server_url,
            credentials={
                "access_token": access_token,
                "token_type": "Bearer",
                "created_at": token.get("created_at"),
            },
            scopes=granted,
            profile_url=str(profile.get("url") or ""),
            limits=limits,
        )

    def disconnect(self, account: ChannelAccount) -> None:
        """Revoke the token (``POST /oauth/revoke`` needs the instance's client credentials)."""
        token = str((account.credentials or {}).get("access_token") or "")
        app = MastodonApp.objects.filter(server_url=account.server_url).first()
        if not token or app is None:
            return
        client = app.as_client()
        self._request(
            "POST",
            client.server_url,
            "/oauth/revoke",
            data={
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "token": token,
            },
        )

    def fetch_instance(
        self, server_url: str, *, token: str | None = None
    ) -> tuple[dict[str, Any], str]:
        """The instance's limits (for ``ChannelAccount.network_limits``) and its domain.

        Sent with the account's token: an instance in limited-federation mode (or
        with unauthenticated API access disallowed) answers 401 without one. An
        instance older than 4.0 has no ``/api/v2/instance`` (404): then
        ``/api/v1/instance`` (its domain is ``uri``). When neither answers, the
        defaults stand; the sign-in was already verified, so that is no reason to
        fail the connect."""
        body: Any = None
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                body = self._json(self._request("GET", server_url, path, token=token))
            except Rejected as exc:
                if exc.status_code == 404:
                    continue
                return {}, ""
            except (TransientError, AuthError):
                return {}, ""
            break
        if not isinstance(body, dict):
            return {}, ""
        config = body.get("configuration") or {}
        if not isinstance(config, dict):
            config = {}
        statuses = config.get("statuses")
        statuses = statuses if isinstance(statuses, dict) else {}
        media = config.get("media_attachments")
        media = media if isinstance(media, dict) else {}
        limits: dict[str, Any] = {}
        for key, value in (
            ("max_text", statuses.get("max_characters")),
            ("max_media", statuses.get("max_media_attachments")),
            ("characters_per_url", statuses.get("characters_reserved_per_url")),
            ("max_image_bytes", media.get("image_size_limit")),
            ("max_video_bytes", media.get("video_size_limit")),
            ("alt_text_max", media.get("description_limit")),
        ):
            if isinstance(value, int) and value > 0:
                limits[key] = value
        mime_types = [
            m for m in media.get("supported_mime_types") or [] if str(m).startswith("image/")
        ]
        if mime_types:
            limits["image_mime_types"] = mime_types
        video_types = [
            m for m in media.get("supported_mime_types") or [] if str(m).startswith("video/")
        ]
        if video_types:
            limits["video_mime_types"] = video_types
        domain = str(body.get("domain") or body.get("uri") or "")
        # Some servers write ``uri`` as an address rather than a bare domain.
        domain = urlsplit(domain).netloc if "://" in domain else domain.strip("/")
        return limits, domain.lower()

    def _verify_credentials(self, server_url: str, token: str) -> dict[str, Any]:
        response = self._request(
            "GET", server_url, "/api/v1/accounts/verify_credentials", token=token
        )
        profile = self._json(response)
        if not isinstance(profile, dict) or not profile.get("id"):
            raise TransientError(detail="verify_credentials answered without an account id")
        return profile

    @staticmethod
    def _handle(profile: Mapping[str, Any], domain: str) -> str:
        acct = str(profile.get("acct") or profile.get("username") or "")
        return f"@{acct}" if "@" in acct else f"@{acct}@{domain}"

    def check_health(self, account: ChannelAccount) -> HealthResult:
        profile = self._verify_credentials(account.server_url, self._token(account))
        return HealthResult(
            remote_id=str(profile["id"]),
            handle=self._handle(profile, _local_domain(account)),
            display_name=str(profile.get("display_name") or profile.get("username") or ""),
            profile_url=str(profile.get("url") or ""),
            scopes=tuple(account.scopes or ()),
        )

    # --- posts ------------------------------------------------------------------

    def comparable_text(self, text: str, *, account: ChannelAccount | None = None) -> str:
        """``text`` as :meth:`lookup_recent` shows it: a mention of an account of the
        account's own server written in full (``@name@our.domain``) is ``@name``."""
        if account is None:
            return text
        domain = re.escape(_local_domain(account))
        return re.sub(
            rf"(?<![\w/@])@([a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)@{domain}(?![\w.-]*\w)",
            r"@\1",
            text,
            flags=re.IGNORECASE,
        )

    def text_length(self, text: str, *, account: ChannelAccount | None = None) -> int:
        return mastodon_length(text, url_length=self.limits_for(account).characters_per_url)

    def publish(self, account: ChannelAccount, request: PublishRequest) -> PublishResult:
        token = self._token(account)
        media_ids = [self._upload_media(account, token, item) for item in request.media]
        body: dict[str, Any] = {
            "status": request.text,
            "visibility": VISIBILITY[request.visibility],
        }
        if media_ids:
            body["media_ids"] = media_ids
        if request.reply_to is not None:
            body["in_reply_to_id"] = request.reply_to.remote_id
        if request.language:
            body["language"] = request.language
        if request.content_warning:
            body["spoiler_text"] = request.content_warning
            body["sensitive"] = bool(media_ids)
        key = request.idempotency_key or uuid.uuid4().hex
        response = self._request(
            "POST",
            account.server_url,
            "/api/v1/statuses",
            token=token,
            json=body,
            headers={"Idempotency-Key": key},
            outcome_matters=True,
        )
        status = self._json(response, outcome_matters=True)
        if not isinstance(status, dict) or not status.get("id"):
            raise UnknownOutcome(detail="Status answer without an id")
        return PublishResult(
            remote_id=str(status["id"]),
            url=str(status.get("url") or status.get("uri") or ""),
            published_at=_parse_time(status.get("created_at")),
            extra={"uri": str(status.get("uri") or ""), "idempotency_key": key},
        )

    def _upload_media(self, account: ChannelAccount, token: str, item: MediaItem) -> str:
        """Upload one image with its description; wait (bounded) while the instance processes it.

        An upload is not a post: if it fails midway, the orphan is harmless, so
        failures here are transient rather than unknown outcomes."""
        extension = item.mime_type.split("/")[-1] if "/" in item.mime_type else "bin"
        if item.is_video:
            # Streamed from the file as multipart: never the whole video in memory.
            try:
                body = MultipartFile(
                    fields={"description": item.alt_text} if item.alt_text else {},
                    name="file",
                    filename=item.filename or f"video.{extension}",
                    content_type=item.mime_type,
                    path=item.path,
                )
            except OSError as exc:
                raise Rejected(gettext("the video file is missing"), detail=str(exc)) from exc
            with body:
                response = self._request(
                    "POST",
                    account.server_url,
                    "/api/v2/media",
                    token=token,
                    headers={"Content-Type": body.content_type},
                    data=body,
                )
        else:
            response = self._request(
                "POST",
                account.server_url,
                "/api/v2/media",
                token=token,
                files={
                    "file": (item.filename or f"image.{extension}", item.content, item.mime_type)
                },
                data={"description": item.alt_text} if item.alt_text else None,
            )
        media = self._json(response)
        if not isinstance(media, dict) or not media.get("id"):
            raise TransientError(detail="Media answer without an id")
        media_id = str(media["id"])
        if response.status == 200 and media.get("url"):
            return media_id
        for delay in MEDIA_POLL_DELAYS:
            http.sleep(delay)
            polled = self._request(
                "GET", account.server_url, f"/api/v1/media/{_path_id(media_id)}", token=token
            )
            if polled.status == 200:
                return media_id
        raise TransientError(
            gettext("The network is still processing a video. We will try again.")
            if item.is_video
            else gettext("The network is still processing an image. We will try again.")
        )

    def delete(self, account: ChannelAccount, ref: RemoteRef) -> None:
        # Deleting twice is harmless (the second finds nothing), so no unknown outcome here.
        self._request(
            "DELETE",
            account.server_url,
            f"/api/v1/statuses/{_path_id(ref.remote_id)}",
            token=self._token(account),
            ok_statuses=(404,),
        )

    def lookup_recent(
        self, account: ChannelAccount, *, since: datetime | None = None, limit: int = 20
    ) -> list[RecentPost]:
        """The account's own statuses and replies since ``since``, newest first, read
        back 40 at a time (the endpoint's maximum) by the ``Link`` header's ``next``
        page (``max_id``) until one is older than ``since``, the account has no more,
        or ``limit`` were collected (then the answer is not ``complete``).
        Docs: https://docs.joinmastodon.org/methods/accounts/#statuses"""
        path = f"/api/v1/accounts/{_path_id(account.remote_id)}/statuses"
        posts: list[RecentPost] = []
        max_id = ""
        while True:
            params = {"limit": LOOKUP_PAGE_SIZE, "exclude_reblogs": "true"}
            if max_id:
                params["max_id"] = max_id
            response = self._request(
                "GET", account.server_url, path, token=self._token(account), params=params
            )
            page = [s for s in self._json(response) or [] if isinstance(s, dict)]
            for status in page:
                created_at = _parse_time(status.get("created_at"))
                if since is not None and created_at is not None and created_at < since:
                    return RecentPosts(posts, complete=True)
                if len(posts) >= limit:
                    return RecentPosts(posts, complete=False)
                posts.append(_recent_post(status))
            next_page = parse_qs(urlsplit(response.links.get("next", "")).query).get("max_id")
            if not page or not next_page or next_page[0] == max_id:
                # The account's first status was reached: nothing older to read.
                return RecentPosts(posts, complete=True)
            max_id = next_page[0]

    # --- inbox and metrics --------------------------------------------------------

    def fetch_inbox(self, account: ChannelAccount, cursor: str | None = None) -> InboxPage:
        """Mentions, replies, quotes and direct messages, from the notifications.

        Direct messages come from notifications too (a direct status always
        mentions us): ``/api/v1/conversations`` shows only each conversation's
        last status and would drop messages that arrive together."""
        params: list[tuple[str, str]] = [
            ("types[]", "mention"),
            ("types[]", "quote"),
            # The default notification policy (4.3+) filters private mentions from
            # accounts the user does not follow, and limited accounts: a citizen
            # writing for the first time. Without this they are left out of the
            # list while the cursor moves past them; older servers ignore it.
            ("include_filtered", "true"),
            ("limit", str(self.inbox_page_size)),
        ]
        if cursor:
            params.append(("min_id", cursor))
        response = self._request(
            "GET",
            account.server_url,
            "/api/v1/notifications",
            token=self._token(account),
            params=params,
        )
        notifications = [n for n in self._json(response) or [] if isinstance(n, dict)]
        newer = parse_qs(urlsplit(response.links.get("prev", "")).query).get("min_id")
        if newer:
            next_cursor: str | None = newer[0]
        elif notifications:
            next_cursor = str(notifications[0]["id"])
        else:
            # A first sync that finds nothing starts from the beginning ("0"): with no
            # notification yet, everything after it is new, and it is paged forward
            # like any later sync, so a burst larger than a page is read in full.
            next_cursor = cursor or INBOX_FROM_THE_BEGINNING
        # A notification whose status is null (gone, or not shown to us) has nothing
        # to answer; the cursor still moves past it.
        items = [
            self._inbox_item(account, n)
            for n in reversed(notifications)
            if isinstance(n.get("status"), dict)
        ]
        return InboxPage(
            items=items,
            next_cursor=next_cursor,
            has_more=bool(cursor) and len(notifications) >= self.inbox_page_size,
        )

    def _inbox_item(self, account: ChannelAccount, notification: Mapping[str, Any]) -> InboxItem:
        status = notification["status"]
        author = status.get("account") or {}
        kind: InboxKind
        in_reply_to: RemoteRef | None = None
        quoted_id, quoted_url = _quoted_link(status)
        if notification.get("type") == "quote":
            kind = "quote"
            if quoted_id:
                in_reply_to = RemoteRef(remote_id=quoted_id, url=quoted_url)
        elif status.get("visibility") == "direct":
            kind = "dm"
        elif status.get("in_reply_to_id") and str(status.get("in_reply_to_account_id")) == str(
            account.remote_id
        ):
            kind = "reply"
        else:
            kind = "mention"
        if in_reply_to is None and status.get("in_reply_to_id"):
            in_reply_to = RemoteRef(remote_id=str(status["in_reply_to_id"]))
        return InboxItem(
            remote_id=str(status["id"]),
            kind=kind,
            author_handle=self._handle(author, _local_domain(account)),
            author_name=str(author.get("display_name") or author.get("username") or ""),
            author_id=str(author.get("id") or ""),
            text=status_text(status),
            created_at=_parse_time(status.get("created_at")),
            url=str(status.get("url") or status.get("uri") or ""),
            in_reply_to=in_reply_to,
            raw={
                "notification_id": str(notification.get("id") or ""),
                "type": str(notification.get("type") or ""),
                "visibility": str(status.get("visibility") or ""),
                "spoiler_text": str(status.get("spoiler_text") or ""),
                "language": str(status.get("language") or ""),
                "uri": str(status.get("uri") or ""),
                # Held back by the account's notification policy on the server.
                "filtered": notification.get("filtered") is True,
                "quote_url": quoted_url,
            },
        )

    # --- listening ------------------------------------------------------------------

    # Hashtags through the tag timeline (every instance); words, phrases and handles
    # through full-text search, where the instance has it configured and the account
    # granted ``read:search``. Both reach as far back as the instance keeps statuses.
    listening = ListeningCapability(words=True, hashtags=True, handles=True, lookback_days=None)

    def search_posts(
        self,
        account: ChannelAccount,
        term: str,
        *,
        since: datetime | None = None,
        cursor: str = "",
        limit: int = 50,
    ) -> SearchPage:
        """A ``#hashtag``: ``GET /api/v1/timelines/tag/:hashtag``
        (https://docs.joinmastodon.org/methods/timelines/#tag), paged by the ``Link``
        header's ``max_id``. Anything else: ``GET /api/v2/search?type=statuses``
        (https://docs.joinmastodon.org/methods/search/#v2), paged by ``max_id`` (the last
        status's id). An instance without full-text search finds nothing by text; an
        account connected before GovSocial asked for ``read:search`` searches hashtags
        only (reconnecting grants it). ``since`` is not a parameter of either: the
        caller stops paging at older statuses."""
        token = self._token(account)
        params: dict[str, Any] = {"limit": max(1, min(limit, SEARCH_PAGE_SIZE))}
        if cursor:
            params["max_id"] = cursor
        if term.startswith("#"):
            tag = term[1:].strip()
            if not tag:
                return SearchPage(posts=[])
            response = self._request(
                "GET",
                account.server_url,
                f"/api/v1/timelines/tag/{quote(tag, safe='')}",
                token=token,
                params=params,
            )
            statuses = [s for s in self._json(response) or [] if isinstance(s, dict)]
            next_page = parse_qs(urlsplit(response.links.get("next", "")).query).get("max_id")
            next_cursor = next_page[0] if next_page and statuses else ""
        else:
            granted = list(account.scopes or [])
            if granted and "read:search" not in granted and not _implied("read:search", granted):
                return SearchPage(posts=[])
            params.update({"q": term, "type": "statuses", "resolve": "false"})
            response = self._request(
                "GET", account.server_url, "/api/v2/search", token=token, params=params
            )
            body = self._json(response) or {}
            statuses = [s for s in body.get("statuses") or [] if isinstance(s, dict)]
            next_cursor = str(statuses[-1].get("id") or "") if statuses else ""
        domain = _local_domain(account)
        posts = [self._found_post(status, domain) for status in statuses if status.get("id")]
        return SearchPage(posts=posts, next_cursor=next_cursor)

    def _found_post(self, status: Mapping[str, Any], domain: str) -> FoundPost:
        author = status.get("account") or {}
        return FoundPost(
            remote_id=str(status["id"]),
            url=str(status.get("url") or status.get("uri") or ""),
            author_handle=self._handle(author, domain),
            author_name=str(author.get("display_name") or author.get("username") or ""),
            author_id=str(author.get("id") or ""),
            text=status_text(status),
            created_at=_parse_time(status.get("created_at")),
            language=str(status.get("language") or ""),
            likes=int(status.get("favourites_count") or 0),
            shares=int(status.get("reblogs_count") or 0),
            replies=int(status.get("replies_count") or 0),
            quotes=int(status.get("quotes_count") or 0),
            extra={"uri": str(status.get("uri") or "")},
            # Status ``uri``: "URI of the status used for federation"
            # (https://docs.joinmastodon.org/entities/Status/#uri); ``id`` and ``url``
            # differ by the instance it is read through.
            canonical_id=str(status.get("uri") or ""),
        )

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        token = self._token(account)
        metrics: list[PostMetrics] = []
        for ref in refs:
            response = self._request(
                "GET",
                account.server_url,
                f"/api/v1/statuses/{_path_id(ref.remote_id)}",
                token=token,
                ok_statuses=(404,),
            )
            if response.status == 404:
                metrics.append(PostMetrics(remote_id=ref.remote_id, deleted=True))
                continue
            status = self._json(response)
            quotes = status.get("quotes_count")
            metrics.append(
                PostMetrics(
                    remote_id=ref.remote_id,
                    likes=int(status.get("favourites_count") or 0),
                    shares=int(status.get("reblogs_count") or 0),
                    replies=int(status.get("replies_count") or 0),
                    quotes=int(quotes) if isinstance(quotes, int) else None,
                    impressions=None,
                )
            )
        return metrics

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        profile = self._verify_credentials(account.server_url, self._token(account))
        return AccountMetrics(
            followers=int(profile.get("followers_count") or 0),
            following=int(profile.get("following_count") or 0),
            posts=int(profile.get("statuses_count") or 0),
        )

    # --- the complete record --------------------------------------------------------

    def fetch_own_history(self, account: ChannelAccount, cursor: str | None = None) -> HistoryPage:
        """The account's own statuses and replies (reblogs left out), newest first, 40
        a page; ``cursor`` is the ``max_id`` of the ``Link`` header's ``next`` page.
        Docs: https://docs.joinmastodon.org/methods/accounts/#statuses"""
        params: dict[str, Any] = {"limit": LOOKUP_PAGE_SIZE, "exclude_reblogs": "true"}
        if cursor:
            params["max_id"] = cursor
        response = self._request(
            "GET",
            account.server_url,
            f"/api/v1/accounts/{_path_id(account.remote_id)}/statuses",
            token=self._token(account),
            params=params,
        )
        page = [s for s in self._json(response) or [] if isinstance(s, dict) and s.get("id")]
        next_page = parse_qs(urlsplit(response.links.get("next", "")).query).get("max_id")
        next_cursor = next_page[0] if page and next_page and next_page[0] != cursor else None
        return HistoryPage(posts=[_history_post(s) for s in page], next_cursor=next_cursor)

    def fetch_status_history(self, account: ChannelAccount, ref: RemoteRef) -> list[PostVersion]:
        """Every version of the status, oldest (the original) first.
        Docs: https://docs.joinmastodon.org/methods/statuses/#history"""
        response = self._request(
            "GET",
            account.server_url,
            f"/api/v1/statuses/{_path_id(ref.remote_id)}/history",
            token=self._token(account),
        )
        return [
            PostVersion(
                text=status_text(edit),
                created_at=_parse_time(edit.get("created_at")),
                content_warning=str(edit.get("spoiler_text") or ""),
                media=_media_of(edit),
            )
            for edit in self._json(response) or []
            if isinstance(edit, dict)
        ]

    def fetch_replies(self, account: ChannelAccount, ref: RemoteRef) -> list[ThreadComment]:
        """Every status below this one (its ``descendants``), by anyone but the account.
        Docs: https://docs.joinmastodon.org/methods/statuses/#context"""
        response = self._request(
            "GET",
            account.server_url,
            f"/api/v1/statuses/{_path_id(ref.remote_id)}/context",
            token=self._token(account),
        )
        body = self._json(response) or {}
        domain = _local_domain(account)
        comments: list[ThreadComment] = []
        for status in body.get("descendants") or []:
            if not isinstance(status, dict) or not status.get("id"):
                continue
            author = status.get("account") or {}
            if str(author.get("id") or "") == str(account.remote_id):
                continue  # our own answers are our posts, archived as such
            comments.append(
                ThreadComment(
                    ref=RemoteRef(
                        remote_id=str(status["id"]),
                        url=str(status.get("url") or status.get("uri") or ""),
                    ),
                    author_handle=self._handle(author, domain),
                    author_name=str(author.get("display_name") or author.get("username") or ""),
                    author_id=str(author.get("id") or ""),
                    text=status_text(status),
                    created_at=_parse_time(status.get("created_at")),
                    edited_at=_parse_time(status.get("edited_at")),
                    in_reply_to_id=str(status.get("in_reply_to_id") or ""),
                    language=str(status.get("language") or ""),
                )
            )
        return comments


def _media_of(status: Mapping[str, Any]) -> tuple[ArchiveMedia, ...]:
    return tuple(
        ArchiveMedia(
            url=_web_address(m.get("url") or m.get("remote_url")),
            alt_text=str(m.get("description") or ""),
            mime_type="image/*" if m.get("type") == "image" else str(m.get("type") or ""),
        )
        for m in status.get("media_attachments") or []
        if isinstance(m, dict)
    )


def _history_post(status: Mapping[str, Any]) -> HistoryPost:
    replies = status.get("replies_count")
    return HistoryPost(
        ref=RemoteRef(
            remote_id=str(status["id"]), url=str(status.get("url") or status.get("uri") or "")
        ),
        text=status_text(status),
        created_at=_parse_time(status.get("created_at")),
        edited_at=_parse_time(status.get("edited_at")),
        language=str(status.get("language") or ""),
        reply_to_id=str(status.get("in_reply_to_id") or ""),
        content_warning=str(status.get("spoiler_text") or ""),
        media=_media_of(status),
        replies=replies if isinstance(replies, int) else None,
        raw={
            "visibility": str(status.get("visibility") or ""),
            "uri": str(status.get("uri") or ""),
        },
    )


def _implied(scope: str, granted: Sequence[str]) -> bool:
    """``read`` grants every ``read:*``; ``write`` every ``write:*``."""
    return scope.split(":", 1)[0] in granted


def _local_domain(account: ChannelAccount) -> str:
    """The instance's own domain, as in ``@name@domain`` handles: taken from the
    account's handle (stored at connect time), which may differ from the server's host."""
    if account.handle.count("@") == 2:
        return account.handle.rsplit("@", 1)[-1]
    return urlsplit(account.server_url).netloc


class MultipartFile:
    """A ``multipart/form-data`` body read from disk piece by piece (``requests`` streams
    any object with ``read``; ``__len__`` gives it the Content-Length): the form fields,
    then one file part whose bytes come straight from ``path``."""

    def __init__(
        self,
        *,
        fields: Mapping[str, str],
        name: str,
        filename: str,
        content_type: str,
        path: str,
    ) -> None:
        self.boundary = f"govsocial-{secrets.token_hex(16)}"
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        head = b""
        for key, value in fields.items():
            head += (
                (
                    f"--{self.boundary}\r\n"
                    f'Content-Disposition: form-data; name="{_quote_field(key)}"\r\n\r\n'
                ).encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{_quote_field(name)}"; '
            f'filename="{_quote_field(filename)}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        size = os.fstat(self._file.fileno()).st_size
        self._parts: list[Any] = [io.BytesIO(head), self._file, io.BytesIO(tail)]
        self._length = len(head) + size + len(tail)
        self._index = 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        chunks: list[bytes] = []
        wanted = size if size is not None and size >= 0 else None
        while self._index < len(self._parts):
            chunk = self._parts[self._index].read(-1 if wanted is None else wanted)
            if chunk:
                chunks.append(chunk)
                if wanted is not None:
                    wanted -= len(chunk)
                    if wanted <= 0:
                        break
            else:
                self._index += 1
        return b"".join(chunks)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Back to the start only (a resend after a failure)."""
        if offset != 0 or whence != 0:
            raise io.UnsupportedOperation("MultipartFile seeks to its start only")
        for part in self._parts:
            part.seek(0)
        self._index = 0
        return 0

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MultipartFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _quote_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
