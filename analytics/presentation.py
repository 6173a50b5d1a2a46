"""How a dashboard is shown: its charts, the tables beside them, and numbers in words.

One description for every door: the page, the PDF and the CSV all take their
columns and labels from here, so they always say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.utils.formats import date_format, get_format, number_format
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import network_summary
from analytics.charts import Chart, SeriesInput, build_chart
from analytics.models import GoalMetric, TrackedPost
from analytics.selectors import Dashboard, GoalProgress, PeriodFigures, goal_target_number
from governance.dates import format_date_range
from publishing.models import MediaAsset

NO_FIGURE = "\u2013"  # an en dash: "no figure"


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    kind: str = "int"  # "int", "decimal" (one decimal), "date"


PERIOD_COLUMNS: tuple[Column, ...] = (
    Column("followers", _("Followers")),
    Column("followers_gained", _("New followers")),
    Column("posts_published", _("Posts published")),
    Column("likes", _("Likes")),
    Column("shares", _("Shares")),
    Column("replies", _("Replies")),
    Column("quotes", _("Quotes")),
    Column("impressions", _("Impressions")),
    Column("engagement", _("Engagement")),
    Column("inbox_received", _("Inbox items")),
    Column("inbox_answered", _("Answered")),
    Column("response_median_minutes", _("Median response time (minutes)"), "decimal"),
    Column("sla_measured", _("Answers due")),
    Column("sla_met", _("Answered in time")),
    Column("sla_share", _("Answered in time (%)"), "decimal"),
)
COLUMNS_BY_KEY = {column.key: column for column in PERIOD_COLUMNS}


def fmt(value: Any, kind: str = "int") -> str:
    """A number as people read it in the current language ("1,234", "1 234"); a dash for none."""
    if value is None:
        return NO_FIGURE
    if kind == "decimal":
        return number_format(value, decimal_pos=1, use_l10n=True, force_grouping=True)
    if kind == "date":
        return date_format(value, "DATE_FORMAT")
    return _whole_number(round(value))


@lru_cache(maxsize=32)
def _grouping(language: str | None) -> tuple[str, Any]:
    return get_format("THOUSAND_SEPARATOR", language), get_format("NUMBER_GROUPING", language)


def _whole_number(value: int) -> str:
    """``number_format`` of a whole number, grouped (the dashboard formats hundreds of
    them a page): Python's own grouping by threes with the language's separator."""
    separator, grouping = _grouping(get_language())
    if grouping != 3:
        return number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)
    text = f"{value:,}"
    return text if separator == "," else text.replace(",", separator)


def period_value(row: PeriodFigures, key: str) -> Any:
    return getattr(row, key)


def period_label(dashboard: Dashboard, row: PeriodFigures) -> str:
    return row.period.label


def range_label(dashboard: Dashboard) -> str:
    filters = dashboard.filters
    return format_date_range(filters.start, filters.end)


def scope_label(dashboard: Dashboard) -> str:
    filters = dashboard.filters
    parts = [
        gettext("Account: %(account)s") % {"account": filters.account.handle}
        if filters.account
        else gettext("All accounts")
    ]
    if filters.campaign:
        parts.append(gettext("Campaign: %(campaign)s") % {"campaign": filters.campaign.name})
    return ", ".join(parts)


# --- charts and their tables -----------------------------------------------------------------


@dataclass
class ChartBlock:
    """One chart with the table of the same numbers."""

    chart: Chart
    columns: list[Column]
    rows: list[tuple[str, list[str]]]  # (period label, formatted cells)
    totals: list[str] | None = None

    @property
    def rows_html(self) -> SafeString:
        """The table's body rows, written here rather than by a template loop (six
        tables of a month's days: a thousand cells a page)."""
        return mark_safe(  # noqa: S308 - every label and cell is escaped
            "\n".join(
                f'<tr><th scope="row">{escape(label)}</th>'
                + "".join(f"<td>{escape(cell)}</td>" for cell in cells)
                + "</tr>"
                for label, cells in self.rows
            )
        )


def _cells(row: PeriodFigures, columns: Sequence[Column]) -> list[str]:
    return [fmt(period_value(row, column.key), column.kind) for column in columns]


def _number_axis(value: float) -> str:
    return fmt(value, "int" if float(value).is_integer() else "decimal")


