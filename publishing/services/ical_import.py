"""The organization's own events from iCal (RFC 5545): an uploaded .ics file or a
subscribed calendar URL (a council's meeting calendar, Outlook or Google).

Flow: :func:`calendar_source_check` reads the file (or fetches the URL), parses it and
keeps it as the source's ``pending`` text; the user sees :func:`calendar_source_preview`
(what would be added, changed and removed) and confirms with
:func:`calendar_source_import`. A subscription is then refreshed by
:func:`calendar_source_refresh` from a beat task on the ``sync`` queue.

Each occurrence of an event becomes one :class:`ImportantDate` of kind "event", keyed by
the event's UID and, for a repeating event, the occurrence's RECURRENCE-ID. Importing the
same calendar again updates what changed at the source and deletes what is no longer
there, so an import is idempotent. Repeating events (RRULE, RDATE, EXDATE, moved
occurrences) are expanded by ``recurring-ical-events`` over a bounded horizon; times are
read in their own time zone (VTIMEZONE / TZID, Google's X-WR-TIMEZONE) and placed on the
organization's local days.

URLs are fetched through ``accounts.http.http_request``, the app's one outbound HTTP
chokepoint: timeouts, no private or loopback addresses (checked on the resolved names and
again on the connected socket), redirects checked hop by hop. Only https is accepted
unless private networks are allowed (development and tests).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.http import BlockedAddress, HttpError, InvalidURL, ResponseTooLarge, http_request
from governance.models import Membership, Organization
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import CalendarSource, DateKind, ImportantDate
from publishing.services.important_dates import MAX_DAYS

logger = logging.getLogger(__name__)

# A calendar larger than this is not an organization's own events.
MAX_BYTES = 5 * 1024 * 1024
# Events are imported from this far back up to this far ahead; repeating events are
# expanded only inside the window.
HORIZON_PAST_DAYS = 365
HORIZON_FUTURE_DAYS = 2 * 365
# At most this many occurrences from one calendar.
MAX_EVENTS = 5000
FETCH_TIMEOUT = (5.0, 20.0)
# A subscription is fetched again when its last import is older than this.
REFRESH_EVERY = timedelta(hours=6)
NOTE_MAX = 2000
# A calendar checked but not imported within this time is dropped with its checked file.
ABANDONED_AFTER = timedelta(days=1)


class IcalError(ValidationError):
    """The file or URL cannot be imported; the message says why, for the user."""


@dataclass(frozen=True)
class IcalEvent:
    key: str
    name: str
    starts_on: date
    ends_on: date
    starts_at: datetime | None
    note: str


@dataclass
class ParsedCalendar:
    events: list[IcalEvent] = field(default_factory=list)
    # Events left out, with the reason (shown in the preview).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    truncated: bool = False


@dataclass
class ImportPlan:
    added: list[IcalEvent] = field(default_factory=list)
    changed: list[IcalEvent] = field(default_factory=list)
    unchanged: list[IcalEvent] = field(default_factory=list)
    removed: list[ImportantDate] = field(default_factory=list)
    parsed: ParsedCalendar = field(default_factory=ParsedCalendar)

    @property
    def change_count(self) -> int:
        return len(self.added) + len(self.changed) + len(self.removed)


# --- reading ------------------------------------------------------------------


def decode_ical(data: bytes) -> str:
    """The calendar's text; raises IcalError for what is not UTF-8 iCalendar text."""
    if len(data) > MAX_BYTES:
        raise IcalError(
            _("The calendar is too large: at most %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise IcalError(
            _("The file is not an iCalendar (.ics) file, or it is not in UTF-8."),
            code="not_ical",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise IcalError(
            _("The file is not in UTF-8. Export the calendar again as UTF-8 iCalendar (.ics)."),
            code="encoding",
        ) from None
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise IcalError(
            _("The file is not an iCalendar (.ics) file: it does not begin with BEGIN:VCALENDAR."),
            code="not_ical",
        )
    return text


def _local(moment: date | datetime, tz: ZoneInfo) -> tuple[date, datetime | None]:
    """The local day of a DTSTART/DTEND value and, for a time, the aware moment."""
    if isinstance(moment, datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=tz)  # floating: local time
        return aware.astimezone(tz).date(), aware
    return moment, None


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    return str(value).strip() if value is not None else ""


def _occurrence_key(uid: str, component: Any) -> str:
    recurrence = component.get("RECURRENCE-ID")
    if recurrence is None:
        return uid[:400]
    value = recurrence.dt
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(ZoneInfo("UTC"))
    return f"{uid[:400]}|{value.isoformat()}"


def _event_of(component: Any, tz: ZoneInfo, repeating: set[str]) -> IcalEvent:
    """One occurrence as the organization's event; raises ValueError for a bad one."""
    start_prop = component.get("DTSTART")
    if start_prop is None:
        raise ValueError(_("It has no start time (DTSTART)."))
    start = start_prop.dt
    if not isinstance(start, date):
        raise ValueError(_("Its start time cannot be read."))
    starts_on, starts_at = _local(start, tz)
    end_prop = component.get("DTEND")
    ends_on = starts_on
    if end_prop is not None and isinstance(end_prop.dt, date):
        end = end_prop.dt
        if isinstance(end, datetime):
            end_day, end_at = _local(end, tz)
            if starts_at is not None and end_at is not None and end_at > starts_at:
                # An event ending at midnight does not touch the next day.
                ends_on = (end_at.astimezone(tz) - timedelta(microseconds=1)).date()
            else:
                ends_on = end_day
        else:
            ends_on = end - timedelta(days=1)  # DTEND of an all-day event is exclusive
    ends_on = max(ends_on, starts_on)
    if (ends_on - starts_on).days >= MAX_DAYS:
        raise ValueError(_("It lasts longer than %(days)d days.") % {"days": MAX_DAYS})
    name = _text(component, "SUMMARY") or _("Untitled event")
    uid = _text(component, "UID")
    is_repeating = uid in repeating
    if not uid:
        # Without a UID (allowed in files by some exporters), the event is its title and start.
        uid = "nouid-" + hashlib.sha256(f"{name}|{start.isoformat()}".encode()).hexdigest()[:32]
    note = "\n".join(
        part for part in (_text(component, "LOCATION"), _text(component, "DESCRIPTION")) if part
    )
    return IcalEvent(
        key=_occurrence_key(uid, component) if is_repeating else uid[:400],
        name=name[:200],
        starts_on=starts_on,
        ends_on=ends_on,
        starts_at=starts_at.astimezone(ZoneInfo("UTC")) if starts_at is not None else None,
        note=note[:NOTE_MAX],
    )


_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RRULE", "EXDATE", "RDATE")


def _check_events(calendar: Any, parsed: ParsedCalendar) -> set[str]:
    """Take out the events whose dates cannot be read (each noted in ``parsed.skipped``)
    and return the UIDs of repeating events (their occurrences are keyed by RECURRENCE-ID)."""
    repeating: set[str] = set()
    for component in list(calendar.subcomponents):
        if component.name != "VEVENT":
            continue
        label = _text(component, "SUMMARY") or _("Untitled event")
        problem = ""
        broken = [name for name, _message in component.errors if name in _DATE_PROPERTIES]
        if component.get("DTSTART") is None:
            problem = _("It has no start time (DTSTART).")
        elif broken:
            problem = _("Its date or time cannot be read (%(property)s).") % {
                "property": ", ".join(sorted(set(broken)))
            }
        else:
            try:
                if not isinstance(component["DTSTART"].dt, date):
                    problem = _("Its start time cannot be read.")
            except Exception:
                problem = _("Its start time cannot be read.")
        if problem:
            parsed.skipped.append((label[:200], problem))
            calendar.subcomponents.remove(component)
            continue
        if any(component.get(name) is not None for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            repeating.add(_text(component, "UID"))
    return repeating


def parse_ical(text: str, *, tz: ZoneInfo, today: date) -> ParsedCalendar:
    """The events of a calendar's text between a year ago and two years ahead.

    Raises IcalError when the text is not a calendar at all; a single event that cannot
    be read (a malformed date, no start) is skipped with its reason."""
    # Imported here, not at the top: only imports and refreshes parse calendars, and a
    # web worker serving the everyday pages need not hold the parser (issue 14: memory).
    import icalendar
    import recurring_ical_events

    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError, KeyError and others
        raise IcalError(
            _("The calendar cannot be read: %(problem)s") % {"problem": str(exc)[:200]},
            code="malformed",
        ) from exc
    if isinstance(calendar, list):  # several VCALENDARs in one file: take the first
        calendar = calendar[0]
    parsed = ParsedCalendar()
    repeating = _check_events(calendar, parsed)
    first = today - timedelta(days=HORIZON_PAST_DAYS)
    end = today + timedelta(days=HORIZON_FUTURE_DAYS)
    try:
        occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(first, end)
    except Exception as exc:  # a bad RRULE or date the expander cannot take
        raise IcalError(
            _("The calendar's dates cannot be read: %(problem)s") % {"problem": str(exc)[:200]},
            code="malformed",
        ) from exc
    seen: set[str] = set()
    for component in occurrences:
        if component.name != "VEVENT":
            continue
        label = _text(component, "SUMMARY") or _("Untitled event")
        if _text(component, "STATUS").upper() == "CANCELLED":
            parsed.skipped.append((label[:200], _("It is cancelled.")))
            continue
        try:
            event = _event_of(component, tz, repeating)
        except (ValueError, TypeError, AttributeError) as exc:
            parsed.skipped.append((label[:200], str(exc)))
            continue
        if event.key in seen:
            parsed.skipped.append((label[:200], _("Another event in the file has the same UID.")))
            continue
        seen.add(event.key)
        if len(parsed.events) >= MAX_EVENTS:
            parsed.truncated = True
            break
        parsed.events.append(event)
    parsed.events.sort(key=lambda event: (event.starts_on, event.starts_at or event.starts_on))
    return parsed


def _org_tz(organization: Organization) -> ZoneInfo:
    name = organization.time_zone or settings.TIME_ZONE
    try:
        return ZoneInfo(str(name))
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _today(tz: ZoneInfo) -> date:
    return timezone.now().astimezone(tz).date()


def _parse_for(source: CalendarSource, text: str) -> ParsedCalendar:
    tz = _org_tz(source.organization)
    return parse_ical(text, tz=tz, today=_today(tz))


# --- fetching -----------------------------------------------------------------


def _allow_insecure() -> bool:
    return bool(getattr(settings, "CONNECTORS_ALLOW_PRIVATE_NETWORKS", False))


def normalize_url(url: str) -> str:
    """The calendar's address as fetched (``webcal://`` is https); raises IcalError."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    parts = urlsplit(url)
    allowed = ("https", "http") if _allow_insecure() else ("https",)
    if parts.scheme.lower() not in allowed or not parts.hostname:
        raise IcalError(_("Enter the calendar's https:// (or webcal://) address."), code="scheme")
    if parts.username or parts.password:
        raise IcalError(
            _("The address must not contain a user name or password."), code="credentials"
        )
    return url


def fetch_ical(url: str) -> str:
    """The calendar text at ``url``; raises IcalError with a message for the user."""
    url = normalize_url(url)
    try:
        response = http_request(
            "GET", url, headers={"Accept": "text/calendar, */*;q=0.5"}, timeout=FETCH_TIMEOUT
        )
    except HttpError as exc:
        logger.info("Calendar fetch failed: %s", exc)
        if isinstance(exc, BlockedAddress):
            message = _("That address is on a private network; only public addresses can be used.")
        elif isinstance(exc, InvalidURL):
            message = _("Enter the calendar's https:// (or webcal://) address.")
        elif isinstance(exc, ResponseTooLarge):
            message = _("The calendar is too large: at most %(mb)d MB.") % {
                "mb": MAX_BYTES // (1024 * 1024)
            }
        else:
            message = _("The calendar could not be fetched: the server did not answer.")
        raise IcalError(message, code="fetch") from exc
    if not _allow_insecure() and urlsplit(response.url).scheme.lower() != "https":
        raise IcalError(_("The calendar's address redirects to an insecure (http) address."))
    if not response.ok:
        raise IcalError(
            _("The calendar could not be fetched: the server answered %(status)d.")
            % {"status": response.status},
            code="fetch",
        )
    return decode_ical(response.content)


# --- planning and applying ----------------------------------------------------


def _fields(event: IcalEvent) -> dict[str, Any]:
    return {
        "name": event.name,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "starts_at": event.starts_at,
        "note": event.note,
    }


def plan_import(source: CalendarSource, parsed: ParsedCalendar) -> ImportPlan:
    """What importing ``parsed`` into ``source`` would add, change and remove."""
    existing = (
        {item.source_key: item for item in ImportantDate.objects.filter(source_id=source.pk)}
        if source.pk
        else {}
    )
    plan = ImportPlan(parsed=parsed)
    for event in parsed.events:
        item = existing.pop(event.key, None)
        if item is None:
            plan.added.append(event)
        elif any(getattr(item, key) != value for key, value in _fields(event).items()):
            plan.changed.append(event)
        else:
            plan.unchanged.append(event)
    plan.removed = sorted(existing.values(), key=lambda item: (item.starts_on, item.pk))
    return plan


def _apply(source: CalendarSource, plan: ImportPlan) -> None:
    organization = source.organization
    if plan.removed:
        ImportantDate.objects.filter(pk__in=[item.pk for item in plan.removed]).delete()
    ImportantDate.objects.bulk_create(
        [
            ImportantDate(
                organization=organization,
                source=source,
                source_key=event.key,
                kind=DateKind.EVENT,
                **_fields(event),
            )
            for event in plan.added
        ],
        batch_size=500,
    )
    if plan.changed:
        by_key = {
            item.source_key: item
            for item in ImportantDate.objects.filter(
                source=source, source_key__in=[event.key for event in plan.changed]
            )
        }
        items = []
        for event in plan.changed:
            item = by_key[event.key]
            for key, value in _fields(event).items():
                setattr(item, key, value)
            items.append(item)
        ImportantDate.objects.bulk_update(items, list(_fields(plan.changed[0])), batch_size=500)


def _where(source: CalendarSource) -> str:
    """What the audit log says about a subscription's address: its host only (a private
    calendar's address carries its secret in the path or query)."""
    return urlsplit(source.url).netloc if source.url else ""


def _summary(plan: ImportPlan) -> dict[str, Any]:
    return {
        "added": len(plan.added),
        "changed": len(plan.changed),
        "removed": len(plan.removed),
        "unchanged": len(plan.unchanged),
        "skipped": len(plan.parsed.skipped),
    }


# --- the services -------------------------------------------------------------


def _read_upload(upload: Any) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise IcalError(
            _("The calendar is too large: at most %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    data: bytes = upload.read(MAX_BYTES + 1)
    return data


@transaction.atomic
def calendar_source_check(
    *,
    membership: Membership,
    name: str,
    url: str = "",
    upload: Any = None,
    source: CalendarSource | None = None,
) -> CalendarSource:
    """Read a calendar (an uploaded file, or the URL) and keep it for the preview.

    A new source is created inactive; for an existing one (a new version of a file, a
    subscription checked again) the file waits beside its imported events. Raises
    IcalError when the calendar cannot be read; nothing is imported yet."""
    require_perm(membership, "dates.manage")
    name = name.strip()
    if source is None and not name:
        raise IcalError(_("Enter a name for the calendar."), code="name_required")
    if upload is not None:
        text = decode_ical(_read_upload(upload))
        file_name = str(getattr(upload, "name", ""))[:255]
        url = ""
    elif url or (source is not None and source.url):
        url = normalize_url(url or (source.url if source else ""))
        text = fetch_ical(url)
        file_name = ""
    else:
        raise IcalError(_("Choose a file or enter an address."), code="nothing")
    if source is None:
        source = CalendarSource(
            organization=membership.organization, name=name, url=url, created_by=membership.user
        )
    elif source.url and url:
        source.url = url
    # Parse now so that an unreadable calendar is an error here, not on the preview.
    _parse_for(source, text)
    source.pending = text
    source.pending_file_name = file_name
    source.save()
    return source


def calendar_source_preview(source: CalendarSource) -> ImportPlan:
    """What confirming the source's checked calendar would do."""
    if not source.pending:
        raise IcalError(_("There is nothing to import: check the calendar again."), code="empty")
    return plan_import(source, _parse_for(source, source.pending))


@transaction.atomic
def calendar_source_import(
    *, membership: Membership, source: CalendarSource, request: HttpRequest | None = None
) -> ImportPlan:
    """Import the checked calendar: add, change and remove the source's events."""
    require_perm(membership, "dates.manage")
    source = CalendarSource.objects.select_for_update().get(
        pk=source.pk, organization=membership.organization
    )
    plan = calendar_source_preview(source)
    _apply(source, plan)
    first_import = not source.is_active
    source.is_active = True
    source.pending = ""
    source.pending_file_name = ""
    source.last_synced_at = timezone.now()
    source.last_error = ""
    source.last_error_at = None
    source.save()
    audit_record(
        action="calendar_source.imported",
        organization=membership.organization,
        actor=membership.user,
        target=source,
        new={
            "name": source.name,
            "url_host": _where(source),
            "first_import": first_import,
            **_summary(plan),
        },
        request=request,
    )
    return plan


@transaction.atomic
def calendar_source_discard(
    *, membership: Membership, source: CalendarSource, request: HttpRequest | None = None
) -> None:
    """Drop a checked calendar that was not imported (and a source that never was)."""
    require_perm(membership, "dates.manage")
    if not source.is_active:
        CalendarSource.objects.filter(pk=source.pk, organization=membership.organization).delete()
        return
    CalendarSource.objects.filter(pk=source.pk, organization=membership.organization).update(
        pending="", pending_file_name=""
    )


@transaction.atomic
def calendar_source_delete(
    *, membership: Membership, source: CalendarSource, request: HttpRequest | None = None
) -> None:
    """Remove the source and every event imported from it."""
    require_perm(membership, "dates.manage")
    count = ImportantDate.objects.filter(source_id=source.pk).count()
    audit_record(
        action="calendar_source.deleted",
        organization=membership.organization,
        actor=membership.user,
        target=source,
        old={"name": source.name, "url_host": _where(source), "events": count},
        request=request,
    )
    CalendarSource.objects.filter(pk=source.pk, organization=membership.organization).delete()


def calendar_source_refresh(source_id: int) -> ImportPlan | None:
    """Fetch a subscription again and import what changed (the beat task's work).

    A failure is kept on the source (shown on its page) and leaves its events as they
    were. Audited when something changed."""
    source = (
        CalendarSource.objects.select_related("organization")
        .filter(pk=source_id, is_active=True)
        .exclude(url="")
        .first()
    )
    if source is None:
        return None
    try:
        text = fetch_ical(source.url)
        parsed = _parse_for(source, text)
    except IcalError as exc:
        CalendarSource.objects.filter(pk=source.pk).update(
            last_error=" ".join(str(m) for m in exc.messages)[:500], last_error_at=timezone.now()
        )
        return None
    with transaction.atomic():
        locked = CalendarSource.objects.select_for_update().get(pk=source.pk)
        plan = plan_import(locked, parsed)
        _apply(locked, plan)
        locked.last_synced_at = timezone.now()
        locked.last_error = ""
        locked.last_error_at = None
        locked.save(update_fields=["last_synced_at", "last_error", "last_error_at"])
        if plan.change_count:
            audit_record(
                action="calendar_source.refreshed",
                organization=locked.organization,
                target=locked,
                new={"name": locked.name, "url_host": _where(locked), **_summary(plan)},
                actor_label="calendar subscription",
            )
    return plan


def due_subscriptions(now: datetime | None = None) -> list[int]:
    """The subscriptions whose last import is older than ``REFRESH_EVERY``. Calendars
    checked but never imported (a preview left open) are dropped after a day."""
    now = now or timezone.now()
    CalendarSource.objects.filter(is_active=False, created_at__lt=now - ABANDONED_AFTER).delete()
    return list(
        CalendarSource.objects.filter(is_active=True)
        .exclude(url="")
        .filter(last_synced_at__lt=now - REFRESH_EVERY)
        .order_by("last_synced_at")
        .values_list("pk", flat=True)[:500]
    )
