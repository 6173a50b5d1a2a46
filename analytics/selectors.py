"""Reads of analytics, always through a membership (or, for tasks and scheduled
reports, an organization and the accounts in scope).

Dashboards read only the daily rollups, never the snapshots or the inbox: a
dashboard is a fixed number of queries, each grouped by period, however many
posts, accounts or days it covers. Ranges longer than a quarter are shown by
week, longer than a year by month, so a chart never has more than ~92 points.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountStatus, ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from analytics.dashboard_cache import dashboard_key, dashboard_version
from analytics.models import (
    DailyAccountRollup,
    DailyCampaignRollup,
    DailyResponseBucket,
    Goal,
    GoalMetric,
    MetricsPullState,
    ScheduledReport,
    TrackedPost,
)
from analytics.schedule import (
    day_bounds,
    local_day,
    median_from_buckets,
    month_start,
    next_month,
    week_start,
    zone_of,
)
from analytics.services.rollups import DayRollups, rollups_compute_day
from governance.dates import format_date_range
from governance.models import Membership, Organization
from governance.selectors.access import get_in_org
from publishing.models import Campaign, VariantMedia

DAILY_UP_TO_DAYS = 92
WEEKLY_UP_TO_DAYS = 366
MAX_RANGE_DAYS = 5 * 366
DEFAULT_RANGE_DAYS = 30
TOP_POSTS = 10
MAX_GOALS_SHOWN = 20

ENGAGEMENT_FIELDS = ("likes", "shares", "replies", "quotes")


# --- what the dashboard shows -----------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    start: date
    end: date
    account: ChannelAccount | None = None
    campaign: Campaign | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "account": self.account.pk if self.account else None,
            "campaign": self.campaign.pk if self.campaign else None,
        }


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_RANGE_DAYS - 1), today


@dataclass(frozen=True)
class Period:
    key: date  # the day, or the first day of the week or month (as the database groups)
    start: date
    end: date
    label: str


@dataclass
class PeriodFigures:
    """The dashboard's numbers for one period (or, as totals, the whole range)."""

    period: Period
    followers: int | None = None
    followers_gained: int | None = None
    posts_published: int = 0
    likes: int = 0
    shares: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int | None = None
    engagement: int = 0
    inbox_received: int = 0
    inbox_answered: int = 0
    response_median_seconds: float | None = None
    sla_measured: int = 0
    sla_met: int = 0

    @property
    def response_median_minutes(self) -> float | None:
        if self.response_median_seconds is None:
            return None
        return round(self.response_median_seconds / 60, 1)

    @property
    def sla_share(self) -> float | None:
        """Per cent of the items due whose answer came in time; None when none were due."""
        if not self.sla_measured:
            return None
        return round(100 * self.sla_met / self.sla_measured, 1)


@dataclass
class Dashboard:
    organization: Organization
    filters: DashboardFilters
    granularity: str  # "day", "week" or "month"
    today: date
    rows: list[PeriodFigures]
    totals: PeriodFigures
    followers_at_start: int | None
    top_posts: list[TrackedPost]
    goals: list[GoalProgress] = field(default_factory=list)
    # The same figures over the range of the same length just before (for the change).
    previous: PeriodFigures | None = None
    networks: list[NetworkFigures] = field(default_factory=list)
    # When the figures were read (today's are read live from the pulled numbers).
    as_of: datetime | None = None
    # Which cached build this is (None: built for this request only): what is made
    # from these figures (the charts) is cached under it, so it never outlives them.
    build_id: str | None = None

    @property
    def impressions_known(self) -> bool:
        return any(row.impressions is not None for row in self.rows)

    @property
    def has_data(self) -> bool:
        totals = self.totals
        return bool(
            totals.followers is not None
            or totals.posts_published
            or totals.engagement
            or totals.inbox_received
            or totals.inbox_answered
            or self.top_posts
        )

    @property
    def granularity_label(self) -> str:
        return str(GRANULARITY_LABELS[self.granularity])


@dataclass
class NetworkFigures:
    """One network's share of the range: its accounts' followers at the end, posts,
    engagement and inbox items."""

    network: str
    followers: int | None = None
    posts_published: int = 0
    engagement: int = 0
    inbox_received: int = 0
    inbox_answered: int = 0


GRANULARITY_LABELS = {"day": _("by day"), "week": _("by week"), "month": _("by month")}


