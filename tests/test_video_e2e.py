"""End to end: one post with a short video (ffmpeg-made) and Finnish captions, scheduled
to YouTube (the local test server) and Bluesky (the real local PDS), goes out exactly
once to each through real Celery processes (beat and worker, Redis, PostgreSQL): the
captions arrive as a YouTube caption track and as the Bluesky video embed's captions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import channel_account_connect_bluesky
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
from tests.youtube_server.helpers import connect

pytestmark = pytest.mark.bsky

SRT_FI = (
    "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa uuteen kirjastoon.\n\n"
    "2\n00:00:01,600 --> 00:00:02,900\nOvet aukeavat yhdeksältä.\n"
)
TEXT = "Uusi kirjasto avataan maanantaina. Katso video!"


@pytest.mark.django_db(transaction=True)
def test_a_captioned_video_goes_to_youtube_and_bluesky_exactly_once(
    team: Team, personas, youtube_server, bsky_network, tmp_path, monkeypatch, settings
):
    broker_url = require_postgres_and_redis()
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = str(media_root)
    # The worker reads these from its environment.
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    monkeypatch.setenv("YOUTUBE_API_URL", youtube_server.base_url)
    monkeypatch.setenv("YOUTUBE_AUTHORIZE_URL", youtube_server.authorize_url)
    monkeypatch.setenv("YOUTUBE_TOKEN_URL", youtube_server.base_url)
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url

    from accounts.connectors.registry import get_connector

    youtube = connect(personas, youtube_server, get_connector("youtube"))
    remote = bsky_network.create_account("library")
    bluesky = channel_account_connect_bluesky(
        organization=team.alice.organization,
        actor=team.alice.user,
        handle=remote.handle,
        app_password=bsky_network.create_app_password(remote, "GovSocial"),
    )

    path = tmp_path / "kirjasto.mp4"
    video = library_video(team.eddie, path, alt_text="Kirjaston avajaiset", captions={"fi": SRT_FI})
    post = post_create(membership=team.eddie, title="Kirjaston avajaiset")
    for account in (youtube, bluesky):
        variant_save(
            post=post,
            membership=team.eddie,
            channel_account=account,
            language="fi",
            text=TEXT,
            media=[MediaSlot(video)],
            # YouTube's required choices, as the composer asks for them.
            network_options={
                "title": "Kirjaston avajaiset",
                "made_for_kids": False,
                "privacy_status": "unlisted",
            }
            if account is youtube
            else None,
        )
    post_submit_for_review(post=post, membership=team.eddie)
    post_approve(post=post, membership=team.rita)

    with CeleryProcesses(tmp_path, broker_url=broker_url) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=3))
        celery.wait_for(
            lambda: Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHED).exists(),
            "the post to be published to both",
        )

    jobs = {job.channel_account_id: job for job in PublishJob.objects.filter(post=post)}
    assert {job.status for job in jobs.values()} == {JobStatus.PUBLISHED}
    assert {job.attempts for job in jobs.values()} == {1}

    # YouTube: one video, its bytes, the title and who can watch as chosen, and
    # the Finnish captions as a caption track.
    [uploaded] = youtube_server.videos.values()
    assert jobs[youtube.pk].remote_id == uploaded.id
    assert uploaded.content == path.read_bytes()
    assert uploaded.snippet["title"] == "Kirjaston avajaiset"
    assert uploaded.snippet["description"] == TEXT
    assert uploaded.status["selfDeclaredMadeForKids"] is False
    assert uploaded.status["privacyStatus"] == "unlisted"
    [track] = uploaded.captions
    assert track["language"] == "fi"
    assert "Tervetuloa uuteen kirjastoon." in track["vtt"]

    # Bluesky: one post, with the video embed and its Finnish captions.
    listed = bsky_network.call(
        "GET",
        "com.atproto.repo.listRecords",
        params={"repo": remote.did, "collection": "app.bsky.feed.post", "limit": 100},
    )
    [record] = listed["records"]
    assert record["uri"] == jobs[bluesky.pk].remote_id
    embed = record["value"]["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "Kirjaston avajaiset"
    assert embed["video"]["size"] == path.stat().st_size
    [caption] = embed["captions"]
    assert caption["lang"] == "fi"
    answer = bsky_network.xrpc(
        "GET",
        "com.atproto.sync.getBlob",
        params={"did": remote.did, "cid": caption["file"]["ref"]["$link"]},
    )
    assert "Tervetuloa uuteen kirjastoon." in answer.content.decode()
