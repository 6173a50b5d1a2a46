"""Reads of policies, their versions and acknowledgements, and the governance model's
review date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from governance.models import (
    GovernanceReview,
    Membership,
    Organization,
    Policy,
    PolicyAcknowledgement,
    PolicyVersion,
)
from governance.selectors.access import get_in_org
from governance.selectors.registry import local_today


def policies_for_member(membership: Membership) -> QuerySet[Policy]:
    """The organization's policies with ``acknowledged``: whether this member has
    acknowledged the current version."""
    return (
        Policy.objects.filter(organization=membership.organization)
        .select_related("current_version__author")
        .annotate(
            acknowledged=Exists(
                PolicyAcknowledgement.objects.filter(
                    version_id=OuterRef("current_version_id"), membership=membership
                )
            )
        )
        .order_by("title", "pk")
    )


def policy_get(organization: Organization, pk: int | str) -> Policy:
    policy: Policy = get_in_org(
        Policy.objects.select_related("current_version__author"), organization, pk=pk
    )
    return policy


def policy_versions(policy: Policy) -> QuerySet[PolicyVersion]:
    return policy.versions.select_related("author").order_by("-number")


def policy_acknowledged_by(policy: Policy, membership: Membership) -> PolicyAcknowledgement | None:
    if policy.current_version_id is None:
        return None
    return PolicyAcknowledgement.objects.filter(
        version_id=policy.current_version_id, membership=membership
    ).first()


@dataclass(frozen=True)
class AcknowledgementRow:
    membership: Membership
    acknowledged_at: datetime | None
    # The number of an older version this person acknowledged, when not the current one.
    previous_version: int | None


def policy_acknowledgement_status(policy: Policy) -> list[AcknowledgementRow]:
    """Every active member, with when they acknowledged the current version (None: not yet)."""
    members = list(
        Membership.objects.filter(organization=policy.organization, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    acks = PolicyAcknowledgement.objects.filter(
        version__policy=policy, membership__in=members
    ).select_related("version")
    current: dict[int, datetime] = {}
    previous: dict[int, int] = {}
    for ack in acks:
        if ack.version_id == policy.current_version_id:
            current[ack.membership_id] = ack.acknowledged_at
        else:
            previous[ack.membership_id] = max(
                previous.get(ack.membership_id, 0), ack.version.number
            )
    return [
        AcknowledgementRow(
            membership=member,
            acknowledged_at=current.get(member.pk),
            previous_version=None if member.pk in current else previous.get(member.pk),
        )
        for member in members
    ]


# --- The governance model's own review ------------------------------------------------


def governance_review_for_org(organization: Organization) -> GovernanceReview | None:
    return (
        GovernanceReview.objects.select_related("last_reviewed_by")
        .filter(organization=organization)
        .first()
    )


def governance_review_is_due(review: GovernanceReview | None, today: date) -> bool:
    return review is not None and review.due_on <= today


def governance_reviews_due(now: datetime | None = None) -> list[GovernanceReview]:
    """Reviews, across organizations, due today or earlier where the organization is,
    whose reminder for that due date has not gone out."""
    now = now or timezone.now()
    horizon = date.fromordinal(now.date().toordinal() + 1)
    candidates = (
        GovernanceReview.objects.filter(due_on__lte=horizon)
        .filter(Q(reminded_for__isnull=True) | ~Q(reminded_for=F("due_on")))
        .select_related("organization")
        .order_by("due_on", "pk")
    )
    return [
        review for review in candidates if review.due_on <= local_today(review.organization, now)
    ]
