"""The calendar's month, week and list views: the right posts on the right local day
and hour (also on the days the clocks change), filters, access, query counts."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from publishing.models import Campaign, PostStatus
from publishing.services.posts import post_create, post_update, variant_save
from publishing.tests.calendar_helpers import (
    approved_post,
    day_cell,
    helsinki,
    scheduled_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def early_2026():
    # Before both of 2026's clock changes in Helsinki (29 March and 25 October).
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        yield


def test_month_shows_a_post_at_nine_on_the_spring_clock_change_day(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 29, 9), "Clocks went forward tonight.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-03-01").content.decode()

    cell = day_cell(page, "2026-03-29")
    assert '<time datetime="2026-03-29T09:00:00+03:00">09:00</time>' in cell
    assert "city-news: Clocks went forward tonight." in cell
    assert "Scheduled" in cell
    assert "Clocks went forward" not in day_cell(page, "2026-03-28")


def test_month_shows_a_post_at_nine_on_the_autumn_clock_change_day(client, login, team):
    scheduled_post(team, helsinki(2026, 10, 25, 9), "Clocks went back tonight.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-10-14").content.decode()

    cell = day_cell(page, "2026-10-25")
    assert '<time datetime="2026-10-25T09:00:00+02:00">09:00</time>' in cell
    assert "Clocks went back tonight." in cell


def test_a_post_just_after_local_midnight_is_on_the_local_day(client, login, team):
    # 00:30 in Helsinki on 30 March is still 29 March in UTC.
    scheduled_post(team, helsinki(2026, 3, 30, 0, 30), "Just after midnight.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-03-01").content.decode()

    assert "Just after midnight." in day_cell(page, "2026-03-30")
    assert "Just after midnight." not in day_cell(page, "2026-03-29")


def test_the_same_post_shows_on_the_readers_own_local_day(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 30, 0, 30), "Just after midnight.")
    user = team.eddie.user
    user.time_zone = "Europe/London"
    user.save(update_fields=["time_zone"])
    login(client, user)

    page = client.get("/publishing/calendar/?date=2026-03-01").content.decode()

    # 00:30 in Helsinki is 22:30 the evening before in London.
    cell = day_cell(page, "2026-03-29")
    assert "Just after midnight." in cell
    assert ">22:30</time>" in cell
    assert "Times are in your time zone, Europe/London." in page


def test_week_view_puts_posts_in_their_local_hour_across_the_clock_change(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 28, 9), "Saturday at nine.")
    scheduled_post(team, helsinki(2026, 3, 29, 9), "Sunday at nine.")
    scheduled_post(team, helsinki(2026, 3, 29, 4, 15), "Just after the change.")
    login(client, team.eddie.user)

    response = client.get("/publishing/calendar/week/?date=2026-03-29")
    page = response.content.decode()

    assert response.status_code == 200
    assert "Saturday at nine." in day_cell(page, "2026-03-28", hour=9)
    assert "Sunday at nine." in day_cell(page, "2026-03-29", hour=9)
    assert "Just after the change." in day_cell(page, "2026-03-29", hour=4)
    assert "Sunday at nine." not in day_cell(page, "2026-03-29", hour=8)
    assert "Week 13" in page


def test_list_view_groups_posts_by_local_day(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 29, 9), "First post.")
    scheduled_post(team, helsinki(2026, 3, 29, 18), "Second post.")
    scheduled_post(team, helsinki(2026, 3, 31, 9), "Third post.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/list/?date=2026-03-15&span=month").content.decode()

    sunday = day_cell(page, "2026-03-29")
    assert sunday.index("First post.") < sunday.index("Second post.")
    assert "Third post." in day_cell(page, "2026-03-31")
    assert 'data-calendar-drop="2026-03-30"' not in page  # no empty days


def test_list_view_for_one_day(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 29, 9), "On the day.")
    scheduled_post(team, helsinki(2026, 3, 30, 9), "The day after.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/list/?date=2026-03-29&span=day").content.decode()

    assert "On the day." in page
    assert "The day after." not in page
    assert "Next day" in page


def test_list_view_shows_a_week_unless_asked_for_more(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 29, 9), "Sunday.")
    scheduled_post(team, helsinki(2026, 3, 30, 9), "Next Monday.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/list/?date=2026-03-25").content.decode()

    assert "Sunday." in page
    assert "Next Monday." not in page
    assert "Next week" in page


def test_a_busy_day_in_the_month_shows_its_first_posts_and_links_to_the_rest(client, login, team):
    for n in range(7):
        scheduled_post(team, helsinki(2026, 3, 29, 9 + n), f"Busy post {n}.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-03-01").content.decode()

    cell = day_cell(page, "2026-03-29")
    assert [n for n in range(7) if f"Busy post {n}." in cell] == [0, 1, 2, 3, 4]
    more = re.search(r'<a href="([^"]+)"[^>]*>2 more posts on Sunday, 29 March 2026</a>', cell)
    assert more
    day_list = client.get(html.unescape(more.group(1))).content.decode()
    assert all(f"Busy post {n}." in day_list for n in range(7))
    assert "7 posts in this period." in page
    # With JavaScript, htmx shows the other two in the cell instead.
    expand = re.search(r'hx-get="([^"]+)"', cell)
    assert expand
    rest = client.get(html.unescape(expand.group(1)), headers={"HX-Request": "true"})
    assert [n for n in range(7) if f"Busy post {n}." in rest.content.decode()] == [5, 6]
    assert 'aria-label="2 more posts on Sunday, 29 March 2026"' in rest.content.decode()
    assert "?next=%2Fpublishing%2Fcalendar%2F%3Fdate%3D2026-03-29" in rest.content.decode()


def test_previous_next_and_today_keep_the_filters(client, login, team):
    login(client, team.eddie.user)

    page = client.get(
        f"/publishing/calendar/?date=2026-03-10&status=scheduled&account={team.account.pk}"
    ).content.decode()

    def link(text: str) -> str:
        match = re.search(rf'<a href="([^"]+)"[^>]*>{text}</a>', page)
        assert match, text
        return html.unescape(match.group(1))

    for text, day in [
        ("Previous month", "2026-02-01"),
        ("Next month", "2026-04-01"),
        ("Today", "2026-03-01"),
    ]:
        query = parse_qs(urlsplit(link(text)).query)
        assert query == {"status": ["scheduled"], "account": [str(team.account.pk)], "date": [day]}
    assert 'aria-current="date"' in page  # today, 1 March 2026


def test_filters_by_account_status_language_and_campaign(client, login, team):
    campaign = Campaign.objects.create(organization=team.alice.organization, name="Spring fair")
    news = scheduled_post(team, helsinki(2026, 3, 20, 9), "Finnish on news.", language="fi")
    scheduled_post(
        team,
        helsinki(2026, 3, 20, 10),
        "Swedish on mayor.",
        account=team.other_account,
        language="sv",
    )
    post_update(post=news, membership=team.eddie, campaign=campaign)
    login(client, team.eddie.user)

    def shown(query: str) -> str:
        return client.get(f"/publishing/calendar/?date=2026-03-01&{query}").content.decode()

    by_account = shown(f"account={team.other_account.pk}")
    assert "Swedish on mayor." in by_account and "Finnish on news." not in by_account
    by_language = shown("language=fi")
    assert "Finnish on news." in by_language and "Swedish on mayor." not in by_language
    by_campaign = shown(f"campaign={campaign.pk}")
    assert "Finnish on news." in by_campaign and "Swedish on mayor." not in by_campaign
    by_status = shown("status=published")
    assert "Finnish on news." not in by_status and "Swedish on mayor." not in by_status
    assert "Clear filters" in by_status


def test_an_unknown_filter_value_is_reported_not_applied(client, login, team):
    scheduled_post(team, helsinki(2026, 3, 20, 9), "Still shown.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-03-01&status=nonsense").content.decode()

    assert "Still shown." in page
    assert "Select a valid choice." in page


def test_drafts_without_a_time_are_listed_apart(client, login, team):
    post = post_create(membership=team.eddie, title="Idea")
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.account,
        language="fi",
        text="An idea for May.",
    )
    approved_post(team, "Approved, waiting for a time.")
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/").content.decode()

    unscheduled = page.split('id="unscheduled-heading"', 1)[1]
    assert "city-news: An idea for May." in unscheduled
    assert "Draft" in unscheduled
    assert "Approved, waiting for a time." in unscheduled


def test_a_draft_with_a_planned_time_is_on_the_grid_on_its_local_day(client, login, team):
    # 00:30 on 11 March in Helsinki is still 10 March in UTC.
    post = post_create(membership=team.eddie, title="Plan", planned_at=helsinki(2026, 3, 11, 0, 30))
    variant_save(
        post=post,
        membership=team.eddie,
        channel_account=team.account,
        language="fi",
        text="Planned for the small hours.",
    )
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/?date=2026-03-01").content.decode()

    cell = day_cell(page, "2026-03-11")
    assert '<time datetime="2026-03-11T00:30:00+02:00">00:30</time>' in cell
    assert "city-news: Planned for the small hours." in cell
    assert '<span class="cal-status">Draft</span>' in cell
    assert "Planned for the small hours." not in day_cell(page, "2026-03-10")
    assert "Planned for the small hours." not in page.split('id="unscheduled-heading"', 1)[1]


def test_published_and_failed_posts_show_their_status_in_words(client, login, team):
    published = scheduled_post(team, helsinki(2026, 3, 5, 9), "Went out fine.")
    failed = scheduled_post(team, helsinki(2026, 3, 6, 9), "Did not go out.")
    type(published).objects.filter(pk=published.pk).update(status=PostStatus.PUBLISHED)
    type(failed).objects.filter(pk=failed.pk).update(status=PostStatus.FAILED)
    login(client, team.eddie.user)

    page = client.get("/publishing/calendar/").content.decode()

    assert "Published" in day_cell(page, "2026-03-05")
    assert "Failed" in day_cell(page, "2026-03-06")
    # Only scheduled posts can be moved.
    assert f"/publishing/calendar/posts/{published.pk}/move/" not in page


def test_cancelled_posts_are_left_out_unless_asked_for(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 5, 9), "Called off.")
    type(post).objects.filter(pk=post.pk).update(status=PostStatus.CANCELLED)
    login(client, team.eddie.user)

    assert "Called off." not in client.get("/publishing/calendar/").content.decode()
    assert "Called off." in client.get("/publishing/calendar/?status=cancelled").content.decode()


def test_limited_member_sees_only_their_accounts_posts(client, login, team, personas):
    scheduled_post(team, helsinki(2026, 3, 20, 9), "For bob's account.")
    scheduled_post(team, helsinki(2026, 3, 20, 10), "For the mayor.", account=team.other_account)
    login(client, personas.bob)

    page = client.get("/publishing/calendar/").content.decode()

    assert "For bob&#x27;s account." in page
    assert "For the mayor." not in page
    assert "city-mayor" not in page  # not even as a filter choice


def test_outsider_sees_none_of_the_organizations_posts(client, login, team, personas):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9), "City business.")
    login(client, personas.charlie)

    page = client.get("/publishing/calendar/").content.decode()

    assert "City business." not in page
    assert client.get(f"/publishing/calendar/posts/{post.pk}/move/").status_code == 404


def test_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get("/publishing/calendar/")
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


@pytest.mark.parametrize(
    "path", ["/publishing/calendar/", "/publishing/calendar/week/", "/publishing/calendar/list/"]
)
def test_query_count_does_not_grow_with_the_number_of_posts(
    client, login, team, django_assert_max_num_queries, path
):
    login(client, team.eddie.user)
    scheduled_post(team, helsinki(2026, 3, 2, 9), "One post.")
    client.get(f"{path}?date=2026-03-02")  # the filter choices are cached from here on
    with django_assert_max_num_queries(20) as few:
        client.get(f"{path}?date=2026-03-02")
    few_count = len(few.captured_queries)  # read now: each request resets the query log
    for n in range(12):
        account = team.other_account if n % 2 else team.account
        scheduled_post(
            team, helsinki(2026, 3, 2, 10) + timedelta(minutes=n), f"Post {n}.", account=account
        )
    # Approving the posts sent notices, which dropped the cached unread count: refill it.
    client.get(f"{path}?date=2026-03-02")
    with django_assert_max_num_queries(few_count) as many:
        response = client.get(f"{path}?date=2026-03-02")
    assert response.content.decode().count("Post 1") >= 1
    assert len(many.captured_queries) == few_count
