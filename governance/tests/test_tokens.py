"""Personal API tokens: made, shown once, stored hashed, revoked, audited."""

import hashlib
import json

from governance.models import ApiToken, AuditEvent
from governance.services.tokens import api_token_create, api_token_revoke

PAGE = "/me/tokens/"


def _everything_stored(token):
    """Every stored value that could hold the raw token: the row and its audit entries."""
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    events = list(AuditEvent.objects.values())
    return json.dumps([row, events], default=str)


# Services ------------------------------------------------------------------


def test_token_is_stored_only_as_its_hash(personas):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="Reports")
    assert raw.startswith("gs_")
    assert len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix)
    assert raw not in _everything_stored(token)


def test_creation_is_audited_without_the_token(personas):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="Reports")
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor == personas.alice
    assert event.organization == personas.org
    assert event.target_id == str(token.pk)
    assert event.new_values["name"] == "Reports"
    assert raw not in json.dumps([event.new_values, event.old_values, event.target_label])


def test_revocation_is_audited_once(personas):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="Reports")
    assert api_token_revoke(token=token, actor=personas.alice) is True
    assert api_token_revoke(token=token, actor=personas.alice) is False
    events = AuditEvent.objects.filter(action="api_token.revoked")
    assert events.count() == 1
    assert events.get().target_id == str(token.pk)
    assert raw not in _everything_stored(token)


def test_each_token_is_different(personas):
    _, first = api_token_create(user=personas.alice, organization=personas.org, name="a")
    _, second = api_token_create(user=personas.alice, organization=personas.org, name="a")
    assert first != second


# The page --------------------------------------------------------------------


def test_page_needs_login(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_page_lists_own_tokens_only(client, personas, login):
    api_token_create(user=personas.alice, organization=personas.org, name="Alice's script")
    bob_token, _ = api_token_create(user=personas.bob, organization=personas.org, name="Bob's")
    login(client, personas.alice)
    response = client.get(PAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<h1>API tokens</h1>" in body
    assert "Alice&#x27;s script" in body
    assert "Bob&#x27;s" not in body
    assert bob_token.prefix not in body
    assert "Never" in body  # last used


def test_creating_shows_the_token_once(client, personas, login):
    login(client, personas.alice)
    response = client.post(PAGE, {"name": "Weekly report"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    token = ApiToken.objects.get(user=personas.alice)
    raw = response.context["raw_token"]
    assert raw in body
    assert "It will not be shown again." in body
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()

    listing = client.get(PAGE).content.decode()
    assert "Weekly report" in listing
    assert token.prefix in listing
    assert raw not in listing


def test_token_made_on_the_page_works_on_the_api(client, personas, login):
    login(client, personas.bob)
    raw = client.post(PAGE, {"name": "Mine"}).context["raw_token"]
    api_client = client.__class__()
    response = api_client.get("/api/v1/me/", headers={"Authorization": f"Bearer {raw}"})
    assert response.json()["email"] == "bob@example.org"


def test_a_token_needs_a_name(client, personas, login):
    login(client, personas.alice)
    response = client.post(PAGE, {"name": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_from_the_page(client, personas, login):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="Old")
    login(client, personas.alice)
    response = client.post(f"/me/tokens/{token.pk}/revoke/", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "is revoked" in body
    assert "Revoked" in body
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    api = client.__class__().get("/api/v1/me/", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 401


def test_cannot_revoke_someone_elses_token(client, personas, login):
    token, _ = api_token_create(user=personas.alice, organization=personas.org, name="Alice's")
    login(client, personas.bob)
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    login(client, personas.charlie)
    assert client.post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_revoke_needs_post(client, personas, login):
    token, _ = api_token_create(user=personas.alice, organization=personas.org, name="t")
    login(client, personas.alice)
    assert client.get(f"/me/tokens/{token.pk}/revoke/").status_code == 405


# The API -----------------------------------------------------------------------


def test_api_creates_token_once_and_never_lists_it(client, personas, login):
    login(client, personas.alice)
    response = client.post("/api/v1/tokens/", {"name": "CI"}, content_type="application/json")
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    created = response.json()
    raw = created["token"]
    assert raw.startswith(created["prefix"])
    assert created["status"] == "active"

    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["CI"]
    assert "token" not in listed[0]
    assert raw not in json.dumps(listed)
    assert AuditEvent.objects.filter(action="api_token.created").count() == 1


def test_api_lists_only_own_tokens(client, personas, login):
    api_token_create(user=personas.bob, organization=personas.org, name="Bob's")
    login(client, personas.alice)
    assert client.get("/api/v1/tokens/").json()["results"] == []


def test_api_revokes_own_token(client, personas, login):
    token, _ = api_token_create(user=personas.alice, organization=personas.org, name="CI")
    login(client, personas.alice)
    response = client.post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


def test_api_cannot_revoke_someone_elses_token(client, personas, login):
    token, _ = api_token_create(user=personas.alice, organization=personas.org, name="CI")
    login(client, personas.charlie)
    response = client.post(f"/api/v1/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_token_cannot_make_more_tokens(client, personas):
    _, raw = api_token_create(user=personas.alice, organization=personas.org, name="CI")
    response = client.post(
        "/api/v1/tokens/",
        {"name": "spawn"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "token_cannot_create_tokens"
    assert ApiToken.objects.count() == 1


def test_a_script_can_revoke_its_own_token(client, personas):
    token, raw = api_token_create(user=personas.alice, organization=personas.org, name="CI")
    auth = {"Authorization": f"Bearer {raw}"}
    assert client.post(f"/api/v1/tokens/{token.pk}/revoke/", headers=auth).status_code == 200
    assert client.get("/api/v1/me/", headers=auth).status_code == 401


def test_api_token_name_is_validated(client, personas, login):
    login(client, personas.alice)
    response = client.post("/api/v1/tokens/", {"name": "x" * 101}, content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]
