"""Pure rules of time: when a post's metrics are next pulled, the organization's
calendar days, report periods, and the response-time bands that let a median be
estimated over any range from daily counts."""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

# --- pulling a post's metrics -------------------------------------------------------------

# (up to this age, pull this often): often while a post is fresh, rarely once it is old.
PULL_STEPS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=48), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
    (timedelta(days=30), timedelta(days=1)),
)
PULL_INTERVAL_LATER = timedelta(days=7)
# The first pull, a little after publishing, when the first reactions have come in.
FIRST_PULL_DELAY = timedelta(minutes=15)
# An account's own numbers (followers) are pulled this often.
ACCOUNT_PULL_INTERVAL = timedelta(hours=1)


def pull_interval(age: timedelta) -> timedelta:
    """How long to wait before pulling a post of this age again."""
    for up_to, interval in PULL_STEPS:
        if age < up_to:
            return interval
    return PULL_INTERVAL_LATER


def next_pull_at(*, published_at: datetime, now: datetime) -> datetime:
    return now + pull_interval(now - published_at)


# --- the organization's calendar ----------------------------------------------------------


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def day_bounds(day: date, zone: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local calendar day starts and ends (the end excluded). A day
    when the clocks change is 23 or 25 hours long."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def local_day(moment: datetime, zone: zoneinfo.ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


# --- response-time bands ------------------------------------------------------------------

# Band 0 is under a minute; band k covers [60·r^(k-1), 60·r^k) seconds. With r = 1.1
# a median estimated from the bands is within 10 % of the exact one.
BUCKET_FIRST_SECONDS = 60.0
BUCKET_RATIO = 1.1
# Band 160 starts after about 120 years: everything beyond goes in the last band.
BUCKET_COUNT = 160


def response_bucket(seconds: float) -> int:
    """The band a response time of ``seconds`` falls in."""
    if seconds < BUCKET_FIRST_SECONDS:
        return 0
    index = math.floor(math.log(seconds / BUCKET_FIRST_SECONDS, BUCKET_RATIO)) + 1
    # Floating point can put an exact boundary one band low or high: check both sides.
    low, high = bucket_bounds(index)
    if seconds < low:
        index -= 1
    elif seconds >= high:
        index += 1
    return min(max(index, 1), BUCKET_COUNT - 1)


def bucket_bounds(index: int) -> tuple[float, float]:
    """The band's lower (included) and upper (excluded) bound, in seconds."""
    if index <= 0:
        return 0.0, BUCKET_FIRST_SECONDS
    return (
        BUCKET_FIRST_SECONDS * BUCKET_RATIO ** (index - 1),
        BUCKET_FIRST_SECONDS * BUCKET_RATIO**index,
    )


def median_from_buckets(bands: Mapping[int, tuple[int, float]]) -> float | None:
    """The median response time, in seconds, estimated from bands of
    ``(items, their seconds added up)``: the mean of the band holding the middle item
    (exact when that band holds one item; within the band's 10 % otherwise). None with
    no items."""
    total = sum(count for count, _seconds in bands.values() if count > 0)
    if not total:
        return None
    middle = total / 2
    seen = 0
    for index in sorted(bands):
        count, seconds = bands[index]
        if count <= 0:
            continue
        if seen + count >= middle:
            return seconds / count
        seen += count
    return None


def exact_median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
