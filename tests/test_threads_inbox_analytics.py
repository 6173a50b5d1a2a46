"""Threads in the inbox and analytics, against the Threads test server: replies and
mentions synced once, a reply answered from the inbox page, insights pulled into the
snapshots the dashboards read."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.connectors.threads import SCOPES
from accounts.models import ChannelAccount
from analytics.models import AccountMetricSnapshot, TrackedPost
from analytics.services.pull import metrics_pull_account, tracked_posts_discover
from analytics.tests.helpers import published
from governance.models import AuditEvent
from inbox.models import InboxItem, ItemKind, Reply, ReplyStatus
from inbox.services import inbox_sync_account
from inbox.text import SIGNATURE_DASH as DASH
from tests.factories import ChannelAccountFactory
from tests.threads_server.server import ThreadsTestServer


def _account(server: ThreadsTestServer, personas) -> ChannelAccount:
    account = ChannelAccountFactory.create(
        organization=personas.org,
        network="threads",
        handle="@cityofexample",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
        scopes=list(SCOPES),
    )
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def test_replies_and_mentions_arrive_once_and_a_reply_is_answered_from_the_inbox(
    threads_server, personas, client, login
):
    server = threads_server
    account = _account(server, personas)
    ours = server.post_as(server.user, "Kaupungin uimahallit ovat auki joulun yli.")
    citizen = server.create_user("aino.virtanen", "Aino Virtanen")
    question = server.post_as(citizen, "Onko Itäkeskuksen halli auki 24.12.?", reply_to=ours.id)
    mention = server.post_as(citizen, "@cityofexample kiitos tiedosta!", mention=server.user)

    first = inbox_sync_account(account=account)
    assert (first.outcome, first.new_items) == ("synced", 2)
    item = InboxItem.objects.get(remote_id=question.id)
    assert item.kind == ItemKind.REPLY
    assert item.author_handle == "@aino.virtanen"
    assert item.text == "Onko Itäkeskuksen halli auki 24.12.?"
    assert InboxItem.objects.get(remote_id=mention.id).kind == ItemKind.MENTION
    assert inbox_sync_account(account=account).new_items == 0

    login(client, personas.alice)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "Ei ole, halli on kiinni jouluaattona."})

    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT, reply.error_message
    sent = server.media[reply.remote_id]
    assert sent.replied_to == question.id
    assert sent.root_post == ours.id
    assert sent.text == f"Ei ole, halli on kiinni jouluaattona.\n\n{DASH} Alice"
    # Our own answer is not brought back into the inbox as a new item.
    assert inbox_sync_account(account=account).new_items == 0
    later = server.post_as(citizen, "Kiitos vastauksesta!", reply_to=sent.id)
    assert inbox_sync_account(account=account).new_items == 1
    assert InboxItem.objects.get(remote_id=later.id).kind == ItemKind.REPLY


def test_insights_feed_the_post_and_account_snapshots(threads_server, personas):
    server = threads_server
    account = _account(server, personas)
    at = timezone.now() - timedelta(hours=1)
    ours = server.post_as(server.user, "Kirjasto avaa klo 9.", at=at)
    ours.views, ours.likes, ours.reposts, ours.quotes = 840, 31, 4, 2
    server.post_as(server.create_user("erik"), "Hienoa!", reply_to=ours.id)
    server.user.followers_count = 12_345
    published(account, at=at, remote_id=ours.id, sandbox=False)
    tracked_posts_discover()

    result = metrics_pull_account(account=account, now=timezone.now())

    assert (result.outcome, result.posts, result.account_pulled) == ("pulled", 1, True)
    post = TrackedPost.objects.get()
    assert (post.likes, post.shares, post.replies, post.quotes) == (31, 4, 1, 2)
    assert post.impressions == 840
    assert AccountMetricSnapshot.objects.get().followers == 12_345


def test_a_rude_reply_is_hidden_from_the_inbox_and_shown_again(
    threads_server, personas, client, login
):
    server = threads_server
    account = _account(server, personas)
    ours = server.post_as(server.user, "Palautetta kirjastosta?")
    rude = server.post_as(server.create_user("troll"), "Ihan surkeaa touhua!!", reply_to=ours.id)
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=rude.id)

    login(client, personas.alice)
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Hide on Threads" in page
    client.post(f"/inbox/{item.pk}/hide/", {"hide": "1"})

    assert server.media[rude.id].hidden
    item.refresh_from_db()
    assert item.hidden_on_network_at is not None
    event = AuditEvent.objects.get(action="inbox_item.hidden")
    assert event.new_values["text"] == "Ihan surkeaa touhua!!"
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Hidden on Threads by us" in page
    assert "Show again on Threads" in page

    client.post(f"/inbox/{item.pk}/hide/", {"hide": "0"})
    assert not server.media[rude.id].hidden
    item.refresh_from_db()
    assert item.hidden_on_network_at is None
    assert AuditEvent.objects.filter(action="inbox_item.unhidden").count() == 1


def test_a_refused_hide_is_explained_and_changes_nothing(threads_server, personas, client, login):
    server = threads_server
    account = _account(server, personas)
    ours = server.post_as(server.user, "Kysymyksiä?")
    reply = server.post_as(server.create_user("aino"), "Yksi", reply_to=ours.id)
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=reply.id)
    server.fail_next(400, code=4, message="Application request limit reached")

    login(client, personas.alice)
    response = client.post(f"/inbox/{item.pk}/hide/", {"hide": "1"}, follow=True)

    assert response.status_code == 200
    assert "slow down" in response.content.decode()
    assert not server.media[reply.id].hidden
    item.refresh_from_db()
    assert item.hidden_on_network_at is None
    assert not AuditEvent.objects.filter(action="inbox_item.hidden").exists()


def test_another_organization_cannot_hide_our_items(threads_server, personas, client, login):
    server = threads_server
    account = _account(server, personas)
    ours = server.post_as(server.user, "Kysymyksiä?")
    reply = server.post_as(server.create_user("aino"), "Yksi", reply_to=ours.id)
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=reply.id)
    login(client, personas.charlie)
    assert client.post(f"/inbox/{item.pk}/hide/", {"hide": "1"}).status_code == 404
    assert not server.media[reply.id].hidden
