"""An editor uploads a video into the media library in a real browser: the file goes in
chunks with a progress bar, survives a broken connection and a page reload (it resumes
from the server's offset, not from the start), and ends on the video's page with the
probe's findings and the per-network table; every page passes axe. A cancelled upload
leaves nothing behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from governance.models import Role
from publishing.models import MediaAsset, UploadStatus, VideoUploadSession
from publishing.tests.video_files import make_video
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHUNK = 16 * 1024


@pytest.fixture
def editor(settings: Any, tmp_path: Path) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.VIDEO_UPLOAD_DIR = str(tmp_path / "uploads")
    settings.VIDEO_UPLOAD_CHUNK_BYTES = CHUNK
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    return eeva


def _video(tmp_path: Path) -> Path:
    path = make_video(tmp_path / "avajaiset.mp4", seconds=4, size="640x360")
    assert path.stat().st_size > 6 * CHUNK  # several chunks
    return path


def test_a_video_upload_shows_progress_and_resumes_after_a_reload(
    page: Any, live_server: Any, editor: Any, tmp_path: Path
) -> None:
    video = _video(tmp_path)
    starts: list[int] = []
    broken = {"on": False}

    def chunks(route: Any) -> None:
        request = route.request
        if request.method == "PUT":
            if broken["on"]:
                route.abort("connectionreset")
                return
            starts.append(int(request.headers["content-range"].split()[1].split("-")[0]))
            if len(starts) == 3:
                broken["on"] = True  # the connection breaks after the third chunk
        route.continue_()

    page.route("**/publishing/media/uploads/*/", chunks)
    log_in(page, editor)
    visit(page, "/publishing/media/")
    form = page.locator("form[data-chunked-upload]")
    form.get_by_label("Video file").set_input_files(str(video))
    form.get_by_label("Alt text in Finnish").fill("Kirjaston avajaiset")
    form.get_by_role("button", name="Upload video").click()

    status = page.get_by_role("status")
    status.filter(has_text="The connection broke").wait_for()
    bar = page.get_by_role("progressbar", name="Upload progress")
    sent = int(bar.get_attribute("value") or 0)
    assert 0 < sent < 100
    assert f"({sent} %)" in page.locator("[data-progress-text]").inner_text()
    assert page.get_by_role("button", name="Cancel upload").is_visible()
    page.axe.check()  # the form with its progress bar and status showing

    # The person gives up waiting and reloads; the same file, chosen again, goes on.
    broken["on"] = False
    session = VideoUploadSession.objects.get()
    held = session.received_bytes
    assert held == 3 * CHUNK
    page.reload()
    settle(page)
    form.get_by_label("Video file").set_input_files(str(video))
    with page.expect_navigation(url="**/publishing/media/*/"):
        form.get_by_role("button", name="Upload video").click()
    settle(page)

    assert starts[:4] == [0, CHUNK, 2 * CHUNK, held]  # resumed at the offset, not at 0
    asset = MediaAsset.objects.get()
    assert Path(asset.file.path).read_bytes() == video.read_bytes()
    assert page.get_by_text("avajaiset.mp4 is in the library.").is_visible()
    assert page.get_by_text("640 \N{MULTIPLICATION SIGN} 360").first.is_visible()
    fits = page.get_by_role("table", name="Whether each network takes this video as it is")
    assert fits.get_by_role("row", name="YouTube").is_visible()
    session.refresh_from_db()
    assert session.status == UploadStatus.COMPLETE


def test_a_cancelled_upload_leaves_nothing_behind(
    page: Any, live_server: Any, editor: Any, tmp_path: Path
) -> None:
    video = _video(tmp_path)
    hold = {"on": False}

    def chunks(route: Any) -> None:
        if route.request.method == "PUT" and hold["on"]:
            route.abort("connectionreset")
            return
        if route.request.method == "PUT":
            hold["on"] = True  # one chunk goes; the rest wait on a broken connection
        route.continue_()

    page.route("**/publishing/media/uploads/*/", chunks)
    log_in(page, editor)
    visit(page, "/publishing/media/")
    page.get_by_label("Video file").set_input_files(str(video))
    page.get_by_role("button", name="Upload video").click()
    page.get_by_role("status").filter(has_text="The connection broke").wait_for()
    page.get_by_role("button", name="Cancel upload").click()
    page.get_by_role("status").filter(has_text="The upload was cancelled.").wait_for()
    assert not page.get_by_role("button", name="Cancel upload").is_visible()
    # The retry that was waiting when the person cancelled stays quiet.
    page.wait_for_timeout(2500)
    assert page.get_by_role("alert").filter(has_text="upload").count() == 0
    assert "cancelled" in page.locator("[data-progress-status]").inner_text()
    page.axe.check()
    session = VideoUploadSession.objects.get()
    assert session.status == UploadStatus.CANCELLED
    assert not any((Path(str(tmp_path / "uploads"))).glob("*.part"))
    assert not MediaAsset.objects.exists()
