"""Daily rollups against the raw snapshots: every day's followers and gains must be
what the snapshots say, for random histories over several days and accounts; a
rebuild gives the same rows; days are the organization's calendar days."""

from __future__ import annotations

import random
import zoneinfo
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from analytics.models import (
    AccountMetricSnapshot,
    DailyAccountRollup,
    DailyCampaignRollup,
    DailyResponseBucket,
    PostMetricSnapshot,
    TrackedPost,
)
from analytics.schedule import bucket_bounds, day_bounds, exact_median, median_from_buckets
from analytics.services.rollups import rollups_rebuild, rollups_rebuild_day, rollups_rebuild_recent
from analytics.tests.helpers import followers, inbox_item, local_noon, post_snapshot, tracked
from inbox.models import ItemStatus
from publishing.models import Campaign
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
FIRST_DAY = date(2030, 3, 25)  # the clocks go forward on the 31st: a 23-hour day
DAYS = 8
FIELDS = ("likes", "shares", "replies", "quotes", "impressions")


def moment(rng: random.Random, day: date) -> datetime:
    start, end = day_bounds(day, HELSINKI)
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def value_at(snapshots, post, when, field):
    """What the raw snapshots say a post's number was at ``when`` (0 before any)."""
    earlier = [s for s in snapshots if s.tracked_post_id == post.pk and s.taken_at < when]
    if not earlier:
        return 0 if field != "impressions" else None
    latest = max(earlier, key=lambda s: (s.taken_at, s.pk))
    return getattr(latest, field)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_rollups_match_the_raw_snapshots(personas, seed):
    rng = random.Random(seed)
    org = personas.org
    spring = Campaign.objects.create(organization=org, name="Spring cleaning")
    accounts = [personas.bob_account, personas.other_account]
    accounts.append(ChannelAccountFactory.create(organization=org, handle="city-library"))
    posts = []
    for account in accounts:
        count = 100 + rng.randrange(900)
        for day in [FIRST_DAY + timedelta(days=n) for n in range(DAYS)]:
            if rng.random() < 0.7:
                count += rng.randrange(-5, 40)
                followers(account, moment(rng, day), count)
        for _number in range(rng.randrange(2, 6)):
            day = FIRST_DAY + timedelta(days=rng.randrange(DAYS - 1))
            post = tracked(
                account,
                at=moment(rng, day),
                campaign=spring if rng.random() < 0.5 else None,
            )
            posts.append(post)
            values = dict.fromkeys(FIELDS, 0)
            taken = post.published_at
            for _pull in range(rng.randrange(1, 9)):
                taken += timedelta(hours=rng.randrange(1, 40))
                for field in FIELDS:
                    values[field] += rng.randrange(0, 12) - (1 if field == "likes" else 0)
                    values[field] = max(values[field], 0)
                impressions = values["impressions"] if account.pk != accounts[0].pk else None
                post_snapshot(
                    post,
                    taken,
                    values["likes"],
                    values["shares"],
                    values["replies"],
                    values["quotes"],
                    impressions,
                )
    last_day = FIRST_DAY + timedelta(days=DAYS + 4)
    rebuild_now = datetime(2030, 4, 20, 12, tzinfo=HELSINKI)

    result = rollups_rebuild(organization=org, since=FIRST_DAY, until=last_day, now=rebuild_now)

    assert result.days == (last_day - FIRST_DAY).days + 1
    snapshots = list(PostMetricSnapshot.objects.all())
    follower_snaps = list(AccountMetricSnapshot.objects.all())
    rows = {(r.channel_account_id, r.day): r for r in DailyAccountRollup.objects.all()}
    campaign_rows = {
        (r.channel_account_id, r.day): r
        for r in DailyCampaignRollup.objects.filter(campaign=spring)
    }
    for account in accounts:
        for offset in range((last_day - FIRST_DAY).days + 1):
            day = FIRST_DAY + timedelta(days=offset)
            start, end = day_bounds(day, HELSINKI)
            row = rows.get((account.pk, day))
            earlier = [
                s for s in follower_snaps if s.channel_account_id == account.pk and s.taken_at < end
            ]
            expected_followers = (
                max(earlier, key=lambda s: s.taken_at).followers if earlier else None
            )
            own_posts = [p for p in posts if p.channel_account_id == account.pk]
            expected = {}
            for field in FIELDS:
                gains = [
                    (value_at(snapshots, p, end, field) or 0)
                    - (value_at(snapshots, p, start, field) or 0)
                    for p in own_posts
                ]
                expected[field] = sum(gains)
            published_today = sum(1 for p in own_posts if start <= p.published_at < end)
            if row is None:
                assert expected_followers is None
                assert not any(expected.values()) and not published_today
                continue
            assert row.followers == expected_followers, (account, day)
            assert row.posts_published == published_today
            for field in ("likes", "shares", "replies", "quotes"):
                assert getattr(row, field) == expected[field], (field, account, day)
            assert (row.impressions or 0) == expected["impressions"]
            assert row.engagement == row.likes + row.shares + row.replies + row.quotes
            in_campaign = [p for p in own_posts if p.post.campaign_id == spring.pk]
            campaign_likes = sum(
                value_at(snapshots, p, end, "likes") - value_at(snapshots, p, start, "likes")
                for p in in_campaign
            )
            campaign_row = campaign_rows.get((account.pk, day))
            assert (campaign_row.likes if campaign_row else 0) == campaign_likes
        # Over the whole range, the gains add up to the posts' latest numbers.
        own = TrackedPost.objects.filter(channel_account=account)
        final_likes = sum(
            value_at(snapshots, p, datetime(2031, 1, 1, tzinfo=HELSINKI), "likes") for p in own
        )
        assert sum(r.likes for (a, _d), r in rows.items() if a == account.pk) == final_likes


