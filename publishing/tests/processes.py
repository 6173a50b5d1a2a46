"""Real Celery worker and beat processes for end-to-end and fault tests.

They run against the test's own database (pytest-django's, reached through
DATABASE_URL: so only on PostgreSQL) and a real Redis broker, with the
settings of ``publishing.tests.worker_settings``: a queue of the test's own,
and short leases so that a killed worker's job comes back in seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Locally a missing service skips the test; in CI it fails it."""
    if in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def require_postgres_and_redis() -> str:
    """The broker URL, or skip (locally) / fail (CI) when the services are missing."""
    if connection.vendor != "postgresql":
        skip_or_fail(
            "needs PostgreSQL: worker processes cannot reach pytest's in-memory SQLite test "
            "database (set DATABASE_URL=postgres://...)"
        )
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        skip_or_fail("needs Redis as the broker (set REDIS_URL=redis://...)")
    return redis_url


def database_url() -> str:
    """A URL for the test database pytest-django created, for the processes to use."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


class CeleryProcesses:
    """A worker and a beat on a private queue; logs go to files under ``folder``."""

    def __init__(
        self,
        folder: Path,
        *,
        broker_url: str,
        concurrency: int = 2,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.broker_url = broker_url
        self.concurrency = concurrency
        self.queue = f"test-publish-{uuid.uuid4().hex[:12]}"
        self.overrides = overrides or {}
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat: subprocess.Popen[bytes] | None = None
        self._workers_started = 0
        self._logs: list[Path] = []

    def env(self) -> dict[str, str]:
        var_dir = self.folder / "var"
        var_dir.mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "publishing.tests.worker_settings",
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.broker_url,
            "GOVSOCIAL_VAR_DIR": str(var_dir),
            "GOVSOCIAL_ENV_FILE": str(self.folder / "absent.env"),
            "PUBLISHING_TEST_QUEUE": self.queue,
            # The same keys as this process, so both read the credentials stored here.
            "SECRET_KEY": settings.SECRET_KEY,
            "ENCRYPTION_KEYS": ",".join(settings.ENCRYPTION_KEYS),
            "AUDIT_HMAC_KEYS": ",".join(settings.AUDIT_HMAC_KEYS),
            **self.overrides,
        }

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log_path = self.folder / f"{name}.log"
        self._logs.append(log_path)
        with log_path.open("w") as log:
            # A session of its own, so killing it kills its pool children too.
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "govsocial", *args],
                cwd=REPO_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self, *, like_production: bool = False) -> None:
        """A worker; ``like_production`` keeps gossip, mingle and heartbeats on (as
        docker-compose.yml and Procfile.dev run it), else they are off for a quick start."""
        self._workers_started += 1
        name = f"worker{self._workers_started}"
        quiet = [] if like_production else [
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        self.worker = self._spawn(
            name,
            [
                "worker", "-Q", self.queue, "-c", str(self.concurrency), "--pool=prefork",
                "-n", f"{self.queue}-{name}@%h", *quiet, "-l", "info",
            ],
        )  # fmt: skip
        log = self.folder / f"{name}.log"
        self.wait_for(lambda: " ready." in log.read_text(), f"{name} to be ready")

    def start_beat(self) -> None:
        self.beat = self._spawn(
            "beat",
            [
                "beat", "-l", "info",
                "-s", str(self.folder / "beat-schedule"),
                "--pidfile", str(self.folder / "beat.pid"),
            ],
        )  # fmt: skip

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool: what a crashed host or the OOM killer does."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)
        self.worker = None

    def stop(self) -> None:
        for process in (self.beat, self.worker):
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._forget_queue()

    def _forget_queue(self) -> None:
        """Remove the private queue (its lists and kombu's bindings) from the broker."""
        if not self.broker_url.startswith("redis"):
            return

        client = redis.Redis.from_url(self.broker_url, socket_connect_timeout=3)
        try:
            for key in client.scan_iter(match=f"*{self.queue}*"):
                client.delete(key)
        except redis.RedisError:
            pass  # a broker the test stopped on purpose keeps nothing anyway

    def logs(self) -> str:
        """The processes' logs without the ticks' routine lines."""
        routine = (
            "Sending due task",
            "publishing.tasks.dispatch_due",
            "publishing.tasks.sweep_leases",
        )
        parts = []
        for path in self._logs:
            if path.exists():
                lines = [
                    line
                    for line in path.read_text().splitlines()
                    if not any(marker in line for marker in routine)
                ]
                parts.append(f"--- {path.name} ---\n" + "\n".join(lines[-150:]))
        return "\n".join(parts)

    def wait_for(
        self, condition: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS
    ) -> Any:
        """Poll ``condition`` until it is truthy; fail with the processes' logs otherwise."""
        deadline = time.monotonic() + seconds
        while True:
            result = condition()
            if result:
                return result
            for process in (self.worker, self.beat):
                if process is not None and process.poll() is not None:
                    pytest.fail(f"a Celery process exited while waiting for {what}:\n{self.logs()}")
            if time.monotonic() > deadline:
                pytest.fail(f"gave up waiting for {what} after {seconds:.0f}s:\n{self.logs()}")
            time.sleep(0.2)

    def __enter__(self) -> CeleryProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A Redis of the test's own (never the shared one), that it can stop and start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Shut down without saving: every queued message is gone."""
        if self.process is None:
            return
        # Shutting down closes the connection under the client.
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis.from_url(self.url).shutdown(nosave=True)
        self.process.wait(timeout=30)
        self.process = None
