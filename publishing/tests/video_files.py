"""Small test videos made with ffmpeg during the test run (cached per session)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest


def make_video(
    path: Path, *, seconds: float = 3, size: str = "320x240", rate: int = 25, audio: bool = True
) -> Path:
    """An H.264/AAC MP4 of ``seconds`` of ffmpeg's test picture (and a tone)."""
    command = [
        shutil.which("ffmpeg") or "ffmpeg",
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"testsrc=duration={seconds}:size={size}:rate={rate}",
    ]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        command += ["-c:a", "aac", "-shortest"]
    command += ["-y", str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    """``landscape``: 3 s 320x240 with sound; ``portrait``: 4 s 1080x1920 (9:16), silent."""
    folder = tmp_path_factory.mktemp("videos")
    return {
        "landscape": make_video(folder / "landscape.mp4"),
        "portrait": make_video(
            folder / "portrait.mp4", seconds=4, size="1080x1920", rate=30, audio=False
        ),
    }


def library_video(
    membership: Any,
    path: Path,
    *,
    alt_text: str,
    captions: dict[str, str],
    seconds: float = 3,
    size: str = "320x240",
) -> Any:
    """A clip made with ffmpeg at ``path``, uploaded into the organization's library by
    ``membership`` with a Finnish alt text and the given captions (language → SRT)."""
    from django.core.files.base import File
    from django.core.files.uploadedfile import SimpleUploadedFile

    from publishing.services.video import media_caption_set, media_video_upload

    make_video(path, seconds=seconds, size=size)
    with path.open("rb") as handle:
        video = media_video_upload(
            membership=membership,
            file=File(handle, name=path.name),
            alt_texts={"fi": alt_text},
        )
    for language, srt in captions.items():
        media_caption_set(
            asset=video,
            membership=membership,
            language=language,
            file=SimpleUploadedFile(f"{language}.srt", srt.encode()),
        )
    return video
