"""A video post on Bluesky, against the real Bluesky servers run locally (``bsky_network``):
the mp4 is streamed to ``com.atproto.repo.uploadBlob`` from its file, the captions go up
as ``text/vtt`` blobs, and the post carries an ``app.bsky.embed.video``
(lexicons/app/bsky/embed/video.json: {video, alt, aspectRatio, captions: [{lang, file}]})."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from accounts import http, services
from accounts.connectors.base import CaptionTrack, MediaItem, PublishRequest
from accounts.connectors.registry import get_connector
from publishing.tests.video_files import make_video
from tests.bsky_fixtures import BskyNetwork

pytestmark = pytest.mark.bsky

VTT_FI = "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nTervetuloa kirjastoon.\n"


@pytest.fixture
def bsky(bsky_network: BskyNetwork, settings) -> BskyNetwork:
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


def test_a_video_with_finnish_captions_arrives_as_a_video_embed(
    bsky, personas, tmp_path: Path, monkeypatch
):
    remote = bsky.create_account("video")
    account = services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=f"@{remote.handle}",
        app_password=bsky.create_app_password(remote, "GovSocial"),
    )
    path = make_video(tmp_path / "kirjasto.mp4", seconds=2)
    sent: list[tuple[str, type]] = []
    real = http.http_request

    def recording(method: str, url: str, **kwargs):
        if url.endswith("/com.atproto.repo.uploadBlob"):
            sent.append((kwargs["headers"]["Content-Type"], type(kwargs.get("data"))))
        return real(method, url, **kwargs)

    monkeypatch.setattr(http, "http_request", recording)
    video = MediaItem(
        content=b"",
        mime_type="video/mp4",
        alt_text="Kirjaston avajaiset",
        kind="video",
        path=str(path),
        size_bytes=path.stat().st_size,
        duration_ms=2000,
        width=320,
        height=240,
        captions=(CaptionTrack(language="fi", vtt=VTT_FI),),
    )
    connector = get_connector("bluesky")
    request = PublishRequest(
        text="Uusi kirjasto avattiin", media=[video], language="fi", idempotency_key="video-1"
    )
    assert connector.validate(request, account=account) == []

    result = connector.publish(account, request)

    # The video went up as a file object (streamed), the captions as text/vtt.
    assert sent[0][0] == "video/mp4"
    assert issubclass(sent[0][1], io.BufferedReader)
    assert sent[1] == ("text/vtt", bytes)
    value = bsky.get_record(result.remote_id)["value"]
    embed = value["embed"]
    assert embed["$type"] == "app.bsky.embed.video"
    assert embed["alt"] == "Kirjaston avajaiset"
    assert embed["aspectRatio"] == {"width": 320, "height": 240}
    assert embed["video"]["mimeType"] == "video/mp4"
    assert embed["video"]["size"] == path.stat().st_size
    [caption] = embed["captions"]
    assert caption["lang"] == "fi"
    assert caption["file"]["mimeType"] == "text/vtt"
    # The blobs are on the PDS, byte for byte.
    for blob, expected in ((embed["video"], path.read_bytes()), (caption["file"], VTT_FI.encode())):
        answer = bsky.xrpc(
            "GET",
            "com.atproto.sync.getBlob",
            params={"did": remote.did, "cid": blob["ref"]["$link"]},
        )
        assert answer.status_code == 200
        assert answer.content == expected


def test_too_long_or_too_big_videos_are_refused_before_any_upload(bsky, personas):
    connector = get_connector("bluesky")
    long_video = MediaItem(
        content=b"",
        mime_type="video/mp4",
        kind="video",
        path="/nonexistent.mp4",
        size_bytes=150_000_000,
        duration_ms=240_000,
    )
    problems = connector.validate(PublishRequest(text="Pitkä video", media=[long_video]))
    assert problems == [
        "Video 1 is larger than 95 MB.",
        "Video 1 is longer than 3 minutes; this network takes no more.",
    ]
