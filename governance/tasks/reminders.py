"""Governance's daily reminders, on the ``default`` queue.

Each tick finds what is due and calls one service per item; every reminder is
claimed in the database (a conditional update) before it is sent, so a doubled
tick or two beat processes still send it once. None retries itself: tomorrow's
tick finds again whatever is still due and unsent.
"""

from __future__ import annotations

from celery import shared_task

from governance.services.audit import audit_checkpoints_write
from governance.services.policies import governance_reviews_remind_due
from governance.services.registry import access_reviews_remind_due
from governance.services.vault import vault_rotations_remind_due


@shared_task(
    name="governance.tasks.remind_access_reviews",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def remind_access_reviews() -> int:
    """Remind owners of access reviews that fell due; returns how many were sent."""
    return access_reviews_remind_due()


@shared_task(
    name="governance.tasks.remind_vault_rotations",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def remind_vault_rotations() -> int:
    """Tell custodians about vault secrets past their rotation date."""
    return vault_rotations_remind_due()


@shared_task(
    name="governance.tasks.remind_governance_reviews",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def remind_governance_reviews() -> int:
    """Remind admins that their governance model's review is due."""
    return governance_reviews_remind_due()


@shared_task(
    name="governance.tasks.write_audit_checkpoints",
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def write_audit_checkpoints() -> int:
    """Write a signed checkpoint of each audit chain whose head moved; returns how many."""
    return len(audit_checkpoints_write())
