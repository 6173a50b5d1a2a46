"""The account registry: entries, people with native access, login identities."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ChannelAccount
from governance.models import AuditEvent, NativeAdmin, RegistryEntry
from governance.selectors.registry import login_identity_check
from governance.tests.registry_helpers import make_entry, member
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def entry_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "network": "youtube",
        "handle": "CityOfExample",
        "display_name": "City of Example",
        "purpose": "Council meetings, live.",
        "login_identity": "viestinta@example.org",
        "two_factor_location": "Comms team phone in the safe",
        "review_cadence_months": "3",
        "next_review_due": "",
        "channel_account": "",
    }
    data.update(overrides)
    return data


# --- Pages and access -------------------------------------------------------------------


def test_admin_adds_an_account_run_natively(client, personas, login, frozen):
    login(client, personas.alice)
    alice, carol = member(personas.alice), member(personas.carol)
    response = client.post(
        "/governance/registry/new/",
        entry_form(business_owner=alice.pk, technical_custodian=carol.pk, backup_owner=""),
    )
    entry = RegistryEntry.objects.get(handle="CityOfExample")
    assert response.status_code == 302
    assert response["Location"] == f"/governance/registry/{entry.pk}/"
    assert entry.organization == personas.org
    assert entry.business_owner == alice
    assert entry.technical_custodian == carol
    assert entry.next_review_due == date(2025, 6, 3)  # quarterly from today
    event = AuditEvent.objects.get(action="registry.entry_created")
    assert event.new_values["business_owner"] == "Alice Admin"
    page = client.get(response["Location"]).content.decode()
    assert "CityOfExample" in page
    assert "Role mailbox" in page
    assert "No: run natively on the network" in page


def test_list_shows_entries_and_flags_personal_logins(client, personas, login):
    make_entry(personas.org, personas.alice, handle="mayor", login_identity="alice@example.org")
    make_entry(personas.org, personas.alice, handle="news", login_identity="comms@example.org")
    login(client, personas.carol)  # auditors read the registry
    page = client.get("/governance/registry/").content.decode()
    assert "mayor" in page and "news" in page
    assert "Personal address" in page
    assert "This is the personal address of Alice Admin." in page
    assert page.count("<h1>") == 1


def test_list_does_not_query_per_entry(client, personas, login):
    for n in range(5):
        make_entry(
            personas.org,
            personas.alice,
            handle=f"account{n}",
            business_owner=member(personas.alice),
            backup_owner=member(personas.carol),
        )
    login(client, personas.alice)
    client.get("/governance/registry/")
    with CaptureQueriesContext(connection) as five:
        client.get("/governance/registry/")
    make_entry(
        personas.org, personas.alice, handle="account-more", business_owner=member(personas.alice)
    )
    with CaptureQueriesContext(connection) as six:
        client.get("/governance/registry/")
    assert len(six) == len(five)


def test_auditor_reads_an_entry_but_cannot_edit(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.carol)
    assert client.get(f"/governance/registry/{entry.pk}/").status_code == 200
    assert client.get(f"/governance/registry/{entry.pk}/edit/").status_code == 403
    assert client.post(f"/governance/registry/{entry.pk}/delete/").status_code == 403
    assert "Edit</a>" not in client.get(f"/governance/registry/{entry.pk}/").content.decode()


def test_editor_is_refused_the_registry_and_its_edit_pages(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.bob)
    assert client.get("/governance/registry/").status_code == 403
    assert client.get("/governance/registry/new/").status_code == 403
    assert client.get(f"/governance/registry/{entry.pk}/").status_code == 403
    assert client.get(f"/governance/registry/{entry.pk}/edit/").status_code == 403
    response = client.post(f"/governance/registry/{entry.pk}/edit/", entry_form(handle="x"))
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.handle == "city_news"


def test_an_editor_who_owns_an_account_sees_it_and_reviews_it(client, personas, login):
    entry = make_entry(personas.org, personas.alice, business_owner=member(personas.bob))
    make_entry(personas.org, personas.alice, handle="someone-elses")
    login(client, personas.bob)
    page = client.get("/governance/registry/").content.decode()
    assert "city_news" in page and "someone-elses" not in page
    assert client.get(f"/governance/registry/{entry.pk}/").status_code == 200
    assert client.get(f"/governance/registry/{entry.pk}/review/").status_code == 200
    assert client.get(f"/governance/registry/{entry.pk}/edit/").status_code == 403


def test_outsider_gets_404_for_every_page_of_an_entry(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    admin = NativeAdmin.objects.create(entry=entry, name="Agency person")
    login(client, personas.charlie)
    for path in ("", "edit/", "delete/", "review/"):
        assert client.get(f"/governance/registry/{entry.pk}/{path}").status_code == 404, path
    assert client.post(f"/governance/registry/{entry.pk}/people/", {"name": "X"}).status_code == 404
    remove = f"/governance/registry/{entry.pk}/people/{admin.pk}/remove/"
    assert client.post(remove).status_code == 404
    assert "city_news" not in client.get("/governance/registry/").content.decode()


def test_admin_edits_an_entry_and_the_change_is_audited(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    response = client.post(
        f"/governance/registry/{entry.pk}/edit/",
        entry_form(
            network="x",
            handle="city_news",
            backup_owner=member(personas.carol).pk,
            next_review_due="2025-12-01",
        ),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.backup_owner == member(personas.carol)
    assert entry.next_review_due == date(2025, 12, 1)
    event = AuditEvent.objects.get(action="registry.entry_updated")
    assert event.old_values["backup_owner"] == ""
    assert event.new_values["backup_owner"] == "Carol Auditor"


def test_the_same_account_cannot_be_added_twice(client, personas, login):
    make_entry(personas.org, personas.alice, network="youtube", handle="CityOfExample")
    login(client, personas.alice)
    response = client.post("/governance/registry/new/", entry_form(handle="cityofexample"))
    assert response.status_code == 200
    assert "This account is already in the registry." in response.content.decode()
    assert 'aria-describedby="id_handle_helptext id_handle_error"' in response.content.decode()


def test_owners_must_be_members_of_the_organization(client, personas, login):
    outsider = MembershipFactory.create(organization=personas.other_org)
    login(client, personas.alice)
    response = client.post("/governance/registry/new/", entry_form(business_owner=outsider.pk))
    assert response.status_code == 200
    assert not RegistryEntry.objects.exists()


def test_admin_removes_an_entry(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    assert client.get(f"/governance/registry/{entry.pk}/delete/").status_code == 200
    response = client.post(f"/governance/registry/{entry.pk}/delete/")
    assert response.status_code == 302
    assert not RegistryEntry.objects.exists()
    assert (
        AuditEvent.objects.get(action="registry.entry_deleted").old_values["handle"] == "city_news"
    )


# --- People with native access ----------------------------------------------------------


def test_people_with_access_are_added_and_matched_to_members(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    url = f"/governance/registry/{entry.pk}/people/"
    client.post(url, {"name": "", "email": "Carol@Example.org", "role_on_network": "Owner"})
    client.post(url, {"name": "Agency Consultant", "email": "pat@agency.example"})
    consultant, carol = entry.native_admins.order_by("name")
    assert consultant.name == "Agency Consultant" and not consultant.is_member
    assert carol.name == "Carol Auditor" and carol.membership == member(personas.carol)
    page = client.get(f"/governance/registry/{entry.pk}/").content.decode()
    assert "Agency Consultant" in page and "pat@agency.example" in page
    assert AuditEvent.objects.filter(action="registry.native_admin_added").count() == 2


def test_adding_a_person_without_name_or_address_shows_the_error(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    response = client.post(f"/governance/registry/{entry.pk}/people/", {"name": "", "email": ""})
    assert response.status_code == 400
    assert "Enter the person&#x27;s name or e-mail address." in response.content.decode()


def test_admin_removes_a_person_with_access(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    admin = NativeAdmin.objects.create(entry=entry, name="Former Intern")
    login(client, personas.alice)
    response = client.post(f"/governance/registry/{entry.pk}/people/{admin.pk}/remove/")
    assert response.status_code == 302
    assert not entry.native_admins.exists()
    assert AuditEvent.objects.get(action="registry.native_admin_removed").old_values["name"] == (
        "Former Intern"
    )


# --- Connected channel accounts ---------------------------------------------------------


def test_a_connected_account_links_to_its_entry(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/governance/registry/new/",
        entry_form(network="sandbox", handle="city-news", channel_account=personas.bob_account.pk),
    )
    assert response.status_code == 302
    entry = RegistryEntry.objects.get(handle="city-news")
    assert ChannelAccount.objects.get(pk=personas.bob_account.pk).registry_entry == entry
    page = client.get(f"/governance/registry/{entry.pk}/").content.decode()
    assert f'href="/accounts/{personas.bob_account.pk}/"' in page
    assert AuditEvent.objects.filter(action="registry.channel_account_linked").count() == 1


def test_an_account_of_another_organization_cannot_be_linked(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/governance/registry/new/",
        entry_form(channel_account=personas.outsider_account.pk),
    )
    assert response.status_code == 200
    assert ChannelAccount.objects.get(pk=personas.outsider_account.pk).registry_entry is None


def test_unlinking_clears_the_account(client, personas, login):
    entry = make_entry(personas.org, personas.alice, network="sandbox", handle="city-news")
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(registry_entry=entry)
    login(client, personas.alice)
    client.post(
        f"/governance/registry/{entry.pk}/edit/",
        entry_form(network="sandbox", handle="city-news", channel_account=""),
    )
    assert ChannelAccount.objects.get(pk=personas.bob_account.pk).registry_entry is None


# --- Login identities -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "kind"),
    [
        ("viestinta@example.org", "role"),
        ("Viestintä.Kanslia@kaupunki.fi", "role"),
        ("comms@agency.example", "role"),
        ("social.media@agency.example", "role"),
        ("alice@example.org", "personal"),  # a member's own address
        ("maija.meikalainen@kaupunki.fi", "personal"),  # firstname.lastname
        ("city.channel@gmail.com", "personal"),  # webmail
        ("carol.auditor@example.org", "personal"),  # a member's name
        ("xyz123@example.org", "unclear"),
        ("CityOfExample", "not_email"),
        ("", "missing"),
    ],
)
def test_login_identity_is_classified(personas, identity, kind):
    members = [member(personas.alice), member(personas.carol)]
    assert login_identity_check(identity, members).kind == kind


def test_a_new_member_with_the_login_address_makes_it_personal(personas):
    user = UserFactory.create(email="pr.team@example.org", full_name="Pat Team")
    assert login_identity_check("pr.team@example.org", []).kind == "role"
    pat = MembershipFactory.create(organization=personas.org, user=user)
    assert login_identity_check("pr.team@example.org", [pat]).looks_personal
