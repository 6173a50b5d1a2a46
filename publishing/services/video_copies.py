"""Compatible copies of library videos, made by ffmpeg on a worker with progress.

A copy is H.264 video (yuv420p, at most 1920 pixels on the long side) with AAC sound in
an MP4 whose index is at the front (``+faststart``): the profile every network we post to
takes. It can be cropped to 9:16 (Instagram Reels, TikTok), or have one language's
captions burned into the picture for networks that take no caption files. The original
stays as it was; the copy is a library video of its own, with the original's alt text
and captions, that posts can use.

The job row is the record: claimed with a conditional update (a second delivery of the
message finds nothing to do, Redis redelivers long tasks after its visibility timeout),
progress written to it as ffmpeg reports, the error kept in words when ffmpeg fails.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import (
    MediaAltText,
    MediaAsset,
    MediaCaption,
    MediaKind,
    VideoCopyJob,
    VideoCopyKind,
    VideoCopyStatus,
)
from publishing.services.video import (
    VideoProbe,
    _hash_file,
    extract_poster,
    ffmpeg_path,
    probe_video,
)

logger = logging.getLogger(__name__)

CROPS = ("", "9:16")
# The copy's longest side; 1920 is 1080p, which every network takes.
MAX_SIDE = 1920
# ffmpeg is stopped past this; the task's own limit is a little longer.
COPY_TIMEOUT_SECONDS = 2 * 60 * 60
# A running job without a progress report for this long lost its worker (ffmpeg reports
# every half second; a percent of even a two-hour video comes within ~72 s at 1x speed).
STALE_SECONDS = 10 * 60
# A queued job still waiting after this long lost its message (a broker restart): sent again.
REQUEUE_AFTER_SECONDS = 10 * 60
# Progress is written to the database at most this often (and when a percent is passed).
PROGRESS_EVERY_SECONDS = 0.5
ERROR_LINES = 3


# --- ffmpeg -------------------------------------------------------------------------


def filter_value(text: str) -> str:
    """``text`` escaped as a filter option's value inside a filtergraph (both levels of
    ffmpeg-filters' "Notes on filtergraph escaping"): a file name with ``'``, ``:``,
    ``,``, ``[`` or ``\\`` reaches the filter as it is."""
    # First level: the option value (':' separates options, '\' and "'" quote).
    level1 = text.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
    # Second level: the filtergraph ('[', ']', ',' and ';' separate filters and links).
    level2 = level1.replace("\\", "\\\\").replace("'", "\\'")
    for char in "[],;":
        level2 = level2.replace(char, "\\" + char)
    return level2


def video_filters(*, crop: str, captions_path: Path | None) -> str:
    """The ``-vf`` chain: the crop, the size bound (even sides, as yuv420p needs), then
    the captions drawn on the final picture so their size follows the output."""
    filters: list[str] = []
    if crop == "9:16":
        # The middle of the picture, as wide (or as tall) as 9:16 allows, even-sided.
        filters.append(
            "crop=w='trunc(min(iw,ih*9/16)/2)*2':h='trunc(min(ih,iw*16/9)/2)*2'".replace(",", "\\,")
        )
    filters.append(
        f"scale=w='min(iw,{MAX_SIDE})':h='min(ih,{MAX_SIDE})'".replace(",", "\\,")
        + ":force_original_aspect_ratio=decrease:force_divisible_by=2"
    )
    filters.append("setsar=1")
    if captions_path is not None:
        filters.append(f"subtitles=filename={filter_value(str(captions_path))}")
    filters.append("format=yuv420p")
    return ",".join(filters)


def ffmpeg_command(
    source: Path, target: Path, *, crop: str = "", captions_path: Path | None = None
) -> list[str]:
    return [
        ffmpeg_path(),
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-vf",
        video_filters(crop=crop, captions_path=captions_path),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-progress",
        "pipe:1",
        "-nostats",
        "-y",
        str(target),
    ]


def progress_percents(lines: Iterable[str], *, duration_ms: int) -> Iterable[int]:
    """The percentages done as ffmpeg's ``-progress`` reports (``out_time_us=`` lines,
    then ``progress=end``), never above 99 until the end and never going back."""
    best = 0
    for raw in lines:
        key, _sep, value = raw.strip().partition("=")
        if key == "out_time_us" and duration_ms > 0:
            try:
                done_ms = int(value) // 1000
            except ValueError:  # "N/A" before the first frame
                continue
            percent = min(99, max(0, done_ms * 100 // duration_ms))
            if percent > best:
                best = percent
                yield percent
        elif key == "progress" and value == "end":
            yield 100
            return


class CopyFailed(Exception):
    """ffmpeg could not make the copy; the message says why, in words."""


def run_ffmpeg(
    command: list[str],
    *,
    duration_ms: int,
    on_progress: Callable[[int], None],
    timeout: float = COPY_TIMEOUT_SECONDS,
    names: dict[str, str] | None = None,
) -> None:
    """Run ffmpeg, calling ``on_progress`` with each new percentage; ``CopyFailed`` with
    ffmpeg's last words when it fails or runs past ``timeout``. ``names`` replaces the
    server's paths in those words with what the person knows (the file's name)."""
    with tempfile.TemporaryFile() as errors:
        # stderr to a file: a full pipe would stall ffmpeg while we read its progress.
        process = subprocess.Popen(  # noqa: S603 - our program, our paths
            command, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        try:
            for percent in progress_percents(process.stdout, duration_ms=duration_ms):
                on_progress(percent)
                if time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(command, timeout)
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise CopyFailed(_("Making the copy took too long and was stopped.")) from None
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.returncode != 0:
            errors.seek(0)
            said = errors.read().decode("utf-8", "replace").strip().splitlines()
            detail = " ".join(said[-ERROR_LINES:])
            for path, name in sorted((names or {}).items(), key=lambda item: -len(item[0])):
                detail = detail.replace(path, name)
            detail = detail[:500] or _("no message")
            raise CopyFailed(_("ffmpeg could not make the copy: %(detail)s") % {"detail": detail})


# --- requests and runs ---------------------------------------------------------------


def video_copy_request(
    *,
    asset: MediaAsset,
    membership: Membership,
    kind: str,
    crop: str = "",
    language: str = "",
    request: HttpRequest | None = None,
) -> VideoCopyJob:
    """Ask a worker for a copy of ``asset``; the same copy asked for again while it is
    being made is the same job."""
    require_perm(membership, "posts.write")
    if asset.organization_id != membership.organization_id:
        raise ValidationError(_("This video is not in your library."), code="other_org")
    if not asset.is_video or not asset.duration_ms:
        raise ValidationError(_("Only videos can be copied this way."), code="not_video")
    if kind not in VideoCopyKind.values:
        raise ValidationError(_("Choose what kind of copy to make."), code="kind")
    if crop not in CROPS:
        raise ValidationError(_("Choose 9:16 or keep the shape."), code="crop")
    if kind == VideoCopyKind.BURN_CAPTIONS:
        if not MediaCaption.objects.filter(asset=asset, language=language).exists():
            raise ValidationError(
                _("This video has no captions in that language to burn in."),
                code="no_captions",
            )
    else:
        language = ""
    open_jobs = VideoCopyJob.objects.filter(
        source=asset,
        kind=kind,
        crop=crop,
        language=language,
        status__in=[VideoCopyStatus.QUEUED, VideoCopyStatus.RUNNING],
    )
    existing = open_jobs.first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            job = VideoCopyJob.objects.create(
                organization=membership.organization,
                source=asset,
                kind=kind,
                crop=crop,
                language=language,
                requested_by=membership.user,
            )
            audit_record(
                action="media.copy_requested",
                organization=membership.organization,
                actor=membership.user,
                target=asset,
                new={"kind": kind, "crop": crop, "language": language, "job": job.pk},
                request=request,
            )
    except IntegrityError:
        # Asked twice at the same moment: the other request made the job.
        found = open_jobs.first()
        if found is None:
            raise
        return found
    from publishing.tasks import make_video_copy  # tasks import services, not the reverse

    transaction.on_commit(lambda: make_video_copy.delay(job.pk))
    return job


def _claim(job_id: int) -> bool:
    """Whether this run won the job: a queued one, or one left running by a killed worker."""
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    claimed = (
        VideoCopyJob.objects.filter(pk=job_id)
        .filter(
            Q(status=VideoCopyStatus.QUEUED)
            | Q(status=VideoCopyStatus.RUNNING, heartbeat_at__lt=stale)
        )
        .update(
            status=VideoCopyStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            progress_percent=0,
            error="",
        )
    )
    return claimed == 1


def video_copies_sweep() -> int:
    """Send again the jobs whose message or worker was lost: queued ones left waiting, and
    running ones whose worker stopped reporting. The claim makes a doubled send harmless."""
    from publishing.tasks import make_video_copy  # tasks import services, not the reverse

    now = timezone.now()
    lost = VideoCopyJob.objects.filter(
        Q(
            status=VideoCopyStatus.QUEUED,
            created_at__lt=now - timedelta(seconds=REQUEUE_AFTER_SECONDS),
        )
        | Q(status=VideoCopyStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=STALE_SECONDS))
    ).values_list("pk", flat=True)
    ids = list(lost[:100])
    for job_id in ids:
        make_video_copy.delay(job_id)
    return len(ids)


def _copy_name(job: VideoCopyJob) -> str:
    stem = Path(job.source.original_name or "video").stem[:180] or "video"
    suffix = f"captions-{job.language}" if job.kind == VideoCopyKind.BURN_CAPTIONS else "h264"
    if job.crop == "9:16":
        suffix += "-9x16"
    return f"{stem}-{suffix}.mp4"


def video_copy_run(
    *, job_id: int, on_progress: Callable[[int], None] | None = None
) -> VideoCopyJob | None:
    """Make the copy of a claimed job; ``None`` when another run has it or it is done.

    Progress goes to the job row as ffmpeg reports it; a failure is kept on the job in
    words, and the original is untouched either way.
    """
    if not _claim(job_id):
        return None
    job = VideoCopyJob.objects.select_related("source", "organization").get(pk=job_id)
    source = job.source
    last_write = 0.0

    def progress(percent: int) -> None:
        nonlocal last_write
        now = time.monotonic()
        if percent == 100 or now - last_write >= PROGRESS_EVERY_SECONDS:
            VideoCopyJob.objects.filter(pk=job.pk).update(
                progress_percent=percent, heartbeat_at=timezone.now()
            )
            last_write = now
        if on_progress is not None:
            on_progress(percent)

    try:
        with tempfile.TemporaryDirectory(prefix="govsocial-copy-") as folder:
            captions_path: Path | None = None
            if job.kind == VideoCopyKind.BURN_CAPTIONS:
                caption = MediaCaption.objects.filter(asset=source, language=job.language).first()
                if caption is None:
                    raise CopyFailed(_("The captions to burn in were removed."))
                captions_path = Path(folder) / f"captions-{job.language}.vtt"
                captions_path.write_text(caption.vtt, encoding="utf-8")
            target = Path(folder) / "copy.mp4"
            try:
                source_path = Path(source.file.path)
            except (ValueError, NotImplementedError):
                raise CopyFailed(_("The original video file is missing.")) from None
            if not source_path.exists():
                raise CopyFailed(_("The original video file is missing."))
            run_ffmpeg(
                ffmpeg_command(source_path, target, crop=job.crop, captions_path=captions_path),
                duration_ms=source.duration_ms or 0,
                on_progress=progress,
                names={str(source_path): source.original_name or "video", folder: ""},
            )
            try:
                probe = probe_video(target)
            except ValidationError:
                raise CopyFailed(_("ffmpeg made a file that is not a video we can read.")) from None
            result = _store_copy(job, target, probe)
    except CopyFailed as failure:
        VideoCopyJob.objects.filter(pk=job.pk).update(
            status=VideoCopyStatus.FAILED, error=str(failure), finished_at=timezone.now()
        )
        audit_record(
            action="media.copy_failed",
            organization=job.organization,
            target=source,
            actor_label="worker",
            new={"job": job.pk, "kind": job.kind, "error": str(failure)},
        )
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    logger.info("video copy %s made library video %s", job.pk, result.pk)
    return job


def _store_copy(job: VideoCopyJob, target: Path, probe: VideoProbe) -> MediaAsset:
    """The copy in the library, with the original's alt text and captions, and the job done."""
    source = job.source
    name = _copy_name(job)
    size = target.stat().st_size
    with target.open("rb") as handle:
        file = File(handle, name=name)
        sha256 = _hash_file(file)
        file.seek(0)
        asset = MediaAsset(
            organization=job.organization,
            original_name=name,
            kind=MediaKind.VIDEO,
            mime_type=probe.mime_type,
            size_bytes=size,
            width=probe.width,
            height=probe.height,
            sha256=sha256,
            uploaded_by=job.requested_by,
            duration_ms=probe.duration_ms,
            video_codec=probe.video_codec,
            audio_codec=probe.audio_codec,
            frame_rate=probe.frame_rate,
            bitrate=probe.bitrate,
            container=probe.container,
        )
        asset.file.save(name, file, save=False)
    stored = asset.file.name or ""
    try:
        poster = extract_poster(target, at_ms=min(1000, probe.duration_ms // 2))
        with transaction.atomic():
            if poster:
                asset.poster.save("poster.jpg", ContentFile(poster), save=False)
            asset.save()
            for alt in source.alt_texts.all():
                MediaAltText.objects.create(
                    asset=asset, language=alt.language, text=alt.text, updated_by=alt.updated_by
                )
            for caption in source.captions.all():
                MediaCaption.objects.create(
                    asset=asset,
                    language=caption.language,
                    vtt=caption.vtt,
                    transcript=caption.transcript,
                    cue_count=caption.cue_count,
                    original_name=caption.original_name,
                    updated_by=caption.updated_by,
                )
            VideoCopyJob.objects.filter(pk=job.pk).update(
                status=VideoCopyStatus.DONE,
                progress_percent=100,
                result=asset,
                finished_at=timezone.now(),
            )
            audit_record(
                action="media.copy_made",
                organization=job.organization,
                target=asset,
                actor_label="worker",
                new={
                    "job": job.pk,
                    "source": source.pk,
                    "kind": job.kind,
                    "crop": job.crop,
                    "language": job.language,
                    "width": asset.width,
                    "height": asset.height,
                    "video_codec": asset.video_codec,
                    "audio_codec": asset.audio_codec,
                    "size_bytes": size,
                    "sha256": sha256,
                },
            )
    except BaseException:
        asset.file.storage.delete(stored)
        if asset.poster.name:
            asset.poster.storage.delete(asset.poster.name)
        raise
    return asset
