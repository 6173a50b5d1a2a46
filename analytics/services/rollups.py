"""Daily rollups, rebuilt from the raw tables one organization-day at a time.

A day is the organization's calendar day (its time zone). Rebuilding a day
deletes that day's rollup rows and writes them again from the snapshots, the
tracked posts and the inbox, in one transaction: running it twice gives the
same rows, and a dashboard never sees a half-built day.

What a day holds, per account:

- followers at the end of the day (the latest snapshot before midnight; carried
  over days without a pull) and the change since the day before;
- posts published that day;
- likes, shares, replies, quotes and impressions *gained*: for each post with a
  snapshot that day, its last value of the day less its last value before the
  day (zero before its first snapshot), summed; per campaign as well;
- inbox items written that day, items first answered that day with the
  exact median response time and the count per response-time band, and items
  whose answer was due that day (by then) with how many were answered in time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import ChannelAccount
from analytics.dashboard_cache import dashboards_changed
from analytics.models import (
    AccountMetricSnapshot,
    DailyAccountRollup,
    DailyCampaignRollup,
    DailyResponseBucket,
    PostMetricSnapshot,
    TrackedPost,
)
from analytics.schedule import (
    day_bounds,
    days,
    exact_median,
    local_day,
    response_bucket,
    zone_of,
)
from governance.models import Organization
from inbox.models import InboxItem, ItemStatus

# The periodic rebuild catches up at most this far back (older days: the command).
MAX_CATCH_UP_DAYS = 31
CHUNK = 500


@dataclass
class _Engagement:
    posts_published: int = 0
    likes: int = 0
    shares: int = 0
    replies: int = 0
    quotes: int = 0
    impressions: int | None = None

    def add(self, delta: tuple[int, int, int, int, int | None]) -> None:
        self.likes += delta[0]
        self.shares += delta[1]
        self.replies += delta[2]
        self.quotes += delta[3]
        if delta[4] is not None:
            self.impressions = (self.impressions or 0) + delta[4]

    @property
    def engagement(self) -> int:
        return self.likes + self.shares + self.replies + self.quotes

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass
class _Inbox:
    received: int = 0
    response_seconds: list[float] = field(default_factory=list)
    sla_measured: int = 0
    sla_met: int = 0


@dataclass(frozen=True)
class RebuildResult:
    days: int
    account_rows: int


def _latest_followers(before: datetime) -> Subquery:
    return Subquery(
        AccountMetricSnapshot.objects.filter(
            channel_account=OuterRef("pk"), taken_at__lt=before, followers__isnull=False
        )
        .order_by("-taken_at", "-pk")
        .values("followers")[:1]
    )


def _followers(
    organization: Organization, start: datetime, end: datetime, accounts: Q
) -> dict[int, tuple[int | None, int | None]]:
    """Each account's followers at the end of the day and at its start."""
    rows = (
        ChannelAccount.objects.filter(organization=organization)
        .filter(accounts)
        .annotate(at_end=_latest_followers(end), at_start=_latest_followers(start))
        .values_list("pk", "at_end", "at_start")
    )
    return {pk: (at_end, at_start) for pk, at_end, at_start in rows}


Values = tuple[int, int, int, int, int | None]


def _engagement(
    organization: Organization, start: datetime, end: datetime, accounts: Q
) -> tuple[dict[int, _Engagement], dict[tuple[int, int], _Engagement]]:
    """What each account's posts gained during the day, and each (account, campaign)."""
    by_account: dict[int, _Engagement] = defaultdict(_Engagement)
    by_campaign: dict[tuple[int, int], _Engagement] = defaultdict(_Engagement)
    for account_id, campaign_id, count in (
        TrackedPost.objects.filter(
            accounts, organization=organization, published_at__gte=start, published_at__lt=end
        )
        .values("channel_account_id", "post__campaign_id")
        .annotate(n=Count("pk"))
        .values_list("channel_account_id", "post__campaign_id", "n")
    ):
        by_account[account_id].posts_published += count
        if campaign_id is not None:
            by_campaign[(account_id, campaign_id)].posts_published += count

    last_of_day: dict[int, Values] = {}
    for post_id, *values in (
        PostMetricSnapshot.objects.filter(
            accounts,
            channel_account__organization=organization,
            taken_at__gte=start,
            taken_at__lt=end,
        )
        .order_by("tracked_post_id", "taken_at", "pk")
        .values_list("tracked_post_id", "likes", "shares", "replies", "quotes", "impressions")
    ):
        last_of_day[post_id] = tuple(values)  # type: ignore[assignment]
    post_ids = sorted(last_of_day)
    for offset in range(0, len(post_ids), CHUNK):
        chunk = post_ids[offset : offset + CHUNK]
        earlier = (
            PostMetricSnapshot.objects.filter(tracked_post=OuterRef("pk"), taken_at__lt=start)
            .order_by("-taken_at", "-pk")
            .values("pk")[:1]
        )
        posts = list(
            TrackedPost.objects.filter(pk__in=chunk)
            .annotate(before_id=Subquery(earlier))
            .values_list("pk", "channel_account_id", "post__campaign_id", "before_id")
        )
        before: dict[int, Values] = {
            pk: tuple(values)  # type: ignore[misc]
            for pk, *values in PostMetricSnapshot.objects.filter(
                pk__in=[row[3] for row in posts if row[3] is not None]
            ).values_list("pk", "likes", "shares", "replies", "quotes", "impressions")
        }
        for post_id, account_id, campaign_id, before_id in posts:
            delta = _delta(last_of_day[post_id], before.get(before_id) if before_id else None)
            by_account[account_id].add(delta)
            if campaign_id is not None:
                by_campaign[(account_id, campaign_id)].add(delta)
    return by_account, by_campaign


