"""The registry, access reviews and risks through the REST API."""

from __future__ import annotations

from datetime import date

import pytest

from governance.models import AccessReview, AuditEvent, NativeAdmin, RegistryEntry
from governance.services.tokens import api_token_create
from governance.tests.registry_helpers import make_entry, member


def token_for(personas, user) -> str:
    organization = personas.other_org if user == personas.charlie else personas.org
    _token, raw = api_token_create(user=user, organization=organization, name="script")
    return raw


def api(client, personas, user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(personas, user)}"
    return client


@pytest.fixture
def alice_api(client, personas):
    return api(client, personas, personas.alice)


def test_admin_creates_an_entry_with_people(alice_api, personas):
    response = alice_api.post(
        "/api/v1/registry-entries/",
        {
            "network": "instagram",
            "handle": "cityofexample",
            "business_owner": member(personas.alice).pk,
            "login_identity": "maija.meikalainen@example.org",
            "channel_account": personas.other_account.pk,
            "native_admins": [{"name": "Pat Agency", "email": "pat@agency.example"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["business_owner"]["name"] == "Alice Admin"
    assert body["login_identity_check"]["kind"] == "personal"
    assert body["native_admins"][0]["name"] == "Pat Agency"
    assert body["connected_account"]["id"] == personas.other_account.pk
    assert body["next_review_due"]


def test_list_and_detail(alice_api, personas):
    entry = make_entry(personas.org, personas.alice)
    make_entry(personas.other_org, personas.charlie, handle="theirs")
    listed = alice_api.get("/api/v1/registry-entries/").json()
    assert [item["handle"] for item in listed] == ["city_news"]
    assert alice_api.get(f"/api/v1/registry-entries/{entry.pk}/").json()["id"] == entry.pk


def test_patch_changes_only_what_is_given(alice_api, personas):
    entry = make_entry(
        personas.org, personas.alice, purpose="News", business_owner=member(personas.alice)
    )
    response = alice_api.patch(
        f"/api/v1/registry-entries/{entry.pk}/",
        {"backup_owner": member(personas.carol).pk, "next_review_due": "2025-12-31"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    entry.refresh_from_db()
    assert entry.purpose == "News"
    assert entry.business_owner == member(personas.alice)
    assert entry.backup_owner == member(personas.carol)
    assert entry.next_review_due == date(2025, 12, 31)


def test_patch_refuses_a_member_of_another_organization(alice_api, personas):
    entry = make_entry(personas.org, personas.alice)
    response = alice_api.patch(
        f"/api/v1/registry-entries/{entry.pk}/",
        {"business_owner": member(personas.charlie).pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "business_owner" in response.json()["errors"]


def test_delete(alice_api, personas):
    entry = make_entry(personas.org, personas.alice)
    assert alice_api.delete(f"/api/v1/registry-entries/{entry.pk}/").status_code == 204
    assert not RegistryEntry.objects.exists()


def test_auditor_reads_but_cannot_write(client, personas):
    entry = make_entry(personas.org, personas.alice)
    carol = api(client, personas, personas.carol)
    assert carol.get("/api/v1/registry-entries/").status_code == 200
    assert carol.get(f"/api/v1/registry-entries/{entry.pk}/").status_code == 200
    assert carol.get("/api/v1/risks/").status_code == 200
    response = carol.patch(
        f"/api/v1/registry-entries/{entry.pk}/", {"purpose": "x"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert carol.post("/api/v1/registry-entries/", {}).status_code == 403


def test_editor_is_refused(client, personas):
    bob = api(client, personas, personas.bob)
    assert bob.get("/api/v1/registry-entries/").status_code == 403
    assert bob.get("/api/v1/risks/").status_code == 403


def test_outsider_gets_404(client, personas):
    entry = make_entry(personas.org, personas.alice)
    charlie = api(client, personas, personas.charlie)
    assert charlie.get(f"/api/v1/registry-entries/{entry.pk}/").status_code == 404
    assert charlie.delete(f"/api/v1/registry-entries/{entry.pk}/").status_code == 404
    assert charlie.get(f"/api/v1/registry-entries/{entry.pk}/access-reviews/").status_code == 404
    assert RegistryEntry.objects.filter(pk=entry.pk).exists()


def test_native_admins_are_added_and_removed(alice_api, personas):
    entry = make_entry(personas.org, personas.alice)
    response = alice_api.post(
        f"/api/v1/registry-entries/{entry.pk}/native-admins/",
        {"email": "carol@example.org"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["is_member"] is True
    admin = NativeAdmin.objects.get()
    url = f"/api/v1/registry-entries/{entry.pk}/native-admins/{admin.pk}/"
    assert alice_api.delete(url).status_code == 204
    assert not NativeAdmin.objects.exists()


def test_access_review_through_the_api(alice_api, personas):
    entry = make_entry(personas.org, personas.alice)
    gone = NativeAdmin.objects.create(entry=entry, name="Old Agency")
    response = alice_api.post(
        f"/api/v1/registry-entries/{entry.pk}/access-reviews/",
        {"keep": [], "added": [{"name": "New Person"}], "notes": "Quarterly"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["people_removed"][0]["name"] == "Old Agency"
    assert not NativeAdmin.objects.filter(pk=gone.pk).exists()
    listed = alice_api.get(f"/api/v1/registry-entries/{entry.pk}/access-reviews/").json()
    assert listed[0]["notes"] == "Quarterly"
    assert AccessReview.objects.count() == 1
    assert AuditEvent.objects.filter(action="registry.access_reviewed").count() == 1


def test_risk_report_lists_lines(alice_api, personas):
    make_entry(personas.org, personas.alice, login_identity="alice@example.org")
    kinds = {line["kind"] for line in alice_api.get("/api/v1/risks/").json()}
    assert {"no_backup_owner", "personal_login"} <= kinds
