"""One item: its thread, triage, replying through the connector, approval, presence."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import ChannelAccount, SandboxPost
from governance.models import AuditEvent, Membership, Notification, Role
from inbox.models import (
    InboxItem,
    InboxNote,
    InboxSettings,
    ItemStatus,
    Priority,
    Reply,
    ReplyStatus,
    SavedReply,
    SignatureRule,
    Tag,
)
from inbox.services import inbox_sync_account
from inbox.tests.helpers import citizen_writes, make_item, publish_sandbox
from inbox.text import SIGNATURE_DASH as DASH
from publishing.models import JobStatus, Post, PostStatus, PublishJob, Variant
from tests.factories import MembershipFactory, UserFactory


def _synced_reply(personas, text: str = "When does it open?") -> tuple[str, InboxItem]:
    """Our post on bob's Sandbox account and a citizen's reply to it, synced."""
    account = ChannelAccount.objects.select_related("organization").get(pk=personas.bob_account.pk)
    post = publish_sandbox(account, "The new library opens soon.")
    citizen = citizen_writes(account, text, reply_to=post)
    inbox_sync_account(account=account)
    return post, InboxItem.objects.get(remote_id=citizen.remote_id)


def _published_from_govsocial(personas, remote_id: str) -> Post:
    post = Post.objects.create(
        organization=personas.org, title="Library opening", status=PostStatus.PUBLISHED
    )
    variant = Variant.objects.create(
        post=post,
        channel_account=personas.bob_account,
        language="en",
        text="The new library opens soon.",
    )
    PublishJob.objects.create(
        organization=personas.org,
        post=post,
        variant=variant,
        channel_account=personas.bob_account,
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        status=JobStatus.PUBLISHED,
        remote_id=remote_id,
    )
    return post


def test_an_item_opens_in_its_thread_under_our_published_post(client, personas, login):
    remote_post, item = _synced_reply(personas)
    post = _published_from_govsocial(personas, remote_post)
    earlier = make_item(
        personas.bob_account,
        author_name="Earlier Citizen",
        text="Nice!",
        thread_key=remote_post,
        posted_at=item.posted_at - timedelta(minutes=5),
    )
    login(client, personas.alice)
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Reply from Aino Virtanen" in body
    assert "Our post" in body and f'href="/publishing/posts/{post.pk}/"' in body
    assert "The new library opens soon." in body
    assert f'href="/inbox/{earlier.pk}/"' in body and 'aria-current="true"' in body
    conversation = body[body.index('id="conversation"') :]
    assert conversation.index("Nice!") < conversation.index("When does it open?")


def test_assigning_tells_the_assignee(client, personas, login):
    item = make_item(personas.bob_account)
    login(client, personas.alice)
    client.post(f"/inbox/{item.pk}/assign/", {"assignee": personas.bob.pk})
    item.refresh_from_db()
    assert (item.assignee, item.status) == (personas.bob, ItemStatus.ASSIGNED)
    notice = Notification.objects.get(user=personas.bob, kind="inbox.assigned")
    assert notice.link == f"/inbox/{item.pk}/"
    assert "Alice Admin assigned you a message" in notice.message
    assert AuditEvent.objects.filter(action="inbox_item.assigned").count() == 1
    # Assigning oneself tells nobody.
    client.post(f"/inbox/{item.pk}/assign/", {"assign_to_me": "1"})
    item.refresh_from_db()
    assert item.assignee == personas.alice
    assert Notification.objects.filter(user=personas.alice, kind="inbox.assigned").count() == 0
    # Nobody: back to new.
    client.post(f"/inbox/{item.pk}/assign/", {"assignee": ""})
    item.refresh_from_db()
    assert (item.assignee, item.status) == (None, ItemStatus.NEW)


def test_an_item_cannot_go_to_someone_without_its_account(client, personas, login):
    item = make_item(personas.other_account)
    login(client, personas.alice)
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assign = body.split('id="id_assignee"', 1)[1].split("</select>", 1)[0]
    assert ">Bob Editor</option>" not in assign  # not offered
    assert ">Alice Admin</option>" in assign
    response = client.post(f"/inbox/{item.pk}/assign/", {"assignee": personas.bob.pk}, follow=True)
    assert "Choose someone who may answer for this account." in response.content.decode()
    item.refresh_from_db()
    assert item.assignee is None


def test_status_priority_and_tags(client, personas, login):
    item = make_item(personas.bob_account)
    login(client, personas.bob)
    client.post(f"/inbox/{item.pk}/status/", {"status": "closed"})
    client.post(f"/inbox/{item.pk}/priority/", {"priority": Priority.HIGH})
    client.post(f"/inbox/{item.pk}/tags/", {"tags": "Roads, misinformation, roads"})
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED and item.closed_at is not None
    assert item.priority == Priority.HIGH
    assert sorted(t.name for t in item.tags.all()) == ["Roads", "misinformation"]
    response = client.post(f"/inbox/{item.pk}/status/", {"status": "assigned"}, follow=True)
    assert "Assign the item to someone to mark it assigned." in response.content.decode()
    client.post(f"/inbox/{item.pk}/status/", {"status": "new"})
    item.refresh_from_db()
    assert item.status == ItemStatus.NEW and item.closed_at is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "inbox_item.status_changed",
        "inbox_item.priority_changed",
        "inbox_item.tagged",
    } <= actions


def test_a_reply_goes_out_as_a_reply_on_the_network_signed(client, personas, login):
    remote_post, item = _synced_reply(personas)
    login(client, personas.bob)
    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "On Monday at 10."}, follow=True)
    assert "Your reply was sent." in response.content.decode()
    sent = SandboxPost.objects.get(is_own=True, in_reply_to__remote_id=item.remote_id)
    assert sent.text == f"On Monday at 10.\n\n{DASH} Bob"  # the default rule: first name
    assert sent.thread_root is not None and sent.thread_root.remote_id == remote_post
    reply = Reply.objects.get(item=item)
    assert (reply.status, reply.remote_id, reply.author) == (
        ReplyStatus.SENT,
        sent.remote_id,
        personas.bob,
    )
    item.refresh_from_db()
    assert item.status == ItemStatus.ANSWERED and item.first_response_at is not None
    assert AuditEvent.objects.filter(action="inbox_reply.sent").count() == 1
    body = response.content.decode()
    assert "Our reply, by Bob Editor" in body and "On Monday at 10." in body


def test_the_organization_can_sign_with_its_name(client, personas, login):
    InboxSettings.objects.create(
        organization=personas.org, signature_rule=SignatureRule.ORGANIZATION
    )
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "Thank you!"})
    assert Reply.objects.get().text == f"Thank you!\n\n{DASH} City of Example"


def test_a_saved_reply_in_swedish_fills_in_the_names(client, personas, login):
    saved = SavedReply.objects.create(
        organization=personas.org,
        title="Thanks",
        language="sv",
        body="Hej {author}! Tack för ditt meddelande. Hälsningar {first_name}, {organization}",
    )
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    body = client.get(f"/inbox/{item.pk}/?saved_reply={saved.pk}").content.decode()
    assert "Hej Aino Virtanen! Tack för ditt meddelande. Hälsningar Bob, City of Example" in body
    assert "Thanks (Swedish)" in body
    client.post(
        f"/inbox/{item.pk}/reply/",
        {
            "body": "Hej Aino Virtanen! Tack för ditt meddelande.",
            "saved_reply": saved.pk,
        },
    )
    reply = Reply.objects.get()
    assert (reply.saved_reply, reply.language) == (saved, "sv")
    assert SandboxPost.objects.get(remote_id=reply.remote_id).language == "sv"


def test_replies_on_chosen_accounts_wait_for_approval(client, personas, login):
    settings = InboxSettings.objects.create(organization=personas.org)
    settings.approval_accounts.add(personas.bob_account)
    reviewer = UserFactory.create(email="rita@example.org", full_name="Rita Reviewer")
    MembershipFactory.create(organization=personas.org, user=reviewer, role=Role.REVIEWER)
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    assert "Send for approval" in client.get(f"/inbox/{item.pk}/").content.decode()
    client.post(f"/inbox/{item.pk}/reply/", {"body": "On Monday."})
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.PENDING_APPROVAL
    assert not SandboxPost.objects.filter(is_own=True, in_reply_to__isnull=False).exists()
    assert Notification.objects.filter(user=reviewer, kind="inbox.reply_needs_approval").exists()
    assert client.post(f"/inbox/replies/{reply.pk}/approve/").status_code == 403  # an editor

    reviewer_client = Client()
    login(reviewer_client, reviewer)
    page = reviewer_client.get("/inbox/approvals/").content.decode()
    assert "On Monday." in page
    reviewer_client.post(f"/inbox/replies/{reply.pk}/approve/", {"comment": "Fine."})
    reply.refresh_from_db()
    assert (reply.status, reply.decided_by) == (ReplyStatus.SENT, reviewer)
    assert SandboxPost.objects.filter(remote_id=reply.remote_id).exists()
    assert Notification.objects.filter(user=personas.bob, kind="inbox.reply_sent").exists()


def test_the_reply_box_follows_settings_and_saved_replies_though_they_are_cached(
    client, personas, login
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    crisis = Tag.objects.create(organization=personas.org, name="Crisis")
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    page = f"/inbox/{item.pk}/"
    client.get(page)
    with CaptureQueriesContext(connection) as captured:
        body = client.get(page).content.decode()
    # Read from the cache: neither the settings nor the saved replies are queried.
    assert not [
        query["sql"]
        for query in captured.captured_queries
        if "inbox_inboxsettings" in query["sql"] or "inbox_savedreply" in query["sql"]
    ]
    assert "Send reply" in body and "Send for approval" not in body
    assert "Use this saved reply" not in body

    saved = SavedReply.objects.create(
        organization=personas.org, title="Thanks", language="en", body="Thank you!"
    )
    assert "Thanks (English)" in client.get(page).content.decode()
    saved.title = "Many thanks"
    saved.save()
    assert "Many thanks (English)" in client.get(page).content.decode()

    settings = InboxSettings.objects.create(
        organization=personas.org, signature_rule=SignatureRule.ORGANIZATION
    )
    assert f"{DASH} City of Example" in client.get(page).content.decode()
    settings.approval_accounts.add(personas.bob_account)
    assert "Send for approval" in client.get(page).content.decode()
    settings.approval_accounts.remove(personas.bob_account)
    assert "Send for approval" not in client.get(page).content.decode()
    settings.approval_tags.add(crisis)
    item.tags.add(crisis)
    assert "Send for approval" in client.get(page).content.decode()
    settings.approval_tags.clear()
    assert "Send for approval" not in client.get(page).content.decode()

    saved.delete()
    settings.delete()
    body = client.get(page).content.decode()
    assert "Many thanks" not in body and f"{DASH} City of Example" not in body


def test_replies_to_items_with_chosen_tags_can_be_turned_down(client, personas, login):
    crisis = Tag.objects.create(organization=personas.org, name="Crisis")
    settings = InboxSettings.objects.create(organization=personas.org)
    settings.approval_tags.add(crisis)
    _post, item = _synced_reply(personas)
    item.tags.add(crisis)
    login(client, personas.alice)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "Everything is fine."})
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.PENDING_APPROVAL
    # Nobody approves their own reply.
    assert client.post(f"/inbox/replies/{reply.pk}/approve/").status_code == 403
    manager = UserFactory.create(email="mia@example.org", full_name="Mia Manager")
    MembershipFactory.create(organization=personas.org, user=manager, role=Role.MANAGER)
    other = Client()
    login(other, manager)
    response = other.post(f"/inbox/replies/{reply.pk}/reject/", {"comment": ""}, follow=True)
    assert "Say why" in response.content.decode()
    other.post(f"/inbox/replies/{reply.pk}/reject/", {"comment": "Check the facts first."})
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.REJECTED
    notice = Notification.objects.get(user=personas.alice, kind="inbox.reply_rejected")
    assert "Check the facts first." in notice.message


def test_a_colleague_replying_is_shown(client, personas, login):
    item = make_item(personas.bob_account)
    login(client, personas.bob)
    assert client.post(f"/inbox/{item.pk}/replying/").status_code == 204
    alice = Client()
    login(alice, personas.alice)
    assert "Bob is replying…" in alice.get(f"/inbox/{item.pk}/replying/").content.decode()
    assert "replying" not in client.get(f"/inbox/{item.pk}/replying/").content.decode()
    client.post(f"/inbox/{item.pk}/replying/", {"stop": "1"})
    assert "Bob" not in alice.get(f"/inbox/{item.pk}/replying/").content.decode()
    # An auditor reads who is replying but cannot claim to be.
    carol = Client()
    login(carol, personas.carol)
    assert carol.post(f"/inbox/{item.pk}/replying/").status_code == 403


def test_the_replying_mark_fades_when_not_renewed(client, personas, login):
    import time_machine

    item = make_item(personas.bob_account)
    alice = Client()
    login(alice, personas.alice)
    login(client, personas.bob)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(f"/inbox/{item.pk}/replying/")
        traveller.shift(timedelta(seconds=20))
        assert "Bob is replying" in alice.get(f"/inbox/{item.pk}/replying/").content.decode()
        traveller.shift(timedelta(seconds=31))
        assert "Bob" not in alice.get(f"/inbox/{item.pk}/replying/").content.decode()


def test_an_item_deleted_on_the_network_cannot_be_answered(client, personas, login):
    item = make_item(personas.bob_account, deleted_on_network_at=timezone.now())
    login(client, personas.bob)
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Deleted on the network." in body and "Send reply" not in body
    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "Hello"})
    assert response.status_code == 400
    assert not Reply.objects.exists()


def test_a_refused_reply_is_shown_and_not_sent_again(client, personas, login):
    _post, item = _synced_reply(personas)
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(
        credentials={"sandbox_fail_mode": "rejected", "sandbox_fail_only": ["reply"]}
    )
    login(client, personas.bob)
    response = client.post(f"/inbox/{item.pk}/reply/", {"body": "Hello"}, follow=True)
    assert "Your reply could not be sent" in response.content.decode()
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.FAILED and reply.error_kind == "rejected"
    response = client.post(f"/inbox/replies/{reply.pk}/retry/", follow=True)
    assert "Write a new reply instead." in response.content.decode()


def test_an_unconfirmed_reply_is_looked_for_before_sending_again(client, personas, login):
    _post, item = _synced_reply(personas)
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(
        credentials={"sandbox_fail_mode": "timeout", "sandbox_fail_only": ["reply"]}
    )
    login(client, personas.bob)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "Hello"})
    reply = Reply.objects.get()
    assert reply.status == ReplyStatus.UNKNOWN
    ChannelAccount.objects.filter(pk=personas.bob_account.pk).update(credentials={})
    client.post(f"/inbox/replies/{reply.pk}/retry/")
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    # The Sandbox kept the first post (same idempotency key): one reply on the network.
    assert (
        SandboxPost.objects.filter(is_own=True, in_reply_to__remote_id=item.remote_id).count() == 1
    )


def test_a_limited_member_cannot_act_on_replies_of_other_accounts(client, personas, login):
    item = make_item(personas.other_account)
    reply = Reply.objects.create(
        organization=personas.org,
        item=item,
        channel_account=personas.other_account,
        author=personas.alice,
        body="x",
        text="x",
        status=ReplyStatus.FAILED,
    )
    login(client, personas.bob)
    assert client.post(f"/inbox/replies/{reply.pk}/retry/").status_code == 404


def test_pages_for_members_of_another_role(client, personas, login):
    reviewer = UserFactory.create(email="ray@example.org")
    MembershipFactory.create(organization=personas.org, user=reviewer, role=Role.REVIEWER)
    item = make_item(personas.bob_account)
    login(client, reviewer)
    body = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "Send reply" not in body and "Set status" not in body
    assert Membership.objects.get(user=reviewer).role == Role.REVIEWER


def test_an_answer_is_shown_after_what_it_answers_whatever_the_clocks_say(client, personas, login):
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    client.post(f"/inbox/{item.pk}/reply/", {"body": "On Monday."})
    reply = Reply.objects.get()
    assert reply.sent_at is not None
    # The citizen's app clock runs a minute behind ours.
    answer = make_item(
        personas.bob_account,
        text="Thanks for the answer!",
        thread_key=item.thread_key,
        in_reply_to_remote_id=reply.remote_id,
        posted_at=reply.sent_at - timedelta(minutes=1),
    )
    page = client.get(f"/inbox/{answer.pk}/").content.decode()
    thread = page[page.index('class="inbox-thread"') :]
    assert thread.index("When does it open?") < thread.index("On Monday.")
    assert thread.index("On Monday.") < thread.index("Thanks for the answer!")


def test_a_saved_reply_that_signs_off_is_sent_with_one_signature(client, personas, login):
    InboxSettings.objects.create(
        organization=personas.org, signature_rule=SignatureRule.ORGANIZATION
    )
    saved = SavedReply.objects.create(
        organization=personas.org,
        title="Thanks",
        language="en",
        body="Thank you, {author}!\n\nBest regards,\n{organization}",
    )
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    page = client.get(f"/inbox/{item.pk}/?saved_reply={saved.pk}").content.decode()
    assert "unless the reply already signs off" in page
    client.post(
        f"/inbox/{item.pk}/reply/",
        {
            "body": "Thank you, Aino Virtanen!\n\nBest regards,\nCity of Example",
            "saved_reply": saved.pk,
        },
    )
    reply = Reply.objects.get()
    assert reply.text == "Thank you, Aino Virtanen!\n\nBest regards,\nCity of Example"
    assert SandboxPost.objects.get(remote_id=reply.remote_id).text.count("City of Example") == 1


def test_an_internal_note_is_kept_for_the_team_and_never_sent(client, personas, login):
    _post, item = _synced_reply(personas)
    posts_before = SandboxPost.objects.count()
    login(client, personas.bob)
    response = client.post(
        f"/inbox/{item.pk}/notes/",
        {"body": "Called her back; the road is fixed Friday."},
        follow=True,
    )
    body = response.content.decode()
    assert "Note saved. Only your team sees it." in body
    assert "Called her back; the road is fixed Friday." in body and "Bob Editor" in body
    note = InboxNote.objects.get()
    assert (note.item, note.author, note.organization) == (item, personas.bob, personas.org)
    assert SandboxPost.objects.count() == posts_before  # nothing went to the network
    assert not Reply.objects.exists()
    event = AuditEvent.objects.get(action="inbox_note.added")
    assert (event.actor, event.target_id) == (personas.bob, str(item.pk))
    # An empty note is refused with a reason; an auditor reads notes but cannot write one.
    refused = client.post(f"/inbox/{item.pk}/notes/", {"body": "   "})
    assert refused.status_code == 400 and InboxNote.objects.count() == 1
    login(client, personas.carol)
    assert "Called her back" in client.get(f"/inbox/{item.pk}/").content.decode()
    assert client.post(f"/inbox/{item.pk}/notes/", {"body": "x"}).status_code == 403
    # Another organization's item is a 404.
    login(client, personas.charlie)
    assert client.post(f"/inbox/{item.pk}/notes/", {"body": "x"}).status_code == 404
    assert InboxNote.objects.count() == 1


def test_beside_the_list_an_item_opens_as_a_pane_with_its_own_address(client, personas, login):
    item = make_item(personas.bob_account, author_name="Pane Person", text="Pane text")
    login(client, personas.bob)
    page = client.get(f"/inbox/{item.pk}/").content.decode()
    # The whole page: the list beside the open item, its row marked as open.
    assert 'id="inbox-rows"' in page and 'id="inbox-pane"' in page
    assert 'aria-current="true"><strong>Pane Person</strong>' in page
    pane = client.get(
        f"/inbox/{item.pk}/", headers={"HX-Request": "true", "HX-Target": "inbox-pane"}
    )
    body = pane.content.decode()
    assert pane.status_code == 200 and "Pane text" in body and 'id="reply-heading"' in body
    assert "<html" not in body and 'id="inbox-rows"' not in body
    assert "HX-Target" in pane["Vary"]


def test_answering_beside_a_filtered_list_keeps_its_filters(client, personas, login):
    _post, item = _synced_reply(personas)
    login(client, personas.bob)
    page = client.get(f"/inbox/{item.pk}/?status=new").content.decode()
    assert f'action="/inbox/{item.pk}/reply/?status=new"' in page
    response = client.post(f"/inbox/{item.pk}/reply/?status=new", {"body": "Thanks!"})
    assert response["Location"] == f"/inbox/{item.pk}/?status=new#conversation"
    # Only the list's own filters travel; anything else is dropped.
    response = client.post(f"/inbox/{item.pk}/notes/?status=new&evil=1", {"body": "ok"})
    assert response["Location"] == f"/inbox/{item.pk}/?status=new#notes"
