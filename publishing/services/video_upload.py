"""Chunked, resumable video uploads into the media library.

The browser opens a session with the file's name and size, then sends the file in
chunks, each with its ``Content-Range``. Each chunk is streamed onto the end of the
session's partial file on disk (a megabyte at a time: never the whole file, nor even a
whole chunk, in memory) and the answer says how many bytes the server holds, so an
upload broken by a network error or a page reload asks for that offset and goes on from
there. A chunk must start exactly where the received bytes end: one out of order or
overlapping is refused with the offset to resume from. When the last byte is in, the
file is moved (not copied) into the library through ``media_video_upload``: the same
probe, poster and audit as a form upload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Membership
from governance.selectors.access import require_perm
from publishing.models import MediaAsset, UploadStatus, VideoUploadSession
from publishing.services.video import max_video_bytes, media_video_upload

READ_BYTES = 1024 * 1024
# Finished, cancelled and expired sessions are kept this long (the page can still tell
# what became of them), then deleted.
KEEP_FINISHED = timedelta(days=7)
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class UploadConflict(ValidationError):
    """A chunk that does not start where the received bytes end (the answer carries the
    offset to resume from)."""


@dataclass(frozen=True)
class ChunkRange:
    start: int
    end: int  # inclusive, as in Content-Range
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_content_range(value: str) -> ChunkRange:
    """``bytes START-END/TOTAL`` (RFC 9110 §14.4) as a ChunkRange; a ValidationError for
    anything else (a missing header, ``*``, an end before the start)."""
    match = CONTENT_RANGE.match((value or "").strip())
    if match is None:
        raise ValidationError(
            _('Each chunk needs a Content-Range header such as "bytes 0-8388607/52428800".'),
            code="content_range",
        )
    start, end, total = (int(group) for group in match.groups())
    if end < start or end >= total:
        raise ValidationError(
            _("The Content-Range %(value)s is not a range inside the file.") % {"value": value},
            code="content_range",
        )
    return ChunkRange(start=start, end=end, total=total)


def upload_dir() -> Path:
    folder = Path(settings.VIDEO_UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def partial_path(session: VideoUploadSession) -> Path:
    return upload_dir() / f"{session.pk}.part"


def _session_ttl() -> timedelta:
    return timedelta(hours=int(settings.VIDEO_UPLOAD_SESSION_HOURS))


def _check_size(size: int) -> None:
    if size <= 0:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > max_video_bytes():
        raise ValidationError(
            _("The file is %(size).1f MB; videos can be at most %(max)d MB.")
            % {"size": size / (1024 * 1024), "max": max_video_bytes() // (1024 * 1024)},
            code="too_large",
        )


def upload_sessions_for_membership(membership: Membership) -> QuerySet[VideoUploadSession]:
    return VideoUploadSession.objects.filter(organization_id=membership.organization_id)


def upload_session_get_for_user(membership: Membership, pk: UUID | str) -> VideoUploadSession:
    """The organization's upload session ``pk``; 404 for another organization's, or for
    an id that is no UUID."""
    try:
        return upload_sessions_for_membership(membership).get(pk=pk)
    except (VideoUploadSession.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def upload_session_start(
    *,
    membership: Membership,
    name: str,
    size: int,
    alt_texts: Mapping[str, str] | None = None,
) -> VideoUploadSession:
    """Open an upload of ``size`` bytes; refused at once when the file is too large (before
    a byte is sent) or empty. ``alt_texts`` are kept for the asset made at the end."""
    from publishing.services.media import _check_alt_length, _known_language

    require_perm(membership, "posts.write")
    _check_size(size)
    texts = {_known_language(lang): text.strip() for lang, text in (alt_texts or {}).items()}
    for text in texts.values():
        _check_alt_length(text)
    now = timezone.now()
    session = VideoUploadSession.objects.create(
        organization=membership.organization,
        created_by=membership.user,
        original_name=(name or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "video",
        size_bytes=size,
        alt_texts={lang: text for lang, text in texts.items() if text},
        created_at=now,
        updated_at=now,
        expires_at=now + _session_ttl(),
    )
    partial_path(session).touch()
    return session


def _refuse_unless_open(session: VideoUploadSession) -> None:
    if session.status == UploadStatus.OPEN and session.expires_at <= timezone.now():
        raise ValidationError(
            _("This upload waited too long and has expired. Start it again."), code="expired"
        )
    messages = {
        UploadStatus.COMPLETE: _("This upload is already complete."),
        UploadStatus.CANCELLED: _("This upload was cancelled. Start it again."),
        UploadStatus.EXPIRED: _("This upload waited too long and has expired. Start it again."),
        UploadStatus.FAILED: session.error or _("This upload failed. Start it again."),
    }
    if session.status in messages:
        raise ValidationError(messages[UploadStatus(session.status)], code=session.status)


def upload_session_append(
    *,
    membership: Membership,
    session: VideoUploadSession,
    chunk: ChunkRange,
    body: Readable,
    request: HttpRequest | None = None,
) -> VideoUploadSession:
    """Write one chunk (``chunk`` says where it belongs; ``body`` is read a megabyte at a
    time) onto the end of the partial file. The session row is locked meanwhile, so two
    requests for the same upload never write at once.

    Refused with a clear ValidationError: a total other than the size announced, a
    chunk that does not start at the received offset (``UploadConflict``), a body
    shorter or longer than its range, a session no longer open. After the last byte the
    video is probed and added to the library; ``session.asset`` is then set.
    """
    require_perm(membership, "posts.write")
    if session.organization_id != membership.organization_id:
        raise Http404
    with transaction.atomic():
        locked = VideoUploadSession.objects.select_for_update().get(pk=session.pk)
        _refuse_unless_open(locked)
        if chunk.total != locked.size_bytes:
            raise ValidationError(
                _("This upload is for a file of %(size)d bytes, not %(total)d.")
                % {"size": locked.size_bytes, "total": chunk.total},
                code="total_mismatch",
            )
        if chunk.start != locked.received_bytes:
            raise UploadConflict(
                _(
                    "This chunk starts at byte %(start)d but the server has %(received)d "
                    "bytes: send the file from byte %(received)d on."
                )
                % {"start": chunk.start, "received": locked.received_bytes},
                code="offset",
            )
        path = partial_path(locked)
        written = 0
        with path.open("r+b" if path.exists() else "wb") as out:
            out.seek(locked.received_bytes)
            while written < chunk.length:
                data = body.read(min(READ_BYTES, chunk.length - written))
                if not data:
                    break
                out.write(data)
                written += len(data)
            extra = body.read(1) if written == chunk.length else b""
            if written != chunk.length or extra:
                # What was written of a short or long body is taken back: the offset stays.
                out.truncate(locked.received_bytes)
                raise ValidationError(
                    _(
                        "The chunk's body did not match its Content-Range (%(length)d bytes "
                        "announced). Send it again."
                    )
                    % {"length": chunk.length},
                    code="length",
                )
        now = timezone.now()
        locked.received_bytes += written
        locked.updated_at = now
        locked.expires_at = now + _session_ttl()
        locked.save(update_fields=["received_bytes", "updated_at", "expires_at"])
    if locked.received_bytes == locked.size_bytes:
        _finish(membership=membership, session=locked, request=request)
    return locked


class _PartialFile(File):
    """The finished partial file, which storage moves into place instead of copying
    (Django's FileSystemStorage moves a file that names its temporary path)."""

    def __init__(self, path: Path, name: str) -> None:
        self.name_on_disk = path
        super().__init__(path.open("rb"), name=name)

    def temporary_file_path(self) -> str:
        return str(self.name_on_disk)


def _finish(
    *, membership: Membership, session: VideoUploadSession, request: HttpRequest | None
) -> None:
    path = partial_path(session)
    file = _PartialFile(path, session.original_name)
    try:
        asset = media_video_upload(
            membership=membership,
            file=file,
            alt_texts=dict(session.alt_texts),
            request=request,
        )
    except ValidationError as error:
        session.status = UploadStatus.FAILED
        session.error = " ".join(error.messages)
        session.updated_at = timezone.now()
        session.save(update_fields=["status", "error", "updated_at"])
        raise
    finally:
        file.close()
        path.unlink(missing_ok=True)
    session.status = UploadStatus.COMPLETE
    session.asset = asset
    session.updated_at = timezone.now()
    session.save(update_fields=["status", "asset", "updated_at"])


def upload_session_cancel(*, membership: Membership, session: VideoUploadSession) -> None:
    """Stop an upload and remove what was received; a finished upload is left as it is."""
    require_perm(membership, "posts.write")
    if session.organization_id != membership.organization_id:
        raise Http404
    with transaction.atomic():
        locked = VideoUploadSession.objects.select_for_update().get(pk=session.pk)
        if locked.status != UploadStatus.OPEN:
            raise ValidationError(
                _("This upload is no longer in progress, so it cannot be cancelled."),
                code="not_open",
            )
        locked.status = UploadStatus.CANCELLED
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "updated_at"])
        path = partial_path(locked)
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
    session.status = locked.status


