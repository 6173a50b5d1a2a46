# ruff: noqa: F811 - the fixtures imported from test_x are parameters here
"""Video on X through the v2 chunked media upload (initialize, append, finalize, STATUS
until processed), with captions as subtitles, against the local X server; requests and
answers checked against the official ``xdk`` models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from xdk.schemas import (
    CreateMediaSubtitlesRequest,
    CreateMediaSubtitlesResponse,
    CreatePostsRequest,
    FinalizeMediaUploadResponse,
    GetMediaUploadStatusResponse,
    InitializeMediaUploadRequest,
    InitializeMediaUploadResponse,
)

from accounts import http
from accounts.connectors.base import (
    CaptionTrack,
    MediaItem,
    PublishRequest,
    Rejected,
    TransientError,
)
from accounts.connectors.x import VIDEO_CHUNK_BYTES
from accounts.services import publish_checkpoint_get
from accounts.tests.test_x import (  # noqa: F401 - fixtures
    account,
    app,
    assert_shape,
    connector,
    form_names,
    last_json,
)
from publishing.tests.video_files import make_video, videos  # noqa: F401 - a fixture

VTT_FI = (
    "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nTervetuloa uuteen kirjastoon.\n\n"
    "00:00:01.600 --> 00:00:02.900\nOvet aukeavat yhdeksältä.\n"
)


def video_item(path: Path, *, captions: tuple[CaptionTrack, ...] = ()) -> MediaItem:
    return MediaItem(
        content=b"",
        mime_type="video/mp4",
        filename=path.name,
        kind="video",
        path=str(path),
        size_bytes=path.stat().st_size,
        duration_ms=3000,
        width=320,
        height=240,
        captions=captions,
    )


@pytest.fixture
def no_waiting(monkeypatch):
    """X's ``check_after_secs`` waits, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(http, "sleep", waits.append)
    return waits


