"""The REST API of recurring posts: make a post repeat, read its recurrence, skip one
occurrence, end the series."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from publishing.models import Post, PostSeries, PostStatus
from publishing.services.posts import post_update
from publishing.tests.fixtures import draft
from publishing.tests.test_recurrence import approve_and_schedule

pytestmark = pytest.mark.django_db

POSTS = "/api/v1/posts/"
NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)


def planned_draft(team):
    post = draft(team.eddie, team.account, "Office hours.")
    return post_update(
        post=post, membership=team.eddie, planned_at=datetime(2027, 3, 2, 8, tzinfo=UTC)
    )


@time_machine.travel(NOW, tick=False)
def test_make_a_post_repeat_and_read_its_recurrence(client, login, team):
    post = planned_draft(team)
    login(client, team.eddie.user)
    response = client.put(
        f"{POSTS}{post.pk}/recurrence/",
        {"frequency": "weekly", "weekdays": [1, 3], "until": "2027-06-30"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    recurrence = response.json()["recurrence"]
    assert recurrence["rule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU,TH;UNTIL=20270630T235959"
    assert recurrence["first_post"] == post.pk
    assert recurrence["approved"] is False
    assert recurrence["summary"].startswith("Every week on Tuesday, Thursday at")
    approve_and_schedule(team, post)
    occurrence = Post.objects.filter(series__head=post).exclude(pk=post.pk).earliest("scheduled_at")
    body = client.get(f"{POSTS}{occurrence.pk}/").json()
    assert body["recurrence"]["approved"] is True
    start = datetime.fromisoformat(body["recurrence"]["occurrence_start"])
    assert start == datetime(2027, 3, 4, 8, tzinfo=UTC)
    skipped = client.post(f"{POSTS}{occurrence.pk}/skip/")
    assert skipped.status_code == 200
    assert skipped.json()["status"] == PostStatus.CANCELLED
    ended = client.delete(f"{POSTS}{post.pk}/recurrence/")
    assert ended.status_code == 200
    assert ended.json()["recurrence"]["ended_at"] is not None


@time_machine.travel(NOW, tick=False)
def test_bad_recurrence_input_is_a_400_naming_the_field(client, login, team):
    post = planned_draft(team)
    login(client, team.eddie.user)
    url = f"{POSTS}{post.pk}/recurrence/"
    bad = client.put(url, {"frequency": "hourly", "interval": 0}, content_type="application/json")
    assert bad.status_code == 400
    assert {"frequency", "interval"} <= set(bad.json()["errors"])
    early = client.put(
        url, {"frequency": "daily", "until": "2027-01-01"}, content_type="application/json"
    )
    assert early.status_code == 400
    assert early.json()["errors"]["until"] == ["The series cannot end before its first occurrence."]
    both = client.put(
        url,
        {"frequency": "daily", "until": "2027-05-01", "count": 3},
        content_type="application/json",
    )
    assert both.status_code == 400
    garbage = client.put(url, "not json", content_type="application/json")
    assert garbage.status_code == 400
    assert not PostSeries.objects.exists()
    assert client.post(f"{POSTS}{post.pk}/skip/").status_code == 400  # it does not repeat
    assert client.delete(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_another_organizations_post_is_404_and_a_reviewer_gets_403(client, login, personas, team):
    post = planned_draft(team)
    login(client, personas.charlie)
    url = f"{POSTS}{post.pk}/recurrence/"
    assert (
        client.put(url, {"frequency": "daily"}, content_type="application/json").status_code == 404
    )
    assert client.post(f"{POSTS}{post.pk}/skip/").status_code == 404
    login(client, team.rita.user)
    assert (
        client.put(url, {"frequency": "daily"}, content_type="application/json").status_code == 403
    )
    assert not PostSeries.objects.exists()
