"""Redirect: short-link redirects per second against gunicorn, each click counted once.

In a throwaway PostgreSQL database (``<DATABASE_URL's name>_redirect``; needs
DATABASE_URL and REDIS_URL, like ``bench/load.py``):

- Seeds one organization, one published post and ``BENCH_REDIRECT_LINKS`` (default 50)
  short links on it.
- Starts gunicorn with the production settings and 2 workers on a free loopback port
  (``bench/load.py``'s ``_start_gunicorn``, recycling workers after 2,000 requests as
  deployed). ``BENCH_REDIRECT_WORKER_CLASS`` (default ``sync``, as deployed) may be
  ``gthread`` (``BENCH_REDIRECT_THREADS`` threads, default 4), which keeps connections
  alive; sync workers close each one.
- Drives it for ``BENCH_REDIRECT_SECONDS`` (default 20) with ``BENCH_REDIRECT_CLIENTS``
  (default 8) connections following random short links with a browser's user agent:
  with ``wrk`` (Debian's package) and a Lua script when it is installed, else with
  Python client threads (slower, and they take CPU from the server on the same cores).
  ``BENCH_REDIRECT_CLIENT=python`` forces the Python client; ``BENCH_REDIRECT_KEEPALIVE=0``
  makes wrk ask for ``Connection: close`` (a first click from a browser).
- Moves the clicks counted in Redis to the database (the periodic task's flush), then
  prints ``redirect_req_per_s``, ``redirect_p50_ms``, ``redirect_p99_ms``,
  ``redirect_requests`` (302 answers to the right place), ``redirect_clicks_counted``
  (must equal every request answered, warm-up included: ``redirect_count_mismatch`` 0
  with the Python client; wrk stops with up to one request per connection unanswered,
  which the server has counted, so with wrk 0 ≤ mismatch ≤ ``redirect_clients``),
  ``redirect_errors``, and the server's and client's CPU per redirect with the machine's
  load average (the rate depends on what else runs; the CPU per redirect much less).
  The server's CPU is the workers' own plus what recycled workers used (the gunicorn
  master's reaped children), so recycling cannot make it negative.
Goal (issue 16): ≥ 1,000 redirects per second on this machine, every click counted once.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import resource
import secrets
import shutil
import signal
import subprocess
import tempfile
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
TARGET_PREFIX = "https://example.fi/page/"
WRK_THREADS = 2

# wrk's Lua: a random short link per request; each thread counts the 302s that lead to
# one of our pages and anything else; done() prints one line the benchmark parses.
WRK_SCRIPT = """
local codes = {%(codes)s}
local prefix = "%(prefix)s"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok = 0
  bad = 0
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
function request()
  local code = codes[math.random(#codes)]
  return wrk.format("GET", "/l/" .. code, {
    ["Host"] = "127.0.0.1",
    ["User-Agent"] = "%(agent)s",%(close)s
  })
end
function response(status, headers, body)
  local location = headers["Location"] or ""
  if status == 302 and location:sub(1, #prefix) == prefix then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
  end
  local errors = summary.errors
  io.write(string.format(
    "GOVSOCIAL ok=%%d bad=%%d socket_errors=%%d duration_us=%%d p50_us=%%d p99_us=%%d\\n",
    good, wrong, errors.connect + errors.read + errors.write + errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _stat_fields(pid: int | str) -> list[str]:
    """``/proc/<pid>/stat`` from the state on (so field n of proc(5) is index n - 3)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _workers_cpu_s(master_pid: int) -> float:
    """User + system CPU seconds used so far by the gunicorn master's workers: the live
    ones' own, plus the reaped ones' (the master's cutime and cstime), so a worker that
    gunicorn recycles (max_requests) keeps counting after it exits."""
    ticks = os.sysconf("SC_CLK_TCK")
    master = _stat_fields(master_pid)
    total = (int(master[13]) + int(master[14])) / ticks if master else 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(stat.parent.name)
        if len(fields) > 12 and fields[1] == str(master_pid):  # fields[1]: the parent's pid
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
        target = f"{TARGET_PREFIX}{n}?utm_source=sandbox&utm_medium=social"
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


def _wait_ready(links: dict[str, str], port: int, workers: int) -> None:
    """Until every worker answers: a fresh worker's first request imports and compiles
    for seconds on a busy machine, which a 3-second warm-up may not cover. HEAD, so no
    click is counted."""
    code = next(iter(links))
    quick, deadline = 0, time.monotonic() + 120
    while quick < 4 * workers and time.monotonic() < deadline:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("HEAD", f"/l/{code}", headers={"Host": "127.0.0.1", "User-Agent": BROWSER})
        conn.getresponse().read()
        conn.close()
        quick = quick + 1 if time.perf_counter() - started < 0.2 else 0


@dataclass
class WrkRun:
    ok: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_s: float


def _wrk(
    links: dict[str, str], port: int, connections: int, seconds: float, *, keep_alive: bool
) -> WrkRun:
    script = WRK_SCRIPT % {
        "codes": ", ".join(f'"{code}"' for code in links),
        "prefix": TARGET_PREFIX,
        "agent": BROWSER,
        "close": "" if keep_alive else '\n    ["Connection"] = "close",',
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [
                "wrk",
                f"--threads={min(WRK_THREADS, connections)}",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                "--timeout=30s",
                f"--script={lua.name}",
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found = re.search(
        r"GOVSOCIAL ok=(\d+) bad=(\d+) socket_errors=(\d+) duration_us=(\d+) "
        r"p50_us=(\d+) p99_us=(\d+)",
        done.stdout,
    )
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    if os.environ.get("BENCH_REDIRECT_DEBUG"):
        print(done.stdout)
    ok, bad, socket_errors, duration, p50, p99 = (int(n) for n in found.groups())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkRun(ok, bad + socket_errors, duration / 1e6, p50 / 1000, p99 / 1000, cpu)


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Sum

    from publishing.models import ShortLinkClick
    from publishing.services import links as links_service

    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        raise RuntimeError("the redirect benchmark needs DATABASE_URL (PostgreSQL) and REDIS_URL")
    seconds = float(os.environ.get("BENCH_REDIRECT_SECONDS", DEFAULT_SECONDS))
    clients = int(os.environ.get("BENCH_REDIRECT_CLIENTS", DEFAULT_CLIENTS))
    count = int(os.environ.get("BENCH_REDIRECT_LINKS", DEFAULT_LINKS))
    # The same server as bench/load.py (2 sync workers) unless asked otherwise.
    load.WORKERS = int(os.environ.get("BENCH_REDIRECT_WORKERS", load.WORKERS))
    worker_class = os.environ.get("BENCH_REDIRECT_WORKER_CLASS", "sync")
    threads = int(os.environ.get("BENCH_REDIRECT_THREADS", 4)) if worker_class == "gthread" else 1
    keep_alive = os.environ.get("BENCH_REDIRECT_KEEPALIVE", "1") != "0"
    # gunicorn's --preload: a recycled worker forks from a master that has imported the
    # app, rather than importing it again (seconds of CPU on a busy machine).
    preload = os.environ.get("BENCH_REDIRECT_PRELOAD", "0") == "1"
    extra = ("--preload",) if preload else ()
    use_wrk = (
        shutil.which("wrk") is not None and os.environ.get("BENCH_REDIRECT_CLIENT") != "python"
    )
    if not use_wrk:
        print("notice: wrk is not installed (or BENCH_REDIRECT_CLIENT=python): Python client")

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_redirect"
    settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    process: subprocess.Popen[bytes] | None = None
    redis_client = links_service._redis()
    redis_client.delete(*links_service.click_keys())
    try:
        links = _seed(count)
        port = _free_port()
        log = Path(__file__).resolve().parent.parent / "var" / "redirect-gunicorn.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        connection.close()
        # Production settings refuse to start without it (bench/load.py does not pass it).
        os.environ.setdefault("AUDIT_HMAC_KEYS", ",".join(settings.AUDIT_HMAC_KEYS))
        process = _start_gunicorn(
            name, port, log, worker_class=worker_class, threads=threads, extra=extra
        )
        _wait_ready(links, port, load.WORKERS)
        # Warm-up: each worker imports and connects on its first requests. Counted too,
        # so the check below compares every request sent with every click counted.
        if use_wrk:
            warm = _wrk(links, port, 2, 3, keep_alive=keep_alive)
            warm_sent, warm_errors = warm.ok, warm.errors
            cpu_before = _workers_cpu_s(process.pid)
            run_ = _wrk(links, port, clients, seconds, keep_alive=keep_alive)
            server_cpu = _workers_cpu_s(process.pid) - cpu_before
            requests, errors, elapsed = run_.ok, run_.errors, run_.seconds
            p50, p99, client_cpu = run_.p50_ms, run_.p99_ms, run_.cpu_s
        else:
            warm_up, _elapsed = _drive(links, port, 2, 3)
            warm_sent, warm_errors = len(warm_up.latencies), warm_up.errors
            cpu_before, client_before = _workers_cpu_s(process.pid), time.process_time()
            results, elapsed = _drive(links, port, clients, seconds)
            server_cpu = _workers_cpu_s(process.pid) - cpu_before
            client_cpu = time.process_time() - client_before
            requests, errors = len(results.latencies), results.errors
            p50 = _percentile(results.latencies, 0.5)
            p99 = _percentile(results.latencies, 0.99)
        load_average = os.getloadavg()[0]
        sent = warm_sent + requests
        # What the periodic task does every few seconds.
        links_service.short_link_clicks_flush()
        counted = ShortLinkClick.objects.aggregate(total=Sum("clicks"))["total"] or 0
        bots = ShortLinkClick.objects.aggregate(total=Sum("bot_clicks"))["total"] or 0
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        redis_client.delete(*links_service.click_keys())
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)

    client = "wrk" if use_wrk else "python threads"
    print(
        f"notice: client {client}, {worker_class} workers, keep-alive "
        f"{'asked' if keep_alive and use_wrk else 'off'}"
        + (" (sync workers close every connection)" if worker_class == "sync" else "")
    )
    return [
        ("redirect_seconds", elapsed, "s"),
        ("redirect_client_wrk", float(use_wrk), "yes=1"),
        ("redirect_clients", float(clients), "connections"),
        ("redirect_gunicorn_workers", float(load.WORKERS), "workers"),
        ("redirect_gunicorn_threads", float(threads), "threads"),
        ("redirect_keep_alive", float(keep_alive and use_wrk), "yes=1"),
        ("redirect_gunicorn_preload", float(preload), "yes=1"),
        ("redirect_requests", float(requests), "requests"),
        ("redirect_req_per_s", requests / elapsed, "req/s"),
        ("redirect_p50_ms", p50, "ms"),
        ("redirect_p99_ms", p99, "ms"),
        # CPU per redirect, so the figure can be read on a machine others share too.
        ("redirect_server_cpu_ms", server_cpu * 1000 / max(1, requests), "ms"),
        ("redirect_client_cpu_ms", client_cpu * 1000 / max(1, requests), "ms"),
        ("redirect_load_average", load_average, "load"),
        ("redirect_errors", float(errors + warm_errors), "errors"),
        ("redirect_requests_sent_incl_warm_up", float(sent), "requests"),
        ("redirect_clicks_counted", float(counted), "clicks"),
        ("redirect_bot_clicks_counted", float(bots), "clicks"),
        ("redirect_count_mismatch", float(counted - sent), "clicks"),
        # Requests wrk leaves unanswered when it stops (one per connection at most).
        ("redirect_count_mismatch_allowed_max", float(clients + 2 if use_wrk else 0), "clicks"),
    ]
