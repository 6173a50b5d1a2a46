"""Quiet days: a time on a day the organization marked quiet needs a manager's or an
admin's explicit confirmation (audited); an editor is refused with the reason."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from governance.models import AuditEvent
from publishing.models import DateKind, ImportantDate, Post, PostStatus
from publishing.services.posts import post_schedule
from publishing.tests.calendar_helpers import helsinki, scheduled_post
from publishing.tests.fixtures import approved
from publishing.tests.test_views_compose import compose_data

pytestmark = pytest.mark.django_db

CONFIRM = "I confirm publishing on a quiet day"


@pytest.fixture(autouse=True)
def early_march():
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def mourning(team):
    return ImportantDate.objects.create(
        organization=team.alice.organization,
        starts_on=date(2026, 3, 10),
        ends_on=date(2026, 3, 11),
        name="National day of mourning",
        kind=DateKind.QUIET,
    )


def _schedule(client, post, at, **extra):
    return client.post(f"/publishing/posts/{post.pk}/schedule/", {"at": at, **extra})


def test_an_editor_is_refused_a_time_on_a_quiet_day(client, login, team, mourning):
    post = approved(team)
    login(client, team.eddie.user)

    page = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert CONFIRM not in page  # only managers and admins have the box

    response = _schedule(client, post, "2026-03-10T09:00", confirm_quiet_day="on")

    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert "is a quiet day (National day of mourning)" in text
    assert "Only a manager or an admin can confirm publishing on it" in text
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


def test_a_manager_must_tick_the_confirmation(client, login, team, mourning):
    post = approved(team)
    login(client, team.manny.user)

    refused = _schedule(client, post, "2026-03-11T23:30")  # still 11 March in Helsinki
    assert refused.status_code == 400
    assert "To publish on it, tick" in html.unescape(refused.content.decode())
    assert CONFIRM in refused.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED

    done = _schedule(client, post, "2026-03-11T23:30", confirm_quiet_day="on")
    assert done.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    event = AuditEvent.objects.get(action="post.quiet_day_confirmed")
    assert event.actor_id == team.manny.user_id
    assert event.new_values["date"] == "2026-03-11"
    assert event.new_values["quiet_days"] == "National day of mourning"


def test_the_day_after_a_quiet_period_needs_no_confirmation(client, login, team, mourning):
    post = approved(team)
    login(client, team.eddie.user)

    # 00:30 on 12 March in Helsinki is still 11 March in UTC: the local day counts.
    response = _schedule(client, post, "2026-03-12T00:30")

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert not AuditEvent.objects.filter(action="post.quiet_day_confirmed").exists()


def test_the_post_page_warns_of_a_planned_quiet_day(client, login, team, mourning):
    post = scheduled_post(team, helsinki(2026, 3, 9, 9))
    post.scheduled_at = helsinki(2026, 3, 10, 9)  # moved there before the day was marked
    post.save(update_fields=["scheduled_at"])
    login(client, team.eddie.user)

    page = html.unescape(client.get(f"/publishing/posts/{post.pk}/").content.decode())

    assert "Quiet day:" in page
    assert "is a quiet day (National day of mourning)" in page


def test_moving_a_post_onto_a_quiet_day_from_the_calendar(client, login, team, mourning):
    post = scheduled_post(team, helsinki(2026, 3, 9, 9))
    login(client, team.eddie.user)
    move = f"/publishing/calendar/posts/{post.pk}/move/"

    refused = client.post(move, {"date": "2026-03-10", "time": "09:00"})
    assert refused.status_code == 400
    assert "Only a manager or an admin" in html.unescape(refused.content.decode())

    login(client, team.alice.user)
    done = client.post(move, {"date": "2026-03-10", "time": "09:00", "confirm_quiet_day": "on"})
    assert done.status_code == 302
    post.refresh_from_db()
    assert post.scheduled_at == helsinki(2026, 3, 10, 9)


def test_another_organizations_quiet_day_does_not_count(team):
    ImportantDate.objects.create(
        organization=team.charlie.organization,
        starts_on=date(2026, 3, 10),
        ends_on=date(2026, 3, 10),
        name="Theirs",
        kind=DateKind.QUIET,
    )
    post = approved(team)

    post_schedule(post=post, membership=team.eddie, at=helsinki(2026, 3, 10, 9))

    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED


def test_the_service_refuses_without_confirmation(team, mourning):
    post = approved(team)
    with pytest.raises(ValidationError) as refused:
        post_schedule(post=post, membership=team.manny, at=helsinki(2026, 3, 10, 9))
    assert refused.value.code == "quiet_day"


def test_the_composer_warns_of_a_planned_time_on_a_quiet_day(client, login, team, mourning):
    login(client, team.eddie.user)
    data = compose_data(
        {(team.account, "fi"): "Kirjasto aukeaa."}, title="Library", planned_at="2026-03-10T09:30"
    )

    saved = client.post("/publishing/posts/new/", data, follow=True)

    # Saving a draft is allowed; the warning says what scheduling will need.
    text = html.unescape(saved.content.decode())
    assert "is a quiet day (National day of mourning)" in text
    post = Post.objects.get()
    assert post.status == PostStatus.DRAFT
    page = html.unescape(client.get(f"/publishing/posts/{post.pk}/edit/").content.decode())
    assert "Quiet day:" in page
    assert "Publishing on it needs a manager's or an admin's confirmation." in page


def test_the_api_needs_the_confirmation_too(client, login, team, mourning):
    post = approved(team)
    login(client, team.manny.user)
    schedule = f"/api/v1/posts/{post.pk}/schedule/"

    refused = client.post(
        schedule, {"at": "2026-03-10T09:00:00+02:00"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "is a quiet day (National day of mourning)" in str(refused.json()["errors"])

    done = client.post(
        schedule,
        {"at": "2026-03-10T09:00:00+02:00", "confirm_quiet_day": True},
        content_type="application/json",
    )
    assert done.status_code == 200
    assert done.json()["status"] == "scheduled"
    assert AuditEvent.objects.filter(action="post.quiet_day_confirmed").count() == 1
