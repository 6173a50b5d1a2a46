"""The risk report: one line per risk, each linking to its fix."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import AccountStatus, ChannelAccount
from governance.models import NativeAdmin, RegistryEntry
from governance.selectors.risks import risk_report_for_org
from governance.tests.registry_helpers import make_entry, make_secret, member


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def kept_entry(personas, *, handle: str, network: str = "x") -> RegistryEntry:
    """An entry with nothing wrong: three people, two with access, a role mailbox."""
    entry = make_entry(
        personas.org,
        personas.alice,
        network=network,
        handle=handle,
        business_owner=member(personas.alice),
        technical_custodian=member(personas.bob),
        backup_owner=member(personas.carol),
        login_identity="viestinta@example.org",
    )
    NativeAdmin.objects.create(entry=entry, name="Alice Admin")
    NativeAdmin.objects.create(entry=entry, name="Bob Editor")
    return entry


@pytest.fixture
def well_kept(personas, frozen) -> RegistryEntry:
    # The personas' connected accounts are registered too, so they raise nothing.
    for account in (personas.bob_account, personas.other_account):
        entry = kept_entry(personas, handle=account.handle, network="sandbox")
        ChannelAccount.objects.filter(pk=account.pk).update(registry_entry=entry)
    return kept_entry(personas, handle="well-kept")


def kinds(personas) -> list[tuple[str, str]]:
    return [(line.kind, line.subject) for line in risk_report_for_org(personas.org)]


def test_a_well_kept_registry_has_no_risks(personas, well_kept):
    assert kinds(personas) == []


def test_owner_custodian_and_backup_the_same_person(personas, well_kept):
    alice = member(personas.alice)
    RegistryEntry.objects.filter(pk=well_kept.pk).update(
        technical_custodian=alice, backup_owner=alice
    )
    (line,) = risk_report_for_org(personas.org)
    assert line.kind == "single_person"
    assert line.fix_url == f"/governance/registry/{well_kept.pk}/edit/"
    assert "same person" in line.detail


def test_only_one_person_with_access(personas, well_kept):
    well_kept.native_admins.first().delete()
    assert kinds(personas) == [("single_person", str(well_kept))]


def test_no_backup_owner(personas, well_kept):
    RegistryEntry.objects.filter(pk=well_kept.pk).update(backup_owner=None)
    assert kinds(personas) == [("no_backup_owner", str(well_kept))]


def test_personal_email_login(personas, well_kept):
    RegistryEntry.objects.filter(pk=well_kept.pk).update(login_identity="alice@example.org")
    (line,) = risk_report_for_org(personas.org)
    assert line.kind == "personal_login"
    assert "alice@example.org" in line.detail


def test_overdue_access_review(personas, well_kept):
    RegistryEntry.objects.filter(pk=well_kept.pk).update(next_review_due=date(2025, 3, 2))
    (line,) = risk_report_for_org(personas.org)
    assert line.kind == "review_overdue"
    assert line.fix_url == f"/governance/registry/{well_kept.pk}/review/"


def test_review_due_today_is_not_yet_overdue(personas, well_kept):
    RegistryEntry.objects.filter(pk=well_kept.pk).update(next_review_due=date(2025, 3, 3))
    assert kinds(personas) == []


def test_credentials_expiring_soon_come_from_accounts(personas, well_kept):
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(
        credentials_expire_at=timezone.now() + timedelta(days=5)
    )
    ChannelAccount.objects.filter(pk=personas.other_account.pk).update(
        status=AccountStatus.NEEDS_RECONNECT
    )
    lines = risk_report_for_org(personas.org)
    assert [line.kind for line in lines] == ["credentials_expiring", "credentials_expiring"]
    assert {line.fix_url for line in lines} == {
        f"/accounts/{personas.bob_account.pk}/",
        f"/accounts/{personas.other_account.pk}/",
    }


def test_connected_account_missing_from_the_registry(personas, well_kept):
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(
        registry_entry=None, network="mastodon"
    )
    (line,) = risk_report_for_org(personas.org)
    assert line.kind == "unregistered_account"
    assert line.fix_url.startswith("/governance/registry/new/?network=mastodon&handle=city-news")


def test_a_sandbox_training_account_is_never_missing_from_the_registry(personas, well_kept):
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(registry_entry=None)
    assert personas.bob_account.network == "sandbox"
    assert risk_report_for_org(personas.org) == []


def test_vault_secret_past_rotation(personas, well_kept):
    secret = make_secret(personas.org, personas.alice, rotate_by=date(2025, 3, 2))
    make_secret(personas.org, personas.alice, name="Fresh", rotate_by=date(2025, 3, 3))
    (line,) = risk_report_for_org(personas.org)
    assert (line.kind, line.subject) == ("secret_past_rotation", "X password")
    assert line.fix_url == f"/governance/vault/{secret.pk}/edit/"


def test_report_page_lists_every_kind_with_links(client, personas, login, frozen):
    make_entry(
        personas.org,
        personas.alice,
        handle="risky",
        login_identity="someone@gmail.com",
        business_owner=member(personas.alice),
        next_review_due=date(2025, 1, 1),
    )
    make_secret(personas.org, personas.alice, rotate_by=date(2025, 1, 1))
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(network="mastodon")
    login(client, personas.carol)
    response = client.get("/governance/risks/")
    page = response.content.decode()
    assert response.status_code == 200
    for heading in (
        "Depends on one person",
        "No backup owner",
        "Login on a personal e-mail address",
        "Access review overdue",
        "Vault secret past its rotation date",
        "Connected account missing from the registry",
    ):
        assert f">{heading}</h2>" in page, heading
    entry = RegistryEntry.objects.get(handle="risky")
    assert f'href="/governance/registry/{entry.pk}/edit/"' in page
    assert page.count("<h1>") == 1


def test_editor_and_outsider_cannot_see_the_report(client, personas, login):
    make_entry(personas.org, personas.alice, handle="risky")
    login(client, personas.bob)
    assert client.get("/governance/risks/").status_code == 403
    client.logout()
    login(client, personas.charlie)
    assert "risky" not in client.get("/governance/risks/").content.decode()
