"""Inbox sync on the ``sync`` queue.

Beat sends ``sync_all`` about every minute; it finds the accounts due (active,
on a network with an inbox, not told to wait) and sends one small task per
account, so one slow network never holds up the others. Each task loads the
account by id and calls one service. None retries itself: the next tick is the
retry, and the stored cursor says where to pick up (the database is the
record, not the broker). ``check_deleted_all`` does the same, less often, to
notice items their authors deleted on the network.
"""

from __future__ import annotations

from celery import shared_task

from accounts.models import AccountStatus, ChannelAccount
from inbox.selectors import channel_accounts_due_for_sync
from inbox.services import inbox_check_deleted, inbox_sync_account

QUEUE = "sync"
# A task older than a tick is dropped: the next tick sends a fresh one.
TICK_SECONDS = 60


@shared_task(name="inbox.tasks.sync_all", ignore_result=True, soft_time_limit=50, time_limit=60)
def sync_all() -> int:
    """Send a sync for every account due; returns how many were sent."""
    ids = list(channel_accounts_due_for_sync().values_list("pk", flat=True))
    for account_id in ids:
        sync_account.apply_async(args=[account_id], queue=QUEUE, expires=TICK_SECONDS)
    return len(ids)


@shared_task(
    name="inbox.tasks.sync_account", ignore_result=True, soft_time_limit=240, time_limit=300
)
def sync_account(account_id: int) -> str:
    """Read one account's new notifications into the inbox; returns how it went."""
    account = (
        ChannelAccount.objects.select_related("organization")
        .filter(pk=account_id, status=AccountStatus.ACTIVE)
        .first()
    )
    if account is None:
        return "inactive"
    return inbox_sync_account(account=account).outcome


@shared_task(
    name="inbox.tasks.check_deleted_all", ignore_result=True, soft_time_limit=50, time_limit=60
)
def check_deleted_all() -> int:
    ids = list(channel_accounts_due_for_sync().values_list("pk", flat=True))
    for account_id in ids:
        check_deleted.apply_async(args=[account_id], queue=QUEUE, expires=15 * 60)
    return len(ids)


@shared_task(
    name="inbox.tasks.check_deleted", ignore_result=True, soft_time_limit=240, time_limit=300
)
def check_deleted(account_id: int) -> int:
    """Look up the account's recent items and mark those deleted on the network."""
    account = (
        ChannelAccount.objects.select_related("organization")
        .filter(pk=account_id, status=AccountStatus.ACTIVE)
        .first()
    )
    if account is None:
        return 0
    return inbox_check_deleted(account=account)


@shared_task(
    name="inbox.tasks.process_webhook_events",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def process_webhook_events(organization_id: int) -> int:
    """Read the accounts that newly arrived webhook events concern (Meta)."""
    from inbox.services.webhooks import meta_webhook_process

    return meta_webhook_process(organization_id=organization_id)


@shared_task(
    name="inbox.tasks.store_webhook_delivery",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def store_webhook_delivery(organization_id: int, body: str) -> int:
    """Keep a verified Meta delivery's events once; returns how many were new."""
    from inbox.services.webhooks import meta_webhook_store

    return meta_webhook_store(organization_id=organization_id, body=body.encode()).new


@shared_task(
    name="inbox.tasks.drain_webhook_deliveries",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def drain_webhook_deliveries() -> int:
    """Store the verified Meta deliveries waiting in Redis; returns how many."""
    from inbox.services.webhooks import meta_webhook_drain

    return meta_webhook_drain()
