"""The records search through the API: words and an information request's filters
(account, dates, author), paged; every search audited; exporting the matches gives
a records export to poll. Same rights as the page: records.view to search (an editor
may not), records.export to export (an auditor may not)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from governance.models import AuditEvent, RecordsExport
from governance.services.tokens import api_token_create
from inbox.tests.helpers import make_item

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/records/search/"
EXPORT = "/api/v1/records/search/export/"


def _api(user, org) -> Client:
    _token, raw = api_token_create(user=user, organization=org, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def messages(personas):
    now = timezone.now()
    make_item(
        personas.bob_account,
        author_handle="aino",
        text="Uimahallin kassajono oli pitkä",
        language="fi",
        posted_at=now - timedelta(days=40),
    )
    make_item(
        personas.bob_account,
        author_handle="pekka",
        text="Uimahalli on kiinni tänään",
        language="fi",
        posted_at=now - timedelta(days=2),
    )
    make_item(
        personas.other_account,
        author_handle="aino",
        text="Uimahalli: milloin auki?",
        language="fi",
        posted_at=now - timedelta(days=1),
    )
    make_item(personas.outsider_account, author_handle="aino", text="Uimahalli toisaalla")


def test_words_and_filters_find_our_records_newest_first_and_page(personas, messages):
    alice = _api(personas.alice, personas.org)
    body = alice.get(SEARCH, {"q": "uimahalli", "limit": "2"}).json()
    assert body["count"] == 3 and body["capped"] is False
    assert [r["text"] for r in body["results"]] == [
        "Uimahalli: milloin auki?",
        "Uimahalli on kiinni tänään",
    ]
    assert body["results"][0]["kind"] == "inbox_item"
    rest = alice.get(body["next"]).json()
    assert [r["text"] for r in rest["results"]] == ["Uimahallin kassajono oli pitkä"]
    assert rest["next"] is None

    by_account = alice.get(SEARCH, {"q": "uimahalli", "account": str(personas.bob_account.pk)})
    assert by_account.json()["count"] == 2
    by_author = alice.get(SEARCH, {"q": "uimahalli", "author": "aino"}).json()
    assert [r["author"] for r in by_author["results"]] == ["aino", "aino"]
    recent = (timezone.localdate() - timedelta(days=7)).isoformat()
    by_date = alice.get(SEARCH, {"q": "uimahalli", "start": recent}).json()
    assert by_date["count"] == 2
    assert AuditEvent.objects.filter(action="records.searched").count() == 5
    event = AuditEvent.objects.filter(action="records.searched").latest("pk")
    assert event.new_values["text"] == "uimahalli" and event.new_values["results"] == 2


def test_bad_input_is_a_400_naming_the_field(personas, messages):
    alice = _api(personas.alice, personas.org)
    today = timezone.localdate()
    for params, field in (
        ({"start": today.isoformat(), "end": (today - timedelta(days=1)).isoformat()}, "end"),
        ({"account": personas.outsider_account.pk}, "account"),
        ({"start": "31.12.2026"}, "start"),
        ({"kind": "tweet"}, "kind"),
        ({"limit": 0}, "limit"),
        ({"q": "x" * 201}, "q"),
    ):
        response = alice.get(SEARCH, params)
        assert response.status_code == 400, params
        assert list(response.json()["errors"]) == [field]


def test_a_limited_auditor_an_editor_and_an_outsider(personas, messages):
    assert _api(personas.bob, personas.org).get(SEARCH, {"q": "uimahalli"}).status_code == 403
    charlie = _api(personas.charlie, personas.other_org).get(SEARCH, {"q": "uimahalli"})
    assert [r["text"] for r in charlie.json()["results"]] == ["Uimahalli toisaalla"]
    carol = _api(personas.carol, personas.org)
    assert carol.get(SEARCH, {"q": "uimahalli"}).json()["count"] == 3
    assert carol.post(EXPORT, {"q": "uimahalli"}).status_code == 403
    assert not RecordsExport.objects.exists()


def test_exporting_the_matches_gives_an_export_to_poll(
    personas, messages, django_capture_on_commit_callbacks
):
    alice = _api(personas.alice, personas.org)
    with django_capture_on_commit_callbacks(execute=False):
        response = alice.post(
            EXPORT,
            {"q": "uimahalli", "author": "aino", "reference": "FOI 2026/17"},
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    export = RecordsExport.objects.get()
    assert body["id"] == export.pk and body["status"] == "queued"
    assert body["reference"] == "FOI 2026/17" and body["record_types"] == ["archive"]
    assert export.search == {"text": "uimahalli", "author": "aino", "kinds": []}
    polled = alice.get(f"/api/v1/records-exports/{export.pk}/")
    assert polled.status_code == 200 and polled.json()["status"] == "queued"
    assert AuditEvent.objects.filter(action="records.export_requested").count() == 1
