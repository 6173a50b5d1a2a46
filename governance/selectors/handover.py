"""Reads about handover cases: the list, one case with its items grouped by what they
are, and the people who may take items over."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from governance.models import HandoverCase, HandoverItem, Membership, Organization, Role
from governance.models.handover import HandoverStatus
from governance.providers import handover_provider
from governance.selectors.access import get_in_org


def handover_cases_for_org(organization: Organization, status: str = "") -> QuerySet[HandoverCase]:
    """The organization's cases, open ones first, each with ``item_count`` and
    ``unassigned_count``."""
    cases = HandoverCase.objects.filter(organization=organization)
    if status in HandoverStatus.values:
        cases = cases.filter(status=status)
    return (
        cases.select_related("membership__user", "opened_by", "signed_off_by")
        .annotate(
            item_count=Count("items"),
            unassigned_count=Count("items", filter=Q(items__new_holder__isnull=True)),
        )
        .order_by("-status", "-opened_at", "-id")
    )


def handover_case_get_for_org(organization: Organization, pk: int | str) -> HandoverCase:
    """One case of the organization; another organization's is a 404."""
    return get_in_org(
        HandoverCase.objects.select_related(
            "organization", "membership__user", "opened_by", "signed_off_by"
        ),
        organization,
        pk=pk,
    )


def handover_open_case_for_member(membership: Membership) -> HandoverCase | None:
    return HandoverCase.objects.filter(membership=membership, status=HandoverStatus.OPEN).first()


def handover_items(case: HandoverCase) -> QuerySet[HandoverItem]:
    return case.items.select_related("new_holder__user", "reassigned_by").order_by(
        "kind", "label", "id"
    )


@dataclass(frozen=True)
class ItemGroup:
    kind: str
    label: str
    items: list[HandoverItem]

    @property
    def unassigned(self) -> int:
        return sum(1 for item in self.items if not item.is_assigned)


def handover_item_groups(case: HandoverCase) -> list[ItemGroup]:
    """The case's items grouped by provider, in the providers' order, each group
    headed by the provider's label (the kind's code when its app is gone)."""
    by_kind: dict[str, list[HandoverItem]] = {}
    for item in handover_items(case):
        by_kind.setdefault(item.kind, []).append(item)
    groups = []
    for kind, items in by_kind.items():
        provider = handover_provider(kind)
        groups.append(ItemGroup(kind, str(provider.label) if provider else kind, items))
    return groups


def handover_source_label(key: str) -> str:
    provider = handover_provider(key)
    return str(provider.label) if provider else key


def handover_holder_choices(case: HandoverCase) -> QuerySet[Membership]:
    """Who may take items over: active members other than the leaving one, auditors
    excepted (they have read-only access)."""
    return (
        Membership.objects.filter(organization_id=case.organization_id, is_active=True)
        .exclude(pk=case.membership_id)
        .exclude(role=Role.AUDITOR)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def handover_leaving_choices(organization: Organization) -> QuerySet[Membership]:
    """Members a case can be opened for by hand: anyone without an open case."""
    return (
        Membership.objects.filter(organization=organization)
        .exclude(handover_cases__status=HandoverStatus.OPEN)
        .select_related("user")
        .order_by("-is_active", "user__full_name", "user__email")
    )
