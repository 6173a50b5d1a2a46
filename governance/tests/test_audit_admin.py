"""The Django admin: the audit log is view-only; other changes there are audited.

Site operators (staff) must prove a second factor like everyone else, so they log in
with a verified authenticator here."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent, Membership, Organization, Role
from governance.services.audit import audit_record
from tests.factories import UserFactory


@pytest.fixture
def operator(db):
    return UserFactory(email="ops@example.org", is_staff=True, is_superuser=True)


def test_staff_must_prove_a_second_factor_before_the_admin(client, operator):
    client.force_login(operator)
    response = client.get("/django-admin/governance/auditevent/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/enrol/"
    assert client.get("/auth/2fa/enrol/").status_code == 200


def test_audit_entries_are_view_only_in_admin(client, personas, operator, login):
    event = audit_record(action="auth.login_succeeded", organization=personas.org)
    login(client, operator)
    page = client.get(f"/django-admin/governance/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="_save"' not in body
    assert client.get("/django-admin/governance/auditevent/add/").status_code == 403
    delete = client.post(f"/django-admin/governance/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    change = client.post(
        f"/django-admin/governance/auditevent/{event.pk}/change/", {"action": "forged"}
    )
    assert change.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "auth.login_succeeded"


def test_admin_lists_the_log(client, personas, operator, login):
    audit_record(action="member.invited", organization=personas.org, target_label="x@y.org")
    login(client, operator)
    response = client.get("/django-admin/governance/auditevent/")
    assert response.status_code == 200
    assert "member.invited" in response.content.decode()


def test_user_admin_creates_an_email_user_and_audits_it(client, operator, login):
    login(client, operator)
    response = client.post(
        "/django-admin/governance/user/add/",
        {
            "email": "New.Person@Example.org",
            "full_name": "New Person",
            "usable_password": "true",
            "password1": "a long enough passphrase 42",
            "password2": "a long enough passphrase 42",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.created_by_admin")
    assert event.actor == operator
    assert event.new_values == {"email": "new.person@example.org", "full_name": "New Person"}
    assert "passphrase" not in event.canonical_payload()


def test_user_admin_change_page_opens(client, personas, operator, login):
    login(client, operator)
    response = client.get(f"/django-admin/governance/user/{personas.alice.pk}/change/")
    assert response.status_code == 200
    assert "alice@example.org" in response.content.decode()


def test_membership_role_change_in_admin_is_audited(client, personas, operator, login):
    membership = personas.membership(personas.bob)
    login(client, operator)
    response = client.post(
        f"/django-admin/governance/membership/{membership.pk}/change/",
        {"role": Role.REVIEWER},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER
    event = AuditEvent.objects.get(action="member.changed_by_admin")
    assert event.organization == personas.org
    assert event.old_values == {"role": "editor"}
    assert event.new_values == {"role": "reviewer"}


def test_nothing_is_deleted_through_admin(client, personas, operator, login):
    login(client, operator)
    membership = personas.membership(personas.bob)
    for url in (
        f"/django-admin/governance/membership/{membership.pk}/delete/",
        f"/django-admin/governance/organization/{personas.org.pk}/delete/",
        f"/django-admin/governance/user/{personas.bob.pk}/delete/",
    ):
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()
    assert Organization.objects.filter(pk=personas.org.pk).exists()


def test_organization_settings_change_in_admin_is_audited(client, personas, operator, login):
    login(client, operator)
    response = client.post(
        f"/django-admin/governance/organization/{personas.org.pk}/change/",
        {
            "name": "City of Example",
            "slug": "example",
            "time_zone": "Europe/Stockholm",
            "default_language": "fi",
            "require_2fa": "on",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="org.settings_changed")
    assert event.organization == personas.org
    assert event.old_values == {"time_zone": "Europe/Helsinki"}
    assert event.new_values == {"time_zone": "Europe/Stockholm"}
