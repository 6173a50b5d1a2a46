"""The governance overview page."""

from __future__ import annotations

URL = "/governance/"


def test_admin_sees_every_area_linked(client, personas, login):
    login(client, personas.alice)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<h1>") == 1
    assert 'href="/governance/members/"' in body
    assert 'href="/governance/audit/"' in body
    assert 'href="/governance/settings/"' in body
    assert 'href="/governance/settings/sso/"' in body


def test_every_planned_area_is_built_and_linked_for_the_auditor(client, personas, login):
    login(client, personas.carol)
    body = client.get(URL).content.decode()
    for area in ("Account registry", "Credential vault", "Handover", "Policies", "Records"):
        assert area in body
    assert 'href="/governance/handover/"' in body
    assert 'href="/governance/records/"' in body
    assert "(not built yet)" not in body


def test_editor_sees_no_audit_or_members_link(client, personas, login):
    login(client, personas.bob)
    body = client.get(URL).content.decode()
    assert 'href="/governance/audit/"' not in body
    assert 'href="/governance/members/"' not in body
    assert "Your role does not include this area." in body
    assert 'href="/governance/settings/"' in body


def test_overview_needs_login(client, db):
    assert client.get(URL).status_code == 302
