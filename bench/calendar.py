"""Calendar: server time of the month and week views over 5,000 posts, and their queries.

Fills a throwaway database (on the configured engine) with BENCH_CALENDAR_POSTS
posts (default 5,000) spread over one month across five accounts and two
languages, then times BENCH_CALENDAR_REQUESTS (default 50) requests of that
month's calendar page through Django's test client, logged in as an admin with
a verified second factor. The figure is the whole server side of the request:
middleware, session, queries and template rendering (wall-clock time, so a busy
machine inflates it; the CPU figure beside it does not). Runs with DEBUG off,
as production does. The month view shows each day's first few posts and "N
more" (a link to that day's list), so the page stays usable at this volume.

The week view is timed the same way on the first whole week of that month
(about 1,130 posts at the default volume): its p95, CPU, query count and the
size of its HTML. Each hour slot shows its first few posts and "N more", which
expands in place.
"""

from __future__ import annotations

import os
import re
import statistics
import time
from typing import Any

from bench import Figure, django_setup, throwaway_database

DEFAULT_POSTS = 5_000
DEFAULT_REQUESTS = 50
WARM_UP_REQUESTS = 3
TARGET_P95_MS = 150.0


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def _timed(client: Any, path: str, requests: int) -> tuple[list[float], list[float], int, str]:
    """Wall-clock and CPU milliseconds of ``requests`` requests, the query count of
    one more, and the page's HTML."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UP_REQUESTS):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    timings, cpu_timings = [], []
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - cpu_started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path).content.decode()
    return timings, cpu_timings, len(queries.captured_queries), page


def _accounted(page: str) -> tuple[int, int]:
    """Posts in the period by the page's own count, and posts it shows or counts as more."""
    match = re.search(r"([\d,]+) posts? in this period", page)
    if not match:
        raise RuntimeError("the page does not say how many posts the period holds")
    shown = page.count('class="cal-post ')
    more = sum(int(n) for n in re.findall(r">(\d+) more posts? ", page))
    return int(match.group(1).replace(",", "")), shown + more


def run() -> list[Figure]:
    # Debug mode records every query and keeps template debug data: not what is served.
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    import zoneinfo
    from datetime import datetime, timedelta

    from django.test import Client

    from accounts.models import ChannelAccount
    from governance.models import Membership, Organization, Role, TOTPDevice, User
    from publishing.models import Post, PostStatus, Variant

    posts_wanted = int(os.environ.get("BENCH_CALENDAR_POSTS", DEFAULT_POSTS))
    requests = int(os.environ.get("BENCH_CALENDAR_REQUESTS", DEFAULT_REQUESTS))
    tz = zoneinfo.ZoneInfo("Europe/Helsinki")
    month_start = datetime(2030, 3, 1, tzinfo=tz)
    month_seconds = 31 * 24 * 3600

    with throwaway_database():
        organization = Organization.objects.create(name="Bench Municipality", slug="bench")
        user = User.objects.create_user("bench@bench.example", None, full_name="Bench Admin")
        Membership.objects.create(organization=organization, user=user, role=Role.ADMIN)
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        accounts = [
            ChannelAccount.objects.create(
                organization=organization, network="sandbox", handle=f"bench-{n}"
            )
            for n in range(5)
        ]
        statuses = [PostStatus.SCHEDULED] * 7 + [PostStatus.PUBLISHED] * 2 + [PostStatus.FAILED]
        posts = Post.objects.bulk_create(
            Post(
                organization=organization,
                title=f"Bench post {n}",
                status=statuses[n % len(statuses)],
                created_by=user,
                scheduled_at=month_start + timedelta(seconds=n * month_seconds // posts_wanted),
            )
            for n in range(posts_wanted)
        )
        Variant.objects.bulk_create(
            Variant(
                post=post,
                channel_account=accounts[n % len(accounts)],
                language="fi" if n % 2 else "sv",
                text=(
                    f"Notice {n}: the library on Main Street is open from nine to five "
                    "this week, and the reading room stays open until eight on Thursday."
                ),
            )
            for n, post in enumerate(posts)
        )

        client = Client()
        client.force_login(user)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        path = "/publishing/calendar/?date=2030-03-01"

        timings, cpu_timings, query_count, page = _timed(client, path, requests)
        # Each day cell shows its first few posts and "N more posts on <day>".
        total, accounted = _accounted(page)
        if total != posts_wanted or accounted != posts_wanted:
            raise RuntimeError(f"the month view accounts for {accounted} of {posts_wanted}")

        week_path = "/publishing/calendar/week/?date=2030-03-04"
        week_timings, week_cpu, week_queries, week_page = _timed(client, week_path, requests)
        week_total, week_accounted = _accounted(week_page)
        if week_accounted != week_total:
            raise RuntimeError(f"the week view accounts for {week_accounted} of {week_total}")

    p95 = _p95(timings)
    return [
        ("calendar_month_posts", float(posts_wanted), "posts"),
        ("calendar_month_p95_ms", p95, "ms"),
        ("calendar_month_median_ms", statistics.median(timings), "ms"),
        # This process's CPU time alone: steady on a busy machine, but without the
        # database server's share on PostgreSQL.
        ("calendar_month_cpu_p95_ms", _p95(cpu_timings), "ms"),
        ("calendar_month_queries", float(query_count), "queries"),
        ("calendar_month_target_ms", TARGET_P95_MS, "ms"),
        ("calendar_week_posts", float(week_total), "posts"),
        ("calendar_week_html_kb", len(week_page.encode()) / 1024, "KiB"),
        ("calendar_week_p95_ms", _p95(week_timings), "ms"),
        ("calendar_week_median_ms", statistics.median(week_timings), "ms"),
        ("calendar_week_cpu_p95_ms", _p95(week_cpu), "ms"),
        ("calendar_week_queries", float(week_queries), "queries"),
    ]
