"""What the inbox tells governance: items a leaving person holds, and inbox records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.models import AuditEvent, Notification, Role
from governance.providers import HoldScope, handover_provider, records_provider
from inbox.models import InboxItem, InboxNote, ItemStatus, Reply, ReplyStatus
from inbox.tests.helpers import make_item
from inbox.text import SIGNATURE_DASH as DASH
from tests.factories import MembershipFactory, UserFactory


def test_the_handover_lists_open_items_assigned_to_the_person(personas):
    provider = handover_provider("inbox.assigned")
    assert provider is not None
    open_item = make_item(
        personas.bob_account,
        assignee=personas.bob,
        status=ItemStatus.ASSIGNED,
        author_name="Aino",
        sla_due_at=timezone.now() + timedelta(hours=3),
    )
    make_item(personas.bob_account, assignee=personas.bob, status=ItemStatus.CLOSED)
    make_item(personas.bob_account)
    held = provider.items_held_by(personas.membership(personas.bob))
    assert [(h.object_type, h.object_id) for h in held] == [("inbox.inboxitem", str(open_item.pk))]
    assert held[0].label == "Message from Aino"
    assert held[0].link == f"/inbox/{open_item.pk}/"
    assert "answer by" in held[0].detail


def test_the_handover_gives_the_items_to_someone_who_may_answer_them(personas):
    provider = handover_provider("inbox.assigned")
    assert provider is not None
    item = make_item(personas.bob_account, assignee=personas.bob, status=ItemStatus.ASSIGNED)
    bob, alice = personas.membership(personas.bob), personas.membership(personas.alice)
    with pytest.raises(ValidationError):
        provider.reassign(
            [str(item.pk)], personas.membership(personas.carol), personas.alice, previous_holder=bob
        )  # an auditor cannot answer
    limited = MembershipFactory.create(
        organization=personas.org, user=UserFactory.create(), role=Role.EDITOR, all_accounts=False
    )
    with pytest.raises(ValidationError):
        provider.reassign([str(item.pk)], limited, personas.alice, previous_holder=bob)
    provider.reassign([str(item.pk)], alice, personas.alice, previous_holder=bob)
    item.refresh_from_db()
    assert item.assignee == personas.alice
    event = AuditEvent.objects.get(action="inbox_item.assigned")
    assert event.new_values["reason"] == "handover"
    assert Notification.objects.filter(user=personas.alice, kind="inbox.assigned").exists()


def test_inbox_items_are_a_record_type_with_their_replies(personas):
    provider = records_provider("inbox_items")
    assert provider is not None
    old = make_item(
        personas.bob_account,
        posted_at=timezone.now() - timedelta(days=400),
        author_name="Old Citizen",
        text="Old question",
    )
    Reply.objects.create(
        organization=personas.org,
        item=old,
        channel_account=personas.bob_account,
        author=personas.bob,
        body="Answer",
        text=f"Answer {DASH} Bob",
        status=ReplyStatus.SENT,
    )
    make_item(personas.other_account, posted_at=timezone.now() - timedelta(days=1))
    make_item(personas.outsider_account)
    assert provider.count_records(personas.org, [], None, None) == 2
    assert provider.count_records(personas.org, [personas.bob_account.pk], None, None) == 1
    records = list(provider.iter_records(personas.org, [personas.bob_account.pk], None, None))
    assert records[0].data["text"] == "Old question"
    assert records[0].data["replies"][0]["text"] == f"Answer {DASH} Bob"
    assert records[0].data["replies"][0]["author"] == "bob@example.org"


def test_an_items_internal_notes_go_with_its_records(personas):
    provider = records_provider("inbox_items")
    assert provider is not None
    item = make_item(personas.bob_account, text="Question")
    InboxNote.objects.create(
        organization=personas.org, item=item, author=personas.bob, body="Checked with roads."
    )
    (record,) = provider.iter_records(personas.org, [], None, None)
    assert record.data["internal_notes"] == [
        {
            "author": "bob@example.org",
            "text": "Checked with roads.",
            "created_at": record.data["internal_notes"][0]["created_at"],
        }
    ]
    assert record.data["internal_notes"][0]["created_at"].startswith(str(timezone.now().year))


def test_disposal_spares_held_items_and_can_anonymize(personas):
    provider = records_provider("inbox_items")
    assert provider is not None
    cutoff = timezone.now() - timedelta(days=365)
    held_item = make_item(personas.bob_account, posted_at=cutoff - timedelta(days=10))
    free_item = make_item(
        personas.other_account,
        posted_at=cutoff - timedelta(days=10),
        author_name="Someone",
        author_handle="someone",
    )
    Reply.objects.create(
        organization=personas.org,
        item=free_item,
        channel_account=personas.other_account,
        author=personas.alice,
        body="x",
        text="x",
        status=ReplyStatus.SENT,
    )
    make_item(personas.other_account, posted_at=timezone.now())
    hold = HoldScope(hold_id=1, account_ids=frozenset({personas.bob_account.pk}))

    dry = provider.dispose(personas.org, cutoff, [hold], action="anonymize", dry_run=True)
    assert (dry.removed, dry.held) == (1, 1)
    free_item.refresh_from_db()
    assert free_item.author_handle == "someone"

    done = provider.dispose(personas.org, cutoff, [hold], action="anonymize", dry_run=False)
    assert done.ids == [str(free_item.pk)]
    free_item.refresh_from_db()
    assert (free_item.author_handle, free_item.author_name) == ("", "")
    assert free_item.author_label == "someone (name removed)"
    assert Reply.objects.get(item=free_item).author is None
    again = provider.dispose(personas.org, cutoff, [hold], action="anonymize", dry_run=False)
    assert again.removed == 0

    deleted = provider.dispose(personas.org, cutoff, [hold], action="delete", dry_run=False)
    assert deleted.removed == 1
    assert not InboxItem.objects.filter(pk=free_item.pk).exists()
    assert InboxItem.objects.filter(pk=held_item.pk).exists()
    assert not Reply.objects.exists()
