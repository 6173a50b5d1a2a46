"""SCIM 2.0 provisioning at /scim/v2/, as an identity provider uses it."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from governance.models import (
    AuditEvent,
    HandoverCase,
    HandoverStatus,
    Membership,
    Notification,
    Role,
    ScimToken,
    User,
)
from governance.services.scim import scim_settings_update, scim_token_create
from governance.services.tokens import api_token_create

BASE = "/scim/v2"
SCIM_JSON = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Idp:
    """The organization's identity provider, talking SCIM with its bearer token."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.token = token

    def call(self, method: str, path: str, body: object = None, raw: str | None = None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method,
            BASE + path,
            data=data,
            content_type=SCIM_JSON,
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )

    def create_user(self, user_name: str, email: str, **extra: object):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Dana", "familyName": "Doe"},
            "emails": [{"value": email, "type": "work", "primary": True}],
            "active": True,
            **extra,
        }
        return self.call("POST", "/Users", body)

    def patch(self, path: str, *operations: dict):
        return self.call("PATCH", path, {"schemas": [PATCH_SCHEMA], "Operations": list(operations)})


@pytest.fixture
def idp(personas) -> Idp:
    _token, raw = scim_token_create(organization=personas.org, actor=personas.alice)
    return Idp(Client(), raw)


@pytest.fixture
def other_idp(personas) -> Idp:
    _token, raw = scim_token_create(organization=personas.other_org, actor=personas.charlie)
    return Idp(Client(), raw)


def _assert_scim_error(response, status: int, scim_type: str | None = None) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert str(body["status"]) == str(status)
    assert body.get("scimType") == scim_type
    assert body["detail"]
    return body


def test_it_provisions_a_member_whose_group_gives_a_role_then_deactivates_them(
    personas, idp, login
):
    scim_settings_update(
        organization=personas.org,
        actor=personas.alice,
        group_roles={"Comms managers": Role.MANAGER, "Comms": Role.EDITOR},
        default_role=Role.AUDITOR,
    )
    created = idp.create_user("dana@city.example", "Dana@City.example", externalId="e-1")
    assert created.status_code == 201
    dana = created.json()
    assert created["Location"] == f"http://testserver{BASE}/Users/{dana['id']}"
    assert dana["userName"] == "dana@city.example"
    assert dana["active"] is True
    membership = Membership.objects.get(organization=personas.org, user__email="dana@city.example")
    assert membership.role == Role.AUDITOR  # in no mapped group yet
    assert membership.user.full_name == "Dana Doe"

    group = idp.call(
        "POST",
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Comms managers",
            "members": [{"value": dana["id"]}],
        },
    )
    assert group.status_code == 201
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER
    listed = idp.call("GET", f"/Users/{dana['id']}").json()
    assert listed["groups"][0]["display"] == "Comms managers"

    # Dana is at work: logged in, with an API token.
    dana_browser = Client()
    login(dana_browser, membership.user)
    assert dana_browser.get("/me/").status_code == 200
    token, _raw = api_token_create(user=membership.user, organization=personas.org, name="CI")

    response = idp.patch(
        f"/Users/{dana['id']}", {"op": "Replace", "path": "active", "value": "False"}
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    membership.refresh_from_db()
    assert not membership.is_active
    token.refresh_from_db()
    assert token.revoked_at is not None
    next_page = dana_browser.get("/me/")
    assert next_page.status_code == 302
    assert next_page["Location"].startswith("/auth/login/")
    case = HandoverCase.objects.get(membership=membership)
    assert case.status == HandoverStatus.OPEN
    notice = Notification.objects.get(user=personas.alice, kind="scim.member_deactivated")
    # In the organization's language, Finnish, since Alice chose none.
    assert notice.message.startswith("Identiteetinhallintanne poisti käytöstä henkilön Dana Doe")
    assert notice.link == f"/governance/handover/{case.pk}/"
    deactivated = AuditEvent.objects.get(action="member.deactivated", target_id=str(membership.pk))
    assert deactivated.actor is None
    assert deactivated.actor_label == "scim"
    assert deactivated.new_values["source"] == "scim"
    for action in ("scim.user_provisioned", "member.role_changed", "handover.case_opened"):
        assert AuditEvent.objects.get(action=action).new_values["source"] == "scim"

    # And back: reactivation restores access (revoked tokens stay revoked).
    again = idp.patch(f"/Users/{dana['id']}", {"op": "replace", "value": {"active": True}})
    assert again.json()["active"] is True
    membership.refresh_from_db()
    assert membership.is_active
    assert Notification.objects.filter(user=personas.alice, kind="scim.member_reactivated").exists()


def test_put_with_active_false_deactivates(personas, idp):
    dana = idp.create_user("dana", "dana@city.example").json()
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "dana",
        "emails": [{"value": "dana@city.example"}],
        "active": False,
    }
    response = idp.call("PUT", f"/Users/{dana['id']}", body)
    assert response.status_code == 200
    membership = Membership.objects.get(user__email="dana@city.example")
    assert not membership.is_active
    assert HandoverCase.objects.filter(membership=membership).exists()


