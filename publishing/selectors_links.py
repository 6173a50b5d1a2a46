"""Reads of short-link clicks: per post on the post page, per range for analytics.

Callers pass an organization (and the accounts a member may see) they got through the
access layer: nothing here crosses organizations. Days are UTC days, as counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, Sum

from publishing.models import Post, ShortLink, ShortLinkClick

TOP_POSTS = 10


@dataclass(frozen=True)
class LinkTotal:
    """One short link of a post with its clicks so far."""

    network: str
    original_url: str
    code: str
    clicks: int


@dataclass(frozen=True)
class DayClicks:
    day: date
    network: str
    clicks: int


@dataclass(frozen=True)
class PostClicks:
    post_id: int
    title: str
    clicks: int


@dataclass(frozen=True)
class ClicksSummary:
    total: int
    by_network: list[tuple[str, int]]
    by_day: list[DayClicks]
    top_posts: list[PostClicks]


def post_link_totals(post: Post) -> list[LinkTotal]:
    """The post's short links with their clicks (crawlers not counted), in the order made."""
    links = (
        ShortLink.objects.filter(post=post)
        .annotate(total=Sum("clicks__clicks"))
        .order_by("pk")
        .values_list("network", "original_url", "code", "total")
    )
    return [LinkTotal(net, url, code, int(total or 0)) for net, url, code, total in links]


def post_clicks_by_day(post: Post) -> list[DayClicks]:
    """The post's clicks per day and network, newest day first."""
    rows = (
        ShortLinkClick.objects.filter(link__post=post, clicks__gt=0)
        .values_list("day", "link__network")
        .annotate(total=Sum("clicks"))
        .order_by("-day", "link__network")
    )
    return [DayClicks(day, network, int(total)) for day, network, total in rows]


def link_clicks_for_range(
    *,
    organization_id: int,
    start: date,
    end: date,
    account_ids: Sequence[int] | None = None,
    campaign_id: int | None = None,
) -> ClicksSummary:
    """Clicks on the organization's short links from ``start`` to ``end`` (inclusive),
    limited to ``account_ids`` (None: every account) and to one campaign's posts."""
    rows = ShortLinkClick.objects.filter(
        link__organization_id=organization_id, day__gte=start, day__lte=end, clicks__gt=0
    )
    if account_ids is not None:
        rows = rows.filter(link__job__channel_account_id__in=account_ids)
    if campaign_id is not None:
        rows = rows.filter(Q(link__post__campaign_id=campaign_id))
    by_day = [
        DayClicks(day, network, int(total))
        for day, network, total in rows.values_list("day", "link__network")
        .annotate(total=Sum("clicks"))
        .order_by("day", "link__network")
    ]
    # Each network's total from the days' (one query fewer: the days are read anyway).
    network_totals: dict[str, int] = {}
    for row in by_day:
        network_totals[row.network] = network_totals.get(row.network, 0) + row.clicks
    by_network = sorted(network_totals.items(), key=lambda item: (-item[1], item[0]))
    top_posts = [
        PostClicks(post_id, title or f"Post {post_id}", int(total))
        for post_id, title, total in rows.values_list("link__post_id", "link__post__title")
        .annotate(total=Sum("clicks"))
        .order_by("-total", "link__post_id")[:TOP_POSTS]
    ]
    return ClicksSummary(
        total=sum(total for _network, total in by_network),
        by_network=by_network,
        by_day=by_day,
        top_posts=top_posts,
    )
