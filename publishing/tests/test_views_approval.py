"""Approval policies and publishing rules: set by admins, read by the review pages."""

from __future__ import annotations

import pytest

from governance.models import Role
from publishing.models import ApprovalPolicy
from publishing.services.approval import StageInput, approval_policy_save
from publishing.validation import publishing_rules

pytestmark = pytest.mark.django_db

POLICIES = "/publishing/approval-policies/"


def stage(index: int, **values: object) -> dict[str, object]:
    return {f"stages-{index}-{name}": value for name, value in values.items()}


def test_admin_sets_a_two_stage_default_policy(client, personas, login, team):
    login(client, personas.alice)
    page = client.get(f"{POLICIES}new/").content.decode()
    assert "Stage 1" in page
    data = {
        "name": "Two eyes",
        "channel_account": "",
        "stages-TOTAL_FORMS": "2",
        "stages-INITIAL_FORMS": "0",
        **stage(0, name="Comms", reviewers=[str(team.rita.pk)]),
        **stage(1, name="Director", role=Role.MANAGER, require_all="on"),
        "action": "save",
    }
    response = client.post(f"{POLICIES}new/", data, follow=True)
    assert "The approval policy is saved." in response.content.decode()
    policy = ApprovalPolicy.objects.get()
    assert policy.channel_account is None
    stages = list(policy.stages.order_by("position"))
    assert [s.name for s in stages] == ["Comms", "Director"]
    assert list(stages[0].reviewers.all()) == [team.rita]
    assert stages[1].role == Role.MANAGER and stages[1].require_all
    page = response.content.decode()
    assert "one of Rita Reviewer approves" in page
    assert "all of everyone with the role Manager must approve" in page


def test_add_a_stage_button_shows_another_stage(client, personas, login):
    login(client, personas.alice)
    data = {
        "name": "Policy",
        "stages-TOTAL_FORMS": "1",
        "stages-INITIAL_FORMS": "0",
        **stage(0, name="First", role=Role.REVIEWER),
        "action": "add_stage",
    }
    page = client.post(f"{POLICIES}new/", data).content.decode()
    assert "Stage 2" in page
    assert ApprovalPolicy.objects.count() == 0


def test_a_stage_needs_a_role_or_people(client, personas, login):
    login(client, personas.alice)
    data = {
        "name": "Policy",
        "stages-TOTAL_FORMS": "1",
        "stages-INITIAL_FORMS": "0",
        **stage(0, name="Nobody"),
        "action": "save",
    }
    response = client.post(f"{POLICIES}new/", data)
    assert response.status_code == 400
    assert "Choose a role, name the people" in response.content.decode()


def test_a_policy_for_one_account_is_edited_and_removed(client, personas, login, team):
    policy = approval_policy_save(
        membership=team.alice,
        name="Mayor",
        channel_account=team.other_account,
        stages=[StageInput(name="Mayor's office", role=Role.MANAGER)],
    )
    login(client, personas.alice)
    page = client.get(POLICIES).content.decode()
    assert "Mayor" in page and "city-mayor" in page
    form = client.get(f"{POLICIES}{policy.pk}/").content.decode()
    assert "Mayor&#x27;s office" in form
    client.post(f"{POLICIES}{policy.pk}/delete/")
    assert not ApprovalPolicy.objects.exists()


def test_only_admins_manage_policies(client, personas, login, team):
    login(client, personas.bob)
    assert client.get(POLICIES).status_code == 403
    assert client.get(f"{POLICIES}new/").status_code == 403
    assert client.get("/publishing/rules/").status_code == 403


def test_outsider_gets_404_for_another_organizations_policy(client, personas, login, team):
    policy = approval_policy_save(
        membership=team.alice, name="Default", stages=[StageInput(name="R", role=Role.REVIEWER)]
    )
    login(client, personas.charlie)
    assert client.get(f"{POLICIES}{policy.pk}/").status_code == 404


def test_admin_turns_the_alt_text_rule_off(client, personas, login):
    login(client, personas.alice)
    assert publishing_rules(personas.org.pk).require_alt_text is True
    page = client.get("/publishing/rules/").content.decode()
    assert 'name="require_alt_text"' in page and "checked" in page
    client.post("/publishing/rules/", {"late_cutoff_minutes": "45"})
    rules = publishing_rules(personas.org.pk)
    assert rules.require_alt_text is False
    assert rules.late_cutoff_minutes == 45


def test_a_stage_may_name_an_outside_reviewer_and_the_policy_reminds(client, team, login):
    login(client, team.alice.user)
    data = {
        "name": "With legal",
        "remind_after_hours": "24",
        "escalate_after_hours": "48",
        "stages-TOTAL_FORMS": "2",
        "stages-INITIAL_FORMS": "0",
        **stage(0, name="Comms", role=Role.REVIEWER),
        **stage(1, name="Legal", outside_email="Legal@Ministry.example"),
        "action": "save",
    }
    response = client.post(f"{POLICIES}new/", data, follow=True)
    policy = ApprovalPolicy.objects.get()
    assert (policy.remind_after_hours, policy.escalate_after_hours) == (24, 48)
    legal = policy.stages.get(position=1)
    assert legal.outside_email == "legal@ministry.example" and legal.role == ""
    page = response.content.decode()
    assert "the outside reviewer legal@ministry.example approves through an e-mailed link" in page
    assert "Approvers are reminded after 24 hours of waiting." in page
    assert "Managers are told after 48 hours." in page


def test_managers_are_told_after_the_approvers_are_reminded(client, team, login):
    login(client, team.alice.user)
    data = {
        "name": "Backwards",
        "remind_after_hours": "48",
        "escalate_after_hours": "24",
        "stages-TOTAL_FORMS": "1",
        "stages-INITIAL_FORMS": "0",
        **stage(0, name="Comms", role=Role.REVIEWER),
        "action": "save",
    }
    response = client.post(f"{POLICIES}new/", data)
    assert response.status_code == 400
    assert "Tell the managers later than the approvers are reminded." in response.content.decode()
    assert not ApprovalPolicy.objects.exists()


def test_a_stage_may_let_the_author_name_the_outside_reviewer(client, team, login):
    login(client, team.alice.user)
    data = {
        "name": "Minister",
        "stages-TOTAL_FORMS": "1",
        "stages-INITIAL_FORMS": "0",
        **stage(0, name="Office", outside_per_post="on"),
        "action": "save",
    }
    response = client.post(f"{POLICIES}new/", data, follow=True)
    office = ApprovalPolicy.objects.get().stages.get()
    assert office.outside_per_post and office.outside_email == "" and office.role == ""
    assert "an outside reviewer the author names approves through an e-mailed link" in (
        response.content.decode()
    )
