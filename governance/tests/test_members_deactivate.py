import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from governance.models import ApiToken, AuditEvent, Role
from governance.services.members import member_deactivate, member_reactivate
from governance.services.tokens import api_token_create
from tests.factories import MembershipFactory


def _deactivate_url(membership) -> str:
    return f"/governance/members/{membership.pk}/deactivate/"


def test_deactivate_page_asks_for_confirmation(client, personas, login):
    bob = personas.membership(personas.bob)
    login(client, personas.alice)
    body = client.get(_deactivate_url(bob)).content.decode()
    assert "<h1>Deactivate Bob Editor?</h1>" in body
    assert "Deactivate Bob Editor</button>" in body
    bob.refresh_from_db()
    assert bob.is_active


def test_deactivating_bob_ends_his_session_and_revokes_his_token(client, personas, login):
    bob = personas.membership(personas.bob)
    bob_client = Client()
    login(bob_client, personas.bob)
    assert bob_client.get("/me/").status_code == 200
    token, _raw = api_token_create(user=personas.bob, organization=personas.org, name="CI")
    other_org_token = ApiToken.objects.create(
        user=personas.bob,
        organization=personas.other_org,
        name="elsewhere",
        prefix="gs_x",
        token_hash="f" * 64,
    )

    login(client, personas.alice)
    response = client.post(_deactivate_url(bob), {"leaving_on": "2030-01-31"})
    assert response.status_code == 302

    bob.refresh_from_db()
    assert not bob.is_active
    assert bob.deactivated_at is not None
    assert str(bob.leaving_on) == "2030-01-31"
    personas.bob.refresh_from_db()
    assert not personas.bob.is_active  # no other organization: cannot log in at all
    token.refresh_from_db()
    assert token.revoked_at is not None
    other_org_token.refresh_from_db()
    assert other_org_token.revoked_at is None

    next_request = bob_client.get("/me/")
    assert next_request.status_code == 302
    assert next_request["Location"].startswith("/auth/login/")

    event = AuditEvent.objects.get(action="member.deactivated")
    assert event.actor == personas.alice
    assert event.old_values["is_active"] is True
    assert event.new_values["is_active"] is False
    assert event.new_values["api_tokens_revoked"] == 1


def test_member_of_another_org_keeps_login_but_loses_sessions(client, personas, login):
    MembershipFactory(organization=personas.other_org, user=personas.bob, role=Role.EDITOR)
    bob_client = Client()
    login(bob_client, personas.bob)
    member_deactivate(
        membership=personas.bob.memberships.get(organization=personas.org), actor=personas.alice
    )
    personas.bob.refresh_from_db()
    assert personas.bob.is_active
    assert bob_client.get("/me/")["Location"].startswith("/auth/login/")


def test_last_admin_cannot_deactivate_self(client, personas, login):
    alice = personas.membership(personas.alice)
    login(client, personas.alice)
    response = client.post(_deactivate_url(alice))
    assert response.status_code == 400
    assert "last active admin" in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active
    assert client.get("/me/").status_code == 200


def test_last_admin_rule_holds_in_the_service(personas):
    with pytest.raises(ValidationError) as error:
        member_deactivate(membership=personas.membership(personas.alice), actor=personas.alice)
    assert error.value.code == "last_admin"


def test_reactivate_gives_access_back_and_is_audited(client, personas, login):
    bob = personas.membership(personas.bob)
    member_deactivate(membership=bob, actor=personas.alice)
    login(client, personas.alice)
    response = client.post(f"/governance/members/{bob.pk}/reactivate/")
    assert response.status_code == 302
    bob.refresh_from_db()
    personas.bob.refresh_from_db()
    assert bob.is_active and bob.deactivated_at is None
    assert personas.bob.is_active
    assert AuditEvent.objects.filter(action="member.reactivated").exists()
    bob_client = Client()
    login(bob_client, personas.bob)
    assert bob_client.get("/me/").status_code == 200


def test_reactivating_an_active_member_changes_nothing(personas):
    bob = personas.membership(personas.bob)
    member_reactivate(membership=bob, actor=personas.alice)
    assert not AuditEvent.objects.filter(action="member.reactivated").exists()


def test_bob_gets_403_on_deactivate_and_reactivate(client, personas, login):
    carol = personas.membership(personas.carol)
    login(client, personas.bob)
    assert client.post(_deactivate_url(carol)).status_code == 403
    assert client.post(f"/governance/members/{carol.pk}/reactivate/").status_code == 403
    carol.refresh_from_db()
    assert carol.is_active


def test_the_deactivation_message_links_to_the_handover_it_opened(client, personas, login):
    from governance.models import HandoverCase

    bob = personas.membership(personas.bob)
    login(client, personas.alice)
    response = client.post(_deactivate_url(bob), {"leaving_on": ""}, follow=True)
    case = HandoverCase.objects.get(membership=bob)
    page = response.content.decode()
    assert "was deactivated" in page
    assert f'<a href="/governance/handover/{case.pk}/">Hand over what they held</a>' in page