def _block(
    dashboard: Dashboard,
    *,
    slug: str,
    title: str,
    description: str,
    kind: str,
    series: Sequence[tuple[str, str]],
    columns: Sequence[str],
    totals: bool = True,
    integer_axis: bool = True,
) -> ChartBlock:
    rows = dashboard.rows
    inputs = [
        SeriesInput(
            label or str(COLUMNS_BY_KEY[key].label),
            [_as_float(period_value(row, key)) for row in rows],
        )
        for key, label in series
    ]
    chart = build_chart(
        slug=slug,
        title=title,
        description=description,
        kind=kind,
        labels=[row.period.label for row in rows],
        series=inputs,
        number=_number_axis,
        integer_axis=integer_axis,
    )
    chosen = [COLUMNS_BY_KEY[key] for key in columns]
    return ChartBlock(
        chart=chart,
        columns=chosen,
        rows=[(row.period.label, _cells(row, chosen)) for row in rows],
        totals=_cells(dashboard.totals, chosen) if totals else None,
    )


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def dashboard_blocks(dashboard: Dashboard) -> list[ChartBlock]:
    """The dashboard's six charts, each with its table."""
    totals = dashboard.totals
    by = dashboard.granularity_label
    engagement_columns = ["likes", "shares", "replies", "quotes"]
    if dashboard.impressions_known:
        engagement_columns.append("impressions")
    engagement_columns.append("engagement")
    return [
        _block(
            dashboard,
            slug="followers",
            title=gettext("Follower growth"),
            description=_followers_sentence(dashboard),
            kind="line",
            series=[("followers", "")],
            columns=["followers", "followers_gained"],
        ),
        _block(
            dashboard,
            slug="engagement",
            title=gettext("Engagement over time"),
            description=gettext(
                "Likes, shares, replies and quotes gained, %(by)s: %(total)s in all."
            )
            % {"by": by, "total": fmt(totals.engagement)},
            kind="line",
            series=[(key, "") for key in ("likes", "shares", "replies", "quotes")],
            columns=engagement_columns,
        ),
        _block(
            dashboard,
            slug="publishing",
            title=gettext("Publishing volume"),
            description=gettext("Posts published, %(by)s: %(total)s in all.")
            % {"by": by, "total": fmt(totals.posts_published)},
            kind="bar",
            series=[("posts_published", "")],
            columns=["posts_published"],
        ),
        _block(
            dashboard,
            slug="inbox",
            title=gettext("Inbox volume"),
            description=gettext(
                "Inbox items received and first answered, %(by)s: %(received)s received, "
                "%(answered)s answered."
            )
            % {
                "by": by,
                "received": fmt(totals.inbox_received),
                "answered": fmt(totals.inbox_answered),
            },
            kind="bar",
            series=[("inbox_received", gettext("Received")), ("inbox_answered", "")],
            columns=["inbox_received", "inbox_answered"],
        ),
        _block(
            dashboard,
            slug="response",
            title=gettext("Response time"),
            description=gettext(
                "Median time to the first answer in minutes, %(by)s: %(median)s over the range."
            )
            % {"by": by, "median": fmt(totals.response_median_minutes, "decimal")},
            kind="line",
            series=[("response_median_minutes", gettext("Median (minutes)"))],
            columns=["response_median_minutes", "inbox_answered"],
            integer_axis=False,
        ),
        _block(
            dashboard,
            slug="sla",
            title=gettext("Answered within the response time"),
            description=gettext(
                "Share of inbox items answered by the time they were due, %(by)s: "
                "%(share)s %% over the range."
            )
            % {"by": by, "share": fmt(totals.sla_share, "decimal")},
            kind="line",
            series=[("sla_share", gettext("Answered in time (%)"))],
            columns=["sla_measured", "sla_met", "sla_share"],
            integer_axis=False,
        ),
    ]


def _followers_sentence(dashboard: Dashboard) -> str:
    known = [row for row in dashboard.rows if row.followers is not None]
    if not known:
        return gettext("No follower counts for this range yet.")
    first, last = known[0], known[-1]
    return gettext(
        "Followers at the end of each period (%(by)s): %(first)s on %(first_day)s, "
        "%(last)s on %(last_day)s."
    ) % {
        "by": dashboard.granularity_label,
        "first": fmt(first.followers),
        "first_day": date_format(first.period.end, "DATE_FORMAT"),
        "last": fmt(last.followers),
        "last_day": date_format(last.period.end, "DATE_FORMAT"),
    }


# --- key figures and goals in words ----------------------------------------------------------


@dataclass(frozen=True)
class KeyFigure:
    label: str
    value: str
    note: str = ""
    # The change against the range just before, in words ("+12 % on the previous 30 days").
    change: str = ""


def _change(current: float | None, previous: float | None, days: int) -> str:
    if current is None or previous is None:
        return ""
    if previous == 0:
        if current == 0:
            return ngettext(
                "No change on the previous %(days)s day",
                "No change on the previous %(days)s days",
                days,
            ) % {"days": days}
        return ngettext(
            "Previous %(days)s day: %(value)s", "Previous %(days)s days: %(value)s", days
        ) % {"days": days, "value": fmt(previous)}
    percent = round(100 * (current - previous) / previous)
    if percent == 0:
        return ngettext(
            "No change on the previous %(days)s day",
            "No change on the previous %(days)s days",
            days,
        ) % {"days": days}
    return ngettext(
        "%(change)s %% on the previous %(days)s day",
        "%(change)s %% on the previous %(days)s days",
        days,
    ) % {"change": _signed(percent), "days": days}


def engagement_split(
    likes: int | None, shares: int | None, replies: int | None, quotes: int | None
) -> str:
    """ "1 like, 18 shares, 7 replies, 0 quotes": each count in its own plural."""
    parts = [
        ngettext("%(count)s like", "%(count)s likes", likes or 0),
        ngettext("%(count)s share", "%(count)s shares", shares or 0),
        ngettext("%(count)s reply", "%(count)s replies", replies or 0),
        ngettext("%(count)s quote", "%(count)s quotes", quotes or 0),
    ]
    values = (likes, shares, replies, quotes)
    return ", ".join(
        part % {"count": fmt(value)} for part, value in zip(parts, values, strict=True)
    )