def _delta(last: Values, before: Values | None) -> Values:
    base = before or (0, 0, 0, 0, None)
    impressions: int | None = None
    if last[4] is not None:
        impressions = last[4] - (base[4] or 0)
    return (last[0] - base[0], last[1] - base[1], last[2] - base[2], last[3] - base[3], impressions)


def _inbox(
    organization: Organization, start: datetime, end: datetime, now: datetime, accounts: Q
) -> dict[int, _Inbox]:
    by_account: dict[int, _Inbox] = defaultdict(_Inbox)
    items = InboxItem.objects.filter(accounts, organization=organization)
    for account_id, count in (
        items.filter(posted_at__gte=start, posted_at__lt=end)
        .values("channel_account_id")
        .annotate(n=Count("pk"))
        .values_list("channel_account_id", "n")
    ):
        by_account[account_id].received = count
    for account_id, posted_at, answered_at in items.filter(
        first_response_at__gte=start, first_response_at__lt=end
    ).values_list("channel_account_id", "posted_at", "first_response_at"):
        assert answered_at is not None  # the filter says so
        seconds = max((answered_at - posted_at).total_seconds(), 0.0)
        by_account[account_id].response_seconds.append(seconds)
    # Items whose answer was due this day (and is due by now), less those closed
    # before they were due without needing an answer.
    due = (
        items.filter(sla_due_at__gte=start, sla_due_at__lt=min(end, now))
        .exclude(
            status=ItemStatus.CLOSED,
            first_response_at__isnull=True,
            closed_at__lte=F("sla_due_at"),
        )
        .values("channel_account_id")
        .annotate(
            measured=Count("pk"),
            met=Count("pk", filter=Q(first_response_at__lte=F("sla_due_at"))),
        )
        .values_list("channel_account_id", "measured", "met")
    )
    for account_id, measured, met in due:
        by_account[account_id].sla_measured = measured
        by_account[account_id].sla_met = met
    return by_account


@dataclass
class DayRollups:
    """One organization-day's rollup rows, computed and not (yet) saved."""

    accounts: list[DailyAccountRollup]
    campaigns: list[DailyCampaignRollup]
    buckets: list[DailyResponseBucket]


