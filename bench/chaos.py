"""Chaos: 1,000 posts due over 3 minutes while publish workers are SIGKILLed and Redis restarts.

Real Celery processes (two publish workers and beat, PostgreSQL, a Redis of the
benchmark's own that it restarts twice without persistence, so every queued
message is lost) publish to the local Mastodon test server through a fault
proxy: it resets the connection, or stalls past the connector's read timeout,
after the instance has created the status. A publish worker is SIGKILLed every
10-30 s and started again at once (as compose or scripts/respawn would).

Figures: ``chaos_duplicates`` (a second status with the same text),
``chaos_lost`` (due posts never on the network), ``chaos_p99_lateness_s`` (due
time to the moment the instance created the status), ``chaos_recovery_s`` (the
longest time from a kill until every job the killed worker was running had been
taken back and tried again by a live worker, reconciled first, or was settled),
``chaos_worker_crashes`` (workers that exited on their own).
Goal: 0, 0, <= 30 s, <= 30 s. Needs DATABASE_URL=postgres://... and the
redis-server program.

Knobs (environment): BENCH_CHAOS_POSTS (1000), BENCH_CHAOS_WINDOW_SECONDS (180),
BENCH_CHAOS_ACCOUNTS (50), BENCH_CHAOS_CONCURRENCY (per worker, 3),
BENCH_CHAOS_RESET_RATE (0.03), BENCH_CHAOS_STALL_RATE (0.01),
BENCH_CHAOS_KILL_MIN_SECONDS / _MAX_SECONDS (10 / 30), BENCH_CHAOS_SEED (1),
BENCH_CHAOS_LOG_DIR (keep the processes' logs there). For a quick run:
BENCH_CHAOS_POSTS=100 BENCH_CHAOS_WINDOW_SECONDS=40.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Figure, django_setup

DATABASE_NAME = "govsocial_bench_chaos"
STATUSES = b"/api/v1/statuses"
# Longer than the connectors' read timeout (accounts.http.DEFAULT_TIMEOUT: 20 s).
STALL_SECONDS = 22.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class FaultProxy:
    """A TCP proxy in front of the test server. Each connection carries one request
    (the answer says ``Connection: close``); for ``POST /api/v1/statuses`` it lets the
    instance create the status, then resets the connection or stalls instead of
    answering, at the given rates."""

    def __init__(self, upstream_port: int, *, reset_rate: float, stall_rate: float, seed: int):
        self.upstream_port = upstream_port
        self.reset_rate = reset_rate
        self.stall_rate = stall_rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.resets = 0
        self.stalls = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = int(self.listener.getsockname()[1])
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _fault(self, request: bytes) -> str:
        if not request.startswith(b"POST " + STATUSES + b" "):
            return ""
        with self.lock:
            draw = self.random.random()
            if draw < self.reset_rate:
                self.resets += 1
                return "reset"
            if draw < self.reset_rate + self.stall_rate:
                self.stalls += 1
                return "stall"
        return ""

    def _serve(self, client: socket.socket) -> None:
        try:
            request = _read_request(client)
            if not request:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=60)
            with upstream:
                upstream.sendall(_with_close(request))
                answer = _read_all(upstream)
            fault = self._fault(request)
            if fault == "reset":
                # SO_LINGER 0: close sends RST, as a dropped connection does.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if fault == "stall":
                self.stopped.wait(STALL_SECONDS)
                return
            client.sendall(answer)
        except OSError:
            return
        finally:
            client.close()


def _read_request(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _with_close(request: bytes) -> bytes:
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _read_all(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@contextmanager
def _database() -> Iterator[None]:
    from django.db import connection

    connection.settings_dict.setdefault("TEST", {})["NAME"] = DATABASE_NAME
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _process_group(pgid: int) -> set[int]:
    """Pids in process group ``pgid`` (a worker and its pool)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def run() -> list[Figure]:
    django_setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench chaos needs PostgreSQL: set DATABASE_URL=postgres://…")
    posts = int(os.environ.get("BENCH_CHAOS_POSTS", 1000))
    window = float(os.environ.get("BENCH_CHAOS_WINDOW_SECONDS", 180))
    accounts = int(os.environ.get("BENCH_CHAOS_ACCOUNTS", 50))
    concurrency = int(os.environ.get("BENCH_CHAOS_CONCURRENCY", 3))
    reset_rate = float(os.environ.get("BENCH_CHAOS_RESET_RATE", 0.03))
    stall_rate = float(os.environ.get("BENCH_CHAOS_STALL_RATE", 0.01))
    kill_every = (
        float(os.environ.get("BENCH_CHAOS_KILL_MIN_SECONDS", 10)),
        float(os.environ.get("BENCH_CHAOS_KILL_MAX_SECONDS", 30)),
    )
    seed = int(os.environ.get("BENCH_CHAOS_SEED", 1))
    os.environ.setdefault("CONNECTORS_ALLOW_PRIVATE_NETWORKS", "true")

    from publishing.tests.processes import RedisServer
    from tests.mastodon_server.server import MastodonTestServer

    keep = os.environ.get("BENCH_CHAOS_LOG_DIR", "")
    with _database(), tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        folder = Path(keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "redis").mkdir(exist_ok=True)
        redis_server = RedisServer(folder / "redis")
        redis_server.start()
        server = MastodonTestServer().start()
        upstream_port = int(server.base_url.rsplit(":", 1)[1])
        proxy = FaultProxy(upstream_port, reset_rate=reset_rate, stall_rate=stall_rate, seed=seed)
        try:
            return _measure(
                server=server,
                proxy=proxy,
                redis_server=redis_server,
                folder=folder,
                posts=posts,
                window=window,
                accounts=accounts,
                concurrency=concurrency,
                kill_every=kill_every,
                rng=random.Random(seed),
            )
        finally:
            proxy.stop()
            server.stop()
            redis_server.stop()


