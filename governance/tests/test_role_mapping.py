"""Which role a person's identity-provider groups give them (shared by SCIM and SSO)."""

from __future__ import annotations

from governance.services.role_mapping import role_for_groups

MAPPING = {"GovSocial Admins": "admin", "Comms team": "editor", "Auditors": "auditor"}


def test_the_highest_mapped_role_wins():
    assert role_for_groups(MAPPING, ["Auditors", "Comms team"]) == "editor"
    assert role_for_groups(MAPPING, ["Comms team", "GovSocial Admins"]) == "admin"


def test_group_names_match_regardless_of_case_and_spacing():
    assert role_for_groups(MAPPING, ["comms   TEAM"]) == "editor"


def test_no_mapped_group_gives_no_role():
    assert role_for_groups(MAPPING, ["Everyone", "Finance"]) is None
    assert role_for_groups(MAPPING, []) is None
    assert role_for_groups({}, ["Comms team"]) is None


def test_a_mapping_to_an_unknown_role_is_ignored():
    assert (
        role_for_groups({"Owners": "superuser", "Comms team": "reviewer"}, ["Owners", "Comms team"])
        == "reviewer"
    )
