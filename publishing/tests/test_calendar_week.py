"""The week view at volume: each hour slot shows its first posts and "N more", which
htmx replaces with the rest in place; the filter choices come from a cache that
follows every change; query counts stay the same however many posts there are."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publishing.models import Campaign
from publishing.services.posts import variant_save
from publishing.tests.calendar_helpers import day_cell, helsinki, scheduled_post

pytestmark = pytest.mark.django_db

WEEK = "/publishing/calendar/week/?date=2026-03-02"


@pytest.fixture(autouse=True)
def early_2026():
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        yield


def busy_nine_oclock(team, count: int) -> list:
    return [
        scheduled_post(team, helsinki(2026, 3, 2, 9, n), f"Nine o'clock post {n}.")
        for n in range(count)
    ]


def expand_url(cell: str) -> str:
    match = re.search(r'hx-get="([^"]+)"', cell)
    assert match, "no N more in the cell"
    return html.unescape(match.group(1))


def test_a_busy_hour_shows_its_first_two_posts_and_how_many_more(client, login, team):
    busy_nine_oclock(team, 5)
    scheduled_post(team, helsinki(2026, 3, 2, 10), "At ten.")
    login(client, team.eddie.user)

    page = client.get(WEEK).content.decode()

    nine = day_cell(page, "2026-03-02", hour=9)
    assert [n for n in range(5) if f"Nine o&#x27;clock post {n}." in nine] == [0, 1]
    assert '<span aria-hidden="true">3 more</span>' in nine
    assert "3 more posts at 09:00 on Monday, 2 March 2026" in nine
    assert "At ten." in day_cell(page, "2026-03-02", hour=10)
    assert "more</span>" not in day_cell(page, "2026-03-02", hour=10)
    assert "6 posts in this period." in page


def test_n_more_expands_to_the_rest_of_the_hour_with_move_links(client, login, team):
    posts = busy_nine_oclock(team, 5)
    login(client, team.eddie.user)
    nine = day_cell(client.get(WEEK).content.decode(), "2026-03-02", hour=9)

    response = client.get(expand_url(nine), headers={"HX-Request": "true"})

    rest = response.content.decode()
    assert response.status_code == 200
    assert [n for n in range(5) if f"Nine o&#x27;clock post {n}." in rest] == [2, 3, 4]
    assert 'aria-label="3 more posts at 09:00 on Monday, 2 March 2026"' in rest
    assert 'tabindex="-1"' in rest
    for post in posts[2:]:
        assert f'data-move-url="/publishing/calendar/posts/{post.pk}/move/"' in rest
    # After a move the person comes back to the week they were looking at.
    assert "?next=%2Fpublishing%2Fcalendar%2Fweek%2F%3Fdate%3D2026-03-02" in rest


def test_n_more_keeps_the_filters(client, login, team):
    busy_nine_oclock(team, 3)
    for n in range(3):
        scheduled_post(
            team, helsinki(2026, 3, 2, 9, 30 + n), f"Mayor {n}.", account=team.other_account
        )
    login(client, team.eddie.user)
    page = client.get(f"{WEEK}&account={team.other_account.pk}").content.decode()
    nine = day_cell(page, "2026-03-02", hour=9)
    assert "Nine o&#x27;clock" not in nine and "1 more post at 09:00" in nine

    rest = client.get(expand_url(nine), headers={"HX-Request": "true"}).content.decode()

    assert "Mayor 2." in rest
    assert "Nine o&#x27;clock" not in rest and "Mayor 0." not in rest


def test_n_more_without_javascript_opens_the_days_list(client, login, team):
    busy_nine_oclock(team, 3)
    login(client, team.eddie.user)
    nine = day_cell(client.get(WEEK).content.decode(), "2026-03-02", hour=9)

    response = client.get(expand_url(nine))

    assert response.status_code == 302
    day_list = client.get(response["Location"]).content.decode()
    assert all(f"Nine o&#x27;clock post {n}." in day_list for n in range(3))


@pytest.mark.parametrize("query", ["date=2026-03-02&hour=24", "date=nonsense&hour=9", "hour=9"])
def test_n_more_with_a_bad_date_or_hour_is_a_clear_400(client, login, team, query):
    login(client, team.eddie.user)
    response = client.get(
        f"/publishing/calendar/week/more/?{query}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert response.content.decode() == "Choose a date and an hour."


def test_an_outsider_gets_none_of_the_hours_posts(client, login, team, personas):
    busy_nine_oclock(team, 4)
    login(client, personas.charlie)
    response = client.get(
        "/publishing/calendar/week/more/?date=2026-03-02&hour=9", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Nine o" not in response.content.decode()


def test_the_hour_the_clocks_pass_twice_is_one_row(client, login, team):
    # 25 October 2026 in Helsinki: 03:00-03:59 comes twice (summer time, then winter time).
    scheduled_post(team, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "First 03:30.")
    scheduled_post(team, datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Second 03:30.")
    scheduled_post(team, datetime(2026, 10, 25, 1, 45, tzinfo=UTC), "03:45 in winter time.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/week/?date=2026-10-25").content.decode()

    three = day_cell(page, "2026-10-25", hour=3)
    assert "First 03:30." in three and "Second 03:30." in three
    assert "1 more post at 03:00 on Sunday, 25 October 2026" in three
    rest = client.get(expand_url(three), headers={"HX-Request": "true"}).content.decode()
    assert "03:45 in winter time." in rest


def test_week_and_more_queries_do_not_grow_with_the_number_of_posts(client, login, team):
    busy_nine_oclock(team, 3)
    login(client, team.eddie.user)
    client.get(WEEK)  # the filter choices are cached from here on
    more = "/publishing/calendar/week/more/?date=2026-03-02&hour=9"
    with CaptureQueriesContext(connection) as few_week:
        client.get(WEEK)
    with CaptureQueriesContext(connection) as few_more:
        client.get(more, headers={"HX-Request": "true"})
    for n in range(20):
        account = team.other_account if n % 2 else team.account
        scheduled_post(
            team, helsinki(2026, 3, 2 + n % 7, 9 + n % 3, n), f"Post {n}.", account=account
        )
    client.get(WEEK)  # new posts and their notices emptied the per-org and per-person caches
    with CaptureQueriesContext(connection) as many_week:
        page = client.get(WEEK).content.decode()
    with CaptureQueriesContext(connection) as many_more:
        rest = client.get(more, headers={"HX-Request": "true"}).content.decode()

    assert "23 posts in this period." in page
    assert rest.count('class="cal-post ') == 2  # 9:00 on Monday: 4 posts, 2 shown
    assert len(many_week.captured_queries) == len(few_week.captured_queries)
    assert len(many_more.captured_queries) == len(few_more.captured_queries)


def test_filter_choices_are_read_once_and_follow_every_change(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 2, 9), "In Finnish.", language="fi")
    login(client, team.eddie.user)
    client.get(WEEK)

    with CaptureQueriesContext(connection) as cached:
        page = client.get(WEEK).content.decode()
    assert not [q for q in cached.captured_queries if "DISTINCT" in q["sql"]]
    assert '<option value="fi">Finnish (fi)</option>' in page

    post = scheduled_post(team, helsinki(2026, 3, 3, 9), "In Swedish.", language="sv")
    Campaign.objects.create(organization=team.alice.organization, name="Summer fair")
    team.other_account.handle = "city-mayor-office"
    team.other_account.save(update_fields=["handle"])
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.other_account,
        language="en",
        text="In English.",
    )

    page = client.get(WEEK).content.decode()
    assert '<option value="sv">Swedish (sv)</option>' in page
    assert '<option value="en">English (en)</option>' in page
    assert ">Summer fair</option>" in page
    assert ">city-mayor-office</option>" in page


def test_a_chosen_filter_stays_selected_and_a_bad_one_is_explained(client, login, team):
    login(client, team.eddie.user)

    page = client.get(f"{WEEK}&account={team.account.pk}&status=nonsense").content.decode()

    assert f'<option value="{team.account.pk}" selected>city-news</option>' in page
    assert 'aria-invalid="true" aria-describedby="id_status_error"' in page
    assert "Select a valid choice. nonsense is not one of the available choices." in page


def test_a_limited_member_is_offered_only_their_accounts(client, login, team, personas):
    login(client, team.eddie.user)
    assert "city-mayor" in client.get(WEEK).content.decode()  # cached with every account
    login(client, personas.bob)

    page = client.get(WEEK).content.decode()

    assert ">city-news</option>" in page
    assert "city-mayor" not in page


def test_the_months_n_more_with_a_bad_date_is_a_clear_400(client, login, team):
    login(client, team.eddie.user)
    response = client.get("/publishing/calendar/more/?date=2026-02-30", headers={"HX-Request": "1"})
    assert response.status_code == 400
    assert response.content.decode() == "Choose a date."


def test_hours_with_no_post_on_any_day_are_drawn_low(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 2, 9), "At nine.")
    scheduled_post(team, helsinki(2026, 3, 5, 14), "At two.")
    login(client, team.eddie.user)

    page = client.get(WEEK).content.decode()

    rows = re.findall(r"<tr([^>]*)>\s*<th scope=\"row\">(\d\d):00</th>", page)
    assert len(rows) == 24
    low = [hour for attributes, hour in rows if 'class="cal-hour-empty"' in attributes]
    assert low == [f"{hour:02d}" for hour in range(24) if hour not in (9, 14)]