def upload_session_asset(session: VideoUploadSession) -> MediaAsset | None:
    return session.asset if session.status == UploadStatus.COMPLETE else None


def upload_sessions_expire() -> int:
    """Beat's clean-up: open uploads past their expiry become expired and their partial
    files are removed; sessions finished a week ago are deleted, and stray partial files
    that no session names (a crash between steps) go too. Returns how many expired."""
    now = timezone.now()
    expired = 0
    stale = VideoUploadSession.objects.filter(status=UploadStatus.OPEN, expires_at__lte=now)
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            # Claimed by a conditional update: a doubled tick or a late chunk cannot race it.
            claimed = VideoUploadSession.objects.filter(
                pk=pk, status=UploadStatus.OPEN, expires_at__lte=now
            ).update(status=UploadStatus.EXPIRED, updated_at=now)
        if claimed:
            expired += 1
            (upload_dir() / f"{pk}.part").unlink(missing_ok=True)
    VideoUploadSession.objects.exclude(status=UploadStatus.OPEN).filter(
        updated_at__lte=now - KEEP_FINISHED
    ).delete()
    open_ids = {
        str(pk)
        for pk in VideoUploadSession.objects.filter(status=UploadStatus.OPEN).values_list(
            "pk", flat=True
        )
    }
    for part in upload_dir().glob("*.part"):
        if part.stem not in open_ids and part.stat().st_mtime < (now - _session_ttl()).timestamp():
            part.unlink(missing_ok=True)
    return expired
