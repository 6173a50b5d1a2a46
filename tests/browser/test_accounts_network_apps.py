"""An admin registers the organization's Meta app in a real browser: from the Accounts
page to the Network apps list, the Meta page with its steps, saved, then listed."""

from __future__ import annotations

import pytest

from accounts.models import NetworkApp
from governance.models import Role
from tests.browser.conftest import settle
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_registers_the_organizations_meta_app(page):
    org = OrganizationFactory(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    page.get_by_role("link", name="Network apps").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Network apps"
    page.get_by_role("link", name="Meta (Facebook Pages and Instagram)").click()
    settle(page)
    assert page.get_by_text("Redirect address to register:").is_visible()

    page.get_by_label("App id").fill("1234567890")
    page.get_by_label("App secret").fill("the-app-secret")
    page.get_by_label("Webhook verify token").fill("a-verify-token")
    page.get_by_role("button", name="Save").click()
    settle(page)
    assert page.get_by_text("Registered: app id 1234567890").is_visible()
    app = NetworkApp.objects.get(organization__slug="example", network="meta")
    assert app.client_secret == "the-app-secret"
    assert "the-app-secret" not in page.content()