def granularity_for(start: date, end: date) -> str:
    span = (end - start).days + 1
    if span <= DAILY_UP_TO_DAYS:
        return "day"
    if span <= WEEKLY_UP_TO_DAYS:
        return "week"
    return "month"


def periods_for(start: date, end: date, granularity: str) -> list[Period]:
    periods: list[Period] = []
    if granularity == "day":
        cursor = start
        while cursor <= end:
            label = date_format(cursor, "MONTH_DAY_FORMAT")
            periods.append(Period(cursor, cursor, cursor, label))
            cursor += timedelta(days=1)
        return periods
    if granularity == "week":
        cursor = week_start(start)
        while cursor <= end:
            first, last = max(cursor, start), min(cursor + timedelta(days=6), end)
            periods.append(Period(cursor, first, last, format_date_range(first, last)))
            cursor += timedelta(days=7)
        return periods
    cursor = month_start(start)
    while cursor <= end:
        following = next_month(cursor)
        first, last = max(cursor, start), min(following - timedelta(days=1), end)
        periods.append(Period(cursor, first, last, date_format(cursor, "YEAR_MONTH_FORMAT")))
        cursor = following
    return periods


# --- scope: which accounts ---------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The accounts a dashboard covers: one account, the member's visible accounts, or
    (``account_ids`` None) every account of the organization."""

    organization: Organization
    account_ids: tuple[int, ...] | None = None
    account: ChannelAccount | None = None

    def accounts_q(self, name: str = "channel_account_id") -> Q:
        if self.account is not None:
            return Q(**{name: self.account.pk})
        if self.account_ids is not None:
            return Q(**{f"{name}__in": self.account_ids})
        return Q()


def scope_for_membership(membership: Membership, account: ChannelAccount | None = None) -> Scope:
    ids: tuple[int, ...] | None = None
    if not membership.all_accounts:
        ids = tuple(channel_accounts_for_membership(membership).values_list("pk", flat=True))
    return Scope(organization=membership.organization, account_ids=ids, account=account)


def analytics_accounts_for_membership(membership: Membership) -> list[ChannelAccount]:
    """The accounts the member may filter the dashboard by."""
    # Not the credentials: each would be decrypted as its row is read.
    return list(
        channel_accounts_for_membership(membership)
        .defer("credentials")
        .order_by("network", "handle", "pk")
    )


def campaigns_for_organization(organization: Organization) -> list[Campaign]:
    return list(Campaign.objects.filter(organization=organization).order_by("name", "pk"))


def analytics_account_get_for_membership(membership: Membership, pk: int) -> ChannelAccount:
    return get_in_org(channel_accounts_for_membership(membership), membership.organization, pk=pk)


def campaign_get_for_membership(membership: Membership, pk: int) -> Campaign:
    return get_in_org(Campaign.objects.all(), membership.organization, pk=pk)


# --- the dashboard ------------------------------------------------------------------------


class PeriodStart(models.Func):
    """The first day of the week (Monday) or month a date falls in, computed by the
    database's own date functions: Django's ``Trunc`` on SQLite calls back into Python
    for every row, which a two-year dashboard cannot afford."""

    template = "DATE_TRUNC('%(kind)s', %(expressions)s)::date"
    output_field = models.DateField()

    def __init__(self, expression: Any, *, kind: str) -> None:
        super().__init__(expression, kind=kind)

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        template = "DATE(%(expressions)s, 'start of month')"
        if self.extra["kind"] == "week":
            # Six days back, then forward to the first Monday: the week's Monday.
            template = "DATE(%(expressions)s, '-6 days', 'weekday 1')"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _period_expression(granularity: str) -> Any:
    if granularity in ("week", "month"):
        return PeriodStart(F("day"), kind=granularity)
    return F("day")


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def dashboard_build(
    *,
    scope: Scope,
    filters: DashboardFilters,
    today: date | None = None,
    with_goals: bool = True,
    with_details: bool = True,
) -> Dashboard:
    """Every figure of the dashboard for ``filters``, from the rollups, or from the
    cache when nothing was stored for the organization since it was built (see
    ``analytics.dashboard_cache``) and it is at most ``ANALYTICS_LIVE_SECONDS`` old."""
    organization = scope.organization
    today = today or local_day(timezone.now(), zone_of(organization.time_zone))
    seconds = int(getattr(settings, "ANALYTICS_LIVE_SECONDS", 60))
    if seconds <= 0:
        return _dashboard_compute(
            scope=scope,
            filters=filters,
            today=today,
            with_goals=with_goals,
            with_details=with_details,
        )
    # The key is taken before the figures are read: a write committed meanwhile moves
    # the version on, and what is read now is never found under the new one.
    key = dashboard_key(
        organization.pk,
        scope.account_ids,
        scope.account.pk if scope.account is not None else None,
        filters.describe(),
        today.isoformat(),
        with_goals,
        with_details,
        # Period labels and dates are written in the reader's language.
        get_language(),
    )
    cached = cache.get(key)
    if isinstance(cached, Dashboard):
        # The organization and the filters as they are now (a renamed campaign, say).
        return replace(cached, organization=organization, filters=filters)
    dashboard = _dashboard_compute(
        scope=scope,
        filters=filters,
        today=today,
        with_goals=with_goals,
        with_details=with_details,
    )
    if dashboard.as_of is not None:
        # Never longer than today's live figures in it are kept.
        age = (timezone.now() - dashboard.as_of).total_seconds()
        seconds = int(seconds - age)
    if seconds > 0:
        dashboard.build_id = uuid.uuid4().hex
        cache.set(key, dashboard, seconds)
    return dashboard


def _dashboard_compute(
    *,
    scope: Scope,
    filters: DashboardFilters,
    today: date,
    with_goals: bool,
    with_details: bool,
) -> Dashboard:
    """The dashboard read from the rollups. A fixed number of queries: the rows grouped
    by period, followers at each period's end, response-time bands by period, top posts
    and (with goals) the goals and their figures."""
    organization = scope.organization
    start, end = filters.start, filters.end
    granularity = granularity_for(start, end)
    periods = periods_for(start, end, granularity)
    rows = {period.key: PeriodFigures(period=period) for period in periods}
    accounts_q = scope.accounts_q()
    in_range = Q(organization=organization, day__gte=start, day__lte=end) & accounts_q
    # Today is read from the raw tables, not from its rollup rows: those are rebuilt
    # hourly, and a post published since would show with its likes in the top posts
    # but "0 posts published" beside them.
    live_read = _live_day(scope, today) if start <= today <= end else None
    live = live_read[0] if live_read is not None else None
    if live is not None:
        in_range &= ~Q(day=today)
    group = _period_expression(granularity)

    sums = {
        name: Sum(name)
        for name in (
            "followers_gained",
            "posts_published",
            *ENGAGEMENT_FIELDS,
            "impressions",
            "engagement",
            "inbox_received",
            "inbox_answered",
            "sla_measured",
            "sla_met",
        )
    }
    for values in (
        DailyAccountRollup.objects.filter(in_range)
        .annotate(period=group)
        .values("period")
        .annotate(**sums)
        .order_by()
    ):
        figures: dict[str, Any] = dict(values)
        row = rows.get(_as_date(figures.pop("period")))
        if row is None:
            continue
        for name, value in figures.items():
            if value is not None or name in ("followers_gained", "impressions"):
                setattr(row, name, value)
    today_key = next((p.key for p in periods if p.start <= today <= p.end), None)
    if live is not None and today_key is not None:
        _add_rollups(rows[today_key], live.accounts)
    if filters.campaign is not None:
        # Posts and engagement of the campaign's posts only; followers and the inbox
        # belong to the accounts, not to a campaign.
        for row in rows.values():
            row.posts_published = row.likes = row.shares = row.replies = row.quotes = 0
            row.engagement = 0
            row.impressions = None
        for values in (
            DailyCampaignRollup.objects.filter(in_range, campaign=filters.campaign)
            .annotate(period=group)
            .values("period")
            .annotate(**{name: Sum(name) for name in _CAMPAIGN_FIELDS})
            .order_by()
        ):
            campaign_figures: dict[str, Any] = dict(values)
            row = rows.get(_as_date(campaign_figures.pop("period")))
            if row is not None:
                for name, value in campaign_figures.items():
                    setattr(row, name, value if value is not None or name == "impressions" else 0)
        if live is not None and today_key is not None:
            _add_rollups(
                rows[today_key],
                [r for r in live.campaigns if r.campaign_id == filters.campaign.pk],
                fields=_CAMPAIGN_FIELDS,
            )

    # Followers at the end of each period, and on the day before the range.
    ends: dict[date, date] = {}
    for period in periods:
        if min(period.end, today) >= period.start:
            ends[min(period.end, today)] = period.key
    before = start - timedelta(days=1)
    span = (end - start).days + 1
    previous_start = start - timedelta(days=span)
    before_previous = previous_start - timedelta(days=1)
    followers_by_day = dict(
        DailyAccountRollup.objects.filter(
            Q(organization=organization, day__in=[*ends, before, before_previous]) & accounts_q
        )
        .values("day")
        .annotate(total=Sum("followers"))
        .values_list("day", "total")
        .order_by()
    )
    if live is not None:
        known = [r.followers for r in live.accounts if r.followers is not None]
        followers_by_day[today] = sum(known) if known else None
    for day, key in ends.items():
        rows[key].followers = followers_by_day.get(day)

    bands: dict[date, dict[int, tuple[int, float]]] = defaultdict(dict)
    all_bands: dict[int, tuple[int, float]] = {}
    for period, bucket, answered, seconds in (
        DailyResponseBucket.objects.filter(in_range)
        .annotate(period=group)
        .values("period", "bucket")
        .annotate(answered=Sum("answered"), total=Sum("seconds"))
        .values_list("period", "bucket", "answered", "total")
        .order_by()
    ):
        bands[_as_date(period)][bucket] = (answered, float(seconds))
        count, total = all_bands.get(bucket, (0, 0.0))
        all_bands[bucket] = (count + answered, total + float(seconds))
    if live is not None and today_key is not None:
        for live_bucket in live.buckets:
            for band in (bands[today_key], all_bands):
                count, total = band.get(live_bucket.bucket, (0, 0.0))
                band[live_bucket.bucket] = (
                    count + live_bucket.answered,
                    total + float(live_bucket.seconds),
                )
    for key, counts in bands.items():
        if key in rows:
            rows[key].response_median_seconds = median_from_buckets(counts)

    ordered = [rows[period.key] for period in periods]
    totals = _totals(ordered, start, end, followers_by_day.get(before))
    totals.response_median_seconds = median_from_buckets(all_bands)
    previous = _previous_totals(
        scope=scope,
        filters=filters,
        start=previous_start,
        end=before,
        followers_at_end=followers_by_day.get(before),
        followers_before=followers_by_day.get(before_previous),
    )
    dashboard = Dashboard(
        organization=organization,
        filters=filters,
        granularity=granularity,
        today=today,
        rows=ordered,
        totals=totals,
        followers_at_start=followers_by_day.get(before),
        # Without details (the home page's figures): no top posts, no networks.
        top_posts=top_posts(scope=scope, filters=filters) if with_details else [],
        previous=previous,
        networks=_network_figures(
            scope=scope,
            in_range=in_range,
            last_day=min(end, today),
            live=live,
        )
        if with_details
        else [],
        as_of=live_read[1] if live_read is not None else timezone.now(),
    )
    if with_goals:
        goals = goals_for_dashboard(scope=scope, filters=filters)
        dashboard.goals = goal_progress(scope=scope, goals=goals, today=today)
    return dashboard


_CAMPAIGN_FIELDS = ("posts_published", *ENGAGEMENT_FIELDS, "impressions", "engagement")
_SUMMED_FIELDS = (
    "posts_published",
    *ENGAGEMENT_FIELDS,
    "engagement",
    "inbox_received",
    "inbox_answered",
    "sla_measured",
    "sla_met",
)


def _previous_totals(
    *,
    scope: Scope,
    filters: DashboardFilters,
    start: date,
    end: date,
    followers_at_end: int | None,
    followers_before: int | None,
) -> PeriodFigures:
    """The totals of the range just before (two queries): what each key figure's change
    is measured against."""
    in_range = Q(organization=scope.organization, day__gte=start, day__lte=end) & (
        scope.accounts_q()
    )
    totals = PeriodFigures(period=Period(start, start, end, ""))
    if filters.campaign is not None:
        sums = DailyCampaignRollup.objects.filter(in_range, campaign=filters.campaign).aggregate(
            **{name: Sum(name) for name in _CAMPAIGN_FIELDS}
        )
        sums.update(
            DailyAccountRollup.objects.filter(in_range).aggregate(
                **{name: Sum(name) for name in _SUMMED_FIELDS if name not in _CAMPAIGN_FIELDS}
            )
        )
    else:
        sums = DailyAccountRollup.objects.filter(in_range).aggregate(
            **{name: Sum(name) for name in (*_SUMMED_FIELDS, "impressions")}
        )
    for name, value in sums.items():
        if name == "impressions":
            totals.impressions = value
        else:
            setattr(totals, name, value or 0)
    totals.followers = followers_at_end
    if followers_at_end is not None and followers_before is not None:
        totals.followers_gained = followers_at_end - followers_before
    counts: dict[int, tuple[int, float]] = {}
    for bucket, answered, seconds in (
        DailyResponseBucket.objects.filter(in_range)
        .values("bucket")
        .annotate(answered=Sum("answered"), total=Sum("seconds"))
        .values_list("bucket", "answered", "total")
        .order_by()
    ):
        counts[bucket] = (answered, float(seconds))
    totals.response_median_seconds = median_from_buckets(counts)
    return totals


def _network_figures(
    *,
    scope: Scope,
    in_range: Q,
    last_day: date,
    live: DayRollups | None,
) -> list[NetworkFigures]:
    """The range's figures per network (two queries, three with today read live)."""
    by_network: dict[str, NetworkFigures] = {}

    def figures_for(network: str) -> NetworkFigures:
        return by_network.setdefault(network, NetworkFigures(network=network))

    summed = ("posts_published", "engagement", "inbox_received", "inbox_answered")
    for values in (
        DailyAccountRollup.objects.filter(in_range)
        .values("channel_account__network")
        .annotate(**{name: Sum(name) for name in summed})
        .order_by()
    ):
        sums: dict[str, Any] = dict(values)
        row = figures_for(sums["channel_account__network"])
        for name in summed:
            setattr(row, name, getattr(row, name) + (sums[name] or 0))
    if live is not None:
        networks = dict(
            ChannelAccount.objects.filter(organization=scope.organization)
            .filter(scope.accounts_q("pk"))
            .values_list("pk", "network")
        )
        for rollup in live.accounts:
            row = figures_for(networks.get(rollup.channel_account_id, ""))
            for name in summed:
                setattr(row, name, getattr(row, name) + getattr(rollup, name))
            if rollup.followers is not None:
                row.followers = (row.followers or 0) + rollup.followers
    else:
        for network, followers in (
            DailyAccountRollup.objects.filter(
                Q(organization=scope.organization, day=last_day) & scope.accounts_q()
            )
            .values("channel_account__network")
            .annotate(total=Sum("followers"))
            .values_list("channel_account__network", "total")
            .order_by()
        ):
            figures_for(network).followers = followers
    return sorted(by_network.values(), key=lambda row: (-row.engagement, row.network))


