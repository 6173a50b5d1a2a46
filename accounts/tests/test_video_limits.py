"""What each network's connector says about a video before anything is sent."""

from __future__ import annotations

from typing import ClassVar

from accounts.connectors.base import (
    Capabilities,
    Connector,
    Limits,
    MediaItem,
    PublishRequest,
)
from accounts.connectors.registry import get_connector


def video(
    *, mime: str = "video/mp4", size: int = 5_000_000, duration_ms: int = 60_000
) -> MediaItem:
    return MediaItem(
        content=b"",
        mime_type=mime,
        kind="video",
        path="/nonexistent/clip.mp4",
        size_bytes=size,
        duration_ms=duration_ms,
        width=1280,
        height=720,
    )


IMAGE = MediaItem(content=b"x" * 10, mime_type="image/jpeg", alt_text="Kuva")


class ShortVideos(Connector):
    network = "short"
    label = "Short"
    capabilities: ClassVar[Capabilities] = Capabilities(images=True, videos=True)
    limits: ClassVar[Limits] = Limits(
        max_text=300,
        max_media=4,
        max_videos=1,
        video_mime_types=("video/mp4",),
        max_video_bytes=100 * 1024 * 1024,
        max_video_seconds=180,
        video_alone=True,
    )


class ImagesOnly(Connector):
    network = "images"
    label = "Images"
    capabilities: ClassVar[Capabilities] = Capabilities(images=True)
    limits: ClassVar[Limits] = Limits(max_text=300, max_media=4)


def test_a_video_within_the_limits_passes():
    assert ShortVideos().validate(PublishRequest(text="Katso", media=[video()])) == []


def test_a_network_without_videos_says_so_in_words():
    problems = ImagesOnly().validate(PublishRequest(text="Katso", media=[video()]))
    assert problems == ["This network does not take videos here."]


def test_type_size_and_length_are_checked_against_the_networks_limits():
    problems = ShortVideos().validate(
        PublishRequest(
            text="Katso",
            media=[video(mime="video/x-matroska", size=200 * 1024 * 1024, duration_ms=181_000)],
        )
    )
    assert problems == [
        "Video 1 is a video/x-matroska file, which this network does not take.",
        "Video 1 is larger than 100 MB.",
        "Video 1 is longer than 3 minutes; this network takes no more.",
    ]


def test_one_video_and_no_images_beside_it():
    problems = ShortVideos().validate(PublishRequest(text="Katso", media=[video(), video(), IMAGE]))
    assert "Attach at most 1 video." in problems
    assert "On this network a video goes alone: remove the images." in problems
    # Images alone are still counted as images.
    assert ShortVideos().validate(PublishRequest(text="Katso", media=[IMAGE] * 4)) == []


def test_limits_reported_by_the_network_override_the_video_defaults():
    class Account:
        network_limits: ClassVar[dict[str, object]] = {
            "max_video_seconds": 60,
            "video_mime_types": ["video/mp4", "video/webm"],
        }

    limits = ShortVideos().limits_for(Account())  # type: ignore[arg-type]
    assert limits.max_video_seconds == 60
    assert limits.video_mime_types == ("video/mp4", "video/webm")
    problems = ShortVideos().validate(
        PublishRequest(text="Katso", media=[video(mime="video/webm", duration_ms=90_000)]),
        account=Account(),  # type: ignore[arg-type]
    )
    assert problems == ["Video 1 is longer than 1 minute; this network takes no more."]


def test_youtube_and_tiktok_declare_their_videos():
    youtube = get_connector("youtube")
    assert youtube.capabilities.videos
    big = video(size=300 * 1024**3)
    problems = youtube.validate(PublishRequest(text="Kirjaston video", media=[big]))
    assert "Video 1 is larger than 262144 MB." in problems
    tiktok = get_connector("tiktok")
    assert tiktok.capabilities.videos
    problems = tiktok.validate(
        PublishRequest(
            text="x", media=[video(mime="video/x-flv")], options={"privacy_level": "SELF_ONLY"}
        )
    )
    assert problems == ["Video 1 is a video/x-flv file, which this network does not take."]


def test_every_posting_network_takes_a_video_before_any_call():
    # Facebook, Instagram and Threads (accounts/tests/test_meta_video.py), X and LinkedIn
    # (accounts/tests/test_*_video.py) each have their upload flow.
    for network in ("threads", "facebook", "instagram", "x", "linkedin"):
        problems = get_connector(network).validate(PublishRequest(text="Katso", media=[video()]))
        assert "This network does not take videos here." not in problems, network
