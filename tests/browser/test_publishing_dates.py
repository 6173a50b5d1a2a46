"""Holidays and important dates in a real browser: a manager marks a quiet day on the
important dates page, finds it on the month and week views next to Finland's public
holidays, turns the layer off with the filters' checkbox, and is asked to confirm
when scheduling a post on the quiet day. Every page is checked with axe."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime

import pytest

from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_calendar import city, log_in, schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_marks_a_quiet_day_and_sees_it_with_the_holidays(page):
    maria, manager, reviewer, account = city()
    year = date.today().year + 1
    log_in(page, maria)

    visit(page, "/publishing/calendar/dates/")
    page.get_by_role("link", name="Add an important date").click()
    settle(page)
    page.get_by_label("Name").fill("Election silence")
    page.get_by_label("Quiet day").check()
    page.get_by_label("First day").fill(f"{year}-01-12")
    page.get_by_label("Last day").fill(f"{year}-01-13")
    page.get_by_role("button", name="Save").click()
    settle(page)
    assert page.get_by_role("row", name=re.compile("Election silence")).is_visible()

    visit(page, f"/publishing/calendar/?date={year}-01-01")
    cell = page.locator(f'td[data-calendar-drop="{year}-01-06"]')
    assert "Public holiday: Epiphany" in cell.inner_text()
    quiet = page.locator(f'td[data-calendar-drop="{year}-01-13"]')
    assert "Quiet day: Election silence" in quiet.inner_text()

    visit(page, f"/publishing/calendar/week/?date={year}-01-12")
    heading = page.get_by_role("columnheader", name=re.compile("Election silence")).first
    assert heading.is_visible()

    page.get_by_label("Show holidays and important dates").uncheck()
    page.get_by_role("button", name="Show").click()
    settle(page)
    assert "Election silence" not in page.locator("table.calendar-week").inner_text()

    # Scheduling a post on the quiet day asks the manager to confirm.
    post = schedule(
        manager,
        reviewer,
        account,
        "Polling stations open.",
        datetime(year, 1, 9, 9, tzinfo=zoneinfo.ZoneInfo("Europe/Helsinki")),
    )
    visit(page, f"/publishing/posts/{post.pk}/")
    page.get_by_label("Publish at").fill(f"{year}-01-12T10:00")
    page.get_by_role("button", name="Change the time").click()
    settle(page)
    assert page.get_by_text("To publish on it, tick").is_visible()
    page.get_by_label("I confirm publishing on a quiet day").check()
    page.get_by_role("button", name="Change the time").click()
    settle(page)
    assert page.get_by_text("Quiet day:", exact=False).first.is_visible()
