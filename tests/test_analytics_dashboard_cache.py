"""The built dashboard is kept in the cache per organization, range, filters and
accounts in scope, and is never shown after analytics stores new figures: a metric
pull, a rollup rebuild or a goal shows on the next view."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SandboxPost
from analytics.models import GoalMetric
from analytics.services.goals import goal_save
from analytics.services.pull import metrics_pull_account, tracked_posts_discover
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import followers, local_noon, published, today_local
from governance.models import Membership
from tests.test_analytics_dashboard_today import key_figures, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.ANALYTICS_LIVE_SECONDS = 60


def _view(client, path: str = "/analytics/") -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path)
    assert page.status_code == 200
    return page.content.decode(), len(queries)


def test_a_second_view_reads_no_figures_again(personas, client, login, cached):
    login(client, personas.alice)
    first, cold = _view(client)

    again, warm = _view(client)

    # The rollups, followers, response times, previous range, top posts, networks and
    # goals are read once.
    assert warm <= cold - 7
    assert key_figures(again.encode()) == key_figures(first.encode())


def test_a_metric_pulled_shows_at_once(
    personas, client, login, cached, django_capture_on_commit_callbacks
):
    account = personas.bob_account
    job = published(account, at=timezone.now() - timedelta(hours=1), title="Road closed")
    SandboxPost.objects.filter(remote_id=job.remote_id).update(likes=3)
    with django_capture_on_commit_callbacks(execute=True):
        tracked_posts_discover()
        metrics_pull_account(account=account)
    login(client, personas.alice)
    before, _queries = _view(client)
    assert "3 reactions" in text(before)

    SandboxPost.objects.filter(remote_id=job.remote_id).update(likes=11)
    with django_capture_on_commit_callbacks(execute=True):
        metrics_pull_account(account=account, now=timezone.now() + timedelta(hours=2))
    after, _queries = _view(client)

    assert "11 reactions" in text(after)


def test_a_rollup_rebuild_shows_at_once(
    personas, client, login, cached, django_capture_on_commit_callbacks
):
    today = today_local()
    login(client, personas.alice)
    assert key_figures(_view(client)[0].encode())["Followers"].startswith("\u2013")  # no figure

    followers(personas.bob_account, local_noon(today - timedelta(days=2)), 1200)
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(organization=personas.org, since=today - timedelta(days=3))

    assert key_figures(_view(client)[0].encode())["Followers"].startswith("1,200")


def test_a_goal_set_shows_at_once(
    personas, client, login, cached, django_capture_on_commit_callbacks
):
    today = today_local()
    login(client, personas.alice)
    assert "Reach the council" not in _view(client)[0]

    membership = Membership.objects.get(user=personas.alice, organization=personas.org)
    with django_capture_on_commit_callbacks(execute=True):
        goal_save(
            membership=membership,
            goal=None,
            name="Reach the council",
            metric=GoalMetric.POSTS_PUBLISHED,
            channel_account=None,
            target=Decimal(10),
            period_start=today - timedelta(days=3),
            period_end=today + timedelta(days=3),
        )

    assert "Reach the council" in _view(client)[0]


def test_a_member_limited_to_some_accounts_never_sees_the_whole_organizations_figures(
    personas, client, login, cached, django_capture_on_commit_callbacks
):
    today = today_local()
    followers(personas.bob_account, local_noon(today - timedelta(days=2)), 1200)
    followers(personas.other_account, local_noon(today - timedelta(days=2)), 300)
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(organization=personas.org, since=today - timedelta(days=3))
    login(client, personas.alice)
    assert key_figures(_view(client)[0].encode())["Followers"].startswith("1,500")
    limited = Membership.objects.get(user=personas.alice, organization=personas.org)
    limited.all_accounts = False
    limited.save(update_fields=["all_accounts"])
    personas.other_account.limited_members.add(limited)

    figures = key_figures(_view(client)[0].encode())

    assert figures["Followers"].startswith("300")
    assert re.search(r"\b1,500\b", figures["Followers"]) is None


def _charts(page: str) -> str:
    return page[page.index('<div class="dash-charts">') : page.index('<div class="dash-side">')]


def test_the_charts_are_made_once_and_follow_new_figures_at_once(
    personas, client, login, cached, django_capture_on_commit_callbacks
):
    today = today_local()
    login(client, personas.alice)
    first = _charts(_view(client)[0])
    assert "No follower counts for this range yet." in first
    assert _charts(_view(client)[0]) == first

    followers(personas.bob_account, local_noon(today - timedelta(days=2)), 1200)
    with django_capture_on_commit_callbacks(execute=True):
        rollups_rebuild(organization=personas.org, since=today - timedelta(days=3))
    after = _charts(_view(client)[0])

    assert "No follower counts for this range yet." not in after
    assert "1,200" in after


def test_the_charts_are_in_the_readers_language(personas, client, login, cached):
    login(client, personas.alice)
    assert "Follower growth" in _charts(_view(client)[0])

    personas.alice.preferred_language = "fi"
    personas.alice.save(update_fields=["preferred_language"])
    finnish = _charts(_view(client)[0])

    assert "Seuraajamäärän kasvu" in finnish
    assert "Follower growth" not in finnish