def test_a_video_is_uploaded_in_segments_processed_captioned_then_posted(
    connector,
    account,
    x_server,
    videos,
    no_waiting,
):
    path = videos["landscape"]
    item = video_item(path, captions=(CaptionTrack("fi", VTT_FI, "fi.vtt"),))
    result = connector.publish(
        account, PublishRequest(text="Kirjasto avautuu", media=[item], idempotency_key="k1")
    )

    tweet = x_server.tweets[result.remote_id]
    [media_id] = tweet.media_ids
    video = x_server.media[media_id]
    assert video.content == path.read_bytes() and video.state == "succeeded"
    init = last_json(x_server, "POST", "/2/media/upload/initialize")
    assert_shape(InitializeMediaUploadRequest, init)
    assert init == {
        "media_type": "video/mp4",
        "total_bytes": path.stat().st_size,
        "media_category": "tweet_video",
    }
    appends = x_server.requests_to("POST", f"/2/media/upload/{media_id}/append")
    assert len(appends) == -(-path.stat().st_size // VIDEO_CHUNK_BYTES)
    # pending, then in_progress for one look, then succeeded: waits as X asked.
    assert len(x_server.requests_to("GET", "/2/media/upload")) == 2
    assert no_waiting == [1.0, 1.0]
    # The Finnish captions went as an SRT subtitles file attached to the video.
    [track] = video.subtitles
    assert track["language_code"] == "FI" and track["display_name"] == "suomi"
    subtitle_file = x_server.media[track["id"]]
    assert subtitle_file.category == "subtitles"
    assert b"00:00:00,500 --> 00:00:01,500\nTervetuloa uuteen kirjastoon." in subtitle_file.content
    assert form_names(x_server, "POST", "/2/media/upload") == {"media", "media_category"}
    assert_shape(CreateMediaSubtitlesRequest, last_json(x_server, "POST", "/2/media/subtitles"))
    assert_shape(CreatePostsRequest, last_json(x_server, "POST", "/2/tweets"))
    assert publish_checkpoint_get(account=account, key="k1")["x_video"] == media_id


def test_the_video_answers_match_the_xdk_models(connector, account, x_server, videos):
    path = videos["landscape"]
    token = account.credentials["access_token"]
    init = connector._send(
        "media_initialize",
        account=None,
        token=token,
        json={"media_type": "video/mp4", "total_bytes": path.stat().st_size,
              "media_category": "tweet_video"},
    ).json()  # fmt: skip
    assert_shape(InitializeMediaUploadResponse, init)
    media_id = init["data"]["id"]
    connector._send(
        "media_append",
        account=None,
        token=token,
        path_id=media_id,
        files={"media": ("chunk", path.read_bytes(), "application/octet-stream")},
        data={"segment_index": "0"},
    )
    final = connector._send("media_finalize", account=None, token=token, path_id=media_id)
    assert_shape(FinalizeMediaUploadResponse, final.json())
    assert final.json()["data"]["processing_info"] == {"state": "pending", "check_after_secs": 1}
    status = connector._send(
        "media_status", account=None, token=token,
        params={"command": "STATUS", "media_id": media_id},
    ).json()  # fmt: skip
    assert_shape(GetMediaUploadStatusResponse, status)
    assert status["data"]["processing_info"]["state"] == "in_progress"
    srt = b"1\n00:00:00,500 --> 00:00:01,500\nHei\n"
    upload = connector._send(
        "media_upload", account=None, token=token,
        files={"media": ("fi.srt", srt, "text/srt")}, data={"media_category": "subtitles"},
    ).json()  # fmt: skip
    attached = connector._send(
        "media_subtitles",
        account=None,
        token=token,
        json={"id": media_id, "media_category": "TweetVideo",
              "subtitles": {"id": upload["data"]["id"], "language_code": "FI",
                            "display_name": "suomi"}},
    ).json()  # fmt: skip
    # X's reference page shows ``associated_subtitles`` as a list, the xdk model (from the
    # OpenAPI document) as an object; we never read it, so the rest is checked.
    associated = attached["data"].pop("associated_subtitles")
    assert_shape(CreateMediaSubtitlesResponse, attached)
    assert associated == [{"display_name": "suomi", "id": upload["data"]["id"],
                           "language_code": "FI"}]  # fmt: skip


def test_a_video_x_cannot_process_is_refused_with_xs_reason(
    connector,
    account,
    x_server,
    videos,
    no_waiting,
):
    x_server.video_processing_error = "Video duration too long"
    item = video_item(videos["landscape"])
    with pytest.raises(Rejected) as refused:
        connector.publish(account, PublishRequest(text="Liian pitkä", media=[item]))
    assert "X could not process the video (Video duration too long)" in refused.value.message
    assert "140 seconds" in refused.value.message
    assert not x_server.tweets


def test_a_video_still_processing_is_tried_again_later_without_uploading_it_twice(
    connector,
    account,
    x_server,
    videos,
    no_waiting,
    monkeypatch,
):
    monkeypatch.setattr("accounts.connectors.x.VIDEO_PROCESSING_MAX_SECONDS", 3)
    x_server.video_processing_polls = 10
    item = video_item(videos["landscape"])
    request = PublishRequest(text="Hidas video", media=[item], idempotency_key="slow-1")
    with pytest.raises(TransientError) as waiting:
        connector.publish(account, request)
    assert "X is still processing the video" in waiting.value.message
    assert not x_server.tweets

    # The next try finds the same upload and waits for it again: one initialize only.
    x_server.video_processing_polls = 0
    for media in x_server.media.values():
        media.processing_left = min(media.processing_left, 1)
    result = connector.publish(account, request)
    assert len(x_server.requests_to("POST", "/2/media/upload/initialize")) == 1
    [media_id] = x_server.tweets[result.remote_id].media_ids
    assert media_id == publish_checkpoint_get(account=account, key="slow-1")["x_video"]


def test_a_missing_video_file_is_refused_before_any_upload(connector, account, x_server, tmp_path):
    item = MediaItem(b"", "video/mp4", kind="video", path=str(tmp_path / "gone.mp4"))
    with pytest.raises(Rejected, match="the video file is missing"):
        connector.publish(account, PublishRequest(text="Poissa", media=[item]))
    assert not x_server.requests_to("POST", "/2/media/upload/initialize")


def test_x_limits_refuse_long_or_large_videos_and_videos_beside_images(connector, account):
    long_video = MediaItem(
        b"", "video/mp4", kind="video", path="v.mp4", size_bytes=10, duration_ms=141_000
    )
    problems = connector.validate(PublishRequest(text="Pitkä", media=[long_video]))
    assert problems == ["Video 1 is longer than 140 seconds; this network takes no more."]
    large = MediaItem(b"", "video/mp4", kind="video", size_bytes=513 * 1024 * 1024)
    image = MediaItem(b"\x89PNG", "image/png")
    problems = connector.validate(PublishRequest(text="Iso", media=[large, image]))
    assert "Video 1 is larger than 512 MB." in problems
    assert "On this network a video goes alone: remove the images." in problems
    webm = MediaItem(b"", "video/webm", kind="video", size_bytes=10, duration_ms=1000)
    assert connector.validate(PublishRequest(text="WebM", media=[webm])) == [
        "Video 1 is a video/webm file, which this network does not take."
    ]


def test_a_lost_answer_after_a_video_post_is_reconciled_not_posted_twice(
    account,
    x_server,
    videos,
    no_waiting,
    monkeypatch,
):
    from accounts.connectors.base import UnknownOutcome
    from accounts.connectors.registry import get_connector

    connector = get_connector("x")
    monkeypatch.setattr(connector, "timeout", (2.0, 1.0))
    item = video_item(videos["landscape"])
    request = PublishRequest(text="Video kerran", media=[item], idempotency_key="once")
    x_server.hang(method="POST", path_prefix="/2/tweets", after_processing=True)
    try:
        with pytest.raises(UnknownOutcome):
            connector.publish(account, request)
    finally:
        x_server.release()
    # Sending again: X refuses the duplicate and the earlier post is found and returned.
    result = connector.publish(account, request)
    [tweet] = x_server.tweets_of(x_server.user)
    assert result.remote_id == tweet.id
    assert result.extra == {"reconciled": "duplicate"}
    # X shows the post with a t.co link to the video, which the comparison leaves out.
    [media_link] = tweet.urls
    assert tweet.text == f"Video kerran {media_link['url']}"
    assert media_link["media_key"] == f"7_{tweet.media_ids[0]}"
    assert len(x_server.requests_to("POST", "/2/media/upload/initialize")) == 1
    assert json.loads(x_server.requests_to("POST", "/2/tweets")[-1].body)["media"]
