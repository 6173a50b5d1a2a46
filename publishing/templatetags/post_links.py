"""``{% post_links post %}``: on the post page, what its links become when published and
the clicks they have had (a tag, so the post page's view and template change by a line)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.selectors import network_summary
from publishing.models import Post
from publishing.network_options import youtube_privacy_label
from publishing.selectors_links import post_clicks_by_day, post_link_totals
from publishing.services.links import link_settings_for, post_link_plans, short_base

register = template.Library()


@register.inclusion_tag("publishing/links/_post_links.html")
def post_links(post: Post) -> dict[str, Any]:
    """The post has already passed the access layer (the page shows it)."""
    variants = list(post.variants.select_related("channel_account"))
    networks = sorted({variant.channel_account.network for variant in variants})
    labels: dict[str, str] = {}

    def label(network: str) -> str:
        if network not in labels:
            labels[network] = str(network_summary(network).label)
        return labels[network]

    return {
        "plans": [(label(plan.network), plan) for plan in post_link_plans(post, networks)],
        "totals": [(label(link.network), link) for link in post_link_totals(post)],
        "by_day": [(label(row.network), row) for row in post_clicks_by_day(post)],
        "short_base": short_base(link_settings_for(post.organization_id)),
    }


@register.filter
def youtube_privacy(options: dict[str, Any] | None) -> str:
    """Who can watch a YouTube variant's video, in words ("" when not chosen)."""
    return youtube_privacy_label(options or {})
