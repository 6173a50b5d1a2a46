"""An editor triages and answers the simulated audience of a Sandbox account, in a real
browser: the inbox fills when she checks for new messages; she moves through it with
the keyboard, assigns an item to herself, tags it, answers it with a saved reply in
Swedish; a colleague sees that she is replying; a new message appears at the top of
the list without a reload, announced politely."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_otp.oath import totp

from accounts.connectors.base import PublishRequest
from accounts.connectors.registry import get_connector
from accounts.connectors.sandbox import simulate_audience
from accounts.models import ChannelAccount, SandboxPost
from governance.models import Role, TOTPDevice, User
from inbox.models import InboxItem, ItemStatus, Reply, ReplyStatus, SavedReply
from inbox.services import inbox_sync_account
from inbox.text import SIGNATURE_DASH as DASH
from tests.browser.conftest import AxeTracker, settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SWEDISH = "Hej {author}! Tack för ditt meddelande. Vi svarar så snart vi kan. /{organization}"


def log_in(page: Any, user: User) -> None:
    device: TOTPDevice = TOTPDeviceFactory.create(user=user)
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def test_triage_and_answer_with_a_swedish_saved_reply(page, browser, live_server):
    org = OrganizationFactory.create(name="Esimerkkilä", slug="esimerkkila")
    bertta = UserFactory.create(email="bertta@esimerkkila.example", full_name="Bertta Berg")
    colleague = UserFactory.create(email="kalle@esimerkkila.example", full_name="Kalle Manager")
    MembershipFactory.create(organization=org, user=bertta, role=Role.EDITOR)
    MembershipFactory.create(organization=org, user=colleague, role=Role.MANAGER)
    account: ChannelAccount = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="esimerkkila-news", display_name="News"
    )
    get_connector("sandbox").publish(
        account, PublishRequest(text="The swimming hall is closed this week.")
    )
    activity = simulate_audience(account, seed="inbox-drill", actions=8, mood="crisis")
    expected = activity.replies + activity.mentions + activity.messages + activity.quotes
    assert expected >= 3
    SavedReply.objects.create(organization=org, title="Tack", language="sv", body=SWEDISH)

    log_in(page, bertta)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    page.get_by_role("button", name="Check for new messages now").click()
    settle(page)
    assert page.get_by_text(f"{expected} new items.").is_visible()
    links = page.locator("#inbox-rows [data-inbox-item-link]")
    assert links.count() == expected

    # In the list (Tab reaches its scroll region first) j moves to the first item, j
    # again to the second, k back up; Enter opens it.
    page.get_by_role("region", name="Newest first.").focus()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == links.first.get_attribute("href")
    # On a wide screen the item opens beside the list, at its own address.
    page.keyboard.press("Enter")
    item = InboxItem.objects.get(pk=int(focused.strip("/").split("/")[-1]))
    page.locator("#inbox-pane").get_by_role("heading", level=2).wait_for()
    heading = page.locator("#inbox-pane").get_by_role("heading", level=2).first.inner_text()
    assert heading.endswith(f"from {item.author_name}")
    assert page.url.endswith(f"/inbox/{item.pk}/")
    page.axe.check()

    # Triage: take it, tag it.
    page.get_by_role("button", name="Assign to me").click()
    settle(page)
    assert page.get_by_text("Assigned to Bertta Berg.").is_visible()
    page.get_by_label("Tags").fill("Uimahalli, Crisis drill")
    page.get_by_role("button", name="Save tags").click()
    settle(page)
    item.refresh_from_db()
    assert (item.status, item.assignee) == (ItemStatus.ASSIGNED, bertta)
    assert sorted(tag.name for tag in item.tags.all()) == ["Crisis drill", "Uimahalli"]

    # The saved reply fills the box, names filled in; the colleague sees her replying.
    page.get_by_label("Saved reply").select_option(label="Tack (Swedish)")
    box = page.get_by_label("Your reply")
    assert box.input_value() == (
        f"Hej {item.author_name}! Tack för ditt meddelande. Vi svarar så snart vi kan. /Esimerkkilä"
    )
    box.focus()
    colleague_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    colleague_page = colleague_context.new_page()
    colleague_page.axe = AxeTracker(colleague_page)
    log_in(colleague_page, colleague)
    visit(colleague_page, f"/inbox/{item.pk}/")
    colleague_page.get_by_text("Bertta is replying…").wait_for()
    colleague_page.axe.check()
    colleague_context.close()

    page.get_by_role("button", name="Send reply").click()
    settle(page)
    assert page.get_by_text("Your reply was sent.").is_visible()
    assert page.get_by_text("Our reply, by Bertta Berg").is_visible()
    reply = Reply.objects.get(item=item)
    assert (reply.status, reply.language) == (ReplyStatus.SENT, "sv")
    sent = SandboxPost.objects.get(remote_id=reply.remote_id)
    assert sent.in_reply_to is not None and sent.in_reply_to.remote_id == item.remote_id
    assert sent.text.endswith(f"/Esimerkkilä\n\n{DASH} Bertta")
    item.refresh_from_db()
    assert item.status == ItemStatus.ANSWERED

    # Back to the list (u); a new message arrives and is shown without a reload.
    page.clock.install()
    page.locator("#item-heading").focus()
    with page.expect_navigation():
        page.keyboard.press("u")
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    SandboxPost.objects.create(
        account=account,
        remote_id="sbx_drill_new_message",
        is_own=False,
        author_handle="oskar.nyberg",
        author_name="Oskar Nyberg",
        text="Is the outdoor pool open instead?",
    )
    inbox_sync_account(
        account=ChannelAccount.objects.select_related("organization").get(pk=account.pk)
    )
    page.clock.fast_forward(11_000)
    first_row = page.locator("#inbox-rows tr").first
    first_row.get_by_role("link", name="Oskar Nyberg").wait_for()
    assert page.locator("#inbox-rows [data-inbox-item-link]").count() == expected + 1
    assert page.locator("#inbox-announcer").inner_text() == "1 new item in the inbox."
    assert re.search(r"Answered", page.locator("#inbox-rows").inner_text())
    page.axe.check()


def test_a_manager_sets_the_inbox_rules_and_approves_a_reply(page, browser, live_server):
    org = OrganizationFactory.create(name="Esimerkkilä", slug="esimerkkila")
    mia = UserFactory.create(email="mia@esimerkkila.example", full_name="Mia Manager")
    eero = UserFactory.create(email="eero@esimerkkila.example", full_name="Eero Editor")
    MembershipFactory.create(organization=org, user=mia, role=Role.MANAGER)
    MembershipFactory.create(organization=org, user=eero, role=Role.EDITOR)
    account: ChannelAccount = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="esimerkkila-crisis"
    )

    log_in(page, mia)
    visit(page, "/inbox/settings/")
    page.get_by_label("Saturday").check()
    page.get_by_label("answer within (working hours)", exact=False).first.fill("4")
    page.get_by_role("button", name="Save the response policy").click()
    settle(page)
    assert page.get_by_text("Response policy saved.").is_visible()
    page.get_by_label("The organization's name").check()
    page.get_by_label("esimerkkila-crisis", exact=False).check()
    page.get_by_role("button", name="Save the reply rules").click()
    settle(page)
    assert page.get_by_text("Reply rules saved.").is_visible()

    visit(page, "/inbox/priority-words/")
    page.get_by_label("Word or phrase").fill("tulva")
    page.get_by_label("Also match longer forms").check()
    page.get_by_label("Raise priority to").select_option(label="Urgent")
    page.get_by_role("button", name="Add").click()
    settle(page)
    assert page.get_by_role("cell", name="tulva", exact=True).is_visible()

    visit(page, "/inbox/saved-replies/")
    page.get_by_label("Title").fill("Tulvatiedote")
    page.get_by_role("main").get_by_label("Language").select_option("fi")
    page.get_by_label("Text").fill("Hei {author}, tilannekuva päivittyy sivuillamme.")
    page.get_by_role("button", name="Add").click()
    settle(page)
    assert page.get_by_role("cell", name="Tulvatiedote", exact=True).is_visible()

    # An editor answers a flood message: urgent on arrival, held for approval.
    SandboxPost.objects.create(
        account=account,
        remote_id="sbx_flood_question",
        is_own=False,
        author_handle="leena.korhonen",
        author_name="Leena Korhonen",
        text="Tulvan takia tie on poikki, mitä teen?",
    )
    inbox_sync_account(
        account=ChannelAccount.objects.select_related("organization").get(pk=account.pk)
    )
    item = InboxItem.objects.get(remote_id="sbx_flood_question")
    assert item.priority == 3 and item.matched_words == ["tulva"]

    editor_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    editor = editor_context.new_page()
    editor.axe = AxeTracker(editor)
    log_in(editor, eero)
    visit(editor, f"/inbox/{item.pk}/")
    editor.get_by_label("Saved reply").select_option(label="Tulvatiedote (Finnish)")
    editor.get_by_role("button", name="Send for approval").click()
    settle(editor)
    assert editor.get_by_text("Your reply waits for approval").is_visible()
    editor_context.close()

    visit(page, "/inbox/approvals/")
    page.get_by_label("Comment (optional)").fill("Hyvä.")
    page.get_by_role("button", name="Approve and send").click()
    settle(page)
    assert page.get_by_text("Approved and sent.").is_visible()
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT
    assert SandboxPost.objects.get(remote_id=reply.remote_id).text == (
        f"Hei Leena Korhonen, tilannekuva päivittyy sivuillamme.\n\n{DASH} Esimerkkilä"
    )
