"""Chunked, resumable video uploads: chunks appended on disk in order, resumed from the
server's offset, refused when out of place, too large or another organization's, and
the finished file probed into the library like a form upload."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from governance.models import AuditEvent
from publishing.models import MediaAsset, UploadStatus, VideoUploadSession
from publishing.services.video_upload import (
    ChunkRange,
    UploadConflict,
    parse_content_range,
    partial_path,
    upload_session_append,
    upload_session_cancel,
    upload_session_get_for_user,
    upload_session_start,
    upload_sessions_expire,
)
from publishing.tests.video_files import videos  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

UPLOADS = "/publishing/media/uploads/"


@pytest.fixture
def upload_dir(settings, media_root, tmp_path) -> Path:
    settings.VIDEO_UPLOAD_DIR = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def _send(membership, session, data: bytes, start: int, end: int | None = None):
    end = start + len(data) - 1 if end is None else end
    return upload_session_append(
        membership=membership,
        session=session,
        chunk=ChunkRange(start=start, end=end, total=session.size_bytes),
        body=io.BytesIO(data),
    )


def _chunks(data: bytes, size: int) -> list[tuple[int, bytes]]:
    return [(start, data[start : start + size]) for start in range(0, len(data), size)]


def test_a_video_sent_in_chunks_is_probed_into_the_library(team, upload_dir, videos):  # noqa: F811
    data = videos["landscape"].read_bytes()
    session = upload_session_start(
        membership=team.eddie,
        name="avajaiset.mp4",
        size=len(data),
        alt_texts={"fi": "Kirjaston avajaiset"},
    )
    for start, chunk in _chunks(data, 16 * 1024):
        session = _send(team.eddie, session, chunk, start)
    session.refresh_from_db()
    assert session.status == UploadStatus.COMPLETE
    asset = MediaAsset.objects.get()
    assert session.asset == asset
    assert asset.is_video and asset.original_name == "avajaiset.mp4"
    assert (asset.width, asset.height, asset.video_codec) == (320, 240, "h264")
    assert Path(asset.file.path).read_bytes() == data
    assert asset.poster and asset.alt_text_for("fi") == "Kirjaston avajaiset"
    assert AuditEvent.objects.get(action="media.uploaded").new_values["kind"] == "video"
    # The partial file was moved into storage: nothing is left in the upload folder.
    assert list(upload_dir.iterdir()) == []


def test_an_upload_resumes_from_the_offset_the_server_holds(team, upload_dir, videos):  # noqa: F811
    data = videos["landscape"].read_bytes()
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=len(data))
    session = _send(team.eddie, session, data[:20000], 0)
    # The page is reloaded: it asks where the upload stands and sends the rest from there.
    again = upload_session_get_for_user(team.eddie, str(session.pk))
    assert (again.received_bytes, again.status) == (20000, UploadStatus.OPEN)
    assert partial_path(again).stat().st_size == 20000
    again = _send(team.eddie, again, data[20000:], again.received_bytes)
    assert again.status == UploadStatus.COMPLETE
    assert Path(again.asset.file.path).read_bytes() == data


def test_a_chunk_out_of_order_or_overlapping_is_refused_with_the_offset(team, upload_dir):
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=3000)
    session = _send(team.eddie, session, b"a" * 1000, 0)
    with pytest.raises(UploadConflict, match="starts at byte 2000 but the server has 1000"):
        _send(team.eddie, session, b"c" * 1000, 2000)
    with pytest.raises(UploadConflict, match="send the file from byte 1000 on"):
        _send(team.eddie, session, b"b" * 1000, 500)
    session.refresh_from_db()
    assert session.received_bytes == 1000
    assert partial_path(session).read_bytes() == b"a" * 1000


def test_a_body_shorter_than_its_range_is_taken_back(team, upload_dir):
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=3000)
    with pytest.raises(ValidationError, match="did not match its Content-Range"):
        _send(team.eddie, session, b"a" * 600, 0, end=999)
    with pytest.raises(ValidationError, match="did not match its Content-Range"):
        _send(team.eddie, session, b"a" * 1200, 0, end=999)
    session.refresh_from_db()
    assert session.received_bytes == 0
    assert partial_path(session).read_bytes() == b""


def test_a_total_other_than_the_announced_size_is_refused(team, upload_dir):
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=3000)
    with pytest.raises(ValidationError, match="file of 3000 bytes, not 4000"):
        upload_session_append(
            membership=team.eddie,
            session=session,
            chunk=ChunkRange(start=0, end=9, total=4000),
            body=io.BytesIO(b"x" * 10),
        )


def test_a_file_over_the_size_limit_is_refused_before_a_byte_is_sent(team, upload_dir, settings):
    settings.VIDEO_MAX_UPLOAD_BYTES = 5 * 1024 * 1024
    with pytest.raises(ValidationError, match="videos can be at most 5 MB") as caught:
        upload_session_start(membership=team.eddie, name="big.mp4", size=6 * 1024 * 1024)
    assert caught.value.code == "too_large"
    with pytest.raises(ValidationError, match="empty"):
        upload_session_start(membership=team.eddie, name="none.mp4", size=0)
    assert not VideoUploadSession.objects.exists()


def test_a_finished_file_that_is_no_video_fails_and_nothing_is_kept(team, upload_dir):
    junk = b"\x00\x00\x00\x18ftypmp42" + b"junk" * 500
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=len(junk))
    with pytest.raises(ValidationError, match="not a video we can read"):
        _send(team.eddie, session, junk, 0)
    session.refresh_from_db()
    assert session.status == UploadStatus.FAILED
    assert "not a video" in session.error
    assert not MediaAsset.objects.exists()
    assert list(upload_dir.iterdir()) == []
    with pytest.raises(ValidationError, match="not a video we can read"):
        _send(team.eddie, session, b"x", 0)


def test_another_organizations_session_is_not_found(team, upload_dir):
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=3000)
    with pytest.raises(Http404):
        upload_session_get_for_user(team.charlie, str(session.pk))
    with pytest.raises(Http404):
        _send(team.charlie, session, b"a" * 10, 0)
    with pytest.raises(Http404):
        upload_session_cancel(membership=team.charlie, session=session)
    with pytest.raises(Http404):
        upload_session_get_for_user(team.eddie, "not-a-uuid")


def test_a_cancelled_upload_loses_its_bytes_and_takes_no_more(
    team, upload_dir, django_capture_on_commit_callbacks
):
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=3000)
    session = _send(team.eddie, session, b"a" * 1000, 0)
    with django_capture_on_commit_callbacks(execute=True):
        upload_session_cancel(membership=team.eddie, session=session)
    assert not partial_path(session).exists()
    with pytest.raises(ValidationError, match="was cancelled"):
        _send(team.eddie, session, b"b" * 1000, 1000)
    with pytest.raises(ValidationError, match="no longer in progress"):
        upload_session_cancel(membership=team.eddie, session=session)


def test_abandoned_uploads_expire_and_their_files_go(team, upload_dir):
    left = upload_session_start(membership=team.eddie, name="left.mp4", size=3000)
    left = _send(team.eddie, left, b"a" * 1000, 0)
    with time_machine.travel(timezone.now() + timedelta(hours=12)):
        busy = upload_session_start(membership=team.eddie, name="busy.mp4", size=3000)
        busy = _send(team.eddie, busy, b"a" * 1000, 0)
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert upload_sessions_expire() == 1
        assert upload_sessions_expire() == 0  # a doubled tick does nothing more
        with pytest.raises(ValidationError, match="expired"):
            _send(team.eddie, left, b"b" * 1000, 1000)
    left.refresh_from_db()
    assert left.status == UploadStatus.EXPIRED
    assert not partial_path(left).exists()
    assert partial_path(busy).exists()
    with time_machine.travel(timezone.now() + timedelta(days=9)):
        upload_sessions_expire()
    # A week after it expired, the left one's row is gone too; the busy one just expired.
    remaining = VideoUploadSession.objects.values_list("original_name", "status")
    assert list(remaining) == [("busy.mp4", UploadStatus.EXPIRED)]
    assert list(upload_dir.iterdir()) == []


def test_content_range_is_read_strictly():
    assert parse_content_range("bytes 0-8388607/20000000") == ChunkRange(0, 8388607, 20000000)
    for bad in ("", "bytes */3000", "bytes 10-5/3000", "bytes 0-3000/3000", "0-10/20"):
        with pytest.raises(ValidationError, match="Content-Range"):
            parse_content_range(bad)


# --- the endpoints the page's script speaks to ------------------------------------------


def test_the_endpoints_take_a_video_in_chunks_and_point_at_its_page(
    client,
    login,
    team,
    upload_dir,
    videos,  # noqa: F811
):
    login(client, team.eddie.user)
    data = videos["landscape"].read_bytes()
    response = client.post(
        UPLOADS, {"video-name": "clip.mp4", "video-size": len(data), "video-alt_fi": "Video"}
    )
    assert response.status_code == 201, response.content
    state = response.json()
    assert (state["offset"], state["status"]) == (0, "open")
    url = state["url"]
    half = len(data) // 2
    response = client.put(
        url,
        data[:half],
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes 0-{half - 1}/{len(data)}"},
    )
    assert response.json()["offset"] == half
    # A chunk sent again after a lost answer: refused with where to go on from.
    response = client.put(
        url,
        data[:half],
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes 0-{half - 1}/{len(data)}"},
    )
    assert response.status_code == 409
    assert response.json()["offset"] == half
    assert "from byte" in response.json()["error"]
    assert client.get(url).json()["offset"] == half
    response = client.put(
        url,
        data[half:],
        content_type="application/octet-stream",
        headers={"Content-Range": f"bytes {half}-{len(data) - 1}/{len(data)}"},
    )
    assert response.status_code == 200
    asset = MediaAsset.objects.get()
    assert response.json()["location"] == f"/publishing/media/{asset.pk}/"
    page = client.get(response.json()["location"]).content.decode()
    assert "320" in page and "240" in page and "h264" in page.lower()


def test_the_endpoints_refuse_bad_input_clearly(client, login, team, upload_dir, settings):
    settings.VIDEO_MAX_UPLOAD_BYTES = 1024 * 1024
    login(client, team.eddie.user)
    response = client.post(UPLOADS, {"video-name": "big.mp4", "video-size": 2 * 1024 * 1024})
    assert response.status_code == 413
    assert "at most 1 MB" in response.json()["error"]
    url = client.post(UPLOADS, {"video-name": "a.mp4", "video-size": 100}).json()["url"]
    response = client.put(url, b"x" * 10, content_type="application/octet-stream")
    assert response.status_code == 400
    assert "Content-Range" in response.json()["error"]
    assert client.delete(url).json()["status"] == "cancelled"
    response = client.put(
        url,
        b"x" * 10,
        content_type="application/octet-stream",
        headers={"Content-Range": "bytes 0-9/100"},
    )
    assert response.status_code == 410
    assert "cancelled" in response.json()["error"]


def test_another_organizations_upload_is_a_404(client, login, team, upload_dir):
    session = upload_session_start(membership=team.eddie, name="clip.mp4", size=3000)
    login(client, team.charlie.user)
    url = f"{UPLOADS}{session.pk}/"
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    response = client.put(
        url,
        b"x" * 10,
        content_type="application/octet-stream",
        headers={"Content-Range": "bytes 0-9/3000"},
    )
    assert response.status_code == 404
    session.refresh_from_db()
    assert (session.received_bytes, session.status) == (0, UploadStatus.OPEN)
