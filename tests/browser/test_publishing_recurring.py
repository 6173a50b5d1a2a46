"""An editor makes a post repeat every week from the composer: the Repeat section says
the rule in words and lists the next dates; once the post is approved and scheduled,
each occurrence is on the calendar, marked as recurring, and one can be skipped from
the series page. Every page is checked with axe."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from governance.models import Membership, Role
from publishing.models import Post, PostSeries, PostStatus
from publishing.services.approval import post_approve
from publishing.services.posts import post_schedule, post_submit_for_review
from tests.browser.conftest import settle, visit
from tests.browser.test_analytics import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HELSINKI = ZoneInfo("Europe/Helsinki")


def test_an_editor_makes_a_weekly_post_and_skips_one_occurrence(page: Any) -> None:
    org = OrganizationFactory.create(name="City of Example", slug="example")
    org.time_zone = "Europe/Helsinki"
    org.save(update_fields=["time_zone"])
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    rita = UserFactory.create(email="rita@example.org", full_name="Rita Reviewer")
    editor: Membership = MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    reviewer: Membership = MembershipFactory.create(organization=org, user=rita, role=Role.REVIEWER)
    account = ChannelAccountFactory.create(organization=org, handle="city-news")
    log_in(page, eeva)

    first = (timezone.now().astimezone(HELSINKI) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    weekday = first.strftime("%A")
    visit(page, f"/publishing/posts/new/?account={account.pk}")
    page.get_by_label("Internal title").fill("Office hours")
    page.get_by_label("Planned publication time").fill(first.strftime("%Y-%m-%dT%H:%M"))
    for language in ("Finnish", "Swedish"):
        box = page.get_by_label(f"Text in {language} for city-news")
        if box.count():
            box.fill(
                "Virka-aika tänään klo 10-12." if language == "Finnish" else "Mottagning i dag."
            )
    page.locator("summary", has_text="Repeat").click()
    page.get_by_label("Repeat", exact=True).select_option(label="Weekly")
    page.get_by_label(weekday, exact=True).check()
    page.get_by_label("After a number of times").check()
    page.get_by_label("Number of times", exact=True).fill("4")
    page.get_by_role("button", name="Show the next dates").click()
    settle(page)
    summary = f"Every week on {weekday} at 10:00, 4 times (Europe/Helsinki time)"
    status = page.locator("#compose-repeat-preview")
    assert status.get_attribute("role") == "status"
    assert summary in status.inner_text()
    dates = page.get_by_role("list", name="The next dates:").get_by_role("listitem")
    assert dates.count() == 4
    assert dates.nth(1).inner_text().startswith(weekday)
    # What was typed is kept, and saving starts the series.
    page.get_by_role("button", name="Save draft").click()
    settle(page)
    series = PostSeries.objects.get()
    assert page.get_by_text(summary).first.is_visible()

    post = Post.objects.get(pk=series.head_id)
    post_submit_for_review(post=post, membership=editor)
    post_approve(post=post, membership=reviewer)
    post.refresh_from_db()
    assert post.scheduled_at is not None
    post_schedule(post=post, membership=editor, at=post.scheduled_at)
    occurrences = list(Post.objects.filter(series=series).order_by("occurrence_start"))
    assert len(occurrences) == 4
    assert {p.status for p in occurrences} == {PostStatus.SCHEDULED}

    # The calendar marks the occurrences and links to the series.
    visit(page, f"/publishing/calendar/week/?date={(first + timedelta(days=7)).date().isoformat()}")
    marker = page.locator("a.cal-series").first
    assert "Repeats" in marker.inner_text()
    marker.click()
    settle(page)
    assert page.get_by_role("heading", name="Recurring post “Office hours”").is_visible()
    table = page.get_by_role("table", name="Occurrences (times in Europe/Helsinki)")
    assert table.get_by_role("row").count() == 5  # a header and four occurrences
    second = occurrences[1]
    when = second.occurrence_start
    assert isinstance(when, datetime)
    page.get_by_role("button", name="Skip").nth(1).click()
    settle(page)
    assert page.get_by_text("Skipped the occurrence of").is_visible()
    second.refresh_from_db()
    assert second.status == PostStatus.CANCELLED
    assert "Skipped" in table.get_by_role("row").nth(2).inner_text()
