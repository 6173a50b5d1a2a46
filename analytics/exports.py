"""A dashboard view as CSV: its figures per period, its top posts, or its goals.

Numbers are written plainly (a dot for decimals, no grouping) and dates as ISO
dates, so a spreadsheet in any language reads them; the header row is in the
person's language. Text that a spreadsheet would run as a formula is defused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext

from analytics.presentation import PERIOD_COLUMNS, goal_title, period_value
from analytics.schedule import zone_of
from analytics.selectors import Dashboard, goal_target_number
from governance.spreadsheet import formula_safe

CSV_TABLES = ("periods", "top_posts", "goals")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return formula_safe(value)


def csv_rows(dashboard: Dashboard, table: str = "periods") -> Iterator[list[Any]]:
    if table == "top_posts":
        yield from _top_post_rows(dashboard)
    elif table == "goals":
        yield from _goal_rows(dashboard)
    else:
        yield from _period_rows(dashboard)


def _period_rows(dashboard: Dashboard) -> Iterator[list[Any]]:
    yield [gettext("From"), gettext("Until"), *[str(c.label) for c in PERIOD_COLUMNS]]
    for row in dashboard.rows:
        yield [
            row.period.start.isoformat(),
            row.period.end.isoformat(),
            *[_cell(period_value(row, column.key)) for column in PERIOD_COLUMNS],
        ]
    totals = dashboard.totals
    yield [
        dashboard.filters.start.isoformat(),
        dashboard.filters.end.isoformat(),
        *[_cell(period_value(totals, column.key)) for column in PERIOD_COLUMNS],
    ]


def _top_post_rows(dashboard: Dashboard) -> Iterator[list[Any]]:
    zone = zone_of(dashboard.organization.time_zone)
    yield [
        gettext("Post"),
        gettext("Account"),
        gettext("Network"),
        gettext("Published"),
        gettext("Likes"),
        gettext("Shares"),
        gettext("Replies"),
        gettext("Quotes"),
        gettext("Impressions"),
        gettext("Engagement"),
        gettext("Address"),
    ]
    for tracked in dashboard.top_posts:
        yield [
            _cell(str(tracked.post)),
            _cell(tracked.channel_account.handle),
            tracked.channel_account.network,
            tracked.published_at.astimezone(zone).isoformat(timespec="minutes"),
            tracked.likes,
            tracked.shares,
            tracked.replies,
            tracked.quotes,
            _cell(tracked.impressions),
            tracked.engagement,
            tracked.remote_url,
        ]


def _goal_rows(dashboard: Dashboard) -> Iterator[list[Any]]:
    yield [
        gettext("Goal"),
        gettext("Metric"),
        gettext("Account"),
        gettext("From"),
        gettext("Until"),
        gettext("Target"),
        gettext("Value"),
        gettext("Per cent of target"),
        gettext("Status"),
    ]
    for progress in dashboard.goals:
        goal = progress.goal
        yield [
            _cell(goal_title(progress)),
            goal.get_metric_display(),
            _cell(goal.channel_account.handle if goal.channel_account else ""),
            goal.period_start.isoformat(),
            goal.period_end.isoformat(),
            str(goal_target_number(goal)),
            _cell(progress.value),
            _cell(progress.percent),
            progress.status_label,
        ]


def csv_text(dashboard: Dashboard, table: str = "periods") -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark, so spreadsheet programs read UTF-8
    writer = csv.writer(buffer)
    for row in csv_rows(dashboard, table):
        writer.writerow(row)
    return buffer.getvalue()


def export_filename(dashboard: Dashboard, table: str, extension: str) -> str:
    filters = dashboard.filters
    slug = dashboard.organization.slug or "organization"
    suffix = "" if table == "periods" else f"-{table.replace('_', '-')}"
    dates = f"{filters.start.isoformat()}-{filters.end.isoformat()}"
    return f"analytics-{slug}-{dates}{suffix}.{extension}"
