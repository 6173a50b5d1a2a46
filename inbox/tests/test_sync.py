"""Sync: items come in once, in threads, with priorities and due times; failures are
handled by kind, and a sync that stopped part-way resumes from its cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.connectors.base import InboxPage, TransientError
from accounts.connectors.sandbox import SandboxConnector
from accounts.models import AccountStatus, ChannelAccount, SandboxPost
from governance.models import AuditEvent, Notification
from inbox.models import (
    InboxCursor,
    InboxItem,
    ItemKind,
    ItemStatus,
    Priority,
    PriorityWord,
    ResponsePolicy,
)
from inbox.selectors import channel_accounts_due_for_sync
from inbox.services import inbox_check_deleted, inbox_sync_account, priority_word_add
from inbox.tests.helpers import citizen_writes, publish_sandbox

HELSINKI = ZoneInfo("Europe/Helsinki")
FRIDAY_2PM = datetime(2025, 3, 14, 14, 0, tzinfo=HELSINKI)


def _fresh(account: ChannelAccount) -> ChannelAccount:
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def test_a_sync_brings_in_replies_mentions_and_messages(personas):
    account = personas.bob_account
    post = publish_sandbox(account, "The library opens on Monday.")
    citizen_writes(account, "Great, thanks!", reply_to=post)
    citizen_writes(account, "@city-news when does the pool open?", handle="erik.l")
    citizen_writes(account, "Can I ask something privately?", visibility="direct")

    result = inbox_sync_account(account=_fresh(account))

    assert (result.outcome, result.new_items) == ("synced", 3)
    items = {item.kind: item for item in InboxItem.objects.filter(channel_account=account)}
    assert set(items) == {ItemKind.REPLY, ItemKind.MENTION, ItemKind.DM}
    reply = items[ItemKind.REPLY]
    assert reply.thread_key == post  # the conversation under our post
    assert reply.in_reply_to_remote_id == post
    assert reply.status == ItemStatus.NEW
    assert reply.organization_id == personas.org.pk
    assert reply.sla_due_at is not None
    assert items[ItemKind.MENTION].thread_key == items[ItemKind.MENTION].remote_id


def test_resyncing_never_makes_duplicates(personas):
    account = personas.bob_account
    for number in range(5):
        citizen_writes(account, f"Question {number}")
    inbox_sync_account(account=_fresh(account))
    again = inbox_sync_account(account=_fresh(account))
    assert again.new_items == 0
    # Even from the very beginning (a lost cursor), nothing is copied twice.
    InboxCursor.objects.filter(channel_account=account).update(cursor=None)
    from_scratch = inbox_sync_account(account=_fresh(account))
    assert from_scratch.new_items == 0
    assert InboxItem.objects.filter(channel_account=account).count() == 5


def test_a_failed_page_resumes_from_its_cursor(personas, monkeypatch):
    account = personas.bob_account
    for number in range(90):  # three pages of 40
        citizen_writes(account, f"Message {number}")
    original = SandboxConnector.fetch_inbox
    cursors: list[str | None] = []

    def second_page_fails(self, account, cursor=None):
        cursors.append(cursor)
        if len(cursors) == 2:
            raise TransientError(detail="connection reset")
        return original(self, account, cursor)

    monkeypatch.setattr(SandboxConnector, "fetch_inbox", second_page_fails)
    with time_machine.travel(FRIDAY_2PM, tick=False):
        failed = inbox_sync_account(account=_fresh(account))
        assert (failed.outcome, failed.new_items) == ("failed", 40)
        cursor = InboxCursor.objects.get(channel_account=account)
        after_first_page = cursor.cursor
        assert after_first_page is not None
        assert cursor.failures == 1
        assert cursor.next_sync_at == timezone.now() + timedelta(minutes=1)
        assert inbox_sync_account(account=_fresh(account)).outcome == "deferred"

    with time_machine.travel(FRIDAY_2PM + timedelta(minutes=2), tick=False):
        resumed = inbox_sync_account(account=_fresh(account))

    assert (resumed.outcome, resumed.new_items) == ("synced", 50)
    assert cursors[2] == after_first_page  # picked up where the first run stopped
    assert InboxItem.objects.filter(channel_account=account).count() == 90
    assert InboxCursor.objects.get(channel_account=account).failures == 0


def test_a_rate_limit_is_waited_out(personas):
    account = personas.bob_account
    account.credentials = {"sandbox_fail_mode": "rate_limited"}
    account.save()
    with time_machine.travel(FRIDAY_2PM, tick=False):
        result = inbox_sync_account(account=_fresh(account))
        assert result.outcome == "rate_limited"
        cursor = InboxCursor.objects.get(channel_account=account)
        assert cursor.next_sync_at == timezone.now() + timedelta(seconds=60)
        assert account not in channel_accounts_due_for_sync()
        assert inbox_sync_account(account=_fresh(account)).outcome == "deferred"
    with time_machine.travel(FRIDAY_2PM + timedelta(seconds=61), tick=False):
        assert account in channel_accounts_due_for_sync()


def test_a_refused_sign_in_marks_the_account_for_reconnecting(personas):
    account = personas.bob_account
    account.credentials = {"sandbox_fail_mode": "auth"}
    account.save()
    result = inbox_sync_account(account=_fresh(account))
    assert result.outcome == "auth_failed"
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert Notification.objects.filter(user=personas.alice, kind="account.needs_reconnect").exists()
    assert account not in channel_accounts_due_for_sync()
    assert inbox_sync_account(account=_fresh(account)).outcome == "inactive"


def test_a_second_worker_finds_the_account_taken(personas):
    account = personas.bob_account
    citizen_writes(account, "Hello")
    InboxCursor.objects.create(
        channel_account=account, leased_until=timezone.now() + timedelta(minutes=1)
    )
    assert inbox_sync_account(account=_fresh(account)).outcome == "busy"
    assert not InboxItem.objects.exists()


def test_watch_words_raise_priority_and_shorten_the_due_time(personas):
    account = personas.bob_account
    PriorityWord.objects.create(
        organization=personas.org, word="tulva", match_prefix=True, level=Priority.URGENT
    )
    ResponsePolicy.objects.create(
        organization=personas.org, target_hours=8, high_priority_target_hours=1
    )
    with time_machine.travel(FRIDAY_2PM, tick=False):
        citizen_writes(account, "Tulvan takia tie on poikki!")
        citizen_writes(account, "Kiitos tiedosta")
        inbox_sync_account(account=_fresh(account))
    urgent = InboxItem.objects.get(text__startswith="Tulvan")
    normal = InboxItem.objects.get(text="Kiitos tiedosta")
    assert (urgent.priority, urgent.matched_words) == (Priority.URGENT, ["tulva"])
    assert urgent.sla_due_at == FRIDAY_2PM + timedelta(hours=1)
    assert normal.priority == Priority.NORMAL
    # Friday 14:00 plus one working day (8-16) is Monday 14:00.
    assert normal.sla_due_at == datetime(2025, 3, 17, 12, 0, tzinfo=UTC)


def test_watch_words_in_a_language_beyond_the_interface_still_match(personas):
    account = personas.bob_account
    membership = personas.alice.memberships.get(organization=personas.org)
    priority_word_add(
        membership=membership,
        actor=personas.alice,
        word="dulvi",
        language="se",
        match_prefix=True,
        level=Priority.HIGH,
    )
    citizen_writes(account, "Dulviid dihte geaidnu lea giddejuvvon")
    citizen_writes(account, "Giitu")
    inbox_sync_account(account=_fresh(account))
    flagged = InboxItem.objects.get(text__startswith="Dulviid")
    assert (flagged.priority, flagged.matched_words) == (Priority.HIGH, ["dulvi"])
    assert InboxItem.objects.get(text="Giitu").priority == Priority.NORMAL


def test_an_item_deleted_on_the_network_stays_marked(personas):
    account = personas.bob_account
    post = citizen_writes(account, "Something I regret")
    inbox_sync_account(account=_fresh(account))
    SandboxPost.objects.filter(pk=post.pk).update(deleted_at=timezone.now())

    assert inbox_check_deleted(account=_fresh(account)) == 1
    item = InboxItem.objects.get(remote_id=post.remote_id)
    assert item.deleted_on_network_at is not None
    assert item.text == "Something I regret"  # kept for the records
    assert AuditEvent.objects.filter(action="inbox_item.deleted_on_network").count() == 1
    # A later sync or check changes nothing.
    inbox_sync_account(account=_fresh(account))
    assert inbox_check_deleted(account=_fresh(account)) == 0
    assert InboxItem.objects.filter(remote_id=post.remote_id).count() == 1


def test_answers_to_answers_stay_in_one_thread(personas):
    account = personas.bob_account
    post = publish_sandbox(account, "Road works on Main Street next week.")
    first = citizen_writes(account, "How long?", reply_to=post)
    inbox_sync_account(account=_fresh(account))
    citizen_writes(account, "Same question!", handle="erik.l", reply_to=first.remote_id)
    inbox_sync_account(account=_fresh(account))
    keys = set(
        InboxItem.objects.filter(channel_account=account).values_list("thread_key", flat=True)
    )
    assert keys == {post}


@pytest.mark.parametrize("status", [AccountStatus.PAUSED, AccountStatus.DISCONNECTED])
def test_accounts_not_in_use_are_not_synced(personas, status):
    account = personas.bob_account
    account.status = status
    account.save()
    assert inbox_sync_account(account=_fresh(account)).outcome == "inactive"
    assert account not in channel_accounts_due_for_sync()


def test_pages_come_oldest_first_and_the_cursor_moves_with_them(personas, monkeypatch):
    account = personas.bob_account
    citizen_writes(account, "One")
    pages: list[InboxPage] = []
    original = SandboxConnector.fetch_inbox

    def recording(self, account, cursor=None):
        page = original(self, account, cursor)
        pages.append(page)
        return page

    monkeypatch.setattr(SandboxConnector, "fetch_inbox", recording)
    inbox_sync_account(account=_fresh(account))
    assert InboxCursor.objects.get(channel_account=account).cursor == pages[-1].next_cursor
