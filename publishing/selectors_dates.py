"""What the calendar marks on its days: the country's public holidays and the
organization's own important dates (events, awareness days, quiet days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from governance.holidays import holidays_between, organization_country
from governance.models import Membership, Organization
from publishing.models import DateKind, ImportantDate

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
    for item in sorted(
        important_dates_between(organization, first, end),
        key=lambda item: (order.get(DateKind(item.kind), 3), item.starts_on, item.pk),
    ):
        day = max(item.starts_on, first)
        last = min(item.ends_on, end - timedelta(days=1))
        while day <= last:
            marks.setdefault(day, []).append(
                DayMark(item.kind, str(labels.get(item.kind, item.kind)), item.name)
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
