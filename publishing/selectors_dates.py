"""What the calendar marks on its days: the country's public holidays and the
organization's own important dates (events, awareness days, quiet days)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from governance.holidays import holidays_between, organization_country
from governance.models import Membership, Organization
from publishing.models import CalendarSource, DateKind, ImportantDate

HOLIDAY = "holiday"


@dataclass(frozen=True)
class DayMark:
    """One thing a calendar day is: a holiday, an event, an awareness or quiet day."""

    kind: str  # "holiday" or a DateKind
    kind_label: str
    name: str

    @property
    def is_quiet(self) -> bool:
        return self.kind == DateKind.QUIET


def important_dates_for_membership(membership: Membership) -> QuerySet[ImportantDate]:
    return ImportantDate.objects.filter(organization_id=membership.organization_id)


def important_date_get_for_membership(membership: Membership, pk: int) -> ImportantDate:
    """The organization's important date; another organization's is a 404."""
    try:
        return important_dates_for_membership(membership).get(pk=pk)
    except ImportantDate.DoesNotExist:
        raise Http404 from None


def calendar_sources_for_membership(membership: Membership) -> QuerySet[CalendarSource]:
    """The organization's imported calendars (files and subscriptions) that were imported."""
    return CalendarSource.objects.filter(organization_id=membership.organization_id)


def calendar_source_get_for_membership(membership: Membership, pk: int) -> CalendarSource:
    """The organization's calendar source; another organization's is a 404."""
    try:
        return calendar_sources_for_membership(membership).get(pk=pk)
    except CalendarSource.DoesNotExist:
        raise Http404 from None


def important_dates_between(
    organization: Organization, first: date, end: date
) -> list[ImportantDate]:
    """The organization's dates that touch ``[first, end)``."""
    return list(
        ImportantDate.objects.filter(
            organization=organization, starts_on__lt=end, ends_on__gte=first
        ).order_by("starts_on", "pk")
    )


def day_marks_between(
    organization: Organization, first: date, end: date, language: str | None = None
) -> dict[date, list[DayMark]]:
    """Each day's marks from ``first`` up to ``end``: holidays first, then the
    organization's dates (quiet days before the rest). One query."""
    labels = dict(DateKind.choices)
    holiday_label = _("Public holiday")
    marks: dict[date, list[DayMark]] = {}
    for day, names in holidays_between(
        organization_country(organization), first, end, language
    ).items():
        marks[day] = [DayMark(HOLIDAY, holiday_label, name) for name in names]
    order = {DateKind.QUIET: 0, DateKind.EVENT: 1, DateKind.AWARENESS: 2}
    zone = zoneinfo.ZoneInfo(organization.time_zone or settings.TIME_ZONE)
    for item in sorted(
        important_dates_between(organization, first, end),
        key=lambda item: (order.get(DateKind(item.kind), 3), item.starts_on, item.pk),
    ):
        day = max(item.starts_on, first)
        last = min(item.ends_on, end - timedelta(days=1))
        while day <= last:
            name = item.name
            if item.starts_at is not None and day == item.starts_on:
                # An imported timed event: its start time in the organization's time zone.
                local = timezone.localtime(item.starts_at, zone)
                name = f"{time_format(local.time(), 'TIME_FORMAT')} {name}"
            marks.setdefault(day, []).append(
                DayMark(item.kind, str(labels.get(item.kind, item.kind)), name)
            )
            day += timedelta(days=1)
    return marks


def quiet_dates_on(organization: Organization, day: date) -> list[ImportantDate]:
    """The organization's quiet days covering ``day`` (a local date)."""
    return list(
        ImportantDate.objects.filter(
            organization=organization, kind=DateKind.QUIET, starts_on__lte=day, ends_on__gte=day
        ).order_by("starts_on", "pk")
    )
