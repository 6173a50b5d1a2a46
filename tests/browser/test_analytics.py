"""A manager opens the analytics dashboard in a real browser: reads a chart and the
table of its figures, narrows the range and picks one account, sets a goal and sees
its progress, and downloads the figures as CSV. Every page is checked with axe."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django_otp.oath import totp

from analytics.models import Goal
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import (
    followers,
    inbox_item,
    local_noon,
    post_snapshot,
    today_local,
    tracked,
)
from governance.models import Role, TOTPDevice, User
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


def test_a_manager_reads_filters_sets_a_goal_and_downloads_the_figures(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    manny = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    MembershipFactory.create(organization=org, user=manny, role=Role.MANAGER)
    news = ChannelAccountFactory.create(organization=org, handle="city-news")
    mayor = ChannelAccountFactory.create(organization=org, handle="city-mayor")
    today = today_local()
    followers(news, local_noon(today - timedelta(days=9)), 1200)
    followers(news, local_noon(today - timedelta(days=2)), 1290)
    followers(mayor, local_noon(today - timedelta(days=9)), 300)
    ploughs = tracked(news, at=local_noon(today - timedelta(days=4)), title="Ploughs out tonight")
    post_snapshot(ploughs, local_noon(today - timedelta(days=3)), likes=57, shares=15, replies=6)
    library = tracked(mayor, at=local_noon(today - timedelta(days=2)), title="Library open late")
    post_snapshot(library, local_noon(today - timedelta(days=2)), likes=9, quotes=2)
    asked = local_noon(today - timedelta(days=3))
    inbox_item(
        news,
        posted_at=asked,
        answered_at=asked + timedelta(minutes=25),
        due_at=asked + timedelta(hours=8),
    )
    rollups_rebuild(organization=org, since=today - timedelta(days=12))

    log_in(page, manny)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Analytics"

    # A chart, named for assistive technology, and the same figures as a table.
    chart = page.get_by_role("img", name="Follower growth")
    assert chart.count() == 1
    figures = page.locator("section", has=page.get_by_role("heading", name="Follower growth"))
    figures.locator("summary").click()
    table = figures.get_by_role("table")
    assert table.is_visible()
    assert "1,590" in table.get_by_role("row", name="Whole range").inner_text()
    page.axe.check()  # again, with the table open

    # Narrow the range to the last three days and show the mayor's account only.
    page.get_by_label("From").fill((today - timedelta(days=2)).isoformat())
    page.get_by_label("Account").select_option(label="city-mayor (sandbox)")
    page.get_by_role("button", name="Show").click()
    settle(page)
    scope = page.locator("#analytics-scope").inner_text()
    assert "Account: city-mayor" in scope
    engagement = page.locator(".key-figure", has=page.get_by_text("Engagement", exact=True))
    assert engagement.locator(".key-figure-value").inner_text() == "11"
    top_posts = page.locator("section", has=page.get_by_role("heading", name="Top posts"))
    assert top_posts.get_by_role("link", name="Library open late", exact=True).count() == 1
    assert top_posts.get_by_role("link", name="Ploughs out tonight", exact=True).count() == 0

    # Set a goal for the city's news account.
    page.get_by_role("link", name="Set a goal").click()
    settle(page)
    page.get_by_label("Name").fill("Winter reach")
    page.get_by_label("Metric").select_option(label="Followers")
    page.get_by_label("Account").select_option(label="city-news (sandbox)")
    page.get_by_label("Target").fill("1300")
    page.get_by_label("From").fill((today - timedelta(days=9)).isoformat())
    page.get_by_label("Until").fill((today + timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Save the goal").click()
    settle(page)
    assert "The goal is saved." in page.locator(".messages").inner_text()
    goal = page.locator(".goal", has=page.get_by_role("heading", name="Winter reach"))
    assert "1,290 of 1,300" in goal.inner_text()
    assert "On track" in goal.inner_text()
    assert Goal.objects.get().created_by == manny

    # Download the figures shown as CSV.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Figures (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("analytics-example-")
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert rows[-1]["Followers"] == "1590"
    assert rows[-1]["Engagement"] == "89"
