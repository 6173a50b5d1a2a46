"""CI guard: under CI=true a missing service or browser stops the run instead of skipping tests.

Locally, tests that need PostgreSQL, Redis or Chromium may skip with a reason. In CI
(.ci/run sets CI=true and starts the services) such a skip would hide a broken
setup, so the session refuses to start unless everything is there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"


def ci_problems() -> list[str]:
    """What CI needs and is missing; empty when all is there."""
    problems: list[str] = []
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://", "pgsql://")):
        problems.append(f"DATABASE_URL must point at PostgreSQL, got {database_url!r}")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        problems.append("REDIS_URL is not set")
    else:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis at {redis_url} does not answer: {exc}")
    chromium = Path(os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium"))
    if not chromium.exists():
        problems.append(f"Chromium not found at {chromium} (apt-get install chromium)")
    if not AXE_SCRIPT.exists():
        problems.append(f"{AXE_SCRIPT.relative_to(REPO_ROOT)} missing (run npm ci)")
    return problems


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    problems = ci_problems()
    if problems:
        pytest.exit(
            "CI=true but the test environment is incomplete:\n  " + "\n  ".join(problems),
            returncode=3,
        )
