"""Records-request exports: built by a worker into a zip of JSON, CSV and media whose
manifest lists every file's SHA-256 and size."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from governance.models import AuditEvent, ExportStatus, RecordsExport
from governance.services.records import records_export_build, records_export_request
from governance.tests.records_setup import published
from publishing.models import VariantMedia
from publishing.services.media import media_asset_upload


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def records(personas, media_root):
    alice = personas.membership(personas.alice)
    news = published(personas.bob_account, personas.bob, 3, "=Library news")
    published(personas.other_account, personas.alice, 3, "Mayor's post")
    published(personas.bob_account, personas.bob, 60, "Too old")
    asset = media_asset_upload(
        membership=alice,
        file=ContentFile(png_bytes(), name="reading-room.png"),
        alt_texts={"fi": "Lukusali"},
    )
    VariantMedia.objects.create(variant=news.variants.get(), asset=asset)
    return {"news": news, "asset": asset}


def _request(personas, **kwargs) -> RecordsExport:
    enqueued: list[int] = []
    export = records_export_request(
        organization=personas.org,
        actor=personas.alice,
        enqueue=enqueued.append,
        **kwargs,
    )
    return export


def test_export_manifest_hashes_match_the_files(
    personas, records, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    enqueued: list[int] = []
    with django_capture_on_commit_callbacks(execute=True):
        export = records_export_request(
            organization=personas.org,
            actor=personas.alice,
            record_types=["published_posts", "audit_entries"],
            account_ids=[personas.bob_account.pk],
            start_date=today - timedelta(days=10),
            end_date=today,
            reference="FOI 2024/88",
            enqueue=enqueued.append,
        )
    assert enqueued == [export.pk]

    assert records_export_build(export_id=export.pk) == "ready"

    export.refresh_from_db()
    assert export.status == ExportStatus.READY
    assert export.progress == 100
    stored = export.file.read()
    assert hashlib.sha256(stored).hexdigest() == export.file_sha256
    assert len(stored) == export.file_size
    with zipfile.ZipFile(io.BytesIO(stored)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        listed = {entry["path"] for entry in manifest["files"]}
        assert listed == set(archive.namelist()) - {"manifest.json"}
        for entry in manifest["files"]:
            data = archive.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
            assert len(data) == entry["size"]
        posts = json.loads(archive.read("published_posts/records.json"))
        rows = list(
            csv.DictReader(io.StringIO(archive.read("published_posts/records.csv").decode()))
        )
        image = archive.read(
            f"published_posts/media/{records['asset'].pk}-"
            + records["asset"].file.name.rsplit("/", 1)[-1]
        )
    assert manifest["reference"] == "FOI 2024/88"
    assert manifest["record_counts"]["published_posts"] == 1
    assert manifest["criteria"]["channel_accounts"][0]["handle"] == "city-news"
    assert [post["title"] for post in posts] == ["=Library news"]
    assert posts[0]["variants"][0]["images"][0]["alt_text"] == "Lukusali"
    assert rows[0]["title"] == "'=Library news"  # a spreadsheet must not run it
    assert image == records["asset"].file.open("rb").read()
    assert AuditEvent.objects.filter(
        action="records.export_built", target_id=str(export.pk)
    ).exists()


def test_audit_entries_export_whole_entries_with_their_hashes(personas, records):
    export = _request(personas, record_types=["audit_entries"])

    records_export_build(export_id=export.pk)

    export.refresh_from_db()
    with zipfile.ZipFile(export.file.open("rb")) as archive:
        entries = json.loads(archive.read("audit_entries/records.json"))
    # Every entry of the organization up to the build (its own "built" entry comes after).
    before_build = AuditEvent.objects.filter(organization=personas.org).exclude(
        action="records.export_built"
    )
    assert len(entries) == before_build.count()
    assert "records.export_requested" in {entry["action"] for entry in entries}
    assert all(len(entry["hash"]) == 64 for entry in entries)


def test_a_doubled_message_builds_once(personas, records):
    export = _request(personas, record_types=["published_posts"])

    first = records_export_build(export_id=export.pk)
    second = records_export_build(export_id=export.pk)

    assert (first, second) == ("ready", "skipped")
    assert AuditEvent.objects.filter(action="records.export_built").count() == 1


def test_a_failing_build_is_marked_failed(personas, records, monkeypatch):
    from governance.services import records as service

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(service, "_write_export", explode)
    export = _request(personas, record_types=["published_posts"])

    assert records_export_build(export_id=export.pk) == "failed"

    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert "disk full" in export.error
    assert AuditEvent.objects.filter(action="records.export_failed").exists()


def test_a_stale_build_is_sent_again(personas, records, time_machine):
    from governance.services.records import records_exports_sweep_stale

    export = _request(personas, record_types=["published_posts"])
    assert records_exports_sweep_stale() == []

    time_machine.move_to(timezone.now() + timedelta(hours=1))

    assert records_exports_sweep_stale() == [export.pk]
