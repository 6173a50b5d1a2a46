"""Clicks on short links beside engagement on the dashboard: what brought people to the
organization's own services. Counted in publishing; read here for the dashboard's range,
accounts and campaign."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.selectors import network_summary
from analytics.presentation import fmt
from analytics.selectors import Dashboard, scope_for_membership
from governance.models import Membership
from publishing.selectors_links import DayClicks, PostClicks, link_clicks_for_range


@dataclass(frozen=True)
class LinkClicksBlock:
    total: str
    has_data: bool
    by_network: list[tuple[str, str]]
    by_day: list[tuple[DayClicks, str, str]]
    top_posts: list[tuple[PostClicks, str]]


def link_clicks_block(membership: Membership, dashboard: Dashboard) -> LinkClicksBlock:
    """The dashboard's link clicks, for the accounts the member may see."""
    filters = dashboard.filters
    scope = scope_for_membership(membership, filters.account)
    account_ids = (filters.account.pk,) if filters.account is not None else scope.account_ids
    summary = link_clicks_for_range(
        organization_id=dashboard.organization.pk,
        start=filters.start,
        end=filters.end,
        account_ids=account_ids,
        campaign_id=filters.campaign.pk if filters.campaign is not None else None,
    )

    def label(network: str) -> str:
        return str(network_summary(network).label)

    return LinkClicksBlock(
        total=fmt(summary.total),
        has_data=summary.total > 0,
        by_network=[(label(network), fmt(total)) for network, total in summary.by_network],
        by_day=[(row, label(row.network), fmt(row.clicks)) for row in summary.by_day],
        top_posts=[(row, fmt(row.clicks)) for row in summary.top_posts],
    )
