"""Test set-up for records: published posts made directly, dated in the past."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import ChannelAccount
from governance.models import User
from publishing.models import Post, PostStatus, Variant


def published(account: ChannelAccount, author: User, days_ago: int, title: str) -> Post:
    """A post that went out ``days_ago`` days ago (made directly: no network involved)."""
    when = timezone.now() - timedelta(days=days_ago)
    post = Post.objects.create(
        organization=account.organization,
        title=title,
        status=PostStatus.PUBLISHED,
        created_by=author,
        submitted_by=author,
        published_at=when,
        scheduled_at=when,
    )
    Variant.objects.create(post=post, channel_account=account, language="fi", text=f"{title}.")
    return post