def key_figures(dashboard: Dashboard) -> list[KeyFigure]:
    totals = dashboard.totals
    previous = dashboard.previous
    days = (dashboard.filters.end - dashboard.filters.start).days + 1

    def change(name: str) -> str:
        if previous is None:
            return ""
        return _change(getattr(totals, name), getattr(previous, name), days)

    gained = totals.followers_gained
    return [
        KeyFigure(
            gettext("Followers"),
            fmt(totals.followers),
            gettext("%(change)s in the range") % {"change": _signed(gained)}
            if gained is not None
            else "",
            change("followers"),
        ),
        KeyFigure(
            gettext("Posts published"), fmt(totals.posts_published), "", change("posts_published")
        ),
        KeyFigure(
            gettext("Engagement"),
            fmt(totals.engagement),
            engagement_split(totals.likes, totals.shares, totals.replies, totals.quotes),
            change("engagement"),
        ),
        KeyFigure(
            gettext("Inbox items"),
            fmt(totals.inbox_received),
            gettext("%(answered)s answered") % {"answered": fmt(totals.inbox_answered)},
            change("inbox_received"),
        ),
        KeyFigure(
            gettext("Median response time"),
            gettext("%(minutes)s min") % {"minutes": fmt(totals.response_median_minutes, "decimal")}
            if totals.response_median_minutes is not None
            else NO_FIGURE,
            "",
            change("response_median_seconds"),
        ),
        KeyFigure(
            gettext("Answered in time"),
            gettext("%(share)s %%") % {"share": fmt(totals.sla_share, "decimal")}
            if totals.sla_share is not None
            else NO_FIGURE,
            gettext("%(met)s of %(due)s answers due")
            % {"met": fmt(totals.sla_met), "due": fmt(totals.sla_measured)},
        ),
    ]


@dataclass(frozen=True)
class NetworkRow:
    label: str
    followers: str
    posts_published: str
    engagement: str
    inbox_received: str
    inbox_answered: str


def network_rows(dashboard: Dashboard) -> list[NetworkRow]:
    return [
        NetworkRow(
            label=network_summary(row.network).label,
            followers=fmt(row.followers),
            posts_published=fmt(row.posts_published),
            engagement=fmt(row.engagement),
            inbox_received=fmt(row.inbox_received),
            inbox_answered=fmt(row.inbox_answered),
        )
        for row in dashboard.networks
    ]


@dataclass(frozen=True)
class TopPostRow:
    tracked: TrackedPost
    language: str
    language_code: str
    image: MediaAsset | None
    image_alt: str

    @property
    def split(self) -> str:
        tracked = self.tracked
        return engagement_split(tracked.likes, tracked.shares, tracked.replies, tracked.quotes)


def top_post_rows(dashboard: Dashboard) -> list[TopPostRow]:
    """Each top post with the language it went out in and its first image (with that
    language's alt text)."""
    rows = []
    for tracked in dashboard.top_posts:
        variant = tracked.job.variant
        media = list(variant.media.all())
        image = media[0].asset if media else None
        alt = ""
        if image is not None:
            texts = {text.language: text.text for text in image.alt_texts.all()}
            alt = texts.get(variant.language) or next(iter(texts.values()), "")
        rows.append(
            TopPostRow(
                tracked=tracked,
                language=_language_name(variant.language),
                language_code=variant.language,
                image=image,
                image_alt=alt,
            )
        )
    return rows


def _language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _signed(value: int | None) -> str:
    if value is None:
        return NO_FIGURE
    return ("+" if value > 0 else "") + fmt(value)


def goal_metric_kind(metric: str) -> str:
    return "decimal" if metric in (GoalMetric.SLA_SHARE, GoalMetric.RESPONSE_MEDIAN) else "int"


def goal_title(progress: GoalProgress) -> str:
    goal = progress.goal
    where = goal.channel_account.handle if goal.channel_account else gettext("all accounts")
    return goal.name or gettext("%(metric)s, %(where)s") % {
        "metric": goal.get_metric_display(),
        "where": where,
    }


def goal_sentence(progress: GoalProgress) -> str:
    """The goal's progress in words: "1,234 of 2,000 (61.7 % of the target): On track"."""
    goal = progress.goal
    kind = goal_metric_kind(goal.metric)
    target = fmt(goal_target_number(goal), kind)
    if progress.value is None:
        return gettext("Target %(target)s: %(status)s") % {
            "target": target,
            "status": progress.status_label,
        }
    return gettext("%(value)s of %(target)s (%(percent)s %% of the target): %(status)s") % {
        "value": fmt(progress.value, kind),
        "target": target,
        "percent": fmt(progress.percent, "decimal"),
        "status": progress.status_label,
    }


def goal_period(progress: GoalProgress) -> str:
    goal = progress.goal
    return format_date_range(goal.period_start, goal.period_end)
