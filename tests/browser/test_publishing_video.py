"""An editor uploads a video into the media library, watches the progress bar, and reads on
the video's page whether each network takes it and what to change. Checked with axe."""

from __future__ import annotations

from typing import Any

import pytest

from governance.models import Role
from publishing.models import MediaAsset
from publishing.tests.video_files import videos  # noqa: F401 - a fixture
from tests.browser.conftest import settle, visit
from tests.browser.test_analytics import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_uploads_a_video_and_sees_where_it_fits(
    page: Any,
    videos: dict,  # noqa: F811
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eddie = UserFactory.create(email="eddie@example.org", full_name="Eddie Editor")
    MembershipFactory.create(organization=org, user=eddie, role=Role.EDITOR)
    log_in(page, eddie)

    visit(page, "/publishing/media/")
    upload = page.get_by_role("region", name="Upload a video")
    progress = page.get_by_label("Upload progress")
    assert not progress.is_visible()
    upload.get_by_label("Video file").set_input_files(str(videos["landscape"]))
    upload.get_by_label("Alt text in Finnish").fill("Kirjaston avajaiset")
    upload.get_by_role("button", name="Upload video").click()
    page.wait_for_url("**/publishing/media/*/")
    settle(page)

    asset = MediaAsset.objects.get()
    assert asset.is_video and asset.alt_text_for("fi") == "Kirjaston avajaiset"
    assert page.get_by_text("landscape.mp4 is in the library.").is_visible()
    table = page.get_by_role("table", name="Whether each network takes this video as it is")
    reels = table.get_by_role("row", name="Instagram Reels")
    assert "No" in reels.inner_text()
    assert "Instagram Reels needs a 9:16 crop." in reels.inner_text()
    assert "Yes" in table.get_by_role("row", name="Bluesky").inner_text()
    assert page.locator("video").get_attribute("poster") == f"/publishing/media/{asset.pk}/poster/"

    # Finnish captions, from an SRT file; the transcript is shown with the video.
    srt = tmp_path / "fi.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nTervetuloa kirjastoon.\n")
    captions = page.get_by_role("region", name="Captions")
    captions.get_by_label("Language").select_option("fi")
    captions.get_by_label("Caption file").set_input_files(str(srt))
    captions.get_by_role("button", name="Upload captions").click()
    settle(page)
    assert page.get_by_text("Captions in Finnish saved.").is_visible()
    page.get_by_text("Transcript in Finnish").click()
    assert page.get_by_text("Tervetuloa kirjastoon.").is_visible()

    # A file that is no video: the error is next to the field, on the library page again.
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"not a film at all")
    visit(page, "/publishing/media/")
    page.get_by_label("Video file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload video").click()
    page.get_by_text("This file is not a video we can read.").wait_for()
    settle(page)
    assert MediaAsset.objects.count() == 1
