"""End to end: a comms person's post with a captioned library video (made by ffmpeg),
scheduled to X and to a LinkedIn page, published by real Celery processes (beat and
worker, Redis, PostgreSQL) against the local X and LinkedIn servers.

Both networks take the post but their answers never reach the worker, which dies
waiting: the next worker finds each post by reading the account's posts, so each
network holds exactly one post, with the one video uploaded once and its Finnish
captions. When a network cannot process the video, the post fails and its page says
why in words the author can act on."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ChannelAccount
from publishing.models import (
    AttemptKind,
    AttemptStatus,
    JobStatus,
    MediaAsset,
    Post,
    PostStatus,
    PublishJob,
)
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
from tests.linkedin_server.server import LinkedInTestServer, Organization
from tests.test_linkedin_e2e import linkedin_account
from tests.test_x_e2e import FAST_RECOVERY, connect_x
from tests.x_server.server import XTestServer

TEXT = "Uusi kirjasto avataan maanantaina. Katso video!"
SRT_FI = (
    "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa uuteen kirjastoon.\n\n"
    "2\n00:00:01,600 --> 00:00:03,500\nOvet aukeavat yhdeksältä.\n"
)
TWEETS = "/2/tweets"
LINKEDIN_POSTS = "/rest/posts"


@pytest.fixture
def library_page(linkedin_server: LinkedInTestServer) -> Organization:
    return linkedin_server.create_organization(
        "Esimerkin kaupunki", admin=linkedin_server.member, followers_organic=250
    )


@pytest.fixture
def accounts(
    team: Team,
    x_server: XTestServer,
    linkedin_server: LinkedInTestServer,
    library_page: Organization,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings,
) -> tuple[ChannelAccount, ChannelAccount]:
    """The city's X account (connected through its own X app) and LinkedIn page; the
    worker and beat read the X address and the media folder from their environment."""
    media_root = tmp_path / "media"
    settings.MEDIA_ROOT = str(media_root)
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    monkeypatch.setenv("X_API_URL", x_server.base_url)
    monkeypatch.setenv("X_AUTHORIZE_URL", x_server.authorize_url)
    return connect_x(team, x_server), linkedin_account(team, linkedin_server, library_page)


def captioned_video(team: Team, folder: Path) -> tuple[MediaAsset, Path]:
    """A four-second 640x360 clip in the library with Finnish captions (long and large
    enough for LinkedIn's 3 seconds and 75 KB)."""
    path = folder / "kirjasto.mp4"
    video = library_video(
        team.eddie,
        path,
        alt_text="Kirjaston avajaiset",
        captions={"fi": SRT_FI},
        seconds=4,
        size="640x360",
    )
    return video, path


def approved_video_post(team: Team, video: MediaAsset, *targets: ChannelAccount) -> Post:
    post = post_create(membership=team.eddie, title="Kirjaston avajaiset")
    for account in targets:
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
    return post


def post_page(client: Client, login, team: Team, post: Post) -> str:
    login(client, team.eddie.user)
    return client.get(f"/publishing/posts/{post.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_captioned_video_goes_to_x_and_linkedin_once_though_both_answers_are_lost(
    team: Team,
    accounts: tuple[ChannelAccount, ChannelAccount],
    x_server: XTestServer,
    linkedin_server: LinkedInTestServer,
    library_page: Organization,
    tmp_path: Path,
    client: Client,
    login,
) -> None:
    broker_url = require_postgres_and_redis()
    x_account, linkedin = accounts
    video, path = captioned_video(team, tmp_path)
    post = approved_video_post(team, video, x_account, linkedin)

    # Each network takes the post, but its answer never reaches the worker, which dies.
    x_server.hang(method="POST", path_prefix=TWEETS, after_processing=True)
    linkedin_server.hang(method="POST", path_prefix=LINKEDIN_POSTS, after_processing=True)
    with CeleryProcesses(tmp_path, broker_url=broker_url, overrides=FAST_RECOVERY) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=2))
        celery.wait_for(
            lambda: (
                x_server.requests_to("POST", TWEETS)
                and linkedin_server.requests_to("POST", LINKEDIN_POSTS)
            ),
            "the worker to be waiting for both networks' answers",
        )
        celery.kill_worker()
        x_server.release()
        linkedin_server.release()
        celery.start_worker()
        celery.wait_for(
            lambda: Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHED).exists(),
            "the post to be published to both after the restart",
        )

    jobs = {job.channel_account_id: job for job in PublishJob.objects.filter(post=post)}
    for job in jobs.values():
        attempts = list(job.attempt_rows.order_by("number").values_list("kind", "status"))
        assert attempts == [
            (AttemptKind.PUBLISH, AttemptStatus.UNKNOWN),
            (AttemptKind.RECONCILE, AttemptStatus.RECONCILED),
        ]
        assert job.status == JobStatus.PUBLISHED

    # X: one post, found again rather than sent again, with the video uploaded once (its
    # bytes, processed) and the Finnish captions attached as subtitles.
    [tweet] = x_server.tweets_of(x_server.user)
    # X shows the text with a t.co link for the attached video at the end.
    assert tweet.sent_text == TEXT
    assert tweet.text == f"{TEXT} {tweet.urls[-1]['url']}"
    assert tweet.urls[-1]["expanded_url"].endswith(f"/status/{tweet.id}/video/1")
    assert len(x_server.requests_to("POST", TWEETS)) == 1
    assert len(x_server.requests_to("POST", "/2/media/upload/initialize")) == 1
    [media_id] = tweet.media_ids
    uploaded = x_server.media[media_id]
    assert uploaded.content == path.read_bytes() and uploaded.state == "succeeded"
    [subtitles] = uploaded.subtitles
    assert subtitles["language_code"] == "FI"
    assert b"Tervetuloa uuteen kirjastoon." in x_server.media[subtitles["id"]].content
    assert json.loads(x_server.requests_to("POST", TWEETS)[0].body)["media"] == {
        "media_ids": [media_id]
    }
    assert jobs[x_account.pk].remote_id == tweet.id
    assert jobs[x_account.pk].remote_url == f"https://x.com/KaupunkiX/status/{tweet.id}"

    # LinkedIn: one post on the page with the video, uploaded once, its captions (SRT)
    # and poster frame with it.
    [landed] = linkedin_server.posts_of(library_page)
    assert landed.commentary == TEXT
    assert len(linkedin_server.requests_to("POST", LINKEDIN_POSTS)) == 1
    initializes = [
        r
        for r in linkedin_server.requests_to("POST", "/rest/videos")
        if "initializeUpload" in r.query
    ]
    assert len(initializes) == 1
    assert landed.content is not None
    clip = linkedin_server.assets[landed.content["media"]["id"]]
    assert clip.status == "AVAILABLE" and clip.content == path.read_bytes()
    assert clip.captions.decode().startswith(
        "1\n00:00:00,500 --> 00:00:01,500\nTervetuloa uuteen kirjastoon."
    )
    assert video.poster and clip.thumbnail == video.poster.open("rb").read()
    assert jobs[linkedin.pk].remote_id == landed.urn

    # What the author sees: published to both, with a link to each post.
    page = post_page(client, login, team, post)
    assert page.count("Published ") >= 2
    assert f'href="https://x.com/KaupunkiX/status/{tweet.id}"' in page
    assert f'href="https://www.linkedin.com/feed/update/{landed.urn}/"' in page


