"""Analytics tasks: metric pulls on the ``sync`` queue, rollups and reports on ``default``.

Beat sends ``pull_due`` every minute: it starts tracking newly published posts,
finds the accounts with something due (computed in the database from each
post's ``next_pull_at`` and each account's state) and sends one small task per
account, so one slow network never holds up the others. ``rebuild_recent`` keeps
today's and yesterday's rollups current; ``send_due_reports`` sends the scheduled
reports that are due. No task retries itself: the next tick is the retry, and
the database says what is still due (the broker is not the record).
"""

from __future__ import annotations

from datetime import date

from celery import shared_task

from accounts.models import AccountStatus, ChannelAccount
from analytics.selectors import channel_accounts_due_for_metrics, scheduled_reports_due
from analytics.services.pull import metrics_networks, metrics_pull_account, tracked_posts_discover
from analytics.services.reports import scheduled_report_send
from analytics.services.rollups import rollups_rebuild, rollups_rebuild_recent
from governance.models import Organization

SYNC_QUEUE = "sync"
DEFAULT_QUEUE = "default"
# A task older than a tick is dropped: the next tick sends a fresh one.
TICK_SECONDS = 60


@shared_task(name="analytics.tasks.pull_due", ignore_result=True, soft_time_limit=50, time_limit=60)
def pull_due() -> int:
    """Track new posts, then send a pull for every account with metrics due."""
    tracked_posts_discover()
    ids = list(
        channel_accounts_due_for_metrics(networks=metrics_networks()).values_list("pk", flat=True)
    )
    for account_id in ids:
        pull_account.apply_async(args=[account_id], queue=SYNC_QUEUE, expires=TICK_SECONDS)
    return len(ids)


@shared_task(
    name="analytics.tasks.pull_account", ignore_result=True, soft_time_limit=240, time_limit=300
)
def pull_account(account_id: int) -> str:
    account = (
        ChannelAccount.objects.select_related("organization")
        .filter(pk=account_id, status=AccountStatus.ACTIVE)
        .first()
    )
    if account is None:
        return "inactive"
    return metrics_pull_account(account=account).outcome


@shared_task(
    name="analytics.tasks.rebuild_recent", ignore_result=True, soft_time_limit=50, time_limit=60
)
def rebuild_recent() -> int:
    """Send a rebuild of the recent days for every organization."""
    ids = list(Organization.objects.order_by("pk").values_list("pk", flat=True))
    for organization_id in ids:
        rebuild_organization.apply_async(
            args=[organization_id], queue=DEFAULT_QUEUE, expires=30 * 60
        )
    return len(ids)


@shared_task(
    name="analytics.tasks.rebuild_organization",
    ignore_result=True,
    soft_time_limit=540,
    time_limit=600,
)
def rebuild_organization(
    organization_id: int, since: str | None = None, until: str | None = None
) -> int:
    """Rebuild one organization's rollups: the recent days, or ``since``..``until``
    (ISO dates). Returns the number of days rebuilt."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    if since is None:
        return rollups_rebuild_recent(organization=organization).days
    return rollups_rebuild(
        organization=organization,
        since=date.fromisoformat(since),
        until=date.fromisoformat(until) if until else None,
    ).days


@shared_task(
    name="analytics.tasks.send_due_reports", ignore_result=True, soft_time_limit=50, time_limit=60
)
def send_due_reports() -> int:
    ids = list(scheduled_reports_due().values_list("pk", flat=True))
    for report_id in ids:
        send_report.apply_async(args=[report_id], queue=DEFAULT_QUEUE, expires=30 * 60)
    return len(ids)


@shared_task(
    name="analytics.tasks.send_report", ignore_result=True, soft_time_limit=240, time_limit=300
)
def send_report(report_id: int) -> str:
    return scheduled_report_send(report_id=report_id)
