"""Crisis pause: due jobs are held, not dropped; a manager decides about each afterwards;
emergency publishers publish through it, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from accounts.models import SandboxPost
from governance.models import AuditEvent
from publishing.models import HoldReason, JobStatus, PostStatus, PublishJob
from publishing.selectors import held_jobs
from publishing.services.pause import (
    emergency_publish,
    emergency_publisher_add,
    held_job_cancel,
    held_job_publish_now,
    held_job_reschedule,
    publishing_pause_end,
    publishing_pause_start,
)
from publishing.tests.fixtures import approved, scheduled

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(team):
    at = timezone.now() + timedelta(hours=1)
    return scheduled(team, at=at), at


def posts_in_feed(team) -> int:
    return SandboxPost.objects.filter(account=team.account, is_own=True).count()


def test_a_pause_holds_due_jobs_instead_of_publishing(team, due, run_due):
    post, at = due
    publishing_pause_start(membership=team.manny, reason="Storm warning")
    with time_machine.travel(at, tick=False):
        assert run_due() == ["held"]
    job = PublishJob.objects.get(post=post)
    assert job.status == JobStatus.HELD and job.hold_reason == HoldReason.PAUSE
    assert "Storm warning" in job.last_error_message
    assert posts_in_feed(team) == 0
    assert list(held_jobs(team.manny)) == [job]


def test_only_managers_and_admins_pause(team):
    with pytest.raises(PermissionDenied):
        publishing_pause_start(membership=team.eddie, reason="No")


def test_a_pause_needs_a_reason_and_there_is_one_at_a_time(team):
    with pytest.raises(ValidationError):
        publishing_pause_start(membership=team.manny, reason="  ")
    publishing_pause_start(membership=team.manny, reason="Storm")
    with pytest.raises(ValidationError, match="already paused"):
        publishing_pause_start(membership=team.alice, reason="Again")


def test_pausing_another_account_does_not_hold_this_one(team, due, run_due):
    _post, at = due
    publishing_pause_start(
        membership=team.manny, reason="Mayor's account compromised",
        channel_account=team.other_account,
    )  # fmt: skip
    with time_machine.travel(at, tick=False):
        assert run_due() == ["published"]


def test_resuming_keeps_held_jobs_for_review_and_tells_managers(team, due, run_due):
    post, at = due
    team.alice.user.preferred_language = "en"  # else the organization's language (fi)
    team.alice.user.save(update_fields=["preferred_language"])
    pause = publishing_pause_start(membership=team.manny, reason="Storm")
    with time_machine.travel(at, tick=False):
        run_due()
        publishing_pause_end(pause=pause, membership=team.manny)
        assert run_due() == []
    assert PublishJob.objects.get(post=post).status == JobStatus.HELD
    notice = team.alice.user.notifications.filter(kind="publishing.resumed").get()
    assert "1 held post is waiting" in notice.message
    assert AuditEvent.objects.filter(action="publishing.resumed").exists()


def test_a_held_job_can_be_published_now_after_the_pause(team, due, run_due):
    post, at = due
    pause = publishing_pause_start(membership=team.manny, reason="Storm")
    with time_machine.travel(at, tick=False):
        run_due()
    later = at + timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        job = PublishJob.objects.get(post=post)
        with pytest.raises(ValidationError, match="still paused"):
            held_job_publish_now(job=job, membership=team.manny)
        publishing_pause_end(pause=pause, membership=team.manny)
        held_job_publish_now(job=job, membership=team.manny)
        assert run_due() == ["published"]  # not late: its time became now
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert posts_in_feed(team) == 1


def test_a_held_job_can_be_rescheduled(team, due, run_due):
    post, at = due
    pause = publishing_pause_start(membership=team.manny, reason="Storm")
    with time_machine.travel(at, tick=False):
        run_due()
        publishing_pause_end(pause=pause, membership=team.manny)
        tomorrow = timezone.now() + timedelta(days=1)
        held_job_reschedule(
            job=PublishJob.objects.get(post=post), membership=team.manny, at=tomorrow
        )
    job = PublishJob.objects.get(post=post)
    assert job.status == JobStatus.PENDING and job.due_at == tomorrow
    post.refresh_from_db()
    assert post.scheduled_at == tomorrow
    with time_machine.travel(tomorrow, tick=False):
        assert run_due() == ["published"]


def test_a_held_job_can_be_cancelled_and_its_post_with_it(team, due, run_due):
    post, at = due
    publishing_pause_start(membership=team.manny, reason="Storm")
    with time_machine.travel(at, tick=False):
        run_due()
    held_job_cancel(job=PublishJob.objects.get(post=post), membership=team.manny, reason="Moot")
    post.refresh_from_db()
    assert post.status == PostStatus.CANCELLED
    assert posts_in_feed(team) == 0


def test_an_editor_cannot_release_held_jobs(team, due, run_due):
    post, at = due
    publishing_pause_start(membership=team.manny, reason="Storm")
    with time_machine.travel(at, tick=False):
        run_due()
    with pytest.raises(PermissionDenied):
        held_job_publish_now(job=PublishJob.objects.get(post=post), membership=team.eddie)


def test_an_emergency_publisher_publishes_through_the_pause_with_a_reason(team, run_due):
    post = approved(team)
    publishing_pause_start(membership=team.manny, reason="Storm")
    emergency_publisher_add(membership=team.manny, member=team.eddie)
    emergency_publish(post=post, membership=team.eddie, reason="Evacuation notice")
    assert run_due() == ["published"]
    assert posts_in_feed(team) == 1
    event = AuditEvent.objects.get(action="publishing.emergency_publish")
    assert event.new_values["reason"] == "Evacuation notice"
    assert event.actor == team.eddie.user


def test_an_emergency_publisher_releases_a_held_post(team, due, run_due):
    post, at = due
    publishing_pause_start(membership=team.manny, reason="Storm")
    emergency_publisher_add(membership=team.manny, member=team.manny)
    with time_machine.travel(at, tick=False):
        assert run_due() == ["held"]
        emergency_publish(post=post, membership=team.manny, reason="Road closure")
        assert run_due() == ["published"]


def test_someone_not_named_cannot_publish_during_a_pause(team):
    post = approved(team)
    publishing_pause_start(membership=team.manny, reason="Storm")
    with pytest.raises(PermissionDenied):
        emergency_publish(post=post, membership=team.manny, reason="Please")


def test_emergency_publishing_never_skips_approval(team):
    from publishing.tests.fixtures import draft

    post = draft(team.eddie, team.account)
    emergency_publisher_add(membership=team.manny, member=team.eddie)
    with pytest.raises(ValidationError, match="approved or scheduled"):
        emergency_publish(post=post, membership=team.eddie, reason="Urgent")


def test_each_manager_hears_of_the_pause_in_their_own_language(team):
    team.manny.user.preferred_language = "fi"
    team.manny.user.save(update_fields=["preferred_language"])
    team.alice.user.preferred_language = "sv"
    team.alice.user.save(update_fields=["preferred_language"])
    with translation.override("en"):  # whoever pauses works in English
        publishing_pause_start(membership=team.manny, reason="Myrsky")
    finnish = team.manny.user.notifications.get(kind="publishing.paused").message
    swedish = team.alice.user.notifications.get(kind="publishing.paused").message
    assert "keskeytti julkaisemisen" in finnish
    assert "paused publishing" not in swedish
    assert "Myrsky" in finnish and "Myrsky" in swedish
