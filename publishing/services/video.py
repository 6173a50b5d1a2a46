"""Videos in the media library: streamed to disk, probed with ffprobe, a poster frame taken
with ffmpeg. A video is never read into memory whole: the upload arrives as a temporary
file (FILE_UPLOAD_MAX_MEMORY_SIZE), is copied to storage in chunks and hashed in chunks."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import MediaAsset, MediaCaption, MediaKind

# ffprobe's format names → the type we store and tell networks.
CONTAINER_TYPES = {
    "mov": "video/mp4",  # ffprobe names MP4 and QuickTime together: "mov,mp4,m4a,3gp,3g2,mj2"
    "mp4": "video/mp4",
    "webm": "video/webm",
    "matroska": "video/webm",
}
PROBE_TIMEOUT_SECONDS = 60
POSTER_TIMEOUT_SECONDS = 120
CHUNK = 1024 * 1024


def ffprobe_path() -> str:
    return getattr(settings, "FFPROBE_BINARY", "") or shutil.which("ffprobe") or "ffprobe"


def ffmpeg_path() -> str:
    return getattr(settings, "FFMPEG_BINARY", "") or shutil.which("ffmpeg") or "ffmpeg"


def max_video_bytes() -> int:
    return int(settings.VIDEO_MAX_UPLOAD_BYTES)


@dataclass(frozen=True)
class VideoProbe:
    mime_type: str
    container: str
    duration_ms: int
    width: int
    height: int
    video_codec: str
    audio_codec: str
    frame_rate: float | None
    bitrate: int | None


def _not_a_video() -> ValidationError:
    return ValidationError(
        _("This file is not a video we can read. Upload an MP4, MOV or WebM video."),
        code="not_a_video",
    )


def probe_video(path: str | Path) -> VideoProbe:
    """What ffprobe says about the file at ``path``; a ValidationError saying what is wrong
    when it is not a video we can read."""
    try:
        result = subprocess.run(  # noqa: S603 - our program, our path
            [
                ffprobe_path(),
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            capture_output=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _not_a_video() from None
    if result.returncode != 0:
        raise _not_a_video()
    try:
        data = json.loads(result.stdout or b"{}")
    except ValueError:
        raise _not_a_video() from None
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    format_names = str(fmt.get("format_name", "")).split(",")
    mime_type = next((CONTAINER_TYPES[n] for n in format_names if n in CONTAINER_TYPES), None)
    if video is None or mime_type is None:
        # An image, a sound file, or a container no network takes.
        raise _not_a_video()
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    try:
        duration = float(fmt.get("duration") or video.get("duration") or 0)
        width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    except (TypeError, ValueError):
        raise _not_a_video() from None
    if duration <= 0 or width <= 0 or height <= 0:
        raise ValidationError(
            _("This video has no length or no picture. Export it again and upload it."),
            code="damaged",
        )
    # A phone's portrait video is often stored landscape with a rotation: show it as seen.
    rotation = 0
    for side in video.get("side_data_list") or []:
        if "rotation" in side:
            try:
                rotation = abs(int(side["rotation"])) % 180
            except (TypeError, ValueError):
                rotation = 0
    if rotation == 90:
        width, height = height, width
    frame_rate: float | None = None
    try:
        rate = Fraction(str(video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1"))
        frame_rate = round(float(rate), 3) if rate > 0 else None
    except (ValueError, ZeroDivisionError):
        frame_rate = None
    try:
        bitrate = int(fmt["bit_rate"]) if fmt.get("bit_rate") else None
    except (TypeError, ValueError):
        bitrate = None
    return VideoProbe(
        mime_type=mime_type,
        container=str(fmt.get("format_long_name") or fmt.get("format_name") or "")[:60],
        duration_ms=round(duration * 1000),
        width=width,
        height=height,
        video_codec=str(video.get("codec_name") or "")[:30],
        audio_codec=str((audio or {}).get("codec_name") or "")[:30],
        frame_rate=frame_rate,
        bitrate=bitrate,
    )


def extract_poster(path: str | Path, *, at_ms: int) -> bytes:
    """A JPEG of the frame at ``at_ms`` (at most 1280 pixels wide), or b"" if ffmpeg fails."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "poster.jpg"
        try:
            subprocess.run(  # noqa: S603 - our program, our paths
                [
                    ffmpeg_path(),
                    "-v",
                    "error",
                    "-ss",
                    f"{at_ms / 1000:.3f}",
                    "-i",
                    str(path),
                    "-frames:v",
                    "1",
                    "-vf",
                    "scale='min(1280,iw)':-2",
                    "-q:v",
                    "3",
                    "-y",
                    str(out),
                ],
                capture_output=True,
                timeout=POSTER_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return b""
        return out.read_bytes() if out.exists() else b""


def _hash_file(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def media_video_upload(
    *,
    membership: Membership,
    file: File,
    alt_texts: dict[str, str] | None = None,
    request: HttpRequest | None = None,
) -> MediaAsset:
    """Add a video to the organization's library: copied to storage in chunks, probed
    with ffprobe, a poster frame taken a second in (or at the middle of a short video).

    A file that is too large or is not a video we can read raises a ValidationError that
    says what is wrong; nothing is kept then.
    """
    from publishing.services.media import _check_alt_length, _known_language

    require_perm(membership, "posts.write")
    size = int(getattr(file, "size", 0) or 0)
    if size > max_video_bytes():
        raise ValidationError(
            _("The file is %(size).1f MB; videos can be at most %(max)d MB.")
            % {"size": size / (1024 * 1024), "max": max_video_bytes() // (1024 * 1024)},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    texts = {_known_language(lang): text.strip() for lang, text in (alt_texts or {}).items()}
    for text in texts.values():
        _check_alt_length(text)
    name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1][:255]
    sha256 = _hash_file(file)
    file.seek(0)
    asset = MediaAsset(
        organization=membership.organization,
        original_name=name,
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=size,
        width=0,
        height=0,
        sha256=sha256,
        uploaded_by=membership.user,
    )
    # Stored first (in chunks), then probed where it lies; removed if it is no video.
    asset.file.save(name or "video", file, save=False)
    storage, stored_name = asset.file.storage, asset.file.name or ""
    try:
        probe = probe_video(storage.path(stored_name))
        poster = extract_poster(storage.path(stored_name), at_ms=min(1000, probe.duration_ms // 2))
    except BaseException:
        storage.delete(stored_name)
        raise
    asset.mime_type = probe.mime_type
    asset.width, asset.height = probe.width, probe.height
    asset.duration_ms = probe.duration_ms
    asset.video_codec, asset.audio_codec = probe.video_codec, probe.audio_codec
    asset.frame_rate, asset.bitrate = probe.frame_rate, probe.bitrate
    asset.container = probe.container
    try:
        with transaction.atomic():
            if poster:
                asset.poster.save("poster.jpg", ContentFile(poster), save=False)
            asset.save()
            from publishing.models import MediaAltText

            for language, text in texts.items():
                if text:
                    MediaAltText.objects.create(
                        asset=asset, language=language, text=text, updated_by=membership.user
                    )
            audit_record(
                action="media.uploaded",
                organization=membership.organization,
                actor=membership.user,
                target=asset,
                new={
                    "kind": "video",
                    "mime_type": asset.mime_type,
                    "size_bytes": size,
                    "width": asset.width,
                    "height": asset.height,
                    "duration_ms": asset.duration_ms,
                    "video_codec": asset.video_codec,
                    "audio_codec": asset.audio_codec,
                    "sha256": sha256,
                },
                request=request,
            )
    except BaseException:
        storage.delete(stored_name)
        if asset.poster.name:
            asset.poster.storage.delete(asset.poster.name)
        raise
    return asset


# --- captions ---------------------------------------------------------------------------

MAX_CAPTION_BYTES = 1024 * 1024
CAPTION_FORMATS = {"srt", "vtt"}


@dataclass(frozen=True)
class CheckedCaptions:
    vtt: str
    transcript: str
    cue_count: int


def _timestamp(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours:02d}:{mins:02d}:{secs:02d}.{millis:03d}"


def check_captions(content: bytes, *, duration_ms: int) -> CheckedCaptions:
    """SRT or WebVTT captions read with pysubs2 and written back as WebVTT; a
    ValidationError saying what is wrong (not a caption file, no cues, a cue outside the
    video's length or ending before it starts)."""
    import pysubs2

    if len(content) > MAX_CAPTION_BYTES:
        raise ValidationError(_("A caption file can be at most 1 MB."), code="captions_too_large")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            _("The caption file is not UTF-8 text. Save it as UTF-8 and upload it again."),
            code="captions_encoding",
        ) from None
    not_captions = ValidationError(
        _("This is not an SRT or WebVTT caption file we can read."), code="not_captions"
    )
    try:
        subs = pysubs2.SSAFile.from_string(text)
    except Exception:  # pysubs2 raises many kinds on garbage
        raise not_captions from None
    if subs.format not in CAPTION_FORMATS:
        raise not_captions
    cues = [event for event in subs if not event.is_comment and event.plaintext.strip()]
    if not cues:
        raise ValidationError(_("The caption file has no captions in it."), code="no_cues")
    for event in cues:
        if event.start < 0 or event.end <= event.start:
            raise ValidationError(
                _("The caption at %(time)s ends before it starts.")
                % {"time": _timestamp(max(event.start, 0))},
                code="cue_order",
            )
        if event.end > duration_ms:
            raise ValidationError(
                _(
                    "The caption at %(time)s runs to %(end)s, past the end of the video "
                    "(%(length)s)."
                )
                % {
                    "time": _timestamp(event.start),
                    "end": _timestamp(event.end),
                    "length": _timestamp(duration_ms),
                },
                code="cue_outside",
            )
    lines = ["WEBVTT", ""]
    for event in sorted(cues, key=lambda e: (e.start, e.end)):
        lines += [f"{_timestamp(event.start)} --> {_timestamp(event.end)}", event.plaintext, ""]
    transcript = "\n".join(event.plaintext.strip() for event in cues)
    return CheckedCaptions(vtt="\n".join(lines), transcript=transcript, cue_count=len(cues))


def media_caption_set(
    *,
    asset: MediaAsset,
    membership: Membership,
    language: str,
    file: File,
    request: HttpRequest | None = None,
) -> MediaCaption:
    """Add or replace the video's captions in ``language`` (an SRT or WebVTT file)."""
    from publishing.services.media import _known_language

    require_perm(membership, "posts.write")
    if asset.organization_id != membership.organization_id:
        raise ValidationError(_("This video is not in your library."), code="other_org")
    if not asset.is_video or not asset.duration_ms:
        raise ValidationError(_("Only videos have captions."), code="not_video")
    _known_language(language)
    file.seek(0)
    checked = check_captions(file.read(MAX_CAPTION_BYTES + 1), duration_ms=asset.duration_ms)
    name = (getattr(file, "name", "") or "").rsplit("/", 1)[-1][:255]
    with transaction.atomic():
        existing = (
            MediaCaption.objects.select_for_update().filter(asset=asset, language=language).first()
        )
        old = {"cue_count": existing.cue_count} if existing else {}
        caption = existing or MediaCaption(asset=asset, language=language)
        caption.vtt, caption.transcript = checked.vtt, checked.transcript
        caption.cue_count, caption.original_name = checked.cue_count, name
        caption.updated_by, caption.updated_at = membership.user, timezone.now()
        caption.save()
        audit_record(
            action="media.captions_set",
            organization=membership.organization,
            actor=membership.user,
            target=asset,
            old=old,
            new={"language": language, "cue_count": checked.cue_count, "file": name},
            request=request,
        )
    return caption
