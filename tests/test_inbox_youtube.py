"""Comments on the channel's YouTube videos come into the inbox, are answered from it
(``comments.insert`` under the comment), hidden (held for review) and deleted, against
the local YouTube server; every request is checked against the discovery document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from accounts.connectors.registry import get_connector
from inbox.models import InboxItem, ItemKind, ReplyStatus
from inbox.services import inbox_sync_account
from inbox.services.moderation import inbox_item_moderate
from inbox.services.replies import inbox_reply_create
from tests.youtube_server.helpers import assert_requests_are_documented, connect


@pytest.fixture
def connector():
    from django.core.cache import cache

    cache.clear()
    return get_connector("youtube")


def test_comments_are_read_answered_hidden_and_deleted(personas, youtube_server, connector):
    account = connect(personas, youtube_server, connector)
    now = datetime.now(tz=UTC)
    first = youtube_server.add_comment(
        "vid1", "aino_v", "Milloin kirjasto aukeaa?", now - timedelta(minutes=5)
    )
    youtube_server.add_comment("vid1", "troll", "roskaa", now - timedelta(minutes=4))

    result = inbox_sync_account(account=account)
    assert result.new_items == 2
    item = InboxItem.objects.get(channel_account=account, remote_id=first.id)
    assert item.kind == ItemKind.REPLY
    assert item.author_handle == "@aino_v"
    assert item.text == "Milloin kirjasto aukeaa?"
    # A second sync reads only what is new.
    later = youtube_server.add_comment("vid1", "matti", "Kiitos!", now - timedelta(minutes=1))
    assert inbox_sync_account(account=account).new_items == 1
    assert InboxItem.objects.filter(channel_account=account, remote_id=later.id).exists()

    alice = personas.membership(personas.alice)
    reply = inbox_reply_create(
        item=item, body="Maanantaina klo 9.", actor=personas.alice, membership=alice
    )
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    answer = youtube_server.comments[reply.remote_id]
    assert answer.parent_id == first.id and answer.text.startswith("Maanantaina klo 9.")
    sent = json.loads(youtube_server.requests_to("POST", "/youtube/v3/comments")[-1].body)
    assert sent["snippet"]["parentId"] == first.id

    troll = InboxItem.objects.get(channel_account=account, author_handle="@troll")
    inbox_item_moderate(item=troll, action="hide", actor=personas.alice, membership=alice)
    assert youtube_server.comments[troll.remote_id].moderation_status == "heldForReview"
    inbox_item_moderate(item=troll, action="unhide", actor=personas.alice, membership=alice)
    assert youtube_server.comments[troll.remote_id].moderation_status == "published"
    inbox_item_moderate(item=troll, action="delete", actor=personas.alice, membership=alice)
    assert troll.remote_id not in youtube_server.comments
    assert assert_requests_are_documented(youtube_server) == 7
