"""The iCalendar feed: a member's publishing schedule in Outlook or any calendar app.

Each member may hold one secret feed address per organization. Calendar apps
fetch it without logging in, so the address itself is the credential: only its
SHA-256 is stored, it is shown once, and regenerating it revokes the old one.
The feed shows what the member could see on the calendar, and no more: a
member limited to some accounts gets only those accounts' posts.

One event per variant (a post to two accounts in two languages is four
events), with a UID that stays the same as long as the variant exists, so a
calendar app updates an event when a post moves instead of adding another.

The organization's country's public holidays and its important dates come as
all-day events, on the organization's own dates.
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.holidays import holidays_between, organization_country
from governance.models import Membership
from governance.selectors.access import has_perm
from governance.services.audit import audit_record
from publishing.models import CalendarFeedToken, DateKind, PostStatus
from publishing.selectors import PostFilters
from publishing.selectors_calendar import CalendarEntry, calendar_entries, first_words
from publishing.selectors_dates import important_dates_between

if TYPE_CHECKING:
    from icalendar import Calendar, Event

# The feed covers this much of the past and the future.
FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=400)
# Posts are instants; calendar apps draw them as short events.
EVENT_LENGTH = timedelta(minutes=15)
FEED_STATUSES = (
    PostStatus.IN_REVIEW,
    PostStatus.CHANGES_REQUESTED,
    PostStatus.APPROVED,
    PostStatus.SCHEDULED,
    PostStatus.PUBLISHING,
    PostStatus.PUBLISHED,
    PostStatus.FAILED,
)
# Posts with a time that is not settled yet (they went back to review, say).
NOT_YET_SCHEDULED = frozenset(
    {PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.APPROVED}
)
# Don't write last_used_at on every poll: calendar apps fetch every few minutes.
LAST_USED_RESOLUTION = timedelta(minutes=10)


def feed_token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


# --- reads ----------------------------------------------------------------------------------


def calendar_feed_token_active(membership: Membership) -> CalendarFeedToken | None:
    """The member's live feed address in this organization, if they made one."""
    return CalendarFeedToken.objects.filter(
        user_id=membership.user_id,
        organization_id=membership.organization_id,
        revoked_at__isnull=True,
    ).first()


