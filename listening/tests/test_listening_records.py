"""Listening in governance's records: the posts our watches found and the
misinformation cases are record types, exported and disposed of like the others."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from governance.providers import HoldScope, records_provider
from governance.services.records import records_export_build, records_export_request
from listening.models import CaseReach, CaseStatus, ListeningPost, MisinformationCase, Watch

pytestmark = pytest.mark.django_db


def _watch(organization, name: str = "Uimahalli") -> Watch:
    return Watch.objects.create(
        organization=organization, name=name, terms=["uimahalli"], excluded_terms=["sauna"]
    )


def _found(watch: Watch, account, *, days_ago: int, text: str, **extra) -> ListeningPost:
    return ListeningPost.objects.create(
        organization=watch.organization,
        watch=watch,
        channel_account=account,
        network=account.network,
        remote_id=f"r-{text}",
        canonical_key=f"r-{text}",
        url=f"https://social.example/@aino/{text}",
        author_handle="@aino@social.example",
        author_name="Aino",
        text=text,
        posted_at=timezone.now() - timedelta(days=days_ago),
        matched_terms=["uimahalli"],
        **extra,
    )


def test_found_posts_are_a_record_type_with_their_watch(personas):
    provider = records_provider("listening_posts")
    assert provider is not None
    watch = _watch(personas.org)
    _found(watch, personas.bob_account, days_ago=2, text="Uimahalli suljettu")
    _found(watch, personas.other_account, days_ago=40, text="Uimahalli auki")
    _found(
        _watch(personas.outsider_account.organization),
        personas.outsider_account,
        days_ago=1,
        text="Muu",
    )

    assert provider.count_records(personas.org, [], None, None) == 2
    assert provider.count_records(personas.org, [personas.bob_account.pk], None, None) == 1
    since = timezone.now() - timedelta(days=10)
    assert provider.count_records(personas.org, [], since, None) == 1
    records = list(provider.iter_records(personas.org, [], None, None))
    assert [r.data["text"] for r in records] == ["Uimahalli auki", "Uimahalli suljettu"]
    assert records[1].data["watch"] == "Uimahalli"
    assert records[1].data["watch_terms"] == ["uimahalli"]
    assert records[1].data["author"] == "@aino@social.example"
    assert records[1].data["found_through"] == personas.bob_account.handle


def test_found_posts_are_disposed_of_unless_held(personas):
    provider = records_provider("listening_posts")
    assert provider is not None
    watch = _watch(personas.org)
    held = _found(watch, personas.bob_account, days_ago=400, text="pidetty")
    old = _found(watch, personas.other_account, days_ago=400, text="vanha")
    recent = _found(watch, personas.other_account, days_ago=3, text="uusi")
    cutoff = timezone.now() - timedelta(days=365)
    hold = HoldScope(hold_id=1, account_ids=frozenset({personas.bob_account.pk}))

    dry = provider.dispose(personas.org, cutoff, [hold], action="anonymize", dry_run=True)
    assert (dry.removed, dry.held) == (1, 1)
    assert ListeningPost.objects.get(pk=old.pk).author_handle == "@aino@social.example"

    provider.dispose(personas.org, cutoff, [hold], action="anonymize", dry_run=False)
    old.refresh_from_db()
    assert (old.author_handle, old.author_name, old.url, old.text) == ("", "", "", "vanha")
    # Done once: anonymizing again finds nothing left to do.
    again = provider.dispose(personas.org, cutoff, [hold], action="anonymize", dry_run=False)
    assert again.removed == 0

    result = provider.dispose(personas.org, cutoff, [hold], action="delete", dry_run=False)
    assert result.ids == [str(old.pk)]
    assert set(ListeningPost.objects.values_list("pk", flat=True)) == {held.pk, recent.pk}


def test_misinformation_cases_go_with_their_posts_and_reach(personas):
    provider = records_provider("misinformation_cases")
    assert provider is not None
    watch = _watch(personas.org)
    case = MisinformationCase.objects.create(
        organization=personas.org,
        watch=watch,
        claim="The pool water is unsafe",
        correction_url="https://social.example/@city/1",
        status=CaseStatus.CLOSED,
        closing_note="Corrected.",
        opened_by=personas.alice,
        closed_by=personas.bob,
        closed_at=timezone.now(),
    )
    _found(watch, personas.bob_account, days_ago=1, text="Vesi on vaarallista", case=case)
    CaseReach.objects.create(case=case, posts=1, engagement=12)
    MisinformationCase.objects.create(organization=personas.org, claim="Another claim")

    assert provider.count_records(personas.org, [], None, None) == 2
    assert provider.count_records(personas.org, [personas.bob_account.pk], None, None) == 1
    assert provider.count_records(personas.org, [personas.other_account.pk], None, None) == 0
    (record,) = provider.iter_records(personas.org, [personas.bob_account.pk], None, None)
    assert record.data["claim"] == "The pool water is unsafe"
    assert record.data["opened_by"] == "alice@example.org"
    assert record.data["closed_by"] == "bob@example.org"
    assert [p["text"] for p in record.data["posts"]] == ["Vesi on vaarallista"]
    assert [(r["posts"], r["engagement"]) for r in record.data["reach"]] == [(1, 12)]

    later = timezone.now() + timedelta(days=1)
    provider.dispose(personas.org, later, [], action="anonymize", dry_run=False)
    case.refresh_from_db()
    assert (case.opened_by, case.closed_by, case.claim) == (None, None, "The pool water is unsafe")
    provider.dispose(personas.org, later, [], action="delete", dry_run=False)
    assert not MisinformationCase.objects.exists()
    assert ListeningPost.objects.get().case is None


def test_a_records_export_holds_the_listening_records(personas, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    watch = _watch(personas.org)
    _found(watch, personas.bob_account, days_ago=1, text="Uimahalli remontissa")
    export = records_export_request(
        organization=personas.org,
        actor=personas.alice,
        record_types=["listening_posts", "misinformation_cases"],
        reference="FOI 2026/5",
        enqueue=lambda pk: None,
    )
    assert records_export_build(export_id=export.pk) == "ready"
    export.refresh_from_db()
    with zipfile.ZipFile(export.file.open("rb")) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        posts = json.loads(archive.read("listening_posts/records.json"))
    assert manifest["record_counts"] == {"listening_posts": 1, "misinformation_cases": 0}
    assert [p["text"] for p in posts] == ["Uimahalli remontissa"]
