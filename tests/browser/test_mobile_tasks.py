"""Three jobs done on a phone (390x844), end to end: a manager approves a post from the
Today page, an editor answers a citizen from the inbox, and a manager turns on the
crisis pause. On every page: no sideways scrolling, nothing reaches past the window's
edge, the controls the job needs are big enough to tap (44 px), and axe finds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import SandboxPost
from governance.models import Role
from inbox.models import InboxItem, Reply, ReplyStatus
from publishing.models import PostStatus, PublishingPause
from publishing.services.posts import post_create, post_submit_for_review, variant_save
from tests.browser.conftest import settle, visit
from tests.browser.test_analytics import log_in
from tests.browser.test_inbox_panes import CITIZENS, _inbox_with_three_citizens
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TAP = 44
# Regions that scroll sideways on their own (wide tables, the calendar's grid).
SCROLLS_ITSELF = (
    ".table-scroll, .calendar-scroll, .visually-hidden, svg, details:not([open]), [hidden]"
)
CONTROLS = ", ".join(
    f"main {control}"
    for control in (
        "button",
        ".button",
        "select",
        "textarea",
        "input:not([type=hidden]):not([type=checkbox]):not([type=radio])",
    )
)


def fits_the_phone(page: Any) -> None:
    """No sideways scrolling, and nothing in the page's content is cut off at the right
    edge (wide tables and the calendar's grid scroll inside their own region)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    widest = page.evaluate(
        """(skip) => {
            const width = document.documentElement.clientWidth;
            const out = [...document.querySelectorAll('main *')]
              .filter(e => !e.closest(skip) && e.getClientRects().length)
              .filter(e => e.getBoundingClientRect().right > width + 0.5)
              .map(e => e.tagName + '.' + e.className + ': ' + (e.innerText || '').slice(0, 40));
            return out.slice(0, 5);
        }""",
        SCROLLS_ITSELF,
    )
    assert not widest, f"{page.url}: cut off at the right edge: {widest}"


def tappable(locator: Any) -> None:
    """A control a thumb can hit: at least 44 px high and wide."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None, "the control is not shown"
    assert box["height"] >= TAP - 0.5 and box["width"] >= TAP - 0.5, (
        f"{locator} is {box['width']:.0f}x{box['height']:.0f} px, under {TAP} px"
    )


def every_button_tappable(page: Any) -> None:
    """Every button and text field shown in the page's content is at least 44 px high."""
    small = page.evaluate(
        """([tap, controls]) => [...document.querySelectorAll(controls)]
            .filter(e => e.getClientRects().length && !e.closest('[hidden], details:not([open])'))
            .filter(e => e.getBoundingClientRect().height < tap - 0.5)
            .map(e => (e.name || e.innerText || e.tagName).trim().slice(0, 40) + ' '
                 + Math.round(e.getBoundingClientRect().height) + 'px')""",
        [TAP, CONTROLS],
    )
    assert not small, f"{page.url}: too small to tap: {small}"


def test_a_manager_approves_a_post_on_a_phone(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    manny = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    eddie = UserFactory.create(email="eddie@example.org", full_name="Eddie Editor")
    MembershipFactory.create(organization=org, user=manny, role=Role.MANAGER)
    editor = MembershipFactory.create(organization=org, user=eddie, role=Role.EDITOR)
    news = ChannelAccountFactory.create(organization=org, handle="city-news")
    post = post_create(membership=editor, title="Library summer hours")
    variant_save(
        post=post,
        membership=editor,
        channel_account=news,
        language="fi",
        text="Kirjasto on kesällä auki kymmenestä kuuteen.",
    )
    variant_save(
        post=post, membership=editor, channel_account=news, language="sv", text="Biblioteket."
    )
    post_submit_for_review(post=post, membership=editor)

    page.set_viewport_size(PHONE)
    log_in(page, manny)
    fits_the_phone(page)
    review = page.locator(
        "section", has=page.get_by_role("heading", name="Waiting for my approval")
    )
    link = review.get_by_role("link", name="Library summer hours")
    link.click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Library summer hours"
    fits_the_phone(page)
    every_button_tappable(page)
    # The decision comes before the post's other actions: no scrolling past "Cancel post".
    approve = page.get_by_role("button", name="Approve")
    cancel = page.get_by_role("button", name="Cancel post")
    assert approve.bounding_box()["y"] < cancel.bounding_box()["y"]
    tappable(approve)
    page.get_by_label("Comment").fill("Fine by me.")
    approve.click()
    settle(page)
    assert page.get_by_text("Approved. The post can be scheduled now.").is_visible()
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED
    fits_the_phone(page)
    tappable(page.get_by_role("button", name="Schedule", exact=True))


def test_an_editor_answers_a_citizen_on_a_phone(page):
    bertta, account = _inbox_with_three_citizens()
    page.set_viewport_size(PHONE)
    log_in(page, bertta)
    visit(page, "/inbox/")
    fits_the_phone(page)
    every_button_tappable(page)
    name = CITIZENS[2][1]
    item = InboxItem.objects.get(author_name=name)
    link = page.locator("#inbox-rows").get_by_role("link", name=name)
    tappable(link)
    with page.expect_navigation():
        link.click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == f"Reply from {name}"
    fits_the_phone(page)
    every_button_tappable(page)
    box = page.get_by_label("Your reply")
    send = page.get_by_role("button", name="Send reply")
    # The reply box and its button are on the first screen, under the message.
    assert box.bounding_box()["y"] < PHONE["height"]
    tappable(send)
    box.fill("Call 09 123 4567 on weekdays, or use the feedback form.")
    send.click()
    settle(page)
    assert page.get_by_text("Your reply was sent.").is_visible()
    fits_the_phone(page)
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT
    sent = SandboxPost.objects.get(remote_id=reply.remote_id)
    assert sent.account == account and sent.in_reply_to is not None
    assert sent.text.startswith("Call 09 123 4567 on weekdays")
    back = page.get_by_role("link", name="Back to the inbox")
    with page.expect_navigation():
        back.click()
    settle(page)
    fits_the_phone(page)


def test_a_manager_turns_on_the_crisis_pause_on_a_phone(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    manny = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    MembershipFactory.create(organization=org, user=manny, role=Role.MANAGER)
    ChannelAccountFactory.create(organization=org, handle="city-news")

    page.set_viewport_size(PHONE)
    log_in(page, manny)
    nav = page.get_by_role("navigation", name="Main")
    calendar = nav.get_by_role("link", name="Calendar")
    tappable(calendar)
    calendar.click()
    settle(page)
    fits_the_phone(page)
    page.get_by_role("link", name="Crisis pause and emergency publishers").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Crisis pause"
    fits_the_phone(page)
    every_button_tappable(page)
    page.get_by_label("Reason").fill("Storm: the ferry is not running.")
    pause = page.get_by_role("button", name="Pause publishing")
    tappable(pause)
    pause.click()
    settle(page)
    assert page.get_by_text("Publishing is paused. Posts that fall due now are held").is_visible()
    assert PublishingPause.objects.filter(organization=org, ended_at__isnull=True).count() == 1
    fits_the_phone(page)
    # The banner is on every page, on the first screen of the phone.
    visit(page, "/")
    banner = page.get_by_role("region", name="Publishing is paused")
    assert banner.is_visible()
    assert "Storm: the ferry is not running." in banner.inner_text()
    assert banner.bounding_box()["y"] < PHONE["height"]
    fits_the_phone(page)
    tappable(banner.get_by_role("link", name="Crisis pause and held posts"))
