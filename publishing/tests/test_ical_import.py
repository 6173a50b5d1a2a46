"""The organization's own events from iCal: real Outlook and Google exports (VTIMEZONE,
X-WR-TIMEZONE, RRULE with EXDATE, a moved occurrence, all-day events, DST), bad files,
the idempotent re-import by UID, a subscription fetched from a local HTTP server and
refreshed by the beat task, the preview and import pages, access and audit."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from governance.models import AuditEvent
from publishing.models import CalendarSource, DateKind, ImportantDate
from publishing.services import ical_import
from publishing.services.ical_import import (
    IcalError,
    calendar_source_check,
    calendar_source_import,
    calendar_source_preview,
    calendar_source_refresh,
    decode_ical,
    parse_ical,
)
from publishing.tasks import refresh_calendar_source, refresh_calendar_sources
from publishing.tests.calendar_helpers import day_cell

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "ical"
HELSINKI = ZoneInfo("Europe/Helsinki")


def ics(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str, *, tz: ZoneInfo = HELSINKI):
    return parse_ical(decode_ical(ics(name)), tz=tz, today=date(2026, 3, 1))


@pytest.fixture(autouse=True)
def early_2026():
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def helsinki_org(team):
    org = team.alice.organization
    org.country, org.time_zone = "FI", "Europe/Helsinki"
    org.save(update_fields=["country", "time_zone"])
    return org


def _upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, content if content is not None else ics(name), content_type="text/calendar"
    )


def _local(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M")


def _marks(cell: str) -> list[str]:
    found = re.search(r'<ul class="cal-marks">(.*?)</ul>', cell, re.S)
    if not found:
        return []
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip()
        for li in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1), re.S)
    ]


# --- parsing real exports -----------------------------------------------------


def test_an_outlook_export_with_a_windows_time_zone_keeps_local_times_across_dst():
    parsed = parse("outlook.ics")

    council = [event for event in parsed.events if event.name == "Kaupunginvaltuuston kokous"]
    # Every other Monday at 18:00 Helsinki time, before and after the clocks change (29 March).
    assert [_local(event.starts_at) for event in council] == [
        "2026-03-16 18:00",
        "2026-03-30 18:00",
        "2026-04-13 18:00",
    ]
    assert [event.starts_at.hour for event in council if event.starts_at] == [16, 15, 15]
    assert council[0].note == "Valtuustosali, Kaupungintalo\nEsityslista julkaistaan viikkoa ennen."
    # Three occurrences of one series: three keys, each the UID with its occurrence.
    assert len({event.key for event in council}) == 3
    # 23:00-01:00 local: the event touches both days.
    board = next(event for event in parsed.events if event.name == "Kaupunginhallitus")
    assert (board.starts_on, board.ends_on) == (date(2026, 3, 10), date(2026, 3, 11))
    assert parsed.skipped == []


def test_the_same_outlook_event_falls_on_another_local_day_in_jakarta():
    parsed = parse("outlook.ics", tz=ZoneInfo("Asia/Jakarta"))

    board = next(event for event in parsed.events if event.name == "Kaupunginhallitus")
    # 23:00 in Helsinki is 04:00 the next morning in Jakarta.
    assert (board.starts_on, board.ends_on) == (date(2026, 3, 11), date(2026, 3, 11))


def test_a_google_export_expands_the_series_without_its_exdate_and_with_the_moved_one():
    parsed = parse("google.ics")

    story = [event for event in parsed.events if event.name.startswith("Satutunti")]
    assert [(_local(event.starts_at), event.name) for event in story] == [
        ("2026-03-05 17:00", "Satutunti"),
        ("2026-03-12 17:00", "Satutunti"),
        # 19 March is an EXDATE; 26 March was moved an hour later.
        ("2026-03-26 18:00", "Satutunti (siirretty)"),
        # After the clocks changed the series stays at 17:00 local (X-WR-TIMEZONE).
        ("2026-04-02 17:00", "Satutunti"),
    ]
    days = next(event for event in parsed.events if event.name == "Kirjastopäivät")
    # An all-day DTEND is exclusive: 8, 9 and 10 April.
    assert (days.starts_on, days.ends_on, days.starts_at) == (
        date(2026, 4, 8),
        date(2026, 4, 10),
        None,
    )
    assert parsed.skipped == [("Peruttu lukupiiri", "It is cancelled.")]


def test_an_event_with_a_malformed_date_is_skipped_with_its_reason():
    parsed = parse("bad_date.ics")

    assert [event.name for event in parsed.events] == ["Hyvä tapahtuma"]
    assert parsed.skipped == [
        ("Rikkinäinen päivämäärä", "Its date or time cannot be read (DTSTART).")
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"account,language,text\n@x,fi,Hei\n", "does not begin with BEGIN:VCALENDAR"),
        (
            "BEGIN:VCALENDAR\r\nSUMMARY:Väärä merkistö\r\nEND:VCALENDAR\r\n".encode("latin-1"),
            "not in UTF-8",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nthis is not a content line\r\n", "cannot be read"),
    ],
)
def test_a_file_that_is_not_a_calendar_gets_a_clear_error(content, message):
    with pytest.raises(IcalError) as caught:
        parse_ical(decode_ical(content), tz=HELSINKI, today=date(2026, 3, 1))
    assert message in " ".join(caught.value.messages)


def test_a_huge_file_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(ical_import, "MAX_BYTES", 1000)
    with pytest.raises(IcalError) as caught:
        decode_ical(b"BEGIN:VCALENDAR\r\n" + b"X" * 2000)
    assert "too large" in " ".join(caught.value.messages)


def test_a_byte_order_mark_is_fine():
    parsed = parse_ical(
        decode_ical(b"\xef\xbb\xbf" + ics("bad_date.ics")), tz=HELSINKI, today=date(2026, 3, 1)
    )
    assert [event.name for event in parsed.events] == ["Hyvä tapahtuma"]


# --- importing ----------------------------------------------------------------


def _import_file(team, name: str, content: bytes | None = None, source=None) -> CalendarSource:
    source = calendar_source_check(
        membership=team.manny, name="Library", upload=_upload(name, content), source=source
    )
    calendar_source_import(membership=team.manny, source=source)
    source.refresh_from_db()
    return source


def test_importing_again_updates_changed_events_and_removes_the_ones_gone(team, helsinki_org):
    source = _import_file(team, "google.ics")
    assert ImportantDate.objects.filter(source=source, kind=DateKind.EVENT).count() == 5
    first_ids = set(ImportantDate.objects.values_list("pk", flat=True))

    # The same file again: nothing changes.
    source = calendar_source_check(
        membership=team.manny, name="", upload=_upload("google.ics"), source=source
    )
    plan = calendar_source_preview(source)
    assert (len(plan.added), len(plan.changed), len(plan.removed), len(plan.unchanged)) == (
        0,
        0,
        0,
        5,
    )
    calendar_source_import(membership=team.manny, source=source)
    assert set(ImportantDate.objects.values_list("pk", flat=True)) == first_ids

    # The library renamed the days and cancelled them as an all-day event, and the
    # series got one occurrence more.
    changed = (
        ics("google.ics")
        .decode()
        .replace("SUMMARY:Kirjastopäivät", "SUMMARY:Kirjastoviikko")
        .replace("UNTIL=20260402T150000Z", "UNTIL=20260409T150000Z")
    )
    source = calendar_source_check(
        membership=team.manny,
        name="",
        upload=_upload("google.ics", changed.encode()),
        source=source,
    )
    plan = calendar_source_preview(source)
    assert [event.name for event in plan.changed] == ["Kirjastoviikko"]
    assert [_local(event.starts_at) for event in plan.added] == ["2026-04-09 17:00"]
    calendar_source_import(membership=team.manny, source=source)
    renamed = ImportantDate.objects.get(name="Kirjastoviikko")
    assert renamed.pk in first_ids  # updated in place, by its UID

    # Removed at the source: removed here.
    without = re.sub(
        r"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260408.*?END:VEVENT\r\n", "", changed, flags=re.S
    )
    source = calendar_source_check(
        membership=team.manny,
        name="",
        upload=_upload("google.ics", without.encode()),
        source=source,
    )
    plan = calendar_source_preview(source)
    assert [item.name for item in plan.removed] == ["Kirjastoviikko"]
    calendar_source_import(membership=team.manny, source=source)
    assert not ImportantDate.objects.filter(name="Kirjastoviikko").exists()
    assert ImportantDate.objects.filter(source=source).count() == 5

    audits = AuditEvent.objects.filter(action="calendar_source.imported").order_by("pk")
    assert [
        (a.new_values["added"], a.new_values["changed"], a.new_values["removed"]) for a in audits
    ] == [
        (5, 0, 0),
        (0, 0, 0),
        (1, 1, 0),
        (0, 0, 1),
    ]
    assert audits[0].actor == team.manny.user


def test_an_editor_cannot_import(team):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        calendar_source_check(membership=team.eddie, name="X", upload=_upload("google.ics"))
    assert not CalendarSource.objects.exists()


# --- a subscription over HTTP -------------------------------------------------


class _CalendarServer(http.server.ThreadingHTTPServer):
    body: bytes = b""
    status: int = 200
    requests: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _CalendarServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def calendar_server() -> Iterator[_CalendarServer]:
    server = _CalendarServer(("127.0.0.1", 0), _Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_subscription_is_fetched_and_refreshed_by_the_beat_task(
    team, helsinki_org, calendar_server, monkeypatch
):
    sent: list[tuple[object, str]] = []

    def run_now(args: tuple[int], queue: str) -> None:
        # The beat task sends one task per calendar to the sync queue; run it here.
        sent.append((args, queue))
        refresh_calendar_source(*args)

    monkeypatch.setattr(refresh_calendar_source, "apply_async", run_now)
    calendar_server.body = ics("outlook.ics")
    url = f"http://127.0.0.1:{calendar_server.server_port}/owa/calendar/council/calendar.ics"

    source = calendar_source_check(membership=team.manny, name="Council", url=url)
    assert calendar_server.requests == ["/owa/calendar/council/calendar.ics"]
    assert not ImportantDate.objects.exists()  # nothing before the confirmation
    calendar_source_import(membership=team.manny, source=source)
    assert ImportantDate.objects.filter(source=source).count() == 4

    # The council moved its board meeting; the next refresh brings it in.
    calendar_server.body = ics("outlook.ics").replace(b"20260310T230000", b"20260312T100000")
    calendar_server.body = calendar_server.body.replace(b"20260311T010000", b"20260312T120000")
    with time_machine.travel(datetime(2026, 3, 1, 17, 0, tzinfo=UTC), tick=False):
        assert refresh_calendar_sources() == 1
    assert sent == [((source.pk,), "sync")]
    board = ImportantDate.objects.get(name="Kaupunginhallitus")
    assert (board.starts_on, _local(board.starts_at)) == (date(2026, 3, 12), "2026-03-12 10:00")
    refreshed = AuditEvent.objects.get(action="calendar_source.refreshed")
    assert refreshed.new_values["changed"] == 1
    # The address's host only: a private calendar's address carries its secret.
    assert refreshed.new_values["url_host"] == f"127.0.0.1:{calendar_server.server_port}"
    assert "owa" not in str(AuditEvent.objects.values_list("new_values", flat=True))
    assert len(calendar_server.requests) == 2

    # A source that answers an error keeps its events and says what went wrong.
    calendar_server.status = 404
    assert calendar_source_refresh(source.pk) is None
    source.refresh_from_db()
    assert source.last_error == "The calendar could not be fetched: the server answered 404."
    assert ImportantDate.objects.filter(source=source).count() == 4

    # Another refresh within six hours of the last good one is not due.
    with time_machine.travel(datetime(2026, 3, 1, 18, 0, tzinfo=UTC), tick=False):
        assert refresh_calendar_sources() == 0

    # A calendar checked but never imported (the preview left open) goes after a day.
    calendar_server.status = 200
    left = calendar_source_check(membership=team.manny, name="Forgotten", url=url)
    with time_machine.travel(datetime(2026, 3, 1, 20, 0, tzinfo=UTC), tick=False):
        refresh_calendar_sources()
    assert CalendarSource.objects.filter(pk=left.pk).exists()
    with time_machine.travel(datetime(2026, 3, 2, 11, 0, tzinfo=UTC), tick=False):
        refresh_calendar_sources()
    assert not CalendarSource.objects.filter(pk=left.pk).exists()
    assert CalendarSource.objects.filter(pk=source.pk).exists()


def test_a_subscription_on_a_private_address_is_refused_in_production(team, calendar_server):
    calendar_server.body = ics("outlook.ics")
    with override_settings(CONNECTORS_ALLOW_PRIVATE_NETWORKS=False):
        with pytest.raises(IcalError) as insecure:
            calendar_source_check(
                membership=team.manny,
                name="Council",
                url=f"http://127.0.0.1:{calendar_server.server_port}/c.ics",
            )
        with pytest.raises(IcalError) as private:
            calendar_source_check(
                membership=team.manny,
                name="Council",
                url=f"webcal://127.0.0.1:{calendar_server.server_port}/c.ics",
            )
    assert "https://" in " ".join(insecure.value.messages)
    assert "private network" in " ".join(private.value.messages)
    assert calendar_server.requests == []
    assert not CalendarSource.objects.exists()


# --- the pages ----------------------------------------------------------------


def test_a_manager_uploads_previews_and_imports_and_sees_the_events_on_the_calendar(
    client, login, team, helsinki_org
):
    login(client, team.manny.user)
    page = client.get("/publishing/calendar/dates/import/")
    assert page.status_code == 200

    response = client.post(
        "/publishing/calendar/dates/import/",
        {"name": "Council meetings", "file": _upload("outlook.ics"), "url": ""},
    )
    source = CalendarSource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/publishing/calendar/dates/import/{source.pk}/"

    preview = client.get(response["Location"]).content.decode()
    assert "4 events to add, 0 to change, 0 to remove, 0 unchanged." in re.sub(r"\s+", " ", preview)
    assert "Kaupunginvaltuuston kokous" in preview
    assert not ImportantDate.objects.exists()

    response = client.post(f"/publishing/calendar/dates/import/{source.pk}/confirm/", follow=True)
    assert "Council meetings was imported: 4 added, 0 changed, 0 removed." in (
        response.content.decode()
    )
    month = client.get("/publishing/calendar/?date=2026-03-01").content.decode()
    assert _marks(day_cell(month, "2026-03-16")) == ["Event: 18:00 Kaupunginvaltuuston kokous"]
    assert _marks(day_cell(month, "2026-03-30")) == ["Event: 18:00 Kaupunginvaltuuston kokous"]
    assert _marks(day_cell(month, "2026-03-11")) == ["Event: Kaupunginhallitus"]

    dates = client.get("/publishing/calendar/dates/").content.decode()
    assert "Imported from Council meetings" in dates
    # An imported event is changed at its source, not here.
    item = ImportantDate.objects.filter(source=source).first()
    assert item is not None
    edit = client.get(f"/publishing/calendar/dates/{item.pk}/")
    assert edit.status_code == 302
    assert edit["Location"] == f"/publishing/calendar/dates/import/{source.pk}/"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Subject,Start Date\nMeeting,2026-03-01\n", "does not begin with BEGIN:VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nSUMMARY:Å\r\n".encode("utf-16"), "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nDTSTART:\r\n:::\r\n", "cannot be read"),
    ],
)
def test_a_bad_file_on_the_page_is_an_error_not_a_crash(client, login, team, content, message):
    login(client, team.manny.user)
    response = client.post(
        "/publishing/calendar/dates/import/",
        {"name": "Council", "file": _upload("x.ics", content), "url": ""},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CalendarSource.objects.exists()


def test_the_form_needs_a_file_or_an_address(client, login, team):
    login(client, team.manny.user)
    response = client.post("/publishing/calendar/dates/import/", {"name": "Council", "url": ""})
    assert response.status_code == 400
    assert "Choose a file or enter an address (one of them)." in response.content.decode()


def test_cancelling_the_preview_imports_nothing(client, login, team):
    login(client, team.manny.user)
    client.post(
        "/publishing/calendar/dates/import/",
        {"name": "Library", "file": _upload("google.ics"), "url": ""},
    )
    source = CalendarSource.objects.get()
    response = client.post(f"/publishing/calendar/dates/import/{source.pk}/discard/")
    assert response.status_code == 302
    assert not CalendarSource.objects.exists()
    assert not ImportantDate.objects.exists()


def test_removing_a_calendar_removes_its_events_and_is_audited(client, login, team):
    source = _import_file(team, "google.ics")
    login(client, team.manny.user)
    response = client.post(f"/publishing/calendar/dates/import/{source.pk}/delete/")
    assert response.status_code == 302
    assert not ImportantDate.objects.exists()
    audit = AuditEvent.objects.get(action="calendar_source.deleted")
    assert audit.old_values == {"name": "Library", "url_host": "", "events": 5}


def test_another_organizations_calendar_is_not_found(client, login, team):
    source = _import_file(team, "google.ics")
    login(client, team.charlie.user)
    base = f"/publishing/calendar/dates/import/{source.pk}/"
    assert client.get(base).status_code == 404
    for action in ("confirm/", "check/", "discard/", "delete/"):
        assert client.post(base + action).status_code == 404
    assert "Library" not in client.get("/publishing/calendar/dates/import/").content.decode()
    assert ImportantDate.objects.filter(source=source).count() == 5


def test_an_editor_cannot_open_the_import_page(client, login, team):
    login(client, team.eddie.user)
    assert client.get("/publishing/calendar/dates/import/").status_code == 403


def test_a_manager_subscribes_on_the_page_and_checks_for_changes_now(
    client, login, team, helsinki_org, calendar_server
):
    calendar_server.body = ics("google.ics")
    url = f"http://127.0.0.1:{calendar_server.server_port}/calendar/ical/library/basic.ics"
    login(client, team.manny.user)

    response = client.post(
        "/publishing/calendar/dates/import/", {"name": "Library events", "url": url}
    )
    source = CalendarSource.objects.get()
    assert response.status_code == 302
    assert source.url == url
    client.post(f"/publishing/calendar/dates/import/{source.pk}/confirm/")
    assert ImportantDate.objects.filter(source=source).count() == 5
    listing = client.get("/publishing/calendar/dates/import/").content.decode()
    assert "Library events" in listing and "Subscription" in listing

    calendar_server.body = ics("google.ics").replace(
        b"SUMMARY:Satutunti\r\n", b"SUMMARY:Lorutunti\r\n"
    )
    client.post(f"/publishing/calendar/dates/import/{source.pk}/check/")
    preview = re.sub(
        r"\s+", " ", client.get(f"/publishing/calendar/dates/import/{source.pk}/").content.decode()
    )
    assert "0 events to add, 3 to change, 0 to remove, 2 unchanged." in preview
    client.post(f"/publishing/calendar/dates/import/{source.pk}/confirm/")
    assert ImportantDate.objects.filter(name="Lorutunti").count() == 3

    calendar_server.status = 500
    response = client.post(f"/publishing/calendar/dates/import/{source.pk}/check/", follow=True)
    assert "The calendar could not be fetched: the server answered 500." in (
        response.content.decode()
    )
    assert ImportantDate.objects.filter(source=source).count() == 5


def test_an_unreachable_or_private_address_on_the_page_is_an_error(client, login, team):
    login(client, team.manny.user)
    with override_settings(CONNECTORS_ALLOW_PRIVATE_NETWORKS=False):
        response = client.post(
            "/publishing/calendar/dates/import/",
            {"name": "Council", "url": "https://127.0.0.1/calendar.ics"},
        )
    assert response.status_code == 400
    assert "only public addresses can be used" in response.content.decode()
    response = client.post(
        "/publishing/calendar/dates/import/",
        {"name": "Council", "url": "ftp://example.org/calendar.ics"},
    )
    assert response.status_code == 400
    assert "Enter the calendar&#x27;s https:// (or webcal://) address." in (
        response.content.decode()
    )
    assert not CalendarSource.objects.exists()


def test_a_huge_upload_on_the_page_is_refused(client, login, team, monkeypatch):
    monkeypatch.setattr(ical_import, "MAX_BYTES", 1000)
    login(client, team.manny.user)
    response = client.post(
        "/publishing/calendar/dates/import/",
        {"name": "Council", "file": _upload("outlook.ics"), "url": ""},
    )
    assert response.status_code == 400
    assert "The calendar is too large" in response.content.decode()
    assert not CalendarSource.objects.exists()
