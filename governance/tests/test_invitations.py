import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from governance.models import AuditEvent, Invitation, Membership, Role, User
from governance.selectors.members import invitation_token_hash
from governance.services.members import invitation_create

LINK = re.compile(r"http://testserver/invite/(?P<token>[\w-]+)/")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://testserver"
    settings.INVITATION_TTL_HOURS = 72


def _invite(client, **data):
    payload = {"email": "dana@example.org", "role": Role.EDITOR, **data}
    return client.post("/governance/members/invite/", payload)


def _link_from_mail():
    match = LINK.search(str(mail.outbox[-1].body))
    assert match, mail.outbox[-1].body
    return match.group(0)[len("http://testserver") :], match.group("token")


def test_invited_person_joins_with_role_and_account_limits(client, personas, login):
    login(client, personas.alice)
    response = _invite(client, channel_accounts=[personas.bob_account.pk])
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dana@example.org"]
    assert "City of Example" in message.subject
    path, token = _link_from_mail()

    invitation = Invitation.objects.get(email="dana@example.org")
    assert invitation.token_hash == invitation_token_hash(token)
    assert token not in invitation.token_hash
    assert AuditEvent.objects.filter(action="member.invited", target_id=str(invitation.pk)).exists()

    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Join City of Example" in body
    assert "Full name" in body and "Password again" in body

    response = client.post(
        path,
        {
            "full_name": "Dana Newcomer",
            "password1": "a long fresh passphrase",
            "password2": "a long fresh passphrase",
        },
    )
    assert response.status_code == 302
    dana = User.objects.get(email="dana@example.org")
    assert dana.full_name == "Dana Newcomer"
    assert dana.check_password("a long fresh passphrase")
    membership = Membership.objects.get(user=dana, organization=personas.org)
    assert membership.role == Role.EDITOR
    assert membership.all_accounts is False
    assert list(membership.channel_accounts.all()) == [personas.bob_account]
    assert AuditEvent.objects.filter(action="member.joined", actor=dana).exists()

    # Logged in, and the org requires 2FA: the next page is enrolment.
    follow = client.get("/")
    assert follow.status_code == 302
    assert follow["Location"] == "/auth/2fa/enrol/"


def test_link_works_only_once(client, personas, login):
    login(client, personas.alice)
    _invite(client)
    path, _token = _link_from_mail()
    client.logout()
    data = {
        "full_name": "Dana",
        "password1": "a long fresh passphrase",
        "password2": "a long fresh passphrase",
    }
    client.post(path, data)
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_expired_link_is_refused_clearly(client, personas, login):
    login(client, personas.alice)
    _invite(client)
    path, _token = _link_from_mail()
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        response = client.get(path)
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
        posted = client.post(
            path,
            {
                "full_name": "Dana",
                "password1": "a long fresh passphrase",
                "password2": "a long fresh passphrase",
            },
        )
        assert posted.status_code == 410
    assert not User.objects.filter(email="dana@example.org").exists()


