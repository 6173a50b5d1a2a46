"""The archive under records management: retention rules dispose of archived posts
(with their versions, comments and search entries) unless a legal hold covers them;
anonymizing removes who wrote the comments and keeps the words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.services.records import legal_hold_place, records_dispose, retention_rule_save
from inbox.models import ArchivedComment, ArchivedPost, ArchivedPostVersion, RecordEntry
from inbox.services.archive import _comment_entry as comment_entry
from inbox.services.archive import records_entries_upsert

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
