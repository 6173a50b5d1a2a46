"""Load: a comms team's mixed day against gunicorn (2 sync workers), plus CPU per page.

In a throwaway PostgreSQL database (``<DATABASE_URL's name>_load``; SQLite is not
served to several processes here, so the benchmark needs DATABASE_URL and REDIS_URL):

- Seeds one organization as ``bench/dashboard.py`` does (50 accounts, two years of
  follower snapshots, published posts with metrics, the inbox history), then adds
  this month's 5,000 scheduled posts (the calendar) and inbox items up to 100,000.
  ``BENCH_LOAD_SCALE`` (default 1) scales the posts and items, for a quick run.
- Starts gunicorn with the production settings (``govsocial.settings.production``,
  HTTPS redirect off because the client speaks plain HTTP on 127.0.0.1), the
  deployment's gunicorn.conf.py and 2 sync workers (``BENCH_LOAD_WORKERS``) on a free
  loopback port.
- Runs ``BENCH_LOAD_USERS`` (default 50) simulated team members for
  ``BENCH_LOAD_SECONDS`` (default 180; 60 for a shorter run), each choosing a page by
  the mix below, then thinking 0.2 to 1 s (0.6 s on average, so 50 members can ask for
  at most about 80 pages a second, enough to show whether the goal of 60 is met; 20
  could never ask for more than 33): 25% inbox list, 10% inbox item, 15% calendar
  month, 10% calendar week, 15% posts list, 10% dashboard, 5% home, 10% API reads.
- Prints ``load_req_per_s`` (answers per second over the run), ``load_p95_ms``
  (95th percentile latency), ``load_errors`` (non-200 answers and failed requests),
  the largest gunicorn worker's memory after the run (``load_worker_rss_mb``, resident;
  ``load_worker_uss_mb``, only its own pages; ``load_worker_pss_mb``, shared pages
  divided among their sharers: gunicorn.conf.py preloads the application, so RSS
  counts pages all workers share with the master), and ``page_cpu_ms_<page>``: the
  median CPU time of one request of each page type, measured in this process through
  Django's test client (10 requests each after warm-up), what a worker spends per page.
Goals (issue 14): ≥ 60 requests per second at p95 ≤ 500 ms with 0 errors, no page
type above 30 ms median CPU, workers at or under ~110 MB.
"""

from __future__ import annotations

import gc
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import Figure, django_setup

DEFAULT_SECONDS = 180
DEFAULT_USERS = 50
ACCOUNTS = 50
HISTORY_POSTS = 20_000
MONTH_POSTS = 5_000
INBOX_ITEMS = 100_000
CPU_REQUESTS = 10
WORKERS = 2
MIX = {
    "inbox_list": 25,
    "inbox_item": 10,
    "calendar_month": 15,
    "calendar_week": 10,
    "posts_list": 15,
    "dashboard": 10,
    "home": 5,
    "api": 10,
}


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(fraction * len(ordered)) - 1)] if ordered else 0.0


