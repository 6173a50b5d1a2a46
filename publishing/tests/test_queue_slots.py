"""Queue slots: the times of the week a team likes to post on each account, and "add to
queue", which plans a post in the earliest slot none of its accounts already uses."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from governance.models import AuditEvent
from publishing.models import PostStatus, PublishJob, QueueSlot, Weekday
from publishing.services.posts import post_cancel, post_schedule, post_update
from publishing.services.queue import next_free_slot, queue_slot_add
from publishing.tests.fixtures import approved, draft
from publishing.tests.test_views_compose import compose_data

pytestmark = pytest.mark.django_db

PAGE = "/publishing/queue/"
COMPOSE = "/publishing/posts/new/"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


def slot(team, account, weekday: int, hour: int, minute: int = 0) -> QueueSlot:
    return queue_slot_add(
        membership=team.alice, account=account, weekday=weekday, at=time(hour, minute)
    )


def when(accounts, **options) -> datetime:
    found = next_free_slot(accounts, **options)
    assert found is not None
    return found.at


def zone(team, name: str) -> None:
    org = team.alice.organization
    org.time_zone = name
    org.save(update_fields=["time_zone"])
    team.account.refresh_from_db()
    team.other_account.refresh_from_db()


def planned(team, account, at: datetime):
    post = draft(team.alice, account)
    return post_update(post=post, membership=team.alice, planned_at=at)


# --- the slot computation --------------------------------------------------------------


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_a_helsinki_slot_stays_nine_local_across_the_change_to_summer_time(team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    # The last Monday of winter time (UTC+2), then the first of summer time (UTC+3).
    assert when([team.account], after=utc(2027, 3, 20)) == utc(2027, 3, 22, 7)
    assert when([team.account], after=utc(2027, 3, 26)) == utc(2027, 3, 29, 6)
    # And back to winter time at the end of October.
    assert when([team.account], after=utc(2027, 10, 26)) == utc(2027, 11, 1, 7)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_a_slot_in_the_skipped_hour_moves_to_the_first_time_after_it(team):
    zone(team, "Europe/Helsinki")
    # On 28 March 2027 Helsinki clocks go from 03:00 straight to 04:00.
    slot(team, team.account, Weekday.SUNDAY, 3, 30)
    found = next_free_slot([team.account], after=utc(2027, 3, 27))
    assert found is not None
    assert found.at == utc(2027, 3, 28, 1, 0)  # 04:00 summer time
    # The week after, the slot is 03:30 again.
    assert when([team.account], after=found.at) == utc(2027, 4, 4, 0, 30)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_a_slot_in_the_repeated_hour_is_its_first_occurrence(team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.SUNDAY, 3, 30)
    # On 31 October 2027 03:00-04:00 happens twice; the first is still summer time.
    assert when([team.account], after=utc(2027, 10, 30)) == utc(2027, 10, 31, 0, 30)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_istanbul_has_no_summer_time_so_the_slot_is_the_same_utc_all_year(team):
    zone(team, "Europe/Istanbul")
    slot(team, team.account, Weekday.MONDAY, 9)
    assert when([team.account], after=utc(2027, 3, 20)) == utc(2027, 3, 22, 6)
    assert when([team.account], after=utc(2027, 3, 26)) == utc(2027, 3, 29, 6)
    assert when([team.account], after=utc(2027, 10, 26)) == utc(2027, 11, 1, 6)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_jakarta_slots_are_seven_hours_ahead_of_utc(team):
    zone(team, "Asia/Jakarta")
    slot(team, team.account, Weekday.TUESDAY, 8, 15)
    # Monday 22 March 20:00 UTC is Tuesday 03:00 in Jakarta: 08:15 that morning is next.
    assert when([team.account], after=utc(2027, 3, 22, 20)) == utc(2027, 3, 23, 1, 15)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_a_slot_with_a_post_planned_in_the_same_minute_is_skipped(team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    planned(team, team.account, utc(2027, 3, 8, 7, 0, 30))  # 09:00:30 local
    assert when([team.account]) == utc(2027, 3, 15, 7)
    # A cancelled post frees its slot again.
    other = planned(team, team.account, utc(2027, 3, 15, 7))
    assert when([team.account]) == utc(2027, 3, 22, 7)
    post_cancel(post=other, membership=team.alice)
    assert when([team.account]) == utc(2027, 3, 15, 7)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_the_post_being_placed_does_not_take_its_own_slot(team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    post = planned(team, team.account, utc(2027, 3, 8, 7))
    assert when([team.account], exclude_post=post) == utc(2027, 3, 8, 7)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_with_several_accounts_no_account_may_have_a_post_at_the_slot(team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    slot(team, team.other_account, Weekday.TUESDAY, 10)
    planned(team, team.other_account, utc(2027, 3, 2, 8))  # tomorrow's slot, taken
    planned(team, team.other_account, utc(2027, 3, 8, 7))  # Monday 09:00 on the other account
    both = [team.account, team.other_account]
    # The first account alone may use Monday; together the other account's post is in the way.
    assert when([team.account]) == utc(2027, 3, 8, 7)
    found = next_free_slot(both)
    assert found is not None
    assert found.at == utc(2027, 3, 9, 8)
    assert found.slot.channel_account == team.other_account


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_no_slots_and_disabled_slots_give_nothing(team):
    assert next_free_slot([team.account]) is None
    added = slot(team, team.account, Weekday.MONDAY, 9)
    QueueSlot.objects.filter(pk=added.pk).update(enabled=False)
    assert next_free_slot([team.account]) is None


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_only_eight_weeks_ahead_are_looked_at(team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    for week in range(8):
        local = datetime(2027, 3, 8, 9, tzinfo=ZoneInfo("Europe/Helsinki"))
        planned(team, team.account, local + timedelta(weeks=week))
    # Every Monday of the next eight weeks has a post; the ninth is too far ahead.
    assert next_free_slot([team.account]) is None
    assert when([team.account], after=utc(2027, 3, 10)) == utc(2027, 5, 3, 6)


# --- the page ----------------------------------------------------------------------------


def test_an_editor_adds_and_removes_a_slot(client, login, personas, team):
    login(client, team.eddie.user)
    response = client.post(
        PAGE, {"account": team.account.pk, "weekday": "1", "time": "09:30"}, follow=True
    )
    page = response.content.decode()
    assert "Added a queue slot to city-news: Tuesday at 09:30." in page
    assert "Remove Tuesday 09:30" in page
    added = QueueSlot.objects.get()
    assert AuditEvent.objects.filter(action="queue_slot.added").exists()
    response = client.post(f"{PAGE}{added.pk}/remove/", follow=True)
    assert "Removed the queue slot Tuesday at 09:30 of city-news." in response.content.decode()
    assert not QueueSlot.objects.exists()


def test_the_same_slot_twice_is_refused_with_a_message(client, login, personas, team):
    slot(team, team.account, Weekday.TUESDAY, 9, 30)
    login(client, team.eddie.user)
    response = client.post(PAGE, {"account": team.account.pk, "weekday": "1", "time": "09:30"})
    assert response.status_code == 400
    assert "city-news already has a slot on that day at that time." in response.content.decode()


def test_bad_input_is_a_400_with_messages(client, login, personas, team):
    login(client, team.eddie.user)
    response = client.post(PAGE, {"account": "x", "weekday": "9", "time": "25:99"})
    assert response.status_code == 400
    assert not QueueSlot.objects.exists()


def test_a_reviewer_sees_the_slots_but_may_not_change_them(client, login, personas, team):
    added = slot(team, team.account, Weekday.MONDAY, 9)
    login(client, team.rita.user)
    page = client.get(PAGE).content.decode()
    assert "Monday" in page
    assert "Add a queue slot" not in page
    assert (
        client.post(PAGE, {"account": team.account.pk, "weekday": "1", "time": "9:00"}).status_code
        == 403
    )
    assert client.post(f"{PAGE}{added.pk}/remove/").status_code == 403
    assert QueueSlot.objects.count() == 1


def test_another_organization_gets_404_for_our_slots(client, login, personas, team):
    added = slot(team, team.account, Weekday.MONDAY, 9)
    login(client, personas.charlie)
    page = client.get(PAGE).content.decode()
    assert "city-news" not in page
    assert client.post(f"{PAGE}{added.pk}/remove/").status_code == 404
    response = client.post(PAGE, {"account": team.account.pk, "weekday": "1", "time": "09:00"})
    assert response.status_code == 400
    assert QueueSlot.objects.count() == 1


def test_a_limited_member_sees_and_changes_only_their_accounts(client, login, personas, team):
    hidden = slot(team, team.other_account, Weekday.MONDAY, 9)
    login(client, personas.bob)
    page = client.get(PAGE).content.decode()
    assert "city-news" in page
    assert "city-mayor" not in page
    assert client.post(f"{PAGE}{hidden.pk}/remove/").status_code == 404
    response = client.post(
        PAGE, {"account": team.other_account.pk, "weekday": "1", "time": "09:00"}
    )
    assert response.status_code == 400
    assert QueueSlot.objects.count() == 1


# --- add to queue --------------------------------------------------------------------------


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_add_to_queue_in_the_composer_fills_the_planned_time(client, login, personas, team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    planned(team, team.account, utc(2027, 3, 8, 7))
    login(client, team.eddie.user)
    data = compose_data({(team.account, "fi"): "Kirjasto aukeaa."}, action="queue")
    response = client.post(COMPOSE, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="2027-03-15T09:00"' in page
    assert "Planned for the next free queue slot: Monday" in page
    assert "09:00 (Europe/Helsinki), a queue slot of city-news" in page
    # Saving keeps that time.
    client.post(
        COMPOSE,
        compose_data({(team.account, "fi"): "Kirjasto aukeaa."}, planned_at="2027-03-15T09:00"),
    )
    assert team.account.post_variants.latest("pk").post.scheduled_at == utc(2027, 3, 15, 7)


def test_add_to_queue_without_slots_says_so(client, login, personas, team):
    login(client, team.eddie.user)
    data = compose_data({(team.account, "fi"): "Kirjasto aukeaa."}, action="queue")
    page = client.post(COMPOSE, data).content.decode()
    assert "These accounts have no queue slots." in page


def test_add_to_queue_without_accounts_asks_for_them(client, login, personas, team):
    login(client, team.eddie.user)
    page = client.post(COMPOSE, {"action": "queue", "title": "x"}).content.decode()
    assert "Choose the accounts first" in page


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_an_approved_post_is_scheduled_in_the_next_free_slot(client, login, personas, team):
    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.MONDAY, 9)
    slot(team, team.account, Weekday.WEDNESDAY, 14)
    post = approved(team)
    login(client, team.eddie.user)
    assert (
        "Schedule in the next free slot"
        in client.get(f"/publishing/posts/{post.pk}/").content.decode()
    )
    response = client.post(f"/publishing/posts/{post.pk}/schedule-next/", follow=True)
    page = response.content.decode()
    assert "Scheduled in the next free queue slot: Wednesday" in page
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == utc(2027, 3, 3, 12)
    assert list(PublishJob.objects.filter(post=post).values_list("due_at", flat=True)) == [
        utc(2027, 3, 3, 12)
    ]
    # The next approved post goes to the following slot.
    second = approved(team)
    client.post(f"/publishing/posts/{second.pk}/schedule-next/")
    second.refresh_from_db()
    assert second.scheduled_at == utc(2027, 3, 8, 7)


def test_schedule_in_the_next_slot_without_slots_says_so(client, login, personas, team):
    post = approved(team)
    login(client, team.eddie.user)
    response = client.post(f"/publishing/posts/{post.pk}/schedule-next/", follow=True)
    assert "These accounts have no queue slots." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_schedule_in_the_next_slot_keeps_the_checks_and_permissions(client, login, personas, team):
    slot(team, team.account, Weekday.MONDAY, 9)
    post = draft(team.eddie, team.account)
    login(client, team.eddie.user)
    response = client.post(f"/publishing/posts/{post.pk}/schedule-next/", follow=True)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT
    assert "This post is draft, so it cannot be scheduled." in response.content.decode()
    ready = approved(team)
    login(client, team.rita.user)
    assert client.post(f"/publishing/posts/{ready.pk}/schedule-next/").status_code == 403
    login(client, personas.charlie)
    assert client.post(f"/publishing/posts/{ready.pk}/schedule-next/").status_code == 404


# --- the calendar ------------------------------------------------------------------------


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_the_week_view_marks_free_queue_slots(client, login, personas, team):
    from publishing.tests.calendar_helpers import day_cell

    zone(team, "Europe/Helsinki")
    slot(team, team.account, Weekday.TUESDAY, 9, 30)
    slot(team, team.account, Weekday.WEDNESDAY, 14)
    slot(team, team.other_account, Weekday.TUESDAY, 9, 30)
    planned(team, team.account, utc(2027, 3, 3, 12))  # Wednesday 14:00 is taken
    login(client, personas.bob)
    page = client.get("/publishing/calendar/week/?date=2027-03-01").content.decode()
    tuesday = day_cell(page, "2027-03-02", hour=9)
    assert "Free queue slot 09:30, city-news" in tuesday
    # Bob cannot see city-mayor, so its slot is not shown to him.
    assert "city-mayor" not in tuesday
    assert "Free queue slot" not in day_cell(page, "2027-03-03", hour=14)


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_a_paused_slot_is_skipped_until_it_is_used_again(client, login, personas, team):
    zone(team, "Europe/Helsinki")
    added = slot(team, team.account, Weekday.TUESDAY, 9)
    login(client, team.eddie.user)
    page = client.post(f"{PAGE}{added.pk}/toggle/", follow=True).content.decode()
    assert "Paused the queue slot Tuesday 09:00 of city-news" in page
    assert "Use Tuesday 09:00 again" in page
    assert next_free_slot([team.account]) is None
    page = client.post(f"{PAGE}{added.pk}/toggle/", follow=True).content.decode()
    assert "The queue slot Tuesday 09:00 of city-news is in use again." in page
    assert when([team.account]) == utc(2027, 3, 2, 7)
    login(client, team.rita.user)
    assert client.post(f"{PAGE}{added.pk}/toggle/").status_code == 403
    login(client, personas.charlie)
    assert client.post(f"{PAGE}{added.pk}/toggle/").status_code == 404


def test_the_slots_page_makes_the_same_queries_however_many_slots(
    client, login, personas, team, django_assert_max_num_queries
):
    login(client, team.eddie.user)
    slot(team, team.account, Weekday.MONDAY, 9)
    with django_assert_max_num_queries(30) as few:
        client.get(PAGE)
    for weekday in range(7):
        for hour in (8, 12, 16):
            slot(team, team.other_account, weekday, hour)
            if weekday:
                slot(team, team.account, weekday, hour)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(PAGE).content.decode()
    assert page.count("Remove ") >= 40


def test_the_slots_page_in_finnish(client, login, personas, team):
    slot(team, team.account, Weekday.MONDAY, 9)
    team.eddie.user.preferred_language = "fi"
    team.eddie.user.save(update_fields=["preferred_language"])
    login(client, team.eddie.user)
    client.cookies["django_language"] = "fi"
    page = client.get(PAGE).content.decode()
    assert "Jonopaikat" in page
    assert "Lisää jonopaikka" in page


@time_machine.travel(utc(2027, 3, 1, 12, 0), tick=False)
def test_a_scheduled_post_is_not_queued_from_the_composer(client, login, personas, team):
    slot(team, team.account, Weekday.MONDAY, 9)
    post = approved(team)
    post_schedule(post=post, membership=team.eddie, at=utc(2027, 3, 2, 7))
    login(client, team.eddie.user)
    edit = f"/publishing/posts/{post.pk}/edit/"
    # Its time moves on its own page; the composer offers no "Add to queue".
    assert "Add to queue" not in client.get(edit).content.decode()
    data = compose_data({(team.account, "fi"): "Library opens at 9."}, action="queue")
    assert client.post(edit, data).status_code == 200
    post.refresh_from_db()
    assert post.scheduled_at == utc(2027, 3, 2, 7)
