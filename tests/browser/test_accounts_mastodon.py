"""An admin connects the city's Mastodon account in a real browser: the connect pages,
the instance's sign-in page (the local test server, which approves at once and
sends the browser back), then the account's page; Check now and Disconnect."""

from __future__ import annotations

import re
from typing import cast

import pytest
from django_otp.oath import totp

from accounts.models import AccountStatus, ChannelAccount
from governance.models import Role, TOTPDevice
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, user) -> None:
    """Password, then the code the person's authenticator app shows."""
    device = cast(TOTPDevice, TOTPDeviceFactory(user=user))
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def test_connect_check_and_disconnect_a_mastodon_account(page, mastodon_server):
    org = OrganizationFactory(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Accounts"
    assert page.get_by_text("No channel accounts yet.").is_visible()
    page.get_by_role("link", name="Connect an account").click()
    settle(page)
    page.get_by_role("link", name="Mastodon", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect a Mastodon account"

    # The form's answer is a page of ours that moves on to the instance by itself (a
    # redirect would break the CSP's form-action). Hold that move once (a 204 leaves
    # the browser where it is) to check the page, then follow its link.
    authorize = re.compile(r".*/oauth/authorize\?.*")
    page.route(authorize, lambda route: route.fulfill(status=204))
    page.get_by_label("Mastodon server").fill(mastodon_server.base_url)
    page.get_by_role("button", name="Continue to the server").click()
    settle(page)
    host = mastodon_server.base_url.removeprefix("http://")
    assert page.get_by_role("heading", level=1).inner_text() == f"Sign in at {host}"
    page.unroute(authorize)

    # Off to the instance's sign-in page, which approves and sends the browser back.
    page.get_by_role("link", name=f"Continue to {host}").click()
    page.wait_for_url(re.compile(r"/accounts/\d+/$"))
    settle(page)
    assert mastodon_server.requests_to("GET", "/oauth/authorize")
    assert page.get_by_role("heading", level=1).inner_text().startswith("@comms@social.example")
    assert page.get_by_text("@comms@social.example is connected.").is_visible()
    account = ChannelAccount.objects.get(organization__slug="example", network="mastodon")
    assert account.status == AccountStatus.ACTIVE
    assert account.connected_by == alice

    page.get_by_role("link", name="Back to accounts").click()
    settle(page)
    row = page.get_by_role("row", name=re.compile("@comms@social.example"))
    assert "Active" in row.inner_text()
    assert "Mastodon" in row.inner_text()
    row.get_by_role("link", name="@comms@social.example").click()
    settle(page)

    page.get_by_role("button", name="Check now").click()
    settle(page)
    assert page.get_by_text("The connection works").is_visible()

    token = account.credentials["access_token"]
    page.get_by_role("link", name="Disconnect").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Disconnect @comms@social.example?"
    page.get_by_role("button", name="Disconnect @comms@social.example").click()
    settle(page)
    assert page.get_by_text("@comms@social.example is disconnected.").is_visible()
    account.refresh_from_db()
    assert account.status == AccountStatus.DISCONNECTED
    assert mastodon_server.tokens[token].revoked


def test_the_meta_refresh_alone_reaches_the_instance(page, mastodon_server):
    """Without anyone clicking the link, the browser moves on and comes back connected."""
    org = OrganizationFactory(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)
    visit(page, "/accounts/connect/mastodon/")
    page.get_by_label("Mastodon server").fill(mastodon_server.base_url)
    page.get_by_role("button", name="Continue to the server").click()
    page.wait_for_url(re.compile(r"/accounts/\d+/$"))
    settle(page)
    assert page.get_by_text("@comms@social.example is connected.").is_visible()


def test_a_sandbox_account_its_feed_and_the_simulated_audience(page):
    org = OrganizationFactory(name="City of Example", slug="example")
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    visit(page, "/accounts/connect/")
    page.get_by_role("link", name="Bluesky").click()
    settle(page)  # the app password instructions pass axe too
    assert page.get_by_text("Settings → Privacy and security → App passwords").is_visible()
    visit(page, "/accounts/connect/sandbox/")
    assert page.get_by_label("Name of the practice account").input_value() == "example-training"
    page.get_by_role("button", name="Add the Sandbox account").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Practice feed of example-training"
    assert page.get_by_text("Nothing here is public").is_visible()

    page.get_by_label("Audience mood").select_option("crisis")
    page.get_by_role("button", name="Simulate audience activity").click()
    settle(page)
    assert page.get_by_text("The simulated audience reacted").is_visible()
    assert page.locator("article.sandbox-post").count() >= 1

    page.get_by_role("link", name="Back to the account").click()
    settle(page)
    assert page.get_by_text("Sandbox (training)").first.is_visible()
