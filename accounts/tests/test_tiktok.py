"""The TikTok connector against the local TikTok test server (tests/tiktok_server):
connect and refresh, the creator info's refusals, a chunked upload of an
ffmpeg-made video polled to completion, the unaudited app's private-only rule,
TikTok's error objects as error kinds, and a lost answer reconciled without a
second post."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from django.utils import timezone

from accounts.connectors import tiktok
from accounts.connectors.base import (
    AuthError,
    MediaItem,
    OAuthClient,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.tiktok import MIN_CHUNK, chunk_plan
from accounts.models import ChannelAccount, NetworkApp, PublishCheckpoint
from accounts.tests.helpers import channel_account
from governance.models import Organization
from tests.factories import OrganizationFactory
from tests.tiktok_server.server import TikTokTestServer

REDIRECT_URI = "https://govsocial.example/accounts/tiktok/callback/"
FFMPEG = "/usr/bin/ffmpeg"


def make_video(path: Path, *, seconds: float, noisy: bool = False) -> Path:
    """A real MP4 made by ffmpeg: ``noisy`` makes it large (lossless noise)."""
    source = f"testsrc2=duration={seconds}:size=360x640:rate=25"
    if noisy:
        source += ",noise=alls=60:allf=t"
    subprocess.run(
        [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:v", "libx264",
         "-preset", "ultrafast", *(["-qp", "0"] if noisy else []), "-pix_fmt", "yuv420p",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


def video_item(path: Path, *, duration_ms: int) -> MediaItem:
    return MediaItem(
        content=b"",
        mime_type="video/mp4",
        kind="video",
        path=str(path),
        size_bytes=path.stat().st_size,
        duration_ms=duration_ms,
    )


@pytest.fixture
def connector() -> tiktok.TikTokConnector:
    return cast(tiktok.TikTokConnector, get_connector("tiktok"))


@pytest.fixture
def org(db) -> Organization:
    return cast(Organization, OrganizationFactory())


@pytest.fixture
def app(org, tiktok_server: TikTokTestServer) -> NetworkApp:
    return NetworkApp.objects.create(
        organization=org,
        network="tiktok",
        client_id=tiktok_server.client_key,
        client_secret=tiktok_server.client_secret,
        options={"audited": True},
    )


@pytest.fixture
def account(org, app, tiktok_server: TikTokTestServer) -> ChannelAccount:
    access, refresh = tiktok_server.issue_token()
    return channel_account(
        organization=org,
        network="tiktok",
        handle="Helsingin kaupunki",
        remote_id=tiktok_server.creator.open_id,
        server_url=tiktok_server.base_url,
        credentials={"access_token": access, "refresh_token": refresh},
        credentials_expire_at=timezone.now() + timedelta(hours=20),
    )


@pytest.fixture(scope="module")
def small_video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("v") / "small.mp4", seconds=3)


def request_for(item: MediaItem, key: str = "key-1", **options: Any) -> PublishRequest:
    return PublishRequest(
        text="Uimahalli avataan maanantaina #helsinki",
        media=[item],
        idempotency_key=key,
        options={"privacy_level": "PUBLIC_TO_EVERYONE", **options},
    )


def test_chunk_plan_follows_the_media_transfer_rules() -> None:
    mb = 1024 * 1024
    assert chunk_plan(3 * mb) == tiktok.ChunkPlan(3 * mb, 3 * mb, 1)  # under 5 MB: whole
    plan = chunk_plan(25 * mb + 7)
    assert (plan.chunk_size, plan.count) == (10 * mb, 2)
    # The last chunk takes the trailing bytes (here 15 MB + 7, within 128 MB).
    assert plan.ranges() == [(0, 10 * mb - 1), (10 * mb, 25 * mb + 6)]
    big = chunk_plan(20 * 1024 * mb)  # 20 GB: chunks grow to stay within 1,000
    assert MIN_CHUNK <= big.chunk_size <= 64 * mb and big.count <= 1000
    assert big.ranges()[-1][1] == 20 * 1024 * mb - 1
    with pytest.raises(Rejected):
        chunk_plan(0)


@pytest.mark.django_db
def test_connect_reads_the_user_and_stores_tokens(connector, tiktok_server) -> None:
    client = OAuthClient(
        server_url=tiktok_server.base_url,
        client_id=tiktok_server.client_key,
        client_secret=tiktok_server.client_secret,
        redirect_uri=REDIRECT_URI,
        scopes=tiktok.SCOPES,
    )
    start = connector.oauth_start(client=client)
    assert "/v2/auth/authorize/?" in start.authorization_url
    assert (
        "scope=user.info.basic%2Cuser.info.stats%2Cvideo.publish%2Cvideo.upload%2Cvideo.list"
        in (start.authorization_url)
    )
    back = tiktok_server.authorize(start.authorization_url)
    with pytest.raises(AuthError):
        connector.oauth_finish(
            client=client, code=back["code"], returned_state="forged",
            expected_state=start.state, code_verifier="",
        )  # fmt: skip
    connected = connector.oauth_finish(
        client=client, code=back["code"], returned_state=back["state"],
        expected_state=start.state, code_verifier="",
    )  # fmt: skip
    assert connected.remote_id == "open-id-1"
    assert connected.display_name == "Helsingin kaupunki"
    assert connected.credentials["refresh_token"].startswith("rft.")
    assert "video.publish" in connected.scopes
    token_call = tiktok_server.requests_to("POST", "/v2/oauth/token/")[0]
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.django_db
def test_an_expired_token_is_renewed_with_the_refresh_token(
    connector, account, tiktok_server
) -> None:
    old = account.credentials["refresh_token"]
    account.credentials_expire_at = timezone.now() - timedelta(minutes=1)
    account.save()
    health = connector.check_health(account)
    assert health.display_name == "Helsingin kaupunki"
    account.refresh_from_db()
    assert account.credentials["refresh_token"] != old
    assert account.credentials_expire_at > timezone.now() + timedelta(hours=23)
    # A token TikTok refuses is renewed once; a refused refresh asks for reconnecting.
    tiktok_server.tokens.clear()
    assert connector.check_health(account).remote_id == "open-id-1"
    tiktok_server.tokens.clear()
    tiktok_server.refresh_tokens.clear()
    with pytest.raises(AuthError, match="Reconnect"):
        connector.check_health(account)


@pytest.mark.django_db
def test_creator_info_refuses_what_the_creator_cannot_choose(
    connector, account, tiktok_server, small_video
) -> None:
    item = video_item(small_video, duration_ms=3000)
    tiktok_server.creator.privacy_levels = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    tiktok_server.creator.comment_disabled = True
    tiktok_server.creator.max_video_post_duration_sec = 2
    with pytest.raises(Rejected) as refused:
        connector.publish(account, request_for(item))
    message = refused.value.message
    assert "privacy level Everyone" in message
    assert "turned off comments" in message
    assert "3 seconds long" in message and "at most 2 seconds" in message
    # Nothing was started at TikTok.
    assert not tiktok_server.requests_to("POST", "/v2/post/publish/video/init/")
    with pytest.raises(Rejected, match="Choose who can see"):
        connector.publish(account, request_for(item, privacy_level=""))


@pytest.mark.django_db
def test_a_small_video_goes_out_in_one_piece_and_is_polled_to_completion(
    connector, account, tiktok_server, small_video
) -> None:
    result = connector.publish(
        account,
        request_for(
            small_video_item := video_item(small_video, duration_ms=3000), disable_duet=True
        ),
    )
    init = json.loads(tiktok_server.requests_to("POST", "/v2/post/publish/video/init/")[0].body)
    size = small_video.stat().st_size
    assert init["source_info"] == {
        "source": "FILE_UPLOAD", "video_size": size, "chunk_size": size, "total_chunk_count": 1,
    }  # fmt: skip
    assert init["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert init["post_info"]["disable_duet"] is True
    assert init["post_info"]["disable_comment"] is False
    puts = tiktok_server.requests_to("PUT", "/upload/")
    assert [p.headers["content-range"] for p in puts] == [f"bytes 0-{size - 1}/{size}"]
    # PROCESSING_DOWNLOAD twice, then PUBLISH_COMPLETE with the public id.
    assert len(tiktok_server.requests_to("POST", "/v2/post/publish/status/fetch/")) == 3
    assert tiktok_server.client_waits == [1.0, 2.0]
    assert result.remote_id in tiktok_server.videos
    assert result.extra["publish_id"].startswith("v_pub_file~")
    metrics = connector.fetch_post_metrics(account, [RemoteRef(result.remote_id)])
    assert (metrics[0].impressions, metrics[0].likes, metrics[0].shares) == (120, 3, 2)
    account.scopes = ["user.info.basic", "user.info.stats"]
    numbers = connector.fetch_account_metrics(account)
    assert (numbers.followers, numbers.following, numbers.posts) == (1520, 12, 1)
    assert small_video_item.size_bytes == size


@pytest.mark.django_db
def test_a_large_video_is_sent_in_chunks(
    connector, account, tiktok_server, tmp_path, monkeypatch
) -> None:
    # 5 MB chunks: the smallest TikTok allows, so a 13 MB video needs two.
    monkeypatch.setattr(tiktok, "CHUNK_BYTES", MIN_CHUNK)
    path = make_video(tmp_path / "big.mp4", seconds=1.2, noisy=True)
    size = path.stat().st_size
    assert size > 2 * MIN_CHUNK
    connector.publish(account, request_for(video_item(path, duration_ms=1200)))
    init = json.loads(tiktok_server.requests_to("POST", "/v2/post/publish/video/init/")[0].body)
    assert init["source_info"]["chunk_size"] == MIN_CHUNK
    assert init["source_info"]["total_chunk_count"] == size // MIN_CHUNK
    ranges = [p.headers["content-range"] for p in tiktok_server.requests_to("PUT", "/upload/")]
    assert ranges[0] == f"bytes 0-{MIN_CHUNK - 1}/{size}"
    assert ranges[-1] == f"bytes {MIN_CHUNK * (len(ranges) - 1)}-{size - 1}/{size}"
    assert len(tiktok_server.published()) == 1


@pytest.mark.django_db
def test_an_unaudited_app_may_post_privately_only(
    connector, account, app, tiktok_server, small_video
) -> None:
    item = video_item(small_video, duration_ms=3000)
    app.options = {"audited": False}
    app.save()
    with pytest.raises(Rejected, match="not yet audited"):
        connector.publish(account, request_for(item))
    result = connector.publish(account, request_for(item, key="k2", privacy_level="SELF_ONLY"))
    assert result.extra["public"] is False
    # TikTok's own error says the same when the app setting is wrong.
    app.options = {"audited": True}
    app.save()
    tiktok_server.unaudited = True
    with pytest.raises(Rejected, match="not yet audited"):
        connector.publish(account, request_for(item, key="k3"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "code", "kind", "words"),
    [
        (403, "spam_risk_too_many_posts", Rejected, "too many times"),
        (403, "spam_risk_user_banned_from_posting", Rejected, "banned"),
        (429, "rate_limit_exceeded", RateLimited, "slow down"),
        (403, "reached_active_user_cap", RateLimited, "daily cap"),
        (503, "internal_error", TransientError, "not answering properly"),
        (500, "internal_error", UnknownOutcome, "did not confirm"),
    ],
)
def test_tiktok_errors_become_kinds(
    connector, account, tiktok_server, small_video, status, code, kind, words
) -> None:
    tiktok_server.fail_next("/v2/post/publish/video/init/", status, code)
    with pytest.raises(kind, match=words):
        connector.publish(account, request_for(video_item(small_video, duration_ms=3000)))
    assert not tiktok_server.requests_to("PUT", "/upload/")


@pytest.mark.django_db
def test_a_lost_upload_answer_is_reconciled_without_a_second_post(
    connector, account, tiktok_server, small_video
) -> None:
    connector.timeout = (2.0, 0.5)
    try:
        item = video_item(small_video, duration_ms=3000)
        tiktok_server.hang("/upload/")
        with pytest.raises(UnknownOutcome):
            connector.publish(account, request_for(item, key="lost-1"))
        tiktok_server.release()
        checkpoint = PublishCheckpoint.objects.get(channel_account=account, key="lost-1")
        assert checkpoint.data["publish_id"]
        # The dispatcher's reconcile: the look-up names the publish by our key.
        recent = connector.lookup_recent(account, since=timezone.now() - timedelta(minutes=5))
        assert recent.complete
        found = [p for p in recent if p.ref.extra.get("idempotency_key") == "lost-1"]
        assert found and found[0].ref.remote_id == checkpoint.data["publish_id"]
        # Sending again with the same key finishes that publish instead of a second one.
        result = connector.publish(account, request_for(item, key="lost-1"))
        assert result.extra["publish_id"] == checkpoint.data["publish_id"]
        assert len(tiktok_server.requests_to("POST", "/v2/post/publish/video/init/")) == 1
        assert len(tiktok_server.published()) == 1
    finally:
        connector.timeout = tiktok.TikTokConnector.timeout


@pytest.mark.django_db
def test_a_lost_init_answer_is_unknown_and_the_lookup_is_complete(
    connector, account, tiktok_server, small_video
) -> None:
    connector.timeout = (2.0, 0.5)
    try:
        tiktok_server.hang("/v2/post/publish/video/init/")
        with pytest.raises(UnknownOutcome):
            connector.publish(
                account, request_for(video_item(small_video, duration_ms=3000), key="i1")
            )
        tiktok_server.release()
        recent = connector.lookup_recent(account, since=timezone.now() - timedelta(minutes=5))
        # Nothing was uploaded, so nothing can be posted: complete and empty, safe to resend.
        assert recent.complete and list(recent) == []
    finally:
        connector.timeout = tiktok.TikTokConnector.timeout


@pytest.mark.django_db
def test_a_failed_processing_is_rejected_with_the_reason(
    connector, account, tiktok_server, tmp_path
) -> None:
    bogus = tmp_path / "not-a-video.mp4"
    bogus.write_bytes(b"x" * 4096)
    with pytest.raises(Rejected, match="file_format_check_failed"):
        connector.publish(account, request_for(video_item(bogus, duration_ms=1000)))