def test_unknown_link_says_it_is_not_valid(client, db):
    response = client.get("/invite/not-a-real-token/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_revoked_link_is_refused(client, personas, login):
    login(client, personas.alice)
    _invite(client)
    path, _token = _link_from_mail()
    invitation = Invitation.objects.get(email="dana@example.org")
    response = client.post(f"/governance/members/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="member.invitation_revoked").exists()
    client.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_resend_sends_a_new_link_and_kills_the_old_one(client, personas, login):
    login(client, personas.alice)
    _invite(client)
    old_path, _token = _link_from_mail()
    invitation = Invitation.objects.get(email="dana@example.org")
    client.post(f"/governance/members/invitations/{invitation.pk}/resend/")
    assert len(mail.outbox) == 2
    new_path, _token = _link_from_mail()
    assert new_path != old_path
    client.logout()
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200


def test_inviting_an_existing_member_is_a_form_error(client, personas, login):
    login(client, personas.alice)
    response = _invite(client, email="Bob@Example.org")
    assert response.status_code == 400
    assert "bob@example.org is already a member of City of Example." in response.content.decode()
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_admin_role_cannot_be_limited_to_accounts(client, personas, login):
    login(client, personas.alice)
    response = _invite(client, role=Role.ADMIN, channel_accounts=[personas.bob_account.pk])
    assert response.status_code == 400
    assert "Only editors and reviewers" in response.content.decode()
    assert not Invitation.objects.exists()


def test_another_orgs_account_cannot_be_chosen(personas):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        invitation_create(
            organization=personas.org,
            actor=personas.alice,
            email="eve@example.org",
            role=Role.EDITOR,
            channel_account_ids=[personas.outsider_account.pk],
        )


def test_weak_password_is_refused_next_to_the_field(client, personas, login):
    login(client, personas.alice)
    _invite(client)
    path, _token = _link_from_mail()
    client.logout()
    response = client.post(path, {"full_name": "Dana", "password1": "short", "password2": "short"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_password1_error"' in body
    assert "too short" in body
    assert not User.objects.filter(email="dana@example.org").exists()


def test_logged_in_existing_user_just_joins(client, personas, login):
    login(client, personas.charlie)
    invitation_create(
        organization=personas.org,
        actor=personas.alice,
        email="charlie@other.example",
        role=Role.REVIEWER,
    )
    path, _token = _link_from_mail()
    page = client.get(path)
    assert "Join City of Example" in page.content.decode()
    response = client.post(path)
    assert response.status_code == 302
    membership = Membership.objects.get(user=personas.charlie, organization=personas.org)
    assert membership.role == Role.REVIEWER
    assert membership.all_accounts
    # The new organization is the one they now work in.
    assert client.session["govsocial_org_id"] == personas.org.pk


def test_existing_user_not_logged_in_is_asked_to_log_in(client, personas):
    invitation_create(
        organization=personas.org,
        actor=personas.alice,
        email="charlie@other.example",
        role=Role.REVIEWER,
    )
    path, _token = _link_from_mail()
    response = client.get(path)
    body = response.content.decode()
    assert "Log in to accept" in body
    assert "next=" + path.replace("/", "%2F") in body


def test_someone_else_logged_in_is_told_whose_invitation_it_is(client, personas, login):
    login(client, personas.carol)
    invitation_create(
        organization=personas.org, actor=personas.alice, email="dana@example.org", role=Role.EDITOR
    )
    path, _token = _link_from_mail()
    response = client.post(path)
    assert "You are logged in as carol@example.org" in response.content.decode()
    assert not User.objects.filter(email="dana@example.org").exists()


def test_bob_cannot_invite_or_manage_invitations(client, personas, login):
    invitation = invitation_create(
        organization=personas.org, actor=personas.alice, email="dana@example.org", role=Role.EDITOR
    )
    login(client, personas.bob)
    assert _invite(client).status_code == 403
    assert (
        client.post(f"/governance/members/invitations/{invitation.pk}/revoke/").status_code == 403
    )
    assert (
        client.post(f"/governance/members/invitations/{invitation.pk}/resend/").status_code == 403
    )
    assert Invitation.objects.count() == 1


def test_charlie_cannot_revoke_another_orgs_invitation(client, personas, login):
    invitation = invitation_create(
        organization=personas.org, actor=personas.alice, email="dana@example.org", role=Role.EDITOR
    )
    login(client, personas.charlie)
    response = client.post(f"/governance/members/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_deactivated_person_invited_elsewhere_sets_a_new_password(client, personas):
    from governance.services.members import member_deactivate

    member_deactivate(membership=personas.membership(personas.bob), actor=personas.alice)
    personas.bob.refresh_from_db()
    assert not personas.bob.is_active
    invitation_create(
        organization=personas.other_org,
        actor=personas.charlie,
        email="bob@example.org",
        role=Role.EDITOR,
    )
    path, _token = _link_from_mail()
    response = client.post(
        path,
        {
            "full_name": "Bob Moved",
            "password1": "another long passphrase",
            "password2": "another long passphrase",
        },
    )
    assert response.status_code == 302
    personas.bob.refresh_from_db()
    assert personas.bob.is_active
    assert personas.bob.full_name == "Bob Moved"
    assert personas.bob.check_password("another long passphrase")
    assert Membership.objects.get(user=personas.bob, organization=personas.other_org).is_active
    assert not Membership.objects.get(user=personas.bob, organization=personas.org).is_active


def test_invitation_mail_names_the_org_the_inviter_and_expiry(personas):
    # The mail is written in the organization's default language; English here.
    personas.org.default_language = "en"
    personas.org.save(update_fields=["default_language"])
    invitation = invitation_create(
        organization=personas.org, actor=personas.alice, email="dana@example.org", role=Role.EDITOR
    )
    body = mail.outbox[0].body
    assert "Alice Admin has invited you to join City of Example" in body
    local_expiry = timezone.localtime(invitation.expires_at, ZoneInfo("Europe/Helsinki"))
    assert f"{local_expiry:%-d %b %Y, %H:%M} (Europe/Helsinki)" in body
