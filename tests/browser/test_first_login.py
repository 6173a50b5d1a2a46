"""A new admin's first day, in a real browser: log in, enrol 2FA, invite a colleague,
switch to Finnish and find the invitation in the audit log; then log in again with a
backup code."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import totp

from governance.models import AuditEvent, Role
from tests.browser.conftest import settle, visit
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code_from_secret(secret_text: str) -> str:
    """What the person's authenticator app shows for the secret printed on the page."""
    key = base64.b32decode(re.sub(r"\s+", "", secret_text).upper())
    return f"{totp(key):06d}"


def _log_in(page, email: str) -> None:
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)


def test_first_login_enrol_invite_switch_language_and_audit(page, browser, live_server, mailoutbox):
    org = OrganizationFactory.create(name="Kaupunki Example", slug="kaupunki")
    alice = UserFactory.create(email="alice@kaupunki.example", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)

    # Password first; the organization requires 2FA, so enrolment is the only way on.
    _log_in(page, "alice@kaupunki.example")
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-factor authentication"
    assert page.locator("#totp-qr svg").count() == 1
    visit(page, "/governance/audit/")  # any other page sends them back to enrolment
    assert page.get_by_role("heading", level=1).inner_text() == "Set up two-factor authentication"

    code = _code_from_secret(page.locator("#totp-secret").inner_text())
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Confirm").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Save your backup codes"
    backup_codes = page.locator("#backup-codes li").all_inner_texts()
    assert len(backup_codes) == 10
    page.get_by_role("link", name="I have saved my backup codes, continue").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    assert "Welcome, Alice" in page.locator(".today-who").inner_text()

    # Invite a colleague as an editor.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Governance").click()
    settle(page)
    page.get_by_role("main").get_by_role("link", name="Members").first.click()
    settle(page)
    page.get_by_label("E-mail address").fill("bertta@kaupunki.example")
    page.get_by_label("Role").select_option("editor")
    page.get_by_role("button", name="Send invitation").click()
    settle(page)
    assert page.get_by_text("bertta@kaupunki.example").first.is_visible()
    assert len(mailoutbox) == 1
    match = re.search(r"https?://\S+/invite/\S+/", mailoutbox[0].body)
    assert match, mailoutbox[0].body
    link = match.group(0)
    invite_path = "/invite/" + link.split("/invite/", 1)[1]

    # The colleague accepts in their own browser and is sent on to set up 2FA.
    invitee_context = browser.new_context(base_url=live_server.url, locale="en-GB")
    invitee = invitee_context.new_page()
    from tests.browser.conftest import AxeTracker

    invitee.axe = AxeTracker(invitee)
    visit(invitee, invite_path)
    invitee.get_by_label("Full name").fill("Bertta Editor")
    invitee.get_by_label("Password", exact=True).fill("a long passphrase for bertta")
    invitee.get_by_label("Password again").fill("a long passphrase for bertta")
    invitee.get_by_role("button", name="Create account and join").click()
    settle(invitee)
    assert invitee.get_by_role("heading", level=1).inner_text() == (
        "Set up two-factor authentication"
    )
    assert not invitee.axe.unchecked()
    invitee_context.close()

    # Switch the interface to Finnish.
    page.get_by_label("Language").select_option("fi")
    page.get_by_role("button", name="Change").click()
    settle(page)
    assert page.locator("html").get_attribute("lang") == "fi"
    nav = page.get_by_role("navigation")
    assert nav.get_by_role("link", name="Kalenteri").is_visible()

    # Find the invitation in the audit log, in Finnish.
    visit(page, "/governance/audit/")
    page.locator("#id_action").select_option("member.invited")
    page.locator("form.audit-filters button[type=submit]").click()
    settle(page)
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "bertta@kaupunki.example" in rows.first.inner_text()
    assert AuditEvent.objects.filter(action="member.invited", organization=org).count() == 1

    # Log out and back in with a backup code instead of the app.
    page.get_by_role("button", name=re.compile("Kirjaudu ulos|Log out")).click()
    settle(page)
    page.get_by_label("Kieli").select_option("en")
    page.get_by_role("button", name="Vaihda").click()
    settle(page)
    _log_in(page, "alice@kaupunki.example")
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your two-factor code"
    page.get_by_label("Code from your authenticator app").fill(backup_codes[0])
    page.get_by_role("button", name="Verify").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Today")
    assert "Welcome, Alice" in page.locator(".today-who").inner_text()
    assert AuditEvent.objects.filter(action="auth.backup_code_used", actor=alice).count() == 1
