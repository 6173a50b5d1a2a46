"""Logging in with e-mail and password, then a code; logging out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.oath import totp

from governance.models import AuditEvent
from governance.services.members import user_update_profile
from tests.factories import (
    DEFAULT_PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    TOTPDeviceFactory,
    UserFactory,
)

LOGIN_ERROR = "The e-mail address or password is not right."


def code_for(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/auth/login/", {"username": email, "password": password, **extra})


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def test_login_page_labels_every_field_for_password_managers(client, db):
    body = client.get("/auth/login/").content.decode()
    assert '<label for="id_username">E-mail address</label>' in body
    assert '<label for="id_password">Password</label>' in body
    assert 'autocomplete="username"' in body
    assert 'autocomplete="current-password"' in body
    assert body.count("<h1>") == 1


def test_wrong_password_and_unknown_email_get_the_same_answer(client, personas):
    wrong = password_login(client, "alice@example.org", "not her password")
    unknown = password_login(client, "nobody@example.org", "anything at all")
    assert wrong.status_code == unknown.status_code == 200
    assert LOGIN_ERROR in wrong.content.decode()
    assert LOGIN_ERROR in unknown.content.decode()
    for response in (wrong, unknown):
        assert "no account" not in response.content.decode().lower()


def test_wrong_password_is_audited_with_the_address_and_without_the_password(client, personas):
    password_login(client, "Alice@Example.org", "not her password")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.organization == personas.org
    assert event.new_values["email"] == "alice@example.org"
    assert event.new_values["reason"] == "wrong_password"
    assert "not her password" not in event.canonical_payload()
    assert event.ip_address == "127.0.0.1"
    assert event.actor is None


def test_unknown_email_is_audited_without_an_organization(client, db):
    password_login(client, "nobody@example.org", "anything at all")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.organization is None
    assert event.new_values == {
        "email": "nobody@example.org",
        "reason": "unknown_email",
        "failures": 1,
    }


def test_password_alone_reaches_no_page_when_a_code_is_due(client, personas, frozen):
    TOTPDeviceFactory(user=personas.alice)
    response = password_login(client, "alice@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/verify/"
    for path in ("/", "/me/", "/governance/settings/"):
        assert client.get(path)["Location"] == "/auth/2fa/verify/"
    assert client.get("/api/v1/").status_code in (401, 403)


def test_login_with_code_returns_to_the_page_asked_for(client, personas, frozen):
    device = TOTPDeviceFactory(user=personas.alice)
    response = password_login(client, "alice@example.org", next="/me/")
    assert response["Location"] == "/auth/2fa/verify/?next=%2Fme%2F"
    page = client.get(response["Location"]).content.decode()
    assert '<label for="id_code">Code from your authenticator app</label>' in page
    assert 'autocomplete="one-time-code"' in page
    assert 'name="next" value="/me/"' in page

    response = client.post("/auth/2fa/verify/", {"code": code_for(device), "next": "/me/"})
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert client.get("/").status_code == 200


def test_next_pointing_to_another_site_is_ignored(client, personas, frozen):
    device = TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    response = client.post(
        "/auth/2fa/verify/", {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_login_is_audited_once_after_the_code_with_the_address(client, personas, frozen):
    device = TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    assert not AuditEvent.objects.filter(action="auth.login_succeeded").exists()
    password_step = AuditEvent.objects.get(action="auth.password_accepted")
    assert password_step.ip_address == "127.0.0.1"

    client.post("/auth/2fa/verify/", {"code": code_for(device)})
    event = AuditEvent.objects.get(action="auth.login_succeeded")
    assert event.actor == personas.alice
    assert event.organization == personas.org
    assert event.ip_address == "127.0.0.1"
    assert event.new_values["second_factor"] == "authenticator app"


def test_wrong_code_is_refused_and_audited(client, personas, frozen):
    device = TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    response = client.post("/auth/2fa/verify/", {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right." in response.content.decode()
    assert client.get("/")["Location"] == "/auth/2fa/verify/"
    event = AuditEvent.objects.get(action="auth.2fa_failed")
    assert event.actor == personas.alice
    assert event.new_values["reason"] == "wrong_code"


def test_repeated_wrong_codes_make_the_next_try_wait(client, personas, frozen):
    device = TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    wrong = "000000" if code_for(device) != "000000" else "111111"
    client.post("/auth/2fa/verify/", {"code": wrong})
    client.post("/auth/2fa/verify/", {"code": wrong}, follow=False)  # ignored: still waiting

    # Even the right code waits until the pause is over.
    response = client.post("/auth/2fa/verify/", {"code": code_for(device)})
    assert "Too many wrong codes. Wait 1 second, then try again." in response.content.decode()
    assert AuditEvent.objects.filter(
        action="auth.2fa_failed", new_values__reason="throttled"
    ).exists()

    frozen.shift(2)
    response = client.post("/auth/2fa/verify/", {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_organization_without_2fa_logs_in_without_a_code(client, db):
    org = OrganizationFactory(slug="relaxed", require_2fa=False)
    dana = UserFactory(email="dana@relaxed.example")
    MembershipFactory(organization=org, user=dana)
    response = password_login(client, "dana@relaxed.example", next="/me/")
    assert response["Location"] == "/me/"
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(action="auth.login_succeeded")
    assert event.organization == org
    assert event.ip_address == "127.0.0.1"
    assert event.new_values["second_factor"] == "not required"


def test_someone_who_set_up_an_app_is_asked_for_it_even_without_the_policy(client, db, frozen):
    org = OrganizationFactory(slug="relaxed", require_2fa=False)
    dana = UserFactory(email="dana@relaxed.example")
    MembershipFactory(organization=org, user=dana)
    TOTPDeviceFactory(user=dana)
    response = password_login(client, "dana@relaxed.example")
    assert response["Location"] == "/auth/2fa/verify/"
    assert client.get("/")["Location"] == "/auth/2fa/verify/"


def test_session_key_changes_at_login_and_at_the_code(client, personas, frozen):
    device = TOTPDeviceFactory(user=personas.alice)
    client.get("/auth/login/")
    client.session.save()
    before = client.session.session_key
    password_login(client, "alice@example.org")
    after_password = client.session.session_key
    client.post("/auth/2fa/verify/", {"code": code_for(device)})
    assert len({before, after_password, client.session.session_key}) == 3


def test_logout_needs_a_post_and_is_audited(client, personas, login):
    login(client, personas.alice)
    assert client.get("/auth/logout/").status_code == 405
    response = client.post("/auth/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/auth/login/"
    assert "You have logged out." in response.content.decode()
    assert client.get("/")["Location"].startswith("/auth/login/")
    event = AuditEvent.objects.get(action="auth.logout")
    assert event.actor == personas.alice
    assert event.organization == personas.org
    assert event.ip_address == "127.0.0.1"


def test_a_deactivated_person_is_told_so_and_whom_to_ask(client, personas):
    from governance.services.members import member_deactivate

    member_deactivate(membership=personas.bob.memberships.get(), actor=personas.alice)

    body = password_login(client, "bob@example.org").content.decode()

    assert LOGIN_ERROR not in body
    assert "Your account has been deactivated" in body
    assert "Alice Admin (alice@example.org)" in body


def test_a_deactivated_account_stays_secret_from_a_wrong_password(client, personas):
    from governance.services.members import member_deactivate

    member_deactivate(membership=personas.bob.memberships.get(), actor=personas.alice)

    body = password_login(client, "bob@example.org", "not his password").content.decode()

    assert LOGIN_ERROR in body
    assert "deactivated" not in body


def test_the_saved_language_is_the_interface_language_after_login(client, personas, frozen):
    personas.alice.preferred_language = "id"
    personas.alice.save(update_fields=["preferred_language"])
    device = TOTPDeviceFactory(user=personas.alice)
    # The login page itself follows the browser, as for anyone not logged in.
    login_page = client.get("/auth/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in login_page
    password_login(client, "alice@example.org", HTTP_ACCEPT_LANGUAGE="en")
    client.post("/auth/2fa/verify/", {"code": code_for(device)}, HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="id">' in page
    assert "Keluar" in page  # "Log out"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    # And it stays so on the pages after.
    later = client.get("/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="id">' in later


def test_the_language_switcher_still_works_after_login(client, personas, frozen):
    personas.alice.preferred_language = "id"
    personas.alice.save(update_fields=["preferred_language"])
    device = TOTPDeviceFactory(user=personas.alice)
    password_login(client, "alice@example.org")
    client.post("/auth/2fa/verify/", {"code": code_for(device)})
    assert '<html lang="id">' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "fi", "next": "/"})
    for _page in range(2):
        page = client.get("/").content.decode()
        assert '<html lang="fi">' in page
        assert "Kirjaudu ulos" in page


def test_a_preference_changed_elsewhere_applies_on_the_next_page(client, personas, login):
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"  # none saved: the cookie's
    assert '<html lang="fi">' in client.get("/").content.decode()
    user_update_profile(
        user=personas.alice,
        full_name="Alice Admin",
        preferred_language="sv",
        time_zone="Europe/Helsinki",
    )
    assert "Logga ut" in client.get("/").content.decode()
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "sv"


def test_a_person_without_a_saved_language_keeps_the_browsers(client, personas, login):
    login(client, personas.bob)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert '<html lang="sv">' in page
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