def test_delete_deactivates_and_the_user_is_gone_from_scim(personas, idp):
    dana = idp.create_user("dana", "dana@city.example").json()
    assert idp.call("DELETE", f"/Users/{dana['id']}").status_code == 204
    membership = Membership.objects.get(user__email="dana@city.example")
    assert not membership.is_active
    assert HandoverCase.objects.filter(membership=membership).exists()
    _assert_scim_error(idp.call("GET", f"/Users/{dana['id']}"), 404)
    assert AuditEvent.objects.get(action="scim.user_removed").actor_label == "scim"

    # Provisioned again: the same membership comes back, active, under a new id.
    back = idp.create_user("dana", "dana@city.example")
    assert back.status_code == 201
    assert back.json()["id"] != dana["id"]
    membership.refresh_from_db()
    assert membership.is_active


def test_filter_by_user_name_and_paging(personas, idp):
    for n in range(3):
        assert idp.create_user(f"person{n}", f"person{n}@city.example").status_code == 201

    found = idp.call("GET", "/Users?filter=userName%20eq%20%22PERSON1%22").json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "person1"
    none = idp.call("GET", "/Users?filter=userName%20eq%20%22nobody%22").json()
    assert none["totalResults"] == 0

    page = idp.call("GET", "/Users?startIndex=2&count=1").json()
    assert page["totalResults"] == 3
    assert page["startIndex"] == 2
    assert page["itemsPerPage"] == 1
    assert page["Resources"][0]["userName"] == "person1"


