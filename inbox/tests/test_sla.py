"""Due times count working hours in the organization's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from inbox.sla import WorkingTime, business_due, working_hours_between

HELSINKI = ZoneInfo("Europe/Helsinki")
OFFICE = WorkingTime(time_zone="Europe/Helsinki")  # Monday to Friday, 8 to 16


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


def test_friday_afternoon_is_due_on_monday_afternoon():
    # Friday 14 March 2025, 14:00: two hours left that day, six more on Monday.
    due = business_due(local(2025, 3, 14, 14, 0), 8, OFFICE)
    assert due == local(2025, 3, 17, 14, 0)


def test_a_weekend_message_starts_counting_on_monday_morning():
    due = business_due(local(2025, 3, 15, 11, 30), 2, OFFICE)  # Saturday
    assert due == local(2025, 3, 17, 10, 0)


def test_an_evening_message_starts_counting_the_next_morning():
    due = business_due(local(2025, 3, 12, 19, 0), 4, OFFICE)  # Wednesday evening
    assert due == local(2025, 3, 13, 12, 0)


def test_several_working_days_skip_the_weekend():
    due = business_due(local(2025, 3, 13, 9, 0), 24, OFFICE)  # Thursday, three days
    assert due == local(2025, 3, 18, 9, 0)  # Thu 7h + Fri 8h + Mon 8h + Tue 1h


def test_the_autumn_clock_change_keeps_wall_clock_hours():
    # Clocks go back on Sunday 26 October 2025 (UTC+3 → UTC+2). Friday 15:00 plus
    # 8 working hours is Monday 15:00 local, which is 13:00 UTC (not 12:00).
    due = business_due(local(2025, 10, 24, 15, 0), 8, OFFICE)
    assert due == local(2025, 10, 27, 15, 0)
    assert due is not None
    assert due.astimezone(UTC) == datetime(2025, 10, 27, 13, 0, tzinfo=UTC)


def test_the_spring_clock_change_keeps_wall_clock_hours():
    # Clocks go forward on Sunday 30 March 2025 (UTC+2 → UTC+3).
    due = business_due(local(2025, 3, 28, 12, 0), 8, OFFICE)
    assert due == local(2025, 3, 31, 12, 0)
    assert due is not None
    assert due.astimezone(UTC) == datetime(2025, 3, 31, 9, 0, tzinfo=UTC)


def test_a_time_zone_of_its_own_is_used_whatever_the_input_zone():
    schedule = WorkingTime(time_zone="America/New_York")
    # 21:00 UTC on a Monday in March 2025 is 17:00 in New York: after hours.
    due = business_due(datetime(2025, 3, 10, 21, 0, tzinfo=UTC), 1, schedule)
    assert due == datetime(2025, 3, 11, 9, 0, tzinfo=ZoneInfo("America/New_York"))


def test_holidays_are_not_working_days():
    schedule = WorkingTime(time_zone="Europe/Helsinki", holidays=frozenset({date(2025, 12, 24)}))
    due = business_due(local(2025, 12, 23, 15, 0), 2, schedule)
    assert due == local(2025, 12, 25, 9, 0)


def test_custom_days_and_hours():
    schedule = WorkingTime(
        time_zone="Europe/Helsinki",
        working_days=frozenset({0, 1, 2, 3, 4, 5}),
        starts=time(9, 0),
        ends=time(13, 0),
    )
    due = business_due(local(2025, 3, 14, 12, 0), 3, schedule)  # Friday noon
    assert due == local(2025, 3, 15, 11, 0)  # Saturday is a working day here


def test_no_working_time_means_no_due_time():
    assert business_due(local(2025, 3, 14, 12, 0), 8, WorkingTime("UTC", frozenset())) is None


def test_working_hours_between_counts_only_working_time():
    hours = working_hours_between(local(2025, 3, 14, 14, 0), local(2025, 3, 17, 10, 0), OFFICE)
    assert hours == 4.0
