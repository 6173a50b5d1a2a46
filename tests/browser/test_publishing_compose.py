"""An editor writes a Finnish and Swedish post with a described image for the city's
Sandbox account, in a real browser, and sends it for review; two other people approve
it in turn (a two-stage policy, each in their own browser); the editor schedules it.

Live counts come from the server as the editor types (htmx under the site's CSP)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_otp.oath import totp
from PIL import Image

from governance.models import Role, TOTPDevice, User
from publishing.models import Post, PostStatus
from publishing.services.approval import StageInput, approval_policy_save
from tests.browser.conftest import AxeTracker, settle, visit
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
    """Password, then the code the person's authenticator app shows."""
    device: TOTPDevice = TOTPDeviceFactory.create(user=user)
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def png(path: Any) -> Any:
    target = path / "library-door.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    target.write_bytes(buffer.getvalue())
    return target


def approve_in_own_browser(browser: Any, live_server: Any, user: User, comment: str) -> str:
    """The reviewer opens "Waiting for me", the post, and approves it; returns the message."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", timezone_id="Europe/Helsinki"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.axe = AxeTracker(page)
    try:
        log_in(page, user)
        visit(page, "/publishing/review/")
        assert page.get_by_role("link", name="Waiting for me (1)").is_visible()
        page.get_by_role("link", name="Opening hours").click()
        settle(page)
        assert page.get_by_role("heading", level=1).inner_text() == "Opening hours"
        page.get_by_label("Comment").fill(comment)
        page.get_by_role("button", name="Approve").click()
        settle(page)
        message = page.locator(".messages").inner_text()
        assert not page.axe.unchecked()
        assert not page.axe.csp_errors, page.axe.csp_errors
    finally:
        context.close()
    return message


def test_bilingual_post_with_an_image_through_two_stage_approval(
    page, browser, live_server, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    eeva = UserFactory.create(email="eeva@example.org", full_name="Eeva Editor")
    riikka = UserFactory.create(email="riikka@example.org", full_name="Riikka Reviewer")
    mika = UserFactory.create(email="mika@example.org", full_name="Mika Manager")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=eeva, role=Role.EDITOR)
    reviewer = MembershipFactory.create(organization=org, user=riikka, role=Role.REVIEWER)
    manager = MembershipFactory.create(organization=org, user=mika, role=Role.MANAGER)
    admin = MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    account = ChannelAccountFactory.create(
        organization=org, network="sandbox", handle="city-practice", display_name="City"
    )
    approval_policy_save(
        membership=admin,
        name="Two pairs of eyes",
        stages=[
            StageInput(name="Communications", reviewer_ids=[reviewer.pk]),
            StageInput(name="Director", reviewer_ids=[manager.pk]),
        ],
    )

    # The editor puts a described image in the library.
    log_in(page, eeva)
    visit(page, "/publishing/media/")
    page.get_by_label("Image file").set_input_files(str(png(tmp_path)))
    # The image form's own fields: the video form below has alt text fields too.
    page.locator("#id_alt_fi").fill("Kirjaston pääovi aamulla")
    page.locator("#id_alt_sv").fill("Bibliotekets huvuddörr på morgonen")
    page.get_by_role("button", name="Upload", exact=True).click()
    settle(page)
    assert page.get_by_text("library-door.png is in the library.").is_visible()

    # Compose: the only account is chosen, in the city's Finnish and Swedish.
    page.get_by_role("navigation", name="Publishing").get_by_role("link", name="New post").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "New post"
    page.get_by_label("Internal title").fill("Opening hours")
    assert page.get_by_label("Finnish", exact=True).is_checked()
    assert page.get_by_label("Swedish", exact=True).is_checked()

    fi_key, sv_key = f"{account.pk}-fi", f"{account.pk}-sv"
    finnish = "Kirjasto aukeaa maanantaina klo 9. Tervetuloa!"
    swedish = "Biblioteket öppnar på måndag kl. 9. Välkommen!"
    page.get_by_label("Text in Finnish for city-practice").fill(finnish)
    page.get_by_label("Text in Swedish for city-practice").fill(swedish)
    # The server counts as the editor types, the way the Sandbox counts.
    fi_status = page.locator(f"#status-{fi_key}")
    sv_status = page.locator(f"#status-{sv_key}")
    fi_status.get_by_text(f"{len(finnish)} of 500 characters").wait_for()
    sv_status.get_by_text(f"{len(swedish)} of 500 characters").wait_for()
    assert fi_status.get_attribute("aria-live") == "polite"

    # The described image comes from the library, with its alt text in both languages.
    page.locator("summary", has_text="Or choose from the media library").click()
    page.get_by_role("button", name="Add library-door.png").click()
    assert page.get_by_label("Alt text in Swedish").input_value() == (
        "Bibliotekets huvuddörr på morgonen"
    )
    # The preview shows the image with the alt text of each language.
    page.locator(f"#preview-{sv_key} img[alt='Bibliotekets huvuddörr på morgonen']").wait_for()
    page.locator(f"#preview-{fi_key} img[alt='Kirjaston pääovi aamulla']").wait_for()
    page.axe.check()  # the page as htmx left it

    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    assert page.get_by_text("Saved and sent for review.").is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "Opening hours"
    review = page.get_by_role("region", name="Review", exact=True)
    assert "Waiting for review" in review.inner_text()
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW

    # Two other people approve, one stage each, in order.
    first = approve_in_own_browser(browser, live_server, riikka, "Suomi ja ruotsi ok.")
    assert "Your approval is recorded." in first
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    second = approve_in_own_browser(browser, live_server, mika, "Approved for Monday.")
    assert "Approved. The post can be scheduled now." in second
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED

    # The editor schedules it, in her own time zone.
    visit(page, f"/publishing/posts/{post.pk}/")
    history = page.get_by_role("region", name="History").inner_text()
    assert "Suomi ja ruotsi ok." in history and "Approved for Monday." in history
    when = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    local = when.astimezone(ZoneInfo("Europe/Helsinki"))
    page.get_by_label("Publish at").fill(local.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule", exact=True).click()
    settle(page)
    assert page.get_by_text("Scheduled.", exact=True).is_visible()
    assert "Scheduled" in page.locator(".post-status").inner_text()
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at is not None
    assert abs((post.scheduled_at - when).total_seconds()) < 60
    variants = {v.language: v for v in post.variants.all()}
    assert set(variants) == {"fi", "sv"}
    assert all(v.media.count() == 1 for v in variants.values())
