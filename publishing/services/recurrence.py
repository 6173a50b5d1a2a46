"""Recurring posts: a post that repeats by an RRULE (weekly office hours, the monthly
council meeting), until a date or a number of times.

The rule runs on wall-clock times in the organization's time zone, so 09:00 in
Helsinki stays 09:00 local after the clocks change. Each occurrence is a post of its
own with its own variants and publish jobs, so the dispatcher's exactly-once
guarantees hold for each; they are made for a rolling horizon (``horizon_days``)
and extended by a beat task. ``(series, occurrence_start)`` is unique: a skipped or
separately edited occurrence is never made again.

Approval: the first occurrence (the series' head) is reviewed like any post; once it
is scheduled, the series is approved at the head's version and its occurrences are
scheduled as copies of it. An edit of the head's text ends that approval: its future
plain copies are withdrawn until the new text is approved and scheduled. An edit of
one occurrence detaches it from the series and sends only it back to review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.models import Membership, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import (
    JobStatus,
    Post,
    PostSeries,
    PostStatus,
    PublishAttempt,
    Variant,
    VariantMedia,
    VariantPart,
    Weekday,
)
from publishing.services._base import lock_post, post_move, refuse
from publishing.services.queue import _valid_local

FREQUENCIES = ("daily", "weekly", "monthly")
MAX_INTERVAL = 99
MAX_COUNT = 500
# At most this many occurrences are made by one extension (a daily rule over the horizon).
MAX_PER_EXTENSION = 100
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# States of the head once its series may be copied: it was approved and scheduled.
_HEAD_SCHEDULED = (PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.PUBLISHED)
# Occurrences that a change of the series may still withdraw (nothing has started).
_WITHDRAWABLE = (PostStatus.SCHEDULED, PostStatus.APPROVED)


@dataclass(frozen=True)
class RepeatSpec:
    """What the composer's "Repeat" section says, before it is an RRULE.

    ``monthly_by``: "day" (the same day of the month) or "weekday" (the same weekday
    of the same week: the second Tuesday; the fifth becomes the last)."""

    frequency: str
    interval: int = 1
    weekdays: Sequence[int] = field(default_factory=tuple)
    monthly_by: str = "day"
    until: date | None = None
    count: int | None = None


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _nth_of_month(day: date) -> int:
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def rule_from_spec(spec: RepeatSpec, first: date) -> str:
    """The RRULE (without DTSTART) for ``spec`` starting on ``first``; refuses what
    cannot be right with a clear message."""
    if spec.frequency not in FREQUENCIES:
        raise ValidationError(_("Choose how often the post repeats."), code="repeat_frequency")
    if not 1 <= spec.interval <= MAX_INTERVAL:
        raise ValidationError(
            _("The interval must be a whole number from 1 to %(max)s.") % {"max": MAX_INTERVAL},
            code="repeat_interval",
        )
    if spec.until is not None and spec.count is not None:
        raise ValidationError(
            _("End the series on a date or after a number of times, not both."),
            code="repeat_end",
        )
    if spec.until is not None and spec.until < first:
        raise ValidationError(
            _("The series cannot end before its first occurrence."), code="repeat_until"
        )
    if spec.count is not None and not 2 <= spec.count <= MAX_COUNT:
        raise ValidationError(
            _("The number of times must be from 2 to %(max)s.") % {"max": MAX_COUNT},
            code="repeat_count",
        )
    parts = [f"FREQ={spec.frequency.upper()}", f"INTERVAL={spec.interval}"]
    if spec.frequency == "weekly":
        days = sorted({int(d) for d in spec.weekdays} or {first.weekday()})
        if any(not 0 <= d <= 6 for d in days):
            raise ValidationError(_("Choose the days of the week."), code="repeat_weekdays")
        parts.append("BYDAY=" + ",".join(_DAY_CODES[d] for d in days))
    elif spec.frequency == "monthly":
        if spec.monthly_by == "weekday":
            parts.append(f"BYDAY={_nth_of_month(first):+d}{_DAY_CODES[first.weekday()]}")
        elif spec.monthly_by == "day":
            parts.append(f"BYMONTHDAY={first.day}")
        else:
            raise ValidationError(
                _("Choose which day of the month the post repeats on."), code="repeat_monthly"
            )
    if spec.until is not None:
        parts.append(f"UNTIL={spec.until:%Y%m%d}T235959")
    if spec.count is not None:
        parts.append(f"COUNT={spec.count}")
    return ";".join(parts)


def _parsed(rule: str, starts_on: date, at: time) -> rrule.rrule:
    start = datetime.combine(starts_on, at.replace(second=0, microsecond=0))
    try:
        parsed = rrule.rrulestr(rule, dtstart=start)
    except (ValueError, TypeError) as error:
        raise ValidationError(_("That repeat rule cannot be read."), code="repeat_rule") from error
    if not isinstance(parsed, rrule.rrule):
        raise ValidationError(_("That repeat rule cannot be read."), code="repeat_rule")
    return parsed


def local_starts(
    rule: str, starts_on: date, at: time, zone: ZoneInfo, *, after: datetime, before: datetime
) -> list[datetime]:
    """The occurrences' starts (aware, UTC) from ``after`` (inclusive) to ``before``.

    The rule is run on naive wall-clock times, each of which is then placed in
    ``zone``: the hour stays the same across a change to or from summer time."""
    found: list[datetime] = []
    for wall in _parsed(rule, starts_on, at):
        instant = _valid_local(wall.date(), wall.time(), zone)
        if instant >= before:
            break
        if instant >= after:
            found.append(instant)
    return found


def series_starts(series: PostSeries, *, after: datetime, before: datetime) -> list[datetime]:
    return local_starts(
        series.rule,
        series.starts_on,
        series.time_of_day,
        zone_named(series.time_zone),
        after=after,
        before=before,
    )


def preview_starts(
    rule: str, starts_on: date, at: time, zone: ZoneInfo, *, limit: int = 5
) -> list[datetime]:
    """The first ``limit`` occurrences of a rule (for the composer's preview)."""
    found: list[datetime] = []
    for wall in _parsed(rule, starts_on, at):
        found.append(_valid_local(wall.date(), wall.time(), zone))
        if len(found) >= limit:
            break
    return found


def _ordinal(n: int) -> str:
    return {
        1: pgettext("week of the month", "first"),
        2: pgettext("week of the month", "second"),
        3: pgettext("week of the month", "third"),
        4: pgettext("week of the month", "fourth"),
    }.get(n, pgettext("week of the month", "last"))


def rule_summary(rule: str, starts_on: date, at: time, zone_name: str) -> str:
    """The rule in plain words: "Every week on Tuesday at 10:00 until 31 March 2027"."""
    parsed = _parsed(rule, starts_on, at)
    interval = parsed._interval
    days = ", ".join(str(Weekday(d).label) for d in sorted(parsed._byweekday or ()))
    if parsed._freq == rrule.DAILY:
        what = ngettext("Every day", "Every %(n)s days", interval) % {"n": interval}
    elif parsed._freq == rrule.WEEKLY:
        what = ngettext("Every week on %(days)s", "Every %(n)s weeks on %(days)s", interval) % {
            "n": interval,
            "days": days,
        }
    elif parsed._freq == rrule.MONTHLY and parsed._bynweekday:
        weekday, nth = parsed._bynweekday[0]
        what = ngettext(
            "Every month on the %(nth)s %(weekday)s",
            "Every %(n)s months on the %(nth)s %(weekday)s",
            interval,
        ) % {"n": interval, "nth": _ordinal(nth), "weekday": Weekday(weekday).label}
    elif parsed._freq == rrule.MONTHLY:
        what = ngettext(
            "Every month on day %(day)s", "Every %(n)s months on day %(day)s", interval
        ) % {"n": interval, "day": starts_on.day}
    else:
        what = _("Repeats")
    clock = formats.time_format(at, "TIME_FORMAT")
    if parsed._until is not None:
        text = _("%(rule)s at %(time)s until %(date)s") % {
            "rule": what,
            "time": clock,
            "date": formats.date_format(parsed._until.date(), "DATE_FORMAT"),
        }
    elif parsed._count:
        text = ngettext(
            "%(rule)s at %(time)s, %(count)s time",
            "%(rule)s at %(time)s, %(count)s times",
            parsed._count,
        ) % {"rule": what, "time": clock, "count": parsed._count}
    else:
        text = _("%(rule)s at %(time)s") % {"rule": what, "time": clock}
    return _("%(text)s (%(zone)s time)") % {"text": text, "zone": zone_name}


def series_summary(series: PostSeries) -> str:
    return rule_summary(series.rule, series.starts_on, series.time_of_day, series.time_zone)


# --- writes --------------------------------------------------------------------------------------


def _require_same_org(membership: Membership, post: Post) -> None:
    if post.organization_id != membership.organization_id:
        raise PermissionDenied


def series_set(
    *,
    post: Post,
    membership: Membership,
    spec: RepeatSpec,
    request: HttpRequest | None = None,
) -> PostSeries:
    """Make ``post`` the first occurrence of a series (or change its series' rule).

    The post's planned time is the first occurrence, as a wall-clock time in the
    organization's time zone. A changed rule keeps the series' approval (the text is
    what reviewers approve); future plain copies the new rule no longer gives are
    withdrawn, and the next extension makes the ones it does."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if not post.is_editable:
            raise refuse(post, _("made to repeat"))
        series = PostSeries.objects.select_for_update().filter(head=post).first()
        if post.series_id is not None and series is None:
            raise ValidationError(
                _("This post is one occurrence of a series: change the series' first post."),
                code="repeat_occurrence",
            )
        if post.scheduled_at is None:
            raise ValidationError(
                _("Give the post a planned time: the series starts then."), code="repeat_no_time"
            )
        zone = zone_named(post.organization.time_zone)
        local = post.scheduled_at.astimezone(zone)
        rule = rule_from_spec(spec, local.date())
        old = None if series is None else {"rule": series.rule, "starts_on": str(series.starts_on)}
        now = timezone.now()
        if series is None:
            series = PostSeries.objects.create(
                organization=post.organization,
                head=post,
                rule=rule,
                starts_on=local.date(),
                time_of_day=local.time().replace(second=0, microsecond=0),
                time_zone=str(zone.key),
                created_by=membership.user,
            )
        else:
            series.rule = rule
            series.starts_on = local.date()
            series.time_of_day = local.time().replace(second=0, microsecond=0)
            series.time_zone = str(zone.key)
            series.ended_at = None
            series.updated_at = now
            series.save(
                update_fields=[
                    "rule",
                    "starts_on",
                    "time_of_day",
                    "time_zone",
                    "ended_at",
                    "updated_at",
                ]
            )
        start = post.scheduled_at.astimezone(UTC).replace(second=0, microsecond=0)
        Post.objects.filter(pk=post.pk).update(series=series, occurrence_start=start)
        post.series = series
        post.occurrence_start = start
        withdrawn = _withdraw_copies(series, keep=set(_wanted(series)))
        audit_record(
            action="post.series_set",
            organization=post.organization,
            actor=membership.user,
            target=post,
            old=old,
            new={
                "series": series.pk,
                "rule": rule,
                "starts_on": str(series.starts_on),
                "time_of_day": series.time_of_day.strftime("%H:%M"),
                "time_zone": series.time_zone,
                "withdrawn": withdrawn,
            },
            request=request,
        )
        if post.status in _HEAD_SCHEDULED:
            _extend(series, now=now)
    return series


def series_end(
    *, series: PostSeries, membership: Membership, request: HttpRequest | None = None
) -> PostSeries:
    """Stop the series: no more occurrences are made, and the future plain copies that
    have not started are withdrawn. Occurrences edited on their own stay as they are."""
    require_perm(membership, "posts.write")
    if series.organization_id != membership.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        lock_post(series.head)
        series = PostSeries.objects.select_for_update().get(pk=series.pk)
        if series.ended_at is not None:
            raise ValidationError(_("This series has already ended."), code="series_ended")
        series.ended_at = timezone.now()
        series.updated_at = series.ended_at
        series.save(update_fields=["ended_at", "updated_at"])
        withdrawn = _withdraw_copies(series, keep=set())
        audit_record(
            action="post.series_ended",
            organization=series.organization,
            actor=membership.user,
            target=series.head,
            new={"series": series.pk, "withdrawn": withdrawn},
            request=request,
        )
    return series


def occurrence_skip(
    *, post: Post, membership: Membership, request: HttpRequest | None = None
) -> Post:
    """Skip one occurrence: it is cancelled (its jobs with it) and stays on record, so
    the horizon's extension never makes it again."""
    from publishing.services.posts import _require_every_account, _stop_jobs

    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    _require_every_account(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if post.series_id is None:
            raise ValidationError(_("This post does not repeat."), code="not_recurring")
        if not post.is_cancellable:
            raise refuse(post, _("skipped"))
        cancelled = _stop_jobs(post)
        return post_move(
            post=post,
            to=PostStatus.CANCELLED,
            doing=_("skipped"),
            action="post.occurrence_skipped",
            actor=membership.user,
            request=request,
            new={
                "series": post.series_id,
                "occurrence_start": _iso(post.occurrence_start),
                "jobs_cancelled": cancelled,
            },
        )


def series_edit_from(
    *, post: Post, membership: Membership, request: HttpRequest | None = None
) -> PostSeries:
    """Make a later occurrence the series' first post, so that a change of its text
    changes the series from that occurrence on (the first post may be published by
    now, and a published post's text no longer changes). Earlier occurrences keep
    their text and their approval."""
    require_perm(membership, "posts.write")
    _require_same_org(membership, post)
    with transaction.atomic():
        post = lock_post(post)
        if post.series_id is None:
            raise ValidationError(_("This post does not repeat."), code="not_recurring")
        series = PostSeries.objects.select_for_update().get(pk=post.series_id)
        if series.head_id == post.pk:
            return series
        if series.ended_at is not None:
            raise ValidationError(_("This series has already ended."), code="series_ended")
        if post.series_detached or not post.is_editable:
            raise ValidationError(
                _("Only an occurrence that is still a plain copy of the series can take its text."),
                code="not_plain_copy",
            )
        old_head = series.head_id
        series.head = post
        series.updated_at = timezone.now()
        series.save(update_fields=["head", "updated_at"])
        audit_record(
            action="post.series_edit_from",
            organization=post.organization,
            actor=membership.user,
            target=post,
            old={"head": old_head},
            new={"series": series.pk, "head": post.pk, "from": _iso(post.occurrence_start)},
            request=request,
        )
    return series


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def series_content_changed(post: Post, *, actor: User | None, request: HttpRequest | None) -> None:
    """Called (under the post's lock) when the text, images or targets of a post change.

    The head: the series' approval ends, and its future plain copies are withdrawn
    until the new text is approved and scheduled. Another occurrence: it is detached,
    so later changes of the series leave it alone."""
    if post.series_id is None:
        return
    series = PostSeries.objects.select_for_update().filter(pk=post.series_id).first()
    if series is None:
        return
    if series.head_id == post.pk:
        was = series.approved_version
        # Only the copies after this post take its new text; earlier ones keep theirs.
        withdrawn = _withdraw_copies(series, keep=set(), after=post.occurrence_start)
        if was is not None or withdrawn:
            PostSeries.objects.filter(pk=series.pk).update(
                approved_version=None, updated_at=timezone.now()
            )
            audit_record(
                action="post.series_approval_ended",
                organization=post.organization,
                actor=actor,
                target=post,
                old={"approved_version": was},
                new={"series": series.pk, "reason": "edited", "withdrawn": withdrawn},
                request=request,
            )
        return
    if not post.series_detached:
        Post.objects.filter(pk=post.pk).update(series_detached=True)
        post.series_detached = True
        audit_record(
            action="post.series_detached",
            organization=post.organization,
            actor=actor,
            target=post,
            new={"series": series.pk, "occurrence_start": _iso(post.occurrence_start)},
            request=request,
        )


def _wanted(series: PostSeries) -> list[datetime]:
    now = timezone.now()
    return series_starts(
        series, after=now, before=now + timedelta(days=series.horizon_days or 60) + timedelta(1)
    )


def _withdraw_copies(
    series: PostSeries, *, keep: set[datetime], after: datetime | None = None
) -> list[str]:
    """Remove the series' future plain copies (not the head, not edited on their own,
    never tried) whose start is not in ``keep``; returns their starts. They were never
    more than copies, so they go entirely: a later extension makes them afresh."""
    now = timezone.now()
    if after is not None and after > now:
        now = after
    copies = (
        Post.objects.select_for_update(of=("self",))
        .filter(
            series=series,
            series_detached=False,
            status__in=_WITHDRAWABLE,
            occurrence_start__gt=now,
        )
        .exclude(pk=series.head_id)
        .exclude(pk__in=PublishAttempt.objects.values("job__post_id"))
        .exclude(jobs__status__in=[JobStatus.CLAIMED, JobStatus.RUNNING])
    )
    gone = [post for post in copies if post.occurrence_start not in keep]
    if gone:
        Post.objects.filter(pk__in=[post.pk for post in gone]).delete()
    return sorted(_iso(post.occurrence_start) or "" for post in gone)


def _copy_occurrence(series: PostSeries, head: Post, start: datetime) -> Post | None:
    """One scheduled copy of the head at ``start`` with its own variants and jobs;
    None if the occurrence exists already (made, skipped or edited before)."""
    from publishing.services.posts import create_jobs

    now = timezone.now()
    try:
        with transaction.atomic():
            post = Post.objects.create(
                organization_id=head.organization_id,
                title=head.title,
                campaign_id=head.campaign_id,
                status=PostStatus.SCHEDULED,
                created_by_id=head.created_by_id,
                created_at=now,
                updated_at=now,
                status_changed_at=now,
                scheduled_at=start,
                submitted_by_id=head.submitted_by_id,
                submitted_at=head.submitted_at,
                approved_at=head.approved_at,
                series=series,
                occurrence_start=start,
            )
    except IntegrityError:
        return None
    variants: list[Variant] = []
    for source in head.variants.prefetch_related("parts", "media"):
        variant = Variant.objects.create(
            post=post,
            channel_account_id=source.channel_account_id,
            language=source.language,
            text=source.text,
            content_warning=source.content_warning,
            visibility=source.visibility,
        )
        VariantPart.objects.bulk_create(
            VariantPart(variant=variant, thread_index=part.thread_index, text=part.text)
            for part in source.parts.all()
        )
        VariantMedia.objects.bulk_create(
            VariantMedia(
                variant=variant,
                thread_index=media.thread_index,
                position=media.position,
                asset_id=media.asset_id,
            )
            for media in source.media.all()
        )
        variants.append(variant)
    create_jobs(post, variants, start)
    return post


def _extend(series: PostSeries, *, now: datetime) -> list[Post]:
    """Make the series' missing occurrences within its horizon (series row locked)."""
    if series.ended_at is not None:
        return []
    head = Post.objects.select_related("organization").get(pk=series.head_id)
    if series.approved_version is None or series.approved_version != head.version:
        if head.status not in _HEAD_SCHEDULED:
            return []
        # The head was approved and scheduled at its current version: so is the series.
        series.approved_version = head.version
        series.updated_at = now
        series.save(update_fields=["approved_version", "updated_at"])
        audit_record(
            action="post.series_approved",
            organization=head.organization,
            actor=None,
            target=head,
            new={"series": series.pk, "approved_version": head.version},
        )
    horizon = now + timedelta(days=series.horizon_days or 60)
    starts = series_starts(series, after=now, before=horizon)[:MAX_PER_EXTENSION]
    have = set(
        Post.objects.filter(series=series, occurrence_start__in=starts).values_list(
            "occurrence_start", flat=True
        )
    )
    made: list[Post] = []
    first = head.occurrence_start
    for start in starts:
        # Occurrences before the head (it moved to a later one) keep the text they have.
        if start in have or (first is not None and start <= first):
            continue
        post = _copy_occurrence(series, head, start)
        if post is None:
            continue
        made.append(post)
        audit_record(
            action="post.occurrence_scheduled",
            organization=head.organization,
            actor=None,
            target=post,
            new={
                "status": PostStatus.SCHEDULED.value,
                "series": series.pk,
                "head": head.pk,
                "approved_version": series.approved_version,
                "scheduled_at": _iso(start),
                "targets": post.variants.count(),
            },
        )
    return made


def series_extend(*, series_id: int, now: datetime | None = None) -> int:
    """Make the series' occurrences due within its horizon; idempotent (a second run,
    or two at once, make nothing more). Returns how many were made."""
    now = now or timezone.now()
    with transaction.atomic():
        series = PostSeries.objects.select_for_update().filter(pk=series_id).first()
        if series is None:
            return 0
        return len(_extend(series, now=now))


def series_extend_all(*, now: datetime | None = None) -> int:
    """The beat task's work: extend every running series."""
    ids = list(PostSeries.objects.filter(ended_at__isnull=True).values_list("pk", flat=True))
    return sum(series_extend(series_id=pk, now=now) for pk in ids)


def series_after_schedule(post: Post) -> None:
    """Called when a post is scheduled: the head of a series starts its occurrences."""
    if post.series_id is None:
        return
    series = PostSeries.objects.select_for_update().filter(pk=post.series_id, head=post).first()
    if series is not None:
        _extend(series, now=timezone.now())


__all__ = [
    "RepeatSpec",
    "occurrence_skip",
    "rule_from_spec",
    "rule_summary",
    "series_edit_from",
    "series_end",
    "series_extend",
    "series_extend_all",
    "series_set",
]
