"""The records pages: retention rules, legal holds, exports with their progress bar and
download; who may see and do what."""

from __future__ import annotations

import pytest

from governance.models import AuditEvent, ExportStatus, LegalHold, RecordsExport, RetentionRule
from governance.services.records import (
    legal_hold_place,
    records_export_build,
    records_export_request,
)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def hold(personas) -> LegalHold:
    return legal_hold_place(
        organization=personas.org,
        actor=personas.alice,
        name="Complaint 17",
        reason="Investigation.",
        record_types=["published_posts"],
        account_ids=[personas.bob_account.pk],
    )


@pytest.fixture
def export(personas) -> RecordsExport:
    return records_export_request(
        organization=personas.org,
        actor=personas.alice,
        record_types=["audit_entries"],
        reference="FOI 12",
        enqueue=lambda pk: None,
    )


def test_records_page_explains_that_audit_entries_are_never_deleted(client, login, personas):
    login(client, personas.alice)

    response = client.get("/governance/records/")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<h1>") == 1
    assert "Audit entries are never deleted." in body
    for label in ("Published posts", "Audit entries", "Vault access"):
        assert label in body
    assert "Save the rule" in body


def test_admin_sets_a_rule(client, login, personas):
    login(client, personas.alice)

    response = client.post(
        "/governance/records/rules/",
        {"record_type": "published_posts", "keep_for_days": "730", "action": "anonymize"},
    )

    assert response.status_code == 302
    rule = RetentionRule.objects.get(organization=personas.org)
    assert (rule.record_type, rule.keep_for_days) == ("published_posts", 730)
    assert rule.action == "anonymize"
    assert "730 days" in client.get("/governance/records/").content.decode()


def test_deleting_audit_entries_is_refused_next_to_the_field(client, login, personas):
    login(client, personas.alice)

    response = client.post(
        "/governance/records/rules/",
        {"record_type": "audit_entries", "keep_for_days": "30", "action": "delete"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_action_error"' in body
    assert "Audit entries can only be: Keep (archive only)." in body
    assert not RetentionRule.objects.exists()


def test_admin_places_and_releases_a_hold(client, login, personas):
    login(client, personas.alice)

    placed = client.post(
        "/governance/records/holds/new/",
        {
            "name": "Court case 4",
            "reason": "District court, case 4/2024.",
            "record_types": ["published_posts", "audit_entries"],
            "channel_accounts": [str(personas.bob_account.pk)],
            "start_date": "2024-01-01",
            "end_date": "2024-06-30",
        },
    )
    hold = LegalHold.objects.get(name="Court case 4")
    assert placed["Location"] == f"/governance/records/holds/{hold.pk}/"
    page = client.get(placed["Location"]).content.decode()
    assert "1 Jan\u00a0\u2013\u00a030 Jun 2024" in page  # a range, as the CLDR writes it
    assert "city-news" in page

    released = client.post(
        f"/governance/records/holds/{hold.pk}/release/", {"reason": "Judgment is final."}
    )

    assert released.status_code == 302
    hold.refresh_from_db()
    assert not hold.is_active
    assert hold.released_by == personas.alice


def test_a_hold_needs_a_record_type_and_sane_dates(client, login, personas):
    login(client, personas.alice)

    response = client.post(
        "/governance/records/holds/new/",
        {"name": "X", "reason": "Y", "start_date": "2024-06-30", "end_date": "2024-01-01"},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose at least one record type." in body
    assert "The end date must not be before the start date." in body


def test_export_page_polls_its_progress_until_ready(client, login, personas, export, media_root):
    login(client, personas.carol)

    page = client.get(f"/governance/records/exports/{export.pk}/").content.decode()
    assert 'id="export-status"' in page and 'role="status"' in page
    assert f'hx-get="/governance/records/exports/{export.pk}/progress/?seen=queued"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "<progress" in page and 'aria-valuetext="0 %' in page
    unchanged = client.get(f"/governance/records/exports/{export.pk}/progress/", {"seen": "queued"})
    assert "hx-swap-oob" not in unchanged.content.decode()

    records_export_build(export_id=export.pk)
    partial = client.get(f"/governance/records/exports/{export.pk}/progress/", {"seen": "queued"})

    body = partial.content.decode()
    assert "hx-trigger" not in body
    assert 'hx-swap-oob="innerHTML:#export-status"' in body
    assert "The export is ready" in body
    assert 'value="100"' in body
    assert f'href="/governance/records/exports/{export.pk}/download/"' in body


def test_download_is_a_zip_and_is_audited(client, login, personas, export, media_root):
    records_export_build(export_id=export.pk)
    login(client, personas.carol)

    response = client.get(f"/governance/records/exports/{export.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(
        action="records.export_downloaded", actor=personas.carol
    ).exists()


def test_an_unfinished_export_cannot_be_downloaded(client, login, personas, export):
    login(client, personas.alice)

    assert client.get(f"/governance/records/exports/{export.pk}/download/").status_code == 404


def test_manager_asks_for_an_export(client, login, personas):
    from governance.models import Role
    from tests.factories import MembershipFactory

    manager = MembershipFactory.create(organization=personas.org, role=Role.MANAGER)
    login(client, manager.user)

    response = client.post(
        "/governance/records/exports/new/",
        {"reference": "FOI 99", "record_types": ["published_posts"]},
    )

    export = RecordsExport.objects.get(reference="FOI 99")
    assert response["Location"] == f"/governance/records/exports/{export.pk}/"
    assert export.status == ExportStatus.QUEUED
    assert export.requested_by == manager.user


def test_auditor_reads_but_cannot_change(client, login, personas, hold, export):
    login(client, personas.carol)

    for path in (
        "/governance/records/",
        "/governance/records/holds/",
        f"/governance/records/holds/{hold.pk}/",
        "/governance/records/exports/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert '<form method="post"' not in body.split("<main", 1)[1], path
    assert client.post("/governance/records/rules/", {}).status_code == 403
    assert client.post("/governance/records/holds/new/", {}).status_code == 403
    assert client.post(f"/governance/records/holds/{hold.pk}/release/", {}).status_code == 403
    assert client.post("/governance/records/exports/new/", {}).status_code == 403


def test_editor_is_forbidden(client, login, personas, hold, export):
    login(client, personas.bob)

    for path in (
        "/governance/records/",
        "/governance/records/holds/",
        f"/governance/records/holds/{hold.pk}/",
        f"/governance/records/exports/{export.pk}/",
        f"/governance/records/exports/{export.pk}/download/",
    ):
        assert client.get(path).status_code == 403, path


def test_another_organizations_records_do_not_exist(client, login, personas, hold, export):
    login(client, personas.charlie)

    assert client.get(f"/governance/records/holds/{hold.pk}/").status_code == 404
    assert (
        client.post(f"/governance/records/holds/{hold.pk}/release/", {"reason": "x"}).status_code
        == 404
    )
    assert client.get(f"/governance/records/exports/{export.pk}/").status_code == 404
    assert client.get(f"/governance/records/exports/{export.pk}/progress/").status_code == 404
    assert client.get(f"/governance/records/exports/{export.pk}/download/").status_code == 404
