"""Approval reminders: a stage that waits too long reminds its approvers, then the
organization's managers.

An approval policy may set ``remind_after_hours`` and ``escalate_after_hours``. A
stage counts as waiting from the moment it opened (the post's submission, or the
approval that passed the stage before it). Past the first limit its approvers get
an in-app notice and an e-mail (an outside reviewer: a fresh link); past the
second, the managers do. Each goes out once per stage and review round: it is
claimed by inserting an ``ApprovalReminder`` row under a unique constraint, in
the same transaction as the notices, so a doubled beat tick sends it once and a
failed send is tried again by the next tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Membership, Role
from governance.services.audit import audit_record
from publishing.models import ApprovalReminder, OutsideReview, Post, PostStatus, ReminderKind
from publishing.selectors import StageState, posts_in_review_with_time_limits
from publishing.services._base import lock_post
from publishing.services._notify import notify_users, post_label
from publishing.services.outside_review import outside_review_remind, outside_reviews_open


def _claim(post: Post, stage: StageState, kind: str, now: datetime) -> bool:
    assert stage.stage is not None
    try:
        with transaction.atomic():
            ApprovalReminder.objects.create(
                post=post,
                stage=stage.stage,
                review_round=post.review_round,
                kind=kind,
                sent_at=now,
            )
    except IntegrityError:
        return False
    return True


def _managers(post: Post) -> list[int]:
    """The organization's managers; with none, its admins (someone must hear of it)."""
    for role in (Role.MANAGER, Role.ADMIN):
        ids = list(
            Membership.objects.filter(
                organization_id=post.organization_id,
                role=role,
                is_active=True,
                user__is_active=True,
            ).values_list("user_id", flat=True)
        )
        if ids:
            return ids
    return []


def _remind(post: Post, stage: StageState, hours: int) -> list[str]:
    """Remind the stage's approvers; returns whom (addresses, for the audit entry)."""
    label = post_label(post)
    if stage.outside:
        latest = (
            OutsideReview.objects.filter(
                post=post, stage=stage.stage, review_round=post.review_round
            )
            .order_by("-created_at", "-id")
            .first()
        )
        if latest is None:
            outside_reviews_open(post, sent_by=None)
        elif latest.revoked_at is None:
            outside_review_remind(review=latest)
        else:
            # Staff withdrew the link on purpose: no reminder brings it back.
            return []
        return [stage.outside_email]
    user_ids = sorted(stage.waiting_for_user_ids)
    notify_users(
        post=post,
        user_ids=user_ids,
        kind="post.review_reminder",
        message=lambda: (
            _("Reminder: “%(post)s” has waited more than %(hours)d hours for your review.")
            % {"post": label, "hours": hours}
        ),
    )
    return list(
        Membership.objects.filter(
            organization_id=post.organization_id, user_id__in=user_ids
        ).values_list("user__email", flat=True)
    )


def _escalate(post: Post, stage: StageState, hours: int) -> list[int]:
    label = post_label(post)
    stage_name = stage.name
    user_ids = _managers(post)
    notify_users(
        post=post,
        user_ids=user_ids,
        kind="post.review_escalated",
        message=lambda: (
            _(
                "“%(post)s” has waited more than %(hours)d hours at the approval stage "
                "“%(stage)s”. Please see that it is reviewed."
            )
            % {"post": label, "hours": hours, "stage": stage_name}
        ),
    )
    return user_ids


def approval_reminder_send(
    *, post: Post, stage: StageState, kind: str, now: datetime | None = None
) -> bool:
    """Send one stage's reminder (or escalation) unless it already went; returns whether
    this call sent it."""
    now = now or timezone.now()
    assert stage.stage is not None
    policy = stage.stage.policy
    hours = (
        policy.remind_after_hours if kind == ReminderKind.REMIND else policy.escalate_after_hours
    )
    if hours is None:
        return False
    with transaction.atomic():
        locked = lock_post(post)
        if locked.status != PostStatus.IN_REVIEW or locked.review_round != post.review_round:
            return False
        if not _claim(post, stage, kind, now):
            return False
        if kind == ReminderKind.REMIND:
            told: list[object] = list(_remind(post, stage, hours))
            action = "post.approval_reminder_sent"
        else:
            emails = Membership.objects.filter(
                organization_id=post.organization_id, user_id__in=_escalate(post, stage, hours)
            ).values_list("user__email", flat=True)
            told = list(emails)
            action = "post.approval_escalated"
        audit_record(
            action=action,
            organization=post.organization,
            target=post,
            new={
                "stage": stage.name,
                "waited_hours": hours,
                "to": told,
                "review_round": post.review_round,
            },
        )
    return True


def approval_reminders_send_due(*, now: datetime | None = None) -> int:
    """Beat's tick: every reminder and escalation that fell due and has not gone out;
    returns how many went."""
    now = now or timezone.now()
    sent = 0
    for post, state in posts_in_review_with_time_limits():
        for stage in state.stages:
            if stage.stage is None or not stage.is_open or stage.satisfied:
                continue
            if stage.opened_at is None:
                continue
            policy = stage.stage.policy
            waited = now - stage.opened_at
            for kind, hours in (
                (ReminderKind.REMIND, policy.remind_after_hours),
                (ReminderKind.ESCALATE, policy.escalate_after_hours),
            ):
                if hours is not None and waited >= timedelta(hours=hours):
                    sent += approval_reminder_send(post=post, stage=stage, kind=kind, now=now)
    return sent
