"""The inbox against the Mastodon test server (``mastodon_server``): mentions paged
through ``Link`` headers, a direct-message conversation answered from the inbox, and
the network's failures (rate limit, revoked token, deleted status) handled by kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus, ChannelAccount
from inbox.models import InboxCursor, InboxItem, ItemKind, ItemStatus, Reply, ReplyStatus
from inbox.services import inbox_check_deleted, inbox_sync_account
from inbox.text import SIGNATURE_DASH as DASH
from tests.factories import ChannelAccountFactory
from tests.mastodon_server.server import MastodonTestServer


def _account(server: MastodonTestServer, personas) -> ChannelAccount:
    account = ChannelAccountFactory.create(
        organization=personas.org,
        network="mastodon",
        handle="@comms@social.example",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
    )
    account.limited_members.add(personas.membership(personas.bob))
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def _min_ids(server: MastodonTestServer) -> list[str | None]:
    cursors: list[str | None] = []
    for request in server.requests_to("GET", "/api/v1/notifications"):
        values = request.query.get("min_id")
        cursors.append(values[0] if values else None)
    return cursors


def test_mentions_are_read_page_by_page_through_link_headers(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    citizen = server.create_account("aino", "Aino Virtanen")
    server.post_as(citizen, "@comms hello", mention=server.user)
    first = inbox_sync_account(account=account)
    assert (first.outcome, first.new_items) == ("synced", 1)

    for number in range(95):
        server.post_as(citizen, f"@comms question {number}", mention=server.user)
    second = inbox_sync_account(account=account)

    assert (second.outcome, second.pages, second.new_items) == ("synced", 3, 95)
    texts = list(
        InboxItem.objects.filter(channel_account=account)
        .order_by("posted_at", "pk")
        .values_list("text", flat=True)
    )
    assert texts[0] == "@comms hello" and texts[-1] == "@comms question 94"
    assert len(texts) == 96
    # Each page asked for what came after the previous page's newest (the Link "prev").
    cursors = _min_ids(server)
    assert cursors[0] is None and len(set(cursors[1:])) == 3
    newest = max(
        int(i.raw["notification_id"]) for i in InboxItem.objects.filter(channel_account=account)
    )
    assert InboxCursor.objects.get(channel_account=account).cursor == str(newest)
    again = inbox_sync_account(account=account)
    assert (again.outcome, again.new_items) == ("synced", 0)
    assert InboxItem.objects.filter(channel_account=account).count() == 96
    item = InboxItem.objects.get(text="@comms question 3")
    assert (item.kind, item.author_handle, item.author_name) == (
        ItemKind.MENTION,
        "@aino@social.example",
        "Aino Virtanen",
    )


def test_a_burst_after_an_empty_first_sync_is_read_in_full(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    first = inbox_sync_account(account=account)
    assert (first.outcome, first.new_items) == ("synced", 0)
    assert InboxCursor.objects.get(channel_account=account).cursor

    citizen = server.create_account("aino", "Aino Virtanen")
    for number in range(100):
        server.post_as(citizen, f"@comms question {number}", mention=server.user)
    second = inbox_sync_account(account=account)

    assert (second.outcome, second.new_items) == ("synced", 100)
    texts = set(InboxItem.objects.filter(channel_account=account).values_list("text", flat=True))
    assert texts == {f"@comms question {number}" for number in range(100)}


def test_a_direct_message_conversation_is_answered_and_continues(
    mastodon_server, personas, client, login
):
    server = mastodon_server
    account = _account(server, personas)
    citizen = server.create_account("erik", "Erik Lindqvist")
    question = server.post_as(
        citizen,
        "@comms Can I ask about my application privately?",
        mention=server.user,
        visibility="direct",
    )
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=question.id)
    assert item.kind == ItemKind.DM

    login(client, personas.bob)
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "only its author will see it" in body
    client.post(f"/inbox/{item.pk}/reply/", {"body": "Of course, please tell us the number."})

    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT, reply.error_message
    sent = server.statuses[reply.remote_id]
    assert sent.visibility == "direct"
    assert sent.in_reply_to_id == question.id
    # A direct status reaches only those it mentions: the author is addressed.
    assert sent.text == f"@erik@social.example Of course, please tell us the number.\n\n{DASH} Bob"
    # The Idempotency-Key was the reply's own.
    create = server.requests_to("POST", "/api/v1/statuses")[-1]
    assert create.headers["Idempotency-Key"] == str(reply.idempotency_key)

    follow_up = server.post_as(
        citizen, "@comms It is 2025-117.", in_reply_to=sent.id, visibility="direct"
    )
    assert inbox_sync_account(account=account).new_items == 1
    next_item = InboxItem.objects.get(remote_id=follow_up.id)
    assert next_item.kind == ItemKind.DM
    assert next_item.thread_key == item.thread_key == question.id
    page = client.get(f"/inbox/{next_item.pk}/").content.decode()
    thread = page[page.index('class="inbox-thread"') :]
    assert thread.index("privately") < thread.index("please tell us") < thread.index("2025-117")
    assert "Our earlier reply" in page
    item.refresh_from_db()
    assert item.status == ItemStatus.ANSWERED


def test_a_rate_limit_defers_the_next_sync(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    server.rate_limit = 1
    citizen = server.create_account("aino")
    server.post_as(citizen, "@comms hi", mention=server.user)
    # Windows are aligned to the clock (five minutes): start just after one opens.
    now = timezone.now()
    start = now - timedelta(seconds=now.timestamp() % 300) + timedelta(minutes=5, seconds=1)
    with time_machine.travel(start, tick=False):
        inbox_sync_account(account=account)  # uses the one allowed request
        server.post_as(citizen, "@comms again", mention=server.user)
        result = inbox_sync_account(account=account)
        assert result.outcome == "rate_limited"
        cursor = InboxCursor.objects.get(channel_account=account)
        assert cursor.next_sync_at is not None
        assert cursor.next_sync_at > timezone.now() + timedelta(minutes=4)
        assert cursor.last_error_kind == "rate_limited"
        assert inbox_sync_account(account=account).outcome == "deferred"


def test_a_revoked_token_asks_for_a_reconnect(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    for token in server.tokens.values():
        token.revoked = True
    assert inbox_sync_account(account=account).outcome == "auth_failed"
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT


def test_a_deleted_status_is_marked_not_removed(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    citizen = server.create_account("aino")
    status = server.post_as(citizen, "@comms rumour", mention=server.user)
    kept = server.post_as(citizen, "@comms fact", mention=server.user)
    inbox_sync_account(account=account)
    status.deleted = True
    assert inbox_check_deleted(account=account) == 1
    assert InboxItem.objects.get(remote_id=status.id).deleted_on_network_at is not None
    assert InboxItem.objects.get(remote_id=kept.id).deleted_on_network_at is None


def test_answering_a_status_deleted_meanwhile_marks_it(mastodon_server, personas, login):
    server = mastodon_server
    account = _account(server, personas)
    citizen = server.create_account("aino")
    status = server.post_as(citizen, "@comms question", mention=server.user)
    inbox_sync_account(account=account)
    status.deleted = True
    item = InboxItem.objects.get(remote_id=status.id)
    client = Client()
    login(client, personas.alice)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "Answer"})
    assert Reply.objects.get().status == ReplyStatus.FAILED
    item.refresh_from_db()
    assert item.deleted_on_network_at is not None


def test_a_first_private_message_from_a_stranger_reaches_the_inbox(
    mastodon_server, personas, client, login
):
    """Mastodon's default policy filters it (the account does not follow the citizen);
    it is read all the same, and the cursor never passes over it."""
    server = mastodon_server
    account = _account(server, personas)
    inbox_sync_account(account=account)
    citizen = server.create_account("aino", "")
    limited = server.create_account("promo", "Promo", silenced=True)
    server.post_as(citizen, "@comms my street light is broken", visibility="direct")
    server.post_as(limited, "@comms great deals")
    server.post_as(citizen, "@comms also posting publicly")
    assert len(server.notification_requests) == 2

    result = inbox_sync_account(account=account)

    assert (result.outcome, result.new_items) == ("synced", 3)
    dm = InboxItem.objects.get(text="@comms my street light is broken")
    assert (dm.kind, dm.author_name, dm.raw["filtered"]) == (ItemKind.DM, "aino", True)
    assert InboxItem.objects.get(text="@comms great deals").raw["filtered"] is True
    login(client, personas.bob)
    page = client.get(f"/inbox/{dm.pk}/").content.decode()
    assert "Filtered by the network" in page
    public = InboxItem.objects.get(text="@comms also posting publicly")
    assert "Filtered by the network" not in client.get(f"/inbox/{public.pk}/").content.decode()
    # Accepting the request on Mastodon later brings no second copy.
    server.notification_requests.clear()
    for note in server.notifications.values():
        note.filtered = False
    assert inbox_sync_account(account=account).new_items == 0


@pytest.mark.parametrize("domain", ["other.example", None])
def test_an_unconfirmed_reply_opening_with_a_full_mention_is_found_not_sent_twice(
    mastodon_server, personas, client, login, monkeypatch, domain
):
    server = mastodon_server
    account = _account(server, personas)
    citizen = server.create_account("erik", "Erik", domain=domain)
    question = server.post_as(citizen, "@comms Where do I vote?", visibility="direct")
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=question.id)
    assert item.author_handle == f"@erik@{domain or 'social.example'}"

    login(client, personas.bob)
    connector = get_connector("mastodon")
    monkeypatch.setattr(connector, "timeout", (2.0, 0.3))
    server.hang(method="POST", path_prefix="/api/v1/statuses", after_processing=True)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "At the library."})
    server.release()
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.UNKNOWN
    (sent,) = server.statuses_of(server.user)
    assert sent.text.startswith(f"@erik@{domain or 'social.example'} At the library.")

    # Past the server's idempotency window, only a look-up can tell it went out.
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        client.post(f"/inbox/replies/{reply.pk}/retry/")
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    assert reply.remote_id == sent.id
    assert len(server.statuses_of(server.user)) == 1


def test_a_quote_of_our_post_reads_clean_and_links_the_quoted_post(
    mastodon_server, personas, client, login
):
    server = mastodon_server
    account = _account(server, personas)
    ours = server.post_as(server.user, "Swimming hall opens on Monday.")
    inbox_sync_account(account=account)
    citizen = server.create_account("aino", "Aino")
    quote = server.post_as(citizen, "Finally, good news!", quote=ours)
    assert inbox_sync_account(account=account).new_items == 1

    item = InboxItem.objects.get(remote_id=quote.id)
    assert (item.kind, item.text) == (ItemKind.QUOTE, "Finally, good news!")
    assert item.in_reply_to_remote_id == ours.id
    login(client, personas.bob)
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "RE:" not in page
    link = f'<a href="https://social.example/@comms/{ours.id}" rel="noopener noreferrer">'
    assert link + "Open the quoted post" in page
