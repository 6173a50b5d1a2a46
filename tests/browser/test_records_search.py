"""A records officer, in a real browser: finds by a Finnish word a comment its author
deleted from one of our posts last month, opens the post with its versions, and exports
the result with the progress bar following the build. Every page passes axe."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from archive.models import ArchiveCursor
from archive.services.archive import archive_sync_account
from governance.models import RecordsExport, Role
from governance.services.records import records_export_build
from tests.browser.conftest import settle, visit
from tests.browser.test_inbox import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMMENT = "Uimahallin kassajono oli taas aivan liian pitkä"


def test_a_deleted_comment_found_by_a_finnish_word_and_exported(
    page, live_server, mastodon_server, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    server = mastodon_server
    org = OrganizationFactory.create(name="Esimerkkilä", slug="esimerkkila")
    officer = UserFactory.create(email="riitta@esimerkkila.example", full_name="Riitta Records")
    MembershipFactory.create(organization=org, user=officer, role=Role.MANAGER)
    account = ChannelAccountFactory.create(
        organization=org,
        network="mastodon",
        handle="@comms@social.example",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
    )
    with time_machine.travel(timezone.now() - timedelta(days=35), tick=True):
        post = server.post_as(server.user, "Uimahalli avataan maanantaina.")
        post.language = "fi"
        citizen = server.create_account("aino", "Aino Virtanen")
        comment = server.post_as(citizen, COMMENT, in_reply_to=post.id)
        comment.language = "fi"
        archive_sync_account(account=account)
    server.delete_as(comment)
    ArchiveCursor.objects.filter(channel_account=account).update(next_sync_at=None)
    archive_sync_account(account=account)

    log_in(page, officer)
    visit(page, "/inbox/records/")
    page.get_by_label("Words").fill("uimahalli")
    page.get_by_label("Kind of record").select_option(label="Comment on our post")
    page.get_by_role("button", name="Search").click()
    settle(page)
    assert page.get_by_role("status").inner_text().startswith("1 record found.")
    result = page.locator(".records-result")
    assert COMMENT in result.inner_text()
    assert "Deleted on the network" in result.inner_text()

    result.get_by_role("link", name="Open the record").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Post by @comms@social.example"
    assert page.get_by_text(COMMENT).is_visible()
    assert page.get_by_role("link", name="Download the post as it looked (PDF)").is_visible()
    page.go_back()
    settle(page)

    page.get_by_label("Request reference").fill("TPA 2026/17")
    page.get_by_role("button", name="Export the results").click()
    settle(page)
    assert page.locator("progress#export-progress-bar").get_attribute("value") == "0"
    export = RecordsExport.objects.get(reference="TPA 2026/17")
    records_export_build(export_id=export.pk)
    download_link = page.get_by_role("link", name="Download the zip file")
    download_link.wait_for()
    assert page.locator("progress#export-progress-bar").get_attribute("value") == "100"
    page.axe.check()
