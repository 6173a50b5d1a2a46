"""The inbox against the real Bluesky servers, run locally (``bsky_network``).

A citizen replies to our post and another mentions us; one sync brings both in;
a staff member answers from the inbox page; the answer is on the server as a
reply to the citizen's post, with our post as the thread's root; syncing again
adds nothing, and the citizen's next reply joins the same thread.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.connectors.base import PublishRequest
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount
from inbox.models import InboxItem, ItemKind, ItemStatus, Reply, ReplyStatus
from inbox.services import inbox_check_deleted, inbox_sync_account
from inbox.text import SIGNATURE_DASH as DASH
from publishing.models import JobStatus, Post, PostStatus, PublishJob, Variant
from tests.bsky_fixtures import BskyAccount, BskyNetwork

pytestmark = [pytest.mark.bsky, pytest.mark.django_db]


@pytest.fixture
def bsky(bsky_network: BskyNetwork, settings) -> BskyNetwork:
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


def _mention_facet(text: str, account: BskyAccount) -> list[dict]:
    start = text.encode().index(f"@{account.handle}".encode())
    return [
        {
            "index": {"byteStart": start, "byteEnd": start + len(f"@{account.handle}".encode())},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": account.did}],
        }
    ]


def _connect(bsky: BskyNetwork, personas) -> tuple[BskyAccount, ChannelAccount]:
    remote = bsky.create_account("city")
    account = account_services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=f"@{remote.handle}",
        app_password=bsky.create_app_password(remote, "GovSocial"),
    )
    return remote, ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def _publish(personas, account: ChannelAccount, text: str) -> tuple[Post, str, str]:
    """Our post, published to the server and recorded as Publishing records it."""
    result = get_connector("bluesky").publish(account, PublishRequest(text=text))
    post = Post.objects.create(
        organization=personas.org, title="Waste collection", status=PostStatus.PUBLISHED
    )
    variant = Variant.objects.create(post=post, channel_account=account, language="fi", text=text)
    PublishJob.objects.create(
        organization=personas.org,
        post=post,
        variant=variant,
        channel_account=account,
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        status=JobStatus.PUBLISHED,
        remote_id=result.remote_id,
        remote_url=result.url,
    )
    return post, result.remote_id, str(result.extra["cid"])


def test_replies_and_mentions_come_in_and_the_answer_is_a_proper_reply(
    bsky, personas, client, login
):
    remote, account = _connect(bsky, personas)
    post, post_uri, post_cid = _publish(personas, account, "Roskat haetaan tiistaina.")
    citizen = bsky.create_account("citizen")
    question = bsky.reply(citizen, post_uri, "Entä pyhäpäivinä?")
    neighbour = bsky.create_account("neighbour")
    text = f"Kysykää @{remote.handle} lumitöistä"
    shout = bsky.post(neighbour, text, facets=_mention_facet(text, remote))
    bsky.process_all()

    first = inbox_sync_account(account=account)

    assert (first.outcome, first.new_items) == ("synced", 2)
    reply_item = InboxItem.objects.get(remote_id=question.uri)
    mention_item = InboxItem.objects.get(remote_id=shout.uri)
    assert (reply_item.kind, mention_item.kind) == (ItemKind.REPLY, ItemKind.MENTION)
    assert (reply_item.author_handle, reply_item.text) == (citizen.handle, "Entä pyhäpäivinä?")
    assert reply_item.thread_key == post_uri
    assert reply_item.ref_extra == {"uri": question.uri, "cid": question.cid}

    # The list shows both; the item opens under our post, linked to Publishing.
    login(client, personas.alice)
    listing = client.get("/inbox/").content.decode()
    assert "Entä pyhäpäivinä?" in listing and "lumitöistä" in listing
    page = client.get(f"/inbox/{reply_item.pk}/").content.decode()
    assert f'href="/publishing/posts/{post.pk}/"' in page

    response = client.post(
        f"/inbox/{reply_item.pk}/reply/", {"body": "Keskiviikkona, kun tiistai on pyhä."}
    )
    assert response.status_code == 302
    reply = Reply.objects.get(item=reply_item)
    assert reply.status == ReplyStatus.SENT, reply.error_message

    record = bsky.get_record(reply.remote_id)["value"]
    assert record["text"] == f"Keskiviikkona, kun tiistai on pyhä.\n\n{DASH} Alice"
    assert record["reply"]["parent"] == {"uri": question.uri, "cid": question.cid}
    assert record["reply"]["root"] == {"uri": post_uri, "cid": post_cid}
    reply_item.refresh_from_db()
    assert reply_item.status == ItemStatus.ANSWERED

    bsky.process_all()
    again = inbox_sync_account(account=account)
    assert (again.outcome, again.new_items) == ("synced", 0)
    assert InboxItem.objects.filter(channel_account=account).count() == 2

    # The citizen answers our answer: it joins the same thread, after our reply.
    thanks = bsky.reply(citizen, reply.remote_id, "Kiitos!")
    bsky.process_all()
    assert inbox_sync_account(account=account).new_items == 1
    follow_up = InboxItem.objects.get(remote_id=thanks.uri)
    assert follow_up.thread_key == post_uri
    conversation = client.get(f"/inbox/{follow_up.pk}/").content.decode()
    assert "Our earlier reply" in conversation  # what the follow-up answers
    conversation = conversation[conversation.index('class="inbox-thread"') :]
    assert (
        conversation.index("Entä pyhäpäivinä?")
        < conversation.index("Keskiviikkona")
        < conversation.index("Kiitos!")
    )


def test_a_burst_after_an_empty_first_sync_is_read_in_full(bsky, personas):
    remote, account = _connect(bsky, personas)
    first = inbox_sync_account(account=account)
    assert (first.outcome, first.new_items) == ("synced", 0)

    neighbour = bsky.create_account("neighbour")
    texts = [f"Kysymys {number} @{remote.handle}" for number in range(60)]  # > one page
    # Three posts to a second (clocks a little behind, as the AppView sorts by the
    # earlier of its own time and the post's): a page ends inside a second, and no
    # second holds more than a page, which the AppView's time-only cursor cannot page.
    start = timezone.now() - timedelta(minutes=5)
    for number, text in enumerate(texts):
        written = start + timedelta(seconds=number // 3)
        created_at = written.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        bsky.post(neighbour, text, facets=_mention_facet(text, remote), createdAt=created_at)
    bsky.process_all()
    second = inbox_sync_account(account=account)

    assert (second.outcome, second.new_items) == ("synced", 60)
    stored = InboxItem.objects.filter(channel_account=account).values_list("text", flat=True)
    assert sorted(stored) == sorted(texts)


def test_a_post_deleted_on_bluesky_stays_in_the_inbox_marked(bsky, personas):
    remote, account = _connect(bsky, personas)
    neighbour = bsky.create_account("neighbour")
    text = f"@{remote.handle} väärää tietoa"
    shout = bsky.post(neighbour, text, facets=_mention_facet(text, remote))
    bsky.process_all()
    inbox_sync_account(account=account)

    bsky.call(
        "POST",
        "com.atproto.repo.deleteRecord",
        token=neighbour.access_jwt,
        json_body={"repo": neighbour.did, "collection": "app.bsky.feed.post", "rkey": shout.rkey},
    )
    bsky.process_all()

    assert inbox_check_deleted(account=account) == 1
    item = InboxItem.objects.get(remote_id=shout.uri)
    assert item.deleted_on_network_at is not None
    assert item.text == text
