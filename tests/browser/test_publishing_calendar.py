"""The publishing calendar in a real browser: a manager finds a scheduled post on the
calendar, moves it with the keyboard-accessible Move form and by dragging it, pauses
publishing with a reason (the banner follows them to other pages), resumes and
publishes a held post now; and a post scheduled a few seconds ahead is published by a
real Celery worker and shows as Published on the calendar."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp

from accounts.models import SandboxPost
from governance.models import Membership, Role
from publishing.models import JobStatus, Post, PostStatus, PublishingPause, PublishJob
from publishing.services import dispatch
from publishing.services.approval import post_approve
from publishing.services.posts import (
    post_create,
    post_schedule,
    post_submit_for_review,
    variant_save,
)
from publishing.tests.processes import CeleryProcesses, require_postgres_and_redis
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def log_in(page, user) -> None:
    """Password, then the code the person's authenticator app shows."""
    device = TOTPDeviceFactory.create(user=user)
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def city():
    """A city with a manager (Maria), a reviewer and a Sandbox account."""
    org = OrganizationFactory.create(name="City of Example", slug="example")
    maria = UserFactory.create(email="maria@example.org", full_name="Maria Manager")
    manager = MembershipFactory.create(organization=org, user=maria, role=Role.MANAGER)
    reviewer = MembershipFactory.create(
        organization=org,
        user=UserFactory.create(email="rita@example.org", full_name="Rita Reviewer"),
        role=Role.REVIEWER,
    )
    account = ChannelAccountFactory.create(organization=org, handle="city-news")
    return maria, manager, reviewer, account


def schedule(manager: Membership, reviewer: Membership, account, text: str, at: datetime) -> Post:
    post = post_create(membership=manager, title=text[:20])
    variant_save(post=post, membership=manager, channel_account=account, language="fi", text=text)
    post_submit_for_review(post=post, membership=manager)
    post_approve(post=post, membership=reviewer)
    post_schedule(post=post, membership=manager, at=at)
    post.refresh_from_db()
    return post


def run_dispatcher() -> None:
    """One dispatcher tick, then each claimed job run here, as a worker would."""
    claimed: list[int] = []
    dispatch.dispatch_due(enqueue=claimed.extend)
    for job_id in claimed:
        dispatch.publish_job_run(job_id=job_id, worker="browser-test")


def local_day_after(days: int) -> date:
    return timezone.localtime(timezone.now(), HELSINKI).date() + timedelta(days=days)


def test_move_pause_resume_and_publish_a_held_post(page):
    maria, manager, reviewer, account = city()
    tomorrow = local_day_after(1)
    post = schedule(
        manager,
        reviewer,
        account,
        "Library opens at nine tomorrow.",
        datetime.combine(tomorrow, time(9, 0), tzinfo=HELSINKI),
    )
    log_in(page, maria)

    # The post is on the calendar, on its day, at its local time.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    settle(page)
    visit(page, f"/publishing/calendar/?date={tomorrow.isoformat()}")
    cell = page.locator(f'td[data-calendar-drop="{tomorrow.isoformat()}"]')
    assert "09:00 city-news: Library opens at nine tomorrow." in cell.inner_text()
    assert "Scheduled" in cell.inner_text()

    # Move it with the keyboard: the Move link, then the form.
    later = tomorrow + timedelta(days=2)
    move = cell.get_by_role("link", name="Move 09:00 city-news: Library opens at nine tomorrow.")
    move.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Move a post"
    page.get_by_label("New date").fill(later.isoformat())
    page.get_by_label("New time").fill("10:30")
    page.get_by_role("button", name="Move the post").click()
    settle(page)
    assert page.get_by_text("now goes out on").is_visible()
    post.refresh_from_db()
    assert post.scheduled_at == datetime.combine(later, time(10, 30), tzinfo=HELSINKI)
    visit(page, f"/publishing/calendar/list/?date={later.isoformat()}&span=day")
    assert (
        "10:30 city-news: Library opens at nine tomorrow." in page.get_by_role("main").inner_text()
    )

    # Pause all publishing with a reason.
    page.get_by_role("link", name="Crisis pause and emergency publishers").click()
    settle(page)
    page.get_by_label("Reason").fill("Storm warning: only safety messages today.")
    page.get_by_role("button", name="Pause publishing").click()
    settle(page)
    banner = page.get_by_role("region", name="Publishing is paused")
    assert "Storm warning: only safety messages today." in banner.inner_text()

    # The banner follows Maria to every page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    assert page.get_by_role("region", name="Publishing is paused").is_visible()
    visit(page, "/")
    assert "Storm warning" in page.get_by_role("region", name="Publishing is paused").inner_text()

    # A post falls due during the pause: it is held, not published.
    urgent = schedule(manager, reviewer, account, "Ferry timetable changes.", timezone.now())
    run_dispatcher()
    assert PublishJob.objects.get(post=urgent).status == JobStatus.HELD
    assert not SandboxPost.objects.filter(account=account, is_own=True).exists()

    # Resume: the held post is waiting for a decision; publish it now.
    banner = page.get_by_role("region", name="Publishing is paused")
    banner.get_by_role("link", name="Crisis pause and held posts").click()
    settle(page)
    page.get_by_role("button", name="Resume publishing").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Held posts"
    assert page.get_by_role("region", name="Publishing is paused").count() == 0
    held = page.get_by_role("region", name="city-news: Ferry timetable changes.")
    held.get_by_role("button", name="Publish now").click()
    settle(page)
    assert page.get_by_text("is being published now").is_visible()
    assert page.get_by_text("No posts are held.").is_visible()

    run_dispatcher()
    urgent.refresh_from_db()
    assert urgent.status == PostStatus.PUBLISHED
    assert SandboxPost.objects.filter(account=account, text="Ferry timetable changes.").exists()
    visit(page, "/publishing/calendar/list/?span=day")
    entry = page.locator(f"#post-{urgent.pk}")
    assert "city-news: Ferry timetable changes." in entry.inner_text()
    assert entry.locator(".cal-status").inner_text() == "Published"


