"""Self-service password reset: a link by e-mail, a new password, and the second
factor still asked at the next login."""

from __future__ import annotations

import re

from django.core import mail

from governance.models import AuditEvent
from tests.factories import TOTPDeviceFactory

NEW_PASSWORD = "Uusi-salasana-2026!"


def _link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/auth/password/reset/\S+/)", message.body)
    assert match is not None, message.body
    return match.group(1)


def test_the_login_page_offers_a_reset(client, db):
    assert 'href="/auth/password/reset/"' in client.get("/auth/login/").content.decode()


def test_a_reset_sets_a_new_password_and_the_second_factor_is_still_asked(client, personas):
    TOTPDeviceFactory(user=personas.alice)
    response = client.post("/auth/password/reset/", {"email": "alice@example.org"})
    assert response["Location"] == "/auth/password/reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your GovSocial password"

    form_url = client.get(_link(message))["Location"]
    page = client.get(form_url).content.decode()
    assert "Choose a new password" in page
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/auth/password/reset/done/"
    assert client.get("/me/")["Location"].startswith("/auth/login/")  # not logged in

    login = client.post("/auth/login/", {"username": "alice@example.org", "password": NEW_PASSWORD})
    assert login["Location"] == "/auth/2fa/verify/"
    assert client.get("/me/")["Location"] == "/auth/2fa/verify/"
    event = AuditEvent.objects.get(action="auth.password_reset")
    assert event.actor == personas.alice
    assert event.organization == personas.org


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, db):
    response = client.post("/auth/password/reset/", {"email": "nobody@example.org"})
    assert response["Location"] == "/auth/password/reset/sent/"
    assert mail.outbox == []


def test_a_used_link_does_not_work_again(client, personas):
    client.post("/auth/password/reset/", {"email": "alice@example.org"})
    link = _link(mail.outbox[0])
    form_url = client.get(link)["Location"]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    page = client.get(link, follow=True).content.decode()
    assert "This link does not work any more" in page