def _live_day(scope: Scope, today: date) -> tuple[DayRollups, datetime]:
    """Today's rollups read from the raw tables, and when they were read.

    Kept for ``ANALYTICS_LIVE_SECONDS`` (default 60) per organization, day and set of
    accounts: a team of managers opening the dashboard and home page reads the day's
    posts and inbox once a minute, not once a view. The page says "figures as of" the
    time they were read."""
    account_ids: tuple[int, ...] | None = scope.account_ids
    if scope.account is not None:
        account_ids = (scope.account.pk,)
    seconds = int(getattr(settings, "ANALYTICS_LIVE_SECONDS", 60))
    # Metrics stored since (a pull) move the version on: they show at once.
    version = dashboard_version(scope.organization.pk)
    key = f"analytics-live-day:{scope.organization.pk}:{version}:{today.isoformat()}:{account_ids}"
    if seconds > 0:
        cached = cache.get(key)
        if isinstance(cached, tuple) and len(cached) == 2:
            return cached
    computed = (
        rollups_compute_day(organization=scope.organization, day=today, account_ids=account_ids),
        timezone.now(),
    )
    if seconds > 0:
        cache.set(key, computed, seconds)
    return computed


def _add_rollups(
    row: PeriodFigures, computed: Sequence[Any], fields: Sequence[str] = _SUMMED_FIELDS
) -> None:
    """Add unsaved rollup rows (today's, read live) to a period's figures."""
    for rollup in computed:
        for name in fields:
            if name in ("impressions", "followers_gained"):
                continue
            setattr(row, name, getattr(row, name) + getattr(rollup, name))
        for name in ("impressions", "followers_gained"):
            if name in fields or fields is _SUMMED_FIELDS:
                value = getattr(rollup, name, None)
                if value is not None:
                    setattr(row, name, (getattr(row, name) or 0) + value)


