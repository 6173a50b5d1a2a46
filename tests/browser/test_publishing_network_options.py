"""An editor writes a post for the city's TikTok and YouTube accounts: the composer shows
a TikTok section per version with the privacy levels TikTok allows the creator (none
chosen), the interactions the creator turned off disabled and explained, TikTok's Music
Usage Confirmation beside the buttons, and a YouTube section with title, privacy,
category, tags and made-for-kids. Submitting without the required choices puts the
errors beside the fields; the choices made are kept. Every page passes axe."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from accounts.connectors.registry import get_connector
from accounts.models import NetworkApp
from accounts.tests.helpers import channel_account
from governance.models import Role
from publishing.models import Variant
from tests.browser.conftest import settle, visit
from tests.browser.test_publishing_compose import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.youtube_server.helpers import connect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tiktok_and_youtube_choices_in_the_composer(page, tiktok_server, youtube_server):
    cache.clear()
    org = OrganizationFactory.create(name="City of Example", slug="example", default_language="fi")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    NetworkApp.objects.create(
        organization=org,
        network="tiktok",
        client_id=tiktok_server.client_key,
        client_secret=tiktok_server.client_secret,
        options={"audited": True},
    )
    access, refresh = tiktok_server.issue_token()
    tiktok = channel_account(
        organization=org,
        network="tiktok",
        handle="helsinki",
        remote_id=tiktok_server.creator.open_id,
        server_url=tiktok_server.base_url,
        credentials={"access_token": access, "refresh_token": refresh},
        credentials_expire_at=timezone.now() + timedelta(hours=20),
    )
    youtube = connect(
        SimpleNamespace(org=org, alice=alice), youtube_server, get_connector("youtube")
    )
    tiktok_server.creator.privacy_levels = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    tiktok_server.creator.stitch_disabled = True
    log_in(page, alice)

    visit(page, f"/publishing/posts/new/?account={tiktok.pk}")
    section = page.get_by_role("group", name="TikTok post settings (Finnish, helsinki)")
    privacy = section.get_by_label("Who can see it on TikTok (Finnish, helsinki)")
    expect(privacy).to_have_value("")
    assert privacy.locator("option").all_inner_texts() == [
        "Choose…",
        "Followers",
        "Only the creator (private)",
    ]
    expect(section.get_by_label("Allow stitches (Finnish, helsinki)")).to_be_disabled()
    expect(section.get_by_text("The creator has turned off stitches")).to_be_visible()
    expect(section.get_by_label("Allow comments (Finnish, helsinki)")).to_be_enabled()
    expect(
        page.get_by_text("By posting, you agree to TikTok's Music Usage Confirmation.")
    ).to_be_visible()

    page.get_by_label("Text in Finnish for helsinki").fill("Uimahalli aukeaa maanantaina.")
    page.get_by_label("Text in Swedish for helsinki").fill("Simhallen öppnar på måndag.")
    page.get_by_role("button", name="Save and submit for review").click()
    settle(page)
    expect(
        page.locator(f"#id_v-{tiktok.pk}-fi-tt_privacy_error").get_by_text(
            "Choose who can see the video on TikTok."
        )
    ).to_be_visible()
    privacy = page.get_by_label("Who can see it on TikTok (Finnish, helsinki)")
    privacy.select_option(label="Followers")
    page.get_by_label("Allow comments (Finnish, helsinki)").check()
    page.get_by_role("button", name="Save draft").click()
    settle(page)
    saved = Variant.objects.get(channel_account=tiktok, language="fi").network_options
    assert saved["privacy_level"] == "FOLLOWER_OF_CREATOR"
    assert saved["disable_comment"] is False
    assert saved["disable_stitch"] is True

    visit(page, f"/publishing/posts/new/?account={youtube.pk}")
    handle = youtube.handle
    section = page.get_by_role("group", name=f"YouTube video details (Finnish, {handle})")
    expect(section.get_by_label(f"Who can watch it on YouTube (Finnish, {handle})")).to_be_visible()
    section.get_by_label(f"YouTube category (Finnish, {handle})").select_option(label="Education")
    section.get_by_label(f"Video title (Finnish, {handle})").fill("Uusi <kirjasto>")
    page.get_by_role("button", name="Save draft").click()
    settle(page)
    expect(
        page.locator(f"#id_v-{youtube.pk}-fi-yt_title_error").get_by_text("no < or >")
    ).to_be_visible()
    page.get_by_label(f"Video title (Finnish, {handle})").fill("Uimahalli aukeaa")
    page.get_by_label("No, it is not").first.check()
    # Who can watch has no answer chosen in advance; here: private until a set time.
    privacy = page.get_by_label(f"Who can watch it on YouTube (Finnish, {handle})")
    expect(privacy).to_have_value("")
    privacy.select_option(label="Private until a time I choose, then public")
    page.get_by_label(f"Goes public on YouTube at (Finnish, {handle})").fill("2099-06-01T09:00")
    page.get_by_role("button", name="Save draft").click()
    settle(page)
    saved = Variant.objects.get(channel_account=youtube, language="fi").network_options
    assert saved["privacy_status"] == "private"
    assert saved["publish_at"].startswith("2099-06-01T")
    assert saved["title"] == "Uimahalli aukeaa"
    assert saved["category_id"] == "27"
    assert saved["made_for_kids"] is False