@pytest.mark.django_db(transaction=True)
def test_a_video_neither_network_can_process_fails_the_post_with_what_to_change(
    team: Team,
    accounts: tuple[ChannelAccount, ChannelAccount],
    x_server: XTestServer,
    linkedin_server: LinkedInTestServer,
    library_page: Organization,
    tmp_path: Path,
    client: Client,
    login,
) -> None:
    broker_url = require_postgres_and_redis()
    x_account, linkedin = accounts
    video, _path = captioned_video(team, tmp_path)
    post = approved_video_post(team, video, x_account, linkedin)
    x_server.video_processing_error = "Unsupported video format"
    linkedin_server.video_processing_fails = True

    with CeleryProcesses(tmp_path, broker_url=broker_url) as celery:
        celery.start_worker()
        celery.start_beat()
        post_schedule(post=post, membership=team.eddie, at=timezone.now() + timedelta(seconds=2))
        celery.wait_for(
            lambda: Post.objects.filter(pk=post.pk, status=PostStatus.FAILED).exists(),
            "the post to fail on both",
        )

    # Nothing was posted, and a refusal is not tried again: each video went up once.
    assert not x_server.tweets and not x_server.requests_to("POST", TWEETS)
    assert not linkedin_server.posts and not linkedin_server.requests_to("POST", LINKEDIN_POSTS)
    assert len(x_server.requests_to("POST", "/2/media/upload/initialize")) == 1
    jobs = {job.channel_account_id: job for job in PublishJob.objects.filter(post=post)}
    assert {(job.status, job.attempts) for job in jobs.values()} == {(JobStatus.FAILED, 1)}

    x_reason = (
        "X refused the post: X could not process the video (Unsupported video format). X takes "
        "H.264 MP4 or MOV videos with AAC sound, up to 140 seconds and 512 MB."
    )
    linkedin_reason = (
        "LinkedIn refused the post: LinkedIn could not process the video. LinkedIn takes MP4 "
        "videos of 3 seconds to 30 minutes and 75 KB to 500 MB, in aspect ratios from 1:2.4 "
        "to 2.4:1."
    )
    assert jobs[x_account.pk].last_error_message == x_reason
    assert jobs[linkedin.pk].last_error_message == linkedin_reason
    page = post_page(client, login, team, post)
    assert page.count("Failed:") == 2
    assert x_reason in page and linkedin_reason in page
    # The author is told, per network, without having to open the post.
    told = list(team.eddie.user.notifications.values_list("message", flat=True))
    assert any("KaupunkiX" in message and x_reason in message for message in told)
    assert any(linkedin.handle in message and linkedin_reason in message for message in told)
