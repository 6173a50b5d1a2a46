"""Passkeys in a real browser, with Chromium's virtual authenticator (the DevTools
protocol's WebAuthn domain): add one after the usual login, name it, use it as the
second step after the password, sign in with it alone once the organization allows
it, and remove it. Every page is checked with axe."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django_otp.oath import totp
from django_otp_webauthn.models import WebAuthnCredential

from governance.models import AuditEvent, Role, TOTPDevice
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_virtual_authenticator(page: Any) -> tuple[Any, str]:
    """A platform authenticator (like a laptop's fingerprint reader) that says yes."""
    client = page.context.new_cdp_session(page)
    client.send("WebAuthn.enable")
    answer = client.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return client, answer["authenticatorId"]


def password_step(page: Any, email: str) -> None:
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    settle(page)


def test_add_a_passkey_use_it_after_the_password_then_alone_then_remove_it(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    device: TOTPDevice = TOTPDeviceFactory.create(user=alice)
    client, authenticator = add_virtual_authenticator(page)

    # The usual login: password, then the authenticator app's code.
    password_step(page, alice.email)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)

    # Profile → Passkeys → Add a passkey: the browser makes one, the list shows it.
    visit(page, "/me/")
    page.get_by_role("link", name="Passkeys").click()
    settle(page)
    assert page.locator("#no-passkeys").is_visible()
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_selector("#passkey-list")
    settle(page)
    assert page.locator("#passkey-list tbody th").all_inner_texts() == ["Passkey 1"]
    assert (
        len(
            client.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
                "credentials"
            ]
        )
        == 1
    )

    # Name it.
    page.get_by_label("New name for Passkey 1").fill("Work laptop")
    page.get_by_role("button", name="Rename").click()
    settle(page)
    assert page.locator("#passkey-list tbody th").all_inner_texts() == ["Work laptop"]
    assert page.get_by_text("The passkey is now called “Work laptop”.").is_visible()

    # Signing in with the passkey alone is off by default: the login page says why.
    log_out(page)
    visit(page, "/auth/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    status = page.locator("#passkey-verification-status-message")
    status.filter(has_text="does not allow").wait_for()
    assert "Sign in with your e-mail address and password" in status.inner_text()

    # After the password, the passkey serves as the second step.
    password_step(page, alice.email)
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your two-factor code"
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    login = AuditEvent.objects.filter(action="auth.login_succeeded").latest("id")
    assert login.new_values["second_factor"] == "passkey"

    # The admin allows passkey sign-in for the organization.
    visit(page, "/me/passkeys/")
    page.get_by_label("Members of City of Example may sign in with a passkey alone").check()
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    org.refresh_from_db()
    assert org.allow_passkey_sign_in is True

    # Now the passkey alone signs in: no password, no code.
    log_out(page)
    visit(page, "/auth/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    login = AuditEvent.objects.filter(action="auth.login_succeeded").latest("id")
    assert login.new_values["second_factor"] == "passkey (sign-in)"

    # Remove it: it no longer signs in. This session was proved with it, so the app asks
    # for the authenticator app's code before going on; then the list is empty.
    visit(page, "/me/passkeys/")
    page.get_by_role("button", name="Remove Work laptop").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your two-factor code"
    assert page.get_by_text("You had signed in with that passkey").is_visible()
    # (The next time step's code: the current one may have been spent at the first login.)
    page.get_by_label("Code from your authenticator app").fill(
        f"{totp(device.bin_key, drift=1):06d}"
    )
    page.get_by_role("button", name="Verify").click()
    settle(page)
    visit(page, "/me/passkeys/")
    assert page.locator("#no-passkeys").is_visible()
    assert page.get_by_role("button", name="Use a passkey").count() == 0
    assert not WebAuthnCredential.objects.filter(user=alice).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="auth.passkey")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["auth.passkey_added", "auth.passkey_renamed", "auth.passkey_removed"]
    assert AuditEvent.objects.filter(action="org.passkey_sign_in_changed").count() == 1
