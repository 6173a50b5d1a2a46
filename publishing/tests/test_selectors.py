"""Reading posts through the access layer: 404 for what a member may not see, and a
calendar whose query count does not grow with the posts shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from governance.models import AuditEvent
from publishing.models import Post
from publishing.selectors import (
    PostFilters,
    one_of_ids,
    post_get_for_user,
    post_history,
    posts_in_range,
)
from publishing.services.posts import campaign_create, post_update
from publishing.tests.fixtures import draft, scheduled

pytestmark = pytest.mark.django_db


def test_a_member_gets_their_organizations_post(team):
    post = draft(team.eddie, team.account)
    assert post_get_for_user(team.carol, post.pk) == post


def test_another_organizations_post_is_a_404(team):
    post = draft(team.eddie, team.account)
    with pytest.raises(Http404):
        post_get_for_user(team.charlie, post.pk)


def test_a_limited_member_cannot_see_a_post_to_an_account_they_cannot_see(team):
    post = draft(team.eddie, team.other_account)
    with pytest.raises(Http404):
        post_get_for_user(team.bob, post.pk)
    mine = draft(team.eddie, team.account)
    assert post_get_for_user(team.bob, mine.pk) == mine


def test_a_garbage_id_is_a_404(team):
    with pytest.raises(Http404):
        post_get_for_user(team.eddie, "nope")


def test_the_calendar_lists_posts_in_range_with_filters(team):
    now = timezone.now()
    soon = scheduled(team, at=now + timedelta(hours=1))
    later = scheduled(team, at=now + timedelta(days=10), language="sv")
    week = posts_in_range(team.eddie, now, now + timedelta(days=7))
    assert week == [soon]
    month = posts_in_range(team.eddie, now, now + timedelta(days=30))
    assert month == [soon, later]
    assert posts_in_range(
        team.eddie, now, now + timedelta(days=30), PostFilters(languages=["sv"])
    ) == [later]
    assert (
        posts_in_range(team.eddie, now, now + timedelta(days=30), PostFilters(statuses=["draft"]))
        == []
    )
    campaign = campaign_create(membership=team.eddie, name="Spring")
    post_update(post=later, membership=team.eddie, campaign=campaign)
    assert posts_in_range(
        team.eddie, now, now + timedelta(days=30), PostFilters(campaign_ids=[campaign.pk])
    ) == [later]
    assert posts_in_range(
        team.eddie, now, now + timedelta(days=30),
        PostFilters(channel_account_ids=[team.other_account.pk]),
    ) == []  # fmt: skip


def test_one_of_ids_finds_exactly_the_posts_given_and_none_for_no_ids(team):
    now = timezone.now()
    first, _second, third = (scheduled(team, at=now + timedelta(hours=n + 1)) for n in range(3))
    found = Post.objects.filter(one_of_ids("pk", [first.pk, third.pk])).order_by("pk")
    assert list(found) == [first, third]
    assert not Post.objects.filter(one_of_ids("pk", []))


def test_the_calendar_query_count_does_not_grow_with_posts(team, django_assert_max_num_queries):
    now = timezone.now()
    for hour in range(2):
        scheduled(team, at=now + timedelta(hours=hour + 1))
    with django_assert_max_num_queries(5) as few:
        posts = posts_in_range(team.bob, now, now + timedelta(days=1))
        _ = [v.channel_account.handle for p in posts for v in p.variants.all()]
    for hour in range(6):
        scheduled(team, at=now + timedelta(hours=hour + 3))
    with django_assert_max_num_queries(len(few.captured_queries)):
        posts = posts_in_range(team.bob, now, now + timedelta(days=1))
        _ = [v.channel_account.handle for p in posts for v in p.variants.all()]
    assert len(posts) == 8


def test_the_history_reads_from_the_audit_log(team):
    post = scheduled(team)
    history = [e.action for e in post_history(post)]
    assert history[0] == "post.created"
    assert history[-1] == "post.scheduled"
    assert set(history) <= set(AuditEvent.objects.values_list("action", flat=True))
