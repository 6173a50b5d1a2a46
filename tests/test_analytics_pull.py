"""Pulling metrics: which posts are tracked, when each is pulled (often while fresh,
rarely once old), batching per network, and what a rate limit or a revoked sign-in
does to an account's pulls. Metrics come from the Sandbox network's own feed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.connectors import registry
from accounts.connectors.base import AccountMetrics, PostMetrics, RemoteRef
from accounts.connectors.bluesky import BlueskyConnector
from accounts.models import AccountStatus, ChannelAccount, SandboxFollower, SandboxPost
from analytics import tasks
from analytics.models import (
    AccountMetricSnapshot,
    MetricsPullState,
    PostMetricSnapshot,
    TrackedPost,
)
from analytics.schedule import FIRST_PULL_DELAY, next_pull_at, pull_interval
from analytics.selectors import channel_accounts_due_for_metrics
from analytics.services.pull import metrics_networks, metrics_pull_account, tracked_posts_discover
from analytics.tests.helpers import published
from publishing.models import JobStatus
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db


def due_ids(now):
    return list(
        channel_accounts_due_for_metrics(networks=metrics_networks(), now=now).values_list(
            "pk", flat=True
        )
    )


# --- the schedule ---------------------------------------------------------------------------


def test_pulls_thin_out_as_a_post_ages():
    published_at = timezone.now()
    moment = published_at + FIRST_PULL_DELAY
    pulls = []
    while moment < published_at + timedelta(days=60):
        pulls.append(moment - published_at)
        moment = next_pull_at(published_at=published_at, now=moment)

    def count(start_days: float, end_days: float) -> int:
        return sum(
            1 for age in pulls if timedelta(days=start_days) <= age < timedelta(days=end_days)
        )

    assert count(0, 2) == 48  # hourly for the first 48 hours
    assert count(2, 7) == 20  # every six hours until day 7
    assert count(7, 30) == 23  # daily until day 30
    assert count(30, 60) == 5  # weekly after that
    assert pull_interval(timedelta(days=400)) == timedelta(days=7)


def test_a_published_post_is_tracked_once_and_first_pulled_shortly_after(personas):
    at = timezone.now() - timedelta(minutes=5)
    job = published(personas.bob_account, at=at)
    pending = published(personas.bob_account, at=at)
    pending.status = JobStatus.PENDING
    pending.save(update_fields=["status"])

    assert tracked_posts_discover() == 1
    assert tracked_posts_discover() == 0

    post = TrackedPost.objects.get()
    assert post.job == job
    assert (post.remote_id, post.remote_url) == (job.remote_id, job.remote_url)
    assert post.next_pull_at == at + FIRST_PULL_DELAY


def test_a_post_published_later_but_committed_late_is_still_found(personas):
    now = timezone.now()
    published(personas.bob_account, at=now)
    tracked_posts_discover()
    late = published(personas.bob_account, at=now - timedelta(minutes=10))

    assert tracked_posts_discover() == 1
    assert TrackedPost.objects.filter(job=late).exists()


# --- pulling --------------------------------------------------------------------------------


def test_a_pull_keeps_the_posts_numbers_and_the_accounts_followers(personas):
    account = personas.bob_account
    at = timezone.now() - timedelta(hours=1)
    job = published(account, at=at)
    ours = SandboxPost.objects.get(remote_id=job.remote_id)
    SandboxPost.objects.filter(pk=ours.pk).update(likes=7, reposts=2)
    for name in ("aino.virtanen", "erik.lindqvist"):
        SandboxPost.objects.create(
            account=account,
            remote_id=f"sbx_reply_{name}",
            is_own=False,
            author_handle=name,
            text="Kiitos!",
            in_reply_to=ours,
            thread_root=ours,
        )
        SandboxFollower.objects.create(account=account, handle=name)
    tracked_posts_discover()
    now = timezone.now()

    result = metrics_pull_account(account=account, now=now)

    assert (result.outcome, result.posts, result.snapshots, result.account_pulled) == (
        "pulled",
        1,
        1,
        True,
    )
    post = TrackedPost.objects.get()
    assert (post.likes, post.shares, post.replies, post.quotes, post.engagement) == (7, 2, 2, 0, 11)
    assert post.next_pull_at == now + timedelta(hours=1)
    snapshot = PostMetricSnapshot.objects.get()
    assert (snapshot.likes, snapshot.shares, snapshot.replies, snapshot.taken_at) == (7, 2, 2, now)
    assert AccountMetricSnapshot.objects.get().followers == 2


def test_unchanged_numbers_add_no_snapshot_but_move_the_schedule(personas):
    account = personas.bob_account
    published(account, at=timezone.now() - timedelta(hours=3))
    tracked_posts_discover()
    first = timezone.now()
    metrics_pull_account(account=account, now=first)
    later = first + timedelta(hours=1, minutes=1)

    result = metrics_pull_account(account=account, now=later)

    assert (result.outcome, result.posts, result.snapshots) == ("pulled", 1, 0)
    assert PostMetricSnapshot.objects.count() == 1
    assert AccountMetricSnapshot.objects.count() == 1
    post = TrackedPost.objects.get()
    assert (post.pulls, post.next_pull_at) == (2, later + timedelta(hours=1))


def test_what_is_due_is_computed_in_the_database(personas):
    account, other = personas.bob_account, personas.other_account
    now = timezone.now()
    published(account, at=now - timedelta(minutes=30))
    tracked_posts_discover()
    # Accounts never pulled are due for their followers.
    assert due_ids(now) == sorted([account.pk, other.pk, personas.outsider_account.pk])

    metrics_pull_account(account=other, now=now)
    metrics_pull_account(account=personas.outsider_account, now=now)
    assert due_ids(now) == [account.pk]

    metrics_pull_account(account=account, now=now)
    assert due_ids(now + timedelta(minutes=59)) == []
    assert due_ids(now + timedelta(hours=1)) == sorted(
        [account.pk, other.pk, personas.outsider_account.pk]
    )


def test_a_rate_limit_postpones_that_accounts_pulls(personas):
    account = personas.bob_account
    published(account, at=timezone.now() - timedelta(hours=2))
    tracked_posts_discover()
    account.credentials = {"sandbox_fail_mode": "rate_limited"}  # the Sandbox says 60 s
    account.save(update_fields=["credentials"])
    now = timezone.now()

    result = metrics_pull_account(account=account, now=now)

    assert result.outcome == "rate_limited"
    state = MetricsPullState.objects.get(channel_account=account)
    assert state.last_error_kind == "rate_limited"
    assert state.not_before is not None
    assert timedelta(seconds=59) < state.not_before - now < timedelta(seconds=70)
    assert account.pk not in due_ids(now + timedelta(seconds=30))
    assert metrics_pull_account(account=account, now=now + timedelta(seconds=30)).outcome == (
        "deferred"
    )
    # The post stays due and is pulled once the network lets us.
    due_at = TrackedPost.objects.get().next_pull_at
    assert due_at is not None and due_at <= now
    account.credentials = {}
    account.save(update_fields=["credentials"])
    later = state.not_before + timedelta(seconds=1)
    assert account.pk in due_ids(later)
    assert metrics_pull_account(account=account, now=later).outcome == "pulled"
    assert TrackedPost.objects.get().pulls == 1


def test_a_revoked_sign_in_stops_the_pulls_and_asks_for_a_reconnect(personas):
    account = personas.bob_account
    account.credentials = {"sandbox_fail_mode": "auth"}
    account.save(update_fields=["credentials"])

    result = metrics_pull_account(account=account)

    assert result.outcome == "auth_failed"
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert account.pk not in due_ids(timezone.now() + timedelta(days=1))


def test_a_failure_backs_off(personas):
    account = personas.bob_account
    account.credentials = {"sandbox_fail_mode": "transient"}
    account.save(update_fields=["credentials"])
    now = timezone.now()

    assert metrics_pull_account(account=account, now=now).outcome == "failed"
    assert metrics_pull_account(account=account, now=now + timedelta(seconds=61)).outcome == (
        "failed"
    )

    state = MetricsPullState.objects.get(channel_account=account)
    assert state.failures == 2
    assert state.not_before is not None
    assert timedelta(minutes=1) < state.not_before - now < timedelta(minutes=4)


def test_a_post_deleted_on_the_network_is_no_longer_pulled(personas):
    account = personas.bob_account
    job = published(account, at=timezone.now() - timedelta(hours=2))
    tracked_posts_discover()
    SandboxPost.objects.filter(remote_id=job.remote_id).update(deleted_at=timezone.now())

    metrics_pull_account(account=account)

    post = TrackedPost.objects.get()
    assert post.next_pull_at is None and post.deleted_at is not None


def test_a_second_worker_finds_the_account_taken(personas):
    account = personas.bob_account
    now = timezone.now()
    state = MetricsPullState.objects.create(
        channel_account=account, leased_until=now + timedelta(minutes=3)
    )

    assert metrics_pull_account(account=account, now=now).outcome == "busy"
    state.refresh_from_db()
    assert state.last_pulled_at is None


class CountingBluesky(BlueskyConnector):
    """Bluesky as far as batching goes: answers every post, remembering each call's size."""

    calls: list[int] = []

    def fetch_post_metrics(
        self, account: ChannelAccount, refs: Sequence[RemoteRef]
    ) -> list[PostMetrics]:
        self.calls.append(len(refs))
        return [PostMetrics(remote_id=ref.remote_id, likes=1) for ref in refs]

    def fetch_account_metrics(self, account: ChannelAccount) -> AccountMetrics:
        return AccountMetrics(followers=10, following=0, posts=60)


