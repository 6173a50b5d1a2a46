"""An editor leaves, in a real browser: the admin deactivates them, finds the handover
case listing their scheduled post, their inbox item and their registry role, gives
everything to a manager, signs the case off and finds it all in the audit log. And the
records pages: a retention rule, a legal hold, an export whose progress bar follows the
worker until the zip can be downloaded."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp

from governance.models import (
    AuditEvent,
    HandoverCase,
    HandoverStatus,
    RecordsExport,
    RegistryEntry,
    Role,
    TOTPDevice,
)
from governance.services.records import records_export_build
from governance.tests.handover_setup import scheduled_post
from governance.tests.records_setup import published
from inbox.models import InboxItem, ItemKind, ItemStatus
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user) -> None:
    """Password, then the code the person's authenticator app shows."""
    device: TOTPDevice = TOTPDeviceFactory.create(user=user)
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def test_an_editor_leaves_and_everything_they_hold_is_handed_over(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    manny = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="manny@example.org", full_name="Manny Manager"),
        role=Role.MANAGER,
    )
    rita = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="rita@example.org", full_name="Rita Reviewer"),
        role=Role.REVIEWER,
    )
    bob = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="bob@example.org", full_name="Bob Editor"),
        role=Role.EDITOR,
    )
    account = ChannelAccountFactory.create(organization=org, handle="city-news")
    post = scheduled_post(bob, rita, account, "Library opening hours")
    entry = RegistryEntry.objects.create(
        organization=org,
        network="facebook",
        handle="CityOfExample",
        business_owner=bob,
        next_review_due=date.today() + timedelta(days=90),
    )
    item = InboxItem.objects.create(
        organization=org,
        channel_account=account,
        network="sandbox",
        remote_id="sandbox-1",
        kind=ItemKind.MENTION,
        author_handle="resident",
        author_name="A Resident",
        text="When does the library open?",
        posted_at=timezone.now() - timedelta(hours=2),
        thread_key="sandbox-1",
        status=ItemStatus.ASSIGNED,
        assignee=bob.user,
        assigned_at=timezone.now() - timedelta(hours=1),
    )

    log_in(page, alice)

    # Bob leaves: the admin deactivates him.
    visit(page, f"/governance/members/{bob.pk}/")
    page.get_by_role("link", name="Deactivate…").click()
    settle(page)
    page.get_by_role("button", name="Deactivate Bob Editor").click()
    settle(page)

    # The handover case lists what he holds.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Governance").click()
    settle(page)
    page.get_by_role("main").get_by_role("link", name="Handover", exact=True).click()
    settle(page)
    page.get_by_role("link", name="Bob Editor").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Handover of Bob Editor"
    main = page.get_by_role("main")
    assert main.get_by_role("link", name="Library opening hours").is_visible()
    assert main.get_by_text("CityOfExample (Facebook)").first.is_visible()
    assert main.get_by_text("Message from").first.is_visible()
    assert main.get_by_text("Not assigned yet").count() == 3

    # Sign-off is refused while anything is left.
    page.get_by_role("button", name="Sign off the handover").click()
    settle(page)
    assert "3 items still need a new holder" in page.locator("#sign-off-error").inner_text()

    # Everything goes to Manny, in one go.
    for checkbox in page.locator("input[name=items]").all():
        checkbox.check()
    page.get_by_label("Assign all selected to").select_option(label="Manny Manager (Manager)")
    page.get_by_role("button", name="Assign selected").click()
    settle(page)
    assert page.get_by_text("3 items given to Manny Manager.").is_visible()
    assert page.get_by_text("Not assigned yet").count() == 0

    page.get_by_label("Notes").fill("Bob's work is with Manny.")
    page.get_by_role("button", name="Sign off the handover").click()
    settle(page)
    assert page.get_by_text("Handover signed off.").is_visible()

    case = HandoverCase.objects.get(membership=bob)
    assert case.status == HandoverStatus.SIGNED_OFF
    post.refresh_from_db()
    entry.refresh_from_db()
    item.refresh_from_db()
    assert post.created_by == manny.user
    assert entry.business_owner == manny
    assert item.assignee == manny.user

    # The audit log shows it all.
    visit(page, "/governance/audit/")
    page.locator("#id_action").select_option("handover.items_reassigned")
    page.locator("form.audit-filters button[type=submit]").click()
    settle(page)
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "Gave a leaving member's items to a new holder" in rows.first.inner_text()
    visit(page, "/governance/audit/")
    page.locator("#id_action").select_option("handover.case_signed_off")
    page.locator("form.audit-filters button[type=submit]").click()
    settle(page)
    assert re.search("Signed off a handover", page.locator("table tbody").inner_text())
    actions = set(AuditEvent.objects.filter(organization=org).values_list("action", flat=True))
    assert {
        "member.deactivated",
        "handover.case_opened",
        "handover.items_reassigned",
        "post.author_changed",
        "registry.entry_updated",
        "handover.case_signed_off",
    } <= actions


def test_records_rule_hold_and_an_export_with_its_progress_bar(page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    account = ChannelAccountFactory.create(organization=org, handle="city-news")
    published(account, alice, 3, "Library opening hours")

    log_in(page, alice)
    visit(page, "/governance/records/")
    assert page.get_by_text("Audit entries are never deleted.").is_visible()
    page.get_by_role("combobox", name="Record type").select_option(label="Published posts")
    page.get_by_label("Keep for (days)").fill("365")
    page.get_by_label("Then").select_option("delete")
    page.get_by_role("button", name="Save the rule").click()
    settle(page)
    assert page.get_by_text("Retention rule for Published posts saved.").is_visible()

    page.get_by_role("navigation", name="Records").get_by_role("link", name="Legal holds").click()
    settle(page)
    page.get_by_label("Name").fill("Complaint 17")
    page.get_by_label("Reason").fill("A complaint about the news account.")
    page.get_by_role("group", name="Record types").get_by_label("Published posts").check()
    page.get_by_role("button", name="Place the hold").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Legal hold: Complaint 17"

    visit(page, "/governance/records/exports/")
    page.get_by_label("Request reference").fill("FOI 2024/88")
    page.get_by_role("group", name="Record types").get_by_label("Published posts").check()
    page.get_by_role("button", name="Build the export").click()
    settle(page)
    assert page.get_by_role("status").filter(has_text="Waiting for a worker").is_visible()
    assert page.locator("progress#export-progress-bar").get_attribute("value") == "0"

    # The worker builds it; the page's progress bar follows by polling.
    export = RecordsExport.objects.get(reference="FOI 2024/88")
    records_export_build(export_id=export.pk)
    download_link = page.get_by_role("link", name="Download the zip file")
    download_link.wait_for()
    assert page.locator("#export-status").inner_text() == "The export is ready: download it below."
    assert page.locator("progress#export-progress-bar").get_attribute("value") == "100"
    page.axe.check()
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename.endswith(".zip")
    assert AuditEvent.objects.filter(action="records.export_downloaded").count() == 1
