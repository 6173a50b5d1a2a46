"""One way to write dates and times per language, on every page, in the reader's zone.

The same moments are shown on the post, the inbox item, the audit log, the account
registry and the calendar list, in English, Finnish, Swedish and Turkish. Each page shows the
language's one format (``govsocial/formats``) and none of the three that used to be
mixed on one page: ``12/07/2026 6:44 a.m.``, ``Dec. 7, 2026`` and ``2026-12-07 06:44``.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.conf import settings

from governance.models import User
from governance.tests.registry_helpers import make_entry
from inbox.tests.helpers import make_item
from publishing.tests.calendar_helpers import scheduled_post

pytestmark = pytest.mark.django_db

# 04:44 UTC is 06:44 in Helsinki, the reader's zone.
DUE = datetime(2026, 12, 7, 4, 44, tzinfo=UTC)
POSTED = datetime(2026, 12, 4, 16, 5, tzinfo=UTC)  # 18:05 in Helsinki

# What each language shows: the post's time, the inbox item's time, the review date.
EXPECTED = {
    "en": ("7 Dec 2026, 06:44", "4 Dec 2026, 18:05", "31 Mar 2027"),
    "fi": ("7.12.2026 klo 6.44", "4.12.2026 klo 18.05", "31.3.2027"),
    "sv": ("7 december 2026 06:44", "4 december 2026 18:05", "31 mars 2027"),
    "tr": ("07.12.2026 06:44", "04.12.2026 18:05", "31.03.2027"),
}

# The three formats that must never appear in the text of a page.
US_NUMERIC = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}:\d{2} ?(a\.m\.|p\.m\.|AM|PM)")
MONTH_FIRST = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|June?|July?|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"
)
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def visible_text(page: str) -> str:
    """What a reader sees: the body without tags, attributes or scripts."""
    body = page.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.fixture
def pages(client, login, team):
    """Every page of the test, fetched by the admin in ``language``."""
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=UTC), tick=False):
        post = scheduled_post(team, DUE, "Library opens at 9.")
        item = make_item(team.account, posted_at=POSTED, text="When does the library open?")
        make_entry(
            team.alice.organization,
            team.alice.user,
            handle="city_news",
            next_review_due=date(2027, 3, 31),
        )

    def fetch(language: str) -> dict[str, str]:
        User.objects.filter(pk=team.alice.user_id).update(
            time_zone="Europe/Helsinki", preferred_language=language
        )
        login(client, team.alice.user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=UTC), tick=False):
            urls = {
                "post": f"/publishing/posts/{post.pk}/",
                "inbox item": f"/inbox/{item.pk}/",
                "audit log": "/governance/audit/",
                "registry": "/governance/registry/",
                "calendar list": "/publishing/calendar/list/?date=2026-12-07&span=week",
            }
            found = {}
            for name, url in urls.items():
                response = client.get(url)
                assert response.status_code == 200, name
                found[name] = visible_text(response.content.decode())
        return found

    return fetch


@pytest.mark.parametrize("language", ["en", "fi", "sv", "tr"])
def test_every_page_writes_dates_one_way(pages, language):
    due, posted, review = EXPECTED[language]
    found = pages(language)

    assert due in found["post"]
    assert posted in found["inbox item"]
    assert due in found["audit log"]  # the new publishing time among the changes
    assert review in found["registry"]
    for name, text in found.items():
        assert not US_NUMERIC.search(text), (name, US_NUMERIC.search(text))
        assert not MONTH_FIRST.search(text), (name, MONTH_FIRST.search(text))
        assert not ISO.search(text), (name, ISO.search(text))


@pytest.mark.parametrize(
    ("language", "heading", "time"),
    [
        ("en", "Week 50: 7\u00a0\u2013\u00a013 Dec 2026", "06:44"),
        ("fi", "Viikko 50: 7.\u201313. joulukuuta 2026", "6.44"),
        ("sv", "Vecka 50: 7\u201313 dec. 2026", "06:44"),
        ("tr", "Hafta 50: 7\u201313 Ara 2026", "06:44"),
    ],
)
def test_the_calendar_week_reads_as_one_range_and_local_times(pages, language, heading, time):
    text = pages(language)["calendar list"]
    assert heading in text
    assert f"{time} " in text


ACROSS_TWO_MONTHS = {
    "en": "30 Nov\u00a0\u2013\u00a06 Dec 2026",
    "fi": "30. marraskuuta\u00a0\u2013\u00a06. joulukuuta 2026",
    "sv": "30 nov.\u20136 dec. 2026",
    "tr": "30 Kas\u00a0\u2013\u00a06 Ara 2026",
}

NINE_O_CLOCK = {"en": "09:00", "fi": "9.00", "sv": "09:00", "tr": "09:00"}


@pytest.mark.parametrize("language", ["en", "fi", "sv", "tr"])
def test_a_week_across_two_months_reads_as_one_range_on_the_calendar_and_dashboard(
    client, login, personas, language
):
    User.objects.filter(pk=personas.alice.pk).update(
        time_zone="Europe/Helsinki", preferred_language=language
    )
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    week = visible_text(client.get("/publishing/calendar/week/?date=2026-12-02").content.decode())
    dashboard = client.get("/analytics/?start=2026-11-30&end=2026-12-06")
    assert dashboard.status_code == 200
    assert f": {ACROSS_TWO_MONTHS[language]}" in week  # "Week 49: ..."
    assert f" {NINE_O_CLOCK[language]} " in week  # the week's rows of hours
    assert ACROSS_TWO_MONTHS[language] in visible_text(dashboard.content.decode())
