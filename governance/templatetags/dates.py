"""Date ranges and day headings in templates, in the reader's language."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone

from governance.dates import format_date_range, format_day_heading

register = template.Library()


def _day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


@register.simple_tag
def date_range(start: date | datetime, end: date | datetime) -> str:
    """``{% date_range start end %}``: the days from ``start`` to ``end`` as one range."""
    return format_date_range(_day(start), _day(end))


@register.filter
def day_heading(value: date | datetime | None) -> str:
    """``{{ day|day_heading }}``: "Monday, 7 December 2026" (a weekday and a day)."""
    return format_day_heading(_day(value)) if value else ""
