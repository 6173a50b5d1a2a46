"""End to end: a recurring post's occurrences go out through a real Celery beat and
worker (separate processes, Redis broker, PostgreSQL) and reach the network exactly
once each, while the occurrences not yet due stay scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SandboxPost
from publishing.models import JobStatus, Post, PostStatus, PublishJob
from publishing.services.posts import post_reschedule, post_schedule, post_update
from publishing.services.recurrence import RepeatSpec, series_set
from publishing.tests.fixtures import Team, approved
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis


@pytest.mark.django_db(transaction=True)
def test_recurring_occurrences_publish_exactly_once(team: Team, tmp_path) -> None:
    broker_url = require_postgres_and_redis()
    text = "Weekly office hours at the city hall."
    first = timezone.now() + timedelta(seconds=4)
    post = approved(team, text)
    post = post_update(post=post, membership=team.eddie, planned_at=first)
    series = series_set(post=post, membership=team.eddie, spec=RepeatSpec("daily", count=3))
    with CeleryProcesses(tmp_path, broker_url=broker_url) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=first)
        second, third = (
            Post.objects.filter(series=series).exclude(pk=post.pk).order_by("occurrence_start")
        )
        # Tomorrow's occurrence is moved to a few seconds from now, on its own.
        post_reschedule(
            post=second, membership=team.eddie, at=timezone.now() + timedelta(seconds=5)
        )
        ids = [post.pk, second.pk]
        celery.wait_for(
            lambda: Post.objects.filter(pk__in=ids, status=PostStatus.PUBLISHED).count() == 2,
            "the first two occurrences to be published",
        )
    published = SandboxPost.objects.filter(account=team.account, is_own=True)
    assert list(published.values_list("text", flat=True)) == [text, text]
    jobs = PublishJob.objects.filter(post_id__in=ids)
    assert {(j.status, j.attempts) for j in jobs} == {(JobStatus.PUBLISHED, 1)}
    third.refresh_from_db()
    assert third.status == PostStatus.SCHEDULED
    assert PublishJob.objects.get(post=third).status == JobStatus.PENDING
