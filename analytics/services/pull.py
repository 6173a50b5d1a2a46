"""Pulling metrics from the networks.

``tracked_posts_discover`` finds published posts (``PublishJob`` rows in state
published) that are not tracked yet, and gives each a ``TrackedPost`` whose
first pull is due shortly after publishing. ``metrics_pull_account`` pulls one
account's due work: its own numbers (followers) when due, and the metrics of
its due posts, several posts per call where the network allows it. Each
batch's snapshots and the posts' next due times are written in one
transaction, so a run that stops part-way keeps what it stored and the rest
stays due. A snapshot is kept only when a number changed.

Failures are handled by kind: rate limited → the account waits as long as the
network asks (``not_before``), and its posts stay due; auth → the account needs
reconnecting (``accounts.services``); anything else → back off and try at a
later tick.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    PostMetrics,
    RateLimited,
    RemoteRef,
)
from accounts.connectors.registry import UnknownNetwork, get_connector, networks
from accounts.models import AccountStatus, ChannelAccount
from accounts.services import channel_account_record_error
from analytics.dashboard_cache import dashboards_changed
from analytics.models import (
    AccountMetricSnapshot,
    MetricsPullState,
    PostMetricSnapshot,
    TrackedPost,
)
from analytics.schedule import (
    ACCOUNT_PULL_INTERVAL,
    FIRST_PULL_DELAY,
    next_pull_at,
)
from publishing.models import JobStatus, PublishJob

logger = logging.getLogger(__name__)

# A job committed a little after a later-published one is still found.
DISCOVERY_OVERLAP = timedelta(hours=1)
DISCOVERY_BATCH = 1000
# A run holds the account this long at a time (renewed with every batch).
PULL_LEASE = timedelta(minutes=5)
# Without a Retry-After, a rate limit waits this long.
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
# Back-off after failures: 1, 2, 4 … minutes, at most an hour.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
# (posts per call, posts per run) by network. Bluesky's getPosts takes 25 URIs in
# one call; Mastodon looks each status up on its own, within 300 requests per five
# minutes, so a run takes fewer; X looks up 100 ids in one (paid) call. What is
# left stays due for the next tick.
BATCHES: dict[str, tuple[int, int]] = {"bluesky": (25, 500), "mastodon": (20, 100), "x": (100, 500)}
DEFAULT_BATCH = (20, 200)

SNAPSHOT_FIELDS = ("likes", "shares", "replies", "quotes", "impressions")


@dataclass(frozen=True)
class PullResult:
    """How a run went: ``outcome`` is one of pulled, deferred, busy, inactive,
    not_supported, rate_limited, auth_failed, failed."""

    outcome: str
    posts: int = 0
    snapshots: int = 0
    account_pulled: bool = False
    error: str = ""


def metrics_networks() -> list[str]:
    """The networks whose connector can tell us metrics."""
    return [name for name in networks() if get_connector(name).capabilities.metrics]


# --- finding published posts ---------------------------------------------------------------


def _remote_extra(job: PublishJob) -> dict[str, str]:
    parts = job.remote_parts or []
    if parts and isinstance(parts[0], dict) and parts[0].get("remote_id") == job.remote_id:
        return {str(k): str(v) for k, v in (parts[0].get("extra") or {}).items()}
    return {}


def tracked_posts_discover(*, now: datetime | None = None) -> int:
    """Start tracking every published post not tracked yet; returns how many.

    Looks only at jobs published since the latest tracked one (less an overlap),
    so the tick stays cheap however many posts there are; the first run takes
    them all. A doubled tick is harmless: the job is unique on ``TrackedPost``."""
    now = now or timezone.now()
    jobs = (
        PublishJob.objects.filter(status=JobStatus.PUBLISHED, published_at__isnull=False)
        .exclude(remote_id="")
        .filter(tracking__isnull=True)
    )
    watermark = TrackedPost.objects.aggregate(latest=Max("published_at"))["latest"]
    if watermark is not None:
        jobs = jobs.filter(published_at__gte=watermark - DISCOVERY_OVERLAP)
    pullable = set(metrics_networks())
    created = 0
    batch: list[TrackedPost] = []
    rows = jobs.select_related("post", "channel_account").order_by("published_at", "pk")
    for job in rows.iterator(chunk_size=DISCOVERY_BATCH):
        batch.append(tracked_post_for(job, pullable))
        if len(batch) >= DISCOVERY_BATCH:
            created += _create_tracked(batch)
            batch = []
    if batch:
        created += _create_tracked(batch)
    return created


def tracked_post_for(job: PublishJob, pullable: set[str]) -> TrackedPost:
    """A new, unsaved ``TrackedPost`` for a published job; its first pull is due shortly
    after publishing, unless its network tells no metrics or it was deleted since."""
    assert job.published_at is not None
    gone = job.deleted_at is not None
    return TrackedPost(
        job=job,
        organization_id=job.organization_id,
        channel_account_id=job.channel_account_id,
        post_id=job.post_id,
        remote_id=job.remote_id,
        remote_url=job.remote_url,
        remote_extra=_remote_extra(job),
        published_at=job.published_at,
        deleted_at=job.deleted_at,
        next_pull_at=(
            job.published_at + FIRST_PULL_DELAY
            if job.channel_account.network in pullable and not gone
            else None
        ),
    )


def _create_tracked(batch: list[TrackedPost]) -> int:
    # ignore_conflicts: a concurrent tick may have tracked the same jobs a moment ago.
    before = TrackedPost.objects.filter(job_id__in=[t.job_id for t in batch]).count()
    TrackedPost.objects.bulk_create(batch, ignore_conflicts=True)
    dashboards_changed(*(tracked.organization_id for tracked in batch))
    return len(batch) - before


# --- pulling one account -------------------------------------------------------------------


def _backoff(failures: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


def _finish(state_id: int, **values: Any) -> None:
    MetricsPullState.objects.filter(pk=state_id).update(leased_until=None, **values)


def _ref(post: TrackedPost) -> RemoteRef:
    return RemoteRef(
        remote_id=post.remote_id,
        url=post.remote_url,
        extra={str(k): str(v) for k, v in (post.remote_extra or {}).items()},
    )


def _claim(account: ChannelAccount, now: datetime) -> tuple[MetricsPullState | None, str]:
    state, _created = MetricsPullState.objects.get_or_create(channel_account=account)
    claimed = (
        MetricsPullState.objects.filter(pk=state.pk)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + PULL_LEASE)
    )
    state.refresh_from_db()
    if claimed:
        return state, ""
    if state.not_before is not None and state.not_before > now:
        return None, "deferred"
    return None, "busy"


def metrics_pull_account(*, account: ChannelAccount, now: datetime | None = None) -> PullResult:
    """Pull the account's due metrics: its followers when due, then its due posts,
    oldest due first, in batches. Claims the account first (a conditional update:
    a second worker, or a doubled beat tick, finds it taken and does nothing)."""
    now = now or timezone.now()
    if account.status != AccountStatus.ACTIVE:
        return PullResult("inactive")
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        return PullResult("not_supported")
    if not connector.capabilities.metrics:
        return PullResult("not_supported")
    state, refusal = _claim(account, now)
    if state is None:
        return PullResult(refusal)
    per_call, per_run = BATCHES.get(account.network, DEFAULT_BATCH)
    pulled = snapshots = 0
    account_pulled = False
    try:
        if state.next_account_pull_at is None or state.next_account_pull_at <= now:
            _pull_account_numbers(connector, account, state, now)
            account_pulled = True
        due = list(
            TrackedPost.objects.filter(
                channel_account=account, next_pull_at__isnull=False, next_pull_at__lte=now
            )
            .select_related("job")
            .order_by("next_pull_at", "pk")[:per_run]
        )
        for start in range(0, len(due), per_call):
            batch = due[start : start + per_call]
            live = _drop_deleted_here(batch, now)
            if live:
                metrics = connector.fetch_post_metrics(account, [_ref(post) for post in live])
                snapshots += _store_post_metrics(live, metrics, now)
            pulled += len(batch)
            MetricsPullState.objects.filter(pk=state.pk).update(
                leased_until=timezone.now() + PULL_LEASE
            )
    except RateLimited as exc:
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after else DEFAULT_RATE_LIMIT_WAIT
        _finish(
            state.pk,
            not_before=timezone.now() + wait,
            last_error=exc.message[:2000],
            last_error_kind=str(exc.kind),
        )
        return PullResult("rate_limited", pulled, snapshots, account_pulled, exc.message)
    except AuthError as exc:
        _finish(state.pk, last_error=exc.message[:2000], last_error_kind=str(exc.kind))
        # Marks the account needs_reconnect and tells the people who look after it.
        channel_account_record_error(account=account, error=exc)
        return PullResult("auth_failed", pulled, snapshots, account_pulled, exc.message)
    except ConnectorError as exc:
        failures = state.failures + 1
        _finish(
            state.pk,
            failures=failures,
            not_before=timezone.now() + _backoff(failures),
            last_error=exc.message[:2000],
            last_error_kind=str(exc.kind),
        )
        logger.warning(
            "Metrics pull of account %s failed (%s): %s", account.pk, exc.kind, exc.detail
        )
        return PullResult("failed", pulled, snapshots, account_pulled, exc.message)
    except BaseException:
        # A bug or a time limit: free the account at once, keep what was stored.
        _finish(state.pk, failures=state.failures + 1)
        raise
    finally:
        if account_pulled or pulled:
            # New figures, those stored before a failure included.
            dashboards_changed(account.organization_id)
    _finish(
        state.pk,
        failures=0,
        not_before=None,
        last_pulled_at=timezone.now(),
        last_error="",
        last_error_kind="",
    )
    return PullResult("pulled", pulled, snapshots, account_pulled)


def _pull_account_numbers(
    connector: Connector, account: ChannelAccount, state: MetricsPullState, now: datetime
) -> None:
    numbers = connector.fetch_account_metrics(account)
    with transaction.atomic():
        latest = (
            AccountMetricSnapshot.objects.filter(channel_account=account)
            .order_by("-taken_at", "-pk")
            .first()
        )
        values = (numbers.followers, numbers.following, numbers.posts)
        if latest is None or (latest.followers, latest.following, latest.posts) != values:
            AccountMetricSnapshot.objects.create(
                channel_account=account,
                taken_at=now,
                followers=numbers.followers,
                following=numbers.following,
                posts=numbers.posts,
            )
        MetricsPullState.objects.filter(pk=state.pk).update(
            next_account_pull_at=now + ACCOUNT_PULL_INTERVAL
        )


def _drop_deleted_here(batch: Sequence[TrackedPost], now: datetime) -> list[TrackedPost]:
    """Stop tracking posts deleted through the app since; the rest are pulled."""
    gone = [post for post in batch if post.job.deleted_at is not None]
    if gone:
        TrackedPost.objects.filter(pk__in=[post.pk for post in gone]).update(
            next_pull_at=None, deleted_at=now
        )
    return [post for post in batch if post.job.deleted_at is None]


def _store_post_metrics(
    posts: Sequence[TrackedPost], metrics: Sequence[PostMetrics], now: datetime
) -> int:
    """Keep what the network said about one batch; returns how many snapshots were new.

    A post the network said nothing about stays on its schedule; one it reports
    deleted is not pulled again (its numbers so far stay)."""
    by_remote_id = {item.remote_id: item for item in metrics}
    snapshots: list[PostMetricSnapshot] = []
    for post in posts:
        item = by_remote_id.get(post.remote_id)
        post.last_pulled_at = now
        post.pulls += 1
        if item is not None and item.deleted:
            post.deleted_at = now
            post.next_pull_at = None
            continue
        post.next_pull_at = next_pull_at(published_at=post.published_at, now=now)
        if item is None:
            continue
        values = {
            "likes": item.likes or 0,
            "shares": item.shares or 0,
            "replies": item.replies or 0,
            "quotes": item.quotes or 0,
            "impressions": item.impressions,
        }
        if all(getattr(post, name) == value for name, value in values.items()) and post.pulls > 1:
            continue
        for name, value in values.items():
            setattr(post, name, value)
        post.engagement = post.likes + post.shares + post.replies + post.quotes
        snapshots.append(
            PostMetricSnapshot(
                tracked_post=post,
                channel_account_id=post.channel_account_id,
                taken_at=now,
                **values,
            )
        )
    with transaction.atomic():
        PostMetricSnapshot.objects.bulk_create(snapshots)
        TrackedPost.objects.bulk_update(
            posts,
            [
                "last_pulled_at",
                "pulls",
                "deleted_at",
                "next_pull_at",
                *SNAPSHOT_FIELDS,
                "engagement",
            ],
        )
    return len(snapshots)