@dataclass
class Target:
    """What the simulated team asks for: a path per page type (some chosen at random)."""

    paths: dict[str, list[str]]
    session_key: str
    api_token: str


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _seed(scale: float) -> Target:
    from django.db import connection
    from django.utils import timezone

    from bench.dashboard import seed
    from inbox.models import InboxItem, ItemKind, ItemStatus, Priority
    from publishing.models import Post, PostStatus, Variant

    seeded = seed(ACCOUNTS, max(1, int(HISTORY_POSTS * scale)))
    organization, user, accounts = seeded.organization, seeded.user, seeded.accounts
    rng = random.Random(14)
    now = timezone.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_seconds = 28 * 24 * 3600
    month_posts = max(1, int(MONTH_POSTS * scale))
    statuses = [PostStatus.SCHEDULED] * 7 + [PostStatus.PUBLISHED] * 2 + [PostStatus.FAILED]
    posts = Post.objects.bulk_create(
        Post(
            organization=organization,
            title=f"Month post {n}",
            status=statuses[n % len(statuses)],
            created_by=user,
            scheduled_at=month_start + timedelta(seconds=n * month_seconds // month_posts),
        )
        for n in range(month_posts)
    )
    Variant.objects.bulk_create(
        Variant(
            post=post,
            channel_account=accounts[n % len(accounts)],
            language="fi" if n % 2 else "sv",
            text=f"Notice {n}: the library on Main Street is open from nine to five.",
        )
        for n, post in enumerate(posts)
    )
    have = InboxItem.objects.filter(organization=organization).count()
    wanted = max(have, int(INBOX_ITEMS * scale))
    open_statuses = [ItemStatus.NEW] * 5 + [ItemStatus.ASSIGNED] * 2 + [ItemStatus.CLOSED]
    batch: list[InboxItem] = []
    for number in range(wanted - have):
        account = accounts[number % len(accounts)]
        posted = now - timedelta(minutes=number * 7 + rng.randint(0, 5))
        status = rng.choice(open_statuses)
        batch.append(
            InboxItem(
                organization=organization,
                channel_account=account,
                network=account.network,
                remote_id=f"load-{number}",
                kind=rng.choice(ItemKind.values),
                author_handle=f"citizen{number % 5000}",
                author_name=f"Citizen {number % 5000}",
                text=f"Question {number} about the roads, schools and the swimming hall.",
                posted_at=posted,
                received_at=posted,
                thread_key=f"load-{number - number % 3}",
                status=status,
                assignee=user if status == ItemStatus.ASSIGNED else None,
                priority=rng.choice([Priority.NORMAL] * 8 + [Priority.HIGH, Priority.URGENT]),
                sla_due_at=posted + timedelta(hours=rng.randint(1, 72)),
            )
        )
        if len(batch) == 5000:
            InboxItem.objects.bulk_create(batch)
            batch = []
    InboxItem.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load (insert thresholds, PostgreSQL 13+):
        # statistics for the planner and the visibility map that lets a page count be
        # answered from an index alone.
        cursor.execute("VACUUM ANALYZE")
    return target(organization, user, seeded.device)


def target(organization: Any, user: Any, device: Any) -> Target:
    """A signed-in session and an API token for ``user``, and the paths the team asks for."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY

    from governance.middleware import SESSION_ORG_KEY
    from governance.services.tokens import api_token_create
    from inbox.models import InboxItem

    month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # A signed-in, second-factor-verified session, stored as a login would store it.

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[SESSION_ORG_KEY] = organization.pk
    store.save()
    _token, raw = api_token_create(user=user, organization=organization, name="load")

    item_ids = list(
        InboxItem.objects.filter(organization=organization)
        .order_by("?")
        .values_list("pk", flat=True)[:200]
    )
    week_days = [(month_start + timedelta(days=7 * n + 1)).date().isoformat() for n in range(4)]
    return Target(
        paths={
            "inbox_list": ["/inbox/", "/inbox/?status=new", "/inbox/?assignee=me"],
            "inbox_item": [f"/inbox/{pk}/" for pk in item_ids],
            "calendar_month": [f"/publishing/calendar/?date={month_start.date().isoformat()}"],
            "calendar_week": [f"/publishing/calendar/week/?date={day}" for day in week_days],
            "posts_list": ["/publishing/posts/"],
            "dashboard": ["/analytics/"],
            "home": ["/"],
            "api": ["/api/v1/posts/", "/api/v1/inbox/items/"],
        },
        session_key=store.session_key or "",
        api_token=raw,
    )


def page_cpu(target: Target) -> dict[str, float]:
    """Median CPU milliseconds of one request of each page type, in this process."""
    client = signed_in_client(target)
    return {
        page: statistics.median(page_cpu_samples(client, target, page, CPU_REQUESTS))
        for page in target.paths
    }


def signed_in_client(target: Target) -> Any:
    """A Django test client holding ``target``'s signed-in session."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = target.session_key
    return client


def api_headers(target: Target, page: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {target.api_token}"} if page == "api" else {}


def page_cpu_samples(
    client: Any, target: Target, page: str, requests: int, profiler: Any = None
) -> list[float]:
    """CPU milliseconds of ``requests`` requests of ``page``'s paths, after a warm-up
    request of (up to) three of them, each of which must answer 200; ``profiler`` (a
    pyinstrument Profiler) runs over the timed requests only."""
    paths, extra = target.paths[page], api_headers(target, page)
    for path in paths[:3]:
        response = client.get(path, headers=extra)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    # As a gunicorn worker runs (gunicorn.conf.py): what the application loaded
    # is frozen out of the collector's reach before requests are served.
    gc.collect()
    gc.freeze()
    if profiler is not None:
        profiler.start()
    samples = []
    for number in range(requests):
        path = paths[number % len(paths)]
        started = time.process_time()
        client.get(path, headers=extra)
        samples.append((time.process_time() - started) * 1000)
    if profiler is not None:
        profiler.stop()
    return samples


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url(name: str) -> str:
    from django.db import connection

    settings_dict = connection.settings_dict
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{name}"


def _start_gunicorn(
    database: str,
    port: int,
    log: Path,
    *,
    workers: int | None = None,
    worker_class: str = "sync",
    threads: int = 1,
    extra: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govsocial.settings.production",
        "DATABASE_URL": _database_url(database),
        # The same keys as this process, which signed the session and encrypted the seed.
        "SECRET_KEY": settings.SECRET_KEY,
        "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
        "AUDIT_HMAC_KEYS": ",".join(settings.AUDIT_HMAC_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DEBUG": "false",
    }
    root = Path(__file__).resolve().parent.parent
    static_root = root / "var" / "load-static"
    env["STATIC_ROOT"] = str(static_root)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=root,
        env=env,
        check=True,
    )
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "govsocial.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers or WORKERS}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--timeout=60",
            # As the README's deployment runs it (docker-compose.yml).
            "--max-requests=2000",
            "--max-requests-jitter=200",
            *extra,
        ],
        cwd=root,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}") from None
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"gunicorn did not listen on {port} within 60 s; see {log}")


