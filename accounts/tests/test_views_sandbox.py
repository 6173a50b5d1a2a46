"""Sandbox accounts: added in one click, their practice feed, and the simulated audience."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.connectors.base import PublishRequest
from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus, ChannelAccount, SandboxPost
from accounts.tests.helpers import channel_account
from governance.models import AuditEvent


def _publish(account: ChannelAccount, text: str) -> str:
    return get_connector("sandbox").publish(account, PublishRequest(text=text)).remote_id


def test_a_sandbox_account_is_one_click_away(client, personas, login):
    login(client, personas.alice)
    page = client.get("/accounts/connect/sandbox/").content.decode()
    assert 'value="example-training"' in page  # a free name, filled in
    response = client.post("/accounts/connect/sandbox/", {"handle": "example-training"})
    account = ChannelAccount.objects.get(handle="example-training")
    assert response["Location"] == f"/accounts/{account.pk}/sandbox/"
    assert account.network == "sandbox"
    assert account.status == AccountStatus.ACTIVE
    assert account.connected_by == personas.alice
    assert AuditEvent.objects.filter(action="channel_account.connected").count() == 1
    feed = client.get(response["Location"]).content.decode()
    assert "The practice account example-training is ready." in feed
    # The next one gets the next free name.
    page = client.get("/accounts/connect/sandbox/").content.decode()
    assert 'value="example-training-2"' in page


def test_a_taken_name_is_refused_next_to_the_field(client, personas, login):
    login(client, personas.alice)
    response = client.post("/accounts/connect/sandbox/", {"handle": "city-news"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_handle_error"' in body
    assert "already has a Sandbox account with this name" in body
    assert ChannelAccount.objects.filter(handle="city-news").count() == 1


def test_the_network_choice_offers_bluesky_mastodon_and_the_sandbox(client, personas, login):
    login(client, personas.alice)
    body = client.get("/accounts/connect/").content.decode()
    for link in (
        "/accounts/connect/bluesky/",
        "/accounts/connect/mastodon/",
        "/accounts/connect/sandbox/",
    ):
        assert f'href="{link}"' in body
    assert "Sandbox (training)" in body


def test_the_feed_shows_posts_and_the_audiences_replies(client, personas, login):
    account = personas.other_account
    remote_id = _publish(account, "The library opens on Monday.")
    login(client, personas.alice)
    empty = client.get(f"/accounts/{account.pk}/sandbox/").content.decode()
    assert "Sandbox (training)." in empty
    assert "Nothing here is public" in empty
    assert "The library opens on Monday." in empty
    assert f'id="post-{remote_id}"' in empty  # a post's address is the feed's #post-<id>

    response = client.post(
        f"/accounts/{account.pk}/sandbox/simulate/", {"mood": "crisis"}, follow=True
    )
    body = response.content.decode()
    assert "The simulated audience reacted:" in body
    citizens = SandboxPost.objects.filter(account=account, is_own=False)
    assert citizens.exists()
    for post in citizens:
        assert post.author_handle in body
    event = AuditEvent.objects.get(action="sandbox.audience_simulated")
    assert event.actor == personas.alice
    assert event.new_values["mood"] == "crisis"
    assert event.new_values["seed"]


def test_simulating_is_for_those_who_manage_accounts(client, personas, login):
    account = personas.bob_account
    login(client, personas.bob)  # an editor may read his account's feed
    body = client.get(f"/accounts/{account.pk}/sandbox/").content.decode()
    assert "Simulate audience activity" not in body
    assert client.post(f"/accounts/{account.pk}/sandbox/simulate/").status_code == 403
    login(client, personas.carol)
    assert client.post(f"/accounts/{account.pk}/sandbox/simulate/").status_code == 403
    assert not SandboxPost.objects.exists()


def test_only_sandbox_accounts_have_a_feed(client, personas, login):
    mastodon = channel_account(organization=personas.org, network="mastodon", handle="@m@x.y")
    login(client, personas.alice)
    assert client.get(f"/accounts/{mastodon.pk}/sandbox/").status_code == 404
    assert client.post(f"/accounts/{mastodon.pk}/sandbox/simulate/").status_code == 404


def test_outsider_gets_404_for_the_feed(client, personas, login):
    login(client, personas.charlie)
    account = personas.other_account
    assert client.get(f"/accounts/{account.pk}/sandbox/").status_code == 404
    assert client.post(f"/accounts/{account.pk}/sandbox/simulate/").status_code == 404


def test_feed_queries_do_not_grow_with_posts(client, personas, login):
    account = personas.other_account
    _publish(account, "First")
    login(client, personas.alice)
    client.get(f"/accounts/{account.pk}/sandbox/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/accounts/{account.pk}/sandbox/")
    for number in range(5):
        _publish(account, f"Post {number}")
    client.post(f"/accounts/{account.pk}/sandbox/simulate/")
    client.get(f"/accounts/{account.pk}/sandbox/")  # shows (and clears) the message
    with CaptureQueriesContext(connection) as many:
        client.get(f"/accounts/{account.pk}/sandbox/")
    assert len(many) == len(few)


def test_a_reply_is_shown_under_the_post_it_answers(client, personas, login):
    account = personas.other_account
    _publish(account, "Roadworks on Main Street this week.")
    post = SandboxPost.objects.get(account=account)
    SandboxPost.objects.create(
        account=account,
        remote_id="sbx_reply",
        is_own=False,
        author_handle="aino.virtanen",
        author_name="Aino Virtanen",
        text="Which part of the street?",
        in_reply_to=post,
        thread_root=post,
    )
    login(client, personas.alice)
    body = client.get(f"/accounts/{account.pk}/sandbox/").content.decode()
    thread = body.split(f'id="post-{post.remote_id}"')[1]
    replies = thread.split('class="sandbox-replies"')[1]
    assert "Aino Virtanen" in replies
    assert "Which part of the street?" in replies
    assert ">Reply</span>" in replies
