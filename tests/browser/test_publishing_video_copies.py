"""An editor asks for a 9:16 copy of a landscape video for Instagram Reels, in a real
browser: the button sits beside the per-network table, the progress bar follows the
worker's ffmpeg (polled with htmx), the page passes axe, and the finished copy is offered."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.files.base import File
from django.db import connection

from governance.models import Role
from publishing.models import VideoCopyJob, VideoCopyStatus
from publishing.services.video import media_video_upload
from publishing.services.video_copies import video_copy_run
from publishing.tests.video_files import make_video
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_makes_a_9_16_copy_and_watches_its_progress(
    page: Any, live_server: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    editor = MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    # Long enough that ffmpeg reports progress before it ends.
    path = make_video(tmp_path / "kirjasto.mp4", seconds=20, size="640x360")
    with path.open("rb") as handle:
        video = media_video_upload(membership=editor, file=File(handle, name="kirjasto.mp4"))

    log_in(page, eeva)
    visit(page, f"/publishing/media/{video.pk}/")
    reels = page.locator("tr[data-network='instagram']")
    assert "Instagram Reels needs a 9:16 crop." in reels.inner_text()
    copies = page.locator("#copies")
    copies.get_by_label("Crop the middle to 9:16 (Instagram Reels, TikTok)").check()
    copies.get_by_role("button", name="Make a compatible copy").click()
    settle(page)
    assert page.get_by_text("The copy is being made.").is_visible()
    bar = page.get_by_role("progressbar", name="Compatible copy (H.264/AAC MP4), cropped to 9:16")
    assert bar.get_attribute("value") == "0"
    assert (
        page.get_by_role("status").filter(has_text="The copy is waiting for the worker.").count()
        == 1
    )

    # The worker: real ffmpeg, held at its first report until the page has shown it.
    job = VideoCopyJob.objects.get()
    first: list[int] = []
    shown = threading.Event()

    def worker() -> None:
        def hold(percent: int) -> None:
            if not first:
                first.append(percent)
                shown.wait(60)

        try:
            video_copy_run(job_id=job.pk, on_progress=hold)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        page.wait_for_function(
            "() => !!document.querySelector('progress[value]:not([value=\"0\"])')", timeout=30_000
        )
        percent = first[0]
        assert bar.get_attribute("value") == str(percent)
        assert page.get_by_text(f"{percent} % done", exact=True).is_visible()
        said = page.locator("[role=status][id$='-said']")
        assert said.inner_text() == f"Making the copy: {percent // 10 * 10} % done."
        page.axe.check()  # the page with the progress bar running
    finally:
        shown.set()
        thread.join(120)

    # When the worker is done, the next poll reloads the page with the copy on it.
    page.wait_for_selector("text=The copy is ready", timeout=30_000)
    page.axe.check()
    job.refresh_from_db()
    assert job.status == VideoCopyStatus.DONE
    page.get_by_role("link", name=f"Open {job.result}").click()
    settle(page)
    assert page.get_by_text("This video is a copy of").is_visible()
    assert page.locator("dd", has_text="9:16").count() == 1
