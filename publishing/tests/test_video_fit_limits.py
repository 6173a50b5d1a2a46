"""The video library's per-network fit table says what the connectors enforce: a video
the table calls fitting is not refused by the connector's own checks, and the other way
round (X and LinkedIn, whose connectors publish video through their upload flows)."""

from __future__ import annotations

import pytest

from accounts.connectors.base import MediaItem, PublishRequest
from accounts.connectors.linkedin import VIDEO_MIN_BYTES, VIDEO_MIN_SECONDS
from accounts.connectors.registry import get_connector
from publishing.video_fit import VIDEO_LIMITS


@pytest.mark.parametrize("network", ["x", "linkedin"])
def test_the_fit_table_uses_the_connectors_video_limits(network):
    connector = get_connector(network)
    assert connector.capabilities.videos
    [row] = [row for row in VIDEO_LIMITS if row.network == network]
    assert row.max_bytes == connector.limits.max_video_bytes
    assert row.max_ms == connector.limits.max_video_seconds * 1000
    assert "video/mp4" in connector.limits.video_mime_types


@pytest.mark.parametrize(
    ("network", "duration_ms", "size_bytes", "refused"),
    [
        ("x", 140_000, 512 * 1024 * 1024, False),
        ("x", 141_000, 1024 * 1024, True),
        ("x", 10_000, 512 * 1024 * 1024 + 1, True),
        ("linkedin", 30 * 60_000, 500 * 1024 * 1024, False),
        ("linkedin", 30 * 60_000 + 1000, 1024 * 1024, True),
        ("linkedin", VIDEO_MIN_SECONDS * 1000 - 500, 1024 * 1024, True),
        ("linkedin", 10_000, VIDEO_MIN_BYTES - 1, True),
    ],
)
def test_a_video_at_and_past_each_limit(network, duration_ms, size_bytes, refused):
    connector = get_connector(network)
    [row] = [row for row in VIDEO_LIMITS if row.network == network]
    video = MediaItem(
        b"", "video/mp4", kind="video", size_bytes=size_bytes, duration_ms=duration_ms
    )
    problems = connector.validate(PublishRequest(text="Video", media=[video]))
    assert bool(problems) is refused
    table_refuses = (
        (row.max_ms is not None and duration_ms > row.max_ms)
        or (row.min_ms is not None and duration_ms < row.min_ms)
        or (row.max_bytes is not None and size_bytes > row.max_bytes)
    )
    if network == "x" or size_bytes >= VIDEO_MIN_BYTES:
        # The table has no minimum file size (75 KB is LinkedIn's alone).
        assert table_refuses is refused
