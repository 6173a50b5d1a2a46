"""Quiet days: publishing on a day the organization marked quiet (a day of mourning,
an election silence) needs the explicit confirmation of a manager or an admin."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import formats
from django.utils.translation import gettext as _

from governance.models import Membership, Organization
from governance.selectors.access import has_perm
from governance.services.audit import audit_record
from publishing.models import ImportantDate, Post
from publishing.selectors_dates import quiet_dates_on


def organization_local_date(organization: Organization, at: datetime) -> date:
    """``at``'s day on the organization's wall clocks: the day a quiet day is about."""
    try:
        zone = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return at.astimezone(zone).date()


def quiet_dates_at(organization: Organization, at: datetime | None) -> list[ImportantDate]:
    """The quiet days that a post published at ``at`` would fall on."""
    if at is None:
        return []
    return quiet_dates_on(organization, organization_local_date(organization, at))


def quiet_day_warning(organization: Organization, at: datetime | None) -> str:
    """What the post page says about a time on a quiet day ("" when it is not on one)."""
    quiet = quiet_dates_at(organization, at)
    if not quiet or at is None:
        return ""
    return _(
        "%(date)s is a quiet day (%(names)s). Publishing on it needs a manager's or an "
        "admin's confirmation."
    ) % {
        "date": formats.date_format(organization_local_date(organization, at), "DATE_FORMAT"),
        "names": ", ".join(item.name for item in quiet),
    }


def quiet_day_check(
    *,
    post: Post,
    membership: Membership,
    at: datetime,
    confirmed: bool,
    request: HttpRequest | None = None,
) -> None:
    """Refuse a time on a quiet day unless a manager or an admin confirmed it; an
    accepted confirmation is audited. Call inside the scheduling transaction."""
    quiet = quiet_dates_at(post.organization, at)
    if not quiet:
        return
    day = organization_local_date(post.organization, at)
    names = ", ".join(item.name for item in quiet)
    values = {"date": formats.date_format(day, "DATE_FORMAT"), "names": names}
    if not has_perm(membership, "posts.publish_on_quiet_day"):
        raise ValidationError(
            _(
                "%(date)s is a quiet day (%(names)s). Only a manager or an admin can "
                "confirm publishing on it: choose another time, or ask a manager."
            )
            % values,
            code="quiet_day_forbidden",
        )
    if not confirmed:
        raise ValidationError(
            _(
                "%(date)s is a quiet day (%(names)s). To publish on it, tick “I confirm "
                "publishing on a quiet day”."
            )
            % values,
            code="quiet_day",
        )
    audit_record(
        action="post.quiet_day_confirmed",
        organization=post.organization,
        actor=membership.user,
        target=post,
        new={"date": day.isoformat(), "quiet_days": names, "at": at.isoformat()},
        request=request,
    )
