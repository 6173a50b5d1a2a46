"""Counting API calls per network, account, endpoint and UTC day, and the monthly
call budget an admin sets for an account (DESIGN.md: "Call budgets and quotas … are
counted in one limiter … with the counters in accounts").

Connectors call :func:`api_call_record` for every call they send and
:func:`pull_budget_check` before a pull (inbox, metrics); publishing is never
stopped by a budget.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from accounts.models import ApiCallBudget, ApiCallCount, ChannelAccount

logger = logging.getLogger(__name__)


def _today() -> date:
    return datetime.now(tz=UTC).date()


def api_call_record(*, account: ChannelAccount | None, network: str, endpoint: str) -> None:
    """Add one call (an UPDATE, or the day's first row; safe from many workers at once).

    Counting must never break the call it counts: a database error is logged."""
    account_id = account.pk if account is not None else None
    day = _today()
    rows = ApiCallCount.objects.filter(
        network=network, account_id=account_id, endpoint=endpoint[:100], day=day
    )
    try:
        if rows.update(count=F("count") + 1):
            return
        try:
            with transaction.atomic():
                ApiCallCount.objects.create(
                    network=network,
                    account_id=account_id,
                    endpoint=endpoint[:100],
                    day=day,
                    count=1,
                )
        except IntegrityError:
            rows.update(count=F("count") + 1)
    except Exception:  # pragma: no cover - counting is best effort by design
        logger.exception("Could not count a %s call to %s", network, endpoint)


def month_start(moment: datetime | None = None) -> date:
    moment = moment or datetime.now(tz=UTC)
    return moment.date().replace(day=1)


def next_month_start(moment: datetime | None = None) -> datetime:
    start = month_start(moment)
    if start.month == 12:
        return datetime(start.year + 1, 1, 1, tzinfo=UTC)
    return datetime(start.year, start.month + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MonthUsage:
    calls: int
    budget: int | None
    by_endpoint: list[tuple[str, int]]
    resets_at: datetime

    @property
    def spent(self) -> bool:
        return self.budget is not None and self.calls >= self.budget

    @property
    def percent(self) -> int | None:
        if not self.budget:
            return None
        return min(100, round(100 * self.calls / self.budget))


def account_month_usage(account: ChannelAccount, *, now: datetime | None = None) -> MonthUsage:
    """This UTC month's calls for ``account`` (by endpoint, most first) and its budget."""
    rows = (
        ApiCallCount.objects.filter(account=account, day__gte=month_start(now))
        .values("endpoint")
        .annotate(calls=Sum("count"))
        .order_by("-calls", "endpoint")
    )
    by_endpoint = [(str(row["endpoint"]), int(row["calls"])) for row in rows]
    budget = ApiCallBudget.objects.filter(account=account).values_list("monthly_calls", flat=True)
    return MonthUsage(
        calls=sum(calls for _, calls in by_endpoint),
        budget=budget.first(),
        by_endpoint=by_endpoint,
        resets_at=next_month_start(now),
    )


def pull_budget_spent(account: ChannelAccount) -> MonthUsage | None:
    """The month's usage when the account's budget is spent (pulls must stop), else None."""
    if account.pk is None or not ApiCallBudget.objects.filter(account=account).exists():
        return None
    usage = account_month_usage(account)
    return usage if usage.spent else None
