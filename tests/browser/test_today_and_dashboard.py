"""The two screens a day starts with, in a real browser at 1366x900 and on a phone
(390x844): the home page ("Today") and the analytics dashboard. Each is checked with
axe, must not scroll sideways, and at 1366x900 shows its essentials on the first
screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import AccountStatus
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import (
    followers,
    inbox_item,
    local_noon,
    post_snapshot,
    today_local,
    tracked,
)
from governance.models import Role
from inbox.models import ItemStatus
from publishing.services.posts import post_create, post_submit_for_review, variant_save
from tests.browser.conftest import settle, visit
from tests.browser.test_analytics import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def city() -> Any:
    """A manager's organization with something in every list of the home page."""
    org = OrganizationFactory.create(name="City of Example", slug="example")
    manny = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    eddie = UserFactory.create(email="eddie@example.org", full_name="Eddie Editor")
    MembershipFactory.create(organization=org, user=manny, role=Role.MANAGER)
    editor = MembershipFactory.create(organization=org, user=eddie, role=Role.EDITOR)
    news = ChannelAccountFactory.create(organization=org, handle="city-news")
    mayor = ChannelAccountFactory.create(
        organization=org, handle="city-mayor", status=AccountStatus.NEEDS_RECONNECT
    )
    today = today_local()
    followers(news, local_noon(today - timedelta(days=9)), 1200)
    followers(news, local_noon(today - timedelta(days=2)), 1290)
    for days_ago in (35, 12, 9, 4, 2):
        post = tracked(news, at=local_noon(today - timedelta(days=days_ago)), title="Ferry times")
        post_snapshot(post, local_noon(today - timedelta(days=days_ago)), likes=days_ago * 3)
    asked = local_noon(today - timedelta(days=3))
    inbox_item(news, posted_at=asked, answered_at=asked + timedelta(minutes=25), due_at=asked)
    rollups_rebuild(organization=org, since=today - timedelta(days=40))
    # Published minutes ago, with likes: counted today before any rebuild.
    fresh = tracked(news, at=timezone.now() - timedelta(minutes=3), title="Road closed")
    post_snapshot(fresh, timezone.now() - timedelta(minutes=1), likes=5)

    waiting = post_create(membership=editor, title="Library summer hours")
    variant_save(
        post=waiting, membership=editor, channel_account=news, language="fi", text="Kirjasto."
    )
    post_submit_for_review(post=waiting, membership=editor)
    now = timezone.now()
    item = inbox_item(news, posted_at=now - timedelta(hours=3), due_at=now - timedelta(hours=1))
    item.assignee = manny
    item.status = ItemStatus.ASSIGNED
    item.text = "Is the ferry running today?"
    item.save(update_fields=["assignee", "status", "text"])
    return manny, mayor


def no_sideways_scroll(page: Any) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def main_fits(page: Any) -> None:
    """Nothing in the page's content reaches past the right edge (wide tables scroll in
    their own region; the site header is checked with the layout's own tests)."""
    widest = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.table-scroll, .visually-hidden, svg, details:not([open])'))
            .map(e => e.getBoundingClientRect().right))"""
    )
    width = page.evaluate("document.documentElement.clientWidth")
    assert widest <= width, f"content reaches {widest}px in a {width}px window"


def top_of(page: Any, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def test_a_manager_sees_today_and_the_dashboard_on_one_screen_each(page):
    manny, mayor = city()
    page.set_viewport_size(WIDE)
    log_in(page, manny)

    visit(page, "/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    heading = page.get_by_role("heading", name="Waiting for my approval")
    review = page.locator("section", has=heading)
    assert review.get_by_role("link", name="Library summer hours").is_visible()
    inbox = page.locator("section", has=page.get_by_role("heading", name="My inbox"))
    assert "Is the ferry running today?" in inbox.inner_text()
    problems = page.locator("section", has=page.get_by_role("heading", name="Needs fixing"))
    assert problems.get_by_role("link", name="city-mayor needs reconnecting").is_visible()
    week = page.locator(".today-week")
    assert "Posts published" in week.inner_text()
    no_sideways_scroll(page)
    # Everything that needs the manager starts on the first screen.
    for selector in (".today-grid", ".today-week"):
        assert top_of(page, selector) < WIDE["height"]
    problems.get_by_role("link", name="city-mayor needs reconnecting").click()
    settle(page)
    assert page.url.endswith(f"/accounts/{mayor.pk}/")

    visit(page, "/analytics/")
    posts = page.locator(".key-figure", has=page.get_by_text("Posts published", exact=True))
    # Five posts in the last 30 days (one of them minutes ago); one the 30 days before.
    assert posts.locator(".key-figure-value").inner_text() == "5"
    assert "+400 % on the previous 30 days" in posts.inner_text()
    assert "Figures as of" in page.locator(".dash-as-of").inner_text()
    no_sideways_scroll(page)
    # The key figures and the first row of charts fit the first screen.
    charts = page.locator(".dash-charts .analytics-chart svg")
    assert charts.count() == 6
    first_row = charts.first.bounding_box()
    assert first_row["y"] + first_row["height"] <= WIDE["height"]
    top = page.locator(".top-post", has_text="Road closed")
    assert top.count() == 1
    assert "Finnish" in top.inner_text()


def test_both_pages_work_on_a_phone(page):
    manny, _mayor = city()
    page.set_viewport_size(PHONE)
    log_in(page, manny)

    visit(page, "/")
    no_sideways_scroll(page)
    page.get_by_role("link", name="Library summer hours").click()
    settle(page)

    visit(page, "/analytics/")
    no_sideways_scroll(page)
    page.locator(".analytics-chart").first.locator("summary").click()
    page.axe.check()
    no_sideways_scroll(page)

    # Reflow (WCAG 1.4.10): at 320 px the content of both pages still fits.
    page.set_viewport_size({"width": 320, "height": 700})
    main_fits(page)
    visit(page, "/")
    main_fits(page)
