"""Repeated wrong passwords lock the address out for a while, with a clear page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser

from governance.models import AuditEvent
from governance.views.auth import lockout_response
from tests.factories import DEFAULT_PASSWORD


def password_login(client, email, password=DEFAULT_PASSWORD, **extra):
    return client.post("/auth/login/", {"username": email, "password": password, **extra})


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def fail(client, times, email="alice@example.org"):
    return [password_login(client, email, "wrong password") for _ in range(times)]


def test_fifth_failure_locks_out_with_a_clear_message(client, personas, frozen):
    responses = fail(client, 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    body = responses[-1].content.decode()
    assert "<h1>Too many failed login attempts</h1>" in body
    assert "You can try again in 30 minutes." in body
    assert "contact an administrator of your organization or your IT service desk" in body
    assert responses[-1]["Retry-After"] == "1800"

    locked = AuditEvent.objects.get(action="auth.locked_out")
    assert locked.organization == personas.org
    assert locked.new_values["email"] == "alice@example.org"
    assert locked.new_values["failures"] == 5
    assert locked.ip_address == "127.0.0.1"
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5


def test_the_right_password_is_refused_during_a_lockout(client, personas, frozen):
    fail(client, 5)
    frozen.shift(timedelta(minutes=10))
    response = password_login(client, "alice@example.org")
    assert response.status_code == 429
    assert "You can try again in 30 minutes." in response.content.decode()
    assert client.get("/")["Location"].startswith("/auth/login/")
    refused = AuditEvent.objects.order_by("-id").first()
    assert refused is not None
    assert refused.action == "auth.login_failed"
    assert refused.new_values["reason"] == "locked_out"


def test_remaining_wait_counts_down_from_the_last_attempt(client, rf, personas, frozen):
    fail(client, 5)
    frozen.shift(timedelta(minutes=12))
    # Any new attempt would restart the wait, so ask the page directly.
    request = rf.post("/auth/login/", {"username": "alice@example.org"})
    request.user = AnonymousUser()
    request.axes_ip_address = "127.0.0.1"  # what axes sets on a login attempt
    response = lockout_response(request, None, {"username": "alice@example.org"})
    assert response.status_code == 429
    assert "You can try again in 18 minutes." in response.content.decode()
    assert response["Retry-After"] == str(18 * 60)


def test_lockout_ends_after_the_cool_off(client, personas, frozen):
    fail(client, 5)
    frozen.shift(timedelta(minutes=31))
    response = password_login(client, "alice@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/enrol/"


def test_lockout_names_the_configured_contact(client, personas, frozen, settings):
    settings.LOGIN_HELP_CONTACT = "the IT service desk (help@example.org, 0100 100)"
    response = fail(client, 5)[-1]
    assert "contact the IT service desk (help@example.org, 0100 100)." in response.content.decode()


def test_email_case_does_not_dodge_the_lockout(client, personas, frozen):
    for email in (
        "alice@example.org",
        "ALICE@example.org",
        "Alice@Example.org",
        "alice@EXAMPLE.org",
    ):
        password_login(client, email, "wrong password")
    assert password_login(client, "aLiCe@example.org", "wrong password").status_code == 429


def test_unknown_address_is_locked_out_like_a_known_one(client, db, frozen):
    responses = fail(client, 5, email="nobody@example.org")
    assert responses[-1].status_code == 429
    assert AuditEvent.objects.get(action="auth.locked_out").organization is None
