"""Single sign-on in a real browser: an admin sets up the organization's provider, then a
colleague signs in with it from the login page (through the real OpenID Provider's
sign-in page), and someone in no mapped group lands on the waiting page. Every page of
ours is checked with axe."""

from __future__ import annotations

import pytest
from django_otp.oath import totp

from governance.models import Membership, OIDCProvider, Role
from tests.browser.conftest import AxeTracker, settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in_with_sso(browser, live_server, oidc_server, email: str, login: str):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.axe = AxeTracker(page)
    visit(page, "/auth/login/")
    page.get_by_label("Work e-mail").fill(email)
    page.get_by_role("button", name="Continue with single sign-on").click()
    settle(page)
    page.get_by_role("link", name="Sign in with Example ID").click()
    # The provider's own sign-in page.
    page.wait_for_url(f"{oidc_server.issuer}/interaction/**")
    settle(page)
    page.get_by_label("User name or e-mail address").fill(login)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/**")
    settle(page)
    return context, page


def test_admin_sets_up_sso_and_a_colleague_signs_in_with_it(
    page, browser, live_server, oidc_server, settings
):
    settings.SITE_URL = live_server.url
    client_id, client_secret = oidc_server.register_client(f"{live_server.url}/auth/sso/callback/")
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    device = TOTPDeviceFactory.create(user=alice)

    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(alice.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)

    visit(page, "/governance/settings/")
    page.get_by_role(
        "link", name="Set up sign-in with the organization's identity provider"
    ).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Single sign-on"
    assert page.locator("#sso-redirect-uri").inner_text() == f"{live_server.url}/auth/sso/callback/"
    page.get_by_label("Provider name").fill("Example ID")
    page.get_by_label("Issuer address").fill(oidc_server.issuer)
    page.get_by_label("Client ID").fill(client_id)
    page.get_by_label("Client secret").fill(client_secret)
    page.get_by_label("Allowed e-mail domains").fill("example.org")
    page.get_by_label("Groups and roles").fill("comms-editors = editor")
    page.get_by_role("button", name="Save single sign-on settings").click()
    settle(page)
    assert "The single sign-on settings were saved." in page.locator(".messages").inner_text()
    assert OIDCProvider.objects.get(organization=org).client_id == client_id

    # A colleague whose provider proved a second factor: straight to the home page.
    oidc_server.add_account(
        "dana-b",
        email="dana@example.org",
        name="Dana Editor",
        groups=["comms-editors"],
        amr=["pwd", "mfa"],
    )
    context, dana_page = _sign_in_with_sso(
        browser, live_server, oidc_server, "dana@example.org", "dana-b"
    )
    assert dana_page.get_by_role("heading", level=1).inner_text().startswith("Today")
    assert Membership.objects.get(user__email="dana@example.org").role == Role.EDITOR
    # After logging out, the login page offers the button at once.
    dana_page.get_by_role("button", name="Log out").click()
    settle(dana_page)
    assert dana_page.get_by_role("link", name="Sign in with Example ID").is_visible()
    assert not dana_page.axe.unchecked()
    context.close()

    # Someone in no mapped group waits for an admin.
    oidc_server.add_account("max-b", email="max@example.org", groups=["visitors"], amr=["mfa"])
    context, max_page = _sign_in_with_sso(
        browser, live_server, oidc_server, "max@example.org", "max-b"
    )
    assert max_page.get_by_role("heading", level=1).inner_text() == "Waiting for a role"
    # A forged answer is a readable page, not an error 500.
    visit(max_page, "/auth/sso/callback/?code=forged&state=forged")
    assert "This sign-in link is not valid any more" in max_page.locator("#sso-error").inner_text()
    assert not max_page.axe.unchecked()
    context.close()

    # The admin sees who waits.
    visit(page, "/governance/settings/sso/")
    assert page.get_by_text("max@example.org").first.is_visible()
