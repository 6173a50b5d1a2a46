"""Reads of channel accounts, always through the user's membership (or, for the
periodic tasks, across organizations by state and never shown to a person)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.connectors.base import (
    Capabilities,
    Connector,
    ConnectorError,
    Limits,
    PublishingQuota,
)
from accounts.connectors.registry import UnknownNetwork, get_connector, networks
from accounts.models import AccountStatus, ChannelAccount, NetworkApp, SandboxPost
from governance.models import AuditEvent, Membership, Organization
from governance.selectors.access import get_in_org

# People are told this long before an account's sign-in ends for good.
EXPIRY_NOTICE_DAYS = 14
# The audit entry that records an expiry notice; its ``new_values["expires_at"]``
# says which expiry was announced, so each one is announced once.
EXPIRY_NOTICE_ACTION = "channel_account.expiry_notified"
# Credentials that the connector can renew are renewed this long before they end: a
# day leaves room for a worker outage (the refresh tick runs every 15 minutes).
REFRESH_AHEAD = timedelta(days=1)
SANDBOX_FEED_THREADS = 50


@dataclass(frozen=True)
class NetworkSummary:
    """What the app knows about a network from its connector, for pages and the API."""

    network: str
    label: str
    known: bool
    is_sandbox: bool
    connect_method: str
    capabilities: Capabilities
    limits: Limits | None


def network_summary(network: str) -> NetworkSummary:
    """The network's label, capabilities and default limits; a network whose connector
    is not installed is summarised as supporting nothing."""
    try:
        connector: Connector | None = get_connector(network)
    except UnknownNetwork:
        connector = None
    if connector is None:
        return NetworkSummary(
            network=network,
            label=network,
            known=False,
            is_sandbox=False,
            connect_method="none",
            capabilities=Capabilities(publish=False),
            limits=None,
        )
    return NetworkSummary(
        network=network,
        label=str(connector.label),
        known=True,
        is_sandbox=connector.is_sandbox,
        connect_method=connector.connect_method,
        capabilities=connector.capabilities,
        limits=connector.limits,
    )


def channel_account_limits(account: ChannelAccount) -> Limits | None:
    """The account's limits: the network's, overridden by what it reported at connect time."""
    try:
        return get_connector(account.network).limits_for(account)
    except UnknownNetwork:
        return None


def channel_accounts_for_membership(membership: Membership) -> QuerySet[ChannelAccount]:
    """The accounts this member may see: all of the org's, or only those they are limited to."""
    accounts = ChannelAccount.objects.filter(organization_id=membership.organization_id)
    if not membership.all_accounts:
        accounts = accounts.filter(limited_members=membership)
    return accounts


def channel_account_list_for_membership(membership: Membership) -> QuerySet[ChannelAccount]:
    """The accounts page's rows: the visible accounts with who connected each."""
    return (
        channel_accounts_for_membership(membership)
        .select_related("connected_by")
        .order_by("network", "handle", "pk")
    )


def channel_account_get_for_membership(membership: Membership, pk: int) -> ChannelAccount:
    return get_in_org(
        channel_accounts_for_membership(membership).select_related("connected_by"),
        membership.organization,
        pk=pk,
    )


def sandbox_handle_taken(organization_id: int, handle: str) -> bool:
    """Whether the organization already has a Sandbox account of this name (connecting
    it again would reconnect that one instead of adding another)."""
    return ChannelAccount.objects.filter(
        organization_id=organization_id, network="sandbox", handle=handle
    ).exists()


# --- periodic upkeep (tasks) ---------------------------------------------------------


def channel_accounts_due_for_health_check() -> QuerySet[ChannelAccount]:
    """Every active account of every organization, on a network we have a connector for."""
    return ChannelAccount.objects.filter(
        status=AccountStatus.ACTIVE, network__in=networks()
    ).order_by("pk")


def _refreshable_networks() -> list[str]:
    return [name for name in networks() if get_connector(name).capabilities.refresh_credentials]


def channel_accounts_due_for_refresh(*, now: datetime | None = None) -> QuerySet[ChannelAccount]:
    """Active accounts whose credentials end within ``REFRESH_AHEAD`` and whose network
    lets the connector renew them."""
    now = now or timezone.now()
    window = Q(pk__in=[])
    for network in _refreshable_networks():
        ahead = get_connector(network).refresh_ahead or REFRESH_AHEAD
        window |= Q(network=network, credentials_expire_at__lte=now + ahead)
    due = ChannelAccount.objects.filter(
        window,
        status=AccountStatus.ACTIVE,
        credentials_expire_at__isnull=False,
    ).order_by("credentials_expire_at", "pk")
    # Some networks renew only some accounts (LinkedIn: those given a refresh token).
    stuck = [account.pk for account in due if not get_connector(account.network).renewable(account)]
    return due.exclude(pk__in=stuck) if stuck else due


