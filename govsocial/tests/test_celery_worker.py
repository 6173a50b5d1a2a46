"""A real Celery worker process picks a heartbeat off the broker and writes it to the database.

The worker is a subprocess on the test's own broker (Redis from REDIS_URL, else
kombu's filesystem transport in a temporary folder) and the test's own database,
so the whole path a beat tick takes is exercised: publish, consume, run, commit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from kombu import Exchange, Queue

from governance.models import WorkerHeartbeat
from govsocial.celery import app
from govsocial.tasks import heartbeat

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90


def database_url() -> str:
    """A URL for the test database pytest-django created, for the worker to use."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db["PASSWORD"] else ""
    credentials = f"{user}{password}@" if user else ""
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def filesystem_transport_options(var_dir: Path) -> dict[str, Any]:
    # The same folders govsocial.settings.base derives from GOVSOCIAL_VAR_DIR.
    folder = var_dir / "celery-broker"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_heartbeat_and_records_it(tmp_path):
    if connection.vendor != "postgresql":
        reason = (
            "needs PostgreSQL: the worker process cannot reach pytest's in-memory SQLite "
            "test database (set DATABASE_URL=postgres://...)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)

    var_dir = tmp_path / "var"
    redis_url = os.environ.get("REDIS_URL", "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "govsocial.settings.test",
        "DATABASE_URL": database_url(),
        "GOVSOCIAL_VAR_DIR": str(var_dir),
        "GOVSOCIAL_ENV_FILE": str(tmp_path / "absent.env"),
    }
    if redis_url:
        broker_url, transport_options = redis_url, {}
    else:
        env.pop("REDIS_URL", None)
        broker_url = "filesystem://"
        transport_options = filesystem_transport_options(var_dir)

    # A queue of this test's own, so the worker takes no stray message and no other
    # worker on the same broker (a developer's `make run`) takes ours.
    name = f"test-heartbeat-{uuid.uuid4().hex[:12]}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "govsocial", "worker",
                "-Q", name, "-c", "1", "--pool=solo", "-n", f"{name}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with app.connection_for_write(broker_url, transport_options=transport_options) as conn:
            queue(conn.default_channel).declare()
            heartbeat.apply_async(queue=name, connection=conn)

        deadline = time.monotonic() + WAIT_SECONDS
        while not WorkerHeartbeat.objects.filter(name="worker").exists():
            assert worker.poll() is None, "worker exited:\n" + log_path.read_text()
            assert time.monotonic() < deadline, (
                f"no heartbeat within {WAIT_SECONDS}s:\n" + log_path.read_text()
            )
            time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if redis_url:
            with app.connection_for_write(broker_url) as conn:
                queue(conn.default_channel).delete()

    beat = WorkerHeartbeat.objects.get(name="worker")
    assert beat.hostname
    assert "govsocial.tasks.heartbeat" in log_path.read_text()
