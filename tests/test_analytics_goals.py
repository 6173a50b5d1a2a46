"""How a goal's progress is judged: counts added up over the period against a steady
pace, a follower count against the way from its starting point, a share that must
stay above its target, a response time that must stay below it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from analytics.models import DailyAccountRollup, DailyResponseBucket, Goal, GoalMetric
from analytics.schedule import response_bucket
from analytics.selectors import GoalStatus, Scope, goal_progress
from analytics.services.goals import goal_delete, goal_save
from governance.models import AuditEvent

pytestmark = pytest.mark.django_db

START = date(2030, 4, 1)
END = date(2030, 4, 30)


def rollup(account, day, **values):
    return DailyAccountRollup.objects.create(
        organization=account.organization, channel_account=account, day=day, **values
    )


def goal(personas, metric, target, account=None, start=START, end=END):
    return Goal.objects.create(
        organization=personas.org,
        metric=metric,
        target=Decimal(target),
        channel_account=account,
        period_start=start,
        period_end=end,
    )


def judge(personas, goals, today):
    return goal_progress(scope=Scope(organization=personas.org), goals=goals, today=today)


def test_a_count_ahead_of_a_steady_pace_is_on_track(personas):
    for offset in range(10):
        rollup(personas.bob_account, START + timedelta(days=offset), posts_published=2)
    posts = goal(personas, GoalMetric.POSTS_PUBLISHED, 50)

    (progress,) = judge(personas, [posts], today=START + timedelta(days=9))

    # 20 of 50 after 10 of 30 days: a steady pace would be at 16.7.
    assert (progress.value, progress.percent, progress.expected) == (20, 40.0, 16.7)
    assert progress.status == GoalStatus.ON_TRACK


def test_a_count_behind_the_pace_is_behind_and_then_missed(personas):
    rollup(personas.bob_account, START, engagement=10)
    engagement = goal(personas, GoalMetric.ENGAGEMENT, 100)

    (during,) = judge(personas, [engagement], today=START + timedelta(days=20))
    (after,) = judge(personas, [engagement], today=END + timedelta(days=3))

    assert (during.status, after.status) == (GoalStatus.BEHIND, GoalStatus.MISSED)


def test_followers_are_judged_from_where_the_period_started(personas):
    account = personas.bob_account
    rollup(account, START - timedelta(days=1), followers=1000)
    rollup(account, START + timedelta(days=14), followers=1040)
    followers = goal(personas, GoalMetric.FOLLOWERS, 1100, account=account)

    (progress,) = judge(personas, [followers], today=START + timedelta(days=14))

    # Half-way from 1,000 to 1,100 is 1,050: 1,040 is behind.
    assert progress.value == 1040 and progress.expected == 1050.0
    assert progress.status == GoalStatus.BEHIND


def test_a_reached_target_is_achieved_before_the_period_ends(personas):
    rollup(personas.bob_account, START, followers_gained=80)
    rollup(personas.other_account, START, followers_gained=30)
    gained = goal(personas, GoalMetric.FOLLOWERS_GAINED, 100)

    (progress,) = judge(personas, [gained], today=START + timedelta(days=1))

    assert (progress.value, progress.status) == (110, GoalStatus.ACHIEVED)


def test_an_account_goal_counts_that_account_only(personas):
    rollup(personas.bob_account, START, posts_published=3)
    rollup(personas.other_account, START, posts_published=5)
    posts = goal(personas, GoalMetric.POSTS_PUBLISHED, 30, account=personas.other_account)

    (progress,) = judge(personas, [posts], today=START)

    assert progress.value == 5


def test_the_share_answered_in_time_must_stay_at_or_above_the_target(personas):
    rollup(personas.bob_account, START, sla_measured=20, sla_met=19)
    rollup(personas.other_account, START + timedelta(days=1), sla_measured=20, sla_met=15)
    share = goal(personas, GoalMetric.SLA_SHARE, 90)

    (first_day,) = judge(personas, [share], today=START)
    (second_day,) = judge(personas, [share], today=START + timedelta(days=1))

    assert (first_day.value, first_day.status) == (95.0, GoalStatus.ON_TRACK)
    assert (second_day.value, second_day.status) == (85.0, GoalStatus.BEHIND)


def test_the_median_response_time_must_stay_at_or_below_the_target(personas):
    account = personas.bob_account
    for minutes in (20, 25, 50):
        DailyResponseBucket.objects.create(
            organization=personas.org,
            channel_account=account,
            day=START,
            bucket=response_bucket(minutes * 60),
            answered=1,
            seconds=minutes * 60,
        )
    quick = goal(personas, GoalMetric.RESPONSE_MEDIAN, 30)
    quicker = goal(personas, GoalMetric.RESPONSE_MEDIAN, 15)

    ok, late = judge(personas, [quick, quicker], today=END + timedelta(days=1))

    assert (ok.value, ok.status) == (25.0, GoalStatus.ACHIEVED)
    assert (late.value, late.status) == (25.0, GoalStatus.MISSED)


def test_goals_not_started_or_without_figures_say_so(personas):
    later = goal(personas, GoalMetric.ENGAGEMENT, 10, start=date(2031, 1, 1), end=date(2031, 2, 1))
    empty = goal(personas, GoalMetric.SLA_SHARE, 90)

    not_started, no_data = judge(personas, [later, empty], today=START + timedelta(days=3))

    assert not_started.status == GoalStatus.NOT_STARTED
    assert no_data.status == GoalStatus.NO_DATA


def test_many_goals_take_two_queries(personas, django_assert_num_queries):
    goals = [goal(personas, metric, 10) for metric in GoalMetric.values] * 3

    with django_assert_num_queries(2):
        judge(personas, goals, today=START + timedelta(days=5))


def test_setting_a_goal_is_audited_and_checked(personas):
    alice = personas.membership(personas.alice)

    saved = goal_save(
        membership=alice,
        name="Spring",
        metric=GoalMetric.SLA_SHARE,
        channel_account=None,
        target=Decimal("95"),
        period_start=START,
        period_end=END,
    )

    assert AuditEvent.objects.filter(action="analytics.goal_set", target_id=str(saved.pk)).exists()
    with pytest.raises(ValidationError) as refused:
        goal_save(
            membership=alice,
            goal=saved,
            name="Spring",
            metric=GoalMetric.SLA_SHARE,
            channel_account=personas.outsider_account,
            target=Decimal("120"),
            period_start=START,
            period_end=END,
        )
    assert {error.code for error in refused.value.error_list} == {"account", "target"}
    with pytest.raises(PermissionDenied):
        goal_delete(membership=personas.membership(personas.carol), goal=saved)
    goal_delete(membership=alice, goal=saved)
    assert AuditEvent.objects.filter(action="analytics.goal_removed").exists()
