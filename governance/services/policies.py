"""Writes for policies (versions, acknowledgements) and the governance model's review.

A policy's text is never edited in place: each change publishes a new version,
and people acknowledge a version, so an acknowledgement always says exactly
which text someone read.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from governance.models import (
    GovernanceReview,
    Membership,
    Organization,
    Policy,
    PolicyAcknowledgement,
    PolicyKind,
    PolicyVersion,
    Role,
    User,
)
from governance.selectors.policies import governance_reviews_due
from governance.selectors.registry import local_today
from governance.services.audit import audit_record
from governance.services.notifications import notification_send
from governance.services.registry import add_months

NEW_VERSION_KIND = "policy.new_version"
GOVERNANCE_REVIEW_KIND = "governance.review_due"
GOVERNANCE_CADENCES = (3, 6, 12, 24)


def _validate(*, title: str, kind: str, body: str) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the policy a title.")]
    if kind not in PolicyKind.values:
        errors["kind"] = [_("Choose a kind from the list.")]
    if not body.strip():
        errors["body"] = [_("Write the policy's text.")]
    if errors:
        raise ValidationError(errors)


def _tell_members(policy: Policy, version: PolicyVersion, actor: User) -> None:
    """An in-app notice (no e-mail: a policy change is not urgent) asking each active
    member, except the author, to read and acknowledge the new text."""
    members = (
        Membership.objects.filter(
            organization=policy.organization, is_active=True, user__is_active=True
        )
        .exclude(user=actor)
        .select_related("user")
    )
    link = reverse("governance:policy_detail", args=[policy.pk])
    for membership in members:
        user = membership.user
        with override(user.preferred_language or policy.organization.default_language):
            message = _("%(title)s has a new version (%(number)d). Read it and acknowledge it.") % {
                "title": policy.title,
                "number": version.number,
            }
        notification_send(
            user=user,
            organization=policy.organization,
            kind=NEW_VERSION_KIND,
            message=message,
            link=link,
            email=False,
        )


def policy_create(
    *,
    organization: Organization,
    actor: User,
    kind: str,
    title: str,
    body: str,
    request: HttpRequest | None = None,
) -> Policy:
    """A new policy with its first version, published now."""
    _validate(title=title, kind=kind, body=body)
    with transaction.atomic():
        policy = Policy.objects.create(organization=organization, kind=kind, title=title.strip())
        version = PolicyVersion.objects.create(
            policy=policy, number=1, body=body.strip(), author=actor, published_at=timezone.now()
        )
        policy.current_version = version
        policy.save(update_fields=["current_version"])
        audit_record(
            action="policy.created",
            organization=organization,
            actor=actor,
            target=policy,
            new={"title": policy.title, "kind": kind, "version": 1},
            request=request,
        )
        _tell_members(policy, version, actor)
    return policy


def policy_publish_version(
    *,
    policy: Policy,
    actor: User,
    title: str,
    kind: str,
    body: str,
    change_note: str = "",
    request: HttpRequest | None = None,
) -> PolicyVersion:
    """Publish a new text of ``policy``; everyone has to acknowledge it afresh."""
    _validate(title=title, kind=kind, body=body)
    with transaction.atomic():
        locked = Policy.objects.select_for_update().get(pk=policy.pk)
        old = {"title": locked.title, "kind": locked.kind}
        previous = locked.versions.aggregate(top=Max("number"))["top"] or 0
        version = PolicyVersion.objects.create(
            policy=locked,
            number=previous + 1,
            body=body.strip(),
            change_note=change_note.strip(),
            author=actor,
            published_at=timezone.now(),
        )
        locked.title, locked.kind, locked.current_version = title.strip(), kind, version
        locked.save(update_fields=["title", "kind", "current_version"])
        policy.title, policy.kind, policy.current_version = locked.title, kind, version
        audit_record(
            action="policy.version_published",
            organization=locked.organization,
            actor=actor,
            target=locked,
            old={**old, "version": previous},
            new={
                "title": locked.title,
                "kind": kind,
                "version": version.number,
                "change_note": version.change_note,
            },
            request=request,
        )
        _tell_members(locked, version, actor)
    return version


def policy_acknowledge(
    *, policy: Policy, membership: Membership, request: HttpRequest | None = None
) -> PolicyAcknowledgement:
    """Record that the member has read the current version (once; again is a no-op)."""
    if policy.organization_id != membership.organization_id or not membership.is_active:
        raise ValidationError(_("Only the organization's active members acknowledge its policies."))
    version = policy.current_version
    if version is None:
        raise ValidationError(_("This policy has no published text yet."))
    existing = PolicyAcknowledgement.objects.filter(version=version, membership=membership).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            ack = PolicyAcknowledgement.objects.create(version=version, membership=membership)
            audit_record(
                action="policy.acknowledged",
                organization=policy.organization,
                actor=membership.user,
                target=policy,
                new={"title": policy.title, "version": version.number},
                request=request,
            )
    except IntegrityError:
        # A double click: the other request recorded it.
        return PolicyAcknowledgement.objects.get(version=version, membership=membership)
    return ack


# --- The governance model's review ------------------------------------------------------


def governance_review_schedule(
    *,
    organization: Organization,
    actor: User,
    due_on: date,
    cadence_months: int,
    request: HttpRequest | None = None,
) -> GovernanceReview:
    """Set when the governance model is next reviewed, and how often after that."""
    if cadence_months not in GOVERNANCE_CADENCES:
        raise ValidationError({"cadence_months": [_("Choose a cadence from the list.")]})
    with transaction.atomic():
        review, created = GovernanceReview.objects.select_for_update().get_or_create(
            organization=organization,
            defaults={"due_on": due_on, "cadence_months": cadence_months},
        )
        old = (
            None
            if created
            else {"due_on": review.due_on.isoformat(), "cadence_months": review.cadence_months}
        )
        if not created and review.due_on == due_on and review.cadence_months == cadence_months:
            return review
        review.due_on, review.cadence_months = due_on, cadence_months
        review.save(update_fields=["due_on", "cadence_months"])
        audit_record(
            action="governance.review_scheduled",
            organization=organization,
            actor=actor,
            target=review,
            old=old,
            new={"due_on": due_on.isoformat(), "cadence_months": cadence_months},
            request=request,
        )
    return review


def governance_review_record(
    *,
    organization: Organization,
    actor: User,
    notes: str,
    request: HttpRequest | None = None,
) -> GovernanceReview:
    """Record that the governance model was reviewed today; the next review falls due
    one cadence later."""
    with transaction.atomic():
        now = timezone.now()
        today = local_today(organization, now)
        review, _created = GovernanceReview.objects.select_for_update().get_or_create(
            organization=organization, defaults={"due_on": today}
        )
        old_due = review.due_on
        review.last_reviewed_at = now
        review.last_reviewed_by = actor
        review.notes = notes.strip()
        review.due_on = add_months(today, review.cadence_months)
        review.save(update_fields=["last_reviewed_at", "last_reviewed_by", "notes", "due_on"])
        audit_record(
            action="governance.reviewed",
            organization=organization,
            actor=actor,
            target=review,
            old={"due_on": old_due.isoformat()},
            new={"due_on": review.due_on.isoformat(), "notes": review.notes},
            request=request,
        )
    return review


def governance_review_send_reminder(*, review_id: int, now: datetime | None = None) -> bool:
    """Remind the admins that the governance model's review is due, once per due date."""
    now = now or timezone.now()
    with transaction.atomic():
        review = (
            GovernanceReview.objects.select_related("organization").filter(pk=review_id).first()
        )
        if review is None or review.due_on > local_today(review.organization, now):
            return False
        due = review.due_on
        claimed = (
            GovernanceReview.objects.filter(pk=review.pk, due_on=due)
            .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=due))
            .update(reminded_for=due)
        )
        if claimed != 1:
            return False
        organization = review.organization
        admins = Membership.objects.filter(
            organization=organization, role=Role.ADMIN, is_active=True, user__is_active=True
        ).select_related("user")
        link = reverse("governance:governance_review")
        for membership in admins:
            user = membership.user
            with override(user.preferred_language or organization.default_language):
                message = _(
                    "The review of the governance model is due (%(date)s): check the "
                    "registry's owners, the review cadences and the policies, then record it."
                ) % {"date": date_format(due, "DATE_FORMAT")}
            notification_send(
                user=user,
                organization=organization,
                kind=GOVERNANCE_REVIEW_KIND,
                message=message,
                link=link,
            )
        audit_record(
            action="governance.review_reminder_sent",
            organization=organization,
            target=review,
            new={"due": due.isoformat(), "to": [m.user.email for m in admins]},
        )
    return True


def governance_reviews_remind_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(
        governance_review_send_reminder(review_id=review.pk, now=now)
        for review in governance_reviews_due(now)
    )
