"""An admin turns on links that measure, sees on a post's page what its links will
become, and reads the clicks on the dashboard; a visitor with a mistyped short link gets
a friendly page. Every page is checked with axe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from governance.models import Membership, Role
from publishing.models import JobStatus, LinkSettings, PublishJob, ShortLink, ShortLinkClick
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


def test_an_admin_turns_on_short_links_and_reads_the_clicks(page: Any) -> None:
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    membership: Membership = MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    account = ChannelAccountFactory.create(organization=org, handle="city-news")
    post = draft(membership, account, "Sign up: https://example.fi/events?id=7", title="Events")
    log_in(page, alice)

    visit(page, "/publishing/links/")
    page.get_by_label("Tag links with campaign parameters").check()
    page.get_by_label("Shorten links and count clicks").check()
    page.get_by_label("Short link domain").fill("go.example.fi")
    page.get_by_role("button", name="Save link settings").click()
    settle(page)
    assert page.get_by_text("The link settings are saved.").is_visible()
    assert LinkSettings.objects.get(organization=org).short_domain == "go.example.fi"

    visit(page, f"/publishing/posts/{post.pk}/")
    plan = page.get_by_role("table", name="When the post is published")
    assert "https://go.example.fi/l/… (a short link to https://example.fi/events?id=7" in (
        plan.inner_text()
    )

    now = timezone.now()
    job = PublishJob.objects.create(
        organization=org,
        post=post,
        variant=post.variants.get(),
        channel_account=account,
        due_at=now,
        next_attempt_at=now,
        status=JobStatus.PUBLISHED,
    )
    link = ShortLink.objects.create(
        organization=org,
        post=post,
        job=job,
        network=account.network,
        code="evt12345",
        original_url="https://example.fi/events?id=7",
        target_url="https://example.fi/events?id=7&utm_medium=social",
    )
    ShortLinkClick.objects.create(link=link, day=now.date() - timedelta(days=1), clicks=12)
    visit(page, "/analytics/")
    section = page.get_by_role("region", name="Clicks on links")
    assert "12 clicks on the short links of posts in this range." in section.inner_text()
    page.get_by_text("Clicks per day (UTC) and network").first.click()
    settle(page)

    visit(page, "/l/nope1234")
    assert page.get_by_role("heading", name="Link not found").is_visible()
