"""Celery tasks of publishing: thin, each loads by id and calls one service.

Everything runs on the ``publish`` queue so a slow metric pull never delays a
post, except what settings route elsewhere (``CELERY_TASK_ROUTES``): reminders and
imports on ``default``, calendar refreshes on ``sync``, video copies on ``media``. No task
here retries itself or uses a countdown: back-off lives in the database
(``PublishJob.next_attempt_at``) and the dispatcher picks it up.
"""

from __future__ import annotations

import logging

from celery import shared_task

from publishing.services.dispatch import (
    default_worker_name,
    leases_sweep,
    publish_job_run,
)
from publishing.services.dispatch import (
    dispatch_due as dispatch_due_service,
)
from publishing.services.recurrence import series_extend_all
from publishing.services.reminders import approval_reminders_send_due

logger = logging.getLogger(__name__)


@shared_task(
    name="publishing.tasks.dispatch_due", ignore_result=True, soft_time_limit=20, time_limit=30
)
def dispatch_due() -> int:
    """Beat's tick (every half second): claim what is due and enqueue it."""
    return len(dispatch_due_service())


# The worker renews the job's short lease while it runs (LeaseHeartbeat); a killed
# one stops renewing and leaves a "started" attempt that the sweeper finds.
@shared_task(
    name="publishing.tasks.publish_job",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=100,
    time_limit=120,
)
def publish_job(job_id: int) -> str:
    outcome = publish_job_run(job_id=job_id, worker=default_worker_name())
    logger.info("publish job %s: %s", job_id, outcome)
    return outcome


@shared_task(
    name="publishing.tasks.sweep_leases", ignore_result=True, soft_time_limit=20, time_limit=30
)
def sweep_leases() -> None:
    """Every ~2 s: free jobs whose lease expired (lost messages, dead workers)."""
    leases_sweep()


# A large spreadsheet's posts, made by a worker while the page shows the progress.
# One transaction: a killed worker leaves nothing half-made, and the message comes
# back (acks_late) to run the import again.
@shared_task(
    name="publishing.tasks.import_posts",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=1500,
    time_limit=1600,
)
def import_posts(batch_id: int) -> None:
    from publishing.services.bulk_import import import_batch_run

    import_batch_run(batch_id=batch_id)


# On the default queue (routed by name in settings): reminders never hold up a publish.
@shared_task(
    name="publishing.tasks.remind_waiting_approvals",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def remind_waiting_approvals() -> int:
    """Every few minutes: remind approvers of stages that waited past their policy's
    limit, then the managers; each claimed in the database, so sent once."""
    return approval_reminders_send_due()


# Subscribed iCal calendars (publishing/services/ical_import.py), on the sync queue:
# every hour, each subscription whose last import is older than REFRESH_EVERY is
# fetched again and what changed at the source is imported (one task per calendar).
@shared_task(
    name="publishing.tasks.refresh_calendar_sources",
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def refresh_calendar_sources() -> int:
    from publishing.services.ical_import import due_subscriptions

    due = due_subscriptions()
    for source_id in due:
        refresh_calendar_source.apply_async((source_id,), queue="sync")
    return len(due)


@shared_task(
    name="publishing.tasks.refresh_calendar_source",
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
)
def refresh_calendar_source(source_id: int) -> None:
    from publishing.services.ical_import import calendar_source_refresh

    calendar_source_refresh(source_id)


@shared_task(
    name="publishing.tasks.extend_recurring_posts",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def extend_recurring_posts() -> int:
    """Hourly: make each running series' occurrences that came within its horizon;
    idempotent, so a doubled tick makes nothing twice."""
    return series_extend_all()


@shared_task(
    name="publishing.tasks.expire_video_uploads",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def expire_video_uploads() -> int:
    """Every 15 minutes: chunked video uploads left unfinished past their expiry are
    marked expired and their partial files removed."""
    from publishing.services.video_upload import upload_sessions_expire

    return upload_sessions_expire()


@shared_task(
    name="publishing.tasks.flush_short_link_clicks",
    ignore_result=True,
    soft_time_limit=20,
    time_limit=30,
)
def flush_short_link_clicks() -> int:
    """Every few seconds: move the short-link clicks counted in Redis to the database
    (exactly once: see ``short_link_clicks_flush``)."""
    from publishing.services.links import short_link_clicks_flush

    return short_link_clicks_flush()


# A compatible copy of a video (ffmpeg, minutes for a long one) on the media queue, never
# the publish queue. The job row is claimed before work starts, so the second delivery
# Redis makes of a task that outlives its visibility timeout finds nothing to do.
@shared_task(
    name="publishing.tasks.make_video_copy",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=2 * 60 * 60 + 120,
    time_limit=2 * 60 * 60 + 240,
)
def make_video_copy(job_id: int) -> None:
    from publishing.services.video_copies import video_copy_run

    video_copy_run(job_id=job_id)


@shared_task(
    name="publishing.tasks.sweep_video_copies",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def sweep_video_copies() -> int:
    """Every few minutes: send again the video copies whose message or worker was lost."""
    from publishing.services.video_copies import video_copies_sweep

    return video_copies_sweep()
