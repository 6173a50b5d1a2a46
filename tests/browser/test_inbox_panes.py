"""The inbox as a comms team uses it every day, in a real browser.

At 1366x900 an editor answers three citizens from the two-pane view: each item opens
beside the list without a page load, at its own address (back and forward work), with
its reply box in the first screenful; she keeps an internal note on one. At 390x844
the list and the conversation are separate pages, and she answers from her phone.
Every page is checked with axe."""

from __future__ import annotations

import re
from typing import Any

import pytest

from accounts.models import ChannelAccount, SandboxPost
from governance.models import Role
from inbox.models import InboxItem, InboxNote, Reply, ReplyStatus
from inbox.services import inbox_sync_account
from inbox.tests.helpers import citizen_writes, publish_sandbox
from tests.browser.conftest import settle, visit
from tests.browser.test_inbox import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CITIZENS = [
    ("aino.virtanen", "Aino Virtanen", "When does the swimming hall open again?"),
    ("erik.lind", "Erik Lind", "Is the road to the harbour closed today?"),
    ("sanna.ek", "Sanna Ek", "Who do I call about the broken street light?"),
]


def _inbox_with_three_citizens(user_role: str = Role.EDITOR) -> tuple[Any, ChannelAccount]:
    org = OrganizationFactory.create(name="Esimerkkilä", slug="esimerkkila")
    bertta = UserFactory.create(email="bertta@esimerkkila.example", full_name="Bertta Berg")
    MembershipFactory.create(organization=org, user=bertta, role=user_role)
    account: ChannelAccount = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="esimerkkila-news", display_name="News"
    )
    post = publish_sandbox(account, "The swimming hall is closed this week.")
    for handle, name, text in CITIZENS:
        citizen_writes(account, text, handle=handle, name=name, reply_to=post)
    inbox_sync_account(
        account=ChannelAccount.objects.select_related("organization").get(pk=account.pk)
    )
    return bertta, account


def _in_first_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_three_citizens_answered_from_the_two_pane_inbox(page, live_server):
    bertta, _account = _inbox_with_three_citizens()
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, bertta)
    visit(page, "/inbox/")
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"
    # Bulk actions wait until something is selected; filters are one line.
    bulk = page.locator("[data-inbox-bulk]")
    assert bulk.is_hidden()
    page.locator("#inbox-rows [data-inbox-select]").first.check()
    assert bulk.is_visible()
    page.locator("#inbox-rows [data-inbox-select]").first.uncheck()
    assert bulk.is_hidden()
    assert page.get_by_text("Filters and views").is_visible()
    assert page.locator("#filter_status").is_hidden()
    # The page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    answered: list[str] = []
    for index, (_handle, name, _text) in enumerate(CITIZENS):
        item = InboxItem.objects.get(author_name=name)
        page.locator("#inbox-rows").get_by_role("link", name=name).click()
        heading = page.get_by_role("heading", name=f"Reply from {name}")
        heading.wait_for()
        # Opened beside the list, at the item's own address, without a page load.
        assert page.url.endswith(f"/inbox/{item.pk}/")
        assert page.locator("#inbox-rows").is_visible()
        assert page.title().startswith(f"Reply from {name}")
        assert page.evaluate("document.activeElement.id") == "item-heading"
        box = page.get_by_label("Your reply")
        assert _in_first_viewport(page, box), "the reply box is below the first screenful"
        assert _in_first_viewport(page, page.get_by_role("button", name="Send reply"))
        page.axe.check()
        if index == 0:
            assert not loads, "opening an item reloaded the page"
        box.fill(f"Thank you, {name.split()[0]}: we will answer by Friday.")
        page.get_by_role("button", name="Send reply").click()
        settle(page)
        assert page.get_by_text("Your reply was sent.").is_visible()
        answered.append(name)
        # After the reply the item's full page shows both panes, at 1366 px too.
        assert page.locator("#inbox-rows").is_visible()
        visit(page, "/inbox/")
    replies = Reply.objects.filter(status=ReplyStatus.SENT).select_related("item")
    assert sorted(reply.item.author_name for reply in replies) == sorted(answered)
    for reply in replies:
        sent = SandboxPost.objects.get(remote_id=reply.remote_id)
        assert sent.in_reply_to is not None and sent.in_reply_to.remote_id == reply.item.remote_id

    # Back and forward move between opened items; each address opens its own item.
    first = InboxItem.objects.get(author_name=CITIZENS[0][1])
    second = InboxItem.objects.get(author_name=CITIZENS[1][1])
    page.locator("#inbox-rows").get_by_role("link", name=CITIZENS[0][1]).click()
    page.get_by_role("heading", name=f"Reply from {CITIZENS[0][1]}").wait_for()
    page.locator("#inbox-rows").get_by_role("link", name=CITIZENS[1][1]).click()
    page.get_by_role("heading", name=f"Reply from {CITIZENS[1][1]}").wait_for()
    assert page.url.endswith(f"/inbox/{second.pk}/")
    page.go_back()
    page.get_by_role("heading", name=f"Reply from {CITIZENS[0][1]}").wait_for()
    assert page.url.endswith(f"/inbox/{first.pk}/")
    page.go_forward()
    page.get_by_role("heading", name=f"Reply from {CITIZENS[1][1]}").wait_for()
    page.axe.check()

    # j/k: in the list they move between items; Enter opens one beside it.
    page.locator("#inbox-rows [data-inbox-item-link]").first.focus()
    page.keyboard.press("j")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    links = page.locator("#inbox-rows [data-inbox-item-link]")
    assert focused == links.nth(1).get_attribute("href")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    newest = InboxItem.objects.order_by("-posted_at", "-pk").first()
    assert newest is not None
    page.get_by_role("heading", name=f"Reply from {newest.author_name}").wait_for()

    # An internal note: kept for the team, shown in the conversation, never sent.
    posts = SandboxPost.objects.count()
    page.get_by_role("textbox", name="Internal note").fill("Forwarded to the sports office.")
    page.get_by_role("button", name="Save note").click()
    settle(page)
    assert page.get_by_text("Note saved. Only your team sees it.").is_visible()
    assert page.locator("#notes").get_by_text("Forwarded to the sports office.").is_visible()
    assert InboxNote.objects.get().item == newest
    assert SandboxPost.objects.count() == posts


def test_on_a_phone_the_list_and_the_conversation_are_separate_pages(page, live_server):
    bertta, _account = _inbox_with_three_citizens()
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, bertta)
    visit(page, "/inbox/")
    assert page.locator("#inbox-pane").is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    name = CITIZENS[1][1]
    item = InboxItem.objects.get(author_name=name)
    with page.expect_navigation():
        page.locator("#inbox-rows").get_by_role("link", name=name).click()
    settle(page)
    assert page.url.endswith(f"/inbox/{item.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Reply from {name}"
    assert page.locator("#inbox-rows").is_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = page.get_by_label("Your reply")
    box.fill("Yes, until 16:00. Sorry for the trouble!")
    page.get_by_role("button", name="Send reply").click()
    settle(page)
    assert page.get_by_text("Your reply was sent.").is_visible()
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT
    assert re.match(r"Yes, until 16:00\.", SandboxPost.objects.get(remote_id=reply.remote_id).text)
    with page.expect_navigation():
        page.get_by_role("link", name="Back to the inbox").click()
    settle(page)
    assert page.locator("#inbox-rows").is_visible()
