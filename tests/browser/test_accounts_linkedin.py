"""An admin connects the city's LinkedIn pages in a real browser: enters the
organization's own LinkedIn app, signs in at LinkedIn (the local test server, which
approves at once and sends the browser back), and connects two pages in one click."""

from __future__ import annotations

import re

import pytest

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from governance.models import Role
from tests.browser.conftest import settle
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enter_the_app_sign_in_and_connect_two_pages(page, linkedin_server, live_server, settings):
    settings.SITE_URL = live_server.url
    app = linkedin_server.create_app(
        redirect_uris=[f"{live_server.url}/accounts/linkedin/callback/"]
    )
    member = linkedin_server.member
    linkedin_server.create_organization("Esimerkin kaupunki", admin=member)
    linkedin_server.create_organization(
        "Kaupunginmuseo", admin=member, role="CONTENT_ADMINISTRATOR"
    )
    linkedin_server.create_organization("Tilastopalvelu", admin=member, role="ANALYST")
    org = OrganizationFactory(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    page.get_by_role("link", name="Connect an account").click()
    settle(page)
    page.get_by_role("link", name="LinkedIn", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect LinkedIn pages"
    assert page.get_by_text(f"{live_server.url}/accounts/linkedin/callback/").is_visible()
    assert page.get_by_text("Save your organization's LinkedIn app first.").is_visible()

    page.get_by_label("Client ID").fill(app.client_id)
    page.get_by_label("Primary client secret").fill(app.client_secret)
    page.get_by_role("button", name="Save the app").click()
    settle(page)
    assert page.get_by_text("The LinkedIn app is saved.").is_visible()
    assert (
        NetworkApp.objects.get(organization__slug="example", network="linkedin").client_id
        == app.client_id
    )

    # Our own page moves on to LinkedIn by itself; LinkedIn approves and sends us back.
    page.get_by_role("button", name="Continue to LinkedIn").click()
    page.wait_for_url(re.compile(r"/accounts/connect/linkedin/pages/$"))
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Choose LinkedIn pages"
    assert page.get_by_label("Esimerkin kaupunki").is_checked()
    assert page.get_by_label("Kaupunginmuseo").is_checked()
    assert page.get_by_text("Tilastopalvelu").is_visible()  # listed, but cannot be chosen
    page.get_by_role("button", name="Connect the chosen pages").click()
    settle(page)

    assert page.get_by_text("Connected: Esimerkin kaupunki, Kaupunginmuseo.").is_visible()
    row = page.get_by_role("row", name=re.compile("esimerkin-kaupunki"))
    assert "LinkedIn" in row.inner_text() and "Active" in row.inner_text()
    accounts = ChannelAccount.objects.filter(organization__slug="example", network="linkedin")
    assert {a.display_name for a in accounts} == {"Esimerkin kaupunki", "Kaupunginmuseo"}
    assert {a.status for a in accounts} == {AccountStatus.ACTIVE}
    assert linkedin_server.requests_to("GET", "/oauth/v2/authorization")
