"""Crisis pause: stop publishing, hold what comes due, and decide about it afterwards.

While a pause is active, the dispatcher holds every job that comes due for
the organization (or the paused account): held, never dropped. When
publishing resumes, a manager goes through the held jobs and, for each,
publishes it now, reschedules it or cancels it. Named emergency publishers may
publish during a pause; each such publish is audited with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AccountStatus, ChannelAccount
from governance.models import Membership, Role
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from governance.services.notifications import notification_send
from publishing.models import (
    EmergencyPublisher,
    HoldReason,
    JobStatus,
    Post,
    PostStatus,
    PublishingPause,
    PublishJob,
)
from publishing.selectors import is_emergency_publisher, pause_applies, pauses_forget
from publishing.services._base import job_facts, job_update, lock_post, post_move, post_settle
from publishing.services.posts import check_targets, create_jobs, problem_messages


def _held_link() -> str:
    try:
        return reverse("publishing:held_jobs")
    except NoReverseMatch:
        return reverse("publishing:calendar")


def _tell_managers(membership: Membership, message: Callable[[], str], kind: str) -> None:
    """Tell the admins and managers, each in their own language (``message()`` is
    built under it)."""
    people = Membership.objects.filter(
        organization_id=membership.organization_id,
        is_active=True,
        user__is_active=True,
        role__in=[Role.ADMIN, Role.MANAGER],
    ).select_related("user")
    for member in people:
        language = (
            member.user.preferred_language
            or membership.organization.default_language
            or settings.LANGUAGE_CODE
        )
        with translation.override(language):
            text = message()
        notification_send(
            user=member.user,
            organization=membership.organization,
            kind=kind,
            message=text,
            link=_held_link(),
        )


def publishing_pause_start(
    *,
    membership: Membership,
    reason: str,
    channel_account: ChannelAccount | None = None,
    request: HttpRequest | None = None,
) -> PublishingPause:
    """Pause all publishing of the organization, or of one account, with a reason."""
    require_perm(membership, "publishing.pause")
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why publishing is paused."), code="reason_required")
    if (
        channel_account is not None
        and channel_account.organization_id != membership.organization_id
    ):
        raise PermissionDenied
    try:
        with transaction.atomic():
            pause = PublishingPause.objects.create(
                organization=membership.organization,
                channel_account=channel_account,
                reason=reason[:2000],
                started_by=membership.user,
            )
            audit_record(
                action="publishing.paused",
                organization=membership.organization,
                actor=membership.user,
                target=pause,
                new={
                    "reason": pause.reason,
                    "channel_account": channel_account.handle if channel_account else None,
                },
                request=request,
            )
            who = membership.user.full_name or membership.user.email
            scope = channel_account.handle if channel_account else membership.organization.name
            _tell_managers(
                membership,
                lambda: (
                    _("%(who)s paused publishing for %(scope)s: %(reason)s")
                    % {"who": who, "scope": scope, "reason": pause.reason}
                ),
                "publishing.paused",
            )
    except IntegrityError:
        raise ValidationError(_("Publishing is already paused."), code="already_paused") from None
    return pause


def publishing_pause_end(
    *, pause: PublishingPause, membership: Membership, request: HttpRequest | None = None
) -> PublishingPause:
    """Resume publishing. Jobs held meanwhile stay held until a manager decides about
    each one (publish now, reschedule, cancel)."""
    require_perm(membership, "publishing.pause")
    if pause.organization_id != membership.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        now = timezone.now()
        ended = PublishingPause.objects.filter(pk=pause.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=membership.user
        )
        if not ended:
            raise ValidationError(_("This pause has already ended."), code="already_ended")
        pauses_forget(pause.organization_id)
        pause.ended_at, pause.ended_by = now, membership.user
        held = PublishJob.objects.filter(
            organization_id=pause.organization_id,
            status=JobStatus.HELD,
            hold_reason=HoldReason.PAUSE,
        )
        if pause.channel_account_id:
            held = held.filter(channel_account_id=pause.channel_account_id)
        count = held.count()
        audit_record(
            action="publishing.resumed",
            organization=membership.organization,
            actor=membership.user,
            target=pause,
            old={"reason": pause.reason, "started_at": pause.started_at.isoformat()},
            new={"held_jobs": count},
            request=request,
        )
        if count:
            _tell_managers(
                membership,
                lambda: (
                    ngettext(
                        "Publishing has resumed. %(count)d held post is waiting for your decision.",
                        "Publishing has resumed. %(count)d held posts are waiting for your "
                        "decision.",
                        count,
                    )
                    % {"count": count}
                ),
                "publishing.resumed",
            )
    return pause


def _locked_held_job(job: PublishJob, membership: Membership) -> tuple[Post, PublishJob]:
    require_perm(membership, "publishing.pause")
    if job.organization_id != membership.organization_id:
        raise PermissionDenied
    post = lock_post(job.post)
    job = (
        PublishJob.objects.select_for_update(of=("self",))
        .select_related("channel_account")
        .get(pk=job.pk)
    )
    if job.status != JobStatus.HELD:
        raise ValidationError(_("This target is not held any more."), code="not_held")
    return post, job


def held_job_publish_now(
    *, job: PublishJob, membership: Membership, request: HttpRequest | None = None
) -> PublishJob:
    """Release a held job to be published at once (its due time becomes now)."""
    with transaction.atomic():
        post, job = _locked_held_job(job, membership)
        if pause_applies(job.organization_id, job.channel_account_id) and not job.emergency:
            raise ValidationError(
                _(
                    "Publishing is still paused. End the pause first, or ask an emergency "
                    "publisher."
                ),
                code="still_paused",
            )
        if job.channel_account.status != AccountStatus.ACTIVE:
            raise ValidationError(
                _("%(account)s cannot publish until it is reconnected.")
                % {"account": job.channel_account.handle},
                code="account_inactive",
            )
        old_due = job.due_at
        now = timezone.now()
        # Held for review: a person checked the account and did not find the post there,
        # so it is sent (with its idempotency key) instead of being looked up again.
        reviewed = job.hold_reason == HoldReason.REVIEW
        job_update(
            job,
            status=JobStatus.PENDING,
            due_at=now,
            next_attempt_at=now,
            hold_reason="",
            held_at=None,
            needs_reconcile=False if reviewed else job.needs_reconcile,
        )
        audit_record(
            action="publish_job.released",
            organization=post.organization,
            actor=membership.user,
            target=post,
            old={"due_at": old_due.isoformat()},
            new=job_facts(job, due_at=now.isoformat()),
            request=request,
        )
    return job


def held_job_reschedule(
    *,
    job: PublishJob,
    membership: Membership,
    at: datetime,
    request: HttpRequest | None = None,
) -> PublishJob:
    """Give a held job a new time. If publishing is still paused then, it is held again."""
    if timezone.is_naive(at):
        raise ValidationError(_("Give the time with its time zone."), code="naive_time")
    with transaction.atomic():
        post, job = _locked_held_job(job, membership)
        at = max(at, timezone.now())
        old_due = job.due_at
        job_update(
            job,
            status=JobStatus.PENDING,
            due_at=at,
            next_attempt_at=at,
            hold_reason="",
            held_at=None,
        )
        others = (
            PublishJob.objects.filter(post=post)
            .exclude(pk=job.pk)
            .exclude(status__in=[JobStatus.CANCELLED, JobStatus.PUBLISHED, JobStatus.FAILED])
        )
        if not others.exists():
            Post.objects.filter(pk=post.pk).update(scheduled_at=at, updated_at=timezone.now())
        audit_record(
            action="publish_job.rescheduled",
            organization=post.organization,
            actor=membership.user,
            target=post,
            old={"due_at": old_due.isoformat()},
            new=job_facts(job, due_at=at.isoformat()),
            request=request,
        )
    return job


def held_job_cancel(
    *,
    job: PublishJob,
    membership: Membership,
    reason: str = "",
    request: HttpRequest | None = None,
) -> PublishJob:
    """Drop a held job: it will not be published. A post whose every target is cancelled
    becomes cancelled."""
    with transaction.atomic():
        post, job = _locked_held_job(job, membership)
        job_update(job, status=JobStatus.CANCELLED)
        audit_record(
            action="publish_job.cancelled",
            organization=post.organization,
            actor=membership.user,
            target=post,
            new=job_facts(job, reason=reason.strip()[:1000]),
            request=request,
        )
        post_settle(post)
    return job


def emergency_publish(
    *,
    post: Post,
    membership: Membership,
    reason: str,
    request: HttpRequest | None = None,
) -> Post:
    """Publish an approved (or scheduled, or held) post now, through an active pause.

    Only named emergency publishers may; the approval is never skipped. Each use
    is audited with its reason."""
    if not is_emergency_publisher(membership) or post.organization_id != membership.organization_id:
        raise PermissionDenied(_("Only emergency publishers may publish during a pause."))
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why this must be published now."), code="reason_required")
    with transaction.atomic():
        post = lock_post(post)
        now = timezone.now()
        if post.status == PostStatus.APPROVED:
            variants = list(post.variants.all())
            if not variants:
                raise ValidationError(_("Add at least one account to publish to."))
            check_targets(post)
            problems = problem_messages(post)
            if problems:
                raise ValidationError(problems, code="invalid_content")
            create_jobs(post, variants, now, emergency=True)
            post_move(
                post=post,
                to=PostStatus.SCHEDULED,
                doing=_("published"),
                action="post.scheduled",
                actor=membership.user,
                request=request,
                fields={"scheduled_at": now},
                new={"scheduled_at": now.isoformat(), "emergency": True},
            )
            released = len(variants)
        elif post.status in (PostStatus.SCHEDULED, PostStatus.PUBLISHING):
            released = PublishJob.objects.filter(
                post=post, status__in=[JobStatus.PENDING, JobStatus.HELD]
            ).update(
                status=JobStatus.PENDING,
                emergency=True,
                due_at=now,
                next_attempt_at=now,
                hold_reason="",
                held_at=None,
                updated_at=now,
            )
            if not released:
                raise ValidationError(_("Nothing of this post is waiting to be published."))
        else:
            raise ValidationError(
                _("Only an approved or scheduled post can be published."), code="not_approved"
            )
        audit_record(
            action="publishing.emergency_publish",
            organization=post.organization,
            actor=membership.user,
            target=post,
            new={"reason": reason[:2000], "targets": released},
            request=request,
        )
    return post


def emergency_publisher_add(
    *, membership: Membership, member: Membership, request: HttpRequest | None = None
) -> EmergencyPublisher:
    """Name ``member`` an emergency publisher (managers and admins)."""
    require_perm(membership, "publishing.pause")
    if member.organization_id != membership.organization_id or not member.is_active:
        raise PermissionDenied
    if member.role == Role.AUDITOR:
        raise ValidationError(_("Auditors only read; they cannot publish."), code="auditor")
    with transaction.atomic():
        publisher, created = EmergencyPublisher.objects.get_or_create(
            organization=membership.organization,
            membership=member,
            defaults={"added_by": membership.user},
        )
        if created:
            audit_record(
                action="emergency_publisher.added",
                organization=membership.organization,
                actor=membership.user,
                target=member,
                new={"user": member.user.email},
                request=request,
            )
    return publisher


def emergency_publisher_remove(
    *, membership: Membership, member: Membership, request: HttpRequest | None = None
) -> None:
    require_perm(membership, "publishing.pause")
    if member.organization_id != membership.organization_id:
        raise PermissionDenied
    with transaction.atomic():
        removed, _rows = EmergencyPublisher.objects.filter(
            organization=membership.organization, membership=member
        ).delete()
        if removed:
            audit_record(
                action="emergency_publisher.removed",
                organization=membership.organization,
                actor=membership.user,
                target=member,
                old={"user": member.user.email},
                request=request,
            )


__all__ = [
    "emergency_publish",
    "emergency_publisher_add",
    "emergency_publisher_remove",
    "held_job_cancel",
    "held_job_publish_now",
    "held_job_reschedule",
    "publishing_pause_end",
    "publishing_pause_start",
]
