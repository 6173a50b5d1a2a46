"""The Network apps pages: an admin registers the organization's own app on a platform,
reads what to create there, and never sees a stored secret again."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import NetworkApp
from accounts.platforms import PLATFORMS, Platform, SecretField
from governance.models import AuditEvent


def test_it_lists_every_platform_and_whether_it_is_registered(client, personas, login):
    NetworkApp.objects.create(
        organization=personas.org, network="x", client_id="x-client", client_secret="s"
    )
    login(client, personas.alice)
    body = client.get("/accounts/apps/").content.decode()
    assert "<h1>Network apps</h1>" in body
    assert "Meta (Facebook Pages and Instagram)" in body
    assert "Registered: app id x-client" in body
    assert "Google (YouTube)" in body
    assert body.count("Not registered yet.") == len(PLATFORMS) - 1


@override_settings(SITE_URL="https://govsocial.example.gov")
def test_it_explains_the_steps_and_the_redirect_address(client, personas, login):
    login(client, personas.alice)
    body = client.get("/accounts/apps/linkedin/").content.decode()
    assert "https://www.linkedin.com/developers/apps" in body
    assert "Request the Community Management API product for the app." in body
    assert "<code>https://govsocial.example.gov/accounts/linkedin/callback/</code>" in body


@pytest.fixture
def webhook_platform(monkeypatch):
    """A platform whose app has a webhook secret beside its id and secret."""
    platform = Platform(
        key="hooked",
        label="Hooked",
        networks=("hooked",),
        console_url="https://developers.example/apps",
        steps=("Create the app.",),
        webhook_path="/inbox/webhooks/hooked/",
        extra_secrets=(SecretField("webhook_verify_token", "Webhook verify token"),),
    )
    monkeypatch.setitem(PLATFORMS, "hooked", platform)
    return platform


def test_an_admin_saves_the_app_and_the_secret_is_never_shown_back(
    client, personas, login, webhook_platform
):
    login(client, personas.alice)
    response = client.post(
        "/accounts/apps/hooked/",
        {
            "client_id": "123456",
            "client_secret": "app-secret-value",
            "secret_webhook_verify_token": "verify-token-value",
        },
    )
    assert response.status_code == 302
    app = NetworkApp.objects.get(organization=personas.org, network="hooked")
    assert (app.client_secret, app.secrets["webhook_verify_token"]) == (
        "app-secret-value",
        "verify-token-value",
    )
    body = client.get("/accounts/apps/hooked/").content.decode()
    assert 'value="123456"' in body
    assert "app-secret-value" not in body
    assert "verify-token-value" not in body
    assert "Leave empty to keep the stored secret." in body
    # Saving again with the secrets left empty keeps them.
    client.post("/accounts/apps/hooked/", {"client_id": "654321", "client_secret": ""})
    app.refresh_from_db()
    assert (app.client_id, app.client_secret) == ("654321", "app-secret-value")
    assert app.secrets["webhook_verify_token"] == "verify-token-value"
    assert AuditEvent.objects.filter(action__startswith="network_app.").count() == 2


def test_a_new_app_without_a_secret_is_refused_with_a_reason(client, personas, login):
    login(client, personas.alice)
    response = client.post("/accounts/apps/x/", {"client_id": "abc", "client_secret": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not NetworkApp.objects.exists()


def test_an_admin_removes_the_app(client, personas, login):
    NetworkApp.objects.create(
        organization=personas.org, network="linkedin", client_id="li", client_secret="s"
    )
    login(client, personas.alice)
    response = client.post("/accounts/apps/linkedin/delete/")
    assert response.status_code == 302
    assert not NetworkApp.objects.exists()
    assert AuditEvent.objects.filter(action="network_app.deleted").exists()


def test_only_admins_manage_apps_and_unknown_platforms_are_404(client, personas, login):
    login(client, personas.bob)
    assert client.get("/accounts/apps/").status_code == 403
    assert client.post("/accounts/apps/meta/", {"client_id": "1"}).status_code == 403
    login(client, personas.alice)
    assert client.get("/accounts/apps/myspace/").status_code == 404


def test_another_organizations_app_stays_out_of_sight(client, personas, login):
    NetworkApp.objects.create(
        organization=personas.other_org, network="meta", client_id="theirs", client_secret="s"
    )
    login(client, personas.alice)
    body = client.get("/accounts/apps/linkedin/").content.decode()
    assert "theirs" not in body
    client.post("/accounts/apps/meta/delete/")
    assert NetworkApp.objects.filter(organization=personas.other_org).exists()
