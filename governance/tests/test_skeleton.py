import pytest

from governance.services.audit import audit_record, audit_verify_chain


@pytest.mark.django_db
def test_home_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_verified_member_sees_home_with_navigation(client, personas, login):
    login(client, personas.alice)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "City of Example" in body
    for area in ("Calendar", "Inbox", "Analytics", "Accounts", "Governance", "Settings"):
        assert area in body


def test_unverified_member_is_sent_to_enrolment(client, personas):
    client.force_login(personas.alice)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/enrol/"


def test_audit_chain_detects_tampering(personas):
    first = audit_record(action="test.one", organization=personas.org, actor=personas.alice)
    audit_record(action="test.two", organization=personas.org, actor=personas.alice)
    assert audit_verify_chain().ok
    # Bypass the append-only guards the way a database superuser would.
    from governance.models import AuditEvent
    from governance.tests.audit_tamper import tamper

    tamper("UPDATE governance_auditevent SET action = %s WHERE id = %s", ["test.forged", first.pk])
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_broken_id == first.pk
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=first.pk).delete()
