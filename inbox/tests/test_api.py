"""The inbox through the API: the same access layer and services as the pages."""

from __future__ import annotations

from django.test import Client

from accounts.models import ChannelAccount, SandboxPost
from governance.models import AuditEvent, Notification
from governance.services.tokens import api_token_create
from inbox.models import InboxItem, ItemStatus, Reply, ReplyStatus, SavedReply, Tag
from inbox.services import inbox_sync_account
from inbox.tests.helpers import citizen_writes, make_item, publish_sandbox
from inbox.text import SIGNATURE_DASH as DASH

ITEMS = "/api/v1/inbox/items/"


def _token_client(user, org) -> Client:
    _token, raw = api_token_create(user=user, organization=org, name="script")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_the_list_filters_and_pages(client, personas, login):
    tag = Tag.objects.create(organization=personas.org, name="Roads")
    for number in range(3):
        make_item(personas.other_account, author_name=f"Person {number}")
    tagged = make_item(personas.bob_account, author_name="Tagged")
    tagged.tags.add(tag)
    login(client, personas.alice)
    body = client.get(ITEMS, {"limit": 2}).json()
    assert [row["author_name"] for row in body["results"]] == ["Person 0", "Person 1"]
    assert body["next"] is not None
    rest = client.get(body["next"]).json()
    assert [row["author_name"] for row in rest["results"]] == ["Person 2", "Tagged"]
    assert rest["next"] is None
    only = client.get(ITEMS, {"tag": tag.pk}).json()["results"]
    assert [row["author_name"] for row in only] == ["Tagged"]
    assert only[0]["tags"] == ["Roads"]
    assert only[0]["channel_account"]["handle"] == "city-news"
    assert client.get(ITEMS, {"status": "bogus"}).status_code == 400


def test_a_limited_member_and_an_outsider_see_only_their_own(personas):
    mine = make_item(personas.bob_account)
    other = make_item(personas.other_account)
    bob = _token_client(personas.bob, personas.org)
    assert [row["id"] for row in bob.get(ITEMS).json()["results"]] == [mine.pk]
    assert bob.get(f"{ITEMS}{other.pk}/").status_code == 404
    charlie = _token_client(personas.charlie, personas.other_org)
    assert charlie.get(f"{ITEMS}{mine.pk}/").status_code == 404
    assert charlie.post(f"{ITEMS}{mine.pk}/status/", {"status": "closed"}).status_code == 404


def test_the_detail_has_the_thread(client, personas, login):
    account = ChannelAccount.objects.select_related("organization").get(pk=personas.bob_account.pk)
    post = publish_sandbox(account, "Pool closed on Friday.")
    citizen_writes(account, "Why?", reply_to=post)
    inbox_sync_account(account=account)
    item = InboxItem.objects.get()
    login(client, personas.alice)
    body = client.get(f"{ITEMS}{item.pk}/").json()
    assert body["thread"]["parent"]["remote_id"] == post
    assert [entry["type"] for entry in body["thread"]["entries"]] == ["item"]
    assert body["thread"]["entries"][0]["item"]["text"] == "Why?"


def test_triage_through_the_api(personas):
    item = make_item(personas.bob_account)
    alice = _token_client(personas.alice, personas.org)
    response = alice.post(
        f"{ITEMS}{item.pk}/assign/", {"assignee": personas.bob.pk}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["email"] == "bob@example.org"
    assert Notification.objects.filter(user=personas.bob, kind="inbox.assigned").exists()
    outsider = alice.post(
        f"{ITEMS}{item.pk}/assign/",
        {"assignee": personas.charlie.pk},
        content_type="application/json",
    )
    assert outsider.status_code == 400
    status = alice.post(
        f"{ITEMS}{item.pk}/status/", {"status": "closed"}, content_type="application/json"
    )
    assert status.json()["status"] == ItemStatus.CLOSED
    tags = alice.post(
        f"{ITEMS}{item.pk}/tags/", {"tags": ["Roads", "Crisis"]}, content_type="application/json"
    )
    assert tags.json()["tags"] == ["Crisis", "Roads"]
    priority = alice.post(
        f"{ITEMS}{item.pk}/priority/", {"priority": 3}, content_type="application/json"
    )
    assert priority.json()["priority"] == 3
    assert AuditEvent.objects.filter(action__startswith="inbox_item.").count() == 4


def test_an_auditor_reads_but_cannot_triage_through_the_api(personas):
    item = make_item(personas.bob_account)
    carol = _token_client(personas.carol, personas.org)
    assert carol.get(f"{ITEMS}{item.pk}/").status_code == 200
    response = carol.post(
        f"{ITEMS}{item.pk}/status/", {"status": "closed"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_replying_and_saved_replies_through_the_api(personas):
    account = ChannelAccount.objects.select_related("organization").get(pk=personas.bob_account.pk)
    citizen = citizen_writes(account, "Hej, när öppnar simhallen?", handle="erik.l", name="Erik")
    inbox_sync_account(account=account)
    item = InboxItem.objects.get()
    alice = _token_client(personas.alice, personas.org)
    created = alice.post(
        "/api/v1/inbox/saved-replies/",
        {"title": "Opening hours", "language": "sv", "body": "Hej {author}! Klockan 10."},
        content_type="application/json",
    )
    assert created.status_code == 201
    saved = SavedReply.objects.get()
    bob = _token_client(personas.bob, personas.org)
    listed = bob.get("/api/v1/inbox/saved-replies/", {"language": "sv"}).json()
    assert [row["title"] for row in listed] == ["Opening hours"]
    assert (
        bob.post(
            "/api/v1/inbox/saved-replies/",
            {"title": "x", "language": "sv", "body": "y"},
            content_type="application/json",
        ).status_code
        == 403
    )
    response = bob.post(
        f"{ITEMS}{item.pk}/replies/",
        {"body": "Hej Erik! Klockan 10.", "saved_reply": saved.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == ReplyStatus.SENT
    assert body["text"] == f"Hej Erik! Klockan 10.\n\n{DASH} Bob"
    sent = SandboxPost.objects.get(remote_id=body["remote_id"])
    assert sent.in_reply_to is not None and sent.in_reply_to.remote_id == citizen.remote_id
    empty = bob.post(f"{ITEMS}{item.pk}/replies/", {"body": " "}, content_type="application/json")
    assert empty.status_code == 400
    assert Reply.objects.count() == 1


def test_internal_notes_through_the_api(personas):
    item = make_item(personas.bob_account)
    bob = _token_client(personas.bob, personas.org)
    created = bob.post(f"{ITEMS}{item.pk}/notes/", {"body": "Asked the roads team."})
    assert created.status_code == 201
    assert created.json()["author"] == "Bob Editor"
    assert bob.post(f"{ITEMS}{item.pk}/notes/", {"body": "  "}).status_code == 400
    listed = bob.get(f"{ITEMS}{item.pk}/notes/").json()
    assert [note["body"] for note in listed] == ["Asked the roads team."]
    charlie = _token_client(personas.charlie, personas.other_org)
    assert charlie.get(f"{ITEMS}{item.pk}/notes/").status_code == 404
    assert charlie.post(f"{ITEMS}{item.pk}/notes/", {"body": "x"}).status_code == 404
