"""Backup codes: logging in with one (once), and the Security page that makes new ones."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_otp.oath import totp

from governance.models import AuditEvent, BackupCode, BackupCodeDevice
from governance.models.second_factor import backup_code_hash
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory


def code_for(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/auth/login/", {"username": email, "password": password, **extra})


def give_backup_codes(user, *codes):
    device = BackupCodeDevice.objects.create(user=user, name="Backup codes")
    for code in codes:
        BackupCode.objects.create(device=device, code_hash=backup_code_hash(code))
    return device


def stored_codes(*candidates):
    """Which of ``candidates`` are unspent backup codes (checked against the hashes:
    the codes themselves are not stored)."""
    hashes = list(BackupCode.objects.values_list("code_hash", flat=True))
    assert not set(candidates) & set(hashes)
    hasher = PBKDF2PasswordHasher()
    return {code for code in candidates if any(hasher.verify(code, h) for h in hashes)}


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def test_backup_code_logs_in_once_and_not_twice(client, personas, frozen):
    TOTPDeviceFactory(user=personas.alice)
    give_backup_codes(personas.alice, "abcd2345", "efgh6723")

    password_login(client, "alice@example.org")
    response = client.post("/auth/2fa/verify/", {"code": "ABCD 2345"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "You have 1 backup code left." in response.content.decode()
    client.post("/auth/logout/")

    frozen.shift(5)
    password_login(client, "alice@example.org")
    response = client.post("/auth/2fa/verify/", {"code": "abcd2345"})
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert client.get("/")["Location"] == "/auth/2fa/verify/"

    used = AuditEvent.objects.get(action="auth.backup_code_used")
    assert used.actor == personas.alice
    assert used.organization == personas.org
    assert used.new_values["backup_codes_left"] == 1
    assert used.ip_address == "127.0.0.1"
    assert (
        AuditEvent.objects.filter(
            action="auth.login_succeeded", new_values__second_factor="backup code"
        ).count()
        == 1
    )


def test_security_page_lists_what_is_set_up(client, personas, login):
    login(client, personas.alice)
    give_backup_codes(personas.alice, "abcd2345", "efgh6723")
    body = client.get("/auth/2fa/backup-codes/").content.decode()
    assert "<h1>Security</h1>" in body
    assert "Two-factor authentication is on." in body
    assert "You have 2 unused backup codes." in body
    assert "Make new ones before you run out." in body
    assert '<label for="id_code">Code from your authenticator app</label>' in body


def test_new_backup_codes_need_a_current_code(client, personas, login, frozen):
    device = login(client, personas.alice)
    give_backup_codes(personas.alice, "abcd2345")

    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = client.post("/auth/2fa/backup-codes/", {"code": wrong})
    assert "That code is not right." in response.content.decode()
    assert BackupCode.objects.count() == 1 and stored_codes("abcd2345") == {"abcd2345"}

    frozen.shift(5)
    response = client.post("/auth/2fa/backup-codes/", {"code": code_for(device)}, follow=True)
    body = response.content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", body)
    assert len(codes) == 10
    assert "Store these codes safely" in body
    assert BackupCode.objects.count() == 10 and stored_codes(*codes) == set(codes)
    assert not stored_codes("abcd2345")
    event = AuditEvent.objects.get(action="auth.backup_codes_regenerated")
    assert event.actor == personas.alice
    assert event.organization == personas.org


def test_a_backup_code_can_make_new_backup_codes(client, personas, login):
    login(client, personas.alice)
    give_backup_codes(personas.alice, "abcd2345")
    response = client.post("/auth/2fa/backup-codes/", {"code": "abcd2345"})
    assert response["Location"] == "/auth/2fa/backup-codes/?next=%2Fauth%2F2fa%2Fbackup-codes%2F"
    assert BackupCode.objects.count() == 10
    assert not stored_codes("abcd2345")
    assert AuditEvent.objects.filter(action="auth.backup_code_used").count() == 1


def test_security_page_needs_the_code_first(client, personas):
    TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    response = client.get("/auth/2fa/backup-codes/")
    assert response["Location"] == "/auth/2fa/verify/?next=%2Fauth%2F2fa%2Fbackup-codes%2F"


def test_security_page_offers_setup_when_two_factor_is_off(client, personas):
    personas.org.require_2fa = False
    personas.org.save()
    password_login(client, "alice@example.org")
    body = client.get("/auth/2fa/backup-codes/").content.decode()
    assert "Two-factor authentication is off" in body
    assert 'href="/auth/2fa/enrol/"' in body
    assert "Make new backup codes" not in body


def test_new_codes_keep_a_backup_code_login_verified(client, personas, frozen):
    TOTPDeviceFactory(user=personas.alice)
    give_backup_codes(personas.alice, "abcd2345", "efgh6723")
    password_login(client, "alice@example.org")
    client.post("/auth/2fa/verify/", {"code": "abcd2345"})
    frozen.shift(5)
    client.post("/auth/2fa/backup-codes/", {"code": "efgh6723"})
    assert BackupCode.objects.count() == 10
    assert client.get("/").status_code == 200
