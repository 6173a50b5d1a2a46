"""The credential vault: secrets encrypted at rest, revealed only with a fresh second
factor and a reason, audited without the value, and rotation reminders."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.db import connection

from governance.crypto import DecryptionError
from governance.models import AuditEvent, Notification, TOTPDevice, VaultSecret
from governance.tasks.reminders import remind_vault_rotations
from governance.tests.registry_helpers import SECRET, code_for, make_entry, make_secret, member
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def reveal(client, secret, **data):
    return client.post(f"/governance/vault/{secret.pk}/reveal/", {"reason": "Posting live", **data})


def test_a_secret_is_not_readable_in_the_database(personas):
    secret = make_secret(personas.org, personas.alice)
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM governance_vaultsecret WHERE id = %s", [secret.pk])
        stored = cursor.fetchone()[0]
    assert SECRET not in stored
    assert VaultSecret.objects.get(pk=secret.pk).value == SECRET


def test_admin_stores_a_secret_and_the_audit_holds_no_value(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    response = client.post(
        "/governance/vault/new/",
        {
            "name": "X recovery codes",
            "kind": "recovery_codes",
            "registry_entry": entry.pk,
            "value": "1111-2222\n3333-4444",
            "rotate_by": "2025-09-01",
            "notes": "Printed copy in the safe",
        },
    )
    secret = VaultSecret.objects.get()
    assert response.status_code == 302
    assert secret.registry_entry == entry
    assert secret.known_by.get() == member(personas.alice)
    event = AuditEvent.objects.get(action="vault.secret_created")
    assert "1111-2222" not in event.canonical_payload()
    page = client.get(f"/governance/registry/{entry.pk}/").content.decode()
    assert "X recovery codes" in page


def test_pages_never_show_the_value(client, personas, login):
    secret = make_secret(personas.org, personas.alice)
    login(client, personas.alice)
    for path in ("", f"{secret.pk}/", f"{secret.pk}/edit/", f"{secret.pk}/reveal/"):
        response = client.get(f"/governance/vault/{path}")
        assert response.status_code == 200, path
        assert SECRET not in response.content.decode(), path


def test_auditor_sees_secrets_and_their_history_but_cannot_reveal(client, personas, login):
    secret = make_secret(personas.org, personas.alice, rotate_by=date(2025, 9, 1))
    login(client, personas.carol)
    assert "X password" in client.get("/governance/vault/").content.decode()
    detail = client.get(f"/governance/vault/{secret.pk}/").content.decode()
    assert "Reveal history" in detail and ">1 Sep 2025<" in detail
    assert f"/governance/vault/{secret.pk}/reveal/" not in detail
    assert client.get(f"/governance/vault/{secret.pk}/reveal/").status_code == 403
    device = TOTPDevice.objects.get(user=personas.carol)
    response = reveal(client, secret, code=code_for(device))
    assert response.status_code == 403
    assert SECRET not in response.content.decode()
    assert not AuditEvent.objects.filter(action="vault.secret_revealed").exists()


def test_editor_cannot_see_the_vault(client, personas, login):
    secret = make_secret(personas.org, personas.alice)
    login(client, personas.bob)
    assert client.get("/governance/vault/").status_code == 403
    assert client.get(f"/governance/vault/{secret.pk}/").status_code == 403
    assert reveal(client, secret).status_code == 403


def test_outsider_gets_404_for_every_vault_page(client, personas, login):
    secret = make_secret(personas.org, personas.alice)
    login(client, personas.charlie)
    for path in ("", "edit/", "delete/", "reveal/"):
        assert client.get(f"/governance/vault/{secret.pk}/{path}").status_code == 404, path
    assert reveal(client, secret).status_code == 404
    assert "X password" not in client.get("/governance/vault/").content.decode()


def test_reveal_right_after_login_still_asks_for_a_code(client, personas, frozen):
    device = TOTPDevice.objects.create(user=personas.alice, name="App", confirmed=True)
    secret = make_secret(personas.org, personas.alice)
    client.post("/auth/login/", {"username": "alice@example.org", "password": DEFAULT_PASSWORD})
    client.post("/auth/2fa/verify/", {"code": code_for(device)})
    frozen.shift(5)  # the login's code was entered five seconds ago
    form = client.get(f"/governance/vault/{secret.pk}/reveal/").content.decode()
    assert "Code from your authenticator app" in form
    response = reveal(client, secret)
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    assert "Enter the code your authenticator app shows now." in response.content.decode()
    refused = AuditEvent.objects.get(action="vault.reveal_refused")
    assert refused.new_values["refused"] == "otp_required"
    assert refused.new_values["reason"] == "Posting live"


def test_reveal_with_a_wrong_code_is_refused(client, personas, login, frozen):
    secret = make_secret(personas.org, personas.alice)
    login(client, personas.alice)
    response = reveal(client, secret, code="000000")
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    assert "That code is not right." in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.2fa_failed").count() == 1


def test_reveal_needs_a_reason(client, personas, login, frozen):
    secret = make_secret(personas.org, personas.alice)
    device = login(client, personas.alice)
    response = reveal(client, secret, reason="   ", code=code_for(device))
    assert response.status_code == 400
    assert SECRET not in response.content.decode()


def test_reveal_with_a_fresh_code_shows_and_audits_it(client, personas, login, frozen, caplog):
    caplog.set_level(logging.DEBUG)
    secret = make_secret(personas.org, personas.alice)
    device = login(client, personas.alice)
    response = reveal(
        client, secret, reason="Two-factor phone lost, logging in", code=code_for(device)
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert SECRET in body
    assert "no-store" in response["Cache-Control"]
    assert "data-vault-reveal" in body and 'data-seconds="60"' in body
    assert "governance/js/vault.js" in body
    event = AuditEvent.objects.get(action="vault.secret_revealed")
    assert event.actor == personas.alice
    assert event.target_id == str(secret.pk)
    assert event.new_values["reason"] == "Two-factor phone lost, logging in"
    # The value is nowhere but that one response.
    assert SECRET not in event.canonical_payload()
    assert SECRET not in str(event.old_values) + str(event.new_values)
    assert SECRET not in caplog.text
    assert SECRET not in str(dict(client.session))
    assert SECRET not in response.get("Location", "")
    assert member(personas.alice) in secret.known_by.all()


def test_every_reveal_needs_its_own_code(client, personas, login, frozen):
    secret = make_secret(personas.org, personas.alice)
    device = login(client, personas.alice)
    assert reveal(client, secret, code=code_for(device)).status_code == 200
    frozen.shift(10)
    form = client.get(f"/governance/vault/{secret.pk}/reveal/").content.decode()
    assert "Code from your authenticator app" in form
    response = reveal(client, secret)
    assert response.status_code == 400
    assert SECRET not in response.content.decode()
    frozen.shift(30)  # the authenticator's next code
    assert SECRET in reveal(client, secret, code=code_for(device)).content.decode()


def test_manager_may_reveal(client, personas, login, frozen):
    from tests.factories import MembershipFactory, UserFactory

    dana = UserFactory.create(email="dana@example.org", full_name="Dana Manager")
    MembershipFactory.create(organization=personas.org, user=dana, role="manager")
    secret = make_secret(personas.org, personas.alice)
    device = login(client, dana)
    assert SECRET in reveal(client, secret, code=code_for(device)).content.decode()


def test_rotating_a_secret_replaces_it_and_forgets_who_knew_it(client, personas, login, frozen):
    secret = make_secret(personas.org, personas.alice, rotate_by=date(2025, 3, 1))
    secret.known_by.add(member(personas.carol))
    login(client, personas.alice)
    response = client.post(
        f"/governance/vault/{secret.pk}/edit/",
        {"name": "X password", "kind": "password", "value": "a-new-one", "rotate_by": "2025-09-01"},
    )
    assert response.status_code == 302
    secret = VaultSecret.objects.get(pk=secret.pk)
    assert secret.value == "a-new-one"
    assert secret.rotate_by == date(2025, 9, 1)
    assert list(secret.known_by.all()) == [member(personas.alice)]
    rotated = AuditEvent.objects.get(action="vault.secret_rotated")
    assert "a-new-one" not in rotated.canonical_payload()


def test_editing_without_a_new_value_keeps_it(client, personas, login):
    secret = make_secret(personas.org, personas.alice)
    login(client, personas.alice)
    client.post(
        f"/governance/vault/{secret.pk}/edit/",
        {"name": "Renamed", "kind": "password", "value": "", "rotate_by": ""},
    )
    secret = VaultSecret.objects.get(pk=secret.pk)
    assert secret.name == "Renamed" and secret.value == SECRET


def test_admin_deletes_a_secret(client, personas, login):
    secret = make_secret(personas.org, personas.alice)
    login(client, personas.alice)
    assert client.post(f"/governance/vault/{secret.pk}/delete/").status_code == 302
    assert not VaultSecret.objects.exists()
    assert AuditEvent.objects.get(action="vault.secret_deleted").old_values["name"] == "X password"


def test_rotation_reminder_goes_once_when_past_due(personas, time_machine):
    time_machine.move_to("2025-03-01 09:00:00+00:00", tick=False)
    entry = make_entry(personas.org, personas.alice, technical_custodian=member(personas.carol))
    secret = make_secret(personas.org, personas.alice, rotate_by=date(2025, 3, 1), entry=entry)
    assert remind_vault_rotations() == 0  # due today, not yet past

    time_machine.move_to("2025-03-02 09:00:00+00:00", tick=False)
    assert remind_vault_rotations() == 1
    assert remind_vault_rotations() == 0
    time_machine.move_to("2025-03-05 09:00:00+00:00", tick=False)
    assert remind_vault_rotations() == 0

    notice = Notification.objects.get()
    assert notice.user == personas.carol
    assert notice.link == f"/governance/vault/{secret.pk}/edit/"
    assert SECRET not in notice.message
    assert AuditEvent.objects.filter(action="vault.rotation_reminder_sent").count() == 1


def test_a_new_rotation_date_is_reminded_again(personas, time_machine):
    time_machine.move_to("2025-03-02 09:00:00+00:00", tick=False)
    secret = make_secret(personas.org, personas.alice, rotate_by=date(2025, 3, 1))
    assert remind_vault_rotations() == 1  # to the admins: no custodian
    VaultSecret.objects.filter(pk=secret.pk).update(rotate_by=date(2025, 4, 1))
    time_machine.move_to("2025-04-02 09:00:00+00:00", tick=False)
    assert remind_vault_rotations() == 1
    assert Notification.objects.filter(user=personas.alice).count() == 2


def test_key_rotation_re_encrypts_vault_secrets(personas, settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    # The personas' channel accounts are encrypted under the configured key too.
    old_key, new_key = settings.ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    secret = make_secret(personas.org, personas.alice)
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "governance.VaultSecret.value: 1 re-encrypted" in out.getvalue()
    settings.ENCRYPTION_KEYS = [new_key]
    assert VaultSecret.objects.get(pk=secret.pk).value == SECRET


def test_pages_that_list_secrets_never_decrypt_them(client, personas, login, settings):
    from cryptography.fernet import Fernet

    entry = make_entry(personas.org, personas.alice)
    configured = list(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    secret = make_secret(personas.org, personas.alice, entry=entry, rotate_by=date(2020, 1, 1))
    # That key is gone now, so no page could read the value: every page that merely
    # lists or describes secrets must still work, so none of them decrypted one.
    settings.ENCRYPTION_KEYS = configured
    login(client, personas.alice)
    for path in (
        "/governance/vault/",
        f"/governance/vault/{secret.pk}/",
        f"/governance/vault/{secret.pk}/reveal/",
        f"/governance/registry/{entry.pk}/",
        "/governance/risks/",
        "/api/v1/vault-secrets/",
        "/api/v1/registry-entries/",
    ):
        assert client.get(path).status_code == 200, path
    with pytest.raises(DecryptionError):
        VaultSecret.objects.get(pk=secret.pk)