def test_drag_a_post_to_another_day(page):
    maria, manager, reviewer, account = city()
    # Monday and Wednesday of next week: both in the same week row of the week view.
    monday = local_day_after(7) - timedelta(days=local_day_after(7).weekday())
    wednesday = monday + timedelta(days=2)
    post = schedule(
        manager,
        reviewer,
        account,
        "Council meeting on Monday.",
        datetime.combine(monday, time(14, 15), tzinfo=HELSINKI),
    )
    log_in(page, maria)
    visit(page, f"/publishing/calendar/week/?date={monday.isoformat()}")

    item = page.locator(f"#post-{post.pk}")
    target = page.locator(
        f'td[data-calendar-drop="{wednesday.isoformat()}"][data-calendar-hour="16"]'
    )
    with page.expect_navigation():
        item.drag_to(target)
    settle(page)

    post.refresh_from_db()
    assert post.scheduled_at == datetime.combine(wednesday, time(16, 15), tzinfo=HELSINKI)
    assert page.get_by_text("now goes out on").is_visible()
    assert "Council meeting on Monday." in target.inner_text()


def test_emergency_publisher_publishes_through_the_pause(page):
    maria, manager, reviewer, account = city()
    post = schedule(
        manager,
        reviewer,
        account,
        "Evacuation route is open.",
        datetime.combine(local_day_after(1), time(9, 0), tzinfo=HELSINKI),
    )
    log_in(page, maria)
    visit(page, "/publishing/pause/")
    page.get_by_label("Member").select_option(label="Maria Manager (Manager)")
    page.get_by_role("button", name="Name as emergency publisher").click()
    settle(page)
    page.get_by_label("Reason").fill("Storm warning.")
    page.get_by_role("button", name="Pause publishing").click()
    settle(page)

    page.get_by_role("link", name="Publish now (Evacuation route is open.)").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Publish during the pause"
    page.get_by_label("Why must it be published now?").fill("People need the route now.")
    page.get_by_role("button", name="Publish now").click()
    settle(page)
    assert page.get_by_text("is being published now, through the pause").is_visible()

    run_dispatcher()
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED
    assert PublishingPause.objects.filter(ended_at__isnull=True).exists()


