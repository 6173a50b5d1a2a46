"""Every move of a post's state machine: the allowed ones and the refused ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.models import AuditEvent
from publishing.models import JobStatus, Post, PostStatus, PublishJob
from publishing.services.approval import post_approve, post_request_changes
from publishing.services.errors import InvalidTransition
from publishing.services.posts import (
    post_cancel,
    post_create,
    post_reschedule,
    post_schedule,
    post_submit_for_review,
    post_unschedule,
    post_withdraw,
    variant_save,
)
from publishing.tests.fixtures import approved, draft, scheduled

pytestmark = pytest.mark.django_db


def actions(post: Post) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="publishing.post", target_id=str(post.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_a_new_post_is_a_draft_and_audited(team):
    post = post_create(membership=team.eddie, title="Road works")
    assert post.status == PostStatus.DRAFT
    assert actions(post) == ["post.created"]


def test_an_auditor_cannot_write_posts(team):
    with pytest.raises(PermissionDenied):
        post_create(membership=team.carol, title="Nope")


def test_a_limited_editor_cannot_write_for_an_account_they_cannot_see(team):
    post = post_create(membership=team.bob, title="Mayor")
    with pytest.raises(PermissionDenied):
        variant_save(
            post=post, membership=team.bob, channel_account=team.other_account,
            language="fi", text="Hei",
        )  # fmt: skip


def test_submitting_a_draft_puts_it_in_review_and_tells_reviewers(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.review_round == 1
    notified = set(team.rita.user.notifications.values_list("kind", flat=True))
    assert "post.review_requested" in notified
    assert "post.submitted" in actions(post)


def test_a_post_without_targets_cannot_be_submitted(team):
    post = post_create(membership=team.eddie, title="Empty")
    with pytest.raises(ValidationError, match="at least one account"):
        post_submit_for_review(post=post, membership=team.eddie)


def test_a_post_too_long_for_its_network_cannot_be_submitted(team):
    post = draft(team.eddie, team.account, "x" * 501)
    with pytest.raises(ValidationError, match="501 characters long; the limit is 500"):
        post_submit_for_review(post=post, membership=team.eddie)


def test_submitting_twice_is_refused(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    with pytest.raises(InvalidTransition, match="in review"):
        post_submit_for_review(post=post, membership=team.eddie)


def test_withdrawing_takes_a_post_back_to_draft(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    post_withdraw(post=post, membership=team.eddie)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_a_draft_cannot_be_withdrawn(team):
    post = draft(team.eddie, team.account)
    with pytest.raises(InvalidTransition):
        post_withdraw(post=post, membership=team.eddie)


def test_approving_moves_it_to_approved_and_tells_the_author(team):
    post = approved(team)
    assert post.approved_at is not None
    assert "post.approved" in team.eddie.user.notifications.values_list("kind", flat=True)
    assert actions(post)[-2:] == ["post.review_approved", "post.approved"]


def test_a_draft_cannot_be_approved(team):
    post = draft(team.eddie, team.account)
    with pytest.raises(InvalidTransition):
        post_approve(post=post, membership=team.rita)


def test_requesting_changes_sends_it_back_with_the_comment(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    post_request_changes(post=post, membership=team.rita, comment="Add the address.")
    post.refresh_from_db()
    assert post.status == PostStatus.CHANGES_REQUESTED
    notice = team.eddie.user.notifications.get(kind="post.changes_requested")
    assert "Add the address." in notice.message
    event = AuditEvent.objects.get(action="post.changes_requested")
    assert event.new_values["comment"] == "Add the address."


def test_requesting_changes_needs_a_comment(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    with pytest.raises(ValidationError, match="what should change"):
        post_request_changes(post=post, membership=team.rita, comment=" ")


def test_a_post_with_changes_requested_can_be_resubmitted_in_a_new_round(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    post_request_changes(post=post, membership=team.rita, comment="Shorter.")
    post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert post.review_round == 2


def test_scheduling_an_approved_post_creates_one_job_per_variant(team):
    post = approved(team)
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account,
        language="sv", text="Biblioteket öppnar kl. 9.",
    )  # fmt: skip
    post.refresh_from_db()
    # Adding the Swedish variant sent it back to review; approve again, then schedule.
    assert post.status == PostStatus.IN_REVIEW
    post_approve(post=post, membership=team.rita)
    at = timezone.now() + timedelta(hours=2)
    post_schedule(post=post, membership=team.eddie, at=at)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == at
    jobs = PublishJob.objects.filter(post=post)
    assert sorted(jobs.values_list("variant__language", flat=True)) == ["fi", "sv"]
    assert {j.due_at for j in jobs} == {at}
    assert len({j.idempotency_key for j in jobs}) == 2


def test_a_post_in_review_cannot_be_scheduled(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    with pytest.raises(InvalidTransition, match="cannot be scheduled"):
        post_schedule(post=post, membership=team.eddie, at=timezone.now())


def test_a_naive_time_is_refused(team):
    post = approved(team)
    with pytest.raises(ValidationError, match="time zone"):
        post_schedule(post=post, membership=team.eddie, at=timezone.now().replace(tzinfo=None))


def test_rescheduling_moves_the_jobs(team):
    post = scheduled(team)
    later = timezone.now() + timedelta(days=1)
    post_reschedule(post=post, membership=team.eddie, at=later)
    job = PublishJob.objects.get(post=post)
    assert job.due_at == later and job.next_attempt_at == later
    assert "post.rescheduled" in actions(post)


def test_unscheduling_returns_to_approved_and_cancels_the_jobs(team):
    post = scheduled(team)
    post_unschedule(post=post, membership=team.eddie)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    assert PublishJob.objects.get(post=post).status == JobStatus.CANCELLED


@pytest.mark.parametrize("state", ["draft", "in_review", "approved", "scheduled"])
def test_a_post_can_be_cancelled_before_publishing(team, state):
    post = {
        "draft": lambda: draft(team.eddie, team.account),
        "in_review": lambda: _in_review(team),
        "approved": lambda: approved(team),
        "scheduled": lambda: scheduled(team),
    }[state]()
    post_cancel(post=post, membership=team.eddie, reason="Event called off")
    post.refresh_from_db()
    assert post.status == PostStatus.CANCELLED
    assert not PublishJob.objects.filter(post=post).exclude(status=JobStatus.CANCELLED).exists()


def _in_review(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    return post


@pytest.mark.parametrize("state", [PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.FAILED])
def test_a_post_cannot_be_cancelled_once_publishing_started(team, state):
    post = scheduled(team)
    Post.objects.filter(pk=post.pk).update(status=state)
    post.refresh_from_db()
    with pytest.raises(InvalidTransition):
        post_cancel(post=post, membership=team.eddie)


def test_a_cancelled_post_cannot_be_submitted_again(team):
    post = draft(team.eddie, team.account)
    post_cancel(post=post, membership=team.eddie)
    with pytest.raises(InvalidTransition):
        post_submit_for_review(post=post, membership=team.eddie)


def test_a_running_job_blocks_cancelling(team):
    post = scheduled(team)
    PublishJob.objects.filter(post=post).update(status=JobStatus.RUNNING)
    with pytest.raises(ValidationError, match="being published right now"):
        post_cancel(post=post, membership=team.eddie)


def test_a_stale_copy_of_the_post_cannot_move_it_twice(team):
    post = draft(team.eddie, team.account)
    stale = Post.objects.get(pk=post.pk)
    post_submit_for_review(post=post, membership=team.eddie)
    # The service re-reads the row under its lock, so the stale copy's "draft" is ignored.
    with pytest.raises(InvalidTransition):
        post_submit_for_review(post=stale, membership=team.eddie)
