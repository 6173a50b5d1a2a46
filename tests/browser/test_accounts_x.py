"""An admin sets up the organization's X app and connects the city's X account in a
real browser: the app page (setup steps, callback address), the connect page, X's
consent page (the local X test server, which approves at once and sends the browser
back), the account page with the month's API calls, and a monthly budget. Every page
passes axe (``settle``)."""

from __future__ import annotations

import re

import pytest

from accounts.models import AccountStatus, ApiCallBudget, ChannelAccount, NetworkApp
from governance.models import Role
from tests.browser.conftest import settle, visit
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_up_the_x_app_connect_an_account_and_budget_its_calls(page, x_server):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    app = x_server.create_app()
    log_in(page, alice)

    visit(page, "/accounts/connect/")
    page.get_by_role("link", name="X", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect an X account"
    page.get_by_role("link", name="Set up the X app").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Your organization's X app"
    assert page.locator("#x-redirect-uri").inner_text().endswith("/accounts/x/callback/")
    page.get_by_label("OAuth 2.0 Client ID").fill(app.client_id)
    page.get_by_label("OAuth 2.0 Client Secret").fill(app.client_secret)
    page.get_by_label("API plan").select_option("pay_per_use")
    page.get_by_role("button", name="Save the X app").click()
    settle(page)
    assert page.get_by_text("The X app is saved.").is_visible()
    assert NetworkApp.objects.get(organization=org, network="x").client_secret == app.client_secret

    page.get_by_role("link", name="Connect an X account").click()
    settle(page)
    assert page.get_by_text("replies can go only to posts that mention or quote").is_visible()
    page.get_by_role("button", name="Continue to X").click()
    page.wait_for_url(re.compile(r"/accounts/\d+/$"))
    settle(page)
    assert x_server.requests_to("GET", "/i/oauth2/authorize")
    assert page.get_by_text("@KaupunkiX is connected.").is_visible()
    account = ChannelAccount.objects.get(organization=org, network="x")
    assert account.status == AccountStatus.ACTIVE

    page.get_by_role("button", name="Check now").click()
    settle(page)
    assert page.get_by_text("1 call so far this month").is_visible()
    page.get_by_label("Monthly budget of API calls").fill("1")
    page.get_by_role("button", name="Save the budget").click()
    settle(page)
    assert ApiCallBudget.objects.get(account=account).monthly_calls == 1
    assert page.get_by_text("The monthly budget is spent.").is_visible()
