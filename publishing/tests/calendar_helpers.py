"""Helpers for the calendar, feed and pause page tests: scheduled posts at given
local times, and reading one calendar cell out of a page."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime

from accounts.models import ChannelAccount
from publishing.models import Post
from publishing.services.approval import post_approve
from publishing.services.posts import post_schedule, post_submit_for_review
from publishing.tests.fixtures import Team, draft

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def helsinki(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=HELSINKI)


def approved_post(
    team: Team,
    text: str = "Library opens at 9.",
    *,
    account: ChannelAccount | None = None,
    language: str = "fi",
    title: str = "Library",
) -> Post:
    post = draft(team.eddie, account or team.account, text, language=language, title=title)
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    post.refresh_from_db()
    return post


def scheduled_post(
    team: Team, at: datetime, text: str = "Library opens at 9.", **kw: object
) -> Post:
    post = approved_post(team, text, **kw)  # type: ignore[arg-type]
    post_schedule(post=post, membership=team.eddie, at=at)
    post.refresh_from_db()
    return post


def day_cell(html: str, iso_day: str, hour: int | None = None) -> str:
    """The inside of the calendar cell for ``iso_day`` (and ``hour`` in the week view)."""
    hour_attr = f' data-calendar-hour="{hour}"' if hour is not None else ""
    match = re.search(
        rf'data-calendar-drop="{iso_day}"{hour_attr}[^>]*>(.*?)</(td|section)>', html, re.S
    )
    assert match, f"no cell for {iso_day} {hour}"
    return match.group(1)
