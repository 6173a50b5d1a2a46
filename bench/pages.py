"""Pages: p95 server time and query count of the five everyday screens over a big organization.

Seeds one organization as the load benchmark does (bench/load.py: 50 accounts, two years
of followers and published posts with metrics, this month's 5,000 posts, inbox items up
to 100,000; ``BENCH_PAGES_SCALE`` scales the posts and items for a quick run), then times
``BENCH_PAGES_REQUESTS`` (default 50) requests of each page through Django's test client,
signed in as the organization's admin with a verified second factor, DEBUG off:

- ``home``: the Today page (``/``);
- ``composer``: a new post (``/publishing/posts/new/``);
- ``inbox``: the inbox list (``/inbox/``);
- ``dashboard``: the analytics dashboard (``/analytics/``, the last 30 days);
- ``calendar_week``: the calendar's week view on the busiest week of the month.

Prints ``pages_<page>_p95_ms`` and ``_median_ms`` (wall clock: middleware, session,
queries, templates), ``pages_<page>_cpu_ms`` (median CPU of this process per request),
``pages_<page>_db_ms`` (median time waiting on queries per request) and
``pages_<page>_queries`` (queries of one request after warm-up). Goal: p95 ≤ 150 ms.
On a busy machine the wall clock grows with the load (the CPU figure much less): compare
with the load average. ``BENCH_PAGES_SLOWEST=1`` prints each page's three slowest
queries to stderr.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench import Figure, django_setup, throwaway_database

DEFAULT_REQUESTS = 50
WARM_UP_REQUESTS = 3
TARGET_P95_MS = 150.0


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def pages(month_start: Any) -> dict[str, str]:
    """The page of each kind the benchmark asks for, by figure name."""
    # The month's posts are spread evenly: the second whole week is as busy as any.
    week_day = (month_start + timedelta(days=8)).date().isoformat()
    return {
        "home": "/",
        "composer": "/publishing/posts/new/",
        "inbox": "/inbox/",
        "dashboard": "/analytics/",
        "calendar_week": f"/publishing/calendar/week/?date={week_day}",
    }


@dataclass
class Measured:
    wall: list[float] = field(default_factory=list)  # ms per request
    cpu: list[float] = field(default_factory=list)  # ms of this process's CPU per request
    database: list[float] = field(default_factory=list)  # ms waiting on queries per request
    queries: int = 0
    slowest: list[tuple[float, str]] = field(default_factory=list)


class _QueryTimer:
    """Adds up the time spent in each query (a connection execute wrapper)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.each: list[tuple[float, str]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.total += elapsed
            self.each.append((elapsed, sql))


def measure(client: Any, path: str, requests: int) -> Measured:
    """Wall-clock, CPU and query milliseconds of ``requests`` requests after a warm-up,
    the queries of one more and the slowest queries seen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UP_REQUESTS):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    measured = Measured()
    seen: list[tuple[float, str]] = []
    for _ in range(requests):
        timer = _QueryTimer()
        with connection.execute_wrapper(timer):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            measured.wall.append((time.perf_counter() - started) * 1000)
            measured.cpu.append((time.process_time() - cpu_started) * 1000)
        measured.database.append(timer.total)
        seen += timer.each
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    measured.queries = len(captured.captured_queries)
    measured.slowest = sorted(seen, reverse=True)[:3]
    return measured


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    requests = int(os.environ.get("BENCH_PAGES_REQUESTS", DEFAULT_REQUESTS))
    scale = float(os.environ.get("BENCH_PAGES_SCALE", "1"))

    figures: list[Figure] = []
    with throwaway_database():
        from django.conf import settings
        from django.test import Client
        from django.utils import timezone

        from bench.load import _seed

        target = _seed(scale)
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = target.session_key
        month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        for name, path in pages(month_start).items():
            measured = measure(client, path, requests)
            figures += [
                (f"pages_{name}_p95_ms", _p95(measured.wall), "ms"),
                (f"pages_{name}_median_ms", statistics.median(measured.wall), "ms"),
                (f"pages_{name}_cpu_ms", statistics.median(measured.cpu), "ms"),
                (f"pages_{name}_db_ms", statistics.median(measured.database), "ms"),
                (f"pages_{name}_queries", float(measured.queries), "queries"),
            ]
            if os.environ.get("BENCH_PAGES_SLOWEST"):
                for elapsed, sql in measured.slowest:
                    print(f"# {name} {elapsed:.1f} ms: {sql[:600]}", file=sys.stderr)
    figures.append(("pages_target_p95_ms", TARGET_P95_MS, "ms"))
    return figures
