"""Periodic upkeep of channel accounts, on the ``sync`` queue.

Beat sends the three ``*_all``-style ticks (see ``CELERY_BEAT_SCHEDULE``); each
finds the accounts due and sends one small task per account, so one slow
instance never holds up the others. Tasks load the account by id and call one
service. None retries itself: the next tick is the retry, since each tick
finds again whatever is still due (the database is the record, not the broker).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.connectors.base import ConnectorError
from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import (
    REFRESH_AHEAD,
    channel_accounts_due_for_health_check,
    channel_accounts_due_for_refresh,
    channel_accounts_with_expiring_credentials,
)
from accounts.services import (
    channel_account_check_health,
    channel_account_notify_expiring_credentials,
    channel_account_refresh_credentials,
    sandbox_audience_react_to_post,
)

logger = logging.getLogger(__name__)

QUEUE = "sync"


@shared_task(
    name="accounts.tasks.check_all_health", ignore_result=True, soft_time_limit=50, time_limit=60
)
def check_all_health() -> int:
    """Send a health check for every active account; returns how many were sent."""
    ids = list(channel_accounts_due_for_health_check().values_list("pk", flat=True))
    for account_id in ids:
        check_health.apply_async(args=[account_id], queue=QUEUE)
    return len(ids)


@shared_task(
    name="accounts.tasks.check_health", ignore_result=True, soft_time_limit=120, time_limit=150
)
def check_health(account_id: int) -> None:
    """Ask the network whether the account's sign-in works; the service records the
    answer, and an auth failure marks the account for reconnecting and tells its people."""
    account = ChannelAccount.objects.filter(pk=account_id, status=AccountStatus.ACTIVE).first()
    if account is None:
        return
    channel_account_check_health(account=account)


@shared_task(
    name="accounts.tasks.refresh_expiring_credentials",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def refresh_expiring_credentials() -> int:
    """Send a renewal for every account whose renewable credentials end soon."""
    ids = list(channel_accounts_due_for_refresh().values_list("pk", flat=True))
    for account_id in ids:
        refresh_credentials.apply_async(args=[account_id], queue=QUEUE)
    return len(ids)


@shared_task(
    name="accounts.tasks.refresh_credentials",
    ignore_result=True,
    soft_time_limit=120,
    time_limit=150,
)
def refresh_credentials(account_id: int) -> None:
    """Renew one account's credentials, unless another run already did.

    A failure is recorded on the account by the service (an auth failure marks it for
    reconnecting); a transient one is tried again by the next tick, well before the
    credentials end (``REFRESH_AHEAD``)."""
    account = ChannelAccount.objects.filter(pk=account_id, status=AccountStatus.ACTIVE).first()
    if account is None or account.credentials_expire_at is None:
        return
    ahead = get_connector(account.network).refresh_ahead or REFRESH_AHEAD
    if account.credentials_expire_at > timezone.now() + ahead:
        return
    try:
        channel_account_refresh_credentials(account=account)
    except ConnectorError as exc:
        logger.warning(
            "Could not renew the credentials of account %s (%s): %s",
            account_id,
            exc.kind,
            exc.detail or exc.message,
        )


@shared_task(
    name="accounts.tasks.notify_expiring_credentials",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def notify_expiring_credentials() -> int:
    """Tell people about accounts whose sign-in ends within two weeks (once per expiry);
    returns how many accounts were announced."""
    announced = 0
    for account in channel_accounts_with_expiring_credentials():
        if channel_account_notify_expiring_credentials(account=account):
            announced += 1
    return announced


@shared_task(
    name="accounts.tasks.sandbox_audience_reacts",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def sandbox_audience_reacts(account_id: int, remote_id: str) -> None:
    """The practice audience answers a post published on a Sandbox account."""
    account = ChannelAccount.objects.filter(
        pk=account_id, network="sandbox", status=AccountStatus.ACTIVE
    ).first()
    if account is None:
        return
    sandbox_audience_react_to_post(account=account, remote_id=remote_id)
