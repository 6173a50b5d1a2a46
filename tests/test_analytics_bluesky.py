"""Metrics against the real Bluesky servers, run locally (``bsky_network``).

A post goes out through Publishing (written, approved, scheduled and published by the
dispatcher); citizens like it, answer it and follow the account on the network; one
pull brings the likes, the replies and the follower into the post's and the account's
numbers, and the rollup and the dashboard show them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ChannelAccount
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, TrackedPost
from analytics.selectors import DashboardFilters, Scope, dashboard_build
from analytics.services.pull import metrics_pull_account, tracked_posts_discover
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import today_local
from publishing.models import JobStatus, PublishJob
from publishing.tests.fixtures import scheduled
from tests.bsky_fixtures import BskyNetwork, now_iso

pytestmark = [pytest.mark.bsky, pytest.mark.django_db]


@pytest.fixture
def bsky(bsky_network: BskyNetwork, settings) -> BskyNetwork:
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


def test_likes_and_replies_on_a_published_post_appear_in_its_metrics(bsky, personas, team, run_due):
    city = bsky.create_account("city")
    account = account_services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=f"@{city.handle}",
        app_password=bsky.create_app_password(city, "GovSocial"),
    )
    account = ChannelAccount.objects.select_related("organization").get(pk=account.pk)
    at = timezone.now() + timedelta(minutes=1)
    post = scheduled(team, at=at, account=account, text="Katuvalot korjataan torstaina.")
    with time_machine.travel(at + timedelta(seconds=1)):
        assert run_due() == ["published"]
    job = PublishJob.objects.get(post=post)
    assert job.status == JobStatus.PUBLISHED and job.remote_id.startswith("at://")

    assert tracked_posts_discover() == 1
    citizen, neighbour = bsky.create_account("citizen"), bsky.create_account("neighbour")
    bsky.like(citizen, job.remote_id)
    bsky.like(neighbour, job.remote_id)
    bsky.reply(citizen, job.remote_id, "Kiitos tiedosta!")
    bsky.create_record(
        citizen,
        "app.bsky.graph.follow",
        {"$type": "app.bsky.graph.follow", "subject": city.did, "createdAt": now_iso()},
    )
    bsky.process_all()

    result = metrics_pull_account(account=account, now=timezone.now() + timedelta(minutes=20))

    assert (result.outcome, result.posts, result.snapshots) == ("pulled", 1, 1), result.error
    tracked = TrackedPost.objects.get(job=job)
    assert (tracked.likes, tracked.replies, tracked.shares, tracked.quotes) == (2, 1, 0, 0)
    assert tracked.impressions is None  # Bluesky does not tell
    assert PostMetricSnapshot.objects.get(tracked_post=tracked).likes == 2
    assert AccountMetricSnapshot.objects.get(channel_account=account).followers == 1

    today = today_local(personas.org.time_zone)
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=1))
    dashboard = dashboard_build(
        scope=Scope(organization=personas.org, account=account),
        filters=DashboardFilters(start=today - timedelta(days=6), end=today, account=account),
    )
    assert (dashboard.totals.likes, dashboard.totals.replies, dashboard.totals.followers) == (
        2,
        1,
        1,
    )
    assert [top.post_id for top in dashboard.top_posts] == [post.pk]
