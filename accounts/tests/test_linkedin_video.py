# ruff: noqa: F811 - the fixtures imported from test_linkedin are parameters here
"""Video on LinkedIn through the Videos API (initializeUpload, PUT each 4 MB part and
keep its ETag, finalizeUpload, wait until AVAILABLE) with the captions file and the
poster frame, against the local LinkedIn test server."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accounts.connectors.base import (
    CaptionTrack,
    MediaItem,
    PublishRequest,
    Rejected,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.linkedin import LinkedInConnector
from accounts.models import ChannelAccount
from accounts.services import publish_checkpoint_get
from accounts.tests.test_linkedin import account, connector, page  # noqa: F401 - fixtures
from tests.linkedin_server.server import VIDEO_PART_BYTES, LinkedInTestServer

pytestmark = pytest.mark.django_db

VTT_SV = "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nVälkommen till det nya biblioteket.\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def big_video(tmp_path: Path) -> Path:
    """Nine MB that start like an MP4 (the server looks at the ``ftyp`` box only)."""
    path = tmp_path / "kirjasto.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(9 * 1024 * 1024))
    return path


def video_item(path: Path, **extra) -> MediaItem:
    return MediaItem(
        content=b"",
        mime_type="video/mp4",
        filename=path.name,
        kind="video",
        path=str(path),
        size_bytes=path.stat().st_size,
        duration_ms=20_000,
        width=1280,
        height=720,
        **extra,
    )


def test_a_video_goes_up_in_parts_with_its_captions_and_poster_then_is_posted(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    big_video: Path,
) -> None:  # fmt: skip
    item = video_item(big_video, captions=(CaptionTrack("sv", VTT_SV),), poster=JPEG)
    result = connector.publish(
        account, PublishRequest(text="Nytt bibliotek", media=[item], idempotency_key="v1")
    )

    post = linkedin_server.posts[result.remote_id]
    assert post.content is not None
    urn = post.content["media"]["id"]
    video = linkedin_server.assets[urn]
    assert video.status == "AVAILABLE" and video.content == big_video.read_bytes()
    assert len(video.part_tokens) == -(-big_video.stat().st_size // VIDEO_PART_BYTES) == 3
    init = json.loads(linkedin_server.requests_to("POST", "/rest/videos")[0].body)
    assert init == {
        "initializeUploadRequest": {
            "owner": f"urn:li:organization:{account.remote_id}",
            "fileSizeBytes": big_video.stat().st_size,
            "uploadCaptions": True,
            "uploadThumbnail": True,
        }
    }
    final = json.loads(linkedin_server.requests_to("POST", "/rest/videos")[1].body)
    assert final["finalizeUploadRequest"]["uploadedPartIds"] == [video.etags[i] for i in range(3)]
    assert final["finalizeUploadRequest"]["uploadToken"] == video.upload_token != ""
    assert video.captions.decode().startswith(
        "1\n00:00:00,500 --> 00:00:01,500\nVälkommen till det nya biblioteket."
    )
    assert video.thumbnail == JPEG
    for logged in linkedin_server.requests_to("POST", "/rest/videos"):
        assert (
            logged.headers["linkedin-version"]
            and logged.headers["x-restli-protocol-version"] == "2.0.0"
        )
    # PROCESSING once, then AVAILABLE: the post went out only after that.
    assert len(linkedin_server.requests_to("GET", "/rest/videos/")) == 2
    assert publish_checkpoint_get(account=account, key="v1") == {"linkedin_video": urn}


def test_a_video_linkedin_cannot_process_is_refused_in_words(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    big_video: Path,
) -> None:  # fmt: skip
    linkedin_server.video_processing_fails = True
    with pytest.raises(Rejected) as refused:
        connector.publish(account, PublishRequest(text="Rikki", media=[video_item(big_video)]))
    assert "LinkedIn could not process the video" in refused.value.message
    assert "3 seconds to 30 minutes" in refused.value.message
    assert not linkedin_server.posts


def test_a_slow_video_is_tried_again_later_reusing_the_upload(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    big_video: Path,
) -> None:  # fmt: skip
    linkedin_server.video_processing_looks = 100
    request = PublishRequest(text="Hidas", media=[video_item(big_video)], idempotency_key="s1")
    with pytest.raises(TransientError) as waiting:
        connector.publish(account, request)
    assert "LinkedIn is still processing the video" in waiting.value.message
    assert not linkedin_server.posts
    assert sum(linkedin_server.client_waits) > 150  # waited minutes, not seconds

    for asset in linkedin_server.assets.values():
        asset.looks_left = 0
    result = connector.publish(account, request)
    inits = [
        r for r in linkedin_server.requests_to("POST", "/rest/videos") if "initialize" in r.query
    ]
    assert len(inits) == 1
    content = linkedin_server.posts[result.remote_id].content
    assert content is not None
    urn = content["media"]["id"]
    assert urn == publish_checkpoint_get(account=account, key="s1")["linkedin_video"]


def test_a_lost_answer_after_a_video_post_is_not_posted_twice(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    big_video: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(connector, "timeout", (2.0, 1.0))
    request = PublishRequest(text="Kerran", media=[video_item(big_video)], idempotency_key="o1")
    sent_at = datetime.now(UTC) - timedelta(seconds=1)
    linkedin_server.hang(method="POST", path_prefix="/rest/posts", after_processing=True)
    try:
        with pytest.raises(UnknownOutcome):
            connector.publish(account, request)
    finally:
        linkedin_server.release()
    # The dispatcher reconciles first; a resend anyway is LinkedIn's 422 duplicate,
    # the same video reused, and the earlier post returned.
    assert [p.text for p in connector.lookup_recent(account, since=sent_at)] == ["Kerran"]
    result = connector.publish(account, request)
    [post] = linkedin_server.posts_of(linkedin_server.organizations[int(account.remote_id)])
    assert result.remote_id == post.urn and result.extra == {"duplicate_of": post.urn}


def test_linkedin_video_limits_are_checked_before_sending(connector: LinkedInConnector) -> None:
    short = MediaItem(b"", "video/mp4", kind="video", size_bytes=50_000, duration_ms=2000)
    assert connector.validate(PublishRequest(text="Lyhyt", media=[short])) == [
        "Video 1 is shorter than 3 seconds; LinkedIn needs more.",
        "Video 1 is smaller than 75 KB; LinkedIn refuses it.",
    ]
    long = MediaItem(
        b"", "video/mp4", kind="video", size_bytes=501 * 1024 * 1024, duration_ms=31 * 60_000
    )
    assert connector.validate(PublishRequest(text="Pitkä", media=[long])) == [
        "Video 1 is larger than 500 MB.",
        "Video 1 is longer than 30 minutes; this network takes no more.",
    ]


def test_a_missing_video_file_is_refused_before_any_upload(
    connector: LinkedInConnector, account: ChannelAccount, linkedin_server: LinkedInTestServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    item = MediaItem(b"", "video/mp4", kind="video", path=str(tmp_path / "gone.mp4"))
    with pytest.raises(Rejected, match="the video file is missing"):
        connector.publish(account, PublishRequest(text="Poissa", media=[item]))
    assert not linkedin_server.requests_to("POST", "/rest/videos")
