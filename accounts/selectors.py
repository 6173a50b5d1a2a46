"""Reads of channel accounts, always through the user's membership."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ChannelAccount
from governance.models import Membership
from governance.selectors.access import get_in_org


def channel_accounts_for_membership(membership: Membership) -> QuerySet[ChannelAccount]:
    """The accounts this member may see: all of the org's, or only those they are limited to."""
    accounts = ChannelAccount.objects.filter(organization_id=membership.organization_id)
    if not membership.all_accounts:
        accounts = accounts.filter(limited_members=membership)
    return accounts


def channel_account_get_for_membership(membership: Membership, pk: int) -> ChannelAccount:
    return get_in_org(
        channel_accounts_for_membership(membership), membership.organization, pk=pk
    )
