"""The organization's own developer apps: stored per organization and platform, the
secret encrypted at rest and never written to the audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts import selectors, services
from accounts.models import NetworkApp
from governance.models import AuditEvent


@pytest.mark.django_db
def test_it_stores_the_app_with_its_secret_encrypted(personas):
    services.network_app_save(
        organization=personas.org,
        actor=personas.alice,
        network="meta",
        client_id="1234567890",
        client_secret="s3cret-app-secret",
        secrets={"webhook_verify_token": "verify-me"},
    )
    app = selectors.network_app_get(organization=personas.org, network="meta")
    assert app is not None
    assert (app.client_id, app.client_secret) == ("1234567890", "s3cret-app-secret")
    assert app.secrets == {"webhook_verify_token": "verify-me"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret, secrets FROM accounts_networkapp")
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert "s3cret-app-secret" not in stored
    assert "verify-me" not in stored
    event = AuditEvent.objects.get(action="network_app.created")
    assert "s3cret" not in str(event.new_values)
    assert event.new_values["secrets_changed"] == ["client_secret", "webhook_verify_token"]


@pytest.mark.django_db
def test_it_keeps_the_stored_secret_when_the_form_leaves_it_empty(personas):
    for secret in ("first-secret", ""):
        services.network_app_save(
            organization=personas.org,
            actor=personas.alice,
            network="x",
            client_id="client-1",
            client_secret=secret,
        )
    app = NetworkApp.objects.get(organization=personas.org, network="x")
    assert app.client_secret == "first-secret"
    assert AuditEvent.objects.filter(action="network_app.updated").count() == 1


@pytest.mark.django_db
def test_a_new_app_needs_a_secret(personas):
    with pytest.raises(ValidationError):
        services.network_app_save(
            organization=personas.org,
            actor=personas.alice,
            network="linkedin",
            client_id="client-1",
        )


@pytest.mark.django_db
def test_another_organizations_app_is_not_found(personas):
    services.network_app_save(
        organization=personas.other_org,
        actor=personas.charlie,
        network="meta",
        client_id="theirs",
        client_secret="their-secret",
    )
    assert selectors.network_app_get(organization=personas.org, network="meta") is None
    assert (
        services.network_app_delete(organization=personas.org, actor=personas.alice, network="meta")
        is False
    )
    assert NetworkApp.objects.count() == 1
