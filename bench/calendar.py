"""Calendar: server time of a month view holding 5,000 posts, and its query count.

Fills a throwaway database (on the configured engine) with BENCH_CALENDAR_POSTS
posts (default 5,000) spread over one month across five accounts and two
languages, then times BENCH_CALENDAR_REQUESTS (default 50) requests of that
month's calendar page through Django's test client, logged in as an admin with
a verified second factor. The figure is the whole server side of the request:
middleware, session, queries and template rendering (wall-clock time, so a busy
machine inflates it; the CPU figure beside it does not). Runs with DEBUG off,
as production does. The month view shows each day's first few posts and "N
more" (a link to that day's list), so the page stays usable at this volume.
"""

from __future__ import annotations

import os
import re
import statistics
import time

from bench import Figure, django_setup, throwaway_database

DEFAULT_POSTS = 5_000
DEFAULT_REQUESTS = 50
WARM_UP_REQUESTS = 3
TARGET_P95_MS = 150.0


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def run() -> list[Figure]:
    # Debug mode records every query and keeps template debug data: not what is served.
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    import zoneinfo
    from datetime import datetime, timedelta

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

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

        for _ in range(WARM_UP_REQUESTS):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"calendar answered {response.status_code}")
        # Each day cell shows its first few posts and "N more posts on <day>".
        page = response.content.decode()
        shown = page.count('class="cal-post ')
        more = sum(int(n) for n in re.findall(r">(\d+) more posts? on ", page))
        if shown + more != posts_wanted:
            raise RuntimeError(f"the month view accounts for {shown + more} of {posts_wanted}")

        timings, cpu_timings = [], []
        for _ in range(requests):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(path)

    p95 = _p95(timings)
    return [
        ("calendar_month_posts", float(posts_wanted), "posts"),
        ("calendar_month_p95_ms", p95, "ms"),
        ("calendar_month_median_ms", statistics.median(timings), "ms"),
        # This process's CPU time alone: steady on a busy machine, but without the
        # database server's share on PostgreSQL.
        ("calendar_month_cpu_p95_ms", _p95(cpu_timings), "ms"),
        ("calendar_month_queries", float(len(queries.captured_queries)), "queries"),
        ("calendar_month_target_ms", TARGET_P95_MS, "ms"),
    ]
