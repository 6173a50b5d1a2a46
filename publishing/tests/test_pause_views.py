"""Crisis pause pages: pause with a reason (a banner on every page), held posts on
resume (publish now, reschedule, cancel), emergency publishers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import formats

from governance.models import AuditEvent
from publishing.models import EmergencyPublisher, JobStatus, PublishingPause, PublishJob
from publishing.services.pause import (
    emergency_publisher_add,
    publishing_pause_end,
    publishing_pause_start,
)
from publishing.tests.calendar_helpers import approved_post, helsinki, scheduled_post

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def early_2026():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def held(team, run_due, early_2026):
    """A post that fell due during a pause: its job is held."""
    post = scheduled_post(team, START + timedelta(minutes=5), "Held during the storm.")
    publishing_pause_start(membership=team.manny, reason="Storm warning")
    early_2026.shift(timedelta(minutes=6))
    run_due()
    job = PublishJob.objects.get(post=post)
    assert job.status == JobStatus.HELD
    return job


def test_manager_pauses_publishing_with_a_reason(client, login, team):
    login(client, team.manny.user)

    response = client.post("/publishing/pause/start/", {"scope": "", "reason": "Storm warning"})

    assert response.status_code == 302
    pause = PublishingPause.objects.get()
    assert pause.reason == "Storm warning" and pause.channel_account is None
    assert AuditEvent.objects.filter(action="publishing.paused").exists()


def test_manager_pauses_one_account(client, login, team):
    login(client, team.manny.user)

    client.post("/publishing/pause/start/", {"scope": str(team.account.pk), "reason": "Hacked?"})

    assert PublishingPause.objects.get().channel_account == team.account
    page = client.get("/publishing/pause/").content.decode()
    assert "Publishing to city-news is paused." in page


def test_a_pause_needs_a_reason(client, login, team):
    login(client, team.manny.user)

    response = client.post("/publishing/pause/start/", {"scope": "", "reason": "  "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not PublishingPause.objects.exists()


def test_pausing_twice_says_it_is_already_paused(client, login, team):
    publishing_pause_start(membership=team.manny, reason="Storm warning")
    login(client, team.manny.user)

    response = client.post("/publishing/pause/start/", {"scope": "", "reason": "Again"})

    assert response.status_code == 400
    assert "Publishing is already paused." in response.content.decode()


def test_banner_with_the_reason_shows_on_every_page(client, login, team):
    publishing_pause_start(membership=team.manny, reason="Storm warning: hold all posts")
    login(client, team.bob.user)

    for path in ["/", "/publishing/calendar/", "/accounts/", "/governance/profile/"]:
        page = client.get(path).content.decode()
        assert 'role="region" aria-labelledby="pause-banner-heading"' in page, path
        assert "Publishing is paused" in page, path
        assert "Storm warning: hold all posts" in page, path


def test_no_banner_when_publishing_runs(client, login, team):
    login(client, team.bob.user)

    assert "pause-banner" not in client.get("/publishing/calendar/").content.decode()


def test_the_banner_appears_and_goes_at_once_though_pages_cache_it(client, login, team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, team.manny.user)
    assert "pause-banner" not in client.get("/").content.decode()
    with CaptureQueriesContext(connection) as cached:
        assert "pause-banner" not in client.get("/").content.decode()
    # While nothing is paused, no page reads the pauses table.
    assert not any("publishing_publishingpause" in q["sql"] for q in cached)

    client.post("/publishing/pause/start/", {"scope": "", "reason": "Storm warning"})
    assert "Storm warning" in client.get("/").content.decode()

    pause = PublishingPause.objects.get()
    client.post(f"/publishing/pause/{pause.pk}/end/")
    assert "pause-banner" not in client.get("/").content.decode()


def test_other_organizations_do_not_see_the_banner(client, login, team, personas):
    publishing_pause_start(membership=team.manny, reason="Storm warning")
    login(client, personas.charlie)

    assert "Storm warning" not in client.get("/").content.decode()


def test_editor_cannot_pause_or_resume(client, login, team):
    pause = publishing_pause_start(membership=team.manny, reason="Storm warning")
    login(client, team.eddie.user)

    assert client.post("/publishing/pause/start/", {"reason": "x"}).status_code == 403
    assert client.post(f"/publishing/pause/{pause.pk}/end/").status_code == 403
    assert client.get("/publishing/pause/held/").status_code == 403
    page = client.get("/publishing/pause/").content.decode()
    assert "Storm warning" in page
    assert "Resume publishing" not in page


def test_outsider_cannot_end_the_pause(client, login, team, personas):
    pause = publishing_pause_start(membership=team.manny, reason="Storm warning")
    login(client, personas.charlie)

    assert client.post(f"/publishing/pause/{pause.pk}/end/").status_code == 404


def test_resume_lists_the_held_posts(client, login, team, held):
    login(client, team.manny.user)
    pause = PublishingPause.objects.get()

    response = client.post(f"/publishing/pause/{pause.pk}/end/")

    assert response["Location"] == "/publishing/pause/held/"
    page = client.get("/publishing/pause/held/").content.decode()
    assert "1 held post is waiting: publish, reschedule or cancel it." in page
    assert "city-news: Held during the storm." in page
    assert "Publish now" in page and "Reschedule" in page and "Cancel this post" in page
    assert "pause-banner" not in page
    assert AuditEvent.objects.filter(action="publishing.resumed").exists()


def test_publish_now_releases_a_held_post(client, login, team, held):
    pause = PublishingPause.objects.get()
    login(client, team.manny.user)
    client.post(f"/publishing/pause/{pause.pk}/end/")

    response = client.post(f"/publishing/pause/held/{held.pk}/publish-now/")

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == JobStatus.PENDING
    assert AuditEvent.objects.filter(action="publish_job.released").exists()


def test_publish_now_during_the_pause_is_refused_clearly(client, login, team, held):
    login(client, team.manny.user)

    response = client.post(f"/publishing/pause/held/{held.pk}/publish-now/", follow=True)

    assert "Publishing is still paused." in response.content.decode()
    held.refresh_from_db()
    assert held.status == JobStatus.HELD


def test_reschedule_a_held_post(client, login, team, held):
    pause = PublishingPause.objects.get()
    login(client, team.manny.user)
    client.post(f"/publishing/pause/{pause.pk}/end/")

    response = client.post(
        f"/publishing/pause/held/{held.pk}/reschedule/",
        {f"job{held.pk}-date": "2026-03-02", f"job{held.pk}-time": "09:00"},
    )

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == JobStatus.PENDING
    assert held.due_at == helsinki(2026, 3, 2, 9)
    assert AuditEvent.objects.filter(action="publish_job.rescheduled").exists()


def test_reschedule_needs_a_date_and_time(client, login, team, held):
    login(client, team.manny.user)

    response = client.post(f"/publishing/pause/held/{held.pk}/reschedule/", {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_cancel_a_held_post(client, login, team, held):
    login(client, team.manny.user)

    response = client.post(
        f"/publishing/pause/held/{held.pk}/cancel/", {f"cancel{held.pk}-reason": "Outdated"}
    )

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == JobStatus.CANCELLED
    event = AuditEvent.objects.get(action="publish_job.cancelled")
    assert event.new_values["reason"] == "Outdated"


def test_held_posts_of_another_organization_are_not_found(client, login, team, held, personas):
    login(client, personas.charlie)

    assert client.post(f"/publishing/pause/held/{held.pk}/cancel/").status_code == 404


def test_manager_names_and_removes_an_emergency_publisher(client, login, team):
    login(client, team.manny.user)

    response = client.post(
        "/publishing/pause/emergency-publishers/add/", {"member": str(team.eddie.pk)}
    )

    assert response.status_code == 302
    assert EmergencyPublisher.objects.filter(membership=team.eddie).exists()
    assert "Eddie Editor" in client.get("/publishing/pause/").content.decode()

    client.post(f"/publishing/pause/emergency-publishers/{team.eddie.pk}/remove/")

    assert not EmergencyPublisher.objects.exists()
    assert AuditEvent.objects.filter(action="emergency_publisher.removed").exists()


def test_auditors_are_not_offered_as_emergency_publishers(client, login, team):
    login(client, team.manny.user)

    page = client.get("/publishing/pause/").content.decode()

    assert "Eddie Editor (Editor)" in page
    assert "Carol Auditor" not in page


def test_emergency_publisher_publishes_through_the_pause(client, login, team):
    post = approved_post(team, "Evacuation route open.")
    emergency_publisher_add(membership=team.manny, member=team.eddie)
    publishing_pause_start(membership=team.manny, reason="Storm warning")
    login(client, team.eddie.user)

    page = client.get("/publishing/pause/").content.decode()
    assert "Publish during the pause" in page
    assert f"/publishing/pause/emergency-publish/{post.pk}/" in page

    response = client.post(
        f"/publishing/pause/emergency-publish/{post.pk}/", {"reason": "People need the route now"}
    )

    assert response.status_code == 302
    job = PublishJob.objects.get(post=post)
    assert job.emergency and job.status == JobStatus.PENDING
    event = AuditEvent.objects.get(action="publishing.emergency_publish")
    assert event.new_values["reason"] == "People need the route now"


def test_emergency_publish_needs_a_reason(client, login, team):
    post = approved_post(team)
    emergency_publisher_add(membership=team.manny, member=team.eddie)
    login(client, team.eddie.user)

    response = client.post(f"/publishing/pause/emergency-publish/{post.pk}/", {"reason": ""})

    assert response.status_code == 400
    assert not PublishJob.objects.filter(post=post).exists()


def test_only_emergency_publishers_may_publish_through_a_pause(client, login, team):
    post = approved_post(team)
    login(client, team.eddie.user)

    assert client.get(f"/publishing/pause/emergency-publish/{post.pk}/").status_code == 403


def test_a_member_limited_to_some_accounts_sees_only_their_pauses(client, login, personas):
    alice = personas.membership(personas.alice)
    ended = publishing_pause_start(
        membership=alice, channel_account=personas.other_account, reason="Old mayor incident"
    )
    publishing_pause_end(membership=alice, pause=ended)
    publishing_pause_start(
        membership=alice, channel_account=personas.other_account, reason="Mayor's account hacked"
    )
    publishing_pause_start(
        membership=alice, channel_account=personas.bob_account, reason="News desk review"
    )
    login(client, personas.bob)

    for path in ["/", "/publishing/pause/"]:
        page = client.get(path).content.decode()
        assert "News desk review" in page, path
        assert "city-news" in page, path
        assert "Mayor's account hacked" not in page, path
        assert "Old mayor incident" not in page, path
        assert "city-mayor" not in page, path


def test_an_organization_wide_pause_shows_to_a_limited_member(client, login, personas):
    publishing_pause_start(
        membership=personas.membership(personas.alice), reason="Election silence"
    )
    login(client, personas.bob)

    assert "Election silence" in client.get("/").content.decode()


def test_a_held_posts_page_says_it_is_held_not_that_it_goes_out_on_time(client, login, team, held):
    login(client, team.manny.user)

    page = client.get(f"/publishing/posts/{held.post_id}/").content.decode()

    assert "goes out at the time shown" not in page
    assert '<span class="post-status post-status-held">Held</span>' in page
    assert "Held by the crisis pause: it did not go out at the time shown." in page
    # Where it goes: why it is held, said once, and when it was due.
    found = re.search(r"<strong>Held:</strong>(.*?)</td>", page, re.S)
    assert found is not None
    due = formats.date_format(
        held.due_at.astimezone(ZoneInfo("Europe/Helsinki")), "DATETIME_FORMAT"
    )
    assert (
        " ".join(found.group(1).split()) == f"Publishing is paused: Storm warning It was due {due}."
    )


def test_a_scheduled_post_that_is_not_held_still_goes_out_at_its_time(client, login, team):
    post = scheduled_post(team, START + timedelta(hours=5), "Later today.")
    login(client, team.manny.user)

    page = client.get(f"/publishing/posts/{post.pk}/").content.decode()

    assert "Scheduled: it goes out at the time shown." in page
    assert "post-status-held" not in page


def _status_beside(page: str, post_id: int) -> str:
    """The status the calendar shows in the post's own list item."""
    item = re.search(
        rf'<li class="cal-post cal-status-(\w+)" id="post-{post_id}".*?</li>', page, re.S
    )
    assert item is not None, f"post {post_id} is not on the page"
    label = re.search(r'<span class="cal-status">([^<]*)</span>', item.group(0))
    assert label is not None
    return f"{item.group(1)}: {label.group(1)}"