def _member(
    target: Target, port: int, until: float, seed: int, results: Results, *, think: bool = True
) -> None:
    """One team member: a page by the mix, then 0.2 to 1 s of thought, until ``until``."""
    rng = random.Random(seed)
    pages, weights = list(MIX), list(MIX.values())
    cookie = f"sessionid={target.session_key}"
    while time.monotonic() < until:
        page = rng.choices(pages, weights)[0]
        path = rng.choice(target.paths[page])
        headers = {"Host": "127.0.0.1"}
        if page == "api":
            headers["Authorization"] = f"Bearer {target.api_token}"
        else:
            headers["Cookie"] = cookie
        started = time.perf_counter()
        ok = False
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
            conn.close()
        except (OSError, http.client.HTTPException):
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        with results.lock:
            results.latencies.append(elapsed)
            results.errors += 0 if ok else 1
        if think:
            time.sleep(rng.uniform(0.2, 1.0))


@dataclass
class WorkerMemory:
    """The largest gunicorn worker's memory, in MB, by three measures.

    RSS counts every page the worker maps, shared ones included; with ``--preload``
    the workers share the master's pages (copy-on-write), so USS (pages only this
    worker holds) and PSS (shared pages divided among their sharers) say what one more
    worker really costs.
    """

    rss: float = 0.0
    uss: float = 0.0
    pss: float = 0.0


def _workers_memory(master_pid: int) -> WorkerMemory:
    largest = WorkerMemory()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            if fields.get("PPid", "").strip() != str(master_pid):
                continue
            rollup = (status.parent / "smaps_rollup").read_text()
        except OSError:
            continue
        kb = {
            parts[0].rstrip(":"): int(parts[1])
            for parts in (line.split() for line in rollup.splitlines())
            if len(parts) == 3 and parts[2] == "kB"
        }
        largest.rss = max(largest.rss, kb.get("Rss", 0) / 1024)
        largest.pss = max(largest.pss, kb.get("Pss", 0) / 1024)
        uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
        largest.uss = max(largest.uss, uss / 1024)
    return largest


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    from django.db import connection

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise RuntimeError("the load benchmark needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", DEFAULT_SECONDS))
    users = int(os.environ.get("BENCH_LOAD_USERS", DEFAULT_USERS))
    scale = float(os.environ.get("BENCH_LOAD_SCALE", "1"))
    workers = int(os.environ.get("BENCH_LOAD_WORKERS", WORKERS))

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_load"
    settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    process: subprocess.Popen[bytes] | None = None
    try:
        target = _seed(scale)
        cpu = page_cpu(target)
        port = _free_port()
        log = Path(__file__).resolve().parent.parent / "var" / "load-gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        # The web workers hold their own connections to the load database.
        connection.close()
        process = _start_gunicorn(name, port, log, workers=workers)
        # Warm-up, not counted: each worker imports and compiles on its first requests.
        warm_up = Results()
        _member(target, port, time.monotonic() + 10, -1, warm_up, think=False)
        results = Results()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=_member, args=(target, port, until, n, results))
            for n in range(users)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        memory = _workers_memory(process.pid)
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    figures: list[Figure] = [
        ("load_seconds", elapsed, "s"),
        ("load_users", float(users), "users"),
        ("load_scale", scale, "x"),
        ("load_requests", float(len(results.latencies)), "requests"),
        ("load_req_per_s", len(results.latencies) / elapsed, "req/s"),
        ("load_p95_ms", _percentile(results.latencies, 0.95), "ms"),
        ("load_p50_ms", _percentile(results.latencies, 0.5), "ms"),
        ("load_errors", float(results.errors), "errors"),
        ("load_workers", float(workers), "workers"),
        ("load_worker_rss_mb", memory.rss, "MB"),
        ("load_worker_uss_mb", memory.uss, "MB"),
        ("load_worker_pss_mb", memory.pss, "MB"),
    ]
    figures += [(f"page_cpu_ms_{page}", value, "ms") for page, value in cpu.items()]
    return figures
