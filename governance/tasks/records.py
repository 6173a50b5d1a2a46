"""Records tasks, on the ``default`` queue: building a records-request export, the
daily disposal run, and re-sending export builds whose message was lost.

Thin: each loads by id (or finds what is due) and calls one service. Registered
with Celery by ``GovernanceConfig.ready()`` importing this module.
"""

from __future__ import annotations

import logging

from celery import shared_task

from governance.services.records import (
    records_dispose,
    records_export_build,
    records_exports_sweep_stale,
)

logger = logging.getLogger(__name__)

QUEUE = "default"


# A large export with images takes a while; the limits sit below the service's
# stale threshold (35 min), so a live build is never taken up twice.
@shared_task(
    name="governance.tasks_records.build_records_export",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=25 * 60,
    time_limit=30 * 60,
)
def build_records_export(export_id: int) -> str:
    outcome = records_export_build(export_id=export_id)
    logger.info("records export %s: %s", export_id, outcome)
    return outcome


@shared_task(
    name="governance.tasks_records.dispose_records",
    ignore_result=True,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def dispose_records() -> int:
    """Beat's daily tick: apply every retention rule; returns how many records went."""
    outcomes = records_dispose()
    return sum(outcome.removed for outcome in outcomes)


@shared_task(
    name="governance.tasks_records.sweep_records_exports",
    ignore_result=True,
    soft_time_limit=50,
    time_limit=60,
)
def sweep_records_exports() -> int:
    """Send again the builds of exports left waiting (the broker is not the record)."""
    stale = records_exports_sweep_stale()
    for export_id in stale:
        build_records_export.apply_async(args=[export_id], queue=QUEUE)
    return len(stale)
