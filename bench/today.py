"""Home page ("Today") and dashboard: server time and query count over the dashboard's data.

Seeds the dashboard benchmark's history (bench/dashboard.py: BENCH_DASHBOARD_ACCOUNTS
accounts, default 100, BENCH_DASHBOARD_POSTS published posts, default 100,000, two
years of followers and inbox) and adds what a home page lists: BENCH_TODAY_ITEMS
(default 200) posts in review, as many scheduled for today and tomorrow, open inbox
items assigned to the reader (half overdue), held and failed posts, accounts to
reconnect. Then times BENCH_TODAY_REQUESTS requests (default 60) of each page through
Django's test client, logged in as a manager with a verified second factor (the
home page then carries the week's figures). The figure is the whole server side of
the request, with DEBUG off. Query counts are taken with a few lines in each list and
with all of the home page's data, and must be equal.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench import Figure, django_setup, throwaway_database
from bench.dashboard import DEFAULT_ACCOUNTS, DEFAULT_POSTS, _p95, seed

DEFAULT_ITEMS = 200
DEFAULT_REQUESTS = 60
TARGET_P95_MS = 150.0


def _home_data(seeded: Any, items: int, batch: str) -> None:
    """What needs the manager now, spread over the accounts."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import AccountStatus, ChannelAccount
    from inbox.models import InboxItem, ItemKind, ItemStatus
    from publishing.models import JobStatus, Post, PostStatus, PublishJob, Variant

    now = timezone.now()
    organization, user, accounts = seeded.organization, seeded.user, seeded.accounts
    posts = Post.objects.bulk_create(
        Post(
            organization=organization,
            title=f"Today {n}",
            status=PostStatus.IN_REVIEW if n % 2 else PostStatus.SCHEDULED,
            created_by=user,
            submitted_at=now,
            scheduled_at=now + timedelta(minutes=20 + n * 7),
        )
        for n in range(items * 2)
    )
    variants = Variant.objects.bulk_create(
        Variant(post=post, channel_account=accounts[n % len(accounts)], language="fi", text="x")
        for n, post in enumerate(posts)
    )
    statuses = [JobStatus.PENDING, JobStatus.PENDING, JobStatus.HELD, JobStatus.FAILED]
    PublishJob.objects.bulk_create(
        PublishJob(
            organization=organization,
            post=variant.post,
            variant=variant,
            channel_account=variant.channel_account,
            due_at=variant.post.scheduled_at or now,
            next_attempt_at=variant.post.scheduled_at or now,
            status=statuses[n % len(statuses)],
        )
        for n, variant in enumerate(variants)
        if variant.post.status == PostStatus.SCHEDULED
    )
    InboxItem.objects.bulk_create(
        InboxItem(
            organization=organization,
            channel_account=accounts[n % len(accounts)],
            network="sandbox",
            remote_id=f"today-item-{batch}-{n}",
            kind=ItemKind.REPLY,
            author_handle="aino.virtanen",
            text="Milloin kirjasto aukeaa?",
            posted_at=now - timedelta(hours=2),
            received_at=now - timedelta(hours=2),
            thread_key=f"today-thread-{batch}-{n}",
            status=ItemStatus.ASSIGNED,
            assignee=user,
            sla_due_at=now + timedelta(minutes=(n % 2 * 2 - 1) * (n + 5)),
        )
        for n in range(items)
    )
    ChannelAccount.objects.filter(pk__in=[a.pk for a in accounts[: len(accounts) // 10]]).update(
        status=AccountStatus.NEEDS_RECONNECT
    )


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    accounts_wanted = int(os.environ.get("BENCH_DASHBOARD_ACCOUNTS", DEFAULT_ACCOUNTS))
    posts_wanted = int(os.environ.get("BENCH_DASHBOARD_POSTS", DEFAULT_POSTS))
    items = int(os.environ.get("BENCH_TODAY_ITEMS", DEFAULT_ITEMS))
    requests = int(os.environ.get("BENCH_TODAY_REQUESTS", DEFAULT_REQUESTS))

    with throwaway_database():
        from governance.models import Membership, Role

        seeded = seed(accounts_wanted, posts_wanted)
        Membership.objects.filter(user=seeded.user).update(role=Role.MANAGER)
        client = _client(seeded)
        # A little of everything first (an empty list skips its follow-up queries), then all.
        _home_data(seeded, 4, "few")
        _queries(client, "/")  # the session's first request fills per-session caches
        home_few = _queries(client, "/")
        _home_data(seeded, items, "many")
        home_many = _queries(client, "/")
        if home_few != home_many:
            raise RuntimeError(
                f"the home page's queries grew with its data: {home_few}, {home_many}"
            )
        home = _time(client, "/", requests)
        dashboard = _time(client, "/analytics/", requests)
        dashboard_queries = _queries(client, "/analytics/")
    return [
        ("today_home_p95_ms", _p95(home), "ms"),
        ("today_home_median_ms", statistics.median(home), "ms"),
        ("today_home_queries", float(home_many), "queries"),
        ("today_dashboard_p95_ms", _p95(dashboard), "ms"),
        ("today_dashboard_median_ms", statistics.median(dashboard), "ms"),
        ("today_dashboard_queries", float(dashboard_queries), "queries"),
        ("today_target_ms", TARGET_P95_MS, "ms"),
    ]


def _client(seeded: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(seeded.user)
    session = client.session
    session["otp_device_id"] = seeded.device.persistent_id
    session.save()
    return client


def _queries(client: Any, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return len(captured.captured_queries)


def _time(client: Any, path: str, requests: int) -> list[float]:
    client.get(path)  # warm
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    return timings
