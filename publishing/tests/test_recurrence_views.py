"""The composer's "Repeat" section and the series page, as a user sees them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from publishing.models import Post, PostSeries, PostStatus
from publishing.services.posts import post_update
from publishing.services.recurrence import RepeatSpec, series_set
from publishing.tests.fixtures import draft
from publishing.tests.test_recurrence import approve_and_schedule, zone
from publishing.tests.test_views_compose import compose_data

pytestmark = pytest.mark.django_db

COMPOSE = "/publishing/posts/new/"
NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)


def repeat(**fields: Any) -> dict[str, Any]:
    return {f"repeat-{name}": value for name, value in fields.items()}


@time_machine.travel(NOW, tick=False)
def test_the_preview_shows_the_rule_in_words_and_the_next_dates(client, login, team):
    zone(team, "Europe/Helsinki")
    login(client, team.eddie.user)
    data = compose_data(
        {(team.account, "fi"): "Office hours."},
        action="repeat_preview",
        planned_at="2027-03-02T10:00",
        **repeat(frequency="weekly", interval="1", weekdays=["1"], ends="after", count="4"),
    )
    page = client.post(COMPOSE, data).content.decode()
    assert "Every week on Tuesday at 10:00, 4 times (Europe/Helsinki time)" in page
    assert "Tuesday 9 Mar 2027 10:00" in page.replace("\u202f", " ") or "9 Mar 2027" in page
    assert not Post.objects.exists()  # a preview saves nothing


@time_machine.travel(NOW, tick=False)
def test_saving_a_repeating_post_starts_its_series(client, login, team):
    zone(team, "Europe/Helsinki")
    login(client, team.eddie.user)
    data = compose_data(
        {(team.account, "fi"): "Council meets tonight."},
        planned_at="2027-03-09T18:00",
        **repeat(
            frequency="monthly", interval="1", monthly_by="weekday", ends="on", until="2027-12-31"
        ),
    )
    response = client.post(COMPOSE, data)
    assert response.status_code == 302
    series = PostSeries.objects.get()
    assert series.rule == "FREQ=MONTHLY;INTERVAL=1;BYDAY=+2TU;UNTIL=20271231T235959"
    assert (str(series.starts_on), series.time_of_day.strftime("%H:%M")) == ("2027-03-09", "18:00")
    page = client.get(f"/publishing/series/{series.pk}/").content.decode()
    assert "Every month on the second Tuesday at 18:00 until 31 Dec 2027" in page
    assert "Waiting for approval" in page
    # The composer opens with the series' repeat filled in.
    edit = client.get(f"/publishing/posts/{series.head_id}/edit/").content.decode()
    assert re.search(r'value="weekday"[^>]*checked', edit)
    assert re.search(r'value="on"[^>]*checked', edit)


@time_machine.travel(NOW, tick=False)
def test_bad_repeat_input_is_a_400_with_a_message(client, login, team):
    login(client, team.eddie.user)
    data = compose_data(
        {(team.account, "fi"): "Office hours."},
        planned_at="2027-03-02T10:00",
        **repeat(frequency="daily", interval="0", ends="on", until="2027-01-01"),
    )
    response = client.post(COMPOSE, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in page
    garbage = compose_data(
        {(team.account, "fi"): "Office hours."},
        planned_at="2027-03-02T10:00",
        **repeat(frequency="yearly", interval="x", ends="after", count="-3", weekdays=["9"]),
    )
    assert client.post(COMPOSE, garbage).status_code == 400
    no_time = compose_data({(team.account, "fi"): "Office hours."}, **repeat(frequency="daily"))
    response = client.post(COMPOSE, no_time)
    assert response.status_code == 400
    assert "Give the post a planned time: the series starts then." in response.content.decode()
    assert not PostSeries.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_the_series_page_skips_one_occurrence_and_ends_the_series(client, login, team):
    post = draft(team.eddie, team.account, "Office hours.")
    post = post_update(
        post=post, membership=team.eddie, planned_at=datetime(2027, 3, 1, 9, tzinfo=UTC)
    )
    series = series_set(post=post, membership=team.eddie, spec=RepeatSpec("daily", count=3))
    approve_and_schedule(team, post)
    second, third = (
        Post.objects.filter(series=series).exclude(pk=post.pk).order_by("occurrence_start")
    )
    login(client, team.eddie.user)
    page = client.get(f"/publishing/series/{series.pk}/").content.decode()
    assert "Every day at" in page and "3 times" in page
    response = client.post(f"/publishing/posts/{second.pk}/skip/", follow=True)
    assert "Skipped the occurrence" in response.content.decode()
    second.refresh_from_db()
    assert second.status == PostStatus.CANCELLED
    assert "Skipped" in client.get(f"/publishing/series/{series.pk}/").content.decode()
    # The occurrence's own page and composer say it belongs to a series.
    detail = client.get(f"/publishing/posts/{third.pk}/").content.decode()
    assert f"/publishing/series/{series.pk}/" in detail
    edit = client.get(f"/publishing/posts/{third.pk}/edit/").content.decode()
    assert "changes only this occurrence" in edit
    client.post(f"/publishing/series/{series.pk}/end/", follow=True)
    assert not Post.objects.filter(pk=third.pk).exists()
    assert "This series ended" in client.get(f"/publishing/series/{series.pk}/").content.decode()


@time_machine.travel(NOW, tick=False)
def test_another_organization_gets_404_for_the_series(client, login, personas, team):
    post = draft(team.eddie, team.account, "Office hours.")
    post = post_update(
        post=post, membership=team.eddie, planned_at=datetime(2027, 3, 1, 9, tzinfo=UTC)
    )
    series = series_set(post=post, membership=team.eddie, spec=RepeatSpec("daily", count=3))
    login(client, personas.charlie)
    assert client.get(f"/publishing/series/{series.pk}/").status_code == 404
    assert client.post(f"/publishing/series/{series.pk}/end/").status_code == 404
    assert client.post(f"/publishing/posts/{post.pk}/skip/").status_code == 404
    series.refresh_from_db()
    assert series.ended_at is None


@time_machine.travel(NOW, tick=False)
def test_a_reviewer_sees_the_series_but_cannot_end_it(client, login, team):
    post = draft(team.eddie, team.account, "Office hours.")
    post = post_update(
        post=post, membership=team.eddie, planned_at=datetime(2027, 3, 1, 9, tzinfo=UTC)
    )
    series = series_set(post=post, membership=team.eddie, spec=RepeatSpec("daily", count=3))
    login(client, team.rita.user)
    page = client.get(f"/publishing/series/{series.pk}/").content.decode()
    assert "End the series" not in page
    assert client.post(f"/publishing/series/{series.pk}/end/").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_the_calendar_marks_each_occurrence_and_links_to_its_series(client, login, team):
    post = draft(team.eddie, team.account, "Office hours.")
    post = post_update(
        post=post, membership=team.eddie, planned_at=datetime(2027, 3, 1, 9, tzinfo=UTC)
    )
    series = series_set(post=post, membership=team.eddie, spec=RepeatSpec("weekly", count=3))
    approve_and_schedule(team, post)
    plain = draft(team.eddie, team.account, "A one-off.")
    post_update(post=plain, membership=team.eddie, planned_at=datetime(2027, 3, 3, 9, tzinfo=UTC))
    login(client, team.eddie.user)
    for url in (
        "/publishing/calendar/?date=2027-03-01",
        "/publishing/calendar/week/?date=2027-03-08",
    ):
        page = client.get(url).content.decode()
        links = re.findall(rf'<a class="cal-series" href="/publishing/series/{series.pk}/">', page)
        assert links, url
    month = client.get("/publishing/calendar/?date=2027-03-01").content.decode()
    # The three occurrences of the series are marked; the one-off post is not.
    assert len(re.findall(r'class="cal-series"', month)) == 3
    assert "Repeats" in month


def test_the_series_page_offers_to_change_the_text_from_a_later_occurrence(
    client, login, team, run_due
):
    with time_machine.travel(NOW, tick=False):
        post = draft(team.eddie, team.account, "Office hours.")
        post = post_update(
            post=post, membership=team.eddie, planned_at=datetime(2027, 3, 1, 9, tzinfo=UTC)
        )
        series = series_set(post=post, membership=team.eddie, spec=RepeatSpec("daily", count=3))
        approve_and_schedule(team, post)
    with time_machine.travel(datetime(2027, 3, 1, 9, 0, 5, tzinfo=UTC), tick=False):
        run_due()
        login(client, team.eddie.user)
        page = client.get(f"/publishing/series/{series.pk}/").content.decode()
        assert "Change the text from" in page
        second = Post.objects.filter(series=series).exclude(pk=post.pk).earliest("scheduled_at")
        response = client.post(f"/publishing/posts/{second.pk}/series-from-here/")
        assert response.status_code == 302
        assert response["Location"] == f"/publishing/posts/{second.pk}/edit/"
        series.refresh_from_db()
        assert series.head_id == second.pk
        login(client, team.charlie.user)
        assert client.post(f"/publishing/posts/{second.pk}/series-from-here/").status_code == 404