def test_the_calendar_and_post_list_show_a_held_post_as_held(client, login, team, held):
    waiting = scheduled_post(team, START + timedelta(hours=3), "Later today, not yet due.")
    login(client, team.manny.user)
    due = held.due_at.astimezone(ZoneInfo("Europe/Helsinki"))

    month = client.get(f"/publishing/calendar/?date={due:%Y-%m-%d}").content.decode()
    week = client.get(f"/publishing/calendar/week/?date={due:%Y-%m-%d}").content.decode()
    listing = client.get(f"/publishing/calendar/list/?date={due:%Y-%m-%d}").content.decode()

    for page in (month, week):
        assert _status_beside(page, held.post_id) == "held: Held"
        assert _status_beside(page, waiting.pk) == "scheduled: Scheduled"
    assert "Held" in listing
    posts = client.get("/publishing/posts/").content.decode()
    rows = {
        int(pk): status
        for pk, status in re.findall(
            r'href="/publishing/posts/(\d+)/">.*?<span class="post-status post-status-(\w+)">',
            posts,
            re.S,
        )
    }
    assert rows == {held.post_id: "held", waiting.pk: "scheduled"}


def test_a_held_post_is_scheduled_again_once_released(client, login, team, held):
    publishing_pause_end(membership=team.manny, pause=PublishingPause.objects.get())
    held.refresh_from_db()
    held.post.refresh_from_db()
    login(client, team.manny.user)
    client.post(f"/publishing/pause/held/{held.pk}/cancel/")

    posts = client.get("/publishing/posts/").content.decode()

    assert "post-status-held" not in posts
    assert f'href="/publishing/posts/{held.post_id}/"' in posts
    assert '<span class="post-status post-status-cancelled">Cancelled</span>' in posts
