"""A team sets the times it likes to post on an account, puts a new post in the next
free slot from the composer and schedules an approved post in the slot after it.
Every page is checked with axe."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from governance.models import Membership, Role
from publishing.models import PostStatus, Weekday
from publishing.services.approval import post_approve
from publishing.services.posts import post_submit_for_review
from publishing.services.queue import next_free_slot, queue_slot_add
from publishing.tests.fixtures import draft
from tests.browser.conftest import settle, visit
from tests.browser.test_analytics import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_sets_queue_slots_and_adds_posts_to_the_queue(page: Any) -> None:
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    rita = UserFactory.create(email="rita@example.org", full_name="Rita Reviewer")
    editor: Membership = MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    reviewer: Membership = MembershipFactory.create(organization=org, user=rita, role=Role.REVIEWER)
    account = ChannelAccountFactory.create(organization=org, handle="city-news")
    log_in(page, eeva)

    # The slots page, from the publishing area's navigation: add Tuesdays at 09:30.
    visit(page, "/publishing/posts/")
    page.get_by_role("navigation", name="Publishing").get_by_role(
        "link", name="Queue slots"
    ).click()
    settle(page)
    assert page.get_by_text("No queue slots yet.").is_visible()
    page.get_by_label("Account").select_option(label=str(account))
    page.get_by_label("Day of the week").select_option(label="Tuesday")
    page.get_by_label("Time of day").fill("09:30")
    page.get_by_role("button", name="Add slot").click()
    settle(page)
    assert page.get_by_text("Added a queue slot to city-news: Tuesday at 09:30.").is_visible()
    table = page.get_by_role("table", name="Queue slots of city-news")
    assert "Tuesday" in table.inner_text()
    assert "09:30" in table.inner_text()
    queue_slot_add(membership=editor, account=account, weekday=Weekday.THURSDAY, at=time(14))

    # The composer: "Add to queue" fills the planned time with the next free slot.
    free = next_free_slot([account])
    assert free is not None
    # The week view shows the free slot as an empty place.
    local_day = free.at.astimezone(ZoneInfo("Europe/Helsinki")).date()
    visit(page, f"/publishing/calendar/week/?date={local_day.isoformat()}")
    assert page.get_by_text("Free queue slot").first.is_visible()

    visit(page, f"/publishing/posts/new/?account={account.pk}")
    page.get_by_role("button", name="Add to queue").click()
    settle(page)
    expected = free.at.astimezone(ZoneInfo("Europe/Helsinki")).strftime("%Y-%m-%dT%H:%M")
    assert page.get_by_label("Planned publication time").input_value() == expected
    note = page.locator("#compose-queue-note")
    assert "Planned for the next free queue slot:" in note.inner_text()
    assert note.get_attribute("role") == "status"

    # An approved post goes to the next free slot from its page.
    post = draft(editor, account, "Kirjasto aukeaa.")
    post_submit_for_review(post=post, membership=editor)
    post_approve(post=post, membership=reviewer)
    visit(page, f"/publishing/posts/{post.pk}/")
    page.get_by_role("button", name="Schedule in the next free slot").click()
    settle(page)
    assert page.get_by_text("Scheduled in the next free queue slot:").is_visible()
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at == free.at
