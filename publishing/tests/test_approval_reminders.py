"""Approval reminders: a stage waiting past its policy's limit reminds its approvers once,
then, past the second limit, tells the organization's managers once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from governance.models import AuditEvent, Notification, Role
from govsocial.celery import app as celery_app
from publishing.models import ApprovalReminder, OutsideReview
from publishing.services.approval import StageInput, approval_policy_save, post_approve
from publishing.services.outside_review import outside_review_revoke
from publishing.services.posts import post_submit_for_review, variant_save
from publishing.services.reminders import approval_reminders_send_due
from publishing.tasks import remind_waiting_approvals
from publishing.tests.fixtures import draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def mail_at_commit(monkeypatch):
    """Notices are e-mailed once the transaction commits; a test's never commits."""
    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )


@pytest.fixture
def english(team):
    org = team.alice.organization
    org.default_language = "en"
    org.save(update_fields=["default_language"])
    return org


def policy(team, *stages, remind=24, escalate=48):
    return approval_policy_save(
        membership=team.alice,
        name="Timed",
        stages=list(stages) or [StageInput(name="Comms", role=Role.REVIEWER)],
        remind_after_hours=remind,
        escalate_after_hours=escalate,
    )


def submitted(team):
    post = draft(team.eddie, team.account)
    post_submit_for_review(post=post, membership=team.eddie)
    post.refresh_from_db()
    mail.outbox.clear()
    return post


def notices(membership, kind):
    return list(
        Notification.objects.filter(user=membership.user, kind=kind).values_list(
            "message", flat=True
        )
    )


def later(post, hours):
    return post.submitted_at + timedelta(hours=hours, minutes=1)


def test_nothing_is_sent_before_the_limit(team, english):
    policy(team)
    post = submitted(team)
    assert approval_reminders_send_due(now=later(post, 23)) == 0
    assert not Notification.objects.filter(kind="post.review_reminder").exists()
    assert mail.outbox == []


def test_a_stage_waiting_past_the_limit_reminds_its_approvers_once(team, english):
    policy(team)
    post = submitted(team)
    assert approval_reminders_send_due(now=later(post, 24)) == 1
    # A doubled tick, and the next ticks: nothing more.
    assert approval_reminders_send_due(now=later(post, 24)) == 0
    assert approval_reminders_send_due(now=later(post, 30)) == 0
    assert notices(team.rita, "post.review_reminder") == [
        "Reminder: “Library” has waited more than 24 hours for your review."
    ]
    assert not notices(team.manny, "post.review_reminder")
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]
    assert "has waited more than 24 hours for your review" in mail.outbox[0].body
    entry = AuditEvent.objects.get(action="post.approval_reminder_sent")
    assert entry.new_values["to"] == ["rita@example.org"]


def test_past_the_second_limit_the_managers_are_told_once(team, english):
    policy(team)
    post = submitted(team)
    approval_reminders_send_due(now=later(post, 24))
    assert approval_reminders_send_due(now=later(post, 48)) == 1
    assert approval_reminders_send_due(now=later(post, 72)) == 0
    assert notices(team.manny, "post.review_escalated") == [
        "“Library” has waited more than 48 hours at the approval stage “Comms”. "
        "Please see that it is reviewed."
    ]
    assert len(notices(team.rita, "post.review_reminder")) == 1
    assert AuditEvent.objects.filter(action="post.approval_escalated").count() == 1


def test_a_tick_that_comes_late_sends_both_once(team, english):
    policy(team)
    post = submitted(team)
    assert approval_reminders_send_due(now=later(post, 50)) == 2
    assert approval_reminders_send_due(now=later(post, 50)) == 0
    assert ApprovalReminder.objects.filter(post=post).count() == 2


def test_the_next_stage_waits_from_when_the_stage_before_it_passed(team, english):
    policy(
        team,
        StageInput(name="Comms", role=Role.REVIEWER),
        StageInput(name="Manager", role=Role.MANAGER),
    )
    post = submitted(team)
    with time_machine.travel(later(post, 20), tick=False):
        post_approve(post=post, membership=team.rita)
    # 30 hours after submission, but only 10 at the manager's stage.
    assert approval_reminders_send_due(now=later(post, 30)) == 0
    assert approval_reminders_send_due(now=later(post, 45)) == 1
    assert notices(team.manny, "post.review_reminder") == [
        "Reminder: “Library” has waited more than 24 hours for your review."
    ]
    assert not notices(team.rita, "post.review_reminder")


def test_a_decided_post_reminds_no_one(team, english):
    policy(team)
    post = submitted(team)
    post_approve(post=post, membership=team.rita)
    assert approval_reminders_send_due(now=later(post, 100)) == 0


def test_a_new_review_round_may_remind_again(team, english):
    policy(team)
    post = submitted(team)
    approval_reminders_send_due(now=later(post, 25))
    variant_save(
        post=post, membership=team.eddie, channel_account=team.account, language="fi",
        text="Library opens at 10.",
    )  # fmt: skip
    post.refresh_from_db()
    assert approval_reminders_send_due(now=later(post, 25)) == 1
    assert len(notices(team.rita, "post.review_reminder")) == 2


def test_without_limits_nothing_is_ever_sent(team, english):
    policy(team, remind=None, escalate=None)
    post = submitted(team)
    assert approval_reminders_send_due(now=later(post, 1000)) == 0


def test_an_outside_reviewer_is_reminded_with_a_fresh_link(team, english):
    policy(team, StageInput(name="Legal", outside_email="legal@ministry.example"))
    post = submitted(team)
    first = OutsideReview.objects.get(post=post)
    with time_machine.travel(later(post, 25), tick=False):
        assert approval_reminders_send_due() == 1
        assert approval_reminders_send_due() == 0
    assert [m.to for m in mail.outbox] == [["legal@ministry.example"]]
    assert mail.outbox[0].subject.startswith("Reminder: City of Example asks you to approve")
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert OutsideReview.objects.filter(post=post, revoked_at__isnull=True).count() == 1


def test_a_withdrawn_outside_link_is_not_brought_back_by_a_reminder(team, english):
    policy(team, StageInput(name="Legal", outside_email="legal@ministry.example"))
    post = submitted(team)
    outside_review_revoke(review=OutsideReview.objects.get(post=post), membership=team.eddie)
    approval_reminders_send_due(now=later(post, 25))
    assert mail.outbox == []
    assert not OutsideReview.objects.filter(post=post, revoked_at__isnull=True).exists()


def test_the_task_runs_on_the_default_queue_and_sends(team, english, settings):
    route = celery_app.amqp.router.route({}, "publishing.tasks.remind_waiting_approvals")
    assert route["queue"].name == "default"
    dispatch = celery_app.amqp.router.route({}, "publishing.tasks.dispatch_due")
    assert dispatch["queue"].name == "publish"
    entry = settings.CELERY_BEAT_SCHEDULE["publishing-remind-waiting-approvals"]
    assert entry["task"] == remind_waiting_approvals.name
    assert entry["options"]["queue"] == "default"
    policy(team)
    post = submitted(team)
    with time_machine.travel(later(post, 24), tick=False):
        assert remind_waiting_approvals.apply().get() == 1
        assert remind_waiting_approvals.apply().get() == 0


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_the_same_moment_send_the_reminder_once(team, english):
    """Two beat processes: two connections send at once; the claim lets one through."""
    policy(team)
    post = submitted(team)
    now = later(post, 24)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(approval_reminders_send_due(now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(kind="post.review_reminder").count() == 1
    assert ApprovalReminder.objects.filter(post=post).count() == 1
