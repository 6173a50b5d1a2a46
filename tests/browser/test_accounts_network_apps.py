"""An admin registers the organization's LinkedIn app in a real browser: from the Accounts
page to the Network apps list, the shared app page with its steps, saved, then listed."""

from __future__ import annotations

import pytest

from accounts.models import NetworkApp
from governance.models import Role
from tests.browser.conftest import settle
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_registers_the_organizations_app_on_the_shared_page(page):
    org = OrganizationFactory(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    page.get_by_role("link", name="Network apps").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Network apps"
    page.get_by_role("link", name="LinkedIn", exact=True).click()
    settle(page)
    assert page.get_by_text("Redirect address to register:").is_visible()

    page.get_by_label("Client id").fill("1234567890")
    page.get_by_label("Client secret").fill("the-app-secret")
    page.get_by_role("button", name="Save").click()
    settle(page)
    assert page.get_by_text("Registered: app id 1234567890").is_visible()
    app = NetworkApp.objects.get(organization__slug="example", network="linkedin")
    assert app.client_secret == "the-app-secret"
    assert "the-app-secret" not in page.content()