def test_scheduled_post_is_published(page, tmp_path):
    """A Sandbox post scheduled a few seconds ahead goes out through a real Celery beat
    and worker, and the calendar then says Published."""
    broker_url = require_postgres_and_redis()
    maria, manager, reviewer, account = city()
    log_in(page, maria)
    with CeleryProcesses(tmp_path, broker_url=broker_url) as celery:
        celery.start_worker()
        celery.start_beat()
        post = schedule(
            manager,
            reviewer,
            account,
            "Swimming hall open late tonight.",
            timezone.now() + timedelta(seconds=3),
        )
        celery.wait_for(
            lambda: Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHED,
            "the post to be published",
        )
    day = timezone.localtime(Post.objects.get(pk=post.pk).scheduled_at, HELSINKI).date()
    visit(page, f"/publishing/calendar/?date={day.isoformat()}")
    cell = page.locator(f'td[data-calendar-drop="{day.isoformat()}"]')
    entry = cell.locator(f"#post-{post.pk}")
    assert "city-news: Swimming hall open late tonight." in entry.inner_text()
    assert entry.locator(".cal-status").inner_text() == "Published"
    assert SandboxPost.objects.filter(
        account=account, is_own=True, text="Swimming hall open late tonight."
    ).exists()


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_busy_hour_in_the_week_opens_in_place_by_keyboard(page, width, height):
    maria, manager, reviewer, account = city()
    monday = local_day_after(7) - timedelta(days=local_day_after(7).weekday())
    posts = [
        schedule(
            manager,
            reviewer,
            account,
            f"Road works notice {n}.",
            datetime.combine(monday, time(9, n), tzinfo=HELSINKI),
        )
        for n in range(4)
    ]
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, maria)
    visit(page, f"/publishing/calendar/week/?date={monday.isoformat()}")

    # The calendar's scroll area is the next stop after the time zone link, and the
    # arrow keys scroll it where the week is wider than the screen.
    page.get_by_role("link", name="Change your time zone").focus()
    page.keyboard.press("Tab")
    region = page.get_by_role("region", name=re.compile(r"^Week \d+"))
    assert region.evaluate("el => el === document.activeElement")
    if width < 800:
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.querySelector('.calendar-scroll').scrollLeft > 0")

    cell = page.locator(f'td[data-calendar-drop="{monday.isoformat()}"][data-calendar-hour="9"]')
    assert "Road works notice 1." in cell.inner_text()
    assert "Road works notice 2." not in cell.inner_text()
    more = cell.get_by_role("link", name=re.compile(r"^2 more posts at 09:00 on Monday, "))
    more.focus()
    page.keyboard.press("Enter")
    rest = cell.locator(f"#more-{monday.isoformat()}-9")
    rest.wait_for()
    # Focus moves to the posts that took the link's place (once htmx has settled them).
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id",
        arg=rest.get_attribute("id"),
    )
    assert "09:03 city-news: Road works notice 3." in rest.inner_text()
    assert cell.get_by_role("link", name=re.compile("more posts")).count() == 0
    page.axe.check()

    # The posts shown in place move like the others: their Move link opens the form.
    cell.get_by_role("link", name="Move 09:03 city-news: Road works notice 3.").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Move a post"
    assert page.get_by_role("link", name="Road works notice 3.").is_visible()
    assert page.url.endswith(
        f"/publishing/calendar/posts/{posts[3].pk}/move/?next="
        + (f"%2Fpublishing%2Fcalendar%2Fweek%2F%3Fdate%3D{monday.isoformat()}")
    )


def test_a_busy_day_in_the_month_opens_in_place(page):
    maria, manager, reviewer, account = city()
    day = local_day_after(2)
    for n in range(7):
        schedule(
            manager,
            reviewer,
            account,
            f"Market day notice {n}.",
            datetime.combine(day, time(10, n), tzinfo=HELSINKI),
        )
    log_in(page, maria)
    visit(page, f"/publishing/calendar/?date={day.isoformat()}")

    cell = page.locator(f'td[data-calendar-drop="{day.isoformat()}"]')
    assert "Market day notice 5." not in cell.inner_text()
    cell.get_by_role("link", name=re.compile(r"^2 more posts on ")).click()
    rest = cell.locator(f"#more-{day.isoformat()}")
    rest.wait_for()
    # Focus moves to the posts that took the link's place (once htmx has settled them).
    page.wait_for_function(
        "id => document.activeElement && document.activeElement.id === id",
        arg=rest.get_attribute("id"),
    )
    assert "10:06 city-news: Market day notice 6." in rest.inner_text()
    page.axe.check()
