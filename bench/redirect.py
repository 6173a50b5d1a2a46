"""Redirect: short-link redirects per second against gunicorn, each click counted once.

In a throwaway PostgreSQL database (``<DATABASE_URL's name>_redirect``; needs
DATABASE_URL and REDIS_URL, like ``bench/load.py``):

- Seeds one organization, one published post and ``BENCH_REDIRECT_LINKS`` (default 50)
  short links on it.
- Starts gunicorn with the production settings and 2 sync workers on a free loopback
  port (``bench/load.py``'s ``_start_gunicorn``).
- Runs ``BENCH_REDIRECT_CLIENTS`` (default 8) client threads for
  ``BENCH_REDIRECT_SECONDS`` (default 20), each following a random short link with a
  browser's user agent over keep-alive-less HTTP/1.1 (gunicorn's sync workers close
  each connection), as a visitor's browser would on a first click.
- Prints ``redirect_req_per_s``, ``redirect_p50_ms``, ``redirect_p99_ms``,
  ``redirect_requests`` (302 answers received), ``redirect_clicks_counted`` (the sum of
  the click counters afterwards: must equal ``redirect_requests``) and
  ``redirect_errors`` (anything but a 302 to the right place), and the gunicorn
  workers' and the client's CPU per redirect with the machine's load average (the
  rate depends on what else runs; the CPU per redirect much less).
Goal (issue 16): ≥ 1,000 redirects per second on this machine, every click counted once.
"""

from __future__ import annotations

import http.client
import os
import random
import secrets
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench import Figure, django_setup, load
from bench.load import _free_port, _percentile, _start_gunicorn

DEFAULT_SECONDS = 20
DEFAULT_CLIENTS = 8
DEFAULT_LINKS = 50
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _workers_cpu_s(master_pid: int) -> float:
    """User + system CPU seconds used so far by the gunicorn master's workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(master_pid):  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _seed(count: int) -> dict[str, str]:
    """``code -> target`` for ``count`` short links of one published post."""
    from django.utils import timezone

    from accounts.models import ChannelAccount
    from governance.models import Organization
    from publishing.models import JobStatus, Post, PostStatus, PublishJob, ShortLink, Variant

    org = Organization.objects.create(name="Bench City", slug="bench-city")
    account = ChannelAccount.objects.create(
        organization=org, network="sandbox", handle="bench", display_name="Bench"
    )
    now = timezone.now()
    post = Post.objects.create(
        organization=org, title="Links", status=PostStatus.PUBLISHED, published_at=now
    )
    variant = Variant.objects.create(post=post, channel_account=account, language="fi", text="")
    job = PublishJob.objects.create(
        organization=org,
        post=post,
        variant=variant,
        channel_account=account,
        due_at=now - timedelta(minutes=1),
        next_attempt_at=now,
        status=JobStatus.PUBLISHED,
    )
    links = {}
    for n in range(count):
        target = f"https://example.fi/page/{n}?utm_source=sandbox&utm_medium=social"
        link = ShortLink.objects.create(
            organization=org,
            post=post,
            job=job,
            network="sandbox",
            code=secrets.token_urlsafe(6),
            original_url=f"https://example.fi/page/{n}",
            target_url=target,
        )
        links[link.code] = target
    return links


def _client(links: dict[str, str], port: int, until: float, seed: int, results: Results) -> None:
    rng = random.Random(seed)
    codes = list(links)
    latencies: list[float] = []
    errors = 0
    while time.monotonic() < until:
        code = rng.choice(codes)
        started = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", f"/l/{code}", headers={"Host": "127.0.0.1", "User-Agent": BROWSER})
            response = conn.getresponse()
            response.read()
            conn.close()
            ok = response.status == 302 and response.getheader("Location") == links[code]
        except OSError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors += 1
    with results.lock:
        results.latencies += latencies
        results.errors += errors


def _drive(links: dict[str, str], port: int, clients: int, seconds: float) -> tuple[Results, float]:
    results = Results()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(links, port, until, n, results))
        for n in range(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Sum

    from publishing.models import ShortLinkClick

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise RuntimeError("the redirect benchmark needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    seconds = float(os.environ.get("BENCH_REDIRECT_SECONDS", DEFAULT_SECONDS))
    clients = int(os.environ.get("BENCH_REDIRECT_CLIENTS", DEFAULT_CLIENTS))
    count = int(os.environ.get("BENCH_REDIRECT_LINKS", DEFAULT_LINKS))
    # The same server as bench/load.py (2 sync workers) unless asked otherwise.
    load.WORKERS = int(os.environ.get("BENCH_REDIRECT_WORKERS", load.WORKERS))

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_redirect"
    settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    process: subprocess.Popen[bytes] | None = None
    try:
        links = _seed(count)
        port = _free_port()
        log = Path(__file__).resolve().parent.parent / "var" / "redirect-gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        connection.close()
        # Production settings refuse to start without it (bench/load.py does not pass it).
        os.environ.setdefault("AUDIT_HMAC_KEYS", ",".join(settings.AUDIT_HMAC_KEYS))
        process = _start_gunicorn(name, port, log)
        # Warm-up: each worker imports and connects on its first requests. Counted too,
        # so the check below compares every request sent with every click counted.
        warm_up, _elapsed = _drive(links, port, 2, 3)
        cpu_before, client_before = _workers_cpu_s(process.pid), time.process_time()
        results, elapsed = _drive(links, port, clients, seconds)
        server_cpu = _workers_cpu_s(process.pid) - cpu_before
        client_cpu = time.process_time() - client_before
        load_average = os.getloadavg()[0]
        sent = len(warm_up.latencies) + len(results.latencies)
        counted = ShortLinkClick.objects.aggregate(total=Sum("clicks"))["total"] or 0
        bots = ShortLinkClick.objects.aggregate(total=Sum("bot_clicks"))["total"] or 0
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    return [
        ("redirect_seconds", elapsed, "s"),
        ("redirect_clients", float(clients), "clients"),
        ("redirect_gunicorn_workers", float(load.WORKERS), "workers"),
        ("redirect_requests", float(len(results.latencies)), "requests"),
        ("redirect_req_per_s", len(results.latencies) / elapsed, "req/s"),
        ("redirect_p50_ms", _percentile(results.latencies, 0.5), "ms"),
        ("redirect_p99_ms", _percentile(results.latencies, 0.99), "ms"),
        # CPU per redirect, so the figure can be read on a machine others share too.
        ("redirect_server_cpu_ms", server_cpu * 1000 / max(1, len(results.latencies)), "ms"),
        ("redirect_client_cpu_ms", client_cpu * 1000 / max(1, len(results.latencies)), "ms"),
        ("redirect_load_average", load_average, "load"),
        ("redirect_errors", float(results.errors + warm_up.errors), "errors"),
        ("redirect_requests_sent_incl_warm_up", float(sent), "requests"),
        ("redirect_clicks_counted", float(counted), "clicks"),
        ("redirect_bot_clicks_counted", float(bots), "clicks"),
        ("redirect_count_mismatch", float(counted - sent), "clicks"),
    ]
