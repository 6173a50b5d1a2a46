"""Passkeys around the WebAuthn ceremonies (those run in Chromium: tests/browser/
test_passkeys.py): another person's passkey is a 404, only an admin sets the sign-in
policy, and whatever a client posts to the ceremony endpoints is answered in JSON,
never with a 500."""

from __future__ import annotations

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from governance.models import AuditEvent
from governance.services.passkeys import passkey_sign_in_allowed

pytestmark = pytest.mark.django_db


def make_passkey(user, name: str = "Phone") -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        credential_id=f"cred-{user.pk}-{name}".encode(),
        public_key=b"not-a-real-key",
        sign_count=0,
        transports=[],
        discoverable=True,
    )


def test_the_list_shows_only_ones_own_passkeys(client, personas, login):
    make_passkey(personas.alice, "Alice's laptop")
    make_passkey(personas.bob, "Bob's phone")
    login(client, personas.alice)
    page = client.get("/me/passkeys/").content.decode()
    assert "Alice&#x27;s laptop" in page
    assert "Bob" not in page


def test_another_persons_passkey_is_a_404(client, personas, login):
    theirs = make_passkey(personas.bob)
    login(client, personas.alice)
    assert client.post(f"/me/passkeys/{theirs.pk}/rename/", {"name": "Mine"}).status_code == 404
    assert client.post(f"/me/passkeys/{theirs.pk}/remove/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Phone"


def test_renaming_needs_a_name_and_is_audited(client, personas, login):
    mine = make_passkey(personas.alice)
    login(client, personas.alice)
    page = client.post(f"/me/passkeys/{mine.pk}/rename/", {"name": "  "}, follow=True)
    assert "Give the passkey a name you will recognise." in page.content.decode()
    client.post(f"/me/passkeys/{mine.pk}/rename/", {"name": "Security key"})
    mine.refresh_from_db()
    assert mine.name == "Security key"
    event = AuditEvent.objects.get(action="auth.passkey_renamed")
    assert event.old_values == {"passkey": "Phone"}
    assert event.new_values == {"passkey": "Security key"}


def test_only_an_admin_sets_passkey_sign_in(client, personas, login):
    login(client, personas.bob)
    assert (
        client.post("/governance/settings/passkeys/", {"allow_passkey_sign_in": "on"}).status_code
        == 403
    )
    personas.org.refresh_from_db()
    assert personas.org.allow_passkey_sign_in is False
    login(client, personas.alice)
    client.post("/governance/settings/passkeys/", {"allow_passkey_sign_in": "on"})
    personas.org.refresh_from_db()
    assert personas.org.allow_passkey_sign_in is True
    assert passkey_sign_in_allowed(personas.alice)


def test_passkey_sign_in_needs_every_organization_to_allow_it(personas):
    personas.org.allow_passkey_sign_in = True
    personas.org.save()
    assert passkey_sign_in_allowed(personas.alice)
    # A member of two organizations: the stricter one decides.
    from tests.factories import MembershipFactory

    MembershipFactory.create(organization=personas.other_org, user=personas.alice)
    assert not passkey_sign_in_allowed(personas.alice)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"id": 1}',
        b'{"id": "x", "rawId": "x", "type": "public-key", "response": {}}',
        b'"just a string"',
    ],
)
def test_ceremony_endpoints_answer_bad_bodies_with_json_errors(client, personas, login, body):
    # Without a begun ceremony, and with nonsense in the body: a 4xx in JSON.
    for path in (
        "/auth/passkeys/authentication/complete/",
        "/auth/passkeys/registration/complete/",
    ):
        answer = client.post(path, body, content_type="application/json")
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "detail" in answer.json()
    login(client, personas.alice)
    client.post("/auth/passkeys/registration/begin/")
    client.post("/auth/passkeys/authentication/begin/")
    for path in (
        "/auth/passkeys/authentication/complete/",
        "/auth/passkeys/registration/complete/",
    ):
        answer = client.post(path, body, content_type="application/json")
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "detail" in answer.json()


def test_the_passkey_script_speaks_finnish_and_swedish(client):
    client.cookies["django_language"] = "fi"
    assert "Vahvistetaan" in client.get("/auth/passkeys/jsi18n/").content.decode()
    client.cookies["django_language"] = "sv"
    assert "Verifierar" in client.get("/auth/passkeys/jsi18n/").content.decode()
