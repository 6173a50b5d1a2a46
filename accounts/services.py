"""Writes about channel accounts: connecting, health, errors, disconnecting.

Views, the API and tasks call these; they check permissions themselves
(``accounts.manage``) before calling. Functions are keyword-only; each state
change runs in a transaction and writes an audit entry (never with secrets in
it). Network calls happen outside transactions, except a credential refresh,
which holds the account's row lock so a single-use refresh token is never
spent twice.
"""

from __future__ import annotations

import logging
import secrets
import zoneinfo
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.connectors.base import (
    AuthError,
    ConnectedAccount,
    ConnectorError,
    HealthResult,
    OAuthClient,
    OAuthStart,
    RateLimited,
    Rejected,
)
from accounts.connectors.bluesky import NotAnAppPassword, UnknownHandle
from accounts.connectors.facebook import MetaAsset, MetaLogin
from accounts.connectors.facebook import connected_page as meta_connected_page
from accounts.connectors.instagram import connected_instagram as meta_connected_instagram
from accounts.connectors.linkedin import SCOPES as LINKEDIN_SCOPES
from accounts.connectors.linkedin import LinkedInConnector, LinkedInSignIn, auth_url
from accounts.connectors.mastodon import SCOPES as MASTODON_SCOPES
from accounts.connectors.mastodon import normalize_server_url
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.connectors.sandbox import AudienceActivity, simulate_audience
from accounts.connectors.x import PLANS as X_PLANS
from accounts.connectors.x import SCOPES as X_SCOPES
from accounts.connectors.youtube import PLATFORM as GOOGLE_PLATFORM
from accounts.connectors.youtube import SCOPES as YOUTUBE_SCOPES
from accounts.connectors.youtube import quota_record as youtube_quota_record
from accounts.models import (
    AccountStatus,
    ApiCallBudget,
    ChannelAccount,
    MastodonApp,
    NetworkApp,
    PublishCheckpoint,
)
from accounts.selectors import (
    EXPIRY_NOTICE_ACTION,
    channel_account_expiry_notified,
    expiry_key,
)
from governance.models import Membership, Organization, Role, User
from governance.services.audit import audit_record
from governance.services.notifications import notification_send

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MastodonConnectStart:
    """Send the person to ``authorization_url``; keep ``state`` and ``code_verifier``
    in their session until the instance sends them back."""

    server_url: str
    authorization_url: str
    state: str
    code_verifier: str


# --- connecting -----------------------------------------------------------------


def mastodon_app_get_or_register(*, server_url: str, redirect_uri: str) -> MastodonApp:
    """Our registration on the instance, made there the first time anyone connects it.

    Registered again only when our callback address or needed scopes changed.
    """
    server_url = normalize_server_url(server_url)
    app = MastodonApp.objects.filter(server_url=server_url).first()
    if (
        app is not None
        and app.redirect_uri == redirect_uri
        and set(MASTODON_SCOPES) <= set(app.scopes.split())
    ):
        return app
    client = get_connector("mastodon").register_client(
        server_url=server_url, redirect_uri=redirect_uri
    )
    values = {
        "client_id": client.client_id,
        "client_secret": client.client_secret,
        "scopes": " ".join(client.scopes),
        "redirect_uri": client.redirect_uri,
        "remote_app_id": client.remote_app_id,
    }
    try:
        with transaction.atomic():
            if app is None:
                app = MastodonApp.objects.create(server_url=server_url, **values)
            else:
                for name, value in values.items():
                    setattr(app, name, value)
                app.save(update_fields=[*values])
            audit_record(
                action="mastodon_app.registered",
                target=app,
                new={"server_url": server_url, "redirect_uri": redirect_uri},
            )
    except IntegrityError:
        # Someone connecting the same instance registered first: use theirs, so
        # every OAuth flow in progress talks to one client id.
        return MastodonApp.objects.get(server_url=server_url)
    return app


def channel_account_connect_mastodon_start(
    *, organization: Organization, actor: User, server_url: str, redirect_uri: str
) -> MastodonConnectStart:
    """Begin connecting a Mastodon account: register on the instance if needed and
    build the sign-in address (PKCE S256 and a state)."""
    app = mastodon_app_get_or_register(server_url=server_url, redirect_uri=redirect_uri)
    start = get_connector("mastodon").oauth_start(client=app.as_client())
    return MastodonConnectStart(
        server_url=app.server_url,
        authorization_url=start.authorization_url,
        state=start.state,
        code_verifier=start.code_verifier,
    )


