"""Faults on Threads, which has no idempotency key: a worker killed while Threads holds
its answer, a 500, a throttle, a revoked token and an image Threads cannot fetch. Each
post reaches Threads exactly once, or fails with a reason a person can read.

The first test runs real Celery worker and beat processes (PostgreSQL + Redis); the
others run the dispatcher in this process against the Threads test server, with time
moved by time-machine.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.connectors.threads import SCOPES
from accounts.models import AccountStatus, ChannelAccount
from publishing.models import (
    AttemptStatus,
    HoldReason,
    JobStatus,
    Post,
    PostStatus,
    PublishAttempt,
    PublishJob,
)
from publishing.services.posts import MediaSlot, post_schedule
from publishing.tests.fixtures import Team, approved, make_image
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from tests.threads_server.server import ThreadsTestServer

FAST_RECOVERY = {
    "PUBLISHING_TEST_RUN_LEASE": "6",
    "PUBLISHING_TEST_CLAIM_LEASE": "5",
    "PUBLISHING_TEST_SWEEP_SECONDS": "1",
}


def threads_account(team: Team, server: ThreadsTestServer) -> ChannelAccount:
    return ChannelAccount.objects.create(
        organization=team.alice.organization,
        network="threads",
        handle="@cityofexample",
        server_url=server.base_url,
        remote_id=server.user.id,
        credentials={"access_token": server.issue_token()},
        scopes=list(SCOPES),
    )


def schedule(team: Team, account: ChannelAccount, text: str, at, **kwargs) -> Post:
    post = approved(team, text, account=account, **kwargs)
    post_schedule(post=post, membership=team.eddie, at=at)
    return post


def texts_on(server: ThreadsTestServer) -> list[str]:
    return sorted(m.text for m in server.posts_of(server.user))


def publish_path(server: ThreadsTestServer) -> str:
    return f"/v1.0/{server.user.id}/threads_publish"


def containers_path(server: ThreadsTestServer) -> str:
    return f"/v1.0/{server.user.id}/threads"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_threads_holds_its_answer_publishes_exactly_once(
    team, threads_server, tmp_path
):
    broker_url = require_postgres_and_redis()
    account = threads_account(team, threads_server)
    # Threads publishes the container but holds its answer: the worker waits for it.
    threads_server.hang(
        method="POST", path_prefix=publish_path(threads_server), after_processing=True
    )
    with CeleryProcesses(tmp_path, broker_url=broker_url, overrides=FAST_RECOVERY) as celery:
        celery.start_worker()
        celery.start_beat()
        post = schedule(team, account, "Vesikatko Kalliossa tänään", timezone.now())
        celery.wait_for(
            lambda: (
                PublishAttempt.objects.filter(job__post=post, status=AttemptStatus.STARTED).exists()
                and threads_server.requests_to("POST", publish_path(threads_server))
            ),
            "the worker to be waiting for Threads",
        )
        celery.kill_worker()
        threads_server.release()
        assert texts_on(threads_server) == ["Vesikatko Kalliossa tänään"]
        celery.start_worker()
        celery.wait_for(
            lambda: Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHED).exists(),
            "the post to be published after the restart",
        )
    assert texts_on(threads_server) == ["Vesikatko Kalliossa tänään"]
    assert len(threads_server.requests_to("POST", publish_path(threads_server))) == 1
    [media] = threads_server.posts_of(threads_server.user)
    assert PublishJob.objects.get(post=post).remote_id == media.id
    statuses = list(
        PublishAttempt.objects.filter(job__post=post)
        .order_by("number")
        .values_list("status", flat=True)
    )
    assert statuses == [AttemptStatus.UNKNOWN, AttemptStatus.RECONCILED]


# --- Threads' answers (in this process) ---------------------------------------------------


@pytest.fixture
def due_on_threads(team, threads_server):
    account = threads_account(team, threads_server)
    at = timezone.now() + timedelta(hours=1)
    post = schedule(team, account, "Lumiaurat ovat liikkeellä tänä yönä.", at)
    return post, at, account


def job_of(post: Post) -> PublishJob:
    return PublishJob.objects.get(post=post)


@pytest.mark.django_db
def test_a_500_on_publish_is_retried_with_the_same_container(
    threads_server, due_on_threads, run_due
):
    post, at, _account = due_on_threads
    threads_server.fail_next(500, code=2, method="POST", path_prefix=publish_path(threads_server))
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
        job = job_of(post)
        assert (job.last_error_kind, job.attempts) == ("transient", 1)
        assert texts_on(threads_server) == []
    with time_machine.travel(job.next_attempt_at, tick=False):
        assert run_due() == ["published"]
    assert texts_on(threads_server) == ["Lumiaurat ovat liikkeellä tänä yönä."]
    # One container, prepared once and published on the second try.
    assert len(threads_server.requests_to("POST", containers_path(threads_server))) == 1


@pytest.mark.django_db
def test_a_throttle_postpones_the_post(threads_server, due_on_threads, run_due):
    post, at, _account = due_on_threads
    threads_server.fail_next(
        400,
        code=4,
        message="Application request limit reached",
        method="POST",
        path_prefix=containers_path(threads_server),
    )
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
        job = job_of(post)
        assert job.last_error_kind == "rate_limited"
        assert job.next_attempt_at > timezone.now()
    with time_machine.travel(job.next_attempt_at, tick=False):
        assert run_due() == ["published"]
    assert texts_on(threads_server) == ["Lumiaurat ovat liikkeellä tänä yönä."]


@pytest.mark.django_db
def test_a_revoked_token_holds_the_job_and_asks_for_a_reconnect(
    threads_server, due_on_threads, run_due
):
    post, at, account = due_on_threads
    threads_server.tokens[account.credentials["access_token"]].revoked = True
    with time_machine.travel(at, tick=False):
        assert run_due() == ["held"]
    job = job_of(post)
    assert (job.status, job.hold_reason) == (JobStatus.HELD, HoldReason.ACCOUNT)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert texts_on(threads_server) == []


@pytest.mark.django_db
def test_an_image_threads_cannot_fetch_fails_with_a_reason(
    team, threads_server, run_due, media_root, settings
):
    # Nothing answers at this address, so Threads cannot download the image.
    settings.SITE_URL = "http://127.0.0.1:9"
    account = threads_account(team, threads_server)
    image = make_image(team.eddie, alt={"fi": "Aurauskone"})
    at = timezone.now() + timedelta(hours=1)
    post = schedule(team, account, "Aurauskalusto", at, media=[MediaSlot(asset=image)])
    with time_machine.travel(at, tick=False):
        assert run_due() == ["failed"]
    message = job_of(post).last_error_message
    assert "Threads could not download the image." in message
    assert texts_on(threads_server) == []
