"""Claims are exclusive across connections: two dispatchers (a doubled beat) running at
the same moment on PostgreSQL claim each job once, and two workers handed the same
job publish it once. Needs a database with row locks and real concurrent connections."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.models import SandboxPost
from publishing.models import JobStatus, PublishJob
from publishing.services.dispatch import dispatch_due, publish_job_run
from publishing.tests.fixtures import scheduled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def needs_postgresql():
    if connection.vendor != "postgresql":
        reason = (
            "needs PostgreSQL: concurrent connections to pytest's SQLite test database "
            "cannot run at once (set DATABASE_URL=postgres://...)"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_dispatchers_claim_each_job_exactly_once(team):
    at = timezone.now() - timedelta(seconds=1)
    for _ in range(40):
        scheduled(team, at=timezone.now() + timedelta(minutes=1))
    PublishJob.objects.update(due_at=at, next_attempt_at=at)

    def dispatcher(_index: int) -> list[int]:
        claimed: list[int] = []
        while True:
            batch = dispatch_due(limit=3, enqueue=lambda ids: None)
            if not batch:
                return claimed
            claimed.extend(batch)

    first, second, third = in_threads(3, dispatcher)
    everything = first + second + third
    assert len(everything) == len(set(everything)) == 40
    assert first and second and third  # they really ran side by side
    assert PublishJob.objects.filter(status=JobStatus.CLAIMED).count() == 40


def test_two_workers_given_the_same_job_publish_it_once(team):
    post = scheduled(team, at=timezone.now() + timedelta(minutes=1))
    PublishJob.objects.filter(post=post).update(
        due_at=timezone.now(), next_attempt_at=timezone.now()
    )
    [job_id] = dispatch_due(enqueue=lambda ids: None)
    outcomes = in_threads(2, lambda i: publish_job_run(job_id=job_id, worker=f"w{i}"))
    assert sorted(o.split(" ")[0] for o in outcomes) == ["published", "skipped"]
    assert SandboxPost.objects.filter(account=team.account, is_own=True).count() == 1
