"""WCAG 2.1.4 Character key shortcuts: the inbox's single-key shortcuts act only while
focus is in the list or the open item, and a person can turn them off on their profile
page, after which no key does anything but what the browser does with it."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.models import InboxItem
from tests.browser.conftest import settle, visit
from tests.browser.test_inbox import log_in
from tests.browser.test_inbox_panes import CITIZENS, _inbox_with_three_citizens

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1366, "height": 900}


def focused_href(page: Any) -> str | None:
    return page.evaluate("document.activeElement.getAttribute('href')")


def test_shortcuts_act_only_with_focus_in_the_list_or_the_item(page):
    bertta, _account = _inbox_with_three_citizens()
    page.set_viewport_size(WIDE)
    log_in(page, bertta)
    visit(page, "/inbox/")
    links = page.locator("#inbox-rows [data-inbox-item-link]")

    # On a button in the header, j is just a key: focus stays, nothing opens.
    logout = page.get_by_role("button", name="Log out")
    logout.focus()
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Log out"
    assert page.locator("[data-inbox-select]:checked").count() == 0
    assert page.url.endswith("/inbox/")

    # In the list j and k move between items and x selects one.
    links.first.focus()
    page.keyboard.press("j")
    assert focused_href(page) == links.nth(1).get_attribute("href")
    page.keyboard.press("x")
    assert page.locator("[data-inbox-select]:checked").count() == 1
    page.keyboard.press("k")
    assert focused_href(page) == links.first.get_attribute("href")

    # On the item's own page u goes back to the inbox only from inside the item.
    newest = InboxItem.objects.get(author_name=CITIZENS[-1][1])
    visit(page, f"/inbox/{newest.pk}/")
    page.get_by_role("button", name="Log out").focus()
    page.keyboard.press("u")
    page.keyboard.press("r")
    assert page.url.endswith(f"/inbox/{newest.pk}/")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Log out"
    page.locator("#item-heading").focus()
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.hasAttribute('data-inbox-reply-box')")
    page.locator("#item-heading").focus()
    with page.expect_navigation():
        page.keyboard.press("u")
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Inbox"


def test_a_person_turns_the_shortcuts_off_on_their_profile(page):
    bertta, _account = _inbox_with_three_citizens()
    page.set_viewport_size(WIDE)
    log_in(page, bertta)
    visit(page, "/me/")
    shortcuts = page.get_by_label("Keyboard shortcuts")
    assert shortcuts.is_checked()
    shortcuts.uncheck()
    page.get_by_role("button", name="Save profile").click()
    settle(page)
    assert page.get_by_text("Your profile was saved.").is_visible()
    assert not page.get_by_label("Keyboard shortcuts").is_checked()
    bertta.refresh_from_db()
    assert bertta.keyboard_shortcuts is False

    visit(page, "/inbox/")
    assert page.locator("[data-inbox-shortcuts]").get_attribute("data-inbox-shortcuts") == "off"
    links = page.locator("#inbox-rows [data-inbox-item-link]")
    links.first.focus()
    for key in ("j", "ArrowDown", "x"):
        page.keyboard.press(key)
    assert focused_href(page) == links.first.get_attribute("href")
    assert page.locator("[data-inbox-select]:checked").count() == 0
    page.get_by_text("Keyboard shortcuts", exact=True).click()
    assert page.get_by_text("Keyboard shortcuts are off.").is_visible()

    # Turned on again, they work in the list.
    visit(page, "/me/")
    page.get_by_label("Keyboard shortcuts").check()
    page.get_by_role("button", name="Save profile").click()
    settle(page)
    visit(page, "/inbox/")
    links.first.focus()
    page.keyboard.press("j")
    assert focused_href(page) == links.nth(1).get_attribute("href")
