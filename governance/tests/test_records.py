"""Retention rules, legal holds and the disposal job."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from governance.models import AuditEvent, DisposalLog, RetentionAction
from governance.services.audit import audit_verify_chain
from governance.services.records import (
    legal_hold_place,
    legal_hold_release,
    records_dispose,
    retention_rule_save,
)
from governance.tests.records_setup import published
from publishing.models import ApprovalDecision, Decision, OutsideReview, Post


@pytest.fixture
def posts(personas) -> dict[str, Post]:
    return {
        "old_news": published(personas.bob_account, personas.bob, 100, "Old news"),
        "old_mayor": published(personas.other_account, personas.alice, 100, "Old mayor"),
        "recent": published(personas.bob_account, personas.bob, 5, "Recent"),
        "outsider": published(personas.outsider_account, personas.charlie, 100, "Elsewhere"),
    }


def _rule(personas, days: int = 30, action: str = RetentionAction.DELETE) -> None:
    retention_rule_save(
        organization=personas.org,
        actor=personas.alice,
        record_type="published_posts",
        keep_for_days=days,
        action=action,
    )


def test_disposal_skips_held_records_and_logs_what_it_removed(personas, posts):
    _rule(personas)
    hold = legal_hold_place(
        organization=personas.org,
        actor=personas.alice,
        name="Complaint 2024/17",
        reason="A complaint about the news account is being investigated.",
        record_types=["published_posts"],
        account_ids=[personas.bob_account.pk],
    )

    outcomes = records_dispose()

    remaining = set(Post.objects.values_list("title", flat=True))
    assert remaining == {"Old news", "Recent", "Elsewhere"}
    assert [(o.removed, o.held) for o in outcomes] == [(1, 1)]
    log = DisposalLog.objects.get()
    assert log.organization == personas.org
    assert log.record_type == "published_posts"
    assert (log.removed_count, log.held_count) == (1, 1)
    assert log.record_ids == [str(posts["old_mayor"].pk)]
    assert log.hold_ids == [hold.pk]
    entry = AuditEvent.objects.get(action="records.disposed")
    assert entry.new_values["ids"] == [str(posts["old_mayor"].pk)]
    assert entry.actor_label == "system"


def test_a_hold_covers_only_its_date_range(personas, posts):
    _rule(personas)
    today = timezone.localdate()
    legal_hold_place(
        organization=personas.org,
        actor=personas.alice,
        name="Last month",
        reason="Records request 55.",
        record_types=["published_posts"],
        start_date=today - timedelta(days=40),
        end_date=today,
    )

    records_dispose()

    assert set(Post.objects.values_list("title", flat=True)) == {"Recent", "Elsewhere"}


def test_a_released_hold_no_longer_protects(personas, posts):
    _rule(personas)
    hold = legal_hold_place(
        organization=personas.org,
        actor=personas.alice,
        name="Everything",
        reason="Litigation.",
        record_types=["published_posts"],
    )
    records_dispose()
    assert Post.objects.filter(organization=personas.org).count() == 3

    legal_hold_release(hold=hold, actor=personas.alice, reason="Case closed.")
    records_dispose()

    assert set(Post.objects.values_list("title", flat=True)) == {"Recent", "Elsewhere"}
    assert AuditEvent.objects.filter(action="records.legal_hold_released").exists()


def test_a_dry_run_changes_and_logs_nothing(personas, posts):
    _rule(personas)
    before = AuditEvent.objects.count()

    outcomes = records_dispose(dry_run=True)

    assert outcomes[0].removed == 2
    assert Post.objects.count() == 4
    assert not DisposalLog.objects.exists()
    assert AuditEvent.objects.count() == before


def test_anonymizing_removes_the_people_and_keeps_the_words(personas, posts):
    _rule(personas, action=RetentionAction.ANONYMIZE)
    ApprovalDecision.objects.create(
        post=posts["old_news"],
        review_round=1,
        post_version=1,
        reviewer=personas.alice,
        decision=Decision.APPROVE,
        comment="Fine by me.",
    )

    first = records_dispose()
    second = records_dispose(now=timezone.now() + timedelta(hours=1))

    post = Post.objects.get(pk=posts["old_news"].pk)
    assert post.created_by is None and post.submitted_by is None
    assert post.variants.get().text == "Old news."
    decision = post.decisions.get()
    assert decision.reviewer is None and decision.comment == ""
    assert Post.objects.get(pk=posts["recent"].pk).created_by == personas.bob
    assert first[0].removed == 2
    assert second[0].removed == 0
    assert DisposalLog.objects.count() == 1


def test_anonymizing_removes_outside_reviewers_too(personas, posts):
    _rule(personas, action=RetentionAction.ANONYMIZE)
    post = posts["old_news"]
    ApprovalDecision.objects.create(
        post=post, review_round=1, post_version=1, outside_email="legal@ministry.example",
        decision=Decision.APPROVE, comment="Legally fine.",
    )  # fmt: skip
    OutsideReview.objects.create(
        organization=personas.org, post=post, email="legal@ministry.example",
        token_hash="0" * 64, review_round=1, post_version=1, content_hash="",
        contact_email="bob@example.org", expires_at=timezone.now(), comment="Legally fine.",
    )  # fmt: skip

    records_dispose()

    decision = post.decisions.get()
    assert decision.outside_email == "" and decision.comment == ""
    review = OutsideReview.objects.get(post=post)
    assert (review.email, review.comment, review.contact_email) == ("", "", "")


def test_audit_entries_are_never_deleted(personas, posts, time_machine):
    with pytest.raises(ValidationError) as refused:
        retention_rule_save(
            organization=personas.org,
            actor=personas.alice,
            record_type="audit_entries",
            keep_for_days=30,
            action=RetentionAction.DELETE,
        )
    assert refused.value.error_list[0].code == "invalid_action"
    retention_rule_save(
        organization=personas.org,
        actor=personas.alice,
        record_type="audit_entries",
        keep_for_days=1,
        action=RetentionAction.ARCHIVE,
    )
    before = AuditEvent.objects.count()
    time_machine.move_to(timezone.now() + timedelta(days=10))

    outcomes = records_dispose()

    assert outcomes[0].removed == 0
    assert "never cut" in outcomes[0].note
    assert AuditEvent.objects.count() == before
    assert audit_verify_chain().ok


def test_rules_and_holds_are_validated(personas):
    with pytest.raises(ValidationError) as unknown:
        retention_rule_save(
            organization=personas.org,
            actor=personas.alice,
            record_type="telegrams",
            keep_for_days=30,
            action=RetentionAction.DELETE,
        )
    assert unknown.value.error_list[0].code == "invalid_record_type"
    with pytest.raises(ValidationError) as foreign:
        legal_hold_place(
            organization=personas.org,
            actor=personas.alice,
            name="Hold",
            reason="Why",
            record_types=["published_posts"],
            account_ids=[personas.outsider_account.pk],
        )
    assert foreign.value.error_list[0].code == "invalid_accounts"


def test_saving_a_rule_again_changes_it_and_is_audited(personas):
    _rule(personas, days=30)
    _rule(personas, days=365)

    entries = AuditEvent.objects.filter(action="records.retention_rule_saved").order_by("id")
    assert [e.new_values["keep_for_days"] for e in entries] == [30, 365]
    assert entries[1].old_values["keep_for_days"] == 30


def test_dispose_records_command_dry_run_reports_without_removing(personas, posts, capsys):
    _rule(personas)

    call_command("dispose_records", "--dry-run")

    out = capsys.readouterr().out
    assert "Published posts" in out
    assert "2 would be deleted" in out
    assert "Dry run: 2 records would be disposed of." in out
    assert Post.objects.count() == 4


def test_dispose_records_command_removes(personas, posts, capsys):
    _rule(personas)

    call_command("dispose_records", "--organization", "example")

    assert "2 records were disposed of." in capsys.readouterr().out
    assert Post.objects.count() == 2


def test_the_beat_task_runs_the_disposal(personas, posts):
    from governance.tasks.records import dispose_records

    _rule(personas)

    assert dispose_records() == 2
    assert isinstance(DisposalLog.objects.get().ran_at, datetime)
