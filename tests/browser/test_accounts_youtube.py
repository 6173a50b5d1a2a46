"""An admin enters the organization's Google project and connects the city's YouTube
channel in a real browser: the Network apps page, the connect page, Google's consent
page (the local YouTube test server approves at once and sends the browser back), and
the account page with the day's quota. Every page passes axe (``settle``)."""

from __future__ import annotations

import re

import pytest

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from governance.models import Role
from tests.browser.conftest import settle, visit
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_up_the_google_project_and_connect_a_channel(page, live_server, youtube_server):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    youtube_server.redirect_uris.append(f"{live_server.url}/accounts/youtube/callback/")
    log_in(page, alice)

    visit(page, "/accounts/connect/")
    page.get_by_role("link", name="YouTube", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect a YouTube channel"
    page.get_by_role("link", name="Set up the Google project").click()
    settle(page)
    assert page.get_by_text("Redirect address to register:").is_visible()
    page.get_by_label("Client id").fill(youtube_server.client_id)
    page.get_by_label("Client secret").fill(youtube_server.client_secret)
    page.get_by_role("button", name="Save").click()
    settle(page)
    assert NetworkApp.objects.get(organization=org, network="google").client_id == (
        youtube_server.client_id
    )

    visit(page, "/accounts/connect/youtube/")
    page.get_by_role("button", name="Continue to Google").click()
    page.wait_for_url(re.compile(r"/accounts/\d+/$"))
    settle(page)
    assert youtube_server.requests_to("GET", "/o/oauth2/v2/auth")
    assert page.get_by_text("@examplecity is connected.").is_visible()
    account = ChannelAccount.objects.get(organization=org, network="youtube")
    assert account.status == AccountStatus.ACTIVE
    assert page.get_by_role("heading", name="YouTube quota today").is_visible()
    assert page.get_by_text(re.compile(r"1 of 10,000 units used today; resets at")).is_visible()
