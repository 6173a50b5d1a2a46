"""End to end on Meta with a video: one Finnish post with a short 9:16 video (made by
ffmpeg) and Finnish captions, scheduled to a Facebook Page, its Instagram account and a
Threads account, goes out exactly once to each through real Celery processes (beat and
worker, Redis, PostgreSQL): Facebook receives the file through the Resumable Upload API
and the captions as SubRip; Instagram (a Reel) and Threads download the video from our
signed public address, served by the live server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.connectors.threads import SCOPES as THREADS_SCOPES
from accounts.models import ChannelAccount, NetworkApp
from publishing.models import JobStatus, Post, PostStatus, PublishJob
from publishing.services.approval import post_approve
from publishing.services.posts import (
    MediaSlot,
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from publishing.tests.fixtures import Team
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from publishing.tests.video_files import library_video

SRT_FI = (
    "1\n00:00:00,500 --> 00:00:01,500\nUimahalli avataan maanantaina.\n\n"
    "2\n00:00:01,600 --> 00:00:03,500\nTervetuloa uimaan!\n"
)
TEXT = "Uimahalli avataan maanantaina kello 6. Katso video!"


@pytest.mark.django_db(transaction=True)
def test_a_captioned_video_reaches_facebook_instagram_and_threads_exactly_once(
    team: Team, graph_server, threads_server, live_server, settings, tmp_path, media_root
):
    broker_url = require_postgres_and_redis()
    settings.SITE_URL = live_server.url
    graph_server.video_polls = 1  # each network processes for a moment
    threads_server.video_processing_polls = 1
    org = team.alice.organization
    page = graph_server.create_page("City of Example", with_instagram="cityofexample")
    NetworkApp.objects.create(
        organization=org,
        network="meta",
        client_id=graph_server.app_id,
        client_secret=graph_server.app_secret,
    )
    user_token = graph_server.user_token()
    facebook = ChannelAccount.objects.create(
        organization=org,
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "user_token": user_token},
    )
    instagram = ChannelAccount.objects.create(
        organization=org,
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "user_token": user_token, "page_id": page.id},
    )
    threads = ChannelAccount.objects.create(
        organization=org,
        network="threads",
        handle="@cityofexample",
        server_url=threads_server.base_url,
        remote_id=threads_server.user.id,
        credentials={"access_token": threads_server.issue_token()},
        scopes=list(THREADS_SCOPES),
    )

    path = tmp_path / "uimahalli.mp4"
    video = library_video(
        team.eddie,
        path,
        alt_text="Uimahallin allas aamulla",
        captions={"fi": SRT_FI},
        seconds=4,
        size="540x960",
    )
    post = post_create(membership=team.eddie, title="Uimahalli")
    for account in (facebook, instagram, threads):
        variant_save(
            post=post,
            membership=team.eddie,
            channel_account=account,
            language="fi",
            text=TEXT,
            media=[MediaSlot(video)],
        )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)

    with CeleryProcesses(
        tmp_path,
        broker_url=broker_url,
        overrides={
            "SITE_URL": live_server.url,
            "MEDIA_ROOT": str(media_root),
            "META_GRAPH_VIDEO_URL": graph_server.base_url,
        },
    ) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=3))
        celery.wait_for(
            lambda: (
                Post.objects.get(pk=post.pk).status in (PostStatus.PUBLISHED, PostStatus.FAILED)
            ),
            "the post to be published",
        )
    errors = list(PublishJob.objects.filter(post=post).values_list("last_error_message", flat=True))
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED, errors
    jobs = {job.channel_account_id: job for job in PublishJob.objects.filter(post=post)}
    assert {job.status for job in jobs.values()} == {JobStatus.PUBLISHED}
    assert {job.attempts for job in jobs.values()} == {1}
    content = path.read_bytes()

    # Facebook: one upload session, one video with every byte, one Page post, captions.
    [fb_video] = graph_server.videos.values()
    assert len(graph_server.uploads) == 1
    assert fb_video.content == content
    assert fb_video.description == TEXT
    [fb_post] = graph_server.posts_of(page.id)
    assert jobs[facebook.pk].remote_id == fb_post.id
    assert "Tervetuloa uimaan!" in fb_video.captions["fi_FI"]
    assert "00:00:01,600 --> 00:00:03,500" in fb_video.captions["fi_FI"]

    # Instagram: one Reel, fetched from our public address.
    [reel] = graph_server.posts_of(page.ig_id)
    assert reel.media_type == "VIDEO" and reel.message == TEXT
    assert jobs[instagram.pk].remote_id == reel.id
    [container] = [c for c in graph_server.containers.values() if c.media_type == "REELS"]
    assert container.fetched_bytes == len(content)
    assert len(graph_server.requests_to("POST", "/media_publish")) == 1

    # Threads: one video post with its description as alt text, the bytes fetched.
    [thread] = threads_server.posts_of(threads_server.user)
    assert thread.media_type == "VIDEO"
    assert thread.video_bytes == content
    assert thread.alt_text == "Uimahallin allas aamulla"
    assert jobs[threads.pk].remote_id == thread.id