class _Workers:
    """Two publish workers on the benchmark's queue, killed and started again by name."""

    def __init__(self, celery: Any, concurrency: int) -> None:
        self.celery = celery
        self.concurrency = concurrency
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started = 0

    def start(self, slot: str) -> None:
        self.started += 1
        name = f"{slot}-{self.started}"
        self.processes[slot] = self.celery._spawn(
            name,
            [
                "worker", "-Q", self.celery.queue, "-c", str(self.concurrency),
                # As in production (docker-compose.yml): gossip, mingle and heartbeats on.
                "--pool=prefork", "-n", f"{self.celery.queue}-{name}@%h", "-l", "info",
            ],
        )  # fmt: skip

    def kill(self, slot: str) -> set[int]:
        """SIGKILL a worker and its pool; returns their pids."""
        process = self.processes[slot]
        pids = _process_group(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return pids

    def dead(self) -> list[str]:
        return [slot for slot, p in self.processes.items() if p.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _measure(
    *,
    server: Any,
    proxy: FaultProxy,
    redis_server: Any,
    folder: Path,
    posts: int,
    window: float,
    accounts: int,
    concurrency: int,
    kill_every: tuple[float, float],
    rng: random.Random,
) -> list[Figure]:
    from django.utils import timezone

    from accounts.models import ChannelAccount
    from governance.models import Organization, User
    from publishing.models import (
        FINAL_JOB_STATUSES,
        JobStatus,
        Post,
        PostStatus,
        PublishJob,
        Variant,
    )
    from publishing.tests.processes import CeleryProcesses

    organization = Organization.objects.create(name="Chaos City", slug="chaos-city")
    author = User.objects.create_user("chaos@bench.example", None)
    remote_accounts = [server.create_account(f"desk{n}") for n in range(accounts)]
    proxied = f"http://127.0.0.1:{proxy.port}"
    channel_accounts = ChannelAccount.objects.bulk_create(
        ChannelAccount(
            organization=organization,
            network="mastodon",
            handle=f"@{remote.username}@social.example",
            server_url=proxied,
            remote_id=remote.id,
            credentials={"access_token": server.issue_token(remote)},
        )
        for remote in remote_accounts
    )
    celery = CeleryProcesses(folder, broker_url=redis_server.url, concurrency=concurrency)
    workers = _Workers(celery, concurrency)
    kills: list[tuple[float, set[int]]] = []
    redis_restarts = 0
    crashes = 0
    try:
        for slot in ("a", "b"):
            workers.start(slot)
        celery.start_beat()
        log = folder / "a-1.log"
        celery.wait_for(lambda: " ready." in log.read_text(), "the first worker")

        begin = timezone.now() + timedelta(seconds=5)
        step = window / posts
        due = [begin + timedelta(seconds=n * step) for n in range(posts)]
        post_rows = Post.objects.bulk_create(
            Post(
                organization=organization,
                title=f"Chaos {n}",
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
                text=f"Chaos post {n}",
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

        start = time.monotonic()
        lead = (begin - timezone.now()).total_seconds()
        next_kill = start + lead + rng.uniform(*kill_every)
        restarts = [start + lead + window / 3, start + lead + 2 * window / 3]
        # (kill time, its wall-clock time, ids of the jobs the killed worker was running)
        pending: list[tuple[float, datetime, set[str]]] = []
        recovery: list[float] = []
        deadline = start + lead + window + 300
        unfinished = PublishJob.objects.exclude(status__in=FINAL_JOB_STATUSES)
        while time.monotonic() < deadline:
            now = time.monotonic()
            in_window = now < start + lead + window
            if in_window and now >= next_kill:
                slot = rng.choice(["a", "b"])
                pids = workers.kill(slot)
                owners = [
                    (pk, owner)
                    for pk, owner in PublishJob.objects.filter(
                        status=JobStatus.RUNNING
                    ).values_list("pk", "lease_owner")
                ]
                held = {str(pk) for pk, owner in owners if _owner_pid(owner) in pids}
                kills.append((now, pids))
                pending.append((now, timezone.now(), held))
                workers.start(slot)
                next_kill = now + rng.uniform(*kill_every)
            if restarts and now >= restarts[0]:
                restarts.pop(0)
                redis_server.stop()
                redis_server.start()
                redis_restarts += 1
            for slot in workers.dead():
                crashes += 1
                workers.start(slot)  # died on its own: restarted, as compose would
            still = []
            for killed_at, killed_wall, held in pending:
                # Recovered: every job it held was taken back and tried again by a live
                # worker (reconciled first), or is settled.
                waiting = (
                    PublishJob.objects.filter(pk__in=[int(pk) for pk in held])
                    .exclude(status__in=FINAL_JOB_STATUSES)
                    .exclude(attempt_rows__started_at__gt=killed_wall)
                )
                if held and waiting.exists():
                    still.append((killed_at, killed_wall, held))
                else:
                    recovery.append(time.monotonic() - killed_at if held else 0.0)
            pending = still
            if not in_window and not restarts and not unfinished.exists():
                break
            time.sleep(0.5)
        recovery.extend(time.monotonic() - killed_at for killed_at, _wall, _held in pending)
    finally:
        workers.stop()
        celery.stop()

    due_by_text = {f"Chaos post {n}": due[n] for n in range(posts)}
    statuses = [s for s in server.statuses.values() if s.text in due_by_text]
    seen: dict[str, int] = {}
    for status in statuses:
        seen[status.text] = seen.get(status.text, 0) + 1
    duplicates = sum(count - 1 for count in seen.values())
    first_by_text: dict[str, datetime] = {}
    for status in sorted(statuses, key=lambda s: s.created_at):
        first_by_text.setdefault(status.text, status.created_at)
    lost = posts - len(first_by_text)
    lateness = [
        (created - due_by_text[text].astimezone(UTC)).total_seconds()
        for text, created in first_by_text.items()
    ]
    failed = PublishJob.objects.filter(status=JobStatus.FAILED).count()
    review = PublishJob.objects.filter(status=JobStatus.HELD).count()
    return [
        ("chaos_posts", float(posts), "posts"),
        ("chaos_duplicates", float(duplicates), "posts"),
        ("chaos_lost", float(lost), "posts"),
        ("chaos_failed", float(failed), "posts"),
        ("chaos_needs_review", float(review), "posts"),
        ("chaos_p50_lateness_s", _percentile(lateness, 0.5) if lateness else 0.0, "s"),
        ("chaos_p99_lateness_s", _percentile(lateness, 0.99) if lateness else 0.0, "s"),
        ("chaos_max_lateness_s", max(lateness, default=0.0), "s"),
        ("chaos_recovery_s", max(recovery, default=0.0), "s"),
        ("chaos_worker_kills", float(len(kills)), "kills"),
        ("chaos_redis_restarts", float(redis_restarts), "restarts"),
        ("chaos_worker_crashes", float(crashes), "exits"),
        ("chaos_resets", float(proxy.resets), "answers"),
        ("chaos_stalls", float(proxy.stalls), "answers"),
    ]


def _owner_pid(owner: str) -> int:
    """The pid in a lease owner (``host:pid:suffix``, see ``default_worker_name``)."""
    parts = owner.split(":")
    return int(parts[1]) if len(parts) >= 3 and parts[1].isdigit() else -1
