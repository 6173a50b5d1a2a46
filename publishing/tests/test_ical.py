"""The iCalendar feed: made and shown once from the calendar page, readable by any
calendar app without logging in, limited to what its owner may see, revocable."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from icalendar import Calendar

from governance.models import AuditEvent, Membership
from publishing.models import CalendarFeedToken, DateKind, ImportantDate, PostStatus
from publishing.tests.calendar_helpers import helsinki, scheduled_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def early_2026():
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        yield


def make_feed(client) -> str:
    """Create a feed address from the calendar page; return its path."""
    response = client.post("/publishing/calendar/feed/new/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    match = re.search(r'id="feed-url"[^>]*value="http://testserver(/[^"]+\.ics)"', page)
    assert match, "the new feed address is shown"
    return match.group(1)


def all_events(client, path: str) -> list:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return list(Calendar.from_ical(response.content).walk("VEVENT"))


def events(client, path: str) -> list:
    """The feed's posts (its all-day holidays and important dates left out)."""
    return [e for e in all_events(client, path) if str(e["uid"]).startswith("govsocial-variant-")]


def day_events(client, path: str) -> dict[str, Any]:
    """The feed's all-day events by UID."""
    return {
        str(e["uid"]): e
        for e in all_events(client, path)
        if not str(e["uid"]).startswith("govsocial-variant-")
    }


def test_feed_lists_scheduled_posts_with_utc_times_and_links(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 29, 9), "Clocks went forward tonight.")
    variant = post.variants.get()
    login(client, team.eddie.user)
    path = make_feed(client)

    client.logout()  # calendar apps send no session
    (event,) = events(client, path)

    assert str(event["uid"]) == f"govsocial-variant-{variant.pk}@testserver"
    assert event["dtstart"].to_ical() == b"20260329T060000Z"
    assert event.decoded("dtstart") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert str(event["summary"]) == "city-news: Clocks went forward tonight."
    assert str(event["url"]) == f"http://testserver/publishing/posts/{post.pk}/"
    assert "Status: Scheduled" in str(event["description"])


def test_feed_uid_stays_the_same_when_the_post_moves(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.eddie.user)
    path = make_feed(client)
    (before,) = events(client, path)

    client.post(
        f"/publishing/calendar/posts/{post.pk}/move/", {"date": "2026-03-21", "time": "10:00"}
    )
    (after,) = events(client, path)

    assert after["uid"] == before["uid"]
    assert after.decoded("dtstart") == datetime(2026, 3, 21, 8, 0, tzinfo=UTC)


def test_feed_has_one_event_per_variant(client, login, team):
    from publishing.services.posts import variant_save

    post = scheduled_post(team, helsinki(2026, 3, 20, 9), "Suomeksi.")
    # A second language (editing sends it back to review, and it keeps its time).
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.account,
        language="sv",
        text="På svenska.",
    )
    login(client, team.eddie.user)

    found = events(client, make_feed(client))

    assert sorted(str(e["summary"]) for e in found) == [
        "city-news: På svenska.",
        "city-news: Suomeksi.",
    ]
    assert len({str(e["uid"]) for e in found}) == 2


def test_limited_member_feed_shows_only_their_accounts(client, login, team, personas):
    scheduled_post(team, helsinki(2026, 3, 20, 9), "For bob's account.")
    scheduled_post(team, helsinki(2026, 3, 20, 10), "For the mayor.", account=team.other_account)
    login(client, personas.bob)

    found = events(client, make_feed(client))

    assert [str(e["summary"]) for e in found] == ["city-news: For bob's account."]


def test_cancelled_and_draft_posts_are_not_in_the_feed(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9), "Called off.")
    type(post).objects.filter(pk=post.pk).update(status=PostStatus.CANCELLED)
    login(client, team.eddie.user)

    assert events(client, make_feed(client)) == []


