"""The inbox with an X account (the local X test server): the plan's reply and message
limits shown before anyone writes, a direct message answered in its conversation, and
a spent monthly call budget stopping the inbox's reads (not the replies)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.connectors.x import SCOPES
from accounts.models import ApiCallBudget, ChannelAccount, NetworkApp
from inbox.models import InboxItem, ItemKind, ReplyStatus
from inbox.services import inbox_sync_account
from inbox.services.replies import inbox_reply_create
from tests.factories import ChannelAccountFactory
from tests.x_server.server import XTestServer


def x_account(server: XTestServer, personas, *, plan: str = "pay_per_use") -> ChannelAccount:
    app = server.create_app()
    NetworkApp.objects.create(
        organization=personas.org,
        network="x",
        client_id=app.client_id,
        client_secret=app.client_secret,
        options={"plan": plan},
    )
    account = ChannelAccountFactory.create(
        organization=personas.org,
        network="x",
        handle="@KaupunkiX",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={**server.issue_token(app=app), "token_type": "bearer"},
        credentials_expire_at=datetime.now(UTC) + timedelta(hours=2),
        scopes=list(SCOPES),
    )
    account.limited_members.add(personas.membership(personas.bob))
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


@pytest.mark.django_db
def test_the_reply_box_shows_the_plans_limits(client, personas, login, x_server):
    account = x_account(x_server, personas)
    citizen = x_server.create_user("aino_v", "Aino Virtanen")
    inbox_sync_account(account=account)
    x_server.post_as(citizen, "@KaupunkiX milloin uimahalli aukeaa?")
    x_server.send_dm(citizen, x_server.user, "Hei! Kysymys laskusta.")
    inbox_sync_account(account=account)
    mention = InboxItem.objects.get(channel_account=account, kind=ItemKind.MENTION)
    dm = InboxItem.objects.get(channel_account=account, kind=ItemKind.DM)

    login(client, personas.bob)
    page = client.get(f"/inbox/{mention.pk}/").content.decode()
    assert "replies can go only to posts that mention or quote this account" in page
    assert "X allows 100 posts and replies per 15 minutes from this account." in page
    page = client.get(f"/inbox/{dm.pk}/").content.decode()
    assert "X allows 15 direct messages per 15 minutes and 1440 a day" in page


@pytest.mark.django_db
def test_a_direct_message_is_answered_in_its_conversation(personas, x_server):
    account = x_account(x_server, personas)
    citizen = x_server.create_user("asukas", "Asukas")
    inbox_sync_account(account=account)
    x_server.send_dm(citizen, x_server.user, "Roskis on täynnä Kauppakadulla")
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(channel_account=account, kind=ItemKind.DM)
    assert item.author_handle == "@asukas"

    reply = inbox_reply_create(
        item=item,
        body="Kiitos, välitämme tiedon.",
        actor=personas.bob,
        membership=personas.membership(personas.bob),
    )

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    sent = [e for e in x_server.dm_events.values() if e.sender_id == x_server.user.id]
    assert [(e.recipient_id, e.text.startswith("Kiitos")) for e in sent] == [(citizen.id, True)]
    assert x_server.tweets_of(x_server.user) == []  # a message, not a public post
    # Our own message is not read back into the inbox.
    assert inbox_sync_account(account=account).new_items == 0


@pytest.mark.django_db
def test_a_spent_budget_stops_the_inbox_reads_until_the_month_ends(personas, x_server):
    account = x_account(x_server, personas)
    inbox_sync_account(account=account)
    ApiCallBudget.objects.create(account=account, monthly_calls=1)
    calls = len(x_server.requests)

    result = inbox_sync_account(account=account)

    assert result.outcome == "rate_limited"
    assert "monthly budget of 1 X API calls is spent" in result.error
    assert "Publishing goes on." in result.error
    assert len(x_server.requests) == calls
