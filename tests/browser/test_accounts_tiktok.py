"""An admin sets up the organization's TikTok app and connects the city's TikTok
account in a real browser: the app page (steps, permissions, the "audited" choice),
the connect page, TikTok's authorization page (the local TikTok test server, which
allows at once and sends the browser back), and the account page with what TikTok
allows the creator and the plain private-only warning. Every page passes axe
(``settle``)."""

from __future__ import annotations

import re

import pytest

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from governance.models import Role
from tests.browser.conftest import settle, visit
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_up_the_tiktok_app_connect_an_account_and_see_what_tiktok_allows(page, tiktok_server):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    tiktok_server.creator.privacy_levels = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    tiktok_server.creator.stitch_disabled = True
    log_in(page, alice)

    visit(page, "/accounts/connect/")
    page.get_by_role("link", name="TikTok", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect a TikTok account"
    page.get_by_role("link", name="Set up the TikTok app").click()
    settle(page)
    assert page.get_by_text("video.publish").is_visible()
    page.get_by_label("Client key").fill(tiktok_server.client_key)
    page.get_by_label("Client secret").fill(tiktok_server.client_secret)
    page.get_by_role("button", name="Save").click()
    settle(page)
    assert NetworkApp.objects.get(organization=org, network="tiktok").options == {"audited": False}

    visit(page, "/accounts/connect/tiktok/")
    assert page.get_by_text("has not yet audited").is_visible()
    page.get_by_role("button", name="Continue to TikTok").click()
    page.wait_for_url(re.compile(r"/accounts/\d+/$"))
    settle(page)
    assert tiktok_server.requests_to("GET", "/v2/auth/authorize/")
    assert page.get_by_text("Helsingin kaupunki is connected.").is_visible()
    account = ChannelAccount.objects.get(organization=org, network="tiktok")
    assert account.status == AccountStatus.ACTIVE
    section = page.get_by_role("region", name="What TikTok allows this account")
    assert section.get_by_text("Private posts only.").is_visible()
    assert section.get_by_text("Followers", exact=True).is_visible()
    assert section.get_by_text("Only the creator (private)").is_visible()
    assert section.get_by_text("every post has stitches off").is_visible()