def _totals(
    rows: Sequence[PeriodFigures], start: date, end: date, followers_before: int | None
) -> PeriodFigures:
    totals = PeriodFigures(period=Period(start, start, end, ""))
    for row in rows:
        for name in (
            "posts_published",
            *ENGAGEMENT_FIELDS,
            "engagement",
            "inbox_received",
            "inbox_answered",
            "sla_measured",
            "sla_met",
        ):
            setattr(totals, name, getattr(totals, name) + getattr(row, name))
        if row.impressions is not None:
            totals.impressions = (totals.impressions or 0) + row.impressions
    known = [row.followers for row in rows if row.followers is not None]
    totals.followers = known[-1] if known else None
    if totals.followers is not None and followers_before is not None:
        totals.followers_gained = totals.followers - followers_before
    else:
        gains = [row.followers_gained for row in rows if row.followers_gained is not None]
        totals.followers_gained = sum(gains) if gains else None
    return totals


class Unindexed(models.Func):
    """A column the query planner must not use an index for. On SQLite (no statistics
    unless ANALYZE ran) a range on ``published_at`` would win over walking the
    engagement index, sorting every post of a two-year range to keep ten; SQLite's
    documented way to rule a term out of index use is a unary "+". Other databases
    plan from statistics and get the plain column."""

    template = "%(expressions)s"
    output_field = models.DateTimeField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="+%(expressions)s", **extra)


