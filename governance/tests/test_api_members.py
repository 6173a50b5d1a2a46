"""Members and invitations through the API, through the same access layer as the pages."""

from django.core import mail

from governance.models import AuditEvent, Invitation, Membership, Role
from governance.services.tokens import api_token_create
from tests.factories import MembershipFactory


def test_admin_lists_members_with_their_accounts(client, personas, login):
    login(client, personas.alice)
    response = client.get("/api/v1/members/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    by_email = {m["user"]["email"]: m for m in body["results"]}
    assert set(by_email) == {"alice@example.org", "bob@example.org", "carol@example.org"}
    assert by_email["bob@example.org"]["all_accounts"] is False
    assert by_email["bob@example.org"]["channel_accounts"] == [personas.bob_account.pk]
    assert by_email["alice@example.org"]["channel_accounts"] == []


def test_member_list_queries_do_not_grow_with_members(
    client, personas, login, django_assert_max_num_queries
):
    for _ in range(10):
        member = MembershipFactory(organization=personas.org, all_accounts=False)
        personas.other_account.limited_members.add(member)
    login(client, personas.alice)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/members/")
    assert response.json()["count"] == 13


def test_editor_cannot_list_members(client, personas, login):
    login(client, personas.bob)
    response = client.get("/api/v1/members/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_auditor_reads_a_member(client, personas, login):
    login(client, personas.carol)
    member = personas.membership(personas.bob)
    response = client.get(f"/api/v1/members/{member.pk}/")
    assert response.status_code == 200
    assert response.json()["role"] == "editor"


def test_outsider_gets_404_for_another_orgs_member(client, personas, login):
    login(client, personas.charlie)
    member = personas.membership(personas.alice)
    assert client.get(f"/api/v1/members/{member.pk}/").status_code == 404
    response = client.patch(
        f"/api/v1/members/{member.pk}/", {"role": "editor"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert client.post(f"/api/v1/members/{member.pk}/deactivate/").status_code == 404
    assert Membership.objects.get(pk=member.pk).role == Role.ADMIN


def test_editor_cannot_change_a_member(client, personas, login):
    login(client, personas.bob)
    member = personas.membership(personas.carol)
    response = client.patch(
        f"/api/v1/members/{member.pk}/", {"role": "admin"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Membership.objects.get(pk=member.pk).role == Role.AUDITOR


def test_editor_token_cannot_change_a_member_either(client, personas):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="s")
    member = personas.membership(personas.bob)
    response = client.patch(
        f"/api/v1/members/{member.pk}/",
        {"role": "admin"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 403


def test_admin_changes_role_and_it_is_audited(client, personas, login):
    login(client, personas.alice)
    member = personas.membership(personas.carol)
    response = client.patch(
        f"/api/v1/members/{member.pk}/", {"role": "manager"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["role"] == "manager"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.actor == personas.alice
    assert event.old_values["role"] == "auditor"
    assert event.new_values["role"] == "manager"


def test_admin_limits_a_member_to_accounts(client, personas, login):
    login(client, personas.alice)
    member = personas.membership(personas.bob)
    response = client.patch(
        f"/api/v1/members/{member.pk}/",
        {"channel_accounts": [personas.other_account.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["channel_accounts"] == [personas.other_account.pk]

    response = client.patch(
        f"/api/v1/members/{member.pk}/", {"all_accounts": True}, content_type="application/json"
    )
    assert response.json()["all_accounts"] is True
    assert response.json()["channel_accounts"] == []


def test_another_orgs_account_cannot_be_given(client, personas, login):
    login(client, personas.alice)
    member = personas.membership(personas.bob)
    response = client.patch(
        f"/api/v1/members/{member.pk}/",
        {"channel_accounts": [personas.outsider_account.pk]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "channel_accounts" in response.json()["errors"]
    assert list(member.channel_accounts.all()) == [personas.bob_account]


def test_last_admin_cannot_be_demoted(client, personas, login):
    login(client, personas.alice)
    member = personas.membership(personas.alice)
    response = client.patch(
        f"/api/v1/members/{member.pk}/", {"role": "editor"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "last active admin" in response.json()["errors"]["role"][0]


def test_admin_deactivates_member_and_their_token_stops(client, personas, login):
    _, raw = api_token_create(user=personas.bob, organization=personas.org, name="s")
    login(client, personas.alice)
    member = personas.membership(personas.bob)
    response = client.post(f"/api/v1/members/{member.pk}/deactivate/")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert AuditEvent.objects.filter(action="member.deactivated").exists()
    bob_client = client.__class__()
    response = bob_client.get("/api/v1/me/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_admin_invites_by_email(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/api/v1/invitations/",
        {
            "email": "Dana@Example.org",
            "role": "editor",
            "channel_accounts": [personas.bob_account.pk],
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "dana@example.org"
    assert body["all_accounts"] is False
    assert body["channel_accounts"] == [personas.bob_account.pk]
    assert body["status"] == "pending"
    assert mail.outbox[0].to == ["dana@example.org"]
    listed = client.get("/api/v1/invitations/").json()["results"]
    assert [i["email"] for i in listed] == ["dana@example.org"]


def test_inviting_an_existing_member_is_a_field_error(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/api/v1/invitations/",
        {"email": "bob@example.org", "role": "editor"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "already a member" in response.json()["errors"]["email"][0]


def test_editor_cannot_invite(client, personas, login):
    login(client, personas.bob)
    response = client.post(
        "/api/v1/invitations/",
        {"email": "eve@example.org", "role": "admin"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()
