"""Queue slots: the times of the week a team likes to post on each account, and
"add to queue", which finds the earliest of them still free.

A slot is a wall-clock time in the organization's time zone. Each date's slot is
turned into an instant in that zone on that date, so a 9:00 slot is 9:00 local in
winter and in summer. A slot inside the hour skipped when clocks go forward moves
to the first valid time after the gap (03:30 on that night is 04:00); a slot in the
hour that repeats when clocks go back is its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership, Organization
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import Post, PostStatus, QueueSlot, Variant, Weekday

# How far "add to queue" looks for a free slot.
LOOKAHEAD = timedelta(weeks=8)


@dataclass(frozen=True)
class FreeSlot:
    """The next free slot: when (aware, UTC) and which slot it is."""

    at: datetime
    slot: QueueSlot


def org_zone(organization: Organization) -> ZoneInfo:
    try:
        return ZoneInfo(organization.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _valid_local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``at`` in ``zone`` as an aware instant (UTC); a wall time that does
    not exist that day (clocks went forward) becomes the first one after the gap."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of a repeated time
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # In a gap: the offset after the gap (fold=1) gives an instant before the change,
    # the one before the gap (fold=0) an instant after it; the change lies between.
    low = local.replace(fold=1).astimezone(UTC)
    high = instant
    if low > high:
        low, high = high, low
    # The change is on a whole minute; halve the span down to one minute.
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(zone).utcoffset() == high.astimezone(zone).utcoffset():
            high = middle
        else:
            low = middle
    return high


def slot_times(
    slots: Iterable[QueueSlot], zone: ZoneInfo, after: datetime, until: datetime
) -> list[tuple[datetime, QueueSlot]]:
    """Every occurrence of ``slots`` after ``after`` and up to ``until``, earliest first."""
    slots = list(slots)
    occurrences: list[tuple[datetime, QueueSlot]] = []
    if not slots:
        return occurrences
    day = after.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        for slot in slots:
            if slot.weekday != day.weekday():
                continue
            at = _valid_local(day, slot.time, zone)
            if after < at <= until:
                occurrences.append((at, slot))
        day += timedelta(days=1)
    occurrences.sort(key=lambda pair: (pair[0], pair[1].channel_account_id, pair[1].pk))
    return occurrences


def _taken_minutes(
    accounts: Sequence[ChannelAccount],
    after: datetime,
    until: datetime,
    exclude_post: Post | None,
) -> set[datetime]:
    """The minutes (UTC) at which a post to any of ``accounts`` is planned or scheduled."""
    posts = (
        Post.objects.filter(
            variants__channel_account__in=accounts,
            scheduled_at__gte=after - timedelta(minutes=1),
            scheduled_at__lte=until + timedelta(minutes=1),
        )
        .exclude(status__in=[PostStatus.CANCELLED, PostStatus.FAILED])
        .distinct()
    )
    if exclude_post is not None and exclude_post.pk is not None:
        posts = posts.exclude(pk=exclude_post.pk)
    return {
        at.astimezone(UTC).replace(second=0, microsecond=0)
        for at in posts.values_list("scheduled_at", flat=True)
        if at is not None
    }


def next_free_slot(
    accounts: Sequence[ChannelAccount],
    *,
    after: datetime | None = None,
    exclude_post: Post | None = None,
) -> FreeSlot | None:
    """The earliest enabled slot of any of ``accounts`` after ``after`` (default now),
    within eight weeks, at which none of the accounts has a post planned or scheduled
    in the same minute (``exclude_post``, the post being placed, does not count).
    ``None`` when the accounts have no slots or every slot is taken."""
    accounts = list(accounts)
    if not accounts:
        return None
    after = after or timezone.now()
    if timezone.is_naive(after):
        raise ValueError("after must be aware")
    until = after + LOOKAHEAD
    organization = accounts[0].organization
    slots = list(
        QueueSlot.objects.filter(
            organization_id=organization.pk, channel_account__in=accounts, enabled=True
        ).select_related("channel_account")
    )
    if not slots:
        return None
    taken = _taken_minutes(accounts, after, until, exclude_post)
    for at, slot in slot_times(slots, org_zone(organization), after, until):
        if at.replace(second=0, microsecond=0) not in taken:
            return FreeSlot(at=at, slot=slot)
    return None


def free_slot_markers(
    accounts: QuerySet[ChannelAccount],
    organization: Organization,
    start: datetime,
    end: datetime,
) -> list[tuple[datetime, QueueSlot]]:
    """The slots of ``accounts`` in ``[start, end)`` (from now on) whose account has no
    post planned in that minute: the calendar shows them as empty places. Two queries.

    The accounts are a subquery, and of each slot's account only its handle is read:
    the calendar asks for every week ahead, and a whole account row carries its
    credentials, decrypted on load."""
    start = max(start, timezone.now())
    if start >= end:
        return []
    slots = list(
        QueueSlot.objects.filter(
            organization_id=organization.pk,
            channel_account__in=accounts.values("pk"),
            enabled=True,
        )
        .select_related("channel_account")
        .only(
            "organization_id",
            "channel_account_id",
            "weekday",
            "time",
            "enabled",
            "channel_account__handle",
        )
    )
    if not slots:
        return []
    taken = {
        (account_id, at.astimezone(UTC).replace(second=0, microsecond=0))
        for account_id, at in Variant.objects.filter(
            channel_account_id__in={slot.channel_account_id for slot in slots},
            post__scheduled_at__gte=start - timedelta(minutes=1),
            post__scheduled_at__lt=end + timedelta(minutes=1),
        )
        .exclude(post__status__in=[PostStatus.CANCELLED, PostStatus.FAILED])
        .values_list("channel_account_id", "post__scheduled_at")
        if at is not None
    }
    return [
        (at, slot)
        for at, slot in slot_times(slots, org_zone(organization), start, end)
        if at < end and (slot.channel_account_id, at.replace(second=0, microsecond=0)) not in taken
    ]


def has_queue_slots(accounts: Sequence[ChannelAccount]) -> bool:
    return QueueSlot.objects.filter(channel_account__in=list(accounts), enabled=True).exists()


def no_free_slot_message(accounts: Sequence[ChannelAccount]) -> str:
    """Why "add to queue" found nothing: no slots at all, or all taken."""
    if not has_queue_slots(accounts):
        return _(
            "These accounts have no queue slots. Add the times you like to post on the "
            "Queue slots page, or choose a time yourself."
        )
    return _(
        "Every queue slot of these accounts in the next 8 weeks already has a post. "
        "Add more slots or choose a time yourself."
    )


def slot_label(free: FreeSlot, organization: Organization) -> str:
    """ "Tuesday 8 December 2026 at 09:00 (Europe/Helsinki)": the slot in the org's zone."""
    zone = org_zone(organization)
    local = free.at.astimezone(zone)
    return _("%(weekday)s %(date)s at %(time)s (%(zone)s), a queue slot of %(account)s") % {
        "weekday": Weekday(local.weekday()).label,
        "date": formats.date_format(local, "DATE_FORMAT"),
        "time": local.strftime("%H:%M"),
        "zone": zone.key,
        "account": free.slot.channel_account.handle,
    }