def top_posts(
    *, scope: Scope, filters: DashboardFilters, limit: int = TOP_POSTS
) -> list[TrackedPost]:
    """The posts published in the range with the most engagement so far."""
    zone = zone_of(scope.organization.time_zone)
    start = day_bounds(filters.start, zone)[0]
    end = day_bounds(filters.end, zone)[1]
    posts = (
        TrackedPost.objects.alias(published=Unindexed(F("published_at")))
        .filter(organization=scope.organization, published__gte=start, published__lt=end)
        .filter(scope.accounts_q())
    )
    if filters.campaign is not None:
        posts = posts.filter(post__campaign=filters.campaign)
    return list(
        posts.select_related("post", "channel_account", "job__variant")
        .defer("channel_account__credentials")
        .prefetch_related(
            Prefetch(
                "job__variant__media",
                queryset=VariantMedia.objects.select_related("asset")
                .prefetch_related("asset__alt_texts")
                .order_by("thread_index", "position", "pk"),
            )
        )
        .order_by("-engagement", "-published_at", "-pk")[:limit]
    )


# --- goals --------------------------------------------------------------------------------

# How each metric is judged: "level" (a count reached by the end, from a starting
# point), "sum" (added up over the period), "share" (a percentage that must stay
# at or above the target), "lower" (must stay at or below the target).
GOAL_KINDS: dict[str, str] = {
    GoalMetric.FOLLOWERS: "level",
    GoalMetric.FOLLOWERS_GAINED: "sum",
    GoalMetric.ENGAGEMENT: "sum",
    GoalMetric.IMPRESSIONS: "sum",
    GoalMetric.POSTS_PUBLISHED: "sum",
    GoalMetric.SLA_SHARE: "share",
    GoalMetric.RESPONSE_MEDIAN: "lower",
}
_GOAL_SUM_FIELDS: dict[str, str] = {
    GoalMetric.FOLLOWERS_GAINED: "followers_gained",
    GoalMetric.ENGAGEMENT: "engagement",
    GoalMetric.IMPRESSIONS: "impressions",
    GoalMetric.POSTS_PUBLISHED: "posts_published",
}


class GoalStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started yet")
    NO_DATA = "no_data", _("No figures yet")
    UNDER_WAY = "under_way", _("Under way (no starting figure to judge the pace by)")
    ON_TRACK = "on_track", _("On track")
    BEHIND = "behind", _("Behind")
    ACHIEVED = "achieved", _("Achieved")
    MISSED = "missed", _("Missed")


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    value: float | None
    percent: float | None  # of the target
    expected: float | None  # where a steady pace would be by now
    status: GoalStatus
    as_of: date

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    @property
    def is_good(self) -> bool:
        return self.status in (GoalStatus.ON_TRACK, GoalStatus.ACHIEVED)


def goals_for_membership(membership: Membership) -> QuerySet[Goal]:
    """The goals the member may see: the organization's, and those of accounts they see."""
    goals = Goal.objects.filter(organization_id=membership.organization_id)
    if not membership.all_accounts:
        visible = channel_accounts_for_membership(membership).values("pk")
        goals = goals.filter(Q(channel_account__isnull=True) | Q(channel_account__in=visible))
    return goals.select_related("channel_account").order_by("-period_end", "pk")


def goal_get_for_membership(membership: Membership, pk: int) -> Goal:
    return get_in_org(goals_for_membership(membership), membership.organization, pk=pk)


