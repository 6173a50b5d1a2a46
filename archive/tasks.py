"""Archive tasks on the ``sync`` queue.

Beat sends ``sync_all`` every five minutes: it adds new inbox texts to the records
search and sends one archive task per account due (each from its stored cursor)."""

from __future__ import annotations

from celery import shared_task

from accounts.models import AccountStatus, ChannelAccount
from archive.selectors import channel_accounts_due_for_archive
from archive.services.archive import archive_sync_account, records_index_inbox

QUEUE = "sync"


@shared_task(name="archive.tasks.sync_all", ignore_result=True, soft_time_limit=240, time_limit=300)
def archive_sync_all() -> int:
    """Add new inbox texts to the records search, and send an archive sync for every
    active account whose network keeps a history we can read; returns how many."""
    records_index_inbox()
    ids = list(channel_accounts_due_for_archive().values_list("pk", flat=True))
    for account_id in ids:
        archive_account.apply_async(args=[account_id], queue=QUEUE, expires=4 * 60)
    return len(ids)


@shared_task(
    name="archive.tasks.sync_account", ignore_result=True, soft_time_limit=540, time_limit=600
)
def archive_account(account_id: int) -> str:
    """Read one account's own history into the archive; returns how it went."""
    account = (
        ChannelAccount.objects.select_related("organization")
        .filter(pk=account_id, status=AccountStatus.ACTIVE)
        .first()
    )
    if account is None:
        return "inactive"
    return archive_sync_account(account=account).outcome
