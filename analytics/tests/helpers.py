"""Helpers for the analytics tests: published posts as the dispatcher leaves them,
raw snapshots at given times, inbox items, and rollups built through the service."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.utils import timezone

from accounts.models import ChannelAccount, SandboxPost
from analytics.models import AccountMetricSnapshot, PostMetricSnapshot, TrackedPost
from analytics.services.pull import metrics_networks, tracked_post_for
from inbox.models import InboxItem, ItemKind, ItemStatus
from publishing.models import Campaign, JobStatus, Post, PostStatus, PublishJob, Variant


def published(
    account: ChannelAccount,
    *,
    at: datetime,
    title: str = "Library opening hours",
    campaign: Campaign | None = None,
    remote_id: str = "",
    sandbox: bool = True,
) -> PublishJob:
    """A post published to ``account`` at ``at``, recorded as the dispatcher records it
    (a published PublishJob with the network's id, URL and references). On the Sandbox
    the post is also put in the Sandbox feed, where metrics are read from."""
    remote_id = remote_id or f"sbx_{uuid.uuid4().hex[:20]}"
    post = Post.objects.create(
        organization=account.organization,
        title=title,
        campaign=campaign,
        status=PostStatus.PUBLISHED,
        scheduled_at=at,
        published_at=at,
    )
    variant = Variant.objects.create(post=post, channel_account=account, language="fi", text=title)
    url = f"https://sandbox.invalid/{remote_id}"
    job = PublishJob.objects.create(
        organization=account.organization,
        post=post,
        variant=variant,
        channel_account=account,
        due_at=at,
        next_attempt_at=at,
        status=JobStatus.PUBLISHED,
        remote_id=remote_id,
        remote_url=url,
        remote_parts=[{"remote_id": remote_id, "url": url, "extra": {}}],
        published_at=at,
    )
    if sandbox and account.network == "sandbox":
        SandboxPost.objects.create(
            account=account,
            remote_id=remote_id,
            author_handle=account.handle,
            text=title,
            created_at=at,
        )
    return job


def tracked(account: ChannelAccount, *, at: datetime, **kwargs: object) -> TrackedPost:
    """A published post, tracked as the discovery tick tracks it (in any order of time)."""
    job = published(account, at=at, **kwargs)  # type: ignore[arg-type]
    tracked_post = tracked_post_for(job, set(metrics_networks()))
    tracked_post.save()
    return tracked_post


def post_snapshot(
    post: TrackedPost,
    at: datetime,
    likes: int = 0,
    shares: int = 0,
    replies: int = 0,
    quotes: int = 0,
    impressions: int | None = None,
) -> PostMetricSnapshot:
    """A snapshot as a pull keeps it; the post's latest numbers follow, as a pull sets them."""
    snapshot = PostMetricSnapshot.objects.create(
        tracked_post=post,
        channel_account_id=post.channel_account_id,
        taken_at=at,
        likes=likes,
        shares=shares,
        replies=replies,
        quotes=quotes,
        impressions=impressions,
    )
    if post.last_pulled_at is None or at >= post.last_pulled_at:
        post.likes, post.shares, post.replies, post.quotes = likes, shares, replies, quotes
        post.impressions = impressions
        post.engagement = likes + shares + replies + quotes
        post.last_pulled_at = at
        post.save(
            update_fields=[
                "likes",
                "shares",
                "replies",
                "quotes",
                "impressions",
                "engagement",
                "last_pulled_at",
            ]
        )
    return snapshot


def followers(account: ChannelAccount, at: datetime, count: int) -> AccountMetricSnapshot:
    return AccountMetricSnapshot.objects.create(
        channel_account=account, taken_at=at, followers=count, following=0, posts=0
    )


def inbox_item(
    account: ChannelAccount,
    *,
    posted_at: datetime,
    answered_at: datetime | None = None,
    due_at: datetime | None = None,
    status: str | None = None,
    closed_at: datetime | None = None,
) -> InboxItem:
    return InboxItem.objects.create(
        organization=account.organization,
        channel_account=account,
        network=account.network,
        remote_id=f"item-{uuid.uuid4().hex[:12]}",
        kind=ItemKind.REPLY,
        author_handle="aino.virtanen",
        text="Milloin kirjasto aukeaa?",
        posted_at=posted_at,
        received_at=posted_at,
        thread_key=f"thread-{uuid.uuid4().hex[:8]}",
        status=status or (ItemStatus.ANSWERED if answered_at else ItemStatus.NEW),
        first_response_at=answered_at,
        sla_due_at=due_at,
        closed_at=closed_at,
    )


def local_noon(day: date, zone: str = "Europe/Helsinki") -> datetime:
    import zoneinfo

    return datetime.combine(day, datetime.min.time(), tzinfo=zoneinfo.ZoneInfo(zone)) + timedelta(
        hours=12
    )


def today_local(zone: str = "Europe/Helsinki") -> date:
    import zoneinfo

    return timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
