"""What the governance pages learn from channel accounts, registered as providers at
start-up (``AccountsConfig.ready``): governance sits below accounts and never
imports it, so accounts hands it these callables instead.

- the registry lists connected accounts and links one to its registry entry;
- the risk report lists sign-ins that end soon (or have ended) and connected
  accounts missing from the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import EXPIRY_NOTICE_DAYS
from governance.models import Organization, RegistryEntry, RegistryNetwork
from governance.providers import register_provider
from governance.selectors.registry import CONNECTED_ACCOUNTS_PROVIDER, ConnectedAccount
from governance.selectors.risks import RISK_PROVIDER, RiskLine
from governance.services.registry import LINK_ACCOUNT_PROVIDER


def _label(account: ChannelAccount) -> str:
    if account.display_name:
        return f"{account.display_name} ({account.handle}, {account.network})"
    return f"{account.handle} ({account.network})"


def connected_accounts(organization: Organization) -> list[ConnectedAccount]:
    """The organization's channel accounts, as the registry shows them."""
    accounts = ChannelAccount.objects.filter(organization=organization).order_by(
        "network", "handle", "pk"
    )
    return [
        ConnectedAccount(
            pk=account.pk,
            network=account.network,
            handle=account.handle,
            label=_label(account),
            status_label=str(account.get_status_display()),
            url=reverse("accounts:detail", args=[account.pk]),
            registry_entry_id=account.registry_entry_id,
        )
        for account in accounts
    ]


def link_channel_account(
    *, organization: Organization, entry: RegistryEntry, account_id: int | None
) -> None:
    """Point ``account_id`` at ``entry`` (unlinking whatever pointed there before);
    with None, only unlink. The governance service audits the change."""
    linked = ChannelAccount.objects.filter(organization=organization, registry_entry=entry)
    if account_id is not None:
        linked = linked.exclude(pk=account_id)
    linked.update(registry_entry=None)
    if account_id is not None:
        ChannelAccount.objects.filter(organization=organization, pk=account_id).update(
            registry_entry=entry
        )


def _renewable(network: str) -> bool:
    try:
        return get_connector(network).capabilities.refresh_credentials
    except UnknownNetwork:
        return False


def _is_training(network: str) -> bool:
    try:
        return get_connector(network).is_sandbox
    except UnknownNetwork:
        return False


def risk_lines(*, organization: Organization, today: date) -> Iterable[RiskLine]:
    """Sign-ins that end within the notice period (and that the app cannot renew by
    itself), sign-ins that have ended, and accounts not in the registry."""
    now = timezone.now()
    lines: list[RiskLine] = []
    accounts = ChannelAccount.objects.filter(organization=organization).order_by(
        "network", "handle", "pk"
    )
    for account in accounts:
        detail_url = reverse("accounts:detail", args=[account.pk])
        if account.status == AccountStatus.NEEDS_RECONNECT:
            lines.append(
                RiskLine(
                    "credentials_expiring",
                    _label(account),
                    _("The sign-in has ended: the account must be connected again."),
                    detail_url,
                    _("Reconnect the account"),
                )
            )
        elif (
            account.status in (AccountStatus.ACTIVE, AccountStatus.PAUSED)
            and account.credentials_expire_at is not None
            and account.credentials_expire_at <= now + timedelta(days=EXPIRY_NOTICE_DAYS)
            and not _renewable(account.network)
        ):
            lines.append(
                RiskLine(
                    "credentials_expiring",
                    _label(account),
                    _("The sign-in ends on %(date)s.")
                    % {
                        "date": date_format(
                            timezone.localtime(account.credentials_expire_at), "DATE_FORMAT"
                        )
                    },
                    detail_url,
                    _("Reconnect the account"),
                )
            )
        # A Sandbox account is a training feed inside the app: it has no owner or login
        # to record, so it is never "missing" from the registry.
        if (
            account.registry_entry_id is None
            and account.status != AccountStatus.DISCONNECTED
            and not _is_training(account.network)
        ):
            network = account.network if account.network in RegistryNetwork.values else "other"
            query = urlencode(
                {"network": network, "handle": account.handle, "account": str(account.pk)}
            )
            lines.append(
                RiskLine(
                    "unregistered_account",
                    _label(account),
                    _("Nobody is recorded as owning this account or holding its login."),
                    f"{reverse('governance:registry_create')}?{query}",
                    _("Add it to the registry"),
                )
            )
    return lines


def register() -> None:
    register_provider(CONNECTED_ACCOUNTS_PROVIDER, connected_accounts)
    register_provider(LINK_ACCOUNT_PROVIDER, link_channel_account)
    register_provider(RISK_PROVIDER, risk_lines)