@pytest.fixture
def counting_bluesky():
    CountingBluesky.calls = []
    registry.register("bluesky", CountingBluesky)
    yield CountingBluesky
    registry.register("bluesky", "accounts.connectors.bluesky.BlueskyConnector")


def test_posts_are_asked_for_in_batches_the_network_allows(personas, counting_bluesky):
    account = ChannelAccountFactory.create(organization=personas.org, network="bluesky")
    at = timezone.now() - timedelta(hours=2)
    for number in range(60):
        published(account, at=at, remote_id=f"at://did:plc:city/app.bsky.feed.post/{number}")
    tracked_posts_discover()

    result = metrics_pull_account(account=account)

    assert counting_bluesky.calls == [25, 25, 10]  # getPosts takes 25 URIs at most
    assert (result.outcome, result.posts, result.snapshots) == ("pulled", 60, 60)


def test_the_beat_tick_sends_one_pull_per_account_due(personas, monkeypatch):
    sent = []
    monkeypatch.setattr(
        tasks.pull_account, "apply_async", lambda args, **options: sent.append((args, options))
    )
    published(personas.bob_account, at=timezone.now() - timedelta(hours=1))

    count = tasks.pull_due()

    assert TrackedPost.objects.count() == 1
    assert count == 3  # every account is due for its followers; bob's for a post too
    assert {args[0] for args, _options in sent} == {
        personas.bob_account.pk,
        personas.other_account.pk,
        personas.outsider_account.pk,
    }
    assert all(options["queue"] == "sync" for _args, options in sent)


def test_the_pull_task_runs_the_service(personas):
    published(personas.bob_account, at=timezone.now() - timedelta(hours=1))
    tracked_posts_discover()

    assert tasks.pull_account(personas.bob_account.pk) == "pulled"
    assert tasks.pull_account(999_999) == "inactive"