def rollups_compute_day(
    *,
    organization: Organization,
    day: date,
    now: datetime | None = None,
    account_ids: tuple[int, ...] | None = None,
) -> DayRollups:
    """The rollup rows of one organization-day, read from the raw tables and not saved:
    what a rebuild writes, and what the dashboard shows for today (whose rows are
    otherwise only as fresh as the last hourly rebuild). ``account_ids`` limits the
    work to those accounts. A fixed number of queries (two more per 500 posts with a
    snapshot that day)."""
    now = now or timezone.now()
    zone = zone_of(organization.time_zone)
    start, end = day_bounds(day, zone)
    accounts = Q() if account_ids is None else Q(channel_account_id__in=account_ids)
    followers = _followers(
        organization, start, end, Q() if account_ids is None else Q(pk__in=account_ids)
    )
    engagement, campaigns = _engagement(organization, start, end, accounts)
    inbox = _inbox(organization, start, end, now, accounts)

    rows: list[DailyAccountRollup] = []
    buckets: list[DailyResponseBucket] = []
    for account_id in sorted(followers):
        at_end, at_start = followers[account_id]
        posts = engagement.get(account_id, _Engagement())
        answers = inbox.get(account_id, _Inbox())
        if (
            at_end is None
            and posts.is_empty()
            and not (answers.received or answers.response_seconds or answers.sla_measured)
        ):
            continue
        median = exact_median(answers.response_seconds)
        rows.append(
            DailyAccountRollup(
                organization=organization,
                channel_account_id=account_id,
                day=day,
                followers=at_end,
                followers_gained=(
                    at_end - at_start if at_end is not None and at_start is not None else None
                ),
                posts_published=posts.posts_published,
                likes=posts.likes,
                shares=posts.shares,
                replies=posts.replies,
                quotes=posts.quotes,
                impressions=posts.impressions,
                engagement=posts.engagement,
                inbox_received=answers.received,
                inbox_answered=len(answers.response_seconds),
                response_median_seconds=round(median) if median is not None else None,
                sla_measured=answers.sla_measured,
                sla_met=answers.sla_met,
                built_at=now,
            )
        )
        counts: dict[int, int] = defaultdict(int)
        totals: dict[int, float] = defaultdict(float)
        for seconds in answers.response_seconds:
            counts[response_bucket(seconds)] += 1
            totals[response_bucket(seconds)] += seconds
        buckets.extend(
            DailyResponseBucket(
                organization=organization,
                channel_account_id=account_id,
                day=day,
                bucket=bucket,
                answered=count,
                seconds=round(totals[bucket]),
            )
            for bucket, count in sorted(counts.items())
        )
    campaign_rows = [
        DailyCampaignRollup(
            organization=organization,
            channel_account_id=account_id,
            campaign_id=campaign_id,
            day=day,
            posts_published=values.posts_published,
            likes=values.likes,
            shares=values.shares,
            replies=values.replies,
            quotes=values.quotes,
            impressions=values.impressions,
            engagement=values.engagement,
        )
        for (account_id, campaign_id), values in sorted(campaigns.items())
        if not values.is_empty()
    ]
    return DayRollups(accounts=rows, campaigns=campaign_rows, buckets=buckets)


def rollups_rebuild_day(
    *, organization: Organization, day: date, now: datetime | None = None
) -> int:
    """Rebuild one organization-day's rollups from the raw tables; returns the number of
    account rows written. Idempotent: the day's rows are replaced in one transaction."""
    computed = rollups_compute_day(organization=organization, day=day, now=now)
    rows, campaign_rows, buckets = computed.accounts, computed.campaigns, computed.buckets
    with transaction.atomic():
        # Two rebuilds of the same day (the hourly task and the command, say) take turns
        # here, so the second replaces the first's rows instead of colliding with them.
        list(
            Organization.objects.select_for_update(no_key=True)
            .filter(pk=organization.pk)
            .values("pk")
        )
        DailyAccountRollup.objects.filter(organization=organization, day=day).delete()
        DailyCampaignRollup.objects.filter(organization=organization, day=day).delete()
        DailyResponseBucket.objects.filter(organization=organization, day=day).delete()
        DailyAccountRollup.objects.bulk_create(rows, batch_size=CHUNK)
        DailyCampaignRollup.objects.bulk_create(campaign_rows, batch_size=CHUNK)
        DailyResponseBucket.objects.bulk_create(buckets, batch_size=CHUNK)
        dashboards_changed(organization.pk)
    return len(rows)


def rollups_rebuild(
    *,
    organization: Organization,
    since: date,
    until: date | None = None,
    now: datetime | None = None,
) -> RebuildResult:
    """Rebuild every day from ``since`` to ``until`` (default: today), both included.
    Days after today are left alone: they have nothing yet."""
    now = now or timezone.now()
    today = local_day(now, zone_of(organization.time_zone))
    last = min(until or today, today)
    rows = 0
    todo = days(since, last) if since <= last else []
    for day in todo:
        rows += rollups_rebuild_day(organization=organization, day=day, now=now)
    return RebuildResult(days=len(todo), account_rows=rows)


def rollups_rebuild_recent(
    *, organization: Organization, now: datetime | None = None
) -> RebuildResult:
    """The periodic rebuild: today, yesterday (late inbox items, answers due then), and
    any day since the last one built, at most ``MAX_CATCH_UP_DAYS`` back."""
    now = now or timezone.now()
    today = local_day(now, zone_of(organization.time_zone))
    earliest = today - timedelta(days=MAX_CATCH_UP_DAYS)
    yesterday = today - timedelta(days=1)
    last_built = DailyAccountRollup.objects.filter(organization=organization).aggregate(
        last=Max("day")
    )["last"]
    since = max(earliest, min(last_built, yesterday)) if last_built else earliest
    return rollups_rebuild(organization=organization, since=since, until=today, now=now)
