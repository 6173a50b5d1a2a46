"""`make run` keeps its Celery processes alive: scripts/respawn starts a process again
when it exits, and stops it (and itself) when honcho stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

RESPAWN = Path(__file__).resolve().parents[1] / "scripts" / "respawn"


def test_a_process_that_dies_is_started_again_and_stopped_with_the_loop(tmp_path):
    starts = tmp_path / "starts"
    # A "worker" that records each start, then dies as a crashed worker would.
    command = f"echo started >> {starts}; sleep 0.2; exit 1"
    loop = subprocess.Popen(
        [str(RESPAWN), "bash", "-c", command],
        env={**os.environ, "RESPAWN_DELAY": "0.1"},
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if starts.exists() and len(starts.read_text().splitlines()) >= 3:
            break
        time.sleep(0.1)
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(timeout=10) == 0
    assert len(starts.read_text().splitlines()) >= 3
    assert b"exited with status 1; starting it again" in loop.stderr.read()  # type: ignore[union-attr]


def test_stopping_the_loop_stops_a_running_process(tmp_path):
    pidfile = tmp_path / "pid"
    loop = subprocess.Popen(
        [str(RESPAWN), "bash", "-c", f"echo $$ > {pidfile}; exec sleep 60"],
    )
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(timeout=10) == 0
    time.sleep(0.2)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the process outlived its respawn loop")
