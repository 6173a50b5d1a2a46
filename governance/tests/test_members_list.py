from datetime import timedelta

from django.utils import timezone

from governance.models import Invitation, Role
from governance.services.members import invitation_create
from tests.factories import MembershipFactory, TOTPDeviceFactory


def _row(body: str, heading: str) -> str:
    """The table row whose row header is ``heading``."""
    return body.split(f'<th scope="row">{heading}</th>')[1].split("</tr>")[0]


def test_admin_sees_members_with_role_accounts_status_and_2fa(client, personas, login):
    login(client, personas.alice)
    response = client.get("/governance/members/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Members</h1>" in body
    for text in ("Alice Admin", "bob@example.org", "Editor", "Auditor", "All accounts", "Active"):
        assert text in body
    # bob is limited to his one account; the other account is not listed for him.
    bob_row = _row(body, "Bob Editor")
    assert personas.bob_account.handle in bob_row
    assert personas.other_account.handle not in bob_row
    assert "Invite a person" in body
    assert "Send invitation" in body


def test_two_factor_column_says_yes_or_no(client, personas, login):
    login(client, personas.alice)  # gives alice a confirmed device
    body = client.get("/governance/members/").content.decode()
    alice_row = _row(body, "Alice Admin")
    carol_row = _row(body, "Carol Auditor")
    assert "<td>Yes</td>" in alice_row
    assert "<td>No</td>" in carol_row


def test_pending_invitations_show_expiry_and_limits(client, personas, login):
    invitation_create(
        organization=personas.org,
        actor=personas.alice,
        email="dana@example.org",
        role=Role.REVIEWER,
        channel_account_ids=[personas.other_account.pk],
    )
    login(client, personas.alice)
    body = client.get("/governance/members/").content.decode()
    assert "Pending invitations" in body
    row = _row(body, "dana@example.org")
    assert "Reviewer" in row
    assert "city-mayor" in row
    expires = Invitation.objects.get().expires_at
    assert timezone.localtime(expires).strftime("%Y-%m-%d") in row
    assert "Send again" in row and "Revoke" in row


def test_expired_invitations_are_listed_apart(client, personas, login):
    invitation = invitation_create(
        organization=personas.org, actor=personas.alice, email="dana@example.org", role=Role.EDITOR
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    login(client, personas.alice)
    body = client.get("/governance/members/").content.decode()
    assert "No invitations are waiting." in body
    assert "Expired invitations" in body
    assert "dana@example.org" in body


def test_auditor_sees_the_list_read_only(client, personas, login):
    login(client, personas.carol)
    response = client.get("/governance/members/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Bob Editor" in body
    assert "Invite a person" not in body
    assert "/governance/members/" + str(personas.membership(personas.bob).pk) not in body


def test_bob_cannot_see_the_members_page(client, personas, login):
    login(client, personas.bob)
    assert client.get("/governance/members/").status_code == 403


def test_charlie_sees_only_his_own_org(client, personas, login):
    login(client, personas.charlie)
    body = client.get("/governance/members/").content.decode()
    assert "Charlie Outsider" in body
    assert "Alice Admin" not in body


def test_member_list_query_count_does_not_grow_with_members(
    client, personas, login, django_assert_max_num_queries
):
    login(client, personas.alice)
    client.get("/governance/members/")
    for _ in range(15):
        member = MembershipFactory(organization=personas.org, all_accounts=False)
        personas.bob_account.limited_members.add(member)
        TOTPDeviceFactory(user=member.user)
    with django_assert_max_num_queries(20):
        response = client.get("/governance/members/")
    assert response.content.decode().count("Edit<span") == 18
