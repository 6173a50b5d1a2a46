"""The single sign-on settings page, the login page's provider step, and role mapping."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.models import AuditEvent, OIDCProvider
from governance.services.role_mapping import groups_from_claim, role_for_groups

MAPPING = {"comms": "editor", "leads": "manager", "it": "admin", "review": "reviewer"}


def test_role_for_groups_gives_the_highest_mapped_role():
    assert role_for_groups(MAPPING, ["comms", "leads", "other"]) == "manager"
    assert role_for_groups(MAPPING, ["review", "comms"]) == "editor"
    assert role_for_groups(MAPPING, ["it", "comms"]) == "admin"


def test_role_for_groups_is_none_without_a_mapped_group_and_ignores_non_roles():
    assert role_for_groups(MAPPING, ["visitors"]) is None
    assert role_for_groups(MAPPING, []) is None
    assert role_for_groups({"x": "superuser"}, ["x"]) is None
    # Names match case-insensitively: providers differ in how they capitalize groups.
    assert role_for_groups(MAPPING, ["Comms"]) == role_for_groups(MAPPING, ["comms"])


def test_groups_claim_may_be_one_string_or_a_list():
    assert groups_from_claim("comms") == ["comms"]
    assert groups_from_claim(["comms", 7, {"x": 1}]) == ["comms", "7"]
    assert groups_from_claim(None) == []


def _form(issuer: str, **changes):
    data = {
        "display_name": "Example ID",
        "issuer": issuer,
        "client_id": "govsocial",
        "client_secret": "s3cret-value-at-the-provider",
        "allowed_domains": "example.org\nExample.FI",
        "groups_claim": "groups",
        "role_mapping": "comms-editors = editor\ncomms-leads = manager",
        "default_role": "",
        "trust_provider_mfa": "on",
        "mfa_acr_values": "",
        "enabled": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_admin_sets_up_the_provider_the_secret_is_encrypted_and_never_audited(
    client, personas, login, oidc_server
):
    login(client, personas.alice)
    page = client.get("/governance/settings/sso/")
    assert page.status_code == 200
    assert "http://localhost:8000/auth/sso/callback/" in page.content.decode()

    response = client.post("/governance/settings/sso/", _form(oidc_server.issuer))
    assert response.status_code == 302
    provider = OIDCProvider.objects.get(organization=personas.org)
    assert provider.client_secret == "s3cret-value-at-the-provider"
    assert provider.allowed_domains == ["example.fi", "example.org"]
    assert provider.role_mapping == {"comms-editors": "editor", "comms-leads": "manager"}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret FROM governance_oidcprovider WHERE id = %s", [provider.pk]
        )
        stored = cursor.fetchone()[0]
    assert "s3cret" not in stored
    event = AuditEvent.objects.get(action="sso.provider_created")
    assert event.new_values["client_secret"] == "(changed)"
    assert "s3cret" not in str(event.new_values)

    # Saving again without a secret keeps the stored one.
    again = client.post(
        "/governance/settings/sso/", _form(oidc_server.issuer, client_secret=None, sso_only=None)
    )
    assert again.status_code == 302
    provider.refresh_from_db()
    assert provider.client_secret == "s3cret-value-at-the-provider"


@pytest.mark.django_db
def test_an_issuer_whose_discovery_fails_is_refused_on_the_form(
    client, personas, login, oidc_server
):
    login(client, personas.alice)
    response = client.post("/governance/settings/sso/", _form(oidc_server.issuer + "/nowhere"))
    assert response.status_code == 400
    assert "discovery document could not be read" in response.content.decode()
    assert not OIDCProvider.objects.exists()


@pytest.mark.django_db
def test_a_wrong_role_mapping_and_sso_only_without_break_glass_are_refused(
    client, personas, login, oidc_server
):
    login(client, personas.alice)
    response = client.post(
        "/governance/settings/sso/",
        _form(oidc_server.issuer, role_mapping="comms = boss", sso_only="on"),
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Line 1 should read" in text
    assert "Choose at least one break-glass administrator" in text


@pytest.mark.django_db
def test_only_admins_reach_the_settings_page(client, personas, login):
    login(client, personas.bob)
    assert client.get("/governance/settings/sso/").status_code == 403
    login(client, personas.carol)
    assert client.post("/governance/settings/sso/", {}).status_code == 403


@pytest.mark.django_db
def test_another_organizations_waiting_person_is_a_404(client, personas, login):
    from governance.models import OIDCPendingMember

    pending = OIDCPendingMember.objects.create(organization=personas.org, user=personas.bob)
    login(client, personas.charlie)
    response = client.post(f"/governance/settings/sso/pending/{pending.pk}/", {"action": "dismiss"})
    assert response.status_code == 404
    assert OIDCPendingMember.objects.filter(pk=pending.pk).exists()


@pytest.mark.django_db
def test_login_page_finds_the_provider_by_e_mail_domain(client, personas):
    OIDCProvider.objects.create(
        organization=personas.org,
        display_name="Example ID",
        issuer="https://id.example.org",
        client_id="x",
        client_secret="y",
        allowed_domains=["example.org"],
    )
    page = client.get("/auth/login/")
    assert "Continue with single sign-on" in page.content.decode()

    found = client.post("/auth/sso/find/", {"sso-email": "someone@example.org"})
    assert found.status_code == 302
    assert found["Location"] == "/auth/login/?org=example#sso"
    page = client.get("/auth/login/?org=example")
    assert "Sign in with Example ID" in page.content.decode()

    missing = client.post("/auth/sso/find/", {"sso-email": "someone@nowhere.example"})
    assert missing.status_code == 400
    assert "No single sign-on is set up for this address" in missing.content.decode()


@pytest.mark.django_db
def test_a_provider_that_cannot_be_reached_is_a_clear_page_not_a_500(client, personas):
    OIDCProvider.objects.create(
        organization=personas.org,
        display_name="Example ID",
        issuer="http://127.0.0.1:9",
        client_id="x",
        client_secret="y",
        allowed_domains=["example.org"],
    )
    response = client.get("/auth/sso/example/start/")
    assert response.status_code == 503
    assert "Example ID cannot be reached right now" in response.content.decode()
    assert client.get("/auth/sso/nobody/start/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "button", "step"),
    [
        ("fi", "Kirjaudu palvelulla Example ID", "Jatka kertakirjautumiseen"),
        ("sv", "Logga in med Example ID", "Fortsätt med enkel inloggning"),
    ],
)
def test_the_login_page_speaks_finnish_and_swedish(client, personas, language, button, step):
    OIDCProvider.objects.create(
        organization=personas.org,
        display_name="Example ID",
        issuer="https://id.example.org",
        client_id="x",
        client_secret="y",
        allowed_domains=["example.org"],
    )
    client.cookies["django_language"] = language
    assert step in client.get("/auth/login/").content.decode()
    assert button in client.get("/auth/login/?org=example").content.decode()
