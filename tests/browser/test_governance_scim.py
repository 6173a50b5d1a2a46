"""An admin turns on SCIM provisioning: makes the token (shown once), maps identity
provider groups to roles, rotates and revokes the token. Every page is checked with axe."""

from __future__ import annotations

import pytest

from governance.models import Role, ScimSettings, ScimToken
from governance.selectors.scim import scim_token_hash
from tests.browser.conftest import settle, visit
from tests.browser.test_governance_vault import log_in
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_up_scim_provisioning(page):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice, TOTPDeviceFactory.create(user=alice))
    page.on("dialog", lambda dialog: dialog.accept())

    visit(page, "/governance/settings/")
    page.get_by_role("main").get_by_role("link", name="Provisioning with SCIM").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Provisioning with SCIM"
    assert "There is no token in use" in page.get_by_role("main").inner_text()

    page.get_by_role("button", name="Create token").click()
    settle(page)
    raw = page.get_by_label("Secret token").input_value()
    assert raw.startswith("gsscim_")
    assert ScimToken.objects.get(organization=org).token_hash == scim_token_hash(raw)
    page.get_by_role("link", name="I have copied the token").click()
    settle(page)
    main = page.get_by_role("main").inner_text()
    assert raw not in page.content()
    assert f"A token starting with {raw[:12]}… is in use" in main

    page.get_by_label("Role for people in no mapped group").select_option("reviewer")
    new_mapping = page.get_by_role("group", name="New mapping")
    new_mapping.get_by_label("Group name").fill("Comms managers")
    new_mapping.get_by_role("combobox", name="Role").select_option("manager")
    page.get_by_role("button", name="Save role mapping").click()
    settle(page)
    assert "The role mapping is saved" in page.get_by_role("main").inner_text()
    saved = ScimSettings.objects.get(organization=org)
    assert saved.group_roles == {"Comms managers": "manager"}
    assert saved.default_role == "reviewer"
    assert page.get_by_role("group", name="Group “Comms managers”").is_visible()

    page.get_by_role("button", name="Rotate token").click()
    settle(page)
    assert page.get_by_label("Secret token").input_value() != raw
    page.get_by_role("link", name="I have copied the token").click()
    settle(page)
    page.get_by_role("button", name="Revoke token").click()
    settle(page)
    assert "The SCIM token is revoked" in page.get_by_role("main").inner_text()
    assert not ScimToken.objects.filter(organization=org, revoked_at__isnull=True).exists()
