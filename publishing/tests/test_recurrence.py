"""Recurring posts: a post that repeats by a rule, each occurrence a scheduled post of its
own, kept at the same wall-clock time across summer time, skippable and editable one at
a time, approved with its first post until the text changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SandboxPost
from governance.models import AuditEvent
from publishing.models import JobStatus, Post, PostSeries, PostStatus, PublishJob
from publishing.services.approval import post_approve
from publishing.services.posts import (
    post_reschedule,
    post_schedule,
    post_submit_for_review,
    post_update,
    variant_save,
)
from publishing.services.recurrence import (
    RepeatSpec,
    local_starts,
    occurrence_skip,
    rule_from_spec,
    rule_summary,
    series_edit_from,
    series_end,
    series_extend,
    series_extend_all,
    series_set,
)
from publishing.tests.fixtures import draft

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


def zone(team, name: str) -> None:
    org = team.alice.organization
    org.time_zone = name
    org.save(update_fields=["time_zone"])


def starts(rule: str, first: date, at: time, name: str, until: datetime) -> list[datetime]:
    return local_starts(rule, first, at, ZoneInfo(name), after=utc(2000, 1, 1), before=until)


def recurring_draft(team, at: datetime, spec: RepeatSpec, text: str = "Office hours today."):
    post = draft(team.eddie, team.account, text)
    post = post_update(post=post, membership=team.eddie, planned_at=at)
    series = series_set(post=post, membership=team.eddie, spec=spec)
    post.refresh_from_db()
    return post, series


def approve_and_schedule(team, post: Post) -> Post:
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    post.refresh_from_db()
    assert post.scheduled_at is not None
    post_schedule(post=post, membership=team.eddie, at=post.scheduled_at)
    post.refresh_from_db()
    return post


def occurrences(series: PostSeries) -> list[Post]:
    return list(
        Post.objects.filter(series=series).exclude(pk=series.head_id).order_by("occurrence_start")
    )


# --- the rule and its times ------------------------------------------------------------


def test_a_weekly_helsinki_rule_stays_at_nine_local_across_both_clock_changes():
    rule = rule_from_spec(RepeatSpec("weekly", weekdays=[0]), date(2027, 3, 15))
    assert rule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO"
    found = starts(rule, date(2027, 3, 15), time(9), "Europe/Helsinki", utc(2027, 4, 1))
    # Winter time is UTC+2, summer time (from 28 March) UTC+3.
    assert found == [utc(2027, 3, 15, 7), utc(2027, 3, 22, 7), utc(2027, 3, 29, 6)]
    autumn = starts(rule, date(2027, 10, 25), time(9), "Europe/Helsinki", utc(2027, 11, 2))
    assert autumn == [utc(2027, 10, 25, 6), utc(2027, 11, 1, 7)]


def test_istanbul_and_jakarta_have_no_summer_time_so_the_offset_never_moves():
    rule = rule_from_spec(RepeatSpec("weekly", weekdays=[1]), date(2027, 3, 23))
    istanbul = starts(rule, date(2027, 3, 23), time(10), "Europe/Istanbul", utc(2027, 4, 7))
    assert istanbul == [utc(2027, 3, 23, 7), utc(2027, 3, 30, 7), utc(2027, 4, 6, 7)]
    jakarta = starts(rule, date(2027, 3, 23), time(10), "Asia/Jakarta", utc(2027, 4, 7))
    assert jakarta == [utc(2027, 3, 23, 3), utc(2027, 3, 30, 3), utc(2027, 4, 6, 3)]


def test_a_time_in_the_skipped_hour_moves_to_the_first_valid_time_that_night():
    rule = rule_from_spec(RepeatSpec("daily"), date(2027, 3, 27))
    found = starts(rule, date(2027, 3, 27), time(3, 30), "Europe/Helsinki", utc(2027, 3, 30))
    # 28 March: 03:00 jumps to 04:00, so 03:30 is 04:00 summer time (01:00 UTC).
    assert found == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 0), utc(2027, 3, 29, 0, 30)]


def test_count_and_until_end_the_rule():
    counted = rule_from_spec(RepeatSpec("daily", count=3), date(2027, 1, 4))
    assert len(starts(counted, date(2027, 1, 4), time(9), "UTC", utc(2028, 1, 1))) == 3
    until = rule_from_spec(RepeatSpec("weekly", until=date(2027, 1, 25)), date(2027, 1, 4))
    found = starts(until, date(2027, 1, 4), time(9), "Europe/Helsinki", utc(2028, 1, 1))
    assert [d.date() for d in found] == [date(2027, 1, d) for d in (4, 11, 18, 25)]


def test_monthly_on_the_nth_weekday_and_on_a_day():
    # 9 March 2027 is the second Tuesday of March.
    rule = rule_from_spec(RepeatSpec("monthly", monthly_by="weekday"), date(2027, 3, 9))
    assert rule == "FREQ=MONTHLY;INTERVAL=1;BYDAY=+2TU"
    found = starts(rule, date(2027, 3, 9), time(18), "Europe/Helsinki", utc(2027, 6, 1))
    assert [d.date() for d in found] == [date(2027, 3, 9), date(2027, 4, 13), date(2027, 5, 11)]
    by_day = rule_from_spec(RepeatSpec("monthly", interval=2), date(2027, 1, 15))
    assert by_day == "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15"


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (RepeatSpec("hourly"), "repeat_frequency"),
        (RepeatSpec("daily", interval=0), "repeat_interval"),
        (RepeatSpec("daily", count=1), "repeat_count"),
        (RepeatSpec("daily", until=date(2026, 12, 31)), "repeat_until"),
        (RepeatSpec("daily", count=3, until=date(2027, 2, 1)), "repeat_end"),
    ],
)
def test_a_rule_that_cannot_be_right_is_refused_with_a_reason(spec, code):
    with pytest.raises(ValidationError) as refused:
        rule_from_spec(spec, date(2027, 1, 4))
    assert refused.value.code == code


def test_the_summary_says_the_rule_in_plain_words():
    rule = rule_from_spec(
        RepeatSpec("weekly", weekdays=[1], until=date(2027, 3, 31)), date(2027, 1, 5)
    )
    assert rule_summary(rule, date(2027, 1, 5), time(10), "Europe/Helsinki") == (
        "Every week on Tuesday at 10:00 until 31 Mar 2027 (Europe/Helsinki time)"
    )
    monthly = rule_from_spec(RepeatSpec("monthly", monthly_by="weekday", count=6), date(2027, 3, 9))
    assert rule_summary(monthly, date(2027, 3, 9), time(18), "UTC") == (
        "Every month on the second Tuesday at 18:00, 6 times (UTC time)"
    )


# --- the series -----------------------------------------------------------------------


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_scheduling_the_first_post_schedules_the_occurrences_within_the_horizon(team):
    zone(team, "Europe/Helsinki")
    post, series = recurring_draft(team, utc(2027, 3, 2, 8), RepeatSpec("weekly"))
    assert occurrences(series) == []  # nothing before approval
    approve_and_schedule(team, post)
    made = occurrences(series)
    # Tuesdays at 10:00 Helsinki for 60 days: 9, 16, 23 March (UTC+2), then UTC+3.
    assert [p.scheduled_at for p in made][:4] == [
        utc(2027, 3, 9, 8),
        utc(2027, 3, 16, 8),
        utc(2027, 3, 23, 8),
        utc(2027, 3, 30, 7),
    ]
    assert all(p.scheduled_at and p.scheduled_at < utc(2027, 5, 1) for p in made)
    assert {p.status for p in made} == {PostStatus.SCHEDULED}
    first = made[0]
    assert first.variants.get().text == "Office hours today."
    job = PublishJob.objects.get(post=first)
    assert (job.due_at, job.status) == (utc(2027, 3, 9, 8), JobStatus.PENDING)
    assert AuditEvent.objects.filter(
        action="post.occurrence_scheduled", target_id=str(first.pk)
    ).exists()
    assert AuditEvent.objects.filter(action="post.series_set").exists()


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_extending_twice_makes_nothing_more_and_later_extends_the_horizon(team):
    post, series = recurring_draft(team, utc(2027, 3, 1, 9), RepeatSpec("daily"))
    approve_and_schedule(team, post)
    count = len(occurrences(series))
    # Daily at 09:00 for 60 days: 1 March (the first post) to 29 April.
    assert count == 59
    assert series_extend(series_id=series.pk) == 0
    assert series_extend_all() == 0
    assert len(occurrences(series)) == count
    with time_machine.travel(utc(2027, 3, 11, 8), tick=False):
        assert series_extend_all() == 10
    assert PublishJob.objects.filter(post__series=series).count() == 70


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_a_count_limits_the_series_and_the_first_post_counts(team):
    post, series = recurring_draft(team, utc(2027, 3, 1, 9), RepeatSpec("daily", count=3))
    approve_and_schedule(team, post)
    assert [p.scheduled_at for p in occurrences(series)] == [utc(2027, 3, 2, 9), utc(2027, 3, 3, 9)]


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_a_skipped_occurrence_is_cancelled_and_never_made_again(team):
    post, series = recurring_draft(team, utc(2027, 3, 1, 9), RepeatSpec("daily", count=4))
    approve_and_schedule(team, post)
    second = occurrences(series)[0]
    occurrence_skip(post=second, membership=team.eddie)
    second.refresh_from_db()
    assert second.status == PostStatus.CANCELLED
    assert PublishJob.objects.get(post=second).status == JobStatus.CANCELLED
    assert series_extend(series_id=series.pk) == 0
    assert Post.objects.filter(series=series, occurrence_start=second.occurrence_start).count() == 1
    assert AuditEvent.objects.filter(
        action="post.occurrence_skipped", target_id=str(second.pk)
    ).exists()


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_editing_one_occurrence_detaches_it_and_sends_only_it_to_review(team):
    post, series = recurring_draft(team, utc(2027, 3, 1, 9), RepeatSpec("daily", count=4))
    approve_and_schedule(team, post)
    second, third, _fourth = occurrences(series)
    variant_save(
        post=second,
        membership=team.eddie,
        channel_account=team.account,
        language="fi",
        text="No office hours today.",
    )
    second.refresh_from_db()
    assert second.series_detached
    assert second.status == PostStatus.IN_REVIEW
    assert PublishJob.objects.get(post=second).status == JobStatus.CANCELLED
    third.refresh_from_db()
    assert (third.status, third.series_detached) == (PostStatus.SCHEDULED, False)
    series.refresh_from_db()
    assert series.approved_version is not None


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_editing_the_series_text_needs_approval_again_before_the_copies_return(team):
    post, series = recurring_draft(
        team, utc(2027, 3, 1, 12), RepeatSpec("daily", count=4), text="Office hours 12-14."
    )
    approve_and_schedule(team, post)
    second, _third, _fourth = occurrences(series)
    # One occurrence was edited on its own: the series' text change leaves it alone.
    variant_save(
        post=second,
        membership=team.eddie,
        channel_account=team.account,
        language="fi",
        text="Office hours 13-14 today.",
    )
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.account,
        language="fi",
        text="Office hours 12-15.",
    )
    post.refresh_from_db()
    series.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert series.approved_version is None
    assert [p.pk for p in occurrences(series)] == [second.pk]  # the plain copies are withdrawn
    assert series_extend(series_id=series.pk) == 0  # not while the new text waits for review
    assert AuditEvent.objects.filter(action="post.series_approval_ended").exists()
    post_approve(post=post, membership=team.rita)
    post.refresh_from_db()
    post_schedule(post=post, membership=team.eddie, at=post.scheduled_at)
    made = occurrences(series)
    assert [p.variants.get().text for p in made] == [
        "Office hours 13-14 today.",
        "Office hours 12-15.",
        "Office hours 12-15.",
    ]


@time_machine.travel(utc(2027, 3, 1, 8), tick=False)
def test_ending_the_series_withdraws_its_future_copies(team):
    post, series = recurring_draft(team, utc(2027, 3, 1, 9), RepeatSpec("daily"))
    approve_and_schedule(team, post)
    series_end(series=series, membership=team.eddie)
    assert occurrences(series) == []
    assert series_extend_all() == 0
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED  # the first post stays
    assert AuditEvent.objects.filter(action="post.series_ended").exists()


def test_another_organizations_member_cannot_touch_the_series(team):
    post, series = recurring_draft(
        team, datetime.now(UTC) + timedelta(days=1), RepeatSpec("daily", count=3)
    )
    with pytest.raises(PermissionDenied):
        series_set(post=post, membership=team.charlie, spec=RepeatSpec("weekly"))
    with pytest.raises(PermissionDenied):
        series_end(series=series, membership=team.charlie)
    with pytest.raises(PermissionDenied):
        occurrence_skip(post=post, membership=team.charlie)


def test_a_post_without_a_planned_time_cannot_repeat(team):
    post = draft(team.eddie, team.account)
    with pytest.raises(ValidationError) as refused:
        series_set(post=post, membership=team.eddie, spec=RepeatSpec("daily"))
    assert refused.value.code == "repeat_no_time"


# --- publishing exactly once through the dispatcher ---------------------------------------


def test_each_occurrence_publishes_exactly_once_through_the_dispatcher(team, run_due):
    with time_machine.travel(utc(2027, 3, 1, 8), tick=False):
        post, series = recurring_draft(
            team, utc(2027, 3, 1, 9), RepeatSpec("daily", count=3), text="Daily notice."
        )
        approve_and_schedule(team, post)
    for day in (1, 2, 3):
        with time_machine.travel(utc(2027, 3, day, 9, 0, 5), tick=False):
            run_due()
            run_due()  # a doubled beat tick finds nothing more to do
            series_extend_all()
    texts = SandboxPost.objects.filter(account=team.account, is_own=True).values_list(
        "text", flat=True
    )
    assert list(texts) == ["Daily notice."] * 3
    everyone = Post.objects.filter(series=series)
    assert {p.status for p in everyone} == {PostStatus.PUBLISHED}
    assert {j.attempts for j in PublishJob.objects.filter(post__series=series)} == {1}


def test_a_rescheduled_occurrence_moves_alone(team):
    with time_machine.travel(utc(2027, 3, 1, 8), tick=False):
        post, series = recurring_draft(team, utc(2027, 3, 1, 9), RepeatSpec("daily", count=3))
        approve_and_schedule(team, post)
        second, third = occurrences(series)
        post_reschedule(post=second, membership=team.eddie, at=utc(2027, 3, 2, 15))
        assert PublishJob.objects.get(post=second).due_at == utc(2027, 3, 2, 15)
        assert PublishJob.objects.get(post=third).due_at == utc(2027, 3, 3, 9)
        assert series_extend(series_id=series.pk) == 0


def test_after_the_first_post_is_published_the_text_changes_from_a_later_occurrence_on(
    team, run_due
):
    with time_machine.travel(utc(2027, 3, 1, 8), tick=False):
        post, series = recurring_draft(
            team, utc(2027, 3, 1, 9), RepeatSpec("daily", count=5), text="Office hours 9-11."
        )
        approve_and_schedule(team, post)
    with time_machine.travel(utc(2027, 3, 1, 9, 0, 5), tick=False):
        run_due()
        post.refresh_from_db()
        assert post.status == PostStatus.PUBLISHED
        second, third, _fourth, _fifth = occurrences(series)
        series_edit_from(post=third, membership=team.eddie)
        variant_save(
            post=third,
            membership=team.eddie,
            channel_account=team.account,
            language="fi",
            text="Office hours 10-12.",
        )
        third.refresh_from_db()
        assert third.status == PostStatus.IN_REVIEW
        assert not third.series_detached  # it leads the series now
        # Before it: unchanged. After it: withdrawn until the new text is approved.
        assert [p.pk for p in occurrences(series)] == [second.pk, third.pk]
        second.refresh_from_db()
        assert second.status == PostStatus.SCHEDULED
        post_approve(post=third, membership=team.rita)
        third.refresh_from_db()
        assert third.scheduled_at is not None
        post_schedule(post=third, membership=team.eddie, at=third.scheduled_at)
        texts = [p.variants.get().text for p in occurrences(series)]
        assert texts == ["Office hours 9-11.", *["Office hours 10-12."] * 3]
        assert AuditEvent.objects.filter(action="post.series_edit_from").exists()
