"""The dispatcher and the publish service: on time, exactly once, or failed with a reason.

Jobs run in this process here (``run_due``); the same services run in real Celery
workers in tests/test_publishing_e2e.py and tests/test_publishing_faults.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.connectors import registry
from accounts.connectors.sandbox import SandboxConnector
from accounts.models import AccountStatus, ChannelAccount, SandboxPost
from governance.models import AuditEvent
from publishing.models import (
    AttemptKind,
    AttemptStatus,
    HoldReason,
    JobStatus,
    Post,
    PostStatus,
    PublishAttempt,
    PublishingSettings,
    PublishJob,
)
from publishing.services.dispatch import (
    dispatch_due,
    leases_sweep,
    publish_job_retry,
    published_variant_delete,
)
from publishing.services.posts import post_schedule, variant_save
from publishing.tests.fixtures import approved, scheduled

pytestmark = pytest.mark.django_db


def feed(account: ChannelAccount) -> list[SandboxPost]:
    return list(SandboxPost.objects.filter(account=account, is_own=True).order_by("pk"))


def fail_mode(account: ChannelAccount, mode: str) -> None:
    account.credentials = {"sandbox_fail_mode": mode} if mode else {}
    account.save(update_fields=["credentials"])


def job_of(post: Post) -> PublishJob:
    return PublishJob.objects.get(post=post)


@pytest.fixture
def due(team):
    """A post scheduled an hour ahead, and the moment it comes due."""
    at = timezone.now() + timedelta(hours=1)
    return scheduled(team, at=at), at


def test_a_due_post_is_published_once(team, due, run_due):
    post, at = due
    with time_machine.travel(at + timedelta(seconds=1), tick=False):
        assert run_due() == ["published"]
    [sent] = feed(team.account)
    assert sent.text == "Library opens at 9."
    assert sent.idempotency_key == str(job_of(post).idempotency_key)
    job = job_of(post)
    assert job.status == JobStatus.PUBLISHED
    assert job.remote_id == sent.remote_id
    assert job.attempts == 1
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert post.published_at is not None
    actions = AuditEvent.objects.filter(target_id=str(post.pk), target_type="publishing.post")
    assert {"post.publishing", "publish_job.published", "post.published"} <= set(
        actions.values_list("action", flat=True)
    )


def test_nothing_is_claimed_before_its_time(team, due, run_due):
    _post, at = due
    with time_machine.travel(at - timedelta(seconds=1), tick=False):
        assert run_due() == []
    assert feed(team.account) == []


def test_a_doubled_tick_claims_each_job_once(team, django_capture_on_commit_callbacks):
    at = timezone.now() + timedelta(minutes=5)
    posts = [scheduled(team, at=at) for _ in range(3)]
    enqueued: list[int] = []
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = dispatch_due(enqueue=enqueued.extend)
        second = dispatch_due(enqueue=enqueued.extend)
    assert sorted(first) == sorted(job_of(p).pk for p in posts)
    assert second == []
    assert sorted(enqueued) == sorted(first)


def test_a_duplicate_message_does_nothing(team, due, django_capture_on_commit_callbacks):
    from publishing.services.dispatch import publish_job_run

    _post, at = due
    with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
        [job_id] = dispatch_due(enqueue=lambda ids: None)
        assert publish_job_run(job_id=job_id) == "published"
        assert publish_job_run(job_id=job_id).startswith("skipped")
    assert len(feed(team.account)) == 1


def test_the_attempt_is_written_before_the_network_is_called(team, due, run_due, monkeypatch):
    post, at = due
    seen = []
    original = SandboxConnector.publish

    def publish(self, account, request):
        seen.append(list(PublishAttempt.objects.values_list("status", "kind")))
        return original(self, account, request)

    monkeypatch.setattr(SandboxConnector, "publish", publish)
    with time_machine.travel(at, tick=False):
        run_due()
    assert seen == [[(AttemptStatus.STARTED, AttemptKind.PUBLISH)]]
    attempt = PublishAttempt.objects.get()
    assert attempt.status == AttemptStatus.SUCCEEDED
    assert attempt.remote_id == job_of(post).remote_id
    assert attempt.duration_ms is not None and attempt.finished_at is not None


def test_past_the_late_cutoff_the_job_fails_with_the_reason(team, due, run_due):
    post, at = due
    with time_machine.travel(at + timedelta(minutes=31), tick=False):
        assert run_due() == ["failed"]
    assert feed(team.account) == []
    job = job_of(post)
    assert job.status == JobStatus.FAILED
    assert "could not go out within 30 minutes" in job.last_error_message
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED
    notice = team.eddie.user.notifications.get(kind="post.publish_failed")
    assert "not published late" in notice.message


def test_the_late_cutoff_is_the_organizations_setting(team, due, run_due):
    post, at = due
    PublishingSettings.objects.create(organization=post.organization, late_cutoff_minutes=60)
    with time_machine.travel(at + timedelta(minutes=31), tick=False):
        assert run_due() == ["published"]


def test_a_thread_is_published_as_replies_in_order(team, run_due):
    post = approved(team)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="1/3 Road works", thread_parts=["2/3 on Main Street", "3/3 until May"],
    )  # fmt: skip
    from publishing.services.approval import post_approve

    post_approve(post=post, membership=team.rita)
    at = timezone.now() + timedelta(minutes=1)
    post_schedule(post=post, membership=team.eddie, at=at)
    with time_machine.travel(at, tick=False):
        assert run_due() == ["published"]
    first, second, third = feed(team.account)
    assert [p.text for p in (first, second, third)] == [
        "1/3 Road works", "2/3 on Main Street", "3/3 until May",
    ]  # fmt: skip
    assert second.in_reply_to == first and third.in_reply_to == second
    assert third.thread_root == first
    assert [p["remote_id"] for p in job_of(post).remote_parts] == [
        first.remote_id, second.remote_id, third.remote_id,
    ]  # fmt: skip


def test_a_post_to_two_targets_is_published_when_both_are(team, run_due):
    post = approved(team)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account,
        language="sv", text="Biblioteket öppnar kl. 9.",
    )  # fmt: skip
    from publishing.services.approval import post_approve

    post_approve(post=post, membership=team.rita)
    at = timezone.now() + timedelta(minutes=1)
    post_schedule(post=post, membership=team.eddie, at=at)
    with time_machine.travel(at, tick=False):
        assert run_due() == ["published", "published"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert sorted(p.language for p in feed(team.account)) == ["fi", "sv"]


# --- error kinds ----------------------------------------------------------------------------


def test_a_transient_error_retries_later_with_backoff_in_the_database(team, due, run_due):
    post, at = due
    fail_mode(team.account, "transient")
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
        job = job_of(post)
        assert job.status == JobStatus.PENDING
        assert job.next_attempt_at == timezone.now() + timedelta(seconds=5)
        assert job.last_error_kind == "transient"
        assert run_due() == []  # not before its back-off
    fail_mode(team.account, "")
    with time_machine.travel(at + timedelta(seconds=5), tick=False):
        assert run_due() == ["published"]
    assert len(feed(team.account)) == 1
    assert job_of(post).attempts == 2


def test_backoff_grows_with_each_attempt(team, due, run_due):
    post, at = due
    fail_mode(team.account, "transient")
    moment = at
    waits = []
    for _ in range(4):
        with time_machine.travel(moment, tick=False):
            run_due()
            job = job_of(post)
            waits.append((job.next_attempt_at - timezone.now()).total_seconds())
            moment = job.next_attempt_at
    assert waits == [5, 10, 20, 40]


def test_a_transient_error_that_persists_fails_in_the_end(team, due, run_due, settings):
    settings.PUBLISHING_MAX_ATTEMPTS = 3
    post, at = due
    fail_mode(team.account, "transient")
    moment = at
    outcomes = []
    for _ in range(3):
        with time_machine.travel(moment, tick=False):
            outcomes += run_due()
            moment = job_of(post).next_attempt_at
    assert outcomes == ["retry", "retry", "failed"]
    assert "kept failing after 3 tries" in job_of(post).last_error_message


def test_rate_limited_waits_the_networks_retry_after(team, due, run_due):
    post, at = due
    fail_mode(team.account, "rate_limited")
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
        job = job_of(post)
        assert job.next_attempt_at == timezone.now() + timedelta(seconds=60)
        assert job.last_error_kind == "rate_limited"


def test_an_auth_error_holds_the_job_and_marks_the_account(team, due, run_due):
    post, at = due
    fail_mode(team.account, "auth")
    with time_machine.travel(at, tick=False):
        assert run_due() == ["held"]
    job = job_of(post)
    assert job.status == JobStatus.HELD
    assert job.hold_reason == HoldReason.ACCOUNT
    team.account.refresh_from_db()
    assert team.account.status == AccountStatus.NEEDS_RECONNECT
    assert feed(team.account) == []


def test_a_job_for_an_account_needing_reconnect_is_held_not_sent(team, due, run_due):
    _post, at = due
    ChannelAccount.objects.filter(pk=team.account.pk).update(status=AccountStatus.NEEDS_RECONNECT)
    with time_machine.travel(at, tick=False):
        assert run_due() == ["held"]
    assert feed(team.account) == []


def test_a_rejection_fails_with_the_networks_reason_and_tells_the_author(team, due, run_due):
    post, at = due
    fail_mode(team.account, "rejected")
    with time_machine.travel(at, tick=False):
        assert run_due() == ["failed"]
    job = job_of(post)
    assert job.status == JobStatus.FAILED
    assert job.last_error_message.startswith("Sandbox (practice feed inside GovSocial) refused")
    assert "told to refuse everything" in job.last_error_message
    notice = team.eddie.user.notifications.get(kind="post.publish_failed")
    assert "refused the post" in notice.message
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED


def test_a_failed_target_can_be_retried_by_a_person(team, due, run_due):
    post, at = due
    fail_mode(team.account, "rejected")
    with time_machine.travel(at, tick=False):
        run_due()
    fail_mode(team.account, "")
    later = at + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        publish_job_retry(job=job_of(post), membership=team.eddie)
        post.refresh_from_db()
        assert post.status == PostStatus.PUBLISHING
        assert run_due() == ["published"]  # the cut-off counts from the retry
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert len(feed(team.account)) == 1


def test_an_unknown_outcome_is_reconciled_before_sending_again(team, due, run_due):
    post, at = due
    fail_mode(team.account, "timeout")  # the post lands, the answer is lost
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
    job = job_of(post)
    assert job.needs_reconcile
    assert PublishAttempt.objects.get().status == AttemptStatus.UNKNOWN
    fail_mode(team.account, "")
    with time_machine.travel(job.next_attempt_at, tick=False):
        assert run_due() == ["published"]
    [sent] = feed(team.account)
    assert job_of(post).remote_id == sent.remote_id


def test_an_unknown_outcome_that_never_landed_is_sent_once(team, due, run_due):
    post, at = due
    fail_mode(team.account, "timeout_unsent")
    with time_machine.travel(at, tick=False):
        assert run_due() == ["retry"]
    fail_mode(team.account, "")
    with time_machine.travel(job_of(post).next_attempt_at, tick=False):
        assert run_due() == ["published"]
    assert len(feed(team.account)) == 1


class NoKeySandbox(SandboxConnector):
    """The Sandbox without its idempotency promise: reconciling must look, not resend."""

    capabilities = SandboxConnector.capabilities.__class__(
        **{**SandboxConnector.capabilities.__dict__, "idempotency_window_seconds": 0}
    )


@pytest.fixture
def no_key_sandbox():
    registry.register("sandbox", NoKeySandbox)
    yield
    registry.register("sandbox", "accounts.connectors.sandbox.SandboxConnector")


def test_without_an_idempotency_promise_the_recent_posts_are_looked_up(
    team, due, run_due, no_key_sandbox
):
    post, at = due
    fail_mode(team.account, "timeout")
    with time_machine.travel(at, tick=False):
        run_due()
    fail_mode(team.account, "")
    with time_machine.travel(job_of(post).next_attempt_at, tick=False):
        assert run_due() == ["published"]
    [sent] = feed(team.account)
    kinds = list(PublishAttempt.objects.order_by("number").values_list("kind", "status"))
    assert kinds == [
        (AttemptKind.PUBLISH, AttemptStatus.UNKNOWN),
        (AttemptKind.RECONCILE, AttemptStatus.RECONCILED),
    ]
    assert job_of(post).remote_id == sent.remote_id


def test_a_late_unknown_outcome_is_looked_up_and_never_sent_late(team, due, run_due):
    post, at = due
    fail_mode(team.account, "timeout_unsent")
    with time_machine.travel(at, tick=False):
        run_due()
    fail_mode(team.account, "")
    with time_machine.travel(at + timedelta(minutes=45), tick=False):
        assert run_due() == ["failed"]
    assert feed(team.account) == []
    kinds = list(PublishAttempt.objects.order_by("number").values_list("kind", "status"))
    assert kinds[-1] == (AttemptKind.RECONCILE, AttemptStatus.NOT_FOUND)
    assert "not published late" in job_of(post).last_error_message


def test_a_late_unknown_outcome_that_did_land_is_recorded_as_published(team, due, run_due):
    _post, at = due
    fail_mode(team.account, "timeout")
    with time_machine.travel(at, tick=False):
        run_due()
    fail_mode(team.account, "")
    with time_machine.travel(at + timedelta(minutes=45), tick=False):
        assert run_due() == ["published"]
    assert len(feed(team.account)) == 1


# --- leases ---------------------------------------------------------------------------------


def test_a_claim_whose_message_was_lost_is_claimed_again(team, due, run_due):
    post, at = due
    with time_machine.travel(at, tick=False):
        dispatch_due(enqueue=lambda ids: None)  # the message never arrives
    assert job_of(post).status == JobStatus.CLAIMED
    with time_machine.travel(at + timedelta(seconds=15), tick=False):
        assert leases_sweep().claims_freed == 0  # the lease still runs
    with time_machine.travel(at + timedelta(seconds=21), tick=False):
        assert leases_sweep().claims_freed == 1
        assert run_due() == ["published"]
    assert len(feed(team.account)) == 1


def test_a_worker_that_died_mid_call_leaves_an_unknown_outcome(team, due, run_due):
    post, at = due
    job = job_of(post)
    # What a worker killed during the network call leaves behind.
    PublishJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        lease_owner="dead-worker",
        leased_until=at + timedelta(seconds=20),  # its last renewal
        attempts=1,
    )
    PublishAttempt.objects.create(job=job, number=1, worker="dead-worker", started_at=at)
    SandboxPost.objects.create(  # the network did get it
        account=team.account, remote_id="sbx_landed", author_handle=team.account.handle,
        text="Library opens at 9.", idempotency_key=str(job.idempotency_key),
    )  # fmt: skip
    with time_machine.travel(at + timedelta(seconds=19), tick=False):
        assert leases_sweep().runs_orphaned == 0
    with time_machine.travel(at + timedelta(seconds=21), tick=False):
        assert leases_sweep().runs_orphaned == 1
        job.refresh_from_db()
        assert job.status == JobStatus.PENDING and job.needs_reconcile
        assert PublishAttempt.objects.get(number=1).status == AttemptStatus.UNKNOWN
        assert run_due() == ["published"]
    assert job_of(post).remote_id == "sbx_landed"
    assert len(feed(team.account)) == 1


@pytest.fixture
def died_behind_a_busy_feed(team, due, settings):
    """A worker died after the Sandbox took the post; the account then posted 45 more
    (a third of them replies), and the key's window has passed (shrunk to nothing)."""
    settings.PUBLISHING_IDEMPOTENCY_MARGIN_SECONDS = 8 * 24 * 3600
    post, at = due
    job = job_of(post)
    PublishJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, lease_owner="dead-worker", leased_until=at, attempts=1
    )
    PublishAttempt.objects.create(job=job, number=1, worker="dead-worker", started_at=at)
    with time_machine.travel(at, tick=False):
        landed = SandboxPost.objects.create(
            account=team.account, remote_id="sbx_landed", author_handle=team.account.handle,
            text="Library opens at 9.", idempotency_key=str(job.idempotency_key),
        )  # fmt: skip
    question = SandboxPost.objects.create(
        account=team.account, remote_id="sbx_question", is_own=False, author_handle="@resident",
        text="Is the library open on Sunday?", created_at=at,
    )  # fmt: skip
    for n in range(45):
        SandboxPost.objects.create(
            account=team.account, remote_id=f"sbx_newer_{n}", author_handle=team.account.handle,
            text=f"Newer post {n}", in_reply_to=question if n % 3 == 0 else None,
            created_at=at + timedelta(seconds=1 + n),
        )  # fmt: skip
    return post, at, landed