# --- writes ----------------------------------------------------------------------------


def _require_account(membership: Membership, account: ChannelAccount) -> None:
    if not channel_accounts_for_membership(membership).filter(pk=account.pk).exists():
        raise PermissionDenied(_("You cannot manage this account."))


def queue_slot_add(
    *,
    membership: Membership,
    account: ChannelAccount,
    weekday: int,
    at: time,
    request: HttpRequest | None = None,
) -> QueueSlot:
    """Add a slot (``at`` on ``weekday``, in the organization's time zone) to an account."""
    require_perm(membership, "posts.write")
    _require_account(membership, account)
    at = at.replace(second=0, microsecond=0)
    if weekday not in Weekday.values:
        raise ValidationError(_("Choose a day of the week."), code="weekday")
    try:
        with transaction.atomic():
            slot = QueueSlot.objects.create(
                organization_id=membership.organization_id,
                channel_account=account,
                weekday=weekday,
                time=at,
            )
    except IntegrityError as error:
        raise ValidationError(
            _("%(account)s already has a slot on that day at that time.")
            % {"account": account.handle},
            code="duplicate",
        ) from error
    audit_record(
        action="queue_slot.added",
        organization=membership.organization,
        actor=membership.user,
        target=slot,
        target_label=str(slot),
        new={"account": account.handle, "weekday": weekday, "time": at.strftime("%H:%M")},
        request=request,
    )
    return slot


def queue_slot_set_enabled(
    *,
    membership: Membership,
    slot: QueueSlot,
    enabled: bool,
    request: HttpRequest | None = None,
) -> QueueSlot:
    """Pause a slot (kept on the page, skipped by "add to queue") or use it again."""
    require_perm(membership, "posts.write")
    _require_account(membership, slot.channel_account)
    if slot.enabled == enabled:
        return slot
    QueueSlot.objects.filter(pk=slot.pk).update(enabled=enabled)
    slot.enabled = enabled
    audit_record(
        action="queue_slot.resumed" if enabled else "queue_slot.paused",
        organization=membership.organization,
        actor=membership.user,
        target=slot,
        target_label=str(slot),
        old={"enabled": not enabled},
        new={"enabled": enabled},
        request=request,
    )
    return slot


def queue_slot_remove(
    *, membership: Membership, slot: QueueSlot, request: HttpRequest | None = None
) -> None:
    require_perm(membership, "posts.write")
    _require_account(membership, slot.channel_account)
    old = {
        "account": slot.channel_account.handle,
        "weekday": slot.weekday,
        "time": slot.time.strftime("%H:%M"),
    }
    label = str(slot)
    audit_record(
        action="queue_slot.removed",
        organization=membership.organization,
        actor=membership.user,
        target=slot,
        target_label=label,
        old=old,
        request=request,
    )
    slot.delete()
