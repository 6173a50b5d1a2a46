"""The archive under records management: retention rules dispose of archived posts
(with their versions, comments and search entries) unless a legal hold covers them;
anonymizing removes who wrote the comments and keeps the words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from archive.models import (
    ArchivedComment,
    ArchivedPost,
    ArchivedPostVersion,
    RecordEntry,
    RecordKind,
)
from archive.services.archive import _comment_entry as comment_entry
from archive.services.archive import records_entries_upsert, records_index_inbox
from governance.providers import records_provider
from governance.services.records import legal_hold_place, records_dispose, retention_rule_save
from inbox.models import Reply, ReplyStatus
from inbox.tests.helpers import make_item

pytestmark = pytest.mark.django_db


def _post(personas, account, *, days_ago: int, text: str) -> ArchivedPost:
    when = timezone.now() - timedelta(days=days_ago)
    post = ArchivedPost.objects.create(
        organization=personas.org,
        channel_account=account,
        network=account.network,
        remote_id=f"p-{text}",
        text=text,
        posted_at=when,
    )
    ArchivedPostVersion.objects.create(
        organization=personas.org, post=post, text=text, valid_from=when, version_key=text
    )
    comment = ArchivedComment.objects.create(
        organization=personas.org,
        channel_account=account,
        post=post,
        remote_id=f"c-{text}",
        author_handle="@aino@social.example",
        author_name="Aino",
        text=f"Vastaus: {text}",
        posted_at=when,
    )
    records_entries_upsert([comment_entry(comment)])
    return post


def test_old_archived_posts_are_deleted_unless_held(personas):
    old = _post(personas, personas.bob_account, days_ago=400, text="vanha")
    held = _post(personas, personas.other_account, days_ago=400, text="pidetty")
    recent = _post(personas, personas.bob_account, days_ago=10, text="uusi")
    retention_rule_save(
        organization=personas.org,
        actor=personas.alice,
        record_type="archive",
        keep_for_days=365,
        action="delete",
    )
    legal_hold_place(
        organization=personas.org,
        actor=personas.alice,
        name="Case 17",
        reason="Court case",
        record_types=["archive"],
        account_ids=[personas.other_account.pk],
    )

    [outcome] = [
        o for o in records_dispose(organization=personas.org) if o.record_type == "archive"
    ]

    assert (outcome.removed, outcome.held) == (1, 1)
    assert not ArchivedPost.objects.filter(pk=old.pk).exists()
    assert not ArchivedComment.objects.filter(remote_id="c-vanha").exists()
    assert not RecordEntry.objects.filter(text="Vastaus: vanha").exists()
    assert ArchivedPost.objects.filter(pk__in=[held.pk, recent.pk]).count() == 2


def test_anonymizing_keeps_the_words_of_comments(personas):
    _post(personas, personas.bob_account, days_ago=400, text="vanha")
    retention_rule_save(
        organization=personas.org,
        actor=personas.alice,
        record_type="archive",
        keep_for_days=365,
        action="anonymize",
    )
    records_dispose(organization=personas.org)
    comment = ArchivedComment.objects.get(remote_id="c-vanha")
    assert (comment.author_handle, comment.author_name, comment.text) == ("", "", "Vastaus: vanha")
    assert RecordEntry.objects.get(text="Vastaus: vanha").author == ""


def test_disposed_inbox_items_leave_the_records_search(personas):
    """The inbox disposes of its items; the records search (a layer above) follows."""
    old = timezone.now() - timedelta(days=400)
    gone = make_item(personas.bob_account, posted_at=old, author_name="Aino", text="Katu on rikki")
    kept = make_item(personas.bob_account, posted_at=timezone.now(), text="Uusi viesti")
    reply = Reply.objects.create(
        organization=personas.org,
        item=gone,
        channel_account=personas.bob_account,
        author=personas.bob,
        body="Korjataan",
        text="Korjataan",
        status=ReplyStatus.SENT,
    )
    records_index_inbox()
    assert RecordEntry.objects.filter(kind=RecordKind.REPLY, object_id=reply.pk).exists()
    provider = records_provider("inbox_items")
    assert provider is not None
    cutoff = timezone.now() - timedelta(days=365)

    provider.dispose(personas.org, cutoff, [], action="anonymize", dry_run=False)
    entry = RecordEntry.objects.get(kind=RecordKind.INBOX_ITEM, object_id=gone.pk)
    assert (entry.author, entry.text) == ("", "Katu on rikki")

    provider.dispose(personas.org, cutoff, [], action="delete", dry_run=False)
    assert not RecordEntry.objects.filter(kind=RecordKind.INBOX_ITEM, object_id=gone.pk).exists()
    assert not RecordEntry.objects.filter(kind=RecordKind.REPLY, object_id=reply.pk).exists()
    assert RecordEntry.objects.filter(kind=RecordKind.INBOX_ITEM, object_id=kept.pk).exists()
