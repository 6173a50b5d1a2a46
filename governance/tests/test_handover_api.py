"""Handover cases through the API: the same services and access rules as the pages."""

from __future__ import annotations

import pytest

from governance.models import HandoverCase, HandoverStatus
from governance.services.handover import handover_case_open
from governance.tests.handover_setup import Holdings, build_holdings


@pytest.fixture
def holdings(personas) -> Holdings:
    return build_holdings(personas)


@pytest.fixture
def case(holdings) -> HandoverCase:
    return handover_case_open(membership=holdings.bob, actor=holdings.alice.user)


def test_list_and_detail(client, login, holdings, case):
    login(client, holdings.carol.user)

    listing = client.get("/api/v1/handover-cases/", {"status": "open"}).json()
    detail = client.get(f"/api/v1/handover-cases/{case.pk}/").json()

    assert listing["count"] == 1
    assert listing["results"][0]["member"]["email"] == "bob@example.org"
    assert listing["results"][0]["unassigned_count"] == 5
    assert {item["kind"] for item in detail["items"]} >= {"publishing.posts", "accounts.connected"}
    post = next(item for item in detail["items"] if item["kind"] == "publishing.posts")
    assert post["object_type"] == "publishing.post"
    assert post["object_id"] == str(holdings.post.pk)
    assert "manny@example.org" in {person["email"] for person in detail["possible_holders"]}


def test_reassign_then_sign_off(client, login, holdings, case):
    login(client, holdings.manny.user)
    refused = client.post(
        f"/api/v1/handover-cases/{case.pk}/sign-off/", {}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "still need a new holder" in str(refused.json()["errors"])

    reassigned = client.post(
        f"/api/v1/handover-cases/{case.pk}/reassign/",
        {"items": list(case.items.values_list("pk", flat=True)), "new_holder": holdings.manny.pk},
        content_type="application/json",
    )
    assert reassigned.status_code == 200
    assert reassigned.json()["unassigned_count"] == 0
    holdings.connected.refresh_from_db()
    assert holdings.connected.connected_by == holdings.manny.user

    signed = client.post(
        f"/api/v1/handover-cases/{case.pk}/sign-off/",
        {"notes": "Done."},
        content_type="application/json",
    )
    assert signed.status_code == 200
    assert signed.json()["status"] == HandoverStatus.SIGNED_OFF


def test_reassign_to_an_auditor_is_a_400_on_new_holder(client, login, holdings, case):
    login(client, holdings.alice.user)

    response = client.post(
        f"/api/v1/handover-cases/{case.pk}/reassign/",
        {"items": [case.items.first().pk], "new_holder": holdings.carol.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "new_holder" in response.json()["errors"]


def test_auditor_cannot_reassign_editor_cannot_read_outsider_gets_404(
    client, login, holdings, case, personas
):
    payload = {"items": [case.items.first().pk], "new_holder": holdings.manny.pk}
    login(client, holdings.carol.user)
    assert (
        client.post(
            f"/api/v1/handover-cases/{case.pk}/reassign/", payload, content_type="application/json"
        ).status_code
        == 403
    )
    login(client, holdings.eddie.user)
    assert client.get("/api/v1/handover-cases/").status_code == 403
    login(client, personas.charlie)
    assert client.get(f"/api/v1/handover-cases/{case.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/handover-cases/{case.pk}/sign-off/", {}, content_type="application/json"
        ).status_code
        == 404
    )
