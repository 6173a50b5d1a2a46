"""A member's first login: password, then setting up an authenticator app, then backup codes."""

from __future__ import annotations

import re
from base64 import b32encode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_otp.oath import totp

from governance.models import AuditEvent, BackupCode, TOTPDevice
from tests.factories import DEFAULT_PASSWORD, TOTPDeviceFactory


def code_for(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/auth/login/", {"username": email, "password": password, **extra})


def pending_device(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def test_member_without_a_device_is_sent_to_enrolment_from_any_page(client, personas):
    response = password_login(client, "alice@example.org")
    assert response["Location"] == "/auth/2fa/enrol/"
    for path in (
        "/",
        "/me/",
        "/governance/settings/",
        "/auth/2fa/verify/",
        "/auth/2fa/backup-codes/",
    ):
        assert client.get(path)["Location"] == "/auth/2fa/enrol/"


def test_enrolment_page_shows_a_qr_code_and_the_key_as_text(client, personas):
    password_login(client, "alice@example.org")
    body = client.get("/auth/2fa/enrol/").content.decode()
    assert '<div class="qr" id="totp-qr" role="img"' in body
    assert '<svg viewBox="' in body  # scales to the size app.css gives it
    assert "style=" not in body  # the CSP forbids inline styles
    secret = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', body)
    assert secret is not None
    groups = secret.group(1).split(" ")
    assert len(groups) == 8 and all(len(group) == 4 for group in groups)
    key = b32encode(pending_device(personas.alice).bin_key).decode()
    assert "".join(groups) == key
    assert '<label for="id_code">Code from your authenticator app</label>' in body
    assert 'autocomplete="one-time-code"' in body
    assert "Your organization requires two-factor authentication." in body


def test_reloading_the_enrolment_page_keeps_the_same_key(client, personas):
    password_login(client, "alice@example.org")
    first = client.get("/auth/2fa/enrol/").content.decode()
    second = client.get("/auth/2fa/enrol/").content.decode()
    key = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
    first_key, second_key = key.search(first), key.search(second)
    assert first_key and second_key
    assert first_key.group(1) == second_key.group(1)
    assert TOTPDevice.objects.filter(user=personas.alice).count() == 1


def test_wrong_enrolment_code_is_refused(client, personas, frozen):
    password_login(client, "alice@example.org")
    client.get("/auth/2fa/enrol/")
    device = pending_device(personas.alice)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = client.post("/auth/2fa/enrol/", {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert not TOTPDevice.objects.filter(user=personas.alice, confirmed=True).exists()
    assert client.get("/")["Location"] == "/auth/2fa/enrol/"
    assert AuditEvent.objects.get(action="auth.2fa_failed").new_values["stage"] == "enrolment"


def test_first_login_sets_up_the_app_and_shows_ten_backup_codes_once(client, personas, frozen):
    response = password_login(client, "alice@example.org", next="/me/")
    assert response["Location"] == "/auth/2fa/enrol/?next=%2Fme%2F"
    client.get(response["Location"])
    device = pending_device(personas.alice)

    response = client.post(
        "/auth/2fa/enrol/", {"code": code_for(device), "next": "/me/"}, follow=True
    )
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == "/auth/2fa/backup-codes/?next=%2Fme%2F"
    assert "Store these codes safely" in body
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", body)
    stored = list(
        BackupCode.objects.filter(device__user=personas.alice).values_list("code_hash", flat=True)
    )
    hasher = PBKDF2PasswordHasher()
    assert len(codes) == 10 and len(stored) == 10
    # Each code shown matches one stored hash; the codes themselves are not stored.
    assert all(sum(hasher.verify(code, h) for h in stored) == 1 for code in codes)
    assert not set(codes) & set(stored)
    assert 'href="/me/" id="backup-codes-continue"' in body

    assert client.get("/").status_code == 200
    assert client.get("/me/").status_code == 200
    # Shown once: the page now is the Security page, without the codes.
    again = client.get("/auth/2fa/backup-codes/").content.decode()
    assert codes[0] not in again
    assert "You have 10 unused backup codes." in again

    enrolled = AuditEvent.objects.get(action="auth.2fa_enrolled")
    assert enrolled.actor == personas.alice
    assert enrolled.organization == personas.org
    assert enrolled.new_values["backup_codes"] == 10
    login = AuditEvent.objects.get(action="auth.login_succeeded")
    assert login.ip_address == "127.0.0.1"


def test_next_login_after_enrolment_requires_a_code(client, personas, frozen):
    password_login(client, "alice@example.org")
    client.get("/auth/2fa/enrol/")
    device = pending_device(personas.alice)
    client.post("/auth/2fa/enrol/", {"code": code_for(device)})
    client.post("/auth/logout/")

    frozen.shift(60)  # a fresh time step: a code is never accepted twice
    response = password_login(client, "alice@example.org")
    assert response["Location"] == "/auth/2fa/verify/"
    assert client.get("/")["Location"] == "/auth/2fa/verify/"
    assert client.get("/auth/2fa/enrol/")["Location"] == "/auth/2fa/verify/"
    device.refresh_from_db()
    assert client.post("/auth/2fa/verify/", {"code": code_for(device)})["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_password_alone_cannot_add_a_second_authenticator(client, personas):
    TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    assert client.get("/auth/2fa/enrol/")["Location"] == "/auth/2fa/verify/"
    assert client.post("/auth/2fa/enrol/", {"code": "123456"})["Location"] == "/auth/2fa/verify/"
    assert TOTPDevice.objects.filter(user=personas.alice).count() == 1


def test_enrolment_needs_a_login(client, db):
    assert client.get("/auth/2fa/enrol/")["Location"].startswith("/auth/login/?next=")
