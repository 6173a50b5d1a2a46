"""SAML 2.0 single sign-on in a real browser: an admin sets up the organization's SAML
identity provider from its metadata address, then a colleague signs in from the login
page through the IdP's sign-in page (pysaml2's IdP, tests/saml_idp), whose answer the
browser posts back across sites. Every page of ours is checked with axe."""

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


def test_admin_sets_up_saml_and_a_colleague_signs_in_with_it(
    page, browser, live_server, saml_idp, settings
):
    settings.SITE_URL = live_server.url
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

    visit(page, "/governance/settings/sso/")
    acs = f"{live_server.url}/auth/sso/saml/{org.pk}/acs/"
    assert page.locator("#saml-acs-url").inner_text() == acs
    page.get_by_label("SAML 2.0").check()
    page.get_by_label("Provider name").fill("Example SAML")
    page.get_by_label("Identity provider's metadata address").fill(saml_idp.metadata_url)
    page.get_by_label("E-mail attribute").fill("mail")
    page.get_by_label("Allowed e-mail domains").fill("example.org")
    page.get_by_label("Groups and roles").fill("comms-editors = editor")
    page.get_by_role("button", name="Save single sign-on settings").click()
    settle(page)
    assert "The single sign-on settings were saved." in page.locator(".messages").inner_text()
    provider = OIDCProvider.objects.get(organization=org)
    assert provider.protocol == "saml" and provider.saml_idp_entity_id == saml_idp.entity_id

    saml_idp.add_account(
        "dana",
        email="dana@example.org",
        name="Dana Editor",
        groups=["comms-editors"],
        authn_context="https://refeds.org/profile/mfa",
    )
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    dana = context.new_page()
    dana.axe = AxeTracker(dana)
    visit(dana, "/auth/login/")
    dana.get_by_label("Work e-mail").fill("dana@example.org")
    dana.get_by_role("button", name="Continue with single sign-on").click()
    settle(dana)
    dana.get_by_role("link", name="Sign in with Example SAML").click()
    dana.wait_for_url(f"{saml_idp.base}/sso?**")
    dana.get_by_label("User name").fill("dana")
    dana.get_by_role("button", name="Sign in").click()
    # The IdP's page posts the answer to us by itself; we send the browser home.
    dana.wait_for_url(f"{live_server.url}/")
    settle(dana)
    assert dana.get_by_role("heading", level=1).inner_text().startswith("Today")
    assert Membership.objects.get(user__email="dana@example.org").role == Role.EDITOR
    # Only the IdP's own pages (/sso…) went unchecked here.
    assert [path for path in dana.axe.unchecked() if not path.startswith("/sso")] == []
    context.close()