def test_only_the_hash_is_stored_and_creation_is_audited(client, login, team):
    login(client, team.eddie.user)
    path = make_feed(client)
    raw = path.rsplit("/", 1)[1].removesuffix(".ics")

    token = CalendarFeedToken.objects.get(user=team.eddie.user)
    assert raw not in token.token_hash
    assert AuditEvent.objects.filter(action="calendar_feed.created", actor=team.eddie.user).exists()
    # Shown once: the next visit to the calendar no longer shows it.
    assert raw not in client.get("/publishing/calendar/").content.decode()


def test_regenerating_the_feed_address_stops_the_old_one(client, login, team):
    login(client, team.eddie.user)
    old = make_feed(client)
    new = make_feed(client)

    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_revoking_the_feed_address_stops_it(client, login, team):
    login(client, team.eddie.user)
    path = make_feed(client)

    response = client.post("/publishing/calendar/feed/revoke/", follow=True)

    page = response.content.decode()
    assert "Your calendar feed address no longer works." in page
    assert "Create a feed address" in page
    assert client.get(path).status_code == 404
    assert AuditEvent.objects.filter(action="calendar_feed.revoked").exists()


def test_feed_stops_working_when_the_member_leaves(client, login, team):
    login(client, team.eddie.user)
    path = make_feed(client)

    Membership.objects.filter(pk=team.eddie.pk).update(is_active=False)

    assert client.get(path).status_code == 404


def test_an_unknown_feed_address_is_not_found(client):
    assert client.get("/publishing/calendar/feed/not-a-real-token.ics").status_code == 404


def test_feed_notes_when_it_was_last_fetched(client, login, team):
    login(client, team.eddie.user)
    path = make_feed(client)
    client.get(path)
    with time_machine.travel(datetime(2026, 3, 1, 10, 5, tzinfo=UTC), tick=False):
        client.get(path)  # within ten minutes: not written again

    token = CalendarFeedToken.objects.get(user=team.eddie.user, revoked_at__isnull=True)
    assert token.last_used_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    page = client.get("/publishing/calendar/").content.decode()
    assert "A calendar app last fetched it" in page


def test_feed_covers_past_posts_and_the_coming_year(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 2, 9), "Soon.")
    scheduled_post(team, helsinki(2027, 2, 1, 9), "Next winter.")
    login(client, team.eddie.user)
    path = make_feed(client)

    with time_machine.travel(datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(days=60)):
        summaries = [str(e["summary"]) for e in events(client, path)]

    assert summaries == ["city-news: Soon.", "city-news: Next winter."]


def test_feed_has_the_holidays_and_important_dates_all_day(client, login, team):
    item = ImportantDate.objects.create(
        organization=team.alice.organization,
        starts_on=date(2026, 4, 14),
        ends_on=date(2026, 4, 15),
        name="Election silence",
        kind=DateKind.QUIET,
        note="No campaign posts",
    )
    login(client, team.eddie.user)
    path = make_feed(client)
    client.logout()

    found = day_events(client, path)

    easter = found["govsocial-holiday-FI-2026-04-05-0@testserver"]
    assert str(easter["summary"]) == "Easter Sunday"
    assert easter["dtstart"].to_ical() == b"20260405"
    assert easter["dtend"].to_ical() == b"20260406"
    quiet = found[f"govsocial-date-{item.pk}@testserver"]
    assert str(quiet["summary"]) == "Quiet day: Election silence"
    assert (quiet.decoded("dtstart"), quiet.decoded("dtend")) == (
        date(2026, 4, 14),
        date(2026, 4, 16),
    )
    assert str(quiet["description"]) == "No campaign posts"


def test_feed_names_the_holidays_in_the_members_language(client, login, team):
    user = team.eddie.user
    user.preferred_language = "fi"
    user.save(update_fields=["preferred_language"])
    login(client, user)
    path = make_feed(client)
    client.logout()

    easter = day_events(client, path)["govsocial-holiday-FI-2026-04-05-0@testserver"]
    assert str(easter["summary"]) == "Pääsiäispäivä"