def test_a_sandbox_look_up_finds_the_post_behind_forty_five_newer_ones(
    team, died_behind_a_busy_feed, run_due
):
    post, at, landed = died_behind_a_busy_feed
    with time_machine.travel(at + timedelta(seconds=60), tick=False):
        assert leases_sweep().runs_orphaned == 1
        assert run_due() == ["published"]
    assert job_of(post).remote_id == landed.remote_id
    assert len(feed(team.account)) == 46  # nothing sent twice
    statuses = list(PublishAttempt.objects.order_by("number").values_list("status", flat=True))
    assert statuses == [AttemptStatus.UNKNOWN, AttemptStatus.RECONCILED]


def test_a_sandbox_look_up_cut_short_holds_the_job_for_review(
    team, died_behind_a_busy_feed, run_due, settings
):
    settings.PUBLISHING_LOOKUP_MAX_POSTS = 40
    post, at, _landed = died_behind_a_busy_feed
    with time_machine.travel(at + timedelta(seconds=60), tick=False):
        leases_sweep()
        assert run_due() == ["needs review"]
    job = job_of(post)
    assert (job.status, job.hold_reason) == (JobStatus.HELD, HoldReason.REVIEW)
    assert len(feed(team.account)) == 46
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHING


def test_deleting_a_published_post_removes_it_from_the_network(team, due, run_due):
    post, at = due
    with time_machine.travel(at, tick=False):
        run_due()
    job = published_variant_delete(job=job_of(post), membership=team.eddie)
    assert job.deleted_at is not None
    assert feed(team.account)[0].deleted_at is not None
    assert AuditEvent.objects.filter(action="publish_job.deleted_from_network").exists()