def test_another_organizations_user_is_a_404(personas, idp, other_idp):
    dana = idp.create_user("dana", "dana@city.example").json()
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        body = {
            "schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        }
        _assert_scim_error(other_idp.call(method, f"/Users/{dana['id']}", body), 404)
    assert Membership.objects.get(user__email="dana@city.example").is_active
    assert other_idp.call("GET", "/Users").json()["totalResults"] == 0
    # Nor can their groups take our people in.
    response = other_idp.call(
        "POST", "/Groups", {"displayName": "Ours now", "members": [{"value": dana["id"]}]}
    )
    _assert_scim_error(response, 400, "invalidValue")


def test_the_token_is_stored_hashed_and_never_logged(personas, caplog):
    token, raw = scim_token_create(organization=personas.org, actor=personas.alice)
    stored = ScimToken.objects.filter(pk=token.pk).values().get()
    assert raw not in json.dumps(stored, default=str)
    assert raw.startswith(stored["prefix"])
    assert len(stored["token_hash"]) == 64

    idp = Idp(Client(), raw)
    with caplog.at_level(logging.DEBUG):
        idp.call("GET", "/Users")
        idp.call("GET", "/Nowhere")
        idp.call("POST", "/Users", raw="{not json")
        Idp(Client(), raw + "x").call("GET", "/Users")
    assert caplog.records  # the 404 and the 401 are logged…
    assert all(raw not in record.getMessage() for record in caplog.records)  # …without it
    for event in AuditEvent.objects.all():
        assert raw not in json.dumps([event.old_values, event.new_values])


def test_errors_are_rfc_7644_errors(personas, idp):
    body = _assert_scim_error(idp.call("POST", "/Users", raw="{not json"), 400, "invalidSyntax")
    assert "JSON" in body["detail"]
    _assert_scim_error(idp.call("POST", "/Users", raw="[1, 2]"), 400, "invalidSyntax")
    _assert_scim_error(idp.call("POST", "/Users", {"userName": "x"}), 400, "invalidValue")
    _assert_scim_error(idp.call("GET", "/Users?filter=userName%20eq"), 400, "invalidFilter")
    _assert_scim_error(idp.call("GET", "/Users/not-a-uuid"), 404)
    idp.create_user("dana", "dana@city.example")
    _assert_scim_error(idp.create_user("DANA", "other@city.example"), 409, "uniqueness")
    _assert_scim_error(idp.patch("/Users/x", {"op": "explode"}), 404)
    unauthenticated = Client().get(BASE + "/Users")
    _assert_scim_error(unauthenticated, 401)
    assert unauthenticated["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working(personas, idp):
    assert idp.call("GET", "/Users").status_code == 200
    scim_token_create(organization=personas.org, actor=personas.alice)  # rotated
    _assert_scim_error(idp.call("GET", "/Users"), 401)


def test_the_last_admin_cannot_be_deactivated_through_scim(personas, idp):
    alice = idp.create_user("alice", "alice@example.org").json()
    Membership.objects.filter(organization=personas.org).exclude(user=personas.alice).update(
        role=Role.EDITOR
    )
    response = idp.patch(
        f"/Users/{alice['id']}", {"op": "replace", "path": "active", "value": False}
    )
    body = _assert_scim_error(response, 400)
    assert "last active admin" in body["detail"]
    assert personas.membership(personas.alice).is_active


def test_an_existing_member_is_taken_over_with_their_role(personas, idp):
    response = idp.create_user("bob", "bob@example.org")
    assert response.status_code == 201
    bob = personas.membership(personas.bob)
    assert bob.role == Role.EDITOR
    assert User.objects.filter(email="bob@example.org").count() == 1


def test_a_nul_in_the_query_is_a_scim_error(personas, idp):
    _assert_scim_error(
        idp.call("GET", "/Users?filter=userName%20eq%20%22a%00%22"), 400, "invalidValue"
    )


def test_only_admins_reach_the_scim_settings(client, personas, login):
    login(client, personas.bob)
    assert client.get("/governance/settings/scim/").status_code == 403
    assert client.post("/governance/settings/scim/token/").status_code == 403
    assert not ScimToken.objects.exists()


def test_the_token_page_shows_it_once_and_never_again(client, personas, login):
    login(client, personas.alice)
    response = client.post("/governance/settings/scim/token/")
    assert "no-store" in response["Cache-Control"]
    raw = ScimToken.objects.get()  # stored hashed: find the token on the page instead
    body = response.content.decode()
    assert f'value="{raw.prefix}' in body
    later = client.get("/governance/settings/scim/").content.decode()
    assert f"{raw.prefix}…" in later
    token_on_page = body.split('id="new-token" value="', 1)[1].split('"', 1)[0]
    assert token_on_page not in later
    event = AuditEvent.objects.get(action="scim.token_created")
    assert event.actor == personas.alice
    assert token_on_page not in json.dumps(event.new_values)


def test_leaving_a_mapped_group_gives_the_default_role(personas, idp):
    scim_settings_update(
        organization=personas.org,
        actor=personas.alice,
        group_roles={"Comms": Role.EDITOR},
        default_role=Role.REVIEWER,
    )
    dana = idp.create_user("dana", "dana@city.example").json()
    eve = idp.create_user("eve", "eve@city.example").json()
    group = idp.call(
        "POST", "/Groups", {"displayName": "comms", "members": [{"value": dana["id"]}]}
    ).json()
    dana_member = Membership.objects.get(user__email="dana@city.example")
    assert dana_member.role == Role.EDITOR

    # As Microsoft Entra ID sends them: capitalised ops, a filtered remove, an add.
    response = idp.patch(
        f"/Groups/{group['id']}",
        {"op": "Remove", "path": f'members[value eq "{dana["id"]}"]'},
        {"op": "Add", "path": "members", "value": [{"value": eve["id"]}]},
    )
    assert response.status_code == 200
    assert [m["value"] for m in response.json()["members"]] == [eve["id"]]
    dana_member.refresh_from_db()
    assert dana_member.role == Role.REVIEWER
    assert Membership.objects.get(user__email="eve@city.example").role == Role.EDITOR

    filtered = idp.call("GET", "/Groups?filter=displayName%20eq%20%22COMMS%22").json()
    assert filtered["totalResults"] == 1


def test_someone_of_another_organization_is_not_signed_up(personas, idp):
    response = idp.create_user("charlie", "charlie@other.example")
    _assert_scim_error(response, 409, "uniqueness")
    assert not Membership.objects.filter(organization=personas.org, user=personas.charlie).exists()


def test_a_mapping_that_would_demote_the_last_admin_is_refused(client, personas, login, idp):
    idp.create_user("alice", "alice@example.org")
    login(client, personas.alice)
    response = client.post(
        "/governance/settings/scim/",
        {
            "default_role": "editor",
            "map-TOTAL_FORMS": "1",
            "map-INITIAL_FORMS": "0",
            "map-0-group": "",
            "map-0-role": "editor",
        },
    )
    assert response.status_code == 400
    assert "last active admin" in response.content.decode()
    assert personas.membership(personas.alice).role == Role.ADMIN


@pytest.mark.parametrize(
    ("method", "path", "raw"),
    [
        ("POST", "/Users", '{"userName": "a\\u0000b", "emails": [{"value": "a@b.example"}]}'),
        ("POST", "/Users", '{"userName": ["list"], "emails": [{"value": "a@b.example"}]}'),
        ("POST", "/Users", '{"userName": "x", "emails": [{"value": "not an address"}]}'),
        (
            "POST",
            "/Users",
            '{"userName": "' + "x" * 400 + '", "emails": [{"value": "a@b.example"}]}',
        ),
        ("POST", "/Users", '{"userName": "x", "emails": "a@b.example", "active": "maybe"}'),
        ("POST", "/Groups", '{"displayName": "' + "g" * 400 + '"}'),
        ("POST", "/Groups", '{"displayName": "g", "members": [{"value": "nobody"}]}'),
        ("POST", "/Groups", '{"displayName": "g", "members": "everyone"}'),
        ("POST", "/Users/.search", '{"filter": "userName sw"}'),
        ("POST", "/Users/.search", '{"count": "many"}'),
        ("GET", "/Users?filter=nickName%20eq%20%22x%22", ""),
        ("GET", "/Users?filter=(((", ""),
        ("GET", "/Users?count=abc", ""),
        ("GET", "/Users?attributes=userName&excludedAttributes=emails", ""),
        ("POST", "/Bulk", "{}"),
        ("POST", "/.search", "{}"),
        ("PUT", "/ServiceProviderConfig", "{}"),
    ],
)
def test_bad_input_is_a_scim_error_never_a_500(personas, idp, method, path, raw):
    response = idp.call(method, path, raw=raw)
    assert 400 <= response.status_code < 500 or response.status_code == 501
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA]
    assert body["detail"]


def test_bad_patches_are_scim_errors(personas, idp):
    dana = idp.create_user("dana", "dana@city.example").json()
    for operations in (
        [{"op": "explode", "path": "userName", "value": "x"}],
        [{"op": "replace", "path": "nickName[", "value": "x"}],
        [{"op": "remove"}],
        [{"op": "replace", "path": "active", "value": "perhaps"}],
        [{"op": "replace", "path": "emails", "value": [{"value": "not an address"}]}],
        [],
    ):
        response = idp.patch(f"/Users/{dana['id']}", *operations)
        assert 400 <= response.status_code < 500, operations
        assert response.json()["schemas"] == [ERROR_SCHEMA]
    missing = idp.call("PATCH", f"/Users/{dana['id']}", {"schemas": [PATCH_SCHEMA]})
    _assert_scim_error(missing, 400, "invalidValue")


@pytest.mark.parametrize(
    ("language", "heading", "button"),
    [
        ("fi", "Käyttäjähallinta SCIMillä", "Tallenna roolimääritykset"),
        ("sv", "Användarhantering med SCIM", "Spara rollmappningen"),
    ],
)
def test_the_settings_page_speaks_finnish_and_swedish(
    client, personas, login, settings, language, heading, button
):
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    body = client.get("/governance/settings/scim/").content.decode()
    assert f"<h1>{heading}</h1>" in body
    assert button in body


def test_listing_users_and_groups_costs_the_same_queries_for_more_people(personas, idp):
    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert idp.call("GET", path).status_code == 200
        return len(captured.captured_queries)

    ids = [idp.create_user(f"p{n}", f"p{n}@city.example").json()["id"] for n in range(2)]
    idp.call("POST", "/Groups", {"displayName": "g0", "members": [{"value": ids[0]}]})
    few = (queries("/Users"), queries("/Groups"))
    ids += [idp.create_user(f"q{n}", f"q{n}@city.example").json()["id"] for n in range(4)]
    for n in range(1, 4):
        members = [{"value": scim_id} for scim_id in ids[n:]]
        idp.call("POST", "/Groups", {"displayName": f"g{n}", "members": members})
    assert (queries("/Users"), queries("/Groups")) == few


def test_admins_see_what_scim_did_in_the_audit_log_and_the_handover(
    client, personas, login, idp, settings
):
    dana = idp.create_user("dana", "dana@city.example").json()
    idp.patch(f"/Users/{dana['id']}", {"op": "replace", "path": "active", "value": False})
    case = HandoverCase.objects.get(membership__user__email="dana@city.example")
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    audit = client.get("/governance/audit/")
    assert audit.status_code == 200
    body = audit.content.decode()
    assert "The identity provider added a member" in body
    assert "Deactivated a member" in body
    assert "scim" in body
    handover = client.get(f"/governance/handover/{case.pk}/")
    assert handover.status_code == 200
    assert "Dana Doe" in handover.content.decode()