def test_a_rebuild_gives_the_same_rows(personas):
    account = personas.bob_account
    day = date(2030, 5, 6)
    post = tracked(account, at=local_noon(day))
    post_snapshot(post, local_noon(day) + timedelta(hours=2), likes=4, replies=1)
    followers(account, local_noon(day), 250)
    inbox_item(
        account,
        posted_at=local_noon(day),
        answered_at=local_noon(day) + timedelta(minutes=42),
        due_at=local_noon(day) + timedelta(hours=3),
    )
    now = local_noon(day + timedelta(days=2))

    rollups_rebuild_day(organization=personas.org, day=day, now=now)
    first = list(DailyAccountRollup.objects.values())
    rollups_rebuild_day(organization=personas.org, day=day, now=now)
    second = list(DailyAccountRollup.objects.values())

    assert len(first) == 1
    assert [{k: v for k, v in r.items() if k not in ("id",)} for r in first] == [
        {k: v for k, v in r.items() if k not in ("id",)} for r in second
    ]
    assert DailyResponseBucket.objects.count() == 1


def test_days_are_the_organizations_calendar_days(personas):
    account = personas.bob_account
    day = date(2030, 6, 3)
    post = tracked(account, at=local_noon(day))
    # 23:30 in Helsinki is 20:30 UTC the same day; 00:30 the next day is 21:30 UTC.
    late_evening = datetime(2030, 6, 3, 23, 30, tzinfo=HELSINKI)
    after_midnight = datetime(2030, 6, 4, 0, 30, tzinfo=HELSINKI)
    post_snapshot(post, late_evening, likes=3)
    post_snapshot(post, after_midnight, likes=5)

    rollups_rebuild(
        organization=personas.org,
        since=day,
        until=day + timedelta(days=1),
        now=datetime(2030, 6, 10, tzinfo=HELSINKI),
    )

    rows = {r.day: r.likes for r in DailyAccountRollup.objects.filter(channel_account=account)}
    assert rows == {day: 3, day + timedelta(days=1): 2}


