"""A manager imports the council's meeting calendar (an .ics file) in a real browser:
a wrong file gets a clear error, the preview lists the meetings before anything is
imported, and after the import they are on the month view as the organization's events.
Every page is checked with axe."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from publishing.models import ImportantDate
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_calendar import city, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _council_calendar(first: date) -> str:
    """Three fortnightly meetings from ``first`` at 18:00 Helsinki time (Outlook-style TZID)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:Microsoft Exchange Server 2010",
        "BEGIN:VEVENT",
        "UID:council-meetings-1",
        f"DTSTART;TZID=Europe/Helsinki:{first:%Y%m%d}T180000",
        f"DTEND;TZID=Europe/Helsinki:{first:%Y%m%d}T210000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=3",
        "SUMMARY:Council meeting",
        "LOCATION:Council chamber",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def test_a_manager_imports_the_council_calendar_and_sees_it_on_the_month(page, tmp_path):
    maria, manager, _reviewer, _account = city()
    org = manager.organization
    org.time_zone = "Europe/Helsinki"
    org.save(update_fields=["time_zone"])
    today = date.today()
    first = (today.replace(day=1) + timedelta(days=40)).replace(day=3)
    good = tmp_path / "council.ics"
    good.write_text(_council_calendar(first), encoding="utf-8")
    wrong = tmp_path / "meetings.ics"
    wrong.write_text("Subject,Start Date\nCouncil meeting,2026-01-01\n", encoding="utf-8")
    log_in(page, maria)

    visit(page, "/publishing/calendar/dates/")
    page.get_by_role("link", name="Import events from a calendar (iCal)").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Import events from a calendar"

    page.get_by_label("Name:", exact=True).fill("Council meetings")
    page.get_by_label("iCalendar file (.ics)").set_input_files(str(wrong))
    page.get_by_role("button", name="Check the calendar").click()
    settle(page)
    assert page.get_by_text("does not begin with BEGIN:VCALENDAR").is_visible()

    page.get_by_label("iCalendar file (.ics)").set_input_files(str(good))
    page.get_by_role("button", name="Check the calendar").click()
    settle(page)
    summary = re.sub(r"\s+", " ", page.locator("#preview-summary").inner_text())
    assert summary == "3 events to add, 0 to change, 0 to remove, 0 unchanged."
    rows = page.locator("#calendar-added tbody tr")
    assert rows.count() == 3
    assert "18:00" in rows.first.inner_text()
    assert not ImportantDate.objects.exists()

    page.get_by_role("button", name="Import the events").click()
    settle(page)
    assert page.get_by_text("Council meetings was imported: 3 added").is_visible()
    assert page.locator("#calendar-events tbody tr").count() == 3

    visit(page, f"/publishing/calendar/?date={first:%Y-%m-%d}")
    cell = page.locator(f'td[data-calendar-drop="{first:%Y-%m-%d}"]')
    assert "Event: 18:00 Council meeting" in cell.inner_text()