def channel_account_connect_mastodon_finish(
    *,
    organization: Organization,
    actor: User,
    server_url: str,
    code: str,
    returned_state: str,
    expected_state: str,
    code_verifier: str,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Finish connecting: check the state, trade the code (with the PKCE verifier)
    for a token, read the profile, and store the account (new, or reconnected)."""
    app = MastodonApp.objects.filter(server_url=normalize_server_url(server_url)).first()
    if app is None:
        raise AuthError(_("This sign-in was not started here. Start connecting again."))
    connected = get_connector("mastodon").oauth_finish(
        client=app.as_client(),
        code=code,
        returned_state=returned_state,
        expected_state=expected_state,
        code_verifier=code_verifier,
    )
    return channel_account_store_connection(
        organization=organization,
        actor=actor,
        network="mastodon",
        connected=connected,
        request=request,
    )


def _x_client(*, organization: Organization, redirect_uri: str) -> Any:
    app = NetworkApp.objects.filter(organization=organization, network="x").first()
    if app is None:
        raise Rejected(
            _("the organization's X app is not set up yet: an admin enters it first"),
        )
    connector = get_connector("x")
    return app.as_client(
        server_url=connector.api_url(),  # type: ignore[attr-defined]
        redirect_uri=redirect_uri,
        scopes=X_SCOPES,
    )


def channel_account_connect_x_start(*, organization: Organization, redirect_uri: str) -> OAuthStart:
    """Begin connecting an X account through the organization's own X app (PKCE S256)."""
    client = _x_client(organization=organization, redirect_uri=redirect_uri)
    return get_connector("x").oauth_start(client=client)


def channel_account_connect_x_finish(
    *,
    organization: Organization,
    actor: User,
    redirect_uri: str,
    code: str,
    returned_state: str,
    expected_state: str,
    code_verifier: str,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Finish connecting: trade the code for the token pair and store the account."""
    client = _x_client(organization=organization, redirect_uri=redirect_uri)
    connected = get_connector("x").oauth_finish(
        client=client,
        code=code,
        returned_state=returned_state,
        expected_state=expected_state,
        code_verifier=code_verifier,
    )
    return channel_account_store_connection(
        organization=organization, actor=actor, network="x", connected=connected, request=request
    )


def _tiktok_client(*, organization: Organization, redirect_uri: str) -> Any:
    from accounts.connectors.tiktok import SCOPES as TIKTOK_SCOPES
    from accounts.connectors.tiktok import api_url as tiktok_api_url

    app = NetworkApp.objects.filter(organization=organization, network="tiktok").first()
    if app is None:
        raise Rejected(
            _("the organization's TikTok app is not set up yet: an admin enters it first"),
        )
    return app.as_client(
        server_url=tiktok_api_url(), redirect_uri=redirect_uri, scopes=TIKTOK_SCOPES
    )


def channel_account_connect_tiktok_start(
    *, organization: Organization, redirect_uri: str
) -> OAuthStart:
    """Begin connecting a TikTok account through the organization's own TikTok app."""
    client = _tiktok_client(organization=organization, redirect_uri=redirect_uri)
    return get_connector("tiktok").oauth_start(client=client)


def channel_account_connect_tiktok_finish(
    *,
    organization: Organization,
    actor: User,
    redirect_uri: str,
    code: str,
    returned_state: str,
    expected_state: str,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Finish connecting: trade the code for the tokens, read the user, store the account."""
    client = _tiktok_client(organization=organization, redirect_uri=redirect_uri)
    connected = get_connector("tiktok").oauth_finish(
        client=client,
        code=code,
        returned_state=returned_state,
        expected_state=expected_state,
        code_verifier="",
    )
    return channel_account_store_connection(
        organization=organization,
        actor=actor,
        network="tiktok",
        connected=connected,
        request=request,
    )


def _youtube_client(*, organization: Organization, redirect_uri: str) -> Any:
    app = NetworkApp.objects.filter(organization=organization, network=GOOGLE_PLATFORM).first()
    if app is None:
        raise Rejected(
            _("the organization's Google project is not set up yet: an admin enters it first"),
        )
    connector = get_connector("youtube")
    return app.as_client(
        server_url=connector.api_url(),  # type: ignore[attr-defined]
        redirect_uri=redirect_uri,
        scopes=YOUTUBE_SCOPES,
    )


def channel_account_connect_youtube_start(
    *, organization: Organization, redirect_uri: str
) -> OAuthStart:
    """Begin connecting a YouTube channel through the organization's Google project."""
    client = _youtube_client(organization=organization, redirect_uri=redirect_uri)
    return get_connector("youtube").oauth_start(client=client)


def channel_account_connect_youtube_finish(
    *,
    organization: Organization,
    actor: User,
    redirect_uri: str,
    code: str,
    returned_state: str,
    expected_state: str,
    code_verifier: str,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Finish connecting: trade the code for the tokens, find the channel, store it."""
    client = _youtube_client(organization=organization, redirect_uri=redirect_uri)
    connected = get_connector("youtube").oauth_finish(
        client=client,
        code=code,
        returned_state=returned_state,
        expected_state=expected_state,
        code_verifier=code_verifier,
    )
    # The channel look-up (channels.list) spent a unit of the project's quota.
    youtube_quota_record(organization.pk, "channels_list")
    return channel_account_store_connection(
        organization=organization,
        actor=actor,
        network="youtube",
        connected=connected,
        request=request,
    )


def channel_account_set_call_budget(
    *,
    account: ChannelAccount,
    actor: User,
    monthly_calls: int | None,
    request: HttpRequest | None = None,
) -> ApiCallBudget | None:
    """Set (or, with None, remove) the account's monthly budget of API calls. Audited."""
    if monthly_calls is not None and monthly_calls < 0:
        raise ValidationError(_("A budget cannot be negative."))
    with transaction.atomic():
        budget = ApiCallBudget.objects.select_for_update().filter(account=account).first()
        old = {"monthly_calls": budget.monthly_calls} if budget else None
        if monthly_calls is None:
            if budget is not None:
                budget.delete()
            budget = None
        elif budget is None:
            budget = ApiCallBudget.objects.create(
                account=account, monthly_calls=monthly_calls, updated_by=actor
            )
        else:
            budget.monthly_calls = monthly_calls
            budget.updated_by = actor
            budget.updated_at = timezone.now()
            budget.save(update_fields=["monthly_calls", "updated_by", "updated_at"])
        audit_record(
            action="channel_account.call_budget_set",
            organization=account.organization,
            actor=actor,
            target=account,
            old=old,
            new={"monthly_calls": monthly_calls},
            request=request,
        )
    return budget


def x_app_save(
    *,
    organization: Organization,
    actor: User,
    client_id: str,
    client_secret: str,
    plan: str,
    request: HttpRequest | None = None,
) -> NetworkApp:
    """The organization's own X app (client id, secret and the API plan it is on)."""
    if plan not in X_PLANS:
        raise ValidationError({"plan": _("Choose the app's plan.")})
    return network_app_save(
        organization=organization,
        actor=actor,
        network="x",
        client_id=client_id,
        client_secret=client_secret,
        options={"plan": plan},
        request=request,
    )


def channel_account_connect_sandbox(
    *,
    organization: Organization,
    actor: User,
    handle: str,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Add a Sandbox account: a practice feed inside the app."""
    connected = get_connector("sandbox").connect(server_url="", identifier=handle, secret="")
    return channel_account_store_connection(
        organization=organization,
        actor=actor,
        network="sandbox",
        connected=connected,
        request=request,
    )


def channel_account_connect_bluesky(
    *,
    organization: Organization,
    actor: User,
    handle: str,
    app_password: str,
    server_url: str = "",
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Connect a Bluesky account (new, or reconnected) with its handle and an app password.

    The app password opens one session and is not kept: only the session is stored,
    and it renews itself. ``server_url`` names a self-hosted server (PDS); without it
    the handle leads to the account's server. What the person typed wrong is raised
    as a ``ValidationError`` on that field; a rate limit as ``RateLimited``.
    """
    try:
        connected = get_connector("bluesky").connect(
            server_url=server_url, identifier=handle, secret=app_password
        )
    except UnknownHandle as exc:
        raise ValidationError({"handle": exc.message}, code="unknown_handle") from exc
    except NotAnAppPassword as exc:
        raise ValidationError({"app_password": exc.message}, code="main_password") from exc
    except AuthError as exc:
        raise ValidationError({"app_password": exc.message}, code="bad_credentials") from exc
    except RateLimited:
        raise
    except Rejected as exc:
        if server_url:
            message = _("GovSocial cannot use %(server)s: %(reason)s") % {
                "server": server_url,
                "reason": exc.reason or exc.message,
            }
            raise ValidationError({"server_url": message}, code="bad_server") from exc
        raise ValidationError(
            _("Bluesky refused the connection: %(reason)s") % {"reason": exc.reason or exc.message},
            code="refused",
        ) from exc
    except ConnectorError as exc:
        if server_url:
            message = _(
                "No Bluesky server answered at %(server)s. Check the address, or try again later."
            ) % {"server": server_url}
            raise ValidationError({"server_url": message}, code="unreachable") from exc
        raise ValidationError(
            _("Bluesky could not be reached just now. Try again in a few minutes."),
            code="unreachable",
        ) from exc
    return channel_account_store_connection(
        organization=organization,
        actor=actor,
        network="bluesky",
        connected=connected,
        request=request,
    )


def channel_account_store_connection(
    *,
    organization: Organization,
    actor: User,
    network: str,
    connected: ConnectedAccount,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Create the account, or bring an existing one (same handle, or same id on the
    same server) back to active with its new credentials."""
    now = timezone.now()
    values = {
        "handle": connected.handle,
        "display_name": connected.display_name[:255],
        "remote_id": connected.remote_id,
        "server_url": connected.server_url,
        "credentials": dict(connected.credentials),
        "credentials_expire_at": connected.credentials_expire_at,
        "scopes": list(connected.scopes),
        "network_limits": dict(connected.limits),
        "status": AccountStatus.ACTIVE,
        "connected_at": now,
        "connected_by": actor,
        "last_error": "",
        "last_error_kind": "",
        "last_error_at": None,
    }
    with transaction.atomic():
        same_remote = Q(remote_id=connected.remote_id, server_url=connected.server_url)
        account = (
            ChannelAccount.objects.select_for_update()
            .filter(organization=organization, network=network)
            .filter(Q(handle=connected.handle) | (same_remote if connected.remote_id else Q()))
            .order_by("pk")
            .first()
        )
        old = None
        if account is None:
            account = ChannelAccount.objects.create(
                organization=organization, network=network, **values
            )
            action = "channel_account.connected"
        else:
            old = {"handle": account.handle, "status": account.status}
            for name, value in values.items():
                setattr(account, name, value)
            account.save(update_fields=list(values))
            action = "channel_account.reconnected"
        audit_record(
            action=action,
            organization=organization,
            actor=actor,
            target=account,
            old=old,
            new={
                "network": network,
                "handle": account.handle,
                "server_url": account.server_url,
                "scopes": list(account.scopes),
                "status": account.status,
            },
            request=request,
        )
    return account


def channel_account_disconnect(
    *, account: ChannelAccount, actor: User, request: HttpRequest | None = None
) -> ChannelAccount:
    """Revoke the token on the network where possible, forget the credentials and
    mark the account disconnected. A network that cannot be reached does not stop
    the disconnect; the audit entry says whether the token was revoked."""
    revoke_error = ""
    try:
        get_connector(account.network).disconnect(account)
    except ConnectorError as exc:
        revoke_error = exc.kind
        logger.warning("Could not revoke the token of account %s: %s", account.pk, exc.detail)
    with transaction.atomic():
        old_status = account.status
        account.status = AccountStatus.DISCONNECTED
        account.credentials = {}
        account.credentials_expire_at = None
        account.save(update_fields=["status", "credentials", "credentials_expire_at"])
        audit_record(
            action="channel_account.disconnected",
            organization=account.organization,
            actor=actor,
            target=account,
            old={"status": old_status},
            new={
                "status": account.status,
                "token_revoked": not revoke_error,
                "revoke_error": revoke_error,
            },
            request=request,
        )
    return account


# --- health and errors --------------------------------------------------------------


def channel_account_check_health(*, account: ChannelAccount) -> HealthResult | None:
    """Ask the network whether the account's sign-in still works, and record the answer.

    Returns what the network said, or None after a failure (recorded on the
    account; an auth failure also marks it for reconnecting and tells its people).
    """
    try:
        result = get_connector(account.network).check_health(account)
    except ConnectorError as exc:
        channel_account_record_error(account=account, error=exc)
        ChannelAccount.objects.filter(pk=account.pk).update(last_health_check_at=timezone.now())
        return None
    now = timezone.now()
    fields = {
        "last_health_check_at": now,
        "last_error": "",
        "last_error_kind": "",
        "last_error_at": None,
    }
    if result.display_name and result.display_name != account.display_name:
        fields["display_name"] = result.display_name[:255]
    if result.scopes and sorted(result.scopes) != sorted(account.scopes or []):
        # The network says what the token may do now (a permission taken back on the
        # network shows on the account page).
        fields["scopes"] = sorted(result.scopes)
    with transaction.atomic():
        ChannelAccount.objects.filter(pk=account.pk).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)
    return result


def channel_account_record_error(*, account: ChannelAccount, error: ConnectorError) -> None:
    """Keep the latest failure on the account; an auth failure needs a reconnect."""
    now = timezone.now()
    fields = {
        "last_error": error.message[:2000],
        "last_error_kind": str(error.kind),
        "last_error_at": now,
    }
    ChannelAccount.objects.filter(pk=account.pk).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)
    if isinstance(error, AuthError):
        channel_account_mark_needs_reconnect(account=account, reason=error.message)


def channel_account_mark_needs_reconnect(
    *, account: ChannelAccount, reason: str, actor: User | None = None
) -> bool:
    """Move an active or paused account to ``needs_reconnect`` and tell the person who
    connected it and the organization's admins. Returns False when it already was
    (or is disconnected): a second failure tells nobody twice."""
    with transaction.atomic():
        changed = ChannelAccount.objects.filter(
            pk=account.pk, status__in=[AccountStatus.ACTIVE, AccountStatus.PAUSED]
        ).update(status=AccountStatus.NEEDS_RECONNECT)
        if not changed:
            return False
        old_status = account.status
        account.status = AccountStatus.NEEDS_RECONNECT
        audit_record(
            action="channel_account.needs_reconnect",
            organization=account.organization,
            actor=actor,
            target=account,
            old={"status": old_status},
            new={"status": account.status, "reason": reason[:500]},
        )
        for user in _people_to_tell(account):
            with translation.override(user.preferred_language or None):
                message = _("%(handle)s (%(network)s) needs reconnecting: %(reason)s") % {
                    "handle": account.handle,
                    "network": _network_label(account.network),
                    "reason": reason,
                }
            notification_send(
                user=user,
                organization=account.organization,
                kind="account.needs_reconnect",
                message=message,
                link=reverse("accounts:list"),
            )
    return True


def _network_label(network: str) -> str:
    try:
        return str(get_connector(network).label)
    except UnknownNetwork:
        return network


def _reconnect_help(network: str) -> str:
    try:
        return str(get_connector(network).reconnect_help)
    except UnknownNetwork:
        return ""


def _people_to_tell(account: ChannelAccount) -> list[User]:
    memberships = Membership.objects.filter(
        organization_id=account.organization_id, is_active=True, user__is_active=True
    ).filter(Q(role=Role.ADMIN) | Q(user_id=account.connected_by_id))
    return [m.user for m in memberships.select_related("user").order_by("user_id")]


def channel_account_refresh_credentials(
    *, account: ChannelAccount, stale_credentials: Mapping[str, Any] | None = None
) -> ChannelAccount:
    """Renew the account's credentials (networks whose tokens expire).

    Holds the row lock across the network call: refresh tokens are single-use
    on some networks, and two workers must never spend the same one. Not
    audited: it is routine upkeep that changes nothing a person decided.

    ``stale_credentials``: renew only while these are still the stored ones. A
    connector whose call was refused for an expired token passes the credentials it
    used; if another worker renewed them while this one waited for the lock, theirs
    are used instead of renewing again.
    """
    connector = get_connector(account.network)
    try:
        with transaction.atomic():
            locked = ChannelAccount.objects.select_for_update().get(pk=account.pk)
            if stale_credentials is None or dict(locked.credentials or {}) == dict(
                stale_credentials
            ):
                update = connector.refresh_credentials(locked)
                locked.credentials = dict(update.credentials)
                locked.credentials_expire_at = update.expires_at
                locked.save(update_fields=["credentials", "credentials_expire_at"])
    except ConnectorError as exc:
        channel_account_record_error(account=account, error=exc)
        raise
    account.credentials = locked.credentials
    account.credentials_expire_at = locked.credentials_expire_at
    return account


# --- expiry notices and the Sandbox audience (the Accounts pages and tasks) -----------


def channel_account_notify_expiring_credentials(*, account: ChannelAccount) -> bool:
    """Tell the person who connected the account and the organization's admins (in the
    app and by e-mail) that its sign-in ends soon and it needs reconnecting before then.

    Once per expiry: the audit entry records which expiry was announced, and a
    reconnect that brings a new expiry will be announced again when it nears.
    Returns False when there was nothing (more) to tell.
    """
    with transaction.atomic():
        # The row lock makes two runs of the daily check (two beats) announce once.
        locked = (
            ChannelAccount.objects.select_for_update(of=("self",), no_key=True)
            .select_related("organization")
            .filter(pk=account.pk)
            .first()
        )
        if (
            locked is None
            or locked.credentials_expire_at is None
            or locked.status not in (AccountStatus.ACTIVE, AccountStatus.PAUSED)
            or channel_account_expiry_notified(locked)
        ):
            return False
        expires_at = locked.credentials_expire_at
        people = _people_to_tell(locked)
        audit_record(
            action=EXPIRY_NOTICE_ACTION,
            organization=locked.organization,
            target=locked,
            new={
                "expires_at": expiry_key(expires_at),
                "notified": [person.email for person in people],
            },
        )
        try:
            zone = zoneinfo.ZoneInfo(locked.organization.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        link = reverse("accounts:detail", args=[locked.pk])
        for person in people:
            with translation.override(person.preferred_language or None):
                message = _(
                    "The sign-in of %(handle)s (%(network)s) ends on %(date)s. Reconnect the "
                    "account before then, or its scheduled posts will not go out."
                ) % {
                    "handle": locked.handle,
                    "network": _network_label(locked.network),
                    "date": formats.date_format(
                        timezone.localtime(expires_at, zone), "DATE_FORMAT"
                    ),
                }
                help_text = _reconnect_help(locked.network)
                if help_text:
                    message = f"{message} {help_text}"
            notification_send(
                user=person,
                organization=locked.organization,
                kind="account.credentials_expiring",
                message=message,
                link=link,
            )
    return True


def sandbox_audience_simulate(
    *,
    account: ChannelAccount,
    actor: User,
    mood: str = "everyday",
    actions: int = 10,
    request: HttpRequest | None = None,
) -> AudienceActivity:
    """Let the simulated citizens react to a Sandbox account's feed (training, drills).

    The seed is recorded in the audit entry, so a drill can be replayed."""
    seed = secrets.token_hex(8)
    with transaction.atomic():
        activity = simulate_audience(account, seed=seed, actions=actions, mood=mood)
        audit_record(
            action="sandbox.audience_simulated",
            organization=account.organization,
            actor=actor,
            target=account,
            new={"seed": seed, "mood": mood, "actions": actions, **activity.__dict__},
            request=request,
        )
    return activity


def sandbox_audience_react_to_post(
    *, account: ChannelAccount, remote_id: str, actions: int = 4
) -> AudienceActivity:
    """The practice audience reacts on its own to a post just published on a Sandbox
    account, in the post's language; the inbox sync brings the answers in."""
    with transaction.atomic():
        activity = simulate_audience(account, seed=remote_id, actions=actions, remote_id=remote_id)
        audit_record(
            action="sandbox.audience_simulated",
            organization=account.organization,
            target=account,
            new={"seed": remote_id, "post": remote_id, "actions": actions, **activity.__dict__},
        )
    return activity


def network_app_save(
    *,
    organization: Organization,
    actor: User,
    network: str,
    client_id: str,
    client_secret: str = "",
    secrets: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> NetworkApp:
    """Create or update the organization's own app on ``network``.

    An empty ``client_secret`` keeps the stored one (forms never show a secret back);
    ``secrets`` entries are merged the same way, empty values keeping what is stored.
    The audit entry names what changed, never a secret's value.
    """
    client_id = client_id.strip()
    if not client_id:
        raise ValidationError(_("Enter the app id."))
    with transaction.atomic():
        app = (
            NetworkApp.objects.select_for_update()
            .filter(organization=organization, network=network)
            .first()
        )
        created = app is None
        if app is None:
            if not client_secret:
                raise ValidationError(_("Enter the app secret."))
            app = NetworkApp(organization=organization, network=network)
        old = None if created else {"client_id": app.client_id, "options": dict(app.options)}
        changed_secrets = sorted(k for k, v in (secrets or {}).items() if v)
        app.client_id = client_id
        if client_secret:
            app.client_secret = client_secret
            changed_secrets.append("client_secret")
        app.secrets = {**(app.secrets or {}), **{k: v for k, v in (secrets or {}).items() if v}}
        if options is not None:
            app.options = {**(app.options or {}), **dict(options)}
        app.updated_at = timezone.now()
        app.updated_by = actor
        app.save()
        audit_record(
            action="network_app.created" if created else "network_app.updated",
            organization=organization,
            actor=actor,
            target=app,
            old=old,
            new={
                "network": network,
                "client_id": app.client_id,
                "options": dict(app.options),
                "secrets_changed": sorted(changed_secrets),
            },
            request=request,
        )
    return app


def network_app_delete(
    *, organization: Organization, actor: User, network: str, request: HttpRequest | None = None
) -> bool:
    """Forget the organization's app on ``network``; accounts connected through it keep
    their tokens until they expire, but cannot renew them."""
    with transaction.atomic():
        app = NetworkApp.objects.filter(organization=organization, network=network).first()
        if app is None:
            return False
        audit_record(
            action="network_app.deleted",
            organization=organization,
            actor=actor,
            target=app,
            old={"network": network, "client_id": app.client_id},
            request=request,
        )
        app.delete()
    return True


# --- LinkedIn: the organization's own app, sign-in, and picking pages ----------------------


@dataclass(frozen=True)
class LinkedInConnectStart:
    authorization_url: str
    state: str


def _linkedin_client(*, organization: Organization, redirect_uri: str) -> OAuthClient:
    app = NetworkApp.objects.filter(organization=organization, network="linkedin").first()
    if app is None:
        raise ValidationError(
            _("Enter your organization's LinkedIn app (client id and secret) first.")
        )
    return app.as_client(server_url=auth_url(), redirect_uri=redirect_uri, scopes=LINKEDIN_SCOPES)


def linkedin_connect_start(
    *, organization: Organization, redirect_uri: str
) -> LinkedInConnectStart:
    """The address of LinkedIn's sign-in page for the organization's own app, and the
    state to keep server-side until LinkedIn sends the person back."""
    client = _linkedin_client(organization=organization, redirect_uri=redirect_uri)
    start = get_connector("linkedin").oauth_start(client=client)
    return LinkedInConnectStart(authorization_url=start.authorization_url, state=start.state)


def linkedin_connect_finish(
    *,
    organization: Organization,
    redirect_uri: str,
    code: str,
    returned_state: str,
    expected_state: str,
) -> LinkedInSignIn:
    """Check the state, trade the code for a token, and list the member's pages."""
    connector = get_connector("linkedin")
    assert isinstance(connector, LinkedInConnector)
    client = _linkedin_client(organization=organization, redirect_uri=redirect_uri)
    return connector.sign_in(
        client=client, code=code, returned_state=returned_state, expected_state=expected_state
    )


def linkedin_pages_connect(
    *,
    organization: Organization,
    actor: User,
    signed_in: LinkedInSignIn,
    page_ids: list[str],
    request: HttpRequest | None = None,
) -> list[ChannelAccount]:
    """Make each chosen page (one the member may post for) a channel account, sharing
    the member's token; a page already connected is reconnected."""
    chosen = [p for p in signed_in.pages if p.remote_id in set(page_ids) and p.can_post]
    if not chosen:
        raise ValidationError(_("Choose at least one page that you may post for."))
    return [
        channel_account_store_connection(
            organization=organization,
            actor=actor,
            network="linkedin",
            connected=signed_in.connected(page),
            request=request,
        )
        for page in chosen
    ]


# --- publish checkpoints (connectors of networks without an idempotency key) -----------


def publish_checkpoint_get(*, account: ChannelAccount, key: str) -> dict[str, Any]:
    """What an earlier try of the publish with ``key`` recorded (empty when none)."""
    found = PublishCheckpoint.objects.filter(channel_account=account, key=key).first()
    return dict(found.data) if found is not None else {}


def publish_checkpoint_save(*, account: ChannelAccount, key: str, data: Mapping[str, Any]) -> None:
    """Record progress of the publish with ``key``, committed at once (it must outlive a
    worker that dies right after the next network call)."""
    with transaction.atomic():
        PublishCheckpoint.objects.update_or_create(
            channel_account=account,
            key=key,
            defaults={"data": dict(data), "updated_at": timezone.now()},
        )


# --- Threads: the organization's own Threads app, OAuth ---------------------------------


@dataclass(frozen=True)
class ThreadsConnectStart:
    server_url: str
    authorization_url: str
    state: str


def _threads_client(*, organization: Organization, redirect_uri: str) -> OAuthClient:
    from accounts.connectors.threads import SCOPES as THREADS_SCOPES
    from accounts.connectors.threads import api_base

    app = NetworkApp.objects.filter(organization=organization, network="threads").first()
    if app is None:
        raise Rejected(
            _("an administrator must first enter the organization's Threads app"),
        )
    return app.as_client(server_url=api_base(), redirect_uri=redirect_uri, scopes=THREADS_SCOPES)


def channel_account_connect_threads_start(
    *, organization: Organization, redirect_uri: str
) -> ThreadsConnectStart:
    """Begin connecting a Threads profile through the organization's own Threads app."""
    client = _threads_client(organization=organization, redirect_uri=redirect_uri)
    start = get_connector("threads").oauth_start(client=client)
    return ThreadsConnectStart(
        server_url=client.server_url,
        authorization_url=start.authorization_url,
        state=start.state,
    )


def channel_account_connect_threads_finish(
    *,
    organization: Organization,
    actor: User,
    redirect_uri: str,
    code: str,
    returned_state: str,
    expected_state: str,
    request: HttpRequest | None = None,
) -> ChannelAccount:
    """Finish connecting: check the state, trade the code for a one-hour token and that
    for a 60-day one, read the granted permissions and the profile, store the account."""
    client = _threads_client(organization=organization, redirect_uri=redirect_uri)
    connected = get_connector("threads").oauth_finish(
        client=client,
        code=code,
        returned_state=returned_state,
        expected_state=expected_state,
        code_verifier="",
    )
    return channel_account_store_connection(
        organization=organization,
        actor=actor,
        network="threads",
        connected=connected,
        request=request,
    )


# --- Meta: Facebook Pages and Instagram accounts, connected together ------------------------


def channel_accounts_connect_meta(
    *,
    organization: Organization,
    actor: User,
    login: MetaLogin,
    assets: Sequence[MetaAsset],
    page_ids: Collection[str],
    instagram_ids: Collection[str],
    request: HttpRequest | None = None,
) -> list[ChannelAccount]:
    """Make channel accounts of the chosen Pages and Instagram accounts (one Facebook
    Login connects several). Their sign-in lasts until Meta's data access expires
    (90 days), which the usual expiry notice announces ahead."""
    connected: list[ChannelAccount] = []
    for asset in assets:
        if asset.page_id in page_ids:
            connected.append(
                channel_account_store_connection(
                    organization=organization,
                    actor=actor,
                    network="facebook",
                    connected=replace(
                        meta_connected_page(asset, login),
                        credentials_expire_at=login.data_access_expires_at,
                    ),
                    request=request,
                )
            )
        if asset.ig_id and asset.ig_id in instagram_ids:
            connected.append(
                channel_account_store_connection(
                    organization=organization,
                    actor=actor,
                    network="instagram",
                    connected=replace(
                        meta_connected_instagram(asset, login),
                        credentials_expire_at=login.data_access_expires_at,
                    ),
                    request=request,
                )
            )
    return connected
