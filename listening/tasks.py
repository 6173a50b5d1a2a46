"""Listening tasks: searches on the ``sync`` queue, never on ``publish``.

Beat sends ``poll_due`` every minute: it sends one search task for every (watch,
account) whose next search is due (the due times live in the database, so the next
tick is the retry). ``case_reach`` records a reach point for each open
misinformation case, hourly.
"""

from __future__ import annotations

from celery import shared_task

from listening.services import cases_record_reach, sources_due, watch_poll_source

SYNC_QUEUE = "sync"
# A task older than a tick is dropped: the next tick sends a fresh one.
TICK_SECONDS = 60


@shared_task(name="listening.tasks.poll_due", ignore_result=True, soft_time_limit=50, time_limit=60)
def listening_poll_due() -> int:
    """Send one search task for every (watch, account) whose next search is due."""
    ids = list(sources_due())
    for source_id in ids:
        listening_poll_source.apply_async(args=[source_id], queue=SYNC_QUEUE, expires=TICK_SECONDS)
    return len(ids)


@shared_task(
    name="listening.tasks.poll_source",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def listening_poll_source(source_id: int) -> str:
    return watch_poll_source(source_id=source_id).outcome


@shared_task(
    name="listening.tasks.case_reach",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def listening_case_reach() -> int:
    return cases_record_reach()
