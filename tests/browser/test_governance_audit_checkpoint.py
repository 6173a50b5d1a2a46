"""An auditor sees on the audit page the last signed checkpoint of the organization's
audit chain (written outside the database by beat), and the crisis-pause banner
shows a member limited to some accounts only their own accounts' pauses. Both
pages are checked with axe."""

from __future__ import annotations

import pytest
from django_otp.oath import totp

from governance.models import Role, TOTPDevice
from governance.services.audit import audit_checkpoints_write, audit_record
from publishing.services.pause import publishing_pause_start
from tests.browser.conftest import settle, visit
from tests.factories import (
    DEFAULT_PASSWORD,
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, email: str, device: TOTPDevice) -> None:
    visit(page, "/auth/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    settle(page)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Verify").click()
    settle(page)


def test_an_auditor_sees_the_last_checkpoint_and_a_limited_editor_only_their_pauses(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    manny = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    carol = UserFactory.create(email="carol@example.org", full_name="Carol Auditor")
    bob = UserFactory.create(email="bob@example.org", full_name="Bob Editor")
    manager = MembershipFactory.create(organization=org, user=manny, role=Role.MANAGER)
    MembershipFactory.create(organization=org, user=carol, role=Role.AUDITOR)
    limited = MembershipFactory.create(
        organization=org, user=bob, role=Role.EDITOR, all_accounts=False
    )
    news = ChannelAccountFactory.create(organization=org, handle="city-news")
    mayor = ChannelAccountFactory.create(organization=org, handle="city-mayor")
    news.limited_members.add(limited)
    for number in range(3):
        audit_record(action="test.step", organization=org, actor=manny, new={"n": number})
    [checkpoint] = audit_checkpoints_write()
    publishing_pause_start(membership=manager, channel_account=mayor, reason="Mayor hacked")
    publishing_pause_start(membership=manager, channel_account=news, reason="Desk review")

    log_in(page, "carol@example.org", TOTPDeviceFactory.create(user=carol))
    visit(page, "/governance/audit/")
    section = page.get_by_role("region", name="Last signed checkpoint")
    assert "the log held 3 entries" in section.inner_text()
    assert checkpoint.hash in section.inner_text()
    page.axe.check()
    page.get_by_role("button", name="Log out").click()
    settle(page)

    log_in(page, "bob@example.org", TOTPDeviceFactory.create(user=bob))
    visit(page, "/publishing/pause/")
    banner = page.get_by_role("region", name="Publishing is paused")
    assert "Desk review" in banner.inner_text() and "city-news" in banner.inner_text()
    assert "Mayor hacked" not in page.content() and "city-mayor" not in page.content()
    page.axe.check()
