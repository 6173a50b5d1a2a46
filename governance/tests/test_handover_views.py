"""The handover pages: the list, one case, assigning per row or in bulk, signing off;
who may see and do what."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent, HandoverCase, HandoverStatus, Role
from governance.services.handover import handover_case_open
from governance.tests.handover_setup import Holdings, build_holdings
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def holdings(personas) -> Holdings:
    return build_holdings(personas)


@pytest.fixture
def case(holdings) -> HandoverCase:
    return handover_case_open(membership=holdings.bob, actor=holdings.alice.user)


def _url(case: HandoverCase, action: str = "") -> str:
    return f"/governance/handover/{case.pk}/{action + '/' if action else ''}"


def test_manager_sees_the_case_with_every_item_and_the_forms(client, login, holdings, case):
    login(client, holdings.manny.user)

    response = client.get(_url(case))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<h1>") == 1
    assert "Handover of Bob Editor" in body
    for text in (
        "Library opening hours",
        "City Events",
        "CityOfExample (Facebook)",
        "Facebook password",
        "Secret known to the person: rotate it.",
        "Not assigned yet",
        "Assign selected",
        "Sign off the handover",
    ):
        assert text in body, text
    assert f'<label for="holder-{case.items.first().pk}" class="visually-hidden">' in body


def test_list_shows_open_cases_with_counts(
    client, login, holdings, case, django_assert_max_num_queries
):
    login(client, holdings.alice.user)
    other = MembershipFactory.create(organization=holdings.alice.organization, role=Role.EDITOR)
    handover_case_open(membership=other, actor=holdings.alice.user)

    with django_assert_max_num_queries(25):
        response = client.get("/governance/handover/")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'href="{_url(case)}"' in body
    assert "Bob Editor" in body
    assert "Start the handover" in body


def test_assigning_one_row_with_its_own_button(client, login, holdings, case):
    login(client, holdings.alice.user)
    item = case.items.get(kind="publishing.posts")

    response = client.post(
        _url(case, "reassign"),
        {"assign_one": str(item.pk), f"holder_{item.pk}": str(holdings.manny.pk)},
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.new_holder == holdings.manny
    holdings.post.refresh_from_db()
    assert holdings.post.created_by == holdings.manny.user
    page = client.get(_url(case)).content.decode()
    assert "1 item given to Manny Manager." in page


def test_assigning_all_selected_to_one_person(client, login, holdings, case):
    login(client, holdings.alice.user)
    ids = [str(pk) for pk in case.items.values_list("pk", flat=True)]

    response = client.post(
        _url(case, "reassign"), {"items": ids, "bulk_holder": str(holdings.manny.pk)}
    )

    assert response.status_code == 302
    assert not case.items.filter(new_holder__isnull=True).exists()


def test_bulk_assign_without_a_person_shows_the_error_next_to_the_select(
    client, login, holdings, case
):
    login(client, holdings.alice.user)
    item = case.items.first()

    response = client.post(_url(case, "reassign"), {"items": [str(item.pk)], "bulk_holder": ""})

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="bulk-holder-error"' in body
    assert 'aria-describedby="bulk-holder-error"' in body
    assert "Choose who takes the items over." in body
    assert f'value="{item.pk}" id="item-{item.pk}" checked' in body


def test_a_refused_holder_is_explained_on_the_row(client, login, holdings, case):
    login(client, holdings.alice.user)
    item = case.items.get(kind="accounts.connected")

    response = client.post(
        _url(case, "reassign"),
        {"assign_one": str(item.pk), f"holder_{item.pk}": str(holdings.eddie.pk)},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert f'aria-describedby="holder-{item.pk}-error"' in body
    assert "cannot reconnect channel accounts" in body


def test_sign_off_is_refused_with_the_list_then_succeeds(client, login, holdings, case):
    login(client, holdings.manny.user)

    refused = client.post(_url(case, "sign-off"), {"notes": ""})

    assert refused.status_code == 400
    body = refused.content.decode()
    assert 'id="sign-off-error"' in body
    assert "5 items still need a new holder" in body
    client.post(
        _url(case, "reassign"),
        {
            "items": [str(pk) for pk in case.items.values_list("pk", flat=True)],
            "bulk_holder": str(holdings.manny.pk),
        },
    )

    response = client.post(_url(case, "sign-off"), {"notes": "Keys returned."})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == HandoverStatus.SIGNED_OFF
    page = client.get(_url(case)).content.decode()
    assert "Keys returned." in page
    assert "Assign selected" not in page


def test_refresh_lists_the_items_again(client, login, holdings, case):
    login(client, holdings.manny.user)

    response = client.post(_url(case, "refresh"))

    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="handover.case_refreshed").exists()


def test_opening_a_case_by_hand(client, login, holdings):
    login(client, holdings.alice.user)

    response = client.post("/governance/handover/open/", {"membership": str(holdings.eddie.pk)})

    case = HandoverCase.objects.get(membership=holdings.eddie)
    assert response.status_code == 302
    assert response["Location"] == _url(case)


def test_auditor_reads_the_case_but_cannot_change_it(client, login, holdings, case):
    login(client, holdings.carol.user)

    page = client.get(_url(case))

    assert page.status_code == 200
    body = page.content.decode()
    assert "Library opening hours" in body
    assert "Assign selected" not in body
    assert "Sign off the handover" not in body
    item = case.items.first()
    response = client.post(
        _url(case, "reassign"), {"items": [str(item.pk)], "bulk_holder": str(holdings.manny.pk)}
    )
    assert response.status_code == 403
    assert client.post(_url(case, "sign-off")).status_code == 403
    assert client.post(_url(case, "refresh")).status_code == 403


def test_editor_is_forbidden(client, login, holdings, case):
    login(client, holdings.eddie.user)

    assert client.get("/governance/handover/").status_code == 403
    assert client.get(_url(case)).status_code == 403
    assert client.post(_url(case, "sign-off")).status_code == 403


def test_another_organizations_case_does_not_exist(client, login, holdings, case, personas):
    login(client, personas.charlie)

    assert client.get(_url(case)).status_code == 404
    assert (
        client.post(_url(case, "reassign"), {"items": ["1"], "bulk_holder": "1"}).status_code == 404
    )
    assert client.post(_url(case, "sign-off")).status_code == 404


def test_reviewer_cannot_sign_off(client, login, holdings, case):
    reviewer = MembershipFactory.create(
        organization=holdings.alice.organization,
        user=UserFactory.create(email="ray@example.org"),
        role=Role.REVIEWER,
    )
    login(client, reviewer.user)

    assert client.post(_url(case, "sign-off")).status_code == 403