def goals_for_dashboard(*, scope: Scope, filters: DashboardFilters) -> list[Goal]:
    """Goals whose period overlaps the range: for the account shown (and the
    organization's own), or every goal in scope."""
    goals = Goal.objects.filter(
        organization=scope.organization,
        period_start__lte=filters.end,
        period_end__gte=filters.start,
    )
    if scope.account is not None:
        goals = goals.filter(Q(channel_account__isnull=True) | Q(channel_account=scope.account))
    elif scope.account_ids is not None:
        goals = goals.filter(
            Q(channel_account__isnull=True) | Q(channel_account_id__in=scope.account_ids)
        )
    return list(
        goals.select_related("channel_account").order_by("period_end", "pk")[:MAX_GOALS_SHOWN]
    )


def goal_progress(*, scope: Scope, goals: Sequence[Goal], today: date) -> list[GoalProgress]:
    """Each goal's value so far, judged against its target. Two queries at most, however
    many goals: one aggregate over the rollups with a filtered sum per goal, and one
    over the response-time bands for goals on the median response time."""
    if not goals:
        return []
    organization = scope.organization
    aggregates: dict[str, Any] = {}
    medians: dict[str, Any] = {}
    windows: dict[int, tuple[date, Q]] = {}
    first_day, last_day = None, None
    for index, goal in enumerate(goals):
        as_of = min(today, goal.period_end)
        if as_of < goal.period_start:
            continue
        accounts_q = (
            Q(channel_account_id=goal.channel_account_id)
            if goal.channel_account_id
            else Scope(organization, scope.account_ids).accounts_q()
        )
        window = Q(day__gte=goal.period_start, day__lte=as_of) & accounts_q
        windows[index] = (as_of, window)
        baseline_day = goal.period_start - timedelta(days=1)
        first_day = min(first_day or baseline_day, baseline_day)
        last_day = max(last_day or as_of, as_of)
        kind = GOAL_KINDS[goal.metric]
        if kind == "level":
            aggregates[f"end{index}"] = Sum("followers", filter=Q(day=as_of) & accounts_q)
            aggregates[f"base{index}"] = Sum("followers", filter=Q(day=baseline_day) & accounts_q)
            # Without a count the day before, the first day's count is the starting point.
            aggregates[f"first{index}"] = Sum(
                "followers", filter=Q(day=goal.period_start) & accounts_q
            )
        elif kind == "sum":
            aggregates[f"sum{index}"] = Sum(_GOAL_SUM_FIELDS[goal.metric], filter=window)
        elif kind == "share":
            aggregates[f"met{index}"] = Sum("sla_met", filter=window)
            aggregates[f"due{index}"] = Sum("sla_measured", filter=window)
        else:
            medians[f"band{index}"] = Sum("answered", filter=window)
            medians[f"secs{index}"] = Sum("seconds", filter=window)
    figures: dict[str, Any] = {}
    if aggregates:
        figures = DailyAccountRollup.objects.filter(
            organization=organization, day__gte=first_day, day__lte=last_day
        ).aggregate(**aggregates)
    bands: dict[str, dict[int, tuple[int, float]]] = defaultdict(dict)
    if medians:
        for values in (
            DailyResponseBucket.objects.filter(
                organization=organization, day__gte=first_day, day__lte=last_day
            )
            .values("bucket")
            .annotate(**medians)
            .order_by()
        ):
            band: dict[str, Any] = dict(values)
            for name in medians:
                if name.startswith("band") and band[name]:
                    seconds = band[name.replace("band", "secs")] or 0
                    bands[name][band["bucket"]] = (band[name], float(seconds))
    progress = []
    for index, goal in enumerate(goals):
        if index not in windows:
            progress.append(
                GoalProgress(goal, None, None, None, GoalStatus.NOT_STARTED, goal.period_start)
            )
            continue
        as_of, _window = windows[index]
        progress.append(_judge(goal, as_of, index, figures, bands))
    return progress


def _elapsed(goal: Goal, as_of: date) -> float:
    total = (goal.period_end - goal.period_start).days + 1
    return ((as_of - goal.period_start).days + 1) / total


