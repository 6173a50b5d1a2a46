"""A manager sets a watch in a real browser, reads its stream after a generated burst,
filters it, marks a false claim and links our correction, opens a misinformation case,
and pauses publishing from the alert. Every page is checked with axe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_otp.oath import totp

from accounts.connectors.base import FoundPost
from governance.models import Role, TOTPDevice, User
from listening.models import ListeningPost, MisinformationCase, Watch, WatchAlert
from listening.services import listening_store_posts
from publishing.models import PublishingPause
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


def log_in(page: Any, user: User) -> None:
    device: TOTPDevice = TOTPDeviceFactory.create(user=user)
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def _burst(watch: Watch, count: int) -> None:
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    found = [
        (
            FoundPost(
                remote_id=f"at://did:plc:p{i}/app.bsky.feed.post/{i}",
                url=f"https://bsky.app/profile/p{i}.bsky.social/post/{i}",
                author_handle=f"p{i}.bsky.social",
                author_name=f"Asukas {i}",
                text=("uimahalli suljetaan pysyvästi!" if i == 0 else f"uimahallissa kylmää {i}"),
                created_at=max(hour, now - timedelta(seconds=i)),  # all in this hour
                language="fi" if i % 3 else "sv",
                likes=i,
            ),
            ["uimahalli"],
        )
        for i in range(count)
    ]
    listening_store_posts(watch=watch, account=None, network="bluesky", found=found)


def test_a_manager_watches_reads_the_burst_marks_a_false_claim_and_pauses(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    manny = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    MembershipFactory.create(organization=org, user=manny, role=Role.MANAGER)
    ChannelAccountFactory.create(organization=org, network="bluesky", handle="city.bsky.social")

    log_in(page, manny)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Listening").click()
    settle(page)
    page.get_by_role("link", name="New watch").click()
    settle(page)
    page.get_by_label("Name:", exact=True).fill("Uimahalli")
    page.get_by_label("Terms:", exact=True).fill("uimahalli")
    page.get_by_label("Match word beginnings").check()
    page.get_by_label("Bluesky city.bsky.social", exact=False).check()
    page.get_by_role("button", name="Save the watch").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Uimahalli"
    assert page.get_by_text("No matching posts yet.").is_visible()

    watch = Watch.objects.get(name="Uimahalli")
    _burst(watch, 12)
    assert WatchAlert.objects.filter(watch=watch).count() == 1
    visit(page, f"/listening/{watch.pk}/")
    assert page.locator(".listening-post").count() == 12
    assert page.get_by_text("12 posts in the hour from").is_visible()

    page.get_by_label("Language:", exact=True).select_option("sv")
    page.get_by_role("button", name="Filter").click()
    settle(page)
    assert page.locator(".listening-post").count() == 4

    # A case for the false claim, then the post marked into it with our correction.
    visit(page, "/listening/cases/")
    page.get_by_label("False claim").fill("Uimahalli suljetaan pysyvästi")
    page.get_by_role("button", name="Open the case").click()
    settle(page)
    visit(page, f"/listening/{watch.pk}/")
    claim = page.get_by_role("article", name="Asukas 0")
    claim.get_by_label("Case").select_option(label="Uimahalli suljetaan pysyvästi")
    claim.get_by_role("button", name="Mark as misinformation").click()
    settle(page)
    claim = page.get_by_role("article", name="Asukas 0")
    claim.get_by_label("Our correcting post").fill("https://example.org/uimahalli")
    claim.get_by_role("button", name="Link the correction").click()
    settle(page)
    post = ListeningPost.objects.get(text="uimahalli suljetaan pysyvästi!")
    assert post.misinformation_at is not None
    assert post.case == MisinformationCase.objects.get()
    assert post.correction_url == "https://example.org/uimahalli"
    page.get_by_role("link", name="Uimahalli suljetaan pysyvästi").first.click()
    settle(page)
    assert page.get_by_role("cell", name="uimahalli suljetaan pysyvästi!").is_visible()

    visit(page, f"/listening/{watch.pk}/")
    page.get_by_role("button", name="Pause all publishing now").click()
    settle(page)
    assert PublishingPause.objects.filter(organization=org, ended_at__isnull=True).exists()

    # The alert, acknowledged: the button gives way to who acknowledged it (axe checks
    # both states of the page).
    visit(page, f"/listening/{watch.pk}/")
    page.get_by_role("button", name="Acknowledge").click()
    settle(page)
    assert page.get_by_text("Alert acknowledged.").is_visible()
    assert page.get_by_text("Acknowledged by Manny Manager on").is_visible()
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    assert WatchAlert.objects.get(watch=watch).acknowledged_by == manny
