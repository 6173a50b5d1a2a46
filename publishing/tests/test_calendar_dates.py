"""Holidays and important dates on the calendar: the organization's country's public
holidays on their local day, in the reader's language, the layer's toggle, and the
important dates pages (access, validation, audit)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.conf import settings

from governance.holidays import country_for_time_zone, holidays_between, organization_country
from governance.models import AuditEvent
from publishing.models import DateKind, ImportantDate
from publishing.tests.calendar_helpers import day_cell, helsinki, scheduled_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def early_2026():
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        yield


def _set_country(team, country: str, time_zone: str) -> None:
    org = team.alice.organization
    org.country, org.time_zone = country, time_zone
    org.save(update_fields=["country", "time_zone"])


def _viewer_in(membership, time_zone: str):
    user = membership.user
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user


def _marks(cell: str) -> list[str]:
    found = re.search(r'<ul class="cal-marks">(.*?)</ul>', cell, re.S)
    if not found:
        return []
    return [
        re.sub(r"<[^>]+>", "", li).strip()
        for li in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1), re.S)
    ]


def _week_heading(page: str, iso_day: str) -> str:
    found = re.search(rf'<th scope="col"[^>]*><time datetime="{iso_day}".*?</th>', page, re.S)
    assert found, iso_day
    return found.group(0)


def test_finnish_easter_sits_on_its_day_in_helsinki_after_the_clocks_change(client, login, team):
    _set_country(team, "FI", "Europe/Helsinki")
    login(client, _viewer_in(team.eddie, "Europe/Helsinki"))

    page = client.get("/publishing/calendar/?date=2026-03-01").content.decode()

    # The clocks went forward on 29 March; Easter Sunday is still 5 April.
    assert _marks(day_cell(page, "2026-04-05")) == ["Public holiday: Easter Sunday"]
    assert _marks(day_cell(page, "2026-04-04")) == []
    assert _marks(day_cell(page, "2026-03-29")) == []


def test_the_holidays_are_named_in_finnish_on_a_finnish_page(client, login, team):
    _set_country(team, "FI", "Europe/Helsinki")
    login(client, team.eddie.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"

    page = client.get("/publishing/calendar/?date=2026-04-01").content.decode()

    assert _marks(day_cell(page, "2026-04-03")) == ["Yleinen vapaapäivä: Pitkäperjantai"]
    assert _marks(day_cell(page, "2026-04-05")) == ["Yleinen vapaapäivä: Pääsiäispäivä"]


def test_finnish_holidays_are_in_swedish_on_a_swedish_page(client, login, team):
    _set_country(team, "FI", "Europe/Helsinki")
    login(client, team.eddie.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"

    page = client.get("/publishing/calendar/list/?date=2026-12-06&span=week").content.decode()

    # Finland's independence day, 6 December
    assert _marks(day_cell(page, "2026-12-06")) == ["Allmän helgdag: Självständighetsdagen"]


def test_swedish_national_day_in_the_week_view(client, login, team):
    _set_country(team, "SE", "Europe/Stockholm")
    login(client, _viewer_in(team.eddie, "Europe/Stockholm"))

    page = client.get("/publishing/calendar/week/?date=2026-06-03").content.decode()

    assert _marks(_week_heading(page, "2026-06-06")) == ["Public holiday: National Day"]
    assert "National Day" not in _week_heading(page, "2026-06-05")


def test_turkish_republic_day_in_istanbul(client, login, team):
    _set_country(team, "TR", "Europe/Istanbul")
    login(client, _viewer_in(team.eddie, "Europe/Istanbul"))

    page = client.get("/publishing/calendar/?date=2026-10-01").content.decode()

    assert _marks(day_cell(page, "2026-10-29")) == ["Public holiday: Republic Day"]
    assert _marks(day_cell(page, "2026-10-28")) == []


def test_indonesian_independence_day_in_jakarta(client, login, team):
    _set_country(team, "ID", "Asia/Jakarta")
    login(client, _viewer_in(team.eddie, "Asia/Jakarta"))

    page = client.get("/publishing/calendar/?date=2026-08-01").content.decode()

    assert _marks(day_cell(page, "2026-08-17")) == ["Public holiday: Independence Day"]
    assert _marks(day_cell(page, "2026-08-16")) == []


def test_the_country_defaults_to_the_time_zones(team):
    org = team.alice.organization
    org.country, org.time_zone = "", "Asia/Jakarta"
    assert organization_country(org) == "ID"
    assert country_for_time_zone("Europe/Istanbul") == "TR"
    assert country_for_time_zone("Etc/UTC") == "FI"


def test_a_day_with_posts_and_a_holiday_shows_both_in_the_list(client, login, team):
    _set_country(team, "FI", "Europe/Helsinki")
    scheduled_post(team, helsinki(2026, 4, 6, 9), "Easter Monday opening hours.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/list/?date=2026-04-01&span=month").content.decode()

    cell = day_cell(page, "2026-04-06")
    assert _marks(cell) == ["Public holiday: Easter Monday"]
    assert "Easter Monday opening hours." in cell
    # A holiday with no post still has its day in the list.
    assert _marks(day_cell(page, "2026-04-03")) == ["Public holiday: Good Friday"]


def test_the_layer_can_be_turned_off_and_the_choice_is_remembered(client, login, team):
    _set_country(team, "FI", "Europe/Helsinki")
    login(client, team.eddie.user)

    off = client.get("/publishing/calendar/?date=2026-04-01&dates=0").content.decode()
    assert "Easter Sunday" not in off
    assert 'id="id_dates">' in off and 'id="id_dates" checked' not in off

    later = client.get("/publishing/calendar/week/?date=2026-04-01").content.decode()
    assert "Easter Sunday" not in later

    # The form sends dates=0 and, with the box ticked, dates=1.
    on = client.get("/publishing/calendar/?date=2026-04-01&dates=0&dates=1").content.decode()
    assert _marks(day_cell(on, "2026-04-05")) == ["Public holiday: Easter Sunday"]
    assert 'id="id_dates" checked' in on


def test_the_organizations_dates_show_over_each_of_their_days(client, login, team):
    org = team.alice.organization
    ImportantDate.objects.create(
        organization=org,
        starts_on=date(2026, 4, 14),
        ends_on=date(2026, 4, 15),
        name="Municipal election silence",
        kind=DateKind.QUIET,
    )
    ImportantDate.objects.create(
        organization=org,
        starts_on=date(2026, 4, 15),
        ends_on=date(2026, 4, 15),
        name="Open doors at the town hall",
        kind=DateKind.EVENT,
    )
    ImportantDate.objects.create(
        organization=team.charlie.organization,
        starts_on=date(2026, 4, 15),
        ends_on=date(2026, 4, 15),
        name="Someone else's day",
        kind=DateKind.EVENT,
    )
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-04-01").content.decode()

    assert _marks(day_cell(page, "2026-04-14")) == ["Quiet day: Municipal election silence"]
    assert _marks(day_cell(page, "2026-04-15")) == [
        "Quiet day: Municipal election silence",
        "Event: Open doors at the town hall",
    ]
    assert _marks(day_cell(page, "2026-04-16")) == []
    assert "Someone else" not in page


def test_the_layer_adds_one_query_to_the_month(client, login, team, django_assert_max_num_queries):
    login(client, team.eddie.user)
    client.get("/publishing/calendar/?date=2026-04-01&dates=0")
    with django_assert_max_num_queries(40) as off:
        client.get("/publishing/calendar/?date=2026-04-01&dates=0")
    with django_assert_max_num_queries(len(off.captured_queries) + 2):
        client.get("/publishing/calendar/?date=2026-04-01&dates=1")


# --- the important dates pages -------------------------------------------------------------------


def _add(client, **data):
    return client.post("/publishing/calendar/dates/new/", data)


def test_a_manager_adds_a_quiet_period(client, login, team):
    login(client, team.manny.user)

    response = _add(
        client,
        name="Day of mourning",
        kind="quiet",
        starts_on="2026-05-04",
        ends_on="",
        note="Flags at half mast",
    )

    assert response.status_code == 302
    item = ImportantDate.objects.get(name="Day of mourning")
    assert (item.starts_on, item.ends_on, item.kind) == (
        date(2026, 5, 4),
        date(2026, 5, 4),
        "quiet",
    )
    page = client.get("/publishing/calendar/dates/").content.decode()
    assert "Day of mourning" in page and "Flags at half mast" in page
    event = AuditEvent.objects.get(action="important_date.created")
    assert event.new_values["name"] == "Day of mourning"


def test_the_last_day_cannot_be_before_the_first(client, login, team):
    login(client, team.alice.user)

    response = _add(
        client, name="Backwards", kind="event", starts_on="2026-05-04", ends_on="2026-05-01"
    )

    assert response.status_code == 400
    assert "The last day cannot be before the first day." in response.content.decode()
    assert not ImportantDate.objects.exists()


def test_a_manager_edits_and_deletes_a_date(client, login, team):
    item = ImportantDate.objects.create(
        organization=team.alice.organization,
        starts_on=date(2026, 5, 4),
        ends_on=date(2026, 5, 4),
        name="Europe Day",
        kind=DateKind.AWARENESS,
    )
    login(client, team.manny.user)

    response = client.post(
        f"/publishing/calendar/dates/{item.pk}/",
        {"name": "Europe Day", "kind": "awareness", "starts_on": "2026-05-09", "ends_on": ""},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.starts_on == date(2026, 5, 9)

    assert client.post(f"/publishing/calendar/dates/{item.pk}/delete/").status_code == 302
    assert not ImportantDate.objects.exists()
    assert AuditEvent.objects.filter(action="important_date.deleted").count() == 1


def test_an_editor_sees_the_dates_but_cannot_change_them(client, login, team):
    item = ImportantDate.objects.create(
        organization=team.alice.organization,
        starts_on=date(2026, 5, 4),
        ends_on=date(2026, 5, 4),
        name="Europe Day",
        kind=DateKind.AWARENESS,
    )
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/dates/").content.decode()
    assert "Europe Day" in page
    assert "Add an important date" not in page
    assert _add(client, name="Mine", kind="event", starts_on="2026-05-04").status_code == 403
    assert client.post(f"/publishing/calendar/dates/{item.pk}/delete/").status_code == 403
    assert ImportantDate.objects.count() == 1


def test_another_organizations_date_is_not_found(client, login, team):
    item = ImportantDate.objects.create(
        organization=team.alice.organization,
        starts_on=date(2026, 5, 4),
        ends_on=date(2026, 5, 4),
        name="Europe Day",
        kind=DateKind.AWARENESS,
    )
    login(client, team.charlie.user)

    assert client.get(f"/publishing/calendar/dates/{item.pk}/").status_code == 404
    assert client.post(f"/publishing/calendar/dates/{item.pk}/delete/").status_code == 404
    assert "Europe Day" not in client.get("/publishing/calendar/dates/").content.decode()
    assert ImportantDate.objects.count() == 1


def test_an_admin_chooses_the_country_in_the_settings(client, login, team):
    org = team.alice.organization
    login(client, team.alice.user)

    page = client.get("/governance/settings/").content.decode()
    assert (
        '<option value="TR">Türkiye</option>' in page
        or '<option value="TR">Turkey</option>' in page
    )

    response = client.post(
        "/governance/settings/",
        {
            "name": org.name,
            "time_zone": org.time_zone,
            "default_language": org.default_language,
            "country": "SE",
            "require_2fa": "on",
        },
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.country == "SE"
    bad = client.post(
        "/governance/settings/",
        {
            "name": org.name,
            "time_zone": org.time_zone,
            "default_language": org.default_language,
            "country": "XX",
            "require_2fa": "on",
        },
    )
    assert bad.status_code == 400


def test_a_language_the_package_lacks_falls_back_to_the_countrys_own():
    # The package has Swedish holidays in Swedish and English, not in Finnish.
    found = holidays_between("SE", date(2026, 6, 6), date(2026, 6, 7), "fi")
    assert found == {date(2026, 6, 6): ["Nationaldagen"]}
    found = holidays_between("TR", date(2026, 10, 29), date(2026, 10, 30), "sv")
    assert found == {date(2026, 10, 29): ["Cumhuriyet Bayram\u0131"]}  # dotless i
