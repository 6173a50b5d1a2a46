from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from governance.models import AuditEvent, Membership, Role
from governance.services.members import member_change_role, member_set_account_limits
from tests.factories import MembershipFactory


def _edit_url(membership: Membership) -> str:
    return f"/governance/members/{membership.pk}/"


def test_admin_changes_role_and_it_is_audited(client, personas, login):
    carol = personas.membership(personas.carol)
    login(client, personas.alice)
    response = client.post(_edit_url(carol), {"role": Role.MANAGER})
    assert response.status_code == 302
    carol.refresh_from_db()
    assert carol.role == Role.MANAGER
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.old_values == {"role": "auditor"}
    assert event.new_values == {"role": "manager"}
    assert event.actor == personas.alice


def test_admin_limits_an_editor_to_accounts(client, personas, login):
    bob = personas.membership(personas.bob)
    login(client, personas.alice)
    response = client.post(
        _edit_url(bob),
        {
            "role": Role.EDITOR,
            "channel_accounts": [personas.bob_account.pk, personas.other_account.pk],
        },
    )
    assert response.status_code == 302
    assert set(bob.channel_accounts.all()) == {personas.bob_account, personas.other_account}
    event = AuditEvent.objects.get(action="member.accounts_limited")
    assert event.old_values["all_accounts"] is False
    assert [label.split(" (")[1] for label in event.old_values["channel_accounts"]] == [
        "city-news, sandbox)"
    ]
    assert len(event.new_values["channel_accounts"]) == 2


def test_unticking_every_account_gives_all_accounts(client, personas, login):
    bob = personas.membership(personas.bob)
    login(client, personas.alice)
    client.post(_edit_url(bob), {"role": Role.EDITOR})
    bob.refresh_from_db()
    assert bob.all_accounts
    assert not bob.channel_accounts.exists()
    event = AuditEvent.objects.get(action="member.accounts_limited")
    assert event.old_values["all_accounts"] is False
    assert event.new_values["all_accounts"] is True


def test_switching_to_a_role_that_cannot_be_limited_resets_to_all_accounts(personas):
    bob = personas.membership(personas.bob)
    member_change_role(membership=bob, actor=personas.alice, role=Role.MANAGER)
    bob.refresh_from_db()
    assert bob.role == Role.MANAGER
    assert bob.all_accounts
    assert not bob.channel_accounts.exists()
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.old_values["all_accounts"] is False
    assert event.new_values == {"role": "manager", "all_accounts": True, "channel_accounts": []}


def test_manager_cannot_be_limited(personas):
    carol = personas.membership(personas.carol)
    with pytest.raises(ValidationError):
        member_set_account_limits(
            membership=carol, actor=personas.alice, channel_account_ids=[personas.bob_account.pk]
        )


def test_edit_form_refuses_accounts_for_an_auditor(client, personas, login):
    carol = personas.membership(personas.carol)
    login(client, personas.alice)
    response = client.post(
        _edit_url(carol), {"role": Role.AUDITOR, "channel_accounts": [personas.bob_account.pk]}
    )
    assert response.status_code == 400
    assert "Only editors and reviewers" in response.content.decode()


def test_leaving_date_is_saved_and_audited(client, personas, login):
    carol = personas.membership(personas.carol)
    login(client, personas.alice)
    client.post(_edit_url(carol), {"role": Role.AUDITOR, "leaving_on": "2031-05-31"})
    carol.refresh_from_db()
    assert str(carol.leaving_on) == "2031-05-31"
    event = AuditEvent.objects.get(action="member.leaving_date_set")
    assert event.new_values == {"leaving_on": "2031-05-31"}


def test_a_finnish_page_keeps_the_leaving_date_in_the_date_field(client, personas, login):
    # A date field takes ISO dates whatever the page's language; a Finnish 31.05.2031
    # would show an empty field, and saving the form would then clear the date.
    carol = personas.membership(personas.carol)
    carol.leaving_on = date(2031, 5, 31)
    carol.save(update_fields=["leaving_on"])
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    page = client.get(_edit_url(carol)).content.decode()
    assert 'type="date" name="leaving_on" value="2031-05-31"' in page
    assert "31.5.2031" in page  # and the date in words is Finnish


def test_last_admin_cannot_demote_self(client, personas, login):
    alice = personas.membership(personas.alice)
    login(client, personas.alice)
    page = client.get(_edit_url(alice))
    assert "only active admin" in page.content.decode()
    response = client.post(_edit_url(alice), {"role": Role.EDITOR})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Alice Admin is the last active admin of City of Example" in body
    assert 'id="id_role_error"' in body
    alice.refresh_from_db()
    assert alice.role == Role.ADMIN
    assert not AuditEvent.objects.filter(action="member.role_changed").exists()


def test_admin_can_step_down_when_another_admin_remains(client, personas, login):
    MembershipFactory(organization=personas.org, role=Role.ADMIN)
    alice = personas.membership(personas.alice)
    login(client, personas.alice)
    response = client.post(_edit_url(alice), {"role": Role.MANAGER})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.role == Role.MANAGER


def test_bob_gets_403_on_member_edit(client, personas, login):
    carol = personas.membership(personas.carol)
    login(client, personas.bob)
    assert client.get(_edit_url(carol)).status_code == 403
    assert client.post(_edit_url(carol), {"role": Role.ADMIN}).status_code == 403
    carol.refresh_from_db()
    assert carol.role == Role.AUDITOR


def test_auditor_gets_403_on_member_edit(client, personas, login):
    login(client, personas.carol)
    assert client.get(_edit_url(personas.membership(personas.bob))).status_code == 403


def test_charlie_gets_404_on_another_orgs_member(client, personas, login):
    bob = personas.membership(personas.bob)
    login(client, personas.charlie)
    assert client.get(_edit_url(bob)).status_code == 404
    assert client.post(_edit_url(bob), {"role": Role.ADMIN}).status_code == 404
    assert client.post(f"/governance/members/{bob.pk}/deactivate/").status_code == 404
    assert client.post(f"/governance/members/{bob.pk}/reactivate/").status_code == 404
    bob.refresh_from_db()
    assert bob.role == Role.EDITOR and bob.is_active


def test_edit_page_shows_current_limits(client, personas, login):
    bob = personas.membership(personas.bob)
    login(client, personas.alice)
    body = client.get(_edit_url(bob)).content.decode()
    assert "<h1>Bob Editor</h1>" in body
    assert f'value="{personas.bob_account.pk}"' in body
    checked = body.split(f'value="{personas.bob_account.pk}"')[1].split(">")[0]
    assert "checked" in checked
    assert "Limit to these channel accounts" in body
    assert "Save changes" in body
