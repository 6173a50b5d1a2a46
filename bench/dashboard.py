"""Analytics dashboard: server time and query count over two years of history.

Fills a throwaway database (on the configured engine) with BENCH_DASHBOARD_ACCOUNTS
accounts (default 100) with a follower snapshot a day for two years,
BENCH_DASHBOARD_POSTS published posts (default 100,000) with their metric snapshots,
and an inbox answered every day; builds the daily rollups through the rollup
service (timed per day); then times BENCH_DASHBOARD_REQUESTS requests (default 60)
of the dashboard page through Django's test client, logged in as an admin with a
verified second factor, cycling through the last 30 days, the last year, the last
two years and one account over the last 90 days. The figure is the whole server
side of the request. Runs with DEBUG off, as production does.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from bench import Figure, django_setup, throwaway_database

DEFAULT_ACCOUNTS = 100
DEFAULT_POSTS = 100_000
DEFAULT_REQUESTS = 60
DAYS = 730
INBOX_ITEMS_PER_DAY = 40
BATCH = 5_000
TARGET_P95_MS = 300.0


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


@dataclass
class Seeded:
    organization: Any
    user: Any
    device: Any
    accounts: list[Any]
    today: date
    first_day: date
    seed_seconds: float
    rebuild_seconds: float


def seed(accounts_wanted: int, posts_wanted: int) -> Seeded:
    """Fill the current database with the history; build its rollups through the service."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.utils import timezone

    from accounts.models import ChannelAccount
    from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, TrackedPost
    from analytics.services.rollups import rollups_rebuild
    from governance.models import Membership, Organization, Role, TOTPDevice, User
    from inbox.models import InboxItem, ItemKind, ItemStatus
    from publishing.models import JobStatus, Post, PostStatus, PublishJob, Variant

    rng = random.Random(2030)
    zone = ZoneInfo("Europe/Helsinki")
    organization = Organization.objects.create(
        name="Bench Municipality", slug="bench", time_zone="Europe/Helsinki"
    )
    user = User.objects.create_user("bench@bench.example", None, full_name="Bench Admin")
    Membership.objects.create(organization=organization, user=user, role=Role.ADMIN)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    accounts = ChannelAccount.objects.bulk_create(
        ChannelAccount(organization=organization, network="sandbox", handle=f"bench-{n}")
        for n in range(accounts_wanted)
    )
    now = timezone.now()
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=DAYS - 1)

    def noon(day_offset: int, hour: int = 12) -> datetime:
        day = first_day + timedelta(days=day_offset)
        return datetime(day.year, day.month, day.day, hour, tzinfo=zone)

    started = time.perf_counter()
    snapshots = []
    for account in accounts:
        followers = rng.randrange(500, 20_000)
        for offset in range(DAYS):
            followers += rng.randrange(-3, 25)
            snapshots.append(
                AccountMetricSnapshot(
                    channel_account=account,
                    taken_at=noon(offset, rng.randrange(0, 24)),
                    followers=followers,
                    following=100,
                    posts=offset,
                )
            )
    AccountMetricSnapshot.objects.bulk_create(snapshots, batch_size=BATCH)

    for start in range(0, posts_wanted, BATCH):
        count = min(BATCH, posts_wanted - start)
        plan = [
            (
                accounts[(start + n) % len(accounts)],
                noon(rng.randrange(DAYS), rng.randrange(7, 20)).replace(minute=rng.randrange(60)),
            )
            for n in range(count)
        ]
        posts = Post.objects.bulk_create(
            Post(
                organization=organization,
                title=f"Notice {start + n}",
                status=PostStatus.PUBLISHED,
                created_by=user,
                scheduled_at=at,
                published_at=at,
            )
            for n, (_account, at) in enumerate(plan)
        )
        variants = Variant.objects.bulk_create(
            Variant(post=post, channel_account=account, language="fi", text=post.title)
            for post, (account, _at) in zip(posts, plan, strict=True)
        )
        jobs = PublishJob.objects.bulk_create(
            PublishJob(
                organization=organization,
                post=post,
                variant=variant,
                channel_account=account,
                due_at=at,
                next_attempt_at=at,
                status=JobStatus.PUBLISHED,
                remote_id=f"sbx_bench_{post.pk}",
                remote_url=f"https://sandbox.invalid/{post.pk}",
                published_at=at,
            )
            for post, variant, (account, at) in zip(posts, variants, plan, strict=True)
        )
        numbers = [
            (
                rng.randrange(0, 300),
                rng.randrange(0, 60),
                rng.randrange(0, 40),
                rng.randrange(0, 8),
            )
            for _job in jobs
        ]
        tracked = TrackedPost.objects.bulk_create(
            TrackedPost(
                job=job,
                organization=organization,
                channel_account=account,
                post=post,
                remote_id=job.remote_id,
                remote_url=job.remote_url,
                published_at=at,
                next_pull_at=at + timedelta(days=7 * rng.randrange(1, 100)),
                last_pulled_at=at + timedelta(days=3),
                pulls=40,
                likes=likes,
                shares=shares,
                replies=replies,
                quotes=quotes,
                engagement=likes + shares + replies + quotes,
            )
            for job, post, (account, at), (likes, shares, replies, quotes) in zip(
                jobs, posts, plan, numbers, strict=True
            )
        )
        PostMetricSnapshot.objects.bulk_create(
            snapshot
            for post, (likes, shares, replies, quotes) in zip(tracked, numbers, strict=True)
            for snapshot in (
                PostMetricSnapshot(
                    tracked_post=post,
                    channel_account_id=post.channel_account_id,
                    taken_at=post.published_at + timedelta(hours=1),
                    likes=likes // 2,
                    shares=shares // 2,
                    replies=replies // 2,
                    quotes=quotes // 2,
                ),
                PostMetricSnapshot(
                    tracked_post=post,
                    channel_account_id=post.channel_account_id,
                    taken_at=post.published_at + timedelta(days=3),
                    likes=likes,
                    shares=shares,
                    replies=replies,
                    quotes=quotes,
                ),
            )
        )

    items = []
    for offset in range(DAYS):
        for number in range(INBOX_ITEMS_PER_DAY):
            posted = noon(offset, rng.randrange(0, 24))
            answered = posted + timedelta(minutes=rng.randrange(2, 900))
            items.append(
                InboxItem(
                    organization=organization,
                    channel_account=accounts[rng.randrange(len(accounts))],
                    network="sandbox",
                    remote_id=f"bench-item-{offset}-{number}",
                    kind=ItemKind.REPLY,
                    author_handle="aino.virtanen",
                    text="Milloin kirjasto aukeaa?",
                    posted_at=posted,
                    received_at=posted,
                    thread_key=f"bench-thread-{offset}-{number}",
                    status=ItemStatus.ANSWERED,
                    first_response_at=answered,
                    sla_due_at=posted + timedelta(hours=8),
                )
            )
    InboxItem.objects.bulk_create(items, batch_size=BATCH)
    seed_seconds = time.perf_counter() - started

    started = time.perf_counter()
    rollups_rebuild(organization=organization, since=first_day, until=today, now=now)
    rebuild_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # Autovacuum analyses tables of this size soon after they fill; a bulk load timed
        # right away would beat it and leave the planner guessing from empty statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    return Seeded(
        organization=organization,
        user=user,
        device=device,
        accounts=accounts,
        today=today,
        first_day=first_day,
        seed_seconds=seed_seconds,
        rebuild_seconds=rebuild_seconds,
    )


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()

    accounts_wanted = int(os.environ.get("BENCH_DASHBOARD_ACCOUNTS", DEFAULT_ACCOUNTS))
    posts_wanted = int(os.environ.get("BENCH_DASHBOARD_POSTS", DEFAULT_POSTS))
    requests = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", DEFAULT_REQUESTS))

    with throwaway_database():
        seeded = seed(accounts_wanted, posts_wanted)
        timings, counts = measure(seeded, requests)
    return [
        ("dashboard_accounts", float(accounts_wanted), "accounts"),
        ("dashboard_posts", float(posts_wanted), "posts"),
        ("dashboard_days", float(DAYS), "days"),
        ("dashboard_p95_ms", _p95(timings), "ms"),
        ("dashboard_median_ms", statistics.median(timings), "ms"),
        ("dashboard_queries", float(counts[0]), "queries"),
        ("dashboard_target_ms", TARGET_P95_MS, "ms"),
        ("dashboard_rollup_rebuild_day_ms", seeded.rebuild_seconds * 1000 / DAYS, "ms"),
        ("dashboard_seed_s", seeded.seed_seconds, "s"),
    ]


def measure(seeded: Seeded, requests: int) -> tuple[list[float], list[int]]:
    """Time the dashboard over the ranges a manager looks at; count each one's queries."""
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    today, first_day, accounts = seeded.today, seeded.first_day, seeded.accounts
    client = Client()
    client.force_login(seeded.user)
    session = client.session
    session["otp_device_id"] = seeded.device.persistent_id
    session.save()
    paths = [
        "/analytics/",
        f"/analytics/?start={(today - timedelta(days=364)).isoformat()}",
        f"/analytics/?start={first_day.isoformat()}",
        f"/analytics/?start={(today - timedelta(days=89)).isoformat()}&account={accounts[7].pk}",
    ]
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    page = client.get(paths[2]).content.decode()
    if "Notice" not in page or "Follower growth" not in page:
        raise RuntimeError("the two-year dashboard shows no posts or no charts")

    timings = []
    for number in range(requests):
        path = paths[number % len(paths)]
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    counts = []
    for path in paths:
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        counts.append(len(queries.captured_queries))
    if len(set(counts)) != 1:
        raise RuntimeError(f"query counts differ between ranges: {counts}")

    return timings, counts
