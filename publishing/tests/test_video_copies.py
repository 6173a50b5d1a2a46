"""Compatible copies of library videos: ffmpeg on a worker turns a video into the H.264/AAC
MP4 networks take (optionally cropped to 9:16, or with captions burned in), with its
progress on the job; the original stays as it was. Real ffmpeg on tiny generated clips."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import AuditEvent
from publishing.models import MediaAsset, VideoCopyJob, VideoCopyKind, VideoCopyStatus
from publishing.services.video import media_caption_set, media_video_upload, probe_video
from publishing.services.video_copies import (
    ffmpeg_command,
    progress_percents,
    run_ffmpeg,
    video_copy_request,
    video_copy_run,
)
from publishing.tests.video_files import make_video, videos  # noqa: F401 - a fixture
from publishing.video_fit import VIDEO_LIMITS, video_fit

pytestmark = pytest.mark.django_db

# A caption over the whole of the first two seconds, so any frame in them shows it.
VTT_FI = "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nTERVETULOA KIRJASTOON\n"


def _ffmpeg() -> str:
    return shutil.which("ffmpeg") or "ffmpeg"


def make_webm(path: Path, *, seconds: float = 3, size: str = "320x240") -> Path:
    """A VP8/Vorbis WebM: a video Instagram and X do not take as it is."""
    command = [
        _ffmpeg(), "-v", "error",
        "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=25",
        "-f", "lavfi", "-i", f"sine=duration={seconds}",
        "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k",
        "-c:a", "libvorbis", "-shortest", "-y", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return path


def _upload(membership, path: Path, **kwargs) -> MediaAsset:
    with path.open("rb") as handle:
        return media_video_upload(
            membership=membership, file=File(handle, name=path.name), **kwargs
        )


def _pixel_format(path: Path) -> str:
    command = [
        shutil.which("ffprobe") or "ffprobe", "-v", "error", "-select_streams", "v:0",
        "-show_entries", "stream=pix_fmt", "-of", "default=nw=1:nk=1", str(path),
    ]  # fmt: skip
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def _gray_frame(path: Path, *, at: float, width: int, height: int) -> bytes:
    """The frame at ``at`` seconds as 8-bit gray pixels, row by row."""
    command = [
        _ffmpeg(), "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1",
        "-vf", f"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "gray", "-",
    ]  # fmt: skip
    result = subprocess.run(command, check=True, capture_output=True)
    assert len(result.stdout) == width * height
    return result.stdout


def _run(job: VideoCopyJob) -> VideoCopyJob:
    done = video_copy_run(job_id=job.pk)
    assert done is not None
    return done


# --- transcode ------------------------------------------------------------------------


def test_a_webm_becomes_an_h264_aac_mp4_copy_and_the_original_stays(
    team, media_root, tmp_path, django_capture_on_commit_callbacks
):
    original = _upload(
        team.eddie, make_webm(tmp_path / "avajaiset.webm"), alt_texts={"fi": "Avajaiset"}
    )
    original_bytes = Path(original.file.path).read_bytes()
    assert not video_fit(VIDEO_LIMITS[3], original).fits  # Instagram: not VP8, not Vorbis
    media_caption_set(
        asset=original,
        membership=team.eddie,
        language="fi",
        file=SimpleUploadedFile("fi.vtt", VTT_FI.encode()),
    )

    with django_capture_on_commit_callbacks() as enqueued:
        job = video_copy_request(
            asset=original, membership=team.eddie, kind=VideoCopyKind.TRANSCODE
        )
    assert len(enqueued) == 1  # the worker is asked once the job is committed
    assert job.status == VideoCopyStatus.QUEUED
    job = _run(job)

    assert job.status == VideoCopyStatus.DONE, job.error
    assert job.progress_percent == 100
    copy = job.result
    assert copy is not None and copy.pk != original.pk
    assert copy.original_name == "avajaiset-h264.mp4"
    probe = probe_video(copy.file.path)
    assert (probe.mime_type, probe.video_codec, probe.audio_codec) == ("video/mp4", "h264", "aac")
    assert (copy.video_codec, copy.audio_codec, copy.width, copy.height) == (
        "h264",
        "aac",
        320,
        240,
    )
    assert abs(probe.duration_ms - (original.duration_ms or 0)) < 200
    assert _pixel_format(Path(copy.file.path)) == "yuv420p"
    data = Path(copy.file.path).read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: the index first
    assert Path(copy.poster.path).read_bytes()[:3] == b"\xff\xd8\xff"
    # It carries the original's description and captions, and fits Instagram's codecs.
    assert copy.alt_text_for("fi") == "Avajaiset"
    assert copy.captions.get(language="fi").vtt == original.captions.get(language="fi").vtt
    instagram = video_fit(VIDEO_LIMITS[3], copy)
    assert instagram.changes == ("Instagram Reels needs a 9:16 crop.",)
    # The original is untouched.
    original.refresh_from_db()
    assert Path(original.file.path).read_bytes() == original_bytes
    assert original.video_codec == "vp8"
    events = AuditEvent.objects.filter(action__startswith="media.copy").order_by("pk")
    assert [e.action for e in events] == ["media.copy_requested", "media.copy_made"]


def test_a_crop_to_9_16_takes_the_middle_and_bounds_the_size(team, media_root, tmp_path):
    wide = _upload(team.eddie, make_video(tmp_path / "wide.mp4", seconds=1, size="2400x1350"))
    job = _run(
        video_copy_request(
            asset=wide, membership=team.eddie, kind=VideoCopyKind.TRANSCODE, crop="9:16"
        )
    )
    assert job.status == VideoCopyStatus.DONE, job.error
    copy = job.result
    assert copy is not None
    assert copy.original_name == "wide-h264-9x16.mp4"
    # 1350 high allows 759 wide (even: 758); both under the 1920 bound.
    assert (copy.width, copy.height) == (758, 1350)
    # Instagram's only remaining wish is about this one-second clip's length, not its shape.
    assert video_fit(VIDEO_LIMITS[3], copy).changes == (
        "Instagram Reels needs at least 3 seconds of video: make it longer.",
    )

    landscape = _run(
        video_copy_request(asset=wide, membership=team.eddie, kind=VideoCopyKind.TRANSCODE)
    ).result
    assert landscape is not None
    assert (landscape.width, landscape.height) == (1920, 1080)


# --- progress -------------------------------------------------------------------------


def test_progress_is_read_from_ffmpeg_s_own_report(tmp_path, videos):  # noqa: F811
    report = tmp_path / "progress.txt"
    command = ffmpeg_command(videos["landscape"], tmp_path / "out.mp4")
    command[command.index("pipe:1")] = str(report)
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    lines = report.read_text().splitlines()
    assert any(line.startswith("out_time_us=") for line in lines)
    percents = list(progress_percents(lines, duration_ms=3000))
    assert percents[-1] == 100
    assert percents == sorted(set(percents))  # only forward, each once
    assert all(0 < p < 100 for p in percents[:-1])
    # A report that stops short (ffmpeg killed) never claims 100.
    cut = [line for line in lines if not line.startswith("progress=end")]
    assert 100 not in progress_percents(cut, duration_ms=3000)
    early = ["out_time_us=N/A", "out_time_us=1500000"]
    assert list(progress_percents(early, duration_ms=3000)) == [50]


def test_a_copy_reports_progress_to_the_job_as_it_goes(team, media_root, tmp_path):
    clip = _upload(team.eddie, make_video(tmp_path / "pitka.mp4", seconds=8, size="640x360"))
    job = video_copy_request(asset=clip, membership=team.eddie, kind=VideoCopyKind.TRANSCODE)
    seen: list[tuple[int, int]] = []

    def watch(percent: int) -> None:
        seen.append((percent, VideoCopyJob.objects.get(pk=job.pk).progress_percent))

    done = video_copy_run(job_id=job.pk, on_progress=watch)
    assert done is not None and done.status == VideoCopyStatus.DONE, done and done.error
    percents = [p for p, _stored in seen]
    assert percents[-1] == 100 and percents == sorted(percents)
    # While it ran, the page's figure (the job row) was "running" and moved with ffmpeg.
    stored = [s for _p, s in seen]
    assert stored == sorted(stored)
    assert done.progress_percent == 100


# --- failure ----------------------------------------------------------------------------


def test_a_damaged_video_fails_with_ffmpeg_s_reason_and_keeps_the_original(
    team,
    media_root,
    videos,  # noqa: F811
):
    original = _upload(team.eddie, videos["landscape"])
    path = Path(original.file.path)
    # The file was damaged on disk after the upload: only its first bytes are left.
    path.write_bytes(path.read_bytes()[:2000])
    before = path.read_bytes()
    job = _run(video_copy_request(asset=original, membership=team.eddie, kind="transcode"))
    assert job.status == VideoCopyStatus.FAILED
    assert job.error.startswith("ffmpeg could not make the copy: ")
    assert len(job.error) > len("ffmpeg could not make the copy: ")
    # ffmpeg's words name the file as the person knows it, not where the server keeps it.
    assert str(media_root) not in job.error and "landscape.mp4" in job.error
    assert job.result is None and job.finished_at is not None
    assert MediaAsset.objects.count() == 1 and path.read_bytes() == before
    event = AuditEvent.objects.get(action="media.copy_failed")
    assert event.new_values["error"] == job.error


def test_a_copy_that_runs_too_long_is_stopped(tmp_path, videos):  # noqa: F811
    with pytest.raises(Exception, match="took too long and was stopped"):
        run_ffmpeg(
            ffmpeg_command(videos["portrait"], tmp_path / "out.mp4"),
            duration_ms=4000,
            on_progress=lambda percent: None,
            timeout=0,
        )


# --- captions burned in ---------------------------------------------------------------


def test_captions_burned_in_change_the_picture_where_they_show(team, media_root, tmp_path):
    clip = _upload(team.eddie, make_video(tmp_path / "tiedote.mp4", seconds=3, size="640x360"))
    media_caption_set(
        asset=clip,
        membership=team.eddie,
        language="fi",
        file=SimpleUploadedFile("fi.vtt", VTT_FI.encode()),
    )
    plain = _run(video_copy_request(asset=clip, membership=team.eddie, kind="transcode")).result
    burned_job = _run(
        video_copy_request(
            asset=clip, membership=team.eddie, kind=VideoCopyKind.BURN_CAPTIONS, language="fi"
        )
    )
    assert burned_job.status == VideoCopyStatus.DONE, burned_job.error
    burned = burned_job.result
    assert plain is not None and burned is not None
    assert burned.original_name == "tiedote-captions-fi.mp4"
    probe = probe_video(burned.file.path)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    assert abs(probe.duration_ms - (clip.duration_ms or 0)) < 200

    def differing(a: bytes, b: bytes, rows: range) -> int:
        return sum(1 for i in range(rows.start * 64, rows.stop * 64) if abs(a[i] - b[i]) > 40)

    a = _gray_frame(Path(plain.file.path), at=1.0, width=64, height=36)
    b = _gray_frame(Path(burned.file.path), at=1.0, width=64, height=36)
    # The captions are drawn at the bottom: the bottom third changed, the top did not.
    assert differing(a, b, range(24, 36)) > 20
    assert differing(a, b, range(0, 12)) < 5
    # After the caption's end the frames agree again.
    c = _gray_frame(Path(plain.file.path), at=2.8, width=64, height=36)
    d = _gray_frame(Path(burned.file.path), at=2.8, width=64, height=36)
    assert differing(c, d, range(0, 36)) < 10


def test_a_captions_file_whose_path_has_filter_characters_is_still_burned_in(
    tmp_path,
    videos,  # noqa: F811
):
    folder = tmp_path / "it's: a, [strange]; folder\\x"
    folder.mkdir()
    captions = folder / "fi.vtt"
    captions.write_text(VTT_FI)
    out = tmp_path / "out.mp4"
    run_ffmpeg(
        ffmpeg_command(videos["landscape"], out, captions_path=captions),
        duration_ms=3000,
        on_progress=lambda percent: None,
    )
    plain = tmp_path / "plain.mp4"
    run_ffmpeg(
        ffmpeg_command(videos["landscape"], plain), duration_ms=3000, on_progress=lambda p: None
    )
    a = _gray_frame(plain, at=1.0, width=64, height=48)
    b = _gray_frame(out, at=1.0, width=64, height=48)
    assert sum(1 for x, y in zip(a[32 * 64 :], b[32 * 64 :], strict=True) if abs(x - y) > 40) > 20


# --- requests -------------------------------------------------------------------------


def test_burning_in_needs_captions_in_that_language(team, media_root, videos):  # noqa: F811
    clip = _upload(team.eddie, videos["landscape"])
    with pytest.raises(ValidationError, match="no captions in that language"):
        video_copy_request(asset=clip, membership=team.eddie, kind="burn_captions", language="sv")
    with pytest.raises(ValidationError, match="Choose 9:16"):
        video_copy_request(asset=clip, membership=team.eddie, kind="transcode", crop="1:1")
    assert not VideoCopyJob.objects.exists()


def test_asking_twice_while_it_is_made_is_one_job_and_a_second_run_does_nothing(
    team,
    media_root,
    videos,  # noqa: F811
):
    clip = _upload(team.eddie, videos["landscape"])
    first = video_copy_request(asset=clip, membership=team.eddie, kind="transcode")
    again = video_copy_request(asset=clip, membership=team.alice, kind="transcode")
    assert again.pk == first.pk
    assert _run(first).status == VideoCopyStatus.DONE
    # A redelivered message finds the job done and makes no second copy.
    assert video_copy_run(job_id=first.pk) is None
    assert MediaAsset.objects.count() == 2


def test_another_organization_s_video_cannot_be_copied(team, media_root, videos):  # noqa: F811
    clip = _upload(team.eddie, videos["landscape"])
    with pytest.raises(ValidationError, match="not in your library"):
        video_copy_request(asset=clip, membership=team.charlie, kind="transcode")


# --- the media page -----------------------------------------------------------------


def test_the_media_page_offers_a_copy_and_shows_its_progress_then_the_result(
    client,
    personas,
    login,
    media_root,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    bob = personas.membership(personas.bob)
    video = _upload(bob, make_webm(tmp_path / "avajaiset.webm"))
    login(client, personas.bob)
    url = f"/publishing/media/{video.pk}/"
    page = client.get(url).content.decode()
    assert "Instagram Reels does not take vp8 video" in page
    assert "Some networks do not take this video as it is." in page
    assert "Make a compatible copy" in page
    # No captions yet: nothing to burn in.
    assert "Make a copy with captions burned in" not in page

    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(f"{url}copies/", {"kind": "transcode", "copy-crop": "9:16"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}#copies"
    assert len(enqueued) == 1
    job = VideoCopyJob.objects.get()
    assert (job.kind, job.crop, job.requested_by) == ("transcode", "9:16", personas.bob)
    page = client.get(url).content.decode()
    assert "The copy is being made." in page
    assert f'hx-get="{url}copies/{job.pk}/progress/"' in page
    assert 'value="0"' in page and "Waiting for the worker" in page

    progress = f"{url}copies/{job.pk}/progress/"
    VideoCopyJob.objects.filter(pk=job.pk).update(status="running", progress_percent=47)
    partial = client.get(progress).content.decode()
    assert 'max="100" value="47"' in partial and "47 % done" in partial
    assert "Making the copy: 40 % done." in partial  # said in tens
    VideoCopyJob.objects.filter(pk=job.pk).update(status="queued", progress_percent=0)

    done = _run(job)
    assert done.result is not None
    response = client.get(progress)
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    page = client.get(url).content.decode()
    assert f"The copy is ready: {done.result}." in page
    assert f'href="/publishing/media/{done.result.pk}/"' in page
    copy_page = client.get(f"/publishing/media/{done.result.pk}/").content.decode()
    assert "This video is a copy of" in copy_page and f'href="{url}"' in copy_page


def test_a_failed_copy_says_why_on_the_page(client, personas, login, media_root, videos):  # noqa: F811
    bob = personas.membership(personas.bob)
    video = _upload(bob, videos["landscape"])
    Path(video.file.path).write_bytes(b"\x00" * 100)
    login(client, personas.bob)
    client.post(f"/publishing/media/{video.pk}/copies/", {"kind": "transcode"})
    job = _run(VideoCopyJob.objects.get())
    client.get(f"/publishing/media/{video.pk}/copies/{job.pk}/progress/")
    page = client.get(f"/publishing/media/{video.pk}/").content.decode()
    assert "The copy failed: ffmpeg could not make the copy: " in page
    assert "Failed" in page


def test_burning_in_is_offered_per_language_with_captions(
    client,
    personas,
    login,
    media_root,
    videos,  # noqa: F811
):
    bob = personas.membership(personas.bob)
    video = _upload(bob, videos["landscape"])
    media_caption_set(
        asset=video,
        membership=bob,
        language="fi",
        file=SimpleUploadedFile("fi.vtt", VTT_FI.encode()),
    )
    login(client, personas.bob)
    url = f"/publishing/media/{video.pk}/"
    page = client.get(url).content.decode()
    assert "Make a copy with captions burned in" in page
    response = client.post(f"{url}copies/", {"kind": "burn_captions", "burn-language": "sv"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    client.post(f"{url}copies/", {"kind": "burn_captions", "burn-language": "fi"})
    job = VideoCopyJob.objects.get()
    assert (job.kind, job.language) == ("burn_captions", "fi")
    assert "Copy with Finnish captions burned in" in client.get(url).content.decode()


def test_copies_need_write_rights_and_another_organization_sees_nothing(
    client,
    personas,
    login,
    media_root,
    videos,  # noqa: F811
):
    video = _upload(personas.membership(personas.bob), videos["landscape"])
    job = video_copy_request(
        asset=video, membership=personas.membership(personas.bob), kind="transcode"
    )
    login(client, personas.carol)  # the auditor reads, but makes nothing
    page = client.get(f"/publishing/media/{video.pk}/").content.decode()
    assert "Make a compatible copy" not in page
    assert (
        client.post(f"/publishing/media/{video.pk}/copies/", {"kind": "transcode"}).status_code
        == 403
    )
    assert client.get(f"/publishing/media/{video.pk}/copies/{job.pk}/progress/").status_code == 200
    login(client, personas.charlie)
    assert (
        client.post(f"/publishing/media/{video.pk}/copies/", {"kind": "transcode"}).status_code
        == 404
    )
    assert client.get(f"/publishing/media/{video.pk}/copies/{job.pk}/progress/").status_code == 404
    assert VideoCopyJob.objects.count() == 1


def test_the_sweeper_sends_again_only_jobs_whose_worker_or_message_was_lost(
    team,
    media_root,
    videos,  # noqa: F811
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from datetime import timedelta

    from django.utils import timezone

    from publishing.services.video_copies import video_copies_sweep
    from publishing.tasks import make_video_copy

    clip = _upload(team.eddie, videos["landscape"])
    with django_capture_on_commit_callbacks():
        alive = video_copy_request(asset=clip, membership=team.eddie, kind="transcode")
        dead = video_copy_request(asset=clip, membership=team.eddie, kind="transcode", crop="9:16")
    now = timezone.now()
    # One worker is reporting; the other's stopped twenty minutes ago.
    VideoCopyJob.objects.filter(pk=alive.pk).update(
        status="running", started_at=now, heartbeat_at=now, progress_percent=30
    )
    VideoCopyJob.objects.filter(pk=dead.pk).update(
        status="running",
        started_at=now - timedelta(minutes=25),
        heartbeat_at=now - timedelta(minutes=20),
        progress_percent=60,
    )
    sent: list[int] = []
    monkeypatch.setattr(make_video_copy, "delay", sent.append)
    assert video_copies_sweep() == 1
    assert sent == [dead.pk]
    # The live one's second delivery does nothing; the dead one is made again from the start.
    assert video_copy_run(job_id=alive.pk) is None
    done = video_copy_run(job_id=dead.pk)
    assert done is not None and done.status == VideoCopyStatus.DONE, done and done.error
    assert VideoCopyJob.objects.get(pk=alive.pk).status == VideoCopyStatus.RUNNING