def expiry_key(expires_at: datetime) -> str:
    """How an expiry is written in the notice's audit entry (UTC, to the second)."""
    return expires_at.astimezone(UTC).replace(microsecond=0).isoformat()


def channel_account_expiry_notified(account: ChannelAccount) -> bool:
    """Whether the account's current expiry has already been announced."""
    if account.credentials_expire_at is None:
        return False
    return AuditEvent.objects.filter(
        action=EXPIRY_NOTICE_ACTION,
        target_type=ChannelAccount._meta.label_lower,
        target_id=str(account.pk),
        new_values__expires_at=expiry_key(account.credentials_expire_at),
    ).exists()


def channel_accounts_with_expiring_credentials(
    *, now: datetime | None = None, within_days: int = EXPIRY_NOTICE_DAYS
) -> list[ChannelAccount]:
    """Accounts in use whose sign-in ends within ``within_days`` and cannot be renewed by
    the app (a person must reconnect them), leaving out those already announced for
    this same expiry. Renewable credentials are the refresh task's business: if renewing
    fails for good, the account is marked for reconnecting and people are told then.
    A network whose renewal starts well before this window (Threads: 30 days ahead)
    is warned about too: reaching the window means renewing has kept failing."""
    now = now or timezone.now()
    refreshable = [
        name
        for name in _refreshable_networks()
        if (get_connector(name).refresh_ahead or REFRESH_AHEAD) <= timedelta(days=within_days)
    ]
    candidates = list(
        ChannelAccount.objects.filter(
            status__in=[AccountStatus.ACTIVE, AccountStatus.PAUSED],
            credentials_expire_at__isnull=False,
            credentials_expire_at__lte=now + timedelta(days=within_days),
        )
        .select_related("organization")
        .order_by("credentials_expire_at", "pk")
    )
    candidates = [
        account
        for account in candidates
        if account.network not in refreshable
        or not get_connector(account.network).renewable(account)
    ]
    if not candidates:
        return []
    announced = set(
        AuditEvent.objects.filter(
            action=EXPIRY_NOTICE_ACTION,
            target_type=ChannelAccount._meta.label_lower,
            target_id__in=[str(account.pk) for account in candidates],
        ).values_list("target_id", "new_values__expires_at")
    )
    return [
        account
        for account in candidates
        if account.credentials_expire_at is not None
        and (str(account.pk), expiry_key(account.credentials_expire_at)) not in announced
    ]


# --- the Sandbox feed -------------------------------------------------------------------


@dataclass
class SandboxThread:
    """A post that starts a thread (the account's own, or a citizen's mention, message
    or quote) and every post under it, oldest first."""

    post: SandboxPost
    replies: list[SandboxPost] = field(default_factory=list)


def sandbox_feed(
    account: ChannelAccount, *, limit: int = SANDBOX_FEED_THREADS
) -> list[SandboxThread]:
    """The latest threads of a Sandbox account's feed, newest first. Two queries."""
    roots = list(
        SandboxPost.objects.filter(account=account, in_reply_to__isnull=True)
        .select_related("quote_of")
        .order_by("-created_at", "-pk")[:limit]
    )
    by_root: dict[int, list[SandboxPost]] = defaultdict(list)
    if roots:
        for reply in (
            SandboxPost.objects.filter(
                account=account, thread_root_id__in=[root.pk for root in roots]
            )
            .exclude(in_reply_to__isnull=True)
            .order_by("created_at", "pk")
        ):
            assert reply.thread_root_id is not None
            by_root[reply.thread_root_id].append(reply)
    return [SandboxThread(post=root, replies=by_root.get(root.pk, [])) for root in roots]


def network_app_get(*, organization: Organization, network: str) -> NetworkApp | None:
    """The organization's own developer app on ``network`` (a platform such as "meta",
    "threads", "x", "linkedin"), or None when an admin has not entered one yet."""
    return NetworkApp.objects.filter(organization=organization, network=network).first()


# --- publishing allowances (Threads' 250 posts a day), for the composer -----------------

QUOTA_CACHE_SECONDS = 600
QUOTA_FAILURE_CACHE_SECONDS = 60


def channel_account_publishing_quota(account: ChannelAccount) -> PublishingQuota | None:
    """The account's publishing allowance as the network reports it, read at most every
    ten minutes (kept in the cache); None where the network has none or did not answer."""
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        return None
    if account.status != AccountStatus.ACTIVE or type(connector).publishing_quota is (
        Connector.publishing_quota
    ):
        return None
    key = f"accounts:publishing-quota:{account.pk}"
    cached = cache.get(key)
    if cached is not None:
        return PublishingQuota(**cached) if cached else None
    try:
        quota = connector.publishing_quota(account)
    except ConnectorError:
        cache.set(key, {}, timeout=QUOTA_FAILURE_CACHE_SECONDS)
        return None
    cache.set(key, asdict(quota) if quota else {}, timeout=QUOTA_CACHE_SECONDS)
    return quota