def _judge(
    goal: Goal,
    as_of: date,
    index: int,
    figures: dict[str, Any],
    bands: dict[str, dict[int, tuple[int, float]]],
) -> GoalProgress:
    kind = GOAL_KINDS[goal.metric]
    target = float(goal.target)
    ended = as_of >= goal.period_end
    value: float | None
    baseline: float | None = None
    if kind == "level":
        value = figures.get(f"end{index}")
        baseline = figures.get(f"base{index}")
        if baseline is None:
            baseline = figures.get(f"first{index}")
    elif kind == "sum":
        value = figures.get(f"sum{index}")
    elif kind == "share":
        due = figures.get(f"due{index}")
        value = round(100 * (figures.get(f"met{index}") or 0) / due, 1) if due else None
    else:
        seconds = median_from_buckets(bands.get(f"band{index}", {}))
        value = round(seconds / 60, 1) if seconds is not None else None
    if value is None:
        return GoalProgress(goal, None, None, None, GoalStatus.NO_DATA, as_of)
    percent = round(100 * value / target, 1) if target else None
    expected: float | None = None
    if kind in ("share", "lower"):
        good = value >= target if kind == "share" else value <= target
        if ended:
            status = GoalStatus.ACHIEVED if good else GoalStatus.MISSED
        else:
            status = GoalStatus.ON_TRACK if good else GoalStatus.BEHIND
        return GoalProgress(goal, value, percent, None, status, as_of)
    if value >= target:
        return GoalProgress(goal, value, percent, None, GoalStatus.ACHIEVED, as_of)
    if ended:
        return GoalProgress(goal, value, percent, None, GoalStatus.MISSED, as_of)
    if kind == "sum":
        expected = target * _elapsed(goal, as_of)
    elif baseline is not None:
        expected = baseline + (target - baseline) * _elapsed(goal, as_of)
    else:
        return GoalProgress(goal, value, percent, None, GoalStatus.UNDER_WAY, as_of)
    status = GoalStatus.ON_TRACK if value >= expected else GoalStatus.BEHIND
    return GoalProgress(goal, value, percent, round(expected, 1), status, as_of)


def goal_target_number(goal: Goal) -> Decimal:
    """The target without trailing zeros (a count reads 2000, not 2000.00)."""
    normalized = goal.target.normalize()
    return normalized.quantize(Decimal(1)) if normalized == normalized.to_integral() else normalized


# --- scheduled reports ------------------------------------------------------------------


def scheduled_reports_for_membership(membership: Membership) -> QuerySet[ScheduledReport]:
    reports = ScheduledReport.objects.filter(organization_id=membership.organization_id)
    if not membership.all_accounts:
        visible = channel_accounts_for_membership(membership).values("pk")
        reports = reports.filter(channel_account__in=visible)
    return reports.select_related("channel_account", "campaign", "created_by").order_by(
        "name", "pk"
    )


def scheduled_report_get_for_membership(membership: Membership, pk: int) -> ScheduledReport:
    return get_in_org(scheduled_reports_for_membership(membership), membership.organization, pk=pk)


def scheduled_reports_due(*, now: datetime | None = None) -> QuerySet[ScheduledReport]:
    now = now or timezone.now()
    return (
        ScheduledReport.objects.filter(is_active=True, next_send_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_send_at", "pk")
    )


# --- metric pulls (tasks) ----------------------------------------------------------------


def channel_accounts_due_for_metrics(
    *, networks: Iterable[str], now: datetime | None = None
) -> QuerySet[ChannelAccount]:
    """Active accounts on a network with metrics that have something due (their own
    numbers, or a post) and that the network has not told us to leave alone for now."""
    now = now or timezone.now()
    posts_due = Exists(
        TrackedPost.objects.filter(
            channel_account=OuterRef("pk"), next_pull_at__isnull=False, next_pull_at__lte=now
        )
    )
    state = MetricsPullState.objects.filter(channel_account=OuterRef("pk"))
    held = Exists(state.filter(Q(not_before__gt=now) | Q(leased_until__gte=now)))
    account_due = ~Exists(state) | Exists(
        state.filter(Q(next_account_pull_at__isnull=True) | Q(next_account_pull_at__lte=now))
    )
    return (
        ChannelAccount.objects.filter(status=AccountStatus.ACTIVE, network__in=list(networks))
        .filter(posts_due | account_due)
        .exclude(held)
        .order_by("pk")
    )
