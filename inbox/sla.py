"""Response due times counted in working hours.

"Answer within one working day" means within so many hours of the
organization's working time, in its own time zone: an item that arrives on
Friday afternoon is due on Monday, one that arrives on Saturday starts
counting on Monday morning, and a day when the clocks change still has the
working hours it has on the wall clock.

Arithmetic is done in UTC and only the boundaries of each working day are
placed on the local calendar: adding a ``timedelta`` to an aware datetime in a
``ZoneInfo`` zone adds wall-clock time, which is wrong across a clock change.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

# An organization with no working days at all never has anything due; stop looking
# after this many calendar days.
MAX_DAYS_AHEAD = 3 * 366


@dataclass(frozen=True)
class WorkingTime:
    """When the organization works: weekdays (Monday 0 … Sunday 6), the local
    hours of a working day, holidays, and the time zone they are all in."""

    time_zone: str
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    starts: time = time(8, 0)
    ends: time = time(16, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays


def parse_holidays(values: Collection[object]) -> frozenset[date]:
    """ISO dates from a policy's list; anything else is ignored."""
    days: set[date] = set()
    for value in values:
        try:
            days.add(date.fromisoformat(str(value)))
        except ValueError:
            continue
    return frozenset(days)


def _local_moment(day: date, wall: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """``day`` at ``wall`` o'clock in ``zone``, as UTC. A wall time skipped by a
    spring clock change is moved forward by the gap (Python's ``fold=0`` rule)."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def business_due(start: datetime, hours: float, schedule: WorkingTime) -> datetime | None:
    """The moment ``hours`` of working time have passed since ``start`` (aware; UTC
    returned). ``None`` when the schedule has no working time at all."""
    if start.tzinfo is None:
        raise ValueError("business_due needs an aware datetime")
    if schedule.ends <= schedule.starts or not schedule.working_days:
        return None
    remaining = timedelta(hours=max(hours, 0))
    zone = schedule.zone
    moment = start.astimezone(UTC)
    day = moment.astimezone(zone).date()
    for _ in range(MAX_DAYS_AHEAD):
        if schedule.is_working_day(day):
            opens = _local_moment(day, schedule.starts, zone)
            closes = _local_moment(day, schedule.ends, zone)
            begin = max(opens, moment)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    # Zero hours left still waits for the working day to begin.
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    return None


def working_hours_between(start: datetime, end: datetime, schedule: WorkingTime) -> float:
    """Working hours from ``start`` to ``end`` (0 when ``end`` is not later): how long
    an answer took, in the same currency as the target."""
    if end <= start or schedule.ends <= schedule.starts:
        return 0.0
    zone = schedule.zone
    total = timedelta()
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if schedule.is_working_day(day):
            opens = max(_local_moment(day, schedule.starts, zone), start)
            closes = min(_local_moment(day, schedule.ends, zone), end)
            if closes > opens:
                total += closes - opens
        day += timedelta(days=1)
    return total.total_seconds() / 3600
