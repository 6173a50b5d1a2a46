"""Dispatcher: 1,000 posts due within one minute across 50 Mastodon accounts.

Real Celery beat and worker processes (Redis broker, PostgreSQL) publish to a
local Mastodon test server that answers every request after 50 ms. Lateness
is due time → the moment the network created the status; a duplicate is a
second status with the same text. Needs DATABASE_URL=postgres://… and
REDIS_URL (worker processes cannot share an in-memory database).

Knobs (environment): BENCH_DISPATCH_POSTS (1000), BENCH_DISPATCH_ACCOUNTS (50),
BENCH_DISPATCH_SPREAD_SECONDS (60: due times spread evenly over one minute; 0
makes them all due at the same instant), BENCH_DISPATCH_DELAY_MS (50),
BENCH_DISPATCH_CONCURRENCY (worker processes, 6), BENCH_DISPATCH_TICK_SECONDS (the
dispatcher's tick, as in production: 0.5), BENCH_DISPATCH_LOG_DIR (keep the worker and
beat logs there), BENCH_DISPATCH_DATABASE (govsocial_bench_dispatch).

Besides lateness and throughput, which a busy machine depresses, it prints the CPU
time one post costs, less sensitive to what else runs: ``dispatch_worker_cpu_ms_per_post``
(the worker and its pool processes, beat's ticks excluded) and
``dispatch_db_cpu_ms_per_post`` (the PostgreSQL backends serving them), from /proc.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Figure, django_setup

DEFAULT_DATABASE_NAME = "govsocial_bench_dispatch"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

STATUSES = "/api/v1/statuses"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _slow_server(delay: float) -> Any:
    from tests.mastodon_server.server import MastodonTestServer

    class SlowMastodon(MastodonTestServer):
        """Answers every request ``delay`` seconds after doing it (as a distant instance)."""

        def wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
            body = super().wsgi(environ, start_response)
            time.sleep(delay)
            return body

    return SlowMastodon().start()


@contextmanager
def _database() -> Iterator[None]:
    """A migrated PostgreSQL database of this benchmark's own, dropped afterwards (the
    worker processes connect to it by name)."""
    from django.db import connection

    # Engineers benchmarking against one server each name their own.
    name = os.environ.get("BENCH_DISPATCH_DATABASE", DEFAULT_DATABASE_NAME)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    # serialize=False: nothing here needs the fixture-reload copy of the database.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run() -> list[Figure]:
    django_setup()
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise SystemExit(
            "bench dispatch needs PostgreSQL and Redis: set DATABASE_URL=postgres://… and "
            "REDIS_URL=redis://… (worker processes cannot share an in-memory database)"
        )
    posts = int(os.environ.get("BENCH_DISPATCH_POSTS", 1000))
    accounts = int(os.environ.get("BENCH_DISPATCH_ACCOUNTS", 50))
    spread = float(os.environ.get("BENCH_DISPATCH_SPREAD_SECONDS", 60))
    delay = float(os.environ.get("BENCH_DISPATCH_DELAY_MS", 50)) / 1000
    concurrency = int(os.environ.get("BENCH_DISPATCH_CONCURRENCY", 6))
    tick = os.environ.get("BENCH_DISPATCH_TICK_SECONDS", "0.5")
    # The test server speaks plain http on loopback.
    os.environ.setdefault("CONNECTORS_ALLOW_PRIVATE_NETWORKS", "true")

    keep = os.environ.get("BENCH_DISPATCH_LOG_DIR", "")
    with _database(), tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp:
        folder = Path(keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        server = _slow_server(delay)
        try:
            return _measure(server, folder, posts, accounts, spread, concurrency, tick)
        finally:
            server.stop()


def _measure(
    server: Any,
    folder: Path,
    posts: int,
    accounts: int,
    spread: float,
    concurrency: int,
    tick: str,
) -> list[Figure]:
    from django.utils import timezone

    from accounts.models import ChannelAccount
    from governance.models import Organization, User
    from publishing.models import JobStatus, Post, PostStatus, PublishJob, Variant
    from publishing.tests.processes import CeleryProcesses

    organization = Organization.objects.create(name="Bench City", slug="bench-city")
    author = User.objects.create_user("bench@bench.example", None)
    remote_accounts = [server.create_account(f"desk{n}") for n in range(accounts)]
    channel_accounts = ChannelAccount.objects.bulk_create(
        ChannelAccount(
            organization=organization,
            network="mastodon",
            handle=f"@{remote.username}@social.example",
            server_url=server.base_url,
            remote_id=remote.id,
            credentials={"access_token": server.issue_token(remote)},
        )
        for remote in remote_accounts
    )

    with CeleryProcesses(
        folder,
        broker_url=os.environ["REDIS_URL"],
        concurrency=concurrency,
        overrides={
            "PUBLISHING_TEST_TICK_SECONDS": tick,
            "PUBLISHING_TEST_SWEEP_SECONDS": "15",
            # As in production: no query log kept in memory, no debug cursor.
            "DEBUG": "false",
        },
    ) as celery:
        celery.start_worker()
        celery.start_beat()
        # Measure from the first tick the worker ran, not from the processes' start-up.
        worker_log = folder / "worker1.log"
        celery.wait_for(
            lambda: (
                "publishing.tasks.dispatch_due" in worker_log.read_text()
                and " succeeded in " in worker_log.read_text()
            ),
            "the first dispatcher tick",
        )
        assert celery.worker is not None
        cpu_before = _cpu_seconds(_process_tree(celery.worker.pid))
        db_before = _cpu_seconds(_backends())
        # Approved and scheduled rows, written directly: this measures dispatch, not composing.
        start = timezone.now() + timedelta(seconds=3)
        step = spread / posts
        due = [start + timedelta(seconds=n * step) for n in range(posts)]
        post_rows = Post.objects.bulk_create(
            Post(
                organization=organization,
                title=f"Bench {n}",
                status=PostStatus.SCHEDULED,
                created_by=author,
                scheduled_at=due[n],
            )
            for n in range(posts)
        )
        variants = Variant.objects.bulk_create(
            Variant(
                post=post,
                channel_account=channel_accounts[n % accounts],
                language="fi",
                text=f"Bench post {n}",
            )
            for n, post in enumerate(post_rows)
        )
        PublishJob.objects.bulk_create(
            PublishJob(
                organization=organization,
                post=post,
                variant=variant,
                channel_account=variant.channel_account,
                due_at=due[n],
                next_attempt_at=due[n],
            )
            for n, (post, variant) in enumerate(zip(post_rows, variants, strict=True))
        )
        finished = PublishJob.objects.filter(status__in=[JobStatus.PUBLISHED, JobStatus.FAILED])
        celery.wait_for(
            lambda: finished.count() == posts,
            "every job to finish",
            seconds=spread + 300,
        )
        worker_cpu = _cpu_seconds(_process_tree(celery.worker.pid)) - cpu_before
        db_cpu = _cpu_seconds(_backends()) - db_before

    due_by_text = {f"Bench post {n}": due[n] for n in range(posts)}
    statuses = [s for s in server.statuses.values() if s.text in due_by_text]
    seen: dict[str, int] = {}
    for status in statuses:
        seen[status.text] = seen.get(status.text, 0) + 1
    duplicates = sum(count - 1 for count in seen.values())
    first_by_text: dict[str, datetime] = {}
    for status in sorted(statuses, key=lambda s: s.created_at):
        first_by_text.setdefault(status.text, status.created_at)
    lateness = [
        (created - due_by_text[text].astimezone(UTC)).total_seconds()
        for text, created in first_by_text.items()
    ]
    failed = PublishJob.objects.filter(status=JobStatus.FAILED).count()
    window = (max(first_by_text.values()) - min(due).astimezone(UTC)).total_seconds()
    return [
        ("dispatch_posts_published", float(len(first_by_text)), "posts"),
        ("dispatch_failed", float(failed), "posts"),
        ("dispatch_p50_lateness_s", _percentile(lateness, 0.50), "s"),
        ("dispatch_p99_lateness_s", _percentile(lateness, 0.99), "s"),
        ("dispatch_max_lateness_s", max(lateness), "s"),
        ("dispatch_mean_lateness_s", statistics.fmean(lateness), "s"),
        ("dispatch_early", float(sum(1 for value in lateness if value < 0)), "posts"),
        ("dispatch_throughput_per_s", len(first_by_text) / window, "posts/s"),
        ("dispatch_duplicates", float(duplicates), "posts"),
        ("dispatch_worker_cpu_ms_per_post", worker_cpu * 1000 / posts, "ms"),
        ("dispatch_db_cpu_ms_per_post", db_cpu * 1000 / posts, "ms"),
    ]


def _process_tree(root: int) -> list[int]:
    """``root`` and its children (the worker and its pool processes)."""
    pids = [root]
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PPid:") and line.split()[1] == str(root):
                pids.append(int(status.parent.name))
    return pids


def _backends() -> list[int]:
    """The PostgreSQL backends connected to this benchmark's database (the server runs
    on this machine, so /proc shows them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def _cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds the processes have used so far (0 where /proc has
    none: another machine's database server, a process gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS
