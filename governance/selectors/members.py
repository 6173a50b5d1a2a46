"""Reads about people: members, invitations, the organization's channel accounts.

Channel accounts are reached through their reverse relations
(``organization.channel_accounts``, ``membership.channel_accounts``) so the
ground-floor ``governance`` app never imports the ``accounts`` app above it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from governance.models import Invitation, Membership, Organization, Role, TOTPDevice, User
from governance.selectors.access import get_in_org


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def channel_account_label(account: Any) -> str:
    """How people see an account in these pages: "City News (city-news, mastodon)"."""
    if account.display_name:
        return f"{account.display_name} ({account.handle}, {account.network})"
    return f"{account.handle} ({account.network})"


def organization_channel_accounts(organization: Organization) -> QuerySet[Any]:
    """Every channel account of the organization (``accounts.ChannelAccount``)."""
    return organization.channel_accounts.order_by("network", "handle")


def members_for_org(organization: Organization) -> QuerySet[Membership]:
    """All memberships (active first), with the user, their accounts and a ``has_2fa`` flag."""
    confirmed_device = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "channel_accounts",
                queryset=organization_channel_accounts(organization),
            )
        )
        .annotate(has_2fa=Exists(confirmed_device))
        .order_by("-is_active", "user__full_name", "user__email")
    )


def member_get_for_org(organization: Organization, pk: int) -> Membership:
    """One membership of the organization; another organization's is a 404."""
    return get_in_org(
        Membership.objects.select_related("user", "organization"), organization, pk=pk
    )


def member_channel_account_ids(membership: Membership) -> list[int]:
    return list(membership.channel_accounts.values_list("pk", flat=True))


def invitations_pending_for_org(organization: Organization) -> QuerySet[Invitation]:
    """Invitations not yet accepted, revoked or expired, soonest to expire first."""
    return (
        Invitation.objects.filter(
            organization=organization,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("expires_at")
    )


def invitations_expired_for_org(organization: Organization) -> QuerySet[Invitation]:
    """Expired invitations never accepted or revoked: they can still be sent again."""
    return (
        Invitation.objects.filter(
            organization=organization,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__lte=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-expires_at")
    )


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    accounts: list[str]


def invitation_rows(
    organization: Organization, invitations: QuerySet[Invitation]
) -> list[InvitationRow]:
    """Invitations with the names of the channel accounts they limit to (one query for all)."""
    labels = {
        account.pk: channel_account_label(account)
        for account in organization_channel_accounts(organization)
    }
    return [
        InvitationRow(
            invitation=invitation,
            accounts=[labels[pk] for pk in invitation.channel_account_ids if pk in labels],
        )
        for invitation in invitations
    ]


def invitation_get_for_org(organization: Organization, pk: int) -> Invitation:
    return get_in_org(Invitation.objects.all(), organization, pk=pk)


def invitation_get_by_token(token: str) -> Invitation | None:
    """The invitation a link's token belongs to, whatever its state (None if unknown)."""
    return (
        Invitation.objects.select_related("organization")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )


def memberships_for_user(user: User) -> QuerySet[Membership]:
    """The person's active memberships, for their profile page."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def active_admin_count(organization: Organization) -> int:
    return Membership.objects.filter(
        organization=organization, role=Role.ADMIN, is_active=True
    ).count()