def test_inbox_figures_count_what_was_received_answered_and_due(personas):
    account = personas.bob_account
    day = date(2030, 9, 10)
    noon = local_noon(day)
    minutes = [12, 30, 95, 400]
    for number, answered_after in enumerate(minutes):
        inbox_item(
            account,
            posted_at=noon - timedelta(hours=1),
            answered_at=noon + timedelta(minutes=answered_after - 60),
            due_at=noon + timedelta(hours=1),
        )
        del number
    # Due that day and never answered: a miss.
    inbox_item(account, posted_at=noon - timedelta(hours=5), due_at=noon + timedelta(hours=2))
    # Closed before it was due, without needing an answer: not counted against the SLA.
    inbox_item(
        account,
        posted_at=noon - timedelta(hours=5),
        due_at=noon + timedelta(hours=2),
        status=ItemStatus.CLOSED,
        closed_at=noon,
    )
    # Written the day before, due later: received then, not measured now.
    inbox_item(account, posted_at=noon - timedelta(days=1), due_at=noon + timedelta(days=3))

    rollups_rebuild_day(organization=personas.org, day=day, now=noon + timedelta(days=1))

    row = DailyAccountRollup.objects.get(channel_account=account, day=day)
    assert (row.inbox_received, row.inbox_answered) == (6, 4)
    median = exact_median([m * 60.0 for m in minutes])
    assert median is not None and row.response_median_seconds == round(median)
    # 12, 30 and 95 minutes came before the due time (60 minutes after posting + 1 h);
    # 400 minutes did not; the unanswered one missed.
    assert (row.sla_measured, row.sla_met) == (5, 3)
    bands = {
        b.bucket: (b.answered, float(b.seconds))
        for b in DailyResponseBucket.objects.filter(channel_account=account, day=day)
    }
    assert sum(count for count, _seconds in bands.values()) == 4
    estimate = median_from_buckets(bands)
    assert estimate is not None
    low = min(bucket_bounds(index)[0] for index in bands)
    assert low <= estimate and abs(estimate - row.response_median_seconds) <= 0.6 * 3600


def test_answers_not_yet_due_are_not_measured(personas):
    account = personas.bob_account
    day = date(2030, 9, 11)
    noon = local_noon(day)
    inbox_item(account, posted_at=noon - timedelta(hours=1), due_at=noon + timedelta(hours=4))

    rollups_rebuild_day(organization=personas.org, day=day, now=noon)

    assert DailyAccountRollup.objects.get(day=day).sla_measured == 0


def test_the_command_rebuilds_the_days_asked_for(personas):
    account = personas.bob_account
    day = timezone.now().astimezone(HELSINKI).date() - timedelta(days=20)
    followers(account, local_noon(day), 77)
    out = StringIO()

    call_command(
        "rebuild_rollups",
        "--since",
        (day - timedelta(days=1)).isoformat(),
        "--until",
        (day + timedelta(days=1)).isoformat(),
        "--organization",
        "example",
        stdout=out,
    )

    assert "example: 3 days rebuilt, 2 account rows" in out.getvalue()
    assert list(DailyAccountRollup.objects.order_by("day").values_list("day", "followers")) == [
        (day, 77),
        (day + timedelta(days=1), 77),
    ]


def test_the_periodic_rebuild_catches_up_from_the_last_day_built(personas):
    account = personas.bob_account
    now = timezone.now()
    today = now.astimezone(HELSINKI).date()
    followers(account, now - timedelta(days=10), 500)
    rollups_rebuild_day(organization=personas.org, day=today - timedelta(days=6), now=now)

    result = rollups_rebuild_recent(organization=personas.org, now=now)

    assert result.days == 7  # from the last day built to today
    assert DailyAccountRollup.objects.filter(channel_account=account).count() == 7
