"""Moving a scheduled post from the calendar: the keyboard-accessible Move form and the
endpoint the drag and drop posts to, both through ``post_reschedule``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from governance.models import AuditEvent
from publishing.models import JobStatus, PostStatus, PublishJob
from publishing.tests.calendar_helpers import approved_post, helsinki, scheduled_post

pytestmark = pytest.mark.django_db

JSON = {"accept": "application/json"}


@pytest.fixture(autouse=True)
def early_2026():
    with time_machine.travel(datetime(2026, 3, 1, 10, 0, tzinfo=UTC), tick=False):
        yield


def move_url(post) -> str:
    return f"/publishing/calendar/posts/{post.pk}/move/"


def test_move_form_shows_the_current_local_date_and_time(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9, 30))
    login(client, team.eddie.user)

    page = client.get(move_url(post)).content.decode()

    assert "<h1>Move a post</h1>" in page
    assert 'value="2026-03-20"' in page
    assert 'value="09:30"' in page
    assert "Europe/Helsinki" in page


def test_move_form_reschedules_the_post_and_returns_to_the_calendar(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.eddie.user)

    response = client.post(
        move_url(post),
        {"date": "2026-03-29", "time": "09:00", "next": "/publishing/calendar/?date=2026-03-01"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/publishing/calendar/?date=2026-03-01"
    post.refresh_from_db()
    assert post.scheduled_at == helsinki(2026, 3, 29, 9)  # 06:00 UTC, after the change
    assert {j.due_at for j in PublishJob.objects.filter(post=post)} == {post.scheduled_at}
    event = AuditEvent.objects.filter(action="post.rescheduled", target_id=str(post.pk)).get()
    assert event.actor == team.eddie.user
    page = client.get(response["Location"]).content.decode()
    assert "now goes out on Sunday, 29 March 2026 at 09:00" in page


def test_move_refuses_a_time_the_clocks_skip(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.eddie.user)

    response = client.post(move_url(post), {"date": "2026-03-29", "time": "03:30"})

    assert response.status_code == 400
    assert "03:30 does not exist on" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    post.refresh_from_db()
    assert post.scheduled_at == helsinki(2026, 3, 20, 9)


def test_move_of_a_post_that_is_not_scheduled_says_why(client, login, team):
    post = approved_post(team)
    login(client, team.eddie.user)

    page = client.get(move_url(post)).content.decode()
    assert "Only a scheduled post can be moved. This post is approved." in page

    response = client.post(move_url(post), {"date": "2026-03-29", "time": "09:00"})
    assert response.status_code == 400
    assert "cannot be rescheduled" in response.content.decode()


def test_drag_endpoint_moves_the_post_and_answers_in_json(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.eddie.user)

    response = client.post(move_url(post), {"date": "2026-03-22", "time": "09:00"}, headers=JSON)

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert "Sunday, 22 March 2026 at 09:00" in body["message"]
    post.refresh_from_db()
    assert post.scheduled_at == helsinki(2026, 3, 22, 9)
    assert AuditEvent.objects.filter(action="post.rescheduled", target_id=str(post.pk)).exists()


def test_drag_endpoint_reports_errors_in_json(client, login, team):
    post = approved_post(team)
    login(client, team.eddie.user)

    response = client.post(move_url(post), {"date": "2026-03-22", "time": "09:00"}, headers=JSON)

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert "cannot be rescheduled" in response.json()["errors"][0]


def test_drag_endpoint_needs_the_csrf_token(login, team):
    from django.test import Client

    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    strict = Client(enforce_csrf_checks=True)
    login(strict, team.eddie.user)

    response = strict.post(move_url(post), {"date": "2026-03-22", "time": "09:00"}, headers=JSON)

    assert response.status_code == 403
    post.refresh_from_db()
    assert post.scheduled_at == helsinki(2026, 3, 20, 9)


def test_auditor_cannot_move_posts(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.carol.user)

    assert client.get(move_url(post)).status_code == 403
    response = client.post(move_url(post), {"date": "2026-03-22", "time": "09:00"}, headers=JSON)
    assert response.status_code == 403
    page = client.get("/publishing/calendar/").content.decode()
    assert move_url(post) not in page


def test_limited_member_cannot_move_a_post_they_cannot_see(client, login, team, personas):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9), account=team.other_account)
    login(client, personas.bob)

    response = client.post(move_url(post), {"date": "2026-03-22", "time": "09:00"})

    assert response.status_code == 404


def test_move_does_not_follow_a_next_address_elsewhere(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.eddie.user)

    response = client.post(
        move_url(post), {"date": "2026-03-22", "time": "09:00", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/publishing/calendar/"


def test_a_post_being_published_cannot_be_moved(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    PublishJob.objects.filter(post=post).update(status=JobStatus.RUNNING)
    login(client, team.eddie.user)

    response = client.post(move_url(post), {"date": "2026-03-22", "time": "09:00"}, headers=JSON)

    assert response.status_code == 400
    assert "being published right now" in response.json()["errors"][0]
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED


def test_move_to_a_time_the_clocks_pass_twice_takes_the_first(client, login, team):
    post = scheduled_post(team, helsinki(2026, 3, 20, 9))
    login(client, team.eddie.user)

    client.post(move_url(post), {"date": "2026-10-25", "time": "03:30"})

    post.refresh_from_db()
    # 03:30 summer time (UTC+3), not the 03:30 an hour later in winter time.
    assert post.scheduled_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
