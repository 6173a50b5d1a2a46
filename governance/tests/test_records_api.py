"""Retention rules, legal holds and records exports through the API."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest

from governance.models import ExportStatus, RecordsExport
from governance.services.records import records_export_build


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _post(client, path: str, data: dict):
    return client.post(path, data, content_type="application/json")


def test_rules_are_set_listed_and_removed(client, login, personas):
    login(client, personas.alice)

    created = _post(
        client,
        "/api/v1/retention-rules/",
        {"record_type": "published_posts", "keep_for_days": 365, "action": "delete"},
    )
    refused = _post(
        client,
        "/api/v1/retention-rules/",
        {"record_type": "audit_entries", "keep_for_days": 365, "action": "delete"},
    )

    assert created.status_code == 200
    assert created.json()["record_type_label"] == "Published posts"
    assert refused.status_code == 400
    assert "action" in refused.json()["errors"]
    listing = client.get("/api/v1/retention-rules/").json()
    assert [rule["record_type"] for rule in listing] == ["published_posts"]
    rule_id = created.json()["id"]
    assert client.delete(f"/api/v1/retention-rules/{rule_id}/").status_code == 204
    assert client.get("/api/v1/retention-rules/").json() == []


def test_holds_are_placed_and_released(client, login, personas):
    login(client, personas.alice)

    placed = _post(
        client,
        "/api/v1/legal-holds/",
        {
            "name": "Court case",
            "reason": "Case 4/2024.",
            "record_types": ["published_posts"],
            "channel_accounts": [personas.bob_account.pk],
            "start_date": "2024-01-01",
        },
    )
    foreign = _post(
        client,
        "/api/v1/legal-holds/",
        {
            "name": "X",
            "reason": "Y",
            "record_types": ["published_posts"],
            "channel_accounts": [personas.outsider_account.pk],
        },
    )

    assert placed.status_code == 201
    assert placed.json()["is_active"] is True
    assert foreign.status_code == 400
    assert "channel_accounts" in foreign.json()["errors"]
    hold_id = placed.json()["id"]
    released = _post(client, f"/api/v1/legal-holds/{hold_id}/release/", {"reason": "Over."})
    assert released.json()["is_active"] is False


def test_export_is_created_polled_and_downloaded(
    client, login, personas, media_root, django_capture_on_commit_callbacks, monkeypatch
):
    sent: list[int] = []
    monkeypatch.setattr("governance.services.records._send_build_task", sent.append)
    login(client, personas.alice)

    with django_capture_on_commit_callbacks(execute=True):
        created = _post(
            client,
            "/api/v1/records-exports/",
            {"record_types": ["audit_entries"], "reference": "FOI 7"},
        )

    assert created.status_code == 202
    export_id = created.json()["id"]
    assert sent == [export_id]
    assert client.get(f"/api/v1/records-exports/{export_id}/").json()["status"] == "queued"
    records_export_build(export_id=export_id)
    status = client.get(f"/api/v1/records-exports/{export_id}/").json()
    assert status["status"] == ExportStatus.READY
    assert status["progress"] == 100
    download = client.get(status["download_url"])
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == status["file_sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["reference"] == "FOI 7"


def test_access(client, login, personas):
    export = RecordsExport.objects.create(organization=personas.org, record_types=["audit_entries"])
    login(client, personas.carol)
    assert client.get("/api/v1/legal-holds/").status_code == 200
    create = _post(client, "/api/v1/records-exports/", {"record_types": ["audit_entries"]})
    assert create.status_code == 403
    assert _post(client, "/api/v1/legal-holds/", {}).status_code == 403
    login(client, personas.bob)
    assert client.get("/api/v1/retention-rules/").status_code == 403
    login(client, personas.charlie)
    assert client.get(f"/api/v1/records-exports/{export.pk}/").status_code == 404
    assert client.get(f"/api/v1/records-exports/{export.pk}/download/").status_code == 404
