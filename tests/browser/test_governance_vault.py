"""An admin records an official account in the registry, stores its password in the
vault, and later reveals it with a fresh two-factor code and a reason; the page hides
the password again after a minute. Every page is checked with axe."""

from __future__ import annotations

import re

import pytest
from django_otp.oath import totp

from governance.models import AuditEvent, RegistryEntry, Role, TOTPDevice, VaultSecret
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kaupunki-YouTube-2025!"


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def log_in(page, user, device: TOTPDevice) -> None:
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(current_code(device))
    page.get_by_role("button", name="Verify").click()
    settle(page)


def test_register_an_account_store_its_password_and_reveal_it(page, time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=True)
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    device = TOTPDeviceFactory.create(user=alice)
    log_in(page, alice, device)

    # The overview links to the registry.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Governance").click()
    settle(page)
    page.get_by_role("main").get_by_role("link", name="Account registry").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Account registry"

    # Record the YouTube channel, run natively on the network.
    page.get_by_role("link", name="Add an account").click()
    settle(page)
    page.get_by_label("Network").select_option("youtube")
    page.get_by_label("Handle or address").fill("CityOfExample")
    page.get_by_label("Purpose").fill("Council meetings, streamed live.")
    page.get_by_label("Business owner").select_option(label="Alice Admin (alice@example.org)")
    page.get_by_label("Login identity").fill("viestinta@example.org")
    page.get_by_label("Where the two-factor authentication lives").fill("Team phone in the safe")
    page.get_by_role("button", name="Add to the registry").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("CityOfExample")
    assert page.get_by_text("Role mailbox").is_visible()
    entry = RegistryEntry.objects.get(handle="CityOfExample")

    # Store its password in the vault, from the entry's page.
    page.get_by_role("link", name="Store a secret for this account").click()
    settle(page)
    page.get_by_label("Name", exact=True).fill("YouTube login password")
    page.get_by_label("Secret").fill(PASSWORD)
    page.get_by_label("Rotate by").fill("2025-09-01")
    page.get_by_role("button", name="Store in the vault").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "YouTube login password"
    assert PASSWORD not in page.content()
    secret = VaultSecret.objects.get()
    assert secret.registry_entry == entry

    # A minute after the login's code, a reveal still asks for the code shown now.
    time_machine.shift(60)
    page.get_by_role("link", name="Reveal…").click()
    settle(page)
    page.get_by_label("Reason").fill("Logging in to fix the channel banner")
    page.get_by_role("button", name="Reveal the secret").click()
    settle(page)
    assert page.get_by_text("Enter the code your authenticator app shows now.").is_visible()
    assert PASSWORD not in page.content()

    page.clock.install()  # the page's countdown runs on a clock the test moves
    page.get_by_label("Code from your authenticator app").fill(current_code(device))
    page.get_by_role("button", name="Reveal the secret").click()
    settle(page)
    assert page.get_by_text(PASSWORD).is_visible()
    assert "vault/" in page.url and PASSWORD not in page.url

    event = AuditEvent.objects.get(action="vault.secret_revealed")
    assert event.new_values["reason"] == "Logging in to fix the channel banner"
    assert PASSWORD not in event.canonical_payload()

    # After a minute the value is gone from the page, and the page says so.
    page.clock.run_for(61_000)
    assert page.get_by_text(PASSWORD).count() == 0
    assert (
        page.get_by_role("status").filter(has_text=re.compile("The secret is hidden")).is_visible()
    )
    page.axe.check()

    # The secret's page lists the reveal with its reason, after the refused try.
    page.get_by_role("link", name="Back to the secret").click()
    settle(page)
    rows = page.get_by_role("table").locator("tbody tr")
    assert rows.count() == 2
    assert "Revealed" in rows.nth(0).inner_text()
    assert "Refused" in rows.nth(1).inner_text()
    assert "Logging in to fix the channel banner" in rows.nth(0).inner_text()

    # The other governance pages this work added pass axe too.
    visit(page, "/governance/risks/")
    assert page.get_by_role("heading", level=1).inner_text() == "Risk report"
    visit(page, "/governance/policies/new/")
    page.get_by_label("Title").fill("Tone of voice")
    page.get_by_label("Text").fill("Plain language.\n\nNo jargon.")
    page.get_by_role("button", name="Publish").click()
    settle(page)
    page.get_by_role("button", name=re.compile("I have read version 1")).click()
    settle(page)
    assert page.get_by_text("You acknowledged this version").is_visible()
    visit(page, "/governance/policies/")
    page.get_by_role("link", name=re.compile("Who has acknowledged")).click()
    settle(page)
    visit(page, "/governance/review/")
    visit(page, "/governance/registry/")
    visit(page, f"/governance/registry/{entry.pk}/review/")
    visit(page, "/governance/vault/")
