"""End to end, issue 18's story: a comms person uploads a one-minute video (ffmpeg-made)
through the media library page, which says YouTube and Bluesky take it as it is and
Instagram needs a 9:16 crop; adds Finnish and Swedish captions; the post, scheduled to
YouTube (the local test server) and Bluesky (the real local PDS), goes out exactly once
to each through real Celery processes (beat and worker, Redis, PostgreSQL), the captions
arriving as YouTube caption tracks and as the Bluesky video embed's captions; then a
viewer's YouTube comment comes into the inbox and is answered from its page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.services import channel_account_connect_bluesky
from inbox.models import InboxItem
from inbox.services import inbox_sync_account
from publishing.models import JobStatus, MediaAsset, Post, PostStatus, PublishJob
from publishing.services.approval import post_approve
from publishing.services.posts import (
    MediaSlot,
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from publishing.services.video import media_caption_set
from publishing.tests.fixtures import Team
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from publishing.tests.video_files import make_video
from tests.youtube_server.helpers import connect

pytestmark = pytest.mark.bsky

SRT_FI = (
    "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa uuteen kirjastoon.\n\n"
    "2\n00:00:01,600 --> 00:00:02,900\nOvet aukeavat yhdeksältä.\n"
)
SRT_SV = (
    "1\n00:00:00,500 --> 00:00:01,500\nVälkommen till det nya biblioteket.\n\n"
    "2\n00:00:01,600 --> 00:00:02,900\nDörrarna öppnas klockan nio.\n"
)
TEXT = "Uusi kirjasto avataan maanantaina. Katso video!"


@pytest.mark.django_db(transaction=True)
def test_a_one_minute_captioned_video_goes_to_youtube_and_bluesky_once_and_a_comment_is_answered(
    team: Team,
    personas,
    youtube_server,
    bsky_network,
    tmp_path,
    monkeypatch,
    settings,
    client,
    login,
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

    # A one-minute video through the library page, which says where it fits.
    path = make_video(tmp_path / "kirjasto.mp4", seconds=60)
    login(client, team.eddie.user)
    with path.open("rb") as handle:
        response = client.post(
            "/publishing/media/",
            {"upload": "video", "video-file": handle, "video-alt_fi": "Kirjaston avajaiset"},
        )
    video = MediaAsset.objects.get()
    assert response["Location"] == f"/publishing/media/{video.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "<dt>Duration</dt><dd>1:00</dd>" in page
    for network in ("youtube", "bluesky"):
        row = page.split(f'<tr data-network="{network}">')[1].split("</tr>")[0]
        assert "Yes" in row, network
    assert "Instagram Reels needs a 9:16 crop." in page
    for language, srt in (("fi", SRT_FI), ("sv", SRT_SV)):
        media_caption_set(
            asset=video,
            membership=team.eddie,
            language=language,
            file=SimpleUploadedFile(f"{language}.srt", srt.encode()),
        )
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
    # the Finnish and Swedish captions as caption tracks.
    [uploaded] = youtube_server.videos.values()
    assert jobs[youtube.pk].remote_id == uploaded.id
    assert uploaded.content == path.read_bytes()
    assert uploaded.snippet["title"] == "Kirjaston avajaiset"
    assert uploaded.snippet["description"] == TEXT
    assert uploaded.status["selfDeclaredMadeForKids"] is False
    assert uploaded.status["privacyStatus"] == "unlisted"
    tracks = {track["language"]: track["vtt"] for track in uploaded.captions}
    assert sorted(tracks) == ["fi", "sv"]
    assert "Tervetuloa uuteen kirjastoon." in tracks["fi"]
    assert "Dörrarna öppnas klockan nio." in tracks["sv"]

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
    captions = {caption["lang"]: caption for caption in embed["captions"]}
    assert sorted(captions) == ["fi", "sv"]
    answer = bsky_network.xrpc(
        "GET",
        "com.atproto.sync.getBlob",
        params={"did": remote.did, "cid": captions["fi"]["file"]["ref"]["$link"]},
    )
    assert "Tervetuloa uuteen kirjastoon." in answer.content.decode()

    # A viewer comments on the video; the comment comes into the inbox and is answered
    # from its page, as the channel.
    comment = youtube_server.add_comment(
        uploaded.id, "aino_v", "Milloin kirjasto aukeaa?", timezone.now()
    )
    assert inbox_sync_account(account=youtube).new_items == 1
    item = InboxItem.objects.get(channel_account=youtube, remote_id=comment.id)
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Milloin kirjasto aukeaa?" in page
    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "Maanantaina klo 9."}, follow=True)
    assert "Your reply was sent." in response.content.decode()
    [answer_comment] = [c for c in youtube_server.comments.values() if c.parent_id == comment.id]
    assert answer_comment.text.startswith("Maanantaina klo 9.")
