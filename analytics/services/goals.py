"""Goals: a manager's target for one metric over a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from analytics.dashboard_cache import dashboards_changed
from analytics.models import Goal, GoalMetric
from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record

MAX_PERIOD_DAYS = 5 * 366


def _facts(goal: Goal) -> dict[str, Any]:
    return {
        "name": goal.name,
        "metric": goal.metric,
        "account": goal.channel_account_id,
        "target": str(goal.target),
        "period_start": goal.period_start.isoformat(),
        "period_end": goal.period_end.isoformat(),
    }


def _check(
    membership: Membership,
    *,
    metric: str,
    channel_account: ChannelAccount | None,
    target: Decimal,
    period_start: date,
    period_end: date,
) -> None:
    errors: list[ValidationError] = []
    if metric not in GoalMetric.values:
        errors.append(ValidationError(_("Choose a metric."), code="metric"))
    if channel_account is not None and (
        channel_account.organization_id != membership.organization_id
        or not channel_accounts_for_membership(membership).filter(pk=channel_account.pk).exists()
    ):
        errors.append(ValidationError(_("Choose one of your accounts."), code="account"))
    if channel_account is None and not membership.all_accounts:
        errors.append(
            ValidationError(
                _("You work with some accounts only: choose one of them."), code="account"
            )
        )
    if target < 0:
        errors.append(ValidationError(_("The target cannot be negative."), code="target"))
    if metric == GoalMetric.SLA_SHARE and target > 100:
        errors.append(ValidationError(_("A share is at most 100 per cent."), code="target"))
    if period_end < period_start:
        errors.append(
            ValidationError(_("The period must end on or after its first day."), code="period")
        )
    elif (period_end - period_start).days > MAX_PERIOD_DAYS:
        errors.append(ValidationError(_("A goal's period is at most five years."), code="period"))
    if errors:
        raise ValidationError(errors)


def goal_save(
    *,
    membership: Membership,
    goal: Goal | None = None,
    name: str,
    metric: str,
    channel_account: ChannelAccount | None,
    target: Decimal,
    period_start: date,
    period_end: date,
    request: HttpRequest | None = None,
) -> Goal:
    """Set a new goal, or change ``goal``. Managers and admins only (403 otherwise);
    the account must be one the member works with."""
    require_perm(membership, "analytics.manage")
    if goal is not None and goal.organization_id != membership.organization_id:
        raise ValidationError(_("This goal belongs to another organization."), code="goal")
    _check(
        membership,
        metric=metric,
        channel_account=channel_account,
        target=target,
        period_start=period_start,
        period_end=period_end,
    )
    with transaction.atomic():
        old = _facts(goal) if goal is not None else None
        if goal is None:
            goal = Goal(organization=membership.organization, created_by=membership.user)
        goal.name = name.strip()[:200]
        goal.metric = metric
        goal.channel_account = channel_account
        goal.target = target
        goal.period_start = period_start
        goal.period_end = period_end
        goal.updated_at = timezone.now()
        goal.save()
        dashboards_changed(goal.organization_id)
        audit_record(
            action="analytics.goal_set" if old is None else "analytics.goal_changed",
            organization=membership.organization,
            actor=membership.user,
            target=goal,
            old=old,
            new=_facts(goal),
            request=request,
        )
    return goal


def goal_delete(*, membership: Membership, goal: Goal, request: HttpRequest | None = None) -> None:
    require_perm(membership, "analytics.manage")
    if goal.organization_id != membership.organization_id:
        raise ValidationError(_("This goal belongs to another organization."), code="goal")
    with transaction.atomic():
        facts = _facts(goal)
        audit_record(
            action="analytics.goal_removed",
            organization=membership.organization,
            actor=membership.user,
            target=goal,
            old=facts,
            request=request,
        )
        dashboards_changed(goal.organization_id)
        goal.delete()
