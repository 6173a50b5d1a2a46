"""The records search, as a records officer uses it for an information request.

Our Mastodon account posted last month (in Mastodon's own app); a citizen commented
and later deleted the comment. The archive kept it; a records officer finds it by a
Finnish word in another inflected form, sees that it was deleted, opens the post,
and exports the result: the zip holds the comment, marked gone, with the post, its
versions and its capture as it looked (PDF). The search is per organization and per
the member's accounts, audited, and falls back to trigrams when no word matches.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import ChannelAccount
from archive.models import (
    ArchiveCursor,
    ArchivedComment,
    ArchivedPost,
)
from archive.services.archive import archive_sync_account, search_config_for
from governance.models import AuditEvent, ExportStatus, RecordsExport
from governance.services.records import records_export_build
from inbox.models import InboxNote
from tests.factories import ChannelAccountFactory
from tests.mastodon_server.server import MastodonTestServer

pytestmark = pytest.mark.django_db

COMMENT = "Uimahallin kassajono oli taas aivan liian pitkä"


def _account(server: MastodonTestServer, org, handle: str = "@comms@social.example"):
    account = ChannelAccountFactory.create(
        organization=org,
        network="mastodon",
        handle=handle,
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
    )
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


@pytest.fixture
def archived(mastodon_server, personas):
    """Last month: our post and a citizen's comment; since then the comment was deleted
    and the post edited; both syncs ran."""
    server = mastodon_server
    account = _account(server, personas.org)
    with time_machine.travel(timezone.now() - timedelta(days=35), tick=True):
        post = server.post_as(server.user, "Uimahalli avataan remontin jälkeen maanantaina.")
        post.language = "fi"
        citizen = server.create_account("aino", "Aino Virtanen")
        comment = server.post_as(citizen, COMMENT, in_reply_to=post.id)
        comment.language = "fi"
        archive_sync_account(account=account)
    server.edit_as(post, "Uimahalli avataan remontin jälkeen tiistaina.")
    server.delete_as(comment)
    ArchiveCursor.objects.filter(channel_account=account).update(next_sync_at=None)
    archive_sync_account(account=account)
    return account, post, comment


def test_a_records_officer_finds_a_deleted_comment_by_a_finnish_word_and_exports_it(
    archived, personas, login, django_capture_on_commit_callbacks
):
    _account, post, comment = archived
    client = Client()
    login(client, personas.alice)

    # "uimahalli" (nominative) finds "Uimahallin" (genitive) through the Finnish dictionary.
    page = client.get(reverse("archive:records"), {"q": "uimahalli", "kind": "comment"})

    assert page.status_code == 200
    html = page.content.decode()
    assert COMMENT in html
    assert "Deleted on the network" in html
    assert "1 record found." in html
    archived_comment = ArchivedComment.objects.get(remote_id=comment.id)
    assert archived_comment.posted_at < timezone.now() - timedelta(days=30)
    search = AuditEvent.objects.get(action="records.searched")
    assert search.new_values["text"] == "uimahalli"

    post_page = client.get(reverse("archive:archived_post", args=[archived_comment.post_id]))
    assert post_page.status_code == 200
    body = post_page.content.decode()
    assert "Uimahalli avataan remontin jälkeen maanantaina." in body  # the first version
    assert "Uimahalli avataan remontin jälkeen tiistaina." in body
    assert COMMENT in body

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("archive:records_export"),
            {"q": "uimahalli", "kind": "comment", "reference": "TPA-2026-17"},
        )
    export = RecordsExport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:records_export", args=[export.pk])
    assert callbacks  # the build was sent to a worker
    assert records_export_build(export_id=export.pk) == "ready"
    export.refresh_from_db()
    assert (export.status, export.progress) == (ExportStatus.READY, 100)

    with export.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
        records = json.loads(zipped.read("archive/records.json"))
        names = zipped.namelist()
    assert manifest["criteria"]["search"]["text"] == "uimahalli"
    assert manifest["record_counts"] == {"archive": 1}
    [data] = records
    assert data["text"] == COMMENT
    assert data["found_gone_at"]
    assert [v["text"] for v in data["post"]["versions"]] == [
        "Uimahalli avataan remontin jälkeen maanantaina.",
        "Uimahalli avataan remontin jälkeen tiistaina.",
    ]
    # The post as it looked, as a PDF, beside the record.
    capture = ArchivedPost.objects.get(remote_id=post.id).capture
    assert capture
    assert f"archive/media/{data['post']['capture']}" in names
    with capture.open("rb") as handle:
        text = "\n".join(page.extract_text() for page in PdfReader(handle).pages)
    assert "@comms@social.example" in text
    assert "Uimahalli avataan remontin jälkeen tiistaina." in text
    assert "Earlier versions" in text and "maanantaina" in text
    assert "Posted" in text


def test_the_trigram_fallback_finds_part_of_a_word(archived, personas, login):
    client = Client()
    login(client, personas.carol)  # an auditor may search
    page = client.get(reverse("archive:records"), {"q": "kassajo"})
    html = page.content.decode()
    assert page.status_code == 200
    assert COMMENT in html
    assert "inside longer words" in html


def test_words_close_to_the_query_are_the_last_resort(archived, personas, login):
    client = Client()
    login(client, personas.alice)
    # A typo that neither the dictionary nor a substring finds.
    html = client.get(reverse("archive:records"), {"q": "kassajomo"}).content.decode()
    assert COMMENT in html
    assert "words close to what you wrote" in html


def test_filters_narrow_the_search(archived, personas, login):
    _account, _post, _comment = archived
    client = Client()
    login(client, personas.alice)
    by_author = client.get(reverse("archive:records"), {"q": "uimahalli", "author": "nobody"})
    assert "0 records found." in by_author.content.decode()
    last_week = (timezone.localdate() - timedelta(days=7)).isoformat()
    recent = client.get(reverse("archive:records"), {"q": "uimahalli", "start": last_week})
    # The post (and its versions) and the comment were made last month.
    assert COMMENT not in recent.content.decode()
    other = client.get(
        reverse("archive:records"), {"q": "uimahalli", "account": personas.other_account.pk}
    )
    assert COMMENT not in other.content.decode()
    wrong = client.get(reverse("archive:records"), {"q": "x", "start": "2026-02-30"})
    assert wrong.status_code == 400


def test_internal_notes_and_inbox_texts_are_searched_too(personas, login):
    from inbox.models import InboxItem

    item = InboxItem.objects.create(
        organization=personas.org,
        channel_account=personas.bob_account,
        network="sandbox",
        remote_id="m1",
        kind="mention",
        text="Kysymys kirjaston aukioloajoista",
        language="fi",
        posted_at=timezone.now(),
        received_at=timezone.now(),
        status_changed_at=timezone.now(),
    )
    InboxNote.objects.create(
        organization=personas.org, item=item, body="Soitettu takaisin, asia hoidettu kirjastossa"
    )
    client = Client()
    login(client, personas.alice)
    html = client.get(reverse("archive:records"), {"q": "kirjasto"}).content.decode()
    assert "Kysymys kirjaston aukioloajoista" in html
    assert "Soitettu takaisin, asia hoidettu kirjastossa" in html


def test_access_is_per_organization_and_per_role(archived, personas, login):
    _account, _post, comment = archived
    archived_comment = ArchivedComment.objects.get(remote_id=comment.id)
    outsider = Client()
    login(outsider, personas.charlie)
    html = outsider.get(reverse("archive:records"), {"q": "uimahalli"}).content.decode()
    assert COMMENT not in html
    assert (
        outsider.get(reverse("archive:archived_post", args=[archived_comment.post_id])).status_code
        == 404
    )
    editor = Client()
    login(editor, personas.bob)  # an editor does not handle information requests
    assert editor.get(reverse("archive:records"), {"q": "uimahalli"}).status_code == 403
    auditor = Client()
    login(auditor, personas.carol)  # may search, may not export
    assert auditor.post(reverse("archive:records_export"), {"q": "uimahalli"}).status_code == 403


def test_each_language_gets_its_dictionary_and_the_rest_simple():
    assert search_config_for("fi") == "finnish"
    assert search_config_for("sv-FI") == "swedish"
    assert search_config_for("en") == "english"
    assert search_config_for("tr") == "turkish"
    assert search_config_for("id") in ("indonesian", "simple")
    assert search_config_for("et") == "simple"
    assert search_config_for("") == "simple"


def _notes(org, texts_by_age: list[str]) -> list[int]:
    """Internal notes in the record, the first the newest, an hour apart; their pks."""
    from archive.models import RecordEntry

    now = timezone.now()
    return [
        RecordEntry.objects.create(
            organization=org,
            kind="note",
            object_id=10_000 + n,
            occurred_at=now - timedelta(hours=n),
            text=text,
            language="fi",
            search_config=search_config_for("fi"),
        ).pk
        for n, text in enumerate(texts_by_age)
    ]


def test_a_common_word_shows_more_than_the_cap_newest_first(personas, login, monkeypatch):
    monkeypatch.setattr("archive.selectors.RECORDS_COUNT_CAP", 3)
    texts = [f"Kirjaston aukioloajat muuttuvat, tiedote {n:03d}" for n in range(53)]
    texts.insert(1, "Uimahalli suljettu")
    _notes(personas.org, texts)
    client = Client()
    login(client, personas.alice)
    first = client.get(reverse("archive:records"), {"q": "kirjastossa"}).content.decode()
    assert "More than 3 records found." in first
    assert first.index("tiedote 000") < first.index("tiedote 001") < first.index("tiedote 049")
    assert "tiedote 050" not in first
    assert "Uimahalli suljettu" not in first
    second = client.get(reverse("archive:records"), {"q": "kirjastossa", "page": "2"})
    html = second.content.decode()
    assert html.index("tiedote 050") < html.index("tiedote 052")
    assert "tiedote 049" not in html


@pytest.mark.parametrize(
    ("windows", "offset"),
    [
        ((2, 100), 0),  # the first window holds too few: a second one sized from it
        ((2, 5), 0),  # not even the largest window: every match sorted
        ((2, 100), 4),  # a later page
        ((50, 100), 3),  # the first window holds the page
    ],
)
def test_the_page_beyond_the_cap_is_the_newest_matches_however_it_is_read(
    personas, monkeypatch, windows, offset
):
    from archive.selectors import RecordQuery, records_search

    monkeypatch.setattr("archive.selectors.RECORDS_COUNT_CAP", 3)
    monkeypatch.setattr("archive.selectors.RECORDS_WINDOWS", windows)
    # Few matches among the newest rows, many among the older ones.
    texts = ["Uimahalli suljettu", "Kirjaston aukioloajat"]
    texts += ["Uimahalli suljettu"] * 5 + ["Kirjaston aukioloajat"] * 8
    pks = _notes(personas.org, texts)
    matching = [pk for pk, text in zip(pks, texts, strict=True) if "Kirjaston" in text]
    results = records_search(
        personas.org, RecordQuery(text="kirjasto"), visible_account_ids=None, offset=offset, limit=3
    )
    assert results.capped
    assert results.count == 3
    assert [entry.pk for entry in results.entries] == matching[offset : offset + 3]
