"""End to end on Threads: posts scheduled a few seconds ahead go out through a real Celery
beat and worker (separate processes, Redis broker, PostgreSQL) to the local Threads test
server, exactly once.

The Threads server fetches each image from the signed public address GovSocial gives it
(served here by Django's live server), as Threads fetches images by URL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.connectors.threads import SCOPES
from accounts.models import ChannelAccount
from publishing.models import (
    AttemptStatus,
    JobStatus,
    Post,
    PostStatus,
    PublishAttempt,
    PublishJob,
)
from publishing.services.posts import MediaSlot, post_schedule
from publishing.tests.fixtures import Team, approved, make_image, png_bytes
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def threads_account(team: Team, threads_server) -> ChannelAccount:
    return ChannelAccount.objects.create(
        organization=team.alice.organization,
        network="threads",
        handle="@cityofexample",
        server_url=threads_server.base_url,
        remote_id=threads_server.user.id,
        credentials={"access_token": threads_server.issue_token()},
        scopes=list(SCOPES),
    )


def publish_through_workers(tmp_path, posts: list[Post], team: Team, **overrides: str) -> None:
    broker_url = require_postgres_and_redis()
    with CeleryProcesses(tmp_path, broker_url=broker_url, overrides=overrides) as celery:
        celery.start_worker()
        celery.start_beat()
        due = timezone.now() + timedelta(seconds=3)
        for post in posts:
            post_schedule(post=post, membership=team.eddie, at=due)
        ids = [p.pk for p in posts]
        celery.wait_for(
            lambda: (
                Post.objects.filter(pk__in=ids, status=PostStatus.PUBLISHED).count() == len(ids)
            ),
            "every post to be published",
        )


def test_a_finnish_post_with_an_image_and_alt_text_is_published_once(
    team, threads_account, threads_server, tmp_path, media_root, live_server, settings
):
    settings.SITE_URL = live_server.url
    image = make_image(team.eddie, alt={"fi": "Kaupungintalo lumisena talviaamuna"})
    post = approved(
        team,
        "Kaupungintalo on auki tänään klo 8-16. Tervetuloa!",
        account=threads_account,
        language="fi",
        media=[MediaSlot(asset=image)],
    )

    publish_through_workers(
        tmp_path, [post], team, SITE_URL=live_server.url, MEDIA_ROOT=str(media_root)
    )

    [published] = threads_server.posts_of(threads_server.user)
    assert published.text == "Kaupungintalo on auki tänään klo 8-16. Tervetuloa!"
    assert published.media_type == "IMAGE"
    assert published.alt_text == "Kaupungintalo lumisena talviaamuna"
    assert published.image_bytes == png_bytes()
    [job] = PublishJob.objects.filter(post=post)
    assert job.status == JobStatus.PUBLISHED
    assert job.attempts == 1
    assert job.remote_parts[0]["remote_id"] == published.id
    assert job.remote_parts[0]["url"].endswith(published.shortcode)


def test_a_lost_answer_is_reconciled_and_never_sent_again(
    team, threads_account, threads_server, tmp_path
):
    publish_path = f"/v1.0/{threads_server.user.id}/threads_publish"
    threads_server.lose_answer(method="POST", path_prefix=publish_path)
    post = approved(team, "Tiedote: vesikatko Kalliossa klo 10-12.", account=threads_account)

    publish_through_workers(tmp_path, [post], team)

    [published] = threads_server.posts_of(threads_server.user)
    assert published.text == "Tiedote: vesikatko Kalliossa klo 10-12."
    assert len(threads_server.requests_to("POST", publish_path)) == 1
    [job] = PublishJob.objects.filter(post=post)
    assert job.status == JobStatus.PUBLISHED
    assert job.remote_parts[0]["remote_id"] == published.id
    statuses = list(
        PublishAttempt.objects.filter(job=job).order_by("number").values_list("status", flat=True)
    )
    assert statuses[0] != AttemptStatus.SUCCEEDED
    assert AttemptStatus.RECONCILED in statuses
