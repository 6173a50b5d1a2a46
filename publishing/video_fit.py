"""Whether a video fits each network: length, file size, aspect ratio and codec, checked
against each network's documented limits, with what to change when it does not.

The limits (checked December 2026; where the network publishes no figure for its API the
source says so):

- Bluesky: one video per post, up to 3 minutes and 100 MB; MP4, MPEG, WebM, MOV
  (bsky.social/about/blog/09-11-2024-video, raised 2025-03-12 in bsky.app's announcement;
  Ayrshare's media guidelines give aspect ratio 1:3 to 3:1).
- Mastodon: per instance (``configuration.media_attachments.video_size_limit`` in
  GET /api/v2/instance, docs.joinmastodon.org/entities/Instance/); Mastodon's own default is
  99 MB (mastodon.social returns 103,809,024 bytes), GoToSocial's 40 MB. No length limit.
- Facebook Page video: up to 240 minutes and 10 GB
  (developers.facebook.com/docs/video-api/guides/publishing).
- Instagram Reels: 3 s to 15 minutes, at most 300 MB (1 GB in newer guidance), H.264 or
  HEVC with AAC, aspect ratio 0.01:1 to 10:1 with 9:16 recommended
  (developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reel-specifications).
  We ask for 9:16 (within 1 %) because a Reel in another shape is shown cropped or boxed.
- Threads: up to 5 minutes and 1 GB; H.264 or HEVC, AAC; aspect 0.01:1 to 10:1
  (developers.facebook.com/docs/threads/overview#video-specifications).
- X: 0.5 s to 140 s, 512 MB, aspect 1:3 to 3:1, H.264 with AAC
  (developer.x.com/en/docs/x-api/v1/media/upload-media/uploading-media/media-best-practices;
  512 MB and one video per post also in docs.x.com/x-api/media/introduction and
  docs.x.com/x-api/media/quickstart/best-practices). The same figures are the X connector's
  ``Limits`` (a test keeps them equal).
- LinkedIn: 3 s to 30 minutes, 75 KB to 500 MB, MP4, aspect 1:2.4 to 2.4:1
  (learn.microsoft.com/linkedin/marketing/community-management/shares/videos-api), as the
  LinkedIn connector's ``Limits`` and its check of the minimums.
- YouTube: up to 12 hours or 256 GB, whichever is less
  (support.google.com/youtube/answer/71673; videos.insert accepts up to 256 GB).
- TikTok: up to 4 GB; the length each creator may post is ``max_video_post_duration_sec`` from
  creator_info (commonly 10 minutes); aspect ratio 9:16 recommended, H.264/H.265/VP8/VP9
  (developers.tiktok.com/doc/content-posting-api-media-transfer-guide).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MB = 1024 * 1024
GB = 1024 * MB


class VideoFacts(Protocol):
    size_bytes: int
    duration_ms: int | None
    width: int
    height: int
    video_codec: str
    audio_codec: str


@dataclass(frozen=True)
class VideoLimits:
    network: str
    label: object  # a lazy translation
    max_bytes: int | None = None
    min_ms: int | None = None
    max_ms: int | None = None
    # width / height
    min_aspect: float | None = None
    max_aspect: float | None = None
    # The shape the network wants, if it wants exactly one ((9, 16) for Reels).
    exact_aspect: tuple[int, int] | None = None
    video_codecs: frozenset[str] = field(default_factory=frozenset)
    audio_codecs: frozenset[str] = field(default_factory=frozenset)


H264_HEVC = frozenset({"h264", "hevc"})
AAC = frozenset({"aac"})

VIDEO_LIMITS: tuple[VideoLimits, ...] = (
    VideoLimits(
        "bluesky",
        gettext_lazy("Bluesky"),
        max_bytes=100 * MB,
        max_ms=180_000,
        min_aspect=1 / 3,
        max_aspect=3.0,
    ),
    VideoLimits("mastodon", gettext_lazy("Mastodon"), max_bytes=99 * MB),
    VideoLimits("facebook", gettext_lazy("Facebook"), max_bytes=10 * GB, max_ms=240 * 60_000),
    VideoLimits(
        "instagram",
        gettext_lazy("Instagram Reels"),
        max_bytes=300 * MB,
        min_ms=3_000,
        max_ms=15 * 60_000,
        exact_aspect=(9, 16),
        video_codecs=H264_HEVC,
        audio_codecs=AAC,
    ),
    VideoLimits(
        "threads",
        gettext_lazy("Threads"),
        max_bytes=1 * GB,
        max_ms=300_000,
        min_aspect=0.01,
        max_aspect=10.0,
        video_codecs=H264_HEVC,
        audio_codecs=AAC,
    ),
    VideoLimits(
        "x",
        gettext_lazy("X"),
        max_bytes=512 * MB,
        min_ms=500,
        max_ms=140_000,
        min_aspect=1 / 3,
        max_aspect=3.0,
        video_codecs=frozenset({"h264"}),
        audio_codecs=AAC,
    ),
    VideoLimits(
        "linkedin",
        gettext_lazy("LinkedIn"),
        max_bytes=500 * MB,
        min_ms=3_000,
        max_ms=30 * 60_000,
        min_aspect=1 / 2.4,
        max_aspect=2.4,
    ),
    VideoLimits("youtube", gettext_lazy("YouTube"), max_bytes=256 * GB, max_ms=12 * 3600_000),
    VideoLimits(
        "tiktok",
        gettext_lazy("TikTok"),
        max_bytes=4 * GB,
        min_ms=3_000,
        max_ms=10 * 60_000,
        video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
    ),
)

# An aspect ratio counts as exactly 9:16 within this share (1080x1920 and 720x1280 do, and
# so do encoders' rounded sizes such as 1080x1918).
ASPECT_TOLERANCE = 0.01


@dataclass(frozen=True)
class VideoFit:
    network: str
    label: str
    fits: bool
    changes: tuple[str, ...]


def _seconds(ms: int) -> str:
    seconds = ms / 1000
    if seconds >= 120 and seconds % 60 == 0:
        return _("%(minutes)d minutes") % {"minutes": seconds // 60}
    return _("%(seconds)s seconds") % {"seconds": f"{seconds:g}"}


def _size(size: int) -> str:
    if size >= GB:
        return _("%(size)s GB") % {"size": f"{size / GB:g}"}
    return _("%(size)s MB") % {"size": f"{size / MB:g}"}


def video_fit(limits: VideoLimits, video: VideoFacts) -> VideoFit:
    """Whether ``video`` fits ``limits``, and if not, each thing to change, in words."""
    changes: list[str] = []
    label = str(limits.label)
    duration = video.duration_ms or 0
    if limits.max_ms is not None and duration > limits.max_ms:
        changes.append(
            _("%(network)s takes videos up to %(limit)s: shorten it.")
            % {"network": label, "limit": _seconds(limits.max_ms)}
        )
    if limits.min_ms is not None and duration < limits.min_ms:
        changes.append(
            _("%(network)s needs at least %(limit)s of video: make it longer.")
            % {"network": label, "limit": _seconds(limits.min_ms)}
        )
    if limits.max_bytes is not None and video.size_bytes > limits.max_bytes:
        changes.append(
            _("%(network)s takes files up to %(limit)s: compress it or shorten it.")
            % {"network": label, "limit": _size(limits.max_bytes)}
        )
    ratio = video.width / video.height if video.height else 0.0
    if limits.exact_aspect is not None:
        w, h = limits.exact_aspect
        if abs(ratio - w / h) > ASPECT_TOLERANCE * (w / h):
            changes.append(
                _("%(network)s needs a %(w)d:%(h)d crop.") % {"network": label, "w": w, "h": h}
            )
    elif (limits.min_aspect is not None and ratio < limits.min_aspect) or (
        limits.max_aspect is not None and ratio > limits.max_aspect
    ):
        changes.append(
            _("%(network)s takes aspect ratios from %(low)s to %(high)s: crop it.")
            % {
                "network": label,
                "low": _ratio(limits.min_aspect or 0),
                "high": _ratio(limits.max_aspect or 0),
            }
        )
    if limits.video_codecs and video.video_codec not in limits.video_codecs:
        changes.append(
            _("%(network)s does not take %(codec)s video: convert it to H.264 MP4.")
            % {"network": label, "codec": video.video_codec or _("this kind of")}
        )
    if limits.audio_codecs and video.audio_codec and video.audio_codec not in limits.audio_codecs:
        changes.append(
            _("%(network)s does not take %(codec)s sound: convert the sound to AAC.")
            % {"network": label, "codec": video.audio_codec}
        )
    return VideoFit(limits.network, label, not changes, tuple(changes))


def _ratio(value: float) -> str:
    if value >= 1:
        return f"{value:g}:1"
    return f"1:{1 / value:g}"


def video_fits(video: VideoFacts) -> list[VideoFit]:
    """Every network's verdict on ``video``, in the table's order."""
    return [video_fit(limits, video) for limits in VIDEO_LIMITS]
