"""An admin connects the organization's Bluesky account through the pages, in a real
browser, against the real Bluesky servers run locally: a mistyped app password is
explained next to its field, the right one connects the account."""

from __future__ import annotations

import pytest
from django_otp.oath import totp

from accounts.models import AccountStatus, ChannelAccount
from governance.models import Role
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.bsky, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bsky(bsky_network, settings):
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


def _log_in_with_code(page, email: str, device) -> None:
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your two-factor code"
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def test_connect_a_bluesky_account_with_an_app_password(page, bsky):
    org = OrganizationFactory.create(name="Kaupunki Example", slug="kaupunki")
    alice = UserFactory.create(email="alice@kaupunki.example", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    device = TOTPDeviceFactory.create(user=alice)
    remote = bsky.create_account("kaupunki")
    app_password = bsky.create_app_password(remote, "GovSocial")

    _log_in_with_code(page, "alice@kaupunki.example", device)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    page.get_by_role("link", name="Connect an account").click()
    settle(page)
    page.get_by_role("link", name="Bluesky").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect a Bluesky account"

    # A mistyped app password: told next to the field, nothing connected.
    page.get_by_label("Handle").fill(f"@{remote.handle}")
    page.get_by_label("App password:", exact=True).fill("aaaa-bbbb-cccc-dddd")
    page.get_by_role("button", name="Connect").click()
    settle(page)
    password_field = page.get_by_label("App password:", exact=True)
    error_id = password_field.get_attribute("aria-describedby") or ""
    assert "id_app_password_error" in error_id
    assert (
        "did not accept this handle and app password"
        in page.locator("#id_app_password_error").inner_text()
    )
    assert password_field.input_value() == ""  # the password is not sent back
    assert not ChannelAccount.objects.filter(network="bluesky").exists()

    # The app password as Bluesky showed it.
    password_field.fill(app_password)
    page.get_by_role("button", name="Connect").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith(remote.handle)
    assert f"{remote.handle} is connected." in page.get_by_role("main").inner_text()
    account = ChannelAccount.objects.get(network="bluesky", organization=org)
    assert (account.remote_id, account.status) == (remote.did, AccountStatus.ACTIVE)
    assert account.connected_by == alice
    assert app_password not in str(account.credentials)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=remote.handle))
    assert "Bluesky" in row.inner_text() and "Active" in row.inner_text()
