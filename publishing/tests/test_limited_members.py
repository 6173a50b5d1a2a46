"""A member limited to some accounts cannot move or stop a post that also goes elsewhere."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from publishing.models import PostStatus
from publishing.services.posts import post_cancel, post_reschedule, variant_save
from publishing.tests.fixtures import Team, scheduled


def test_limited_editor_cannot_reschedule_a_post_that_also_goes_to_other_accounts(team: Team):
    from publishing.services.approval import post_approve
    from publishing.services.posts import post_create, post_schedule, post_submit_for_review

    post = post_create(membership=team.eddie, title="Both accounts")
    for account in (team.account, team.other_account):
        variant_save(
            post=post, membership=team.eddie, channel_account=account, language="fi", text="Hei"
        )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)
    post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(hours=2))
    later = timezone.now() + timedelta(hours=5)

    with pytest.raises(PermissionDenied):
        post_reschedule(post=post, membership=team.bob, at=later)
    with pytest.raises(PermissionDenied):
        post_cancel(post=post, membership=team.bob, reason="")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at is not None
    assert post.scheduled_at < later


def test_limited_editor_can_reschedule_a_post_only_for_their_own_account(team: Team):
    post = scheduled(team)  # to bob's account only
    later = timezone.now() + timedelta(hours=5)
    post_reschedule(post=post, membership=team.bob, at=later)
    post.refresh_from_db()
    assert post.scheduled_at == later
