"""The credential vault through the REST API: the reveal rules are the page's."""

from __future__ import annotations

import logging

import pytest

from governance.models import AuditEvent, TOTPDevice, VaultSecret
from governance.services.tokens import api_token_create
from governance.tests.registry_helpers import SECRET, code_for, make_entry, make_secret
from tests.factories import TOTPDeviceFactory


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def api(client, personas, user):
    organization = personas.other_org if user == personas.charlie else personas.org
    _token, raw = api_token_create(user=user, organization=organization, name="script")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.filter(user=user).first() or TOTPDeviceFactory.create(user=user)


def test_list_and_detail_never_hold_the_value(client, personas):
    secret = make_secret(personas.org, personas.alice)
    carol = api(client, personas, personas.carol)  # auditors see that secrets exist
    listed = carol.get("/api/v1/vault-secrets/")
    assert listed.status_code == 200
    assert listed.json()["results"][0]["name"] == "X password"
    detail = carol.get(f"/api/v1/vault-secrets/{secret.pk}/")
    assert detail.status_code == 200
    assert "reveal_history" in detail.json()
    assert SECRET not in listed.content.decode() + detail.content.decode()


def test_admin_creates_a_secret(client, personas):
    entry = make_entry(personas.org, personas.alice)
    alice = api(client, personas, personas.alice)
    response = alice.post(
        "/api/v1/vault-secrets/",
        {
            "name": "IG seed",
            "kind": "totp_seed",
            "value": "JBSWY3DPEHPK3PXP",
            "registry_entry": entry.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert "value" not in response.json()
    assert VaultSecret.objects.get().value == "JBSWY3DPEHPK3PXP"


def test_secret_cannot_be_tied_to_another_organizations_account(client, personas):
    theirs = make_entry(personas.other_org, personas.charlie)
    alice = api(client, personas, personas.alice)
    response = alice.post(
        "/api/v1/vault-secrets/",
        {"name": "x", "value": "y", "registry_entry": theirs.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not VaultSecret.objects.exists()


def test_token_reveal_without_a_code_is_refused(client, personas, frozen):
    secret = make_secret(personas.org, personas.alice)
    device_of(personas.alice)
    alice = api(client, personas, personas.alice)
    response = alice.post(
        f"/api/v1/vault-secrets/{secret.pk}/reveal/",
        {"reason": "Script rotating passwords"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "otp_required"
    assert SECRET not in response.content.decode()
    assert AuditEvent.objects.get(action="vault.reveal_refused").new_values["refused"] == (
        "otp_required"
    )


def test_token_reveal_with_a_wrong_code_is_refused(client, personas, frozen):
    secret = make_secret(personas.org, personas.alice)
    device_of(personas.alice)
    alice = api(client, personas, personas.alice)
    response = alice.post(
        f"/api/v1/vault-secrets/{secret.pk}/reveal/",
        {"reason": "x", "otp_code": "000000"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "otp_code" in response.json()["errors"]
    assert SECRET not in response.content.decode()


def test_token_reveal_with_a_fresh_code_is_audited_without_the_value(
    client, personas, frozen, caplog
):
    caplog.set_level(logging.DEBUG)
    secret = make_secret(personas.org, personas.alice)
    device = device_of(personas.alice)
    alice = api(client, personas, personas.alice)
    response = alice.post(
        f"/api/v1/vault-secrets/{secret.pk}/reveal/",
        {"reason": "Annual password change", "otp_code": code_for(device)},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"id": secret.pk, "name": "X password", "value": SECRET}
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="vault.secret_revealed")
    assert event.new_values["reason"] == "Annual password change"
    assert SECRET not in event.canonical_payload()
    assert SECRET not in caplog.text


def test_a_code_entered_in_the_browser_does_not_count_for_a_token(client, personas, login, frozen):
    """A token call needs its own code, whatever the person's browser session did."""
    secret = make_secret(personas.org, personas.alice)
    device = login(client, personas.alice)
    page = client.post(
        f"/governance/vault/{secret.pk}/reveal/", {"reason": "x", "code": code_for(device)}
    )
    assert page.status_code == 200
    # The same browser, still logged in with a fresh code, now sends a token.
    alice = api(client, personas, personas.alice)
    response = alice.post(
        f"/api/v1/vault-secrets/{secret.pk}/reveal/",
        {"reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_auditor_and_editor_cannot_reveal(client, personas, frozen):
    secret = make_secret(personas.org, personas.alice)
    for user in (personas.carol, personas.bob):
        device = device_of(user)
        caller = api(client, personas, user)
        response = caller.post(
            f"/api/v1/vault-secrets/{secret.pk}/reveal/",
            {"reason": "x", "otp_code": code_for(device)},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert SECRET not in response.content.decode()
    assert not AuditEvent.objects.filter(action="vault.secret_revealed").exists()


def test_outsider_gets_404(client, personas, frozen):
    secret = make_secret(personas.org, personas.alice)
    device = device_of(personas.charlie)
    charlie = api(client, personas, personas.charlie)
    assert charlie.get(f"/api/v1/vault-secrets/{secret.pk}/").status_code == 404
    response = charlie.post(
        f"/api/v1/vault-secrets/{secret.pk}/reveal/",
        {"reason": "x", "otp_code": code_for(device)},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_a_browser_session_must_send_a_code_with_every_reveal(client, personas, login, frozen):
    secret = make_secret(personas.org, personas.alice)
    device = login(client, personas.alice)
    page = client.post(
        f"/governance/vault/{secret.pk}/reveal/", {"reason": "x", "code": code_for(device)}
    )
    assert page.status_code == 200
    frozen.shift(5)
    response = client.post(
        f"/api/v1/vault-secrets/{secret.pk}/reveal/",
        {"reason": "x"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "otp_required"
    assert SECRET not in response.content.decode()