def calendar_feed_owner(raw_token: str) -> tuple[CalendarFeedToken, Membership] | None:
    """The live token and its member's active membership, or None: a revoked or unknown
    token, or a person who has left the organization, gets nothing."""
    if not raw_token or len(raw_token) > 200:
        return None
    token = (
        CalendarFeedToken.objects.filter(
            token_hash=feed_token_hash(raw_token), revoked_at__isnull=True
        )
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    membership = (
        Membership.objects.filter(
            user_id=token.user_id, organization_id=token.organization_id, is_active=True
        )
        .select_related("organization", "user")
        .first()
    )
    if membership is None or not has_perm(membership, "posts.view"):
        return None
    return token, membership


# --- writes ---------------------------------------------------------------------------------


def calendar_feed_token_create(
    *, membership: Membership, request: HttpRequest | None = None
) -> tuple[CalendarFeedToken, str]:
    """Make a new secret feed address for the member, revoking the one they had.

    Returns the token row and the raw token, which is never stored."""
    if not has_perm(membership, "posts.view"):
        raise PermissionDenied
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        now = timezone.now()
        revoked = CalendarFeedToken.objects.filter(
            user_id=membership.user_id,
            organization_id=membership.organization_id,
            revoked_at__isnull=True,
        ).update(revoked_at=now)
        token = CalendarFeedToken.objects.create(
            user=membership.user,
            organization=membership.organization,
            token_hash=feed_token_hash(raw),
            created_at=now,
        )
        audit_record(
            action="calendar_feed.created",
            organization=membership.organization,
            actor=membership.user,
            target=token,
            old={"revoked_addresses": revoked} if revoked else None,
            new={"user": membership.user.email},
            request=request,
        )
    return token, raw


def calendar_feed_token_revoke(
    *, membership: Membership, request: HttpRequest | None = None
) -> int:
    """Stop the member's feed address from working. Returns how many were revoked."""
    with transaction.atomic():
        tokens = list(
            CalendarFeedToken.objects.select_for_update().filter(
                user_id=membership.user_id,
                organization_id=membership.organization_id,
                revoked_at__isnull=True,
            )
        )
        now = timezone.now()
        for token in tokens:
            CalendarFeedToken.objects.filter(pk=token.pk).update(revoked_at=now)
            audit_record(
                action="calendar_feed.revoked",
                organization=membership.organization,
                actor=membership.user,
                target=token,
                old={"created_at": token.created_at.isoformat()},
                request=request,
            )
    return len(tokens)


def calendar_feed_touch(token: CalendarFeedToken) -> None:
    """Note that the feed was fetched (at most every few minutes)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        CalendarFeedToken.objects.filter(pk=token.pk).update(last_used_at=now)


# --- the feed ---------------------------------------------------------------------------------


def _event_summary(entry: CalendarEntry, handle: str, text: str) -> str:
    words = first_words(text) or first_words(entry.title) or _("(no text)")
    return f"{handle}: {words}"


def calendar_feed_build(
    *,
    membership: Membership,
    post_url: Callable[[int], str],
    host: str,
    now: datetime | None = None,
) -> bytes:
    """The member's schedule as an iCalendar (RFC 5545) document.

    ``post_url(post_id)`` gives the absolute address of a post's page; ``host``
    makes the UIDs globally unique."""
    # Imported here: only the feed builds calendars, and the calendar pages that import
    # this module for the feed's token need not hold icalendar (issue 14: memory).
    from icalendar import Calendar, Event

    now = now or timezone.now()
    entries = calendar_entries(
        membership, now - FEED_PAST, now + FEED_FUTURE, PostFilters(statuses=FEED_STATUSES)
    )
    calendar = Calendar()
    calendar.add("prodid", "-//GovSocial//Publishing calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = _("%(organization)s: publishing") % {"organization": membership.organization.name}
    calendar.add("x-wr-calname", name)
    # Ask calendar apps to fetch again every half hour (Outlook and Apple honour one or other).
    calendar.add("refresh-interval", timedelta(minutes=30), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT30M")
    for entry in entries:
        assert entry.at is not None  # calendar_entries only returns posts with a time
        start = entry.at.astimezone(UTC)
        for target in entry.targets:
            event = Event()
            event.add("uid", f"govsocial-variant-{target.variant_id}@{host}")
            event.add("dtstamp", entry.updated_at.astimezone(UTC))
            event.add("last-modified", entry.updated_at.astimezone(UTC))
            event.add("dtstart", start)
            event.add("dtend", start + EVENT_LENGTH)
            event.add("summary", _event_summary(entry, target.handle, target.text))
            url = post_url(entry.post_id)
            event.add("url", url)
            details = [
                _("Status: %(status)s") % {"status": entry.status_label},
                _("Account: %(account)s (%(network)s)")
                % {"account": target.handle, "network": target.network},
                _("Language: %(language)s") % {"language": target.language},
                "",
                target.text,
                "",
                url,
            ]
            event.add("description", "\n".join(details))
            event.add("categories", [entry.status_label])
            event.add("status", "TENTATIVE" if entry.status in NOT_YET_SCHEDULED else "CONFIRMED")
            event.add("transp", "TRANSPARENT")  # a post does not make anyone busy
            calendar.add_component(event)
    _add_day_events(calendar, membership, host, now)
    return bytes(calendar.to_ical())


def _day_event(uid: str, first: date, last: date, summary: str, stamp: datetime) -> Event:
    from icalendar import Event

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", first)  # a DATE: all day, wherever the reader is
    event.add("dtend", last + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    return event


def _add_day_events(calendar: Calendar, membership: Membership, host: str, now: datetime) -> None:
    """The country's public holidays and the organization's important dates, all day."""
    organization = membership.organization
    try:
        zone = zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    first = (now - FEED_PAST).astimezone(zone).date()
    end = (now + FEED_FUTURE).astimezone(zone).date()
    country = organization_country(organization)
    holiday = _("Public holiday")
    for day, names in sorted(holidays_between(country, first, end).items()):
        stamp = datetime.combine(day, time.min, tzinfo=UTC)
        for index, name in enumerate(names):
            event = _day_event(
                f"govsocial-holiday-{country}-{day.isoformat()}-{index}@{host}",
                day,
                day,
                name,
                stamp,
            )
            event.add("categories", [holiday])
            calendar.add_component(event)
    labels = dict(DateKind.choices)
    for item in important_dates_between(organization, first, end):
        label = str(labels.get(item.kind, item.kind))
        event = _day_event(
            f"govsocial-date-{item.pk}@{host}",
            item.starts_on,
            item.ends_on,
            f"{label}: {item.name}",
            item.created_at,
        )
        event.add("categories", [label])
        if item.note:
            event.add("description", item.note)
        calendar.add_component(event)
