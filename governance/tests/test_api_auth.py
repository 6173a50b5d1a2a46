"""API authentication: personal tokens and the 2FA-verified browser session."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from governance.models import ApiToken, Organization, Role
from governance.services.tokens import api_token_create, api_token_revoke
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

ME = "/api/v1/me/"


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_token_authenticates_as_its_user_in_its_organization(client, personas):
    _, raw = api_token_create(user=personas.alice, organization=personas.org, name="script")
    response = client.get(ME, headers=bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "alice@example.org"
    assert body["organization"]["name"] == "City of Example"
    assert body["role"] == "admin"


def test_token_keyword_is_accepted_too(client, personas):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="script")
    response = client.get(ME, headers={"Authorization": f"Token {raw}"})
    assert response.status_code == 200
    assert response.json()["role"] == "editor"


def test_token_acts_in_the_organization_it_was_made_for(client, personas):
    MembershipFactory(organization=personas.other_org, user=personas.alice, role=Role.AUDITOR)
    _, raw = api_token_create(user=personas.alice, organization=personas.other_org, name="other")
    body = client.get(ME, headers=bearer(raw)).json()
    assert body["organization"]["name"] == "Other Agency"
    assert body["role"] == "auditor"
    # ...and so the access layer sees the other organization's members only.
    members = client.get("/api/v1/members/", headers=bearer(raw)).json()["results"]
    assert {m["user"]["email"] for m in members} == {"charlie@other.example", "alice@example.org"}


def test_revoked_token_is_401_json(client, personas):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="old")
    api_token_revoke(token=token, actor=personas.alice)
    response = client.get(ME, headers=bearer(raw))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "This token has been revoked.", "code": "token_revoked"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401_json(client, personas):
    response = client.get(ME, headers=bearer("gs_not-a-real-token"))
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token.", "code": "invalid_token"}


def test_malformed_authorization_header_is_401(client, personas):
    response = client.get(ME, headers={"Authorization": "Bearer"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_header"


def test_no_credentials_is_401_json(client, db):
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_of_inactive_user_is_refused(client, personas):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="script")
    personas.bob.is_active = False
    personas.bob.save(update_fields=["is_active"])
    response = client.get(ME, headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_token_stops_when_membership_is_inactive(client, personas):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="script")
    membership = personas.membership(personas.bob)
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    response = client.get(ME, headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["code"] == "membership_inactive"


def test_role_change_applies_to_existing_token_at_once(client, personas):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="script")
    assert client.get("/api/v1/members/", headers=bearer(raw)).status_code == 403
    membership = personas.membership(personas.bob)
    membership.role = Role.MANAGER
    membership.save(update_fields=["role"])
    assert client.get("/api/v1/members/", headers=bearer(raw)).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(client, personas):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="poller")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(ME, headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get(ME, headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == start

    later = start + timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        client.get(ME, headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == later


def test_token_requests_need_no_csrf_token(personas):
    csrf_client = Client(enforce_csrf_checks=True)
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="s")
    response = csrf_client.post(f"/api/v1/tokens/{token.pk}/revoke/", headers=bearer(raw))
    assert response.status_code == 200
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None


def test_verified_session_works(client, personas, login):
    login(client, personas.carol)
    body = client.get(ME).json()
    assert body["email"] == "carol@example.org"
    assert body["role"] == "auditor"


def test_session_without_verified_2fa_is_403_json(client, personas):
    client.force_login(personas.alice)
    response = client.get(ME)
    assert response.status_code == 403
    assert response.json()["code"] == "otp_required"


def test_session_auth_itself_refuses_unverified_2fa(client, personas, settings):
    # Even without the middleware in front, the API's session auth says no.
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "governance.middleware.TwoFactorRequiredMiddleware"
    ]
    client.force_login(personas.alice)
    response = client.get(ME)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Two-factor authentication is required.",
        "code": "otp_required",
    }


def test_unverified_session_is_fine_when_org_does_not_require_2fa(client, db):
    org = OrganizationFactory(slug="relaxed", require_2fa=False)
    user = UserFactory(email="dana@relaxed.example")
    MembershipFactory(organization=org, user=user, role=Role.EDITOR)
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["organization"]["slug"] == "relaxed"
    assert Organization.objects.get(slug="relaxed").require_2fa is False


def test_session_writes_still_need_csrf(personas, login):
    csrf_client = Client(enforce_csrf_checks=True)
    login(csrf_client, personas.alice)
    response = csrf_client.post("/api/v1/tokens/", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("user_attr", ["alice", "bob"])
def test_me_reports_role_for_each_persona(client, personas, login, user_attr):
    user = getattr(personas, user_attr)
    login(client, user)
    body = client.get(ME).json()
    assert body["id"] == user.pk
    assert body["role"] == personas.membership(user).role
    assert set(body) == {
        "id",
        "email",
        "full_name",
        "preferred_language",
        "time_zone",
        "organization",
        "role",
    }
