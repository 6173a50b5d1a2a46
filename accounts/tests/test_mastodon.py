"""The Mastodon connector against the local Mastodon test server."""

from __future__ import annotations

import base64
import hashlib
import socket
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine

from accounts.connectors.base import (
    AuthError,
    MediaItem,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.mastodon import MastodonConnector, html_to_text, normalize_server_url
from accounts.connectors.registry import get_connector
from accounts.tests.helpers import channel_account

REDIRECT_URI = "https://govsocial.example/accounts/mastodon/callback/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def connector():
    return get_connector("mastodon")


@pytest.fixture
def fast():
    """A connector with a short read timeout, for tests where the server hangs."""
    impatient = MastodonConnector()
    impatient.timeout = (2.0, 0.3)
    return impatient


@pytest.fixture
def account(db, mastodon_server):
    """A connected account, as the connect flow would have stored it."""
    return channel_account(
        network="mastodon",
        handle="@comms@social.example",
        remote_id=mastodon_server.user.id,
        server_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.issue_token()},
    )


def connect(connector, server):
    client = connector.register_client(server_url=server.base_url, redirect_uri=REDIRECT_URI)
    start = connector.oauth_start(client=client)
    answer = server.approve(start.authorization_url)
    return client, start, answer


# --- connecting -------------------------------------------------------------------


def test_registering_the_app_gives_client_credentials(connector, mastodon_server):
    client = connector.register_client(
        server_url=mastodon_server.base_url + "/", redirect_uri=REDIRECT_URI
    )
    app = mastodon_server.apps[client.client_id]
    assert app.client_secret == client.client_secret
    assert app.redirect_uris == [REDIRECT_URI]
    assert "write:statuses" in app.scopes
    assert client.server_url == mastodon_server.base_url


def test_the_sign_in_address_carries_state_and_an_s256_challenge(connector, mastodon_server):
    client = connector.register_client(
        server_url=mastodon_server.base_url, redirect_uri=REDIRECT_URI
    )
    start = connector.oauth_start(client=client)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.authorization_url).query).items()}
    assert query["state"] == start.state and len(start.state) >= 20
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(start.code_verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["client_id"] == client.client_id
    assert query["redirect_uri"] == REDIRECT_URI
    assert set(query["scope"].split()) == set(client.scopes)
    assert connector.oauth_start(client=client).state != start.state


def test_oauth_with_pkce_connects_the_account(connector, mastodon_server):
    mastodon_server.user.followers_count = 1200
    client, start, answer = connect(connector, mastodon_server)
    connected = connector.oauth_finish(
        client=client,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier=start.code_verifier,
    )
    assert connected.handle == "@comms@social.example"
    assert connected.display_name == "City of Example"
    assert connected.remote_id == mastodon_server.user.id
    assert connected.server_url == mastodon_server.base_url
    token = mastodon_server.tokens[connected.credentials["access_token"]]
    assert token.account_id == mastodon_server.user.id
    assert "write:statuses" in connected.scopes
    assert connected.limits["max_text"] == 500


def test_a_changed_state_is_refused_before_the_code_is_used(connector, mastodon_server):
    client, start, answer = connect(connector, mastodon_server)
    with pytest.raises(AuthError, match="does not match"):
        connector.oauth_finish(
            client=client,
            code=answer["code"],
            returned_state="forged",
            expected_state=start.state,
            code_verifier=start.code_verifier,
        )
    assert mastodon_server.requests_to("POST", "/oauth/token") == []


def test_a_wrong_code_verifier_is_refused_by_the_server(connector, mastodon_server):
    client, start, answer = connect(connector, mastodon_server)
    with pytest.raises(AuthError, match="did not accept"):
        connector.oauth_finish(
            client=client,
            code=answer["code"],
            returned_state=answer["state"],
            expected_state=start.state,
            code_verifier="not-the-verifier-" + "x" * 40,
        )
    assert not mastodon_server.tokens or all(
        t.client_id != client.client_id for t in mastodon_server.tokens.values()
    )


def test_a_code_works_once(connector, mastodon_server):
    client, start, answer = connect(connector, mastodon_server)
    finish = {
        "client": client,
        "code": answer["code"],
        "returned_state": answer["state"],
        "expected_state": start.state,
        "code_verifier": start.code_verifier,
    }
    connector.oauth_finish(**finish)
    with pytest.raises(AuthError):
        connector.oauth_finish(**finish)


def test_disconnecting_revokes_the_token(connector, mastodon_server, db):
    from accounts.models import MastodonApp

    client = connector.register_client(
        server_url=mastodon_server.base_url, redirect_uri=REDIRECT_URI
    )
    MastodonApp.objects.create(
        server_url=client.server_url,
        client_id=client.client_id,
        client_secret=client.client_secret,
        scopes=" ".join(client.scopes),
        redirect_uri=client.redirect_uri,
    )
    token = mastodon_server.issue_token()
    mastodon_server.tokens[token].client_id = client.client_id
    account = channel_account(
        network="mastodon", server_url=mastodon_server.base_url, credentials={"access_token": token}
    )
    connector.disconnect(account)
    assert mastodon_server.tokens[token].revoked
    with pytest.raises(AuthError):
        connector.check_health(account)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("https://Mastodon.Social/", "https://mastodon.social"),
        ("https://m.example:8443", "https://m.example:8443"),
    ],
)
def test_instance_addresses_are_normalised(typed, expected):
    assert normalize_server_url(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "ftp://m.example",
        "https://m.example/@someone",
        "https://user:pw@m.example",
        "",
        # A port that is not a number or out of range, a broken IPv6 address: refused in
        # words, never a ValueError (the API fuzz run found "publishing:media").
        "publishing:media",
        "https://m.example:99999",
        "https://[m.example",
    ],
)
def test_odd_instance_addresses_are_rejected(typed):
    with pytest.raises(Rejected):
        normalize_server_url(typed)


def test_plain_http_instances_are_refused_outside_tests(settings):
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(Rejected, match="https"):
        normalize_server_url("http://m.example")


# --- publishing ---------------------------------------------------------------------


def test_publishing_posts_a_status_with_its_options(connector, account, mastodon_server):
    result = connector.publish(
        account,
        PublishRequest(
            text="Road works on Main Street from Monday.",
            language="en",
            content_warning="Traffic",
            visibility="unlisted",
            idempotency_key="job-1",
        ),
    )
    status = mastodon_server.statuses[result.remote_id]
    assert status.text == "Road works on Main Street from Monday."
    assert (status.language, status.spoiler_text, status.visibility) == (
        "en",
        "Traffic",
        "unlisted",
    )
    assert result.url == f"https://social.example/@comms/{result.remote_id}"
    assert result.published_at is not None
    (request,) = mastodon_server.requests_to("POST", "/api/v1/statuses")
    assert request.headers["Idempotency-Key"] == "job-1"


def test_the_same_idempotency_key_gives_the_same_status(connector, account, mastodon_server):
    request = PublishRequest(text="Only once, please.", idempotency_key="job-2")
    first = connector.publish(account, request)
    second = connector.publish(account, request)
    assert first.remote_id == second.remote_id
    assert len(mastodon_server.statuses_of(mastodon_server.user)) == 1


def test_every_status_is_sent_with_an_idempotency_key(connector, account, mastodon_server):
    connector.publish(account, PublishRequest(text="No key chosen"))
    (request,) = mastodon_server.requests_to("POST", "/api/v1/statuses")
    assert request.headers["Idempotency-Key"]


def test_a_reply_names_the_status_it_answers(connector, account, mastodon_server):
    citizen = mastodon_server.create_account("aino")
    question = mastodon_server.post_as(citizen, "When is the library open?")
    result = connector.reply(
        account,
        PublishRequest(text="From 9 to 18.", reply_to=RemoteRef(question.id), visibility="direct"),
    )
    status = mastodon_server.statuses[result.remote_id]
    assert status.in_reply_to_id == question.id
    assert status.visibility == "direct"


def test_an_image_is_uploaded_with_its_description_and_waited_for(
    connector, account, mastodon_server
):
    mastodon_server.media_processing_polls = 2
    result = connector.publish(
        account,
        PublishRequest(
            text="The new bridge",
            media=[MediaItem(PNG, "image/png", "A white footbridge over the river")],
        ),
    )
    (media_id,) = mastodon_server.statuses[result.remote_id].media_ids
    assert mastodon_server.media[media_id].description == "A white footbridge over the river"
    assert len(mastodon_server.requests_to("POST", "/api/v2/media")) == 1
    assert len(mastodon_server.requests_to("GET", f"/api/v1/media/{media_id}")) == 3
    assert len(mastodon_server.client_waits) == 3


def test_an_image_that_never_finishes_processing_is_a_transient_failure(
    connector, account, mastodon_server
):
    mastodon_server.media_processing_polls = 1000
    with pytest.raises(TransientError, match="still processing"):
        connector.publish(account, PublishRequest(text="x", media=[MediaItem(PNG, "image/png")]))
    assert mastodon_server.statuses_of(mastodon_server.user) == []


def test_deleting_removes_the_status_and_twice_is_harmless(connector, account, mastodon_server):
    result = connector.publish(account, PublishRequest(text="Posted by mistake"))
    connector.delete(account, result.ref)
    connector.delete(account, result.ref)
    assert mastodon_server.statuses[result.remote_id].deleted


def test_recent_posts_are_looked_up_for_reconciling(connector, account, mastodon_server):
    connector.publish(account, PublishRequest(text="One"))
    connector.publish(account, PublishRequest(text="Two"))
    recent = connector.lookup_recent(account, limit=10)
    assert [post.text for post in recent] == ["Two", "One"]


# --- errors ------------------------------------------------------------------------


def test_a_revoked_token_is_an_auth_error(connector, account, mastodon_server):
    mastodon_server.tokens[account.credentials["access_token"]].revoked = True
    with pytest.raises(AuthError) as caught:
        connector.publish(account, PublishRequest(text="Hello"))
    assert caught.value.status_code == 401
    assert caught.value.detail == "The access token is invalid"


def test_missing_scopes_are_an_auth_error(connector, account, mastodon_server):
    mastodon_server.tokens[account.credentials["access_token"]].scopes = {"read"}
    with pytest.raises(AuthError):
        connector.publish(account, PublishRequest(text="Hello"))


def test_a_refused_status_is_rejected_with_the_servers_words(connector, account, mastodon_server):
    with pytest.raises(Rejected) as caught:
        connector.publish(account, PublishRequest(text="x" * 501))
    assert caught.value.status_code == 422
    assert caught.value.reason == "Validation failed: Text character limit of 500 exceeded"
    assert "Text character limit of 500 exceeded" in caught.value.message


def test_too_many_requests_says_when_to_come_back(connector, account, mastodon_server):
    mastodon_server.rate_limit = 1
    # Windows are aligned to the clock (five minutes); this one has 4:50 left.
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC), tick=False):
        connector.check_health(account)
        with pytest.raises(RateLimited) as caught:
            connector.publish(account, PublishRequest(text="Hello"))
    assert caught.value.retry_after == 290
    assert mastodon_server.statuses_of(mastodon_server.user) == []


def test_a_server_error_on_publish_is_transient_and_not_retried(
    connector, account, mastodon_server
):
    mastodon_server.fail_next(500, method="POST", path_prefix="/api/v1/statuses")
    with pytest.raises(TransientError):
        connector.publish(account, PublishRequest(text="Hello"))
    assert len(mastodon_server.requests_to("POST", "/api/v1/statuses")) == 1


def test_a_gateway_timeout_on_publish_is_an_unknown_outcome(connector, account, mastodon_server):
    mastodon_server.fail_next(504, method="POST", path_prefix="/api/v1/statuses")
    with pytest.raises(UnknownOutcome):
        connector.publish(account, PublishRequest(text="Hello"))


def test_a_server_error_on_a_read_is_retried(connector, account, mastodon_server):
    mastodon_server.fail_next(502, path_prefix="/api/v1/accounts/verify_credentials")
    assert connector.check_health(account).handle == "@comms@social.example"


def test_a_publish_that_times_out_is_an_unknown_outcome_reconciled_by_its_key(
    fast, connector, account, mastodon_server
):
    request = PublishRequest(text="Did it go out?", idempotency_key="job-3")
    mastodon_server.hang(method="POST", path_prefix="/api/v1/statuses", after_processing=True)
    with pytest.raises(UnknownOutcome):
        fast.publish(account, request)
    mastodon_server.release()
    # It did go out; sending again with the same key finds it instead of posting twice.
    result = connector.publish(account, request)
    (status,) = mastodon_server.statuses_of(mastodon_server.user)
    assert result.remote_id == status.id


def test_a_read_that_times_out_is_transient(fast, account, mastodon_server):
    mastodon_server.hang(method="GET", after_processing=False)
    with pytest.raises(TransientError):
        fast.fetch_account_metrics(account)


def test_an_instance_that_cannot_be_reached_is_transient(connector, account):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        account.server_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(TransientError):
        connector.publish(account, PublishRequest(text="Hello"))


# --- inbox and metrics -----------------------------------------------------------------


def test_the_inbox_pages_through_notifications_with_the_link_header(
    connector, account, mastodon_server, monkeypatch
):
    monkeypatch.setattr(connector, "inbox_page_size", 2)
    citizen = mastodon_server.create_account("aino", "Aino Virtanen")
    own = connector.publish(account, PublishRequest(text="Opening hours change"))
    mastodon_server.post_as(citizen, "@comms old news", mention=mastodon_server.user)
    first = connector.fetch_inbox(account)
    assert [item.text for item in first.items] == ["@comms old news"]

    mastodon_server.post_as(citizen, "Why?", in_reply_to=own.remote_id)
    mastodon_server.post_as(citizen, "@comms a question", mention=mastodon_server.user)
    mastodon_server.post_as(
        citizen, "@comms private matter", mention=mastodon_server.user, visibility="direct"
    )
    second = connector.fetch_inbox(account, first.next_cursor)
    assert [(i.kind, i.text) for i in second.items] == [
        ("reply", "Why?"),
        ("mention", "@comms a question"),
    ]
    assert second.has_more
    assert second.items[0].in_reply_to.remote_id == own.remote_id
    assert second.items[0].author_handle == "@aino@social.example"
    assert second.items[0].author_name == "Aino Virtanen"
    third = connector.fetch_inbox(account, second.next_cursor)
    assert [(i.kind, i.text) for i in third.items] == [("dm", "@comms private matter")]
    assert not third.has_more
    empty = connector.fetch_inbox(account, third.next_cursor)
    assert empty.items == [] and empty.next_cursor == third.next_cursor
    (request, *_) = mastodon_server.requests_to("GET", "/api/v1/notifications")
    assert request.query["types[]"] == ["mention", "quote"]


def test_a_first_sync_that_finds_nothing_still_reads_a_later_burst_in_full(
    connector, account, mastodon_server
):
    first = connector.fetch_inbox(account)
    assert first.items == [] and first.next_cursor
    citizen = mastodon_server.create_account("aino", "Aino Virtanen")
    for number in range(100):
        mastodon_server.post_as(citizen, f"@comms question {number}", mention=mastodon_server.user)

    texts: list[str] = []
    cursor, has_more, calls = first.next_cursor, True, 0
    while has_more:
        page = connector.fetch_inbox(account, cursor)
        texts += [item.text for item in page.items]
        cursor, has_more, calls = page.next_cursor, page.has_more, calls + 1
        assert calls < 10

    assert texts == [f"@comms question {number}" for number in range(100)]
    assert connector.fetch_inbox(account, cursor).items == []


def test_post_metrics_come_from_the_status_counts(connector, account, mastodon_server):
    result = connector.publish(account, PublishRequest(text="Count me"))
    status = mastodon_server.statuses[result.remote_id]
    status.favourites_count, status.reblogs_count, status.replies_count = 7, 3, 2
    gone = connector.publish(account, PublishRequest(text="Gone"))
    connector.delete(account, gone.ref)
    live, deleted = connector.fetch_post_metrics(account, [result.ref, gone.ref])
    assert (live.likes, live.shares, live.replies, live.impressions) == (7, 3, 2, None)
    assert deleted.deleted


def test_account_metrics_count_followers(connector, account, mastodon_server):
    mastodon_server.user.followers_count = 4321
    assert connector.fetch_account_metrics(account).followers == 4321


def test_lengths_count_links_as_23_characters(connector):
    url = "https://www.example.org/a/very/long/path/that/goes/on/and/on?with=query"
    assert connector.text_length(f"See {url}") == 4 + 23
    assert connector.text_length("@someone@other.example hi") == len("@someone hi")
    problems = connector.validate(PublishRequest(text="x" * 490, content_warning="y" * 20))
    assert problems == ["The text is 510 characters long; the limit is 500."]


def test_limits_reported_by_the_instance_win(connector, db):
    account = channel_account(network="mastodon", network_limits={"max_text": 5000})
    assert connector.limits_for(account).max_text == 5000
    assert connector.validate(PublishRequest(text="x" * 1000), account=account) == []


def test_status_html_becomes_plain_text():
    assert html_to_text("<p>One &amp; two<br />three</p><p>four</p>") == "One & two\nthree\n\nfour"


def test_the_connector_is_the_registered_one():
    assert isinstance(get_connector("mastodon"), MastodonConnector)


# --- what a real 4.x server answers (NETWORK-APIS.md, "Shapes of real answers") ---------


def test_mentions_the_notification_policy_filters_are_read_and_never_skipped(
    connector, account, mastodon_server
):
    server = mastodon_server
    stranger = server.create_account("aino", "Aino Virtanen")
    friend = server.create_account("erik", "Erik Lindqvist")
    server.follow(server.user, friend)
    limited = server.create_account("spam", silenced=True)
    cursor = connector.fetch_inbox(account).next_cursor

    server.post_as(stranger, "@comms first contact, privately", visibility="direct")
    server.post_as(friend, "@comms hello again, privately", visibility="direct")
    server.post_as(limited, "@comms look at this")
    server.post_as(stranger, "@comms and in public")
    page = connector.fetch_inbox(account, cursor)

    # The server's default policy held back two of the four (as Mastodon's own
    # notification list would show them: not at all)...
    token = account.credentials["access_token"]
    plain = requests.get(
        server.base_url + "/api/v1/notifications",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert len(plain) == 2
    # ...and the inbox reads all four, in order, marking what the server filtered.
    assert [(i.kind, i.text, i.raw["filtered"]) for i in page.items] == [
        ("dm", "@comms first contact, privately", True),
        ("dm", "@comms hello again, privately", False),
        ("mention", "@comms look at this", True),
        ("mention", "@comms and in public", False),
    ]
    (request,) = server.requests_to("GET", "/api/v1/notifications")[1:2]
    assert request.query["include_filtered"] == ["true"]

    # A filtered one that arrives after the cursor is not skipped either.
    server.post_as(stranger, "@comms one more thing", visibility="direct")
    later = connector.fetch_inbox(account, page.next_cursor)
    assert [i.text for i in later.items] == ["@comms one more thing"]


def test_a_limited_federation_instance_connects_with_the_token(connector, mastodon_server):
    mastodon_server.limited_federation = True
    mastodon_server.max_characters = 1000
    client, start, answer = connect(connector, mastodon_server)
    connected = connector.oauth_finish(
        client=client,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier=start.code_verifier,
    )
    assert connected.handle == "@comms@social.example"
    assert connected.limits["max_text"] == 1000
    (instance,) = mastodon_server.requests_to("GET", "/api/v2/instance")
    assert instance.headers["Authorization"] == "Bearer " + connected.credentials["access_token"]


def test_an_instance_without_v2_gives_its_domain_and_limits_from_v1(connector, mastodon_server):
    mastodon_server.instance_v2 = False
    mastodon_server.max_characters = 700
    client, start, answer = connect(connector, mastodon_server)
    connected = connector.oauth_finish(
        client=client,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier=start.code_verifier,
    )
    assert connected.handle == "@comms@social.example"
    assert connected.limits["max_text"] == 700
    assert len(mastodon_server.requests_to("GET", "/api/v2/instance")) == 1
    assert len(mastodon_server.requests_to("GET", "/api/v1/instance")) == 1


def test_a_quote_post_reads_without_its_re_line_and_keeps_the_quoted_post_as_a_link(
    connector, account, mastodon_server
):
    server = mastodon_server
    citizen = server.create_account("aino")
    other = server.create_account("news", domain="press.example")
    cursor = connector.fetch_inbox(account).next_cursor
    ours = connector.publish(account, PublishRequest(text="The pool opens on Monday."))
    theirs = server.post_as(other, "Storm warning for the coast")
    server.post_as(citizen, "Finally!", quote=server.statuses[ours.remote_id])
    server.post_as(citizen, "@comms is this true?", quote=theirs)
    shown = server._status_json(server.statuses_of(citizen)[0])
    assert shown["content"].startswith('<p class="quote-inline">RE: <a href=')

    quote, mention = connector.fetch_inbox(account, cursor).items
    assert (quote.kind, quote.text) == ("quote", "Finally!")
    assert quote.in_reply_to == RemoteRef(remote_id=ours.remote_id, url=ours.url)
    assert quote.raw["quote_url"] == ours.url
    assert (mention.kind, mention.text) == ("mention", "@comms is this true?")
    assert mention.raw["quote_url"] == f"https://press.example/@news/{theirs.id}"


def test_a_quote_whose_post_is_gone_still_links_it_from_the_fallback(
    connector, account, mastodon_server
):
    server = mastodon_server
    citizen = server.create_account("aino")
    cursor = connector.fetch_inbox(account).next_cursor
    ours = connector.publish(account, PublishRequest(text="Old news"))
    server.post_as(citizen, "Remember this?", quote=server.statuses[ours.remote_id])
    server.statuses[ours.remote_id].quote_state = "revoked"
    (item,) = connector.fetch_inbox(account, cursor).items
    assert item.text == "Remember this?"
    assert item.raw["quote_url"] == ours.url


def test_a_reply_opening_with_a_remote_mention_is_found_when_reconciling(
    connector, account, mastodon_server
):
    remote = mastodon_server.create_account("bob", domain="other.example")
    question = mastodon_server.post_as(remote, "@comms where do I vote?", visibility="direct")
    text = "@bob@other.example At the library, 9 to 20. #elections https://example.org/vote"
    connector.reply(
        account, PublishRequest(text=text, reply_to=RemoteRef(question.id), visibility="direct")
    )
    (recent,) = connector.lookup_recent(account)
    assert recent.text == text
    assert recent.reply_to_id == question.id
    # The server shows the mention as the username only, the link shortened.
    (sent,) = mastodon_server.statuses_of(mastodon_server.user)
    content = mastodon_server._status_json(sent)["content"]
    assert 'class="u-url mention">@<span>bob</span></a>' in content
    assert '<span class="invisible">https://</span>' in content
    assert html_to_text(content).startswith("@bob At the library")


def test_a_full_mention_of_a_local_account_compares_as_the_server_shows_it(
    connector, account, mastodon_server
):
    citizen = mastodon_server.create_account("aino")
    question = mastodon_server.post_as(citizen, "@comms a question", visibility="direct")
    text = "@aino@social.example Here is the answer."
    connector.reply(
        account, PublishRequest(text=text, reply_to=RemoteRef(question.id), visibility="direct")
    )
    (recent,) = connector.lookup_recent(account)
    assert recent.text == "@aino Here is the answer."
    assert connector.comparable_text(text, account=account) == recent.text
    assert connector.comparable_text("@aino@social.example.org hi", account=account) == (
        "@aino@social.example.org hi"
    )


def test_a_notification_without_its_status_is_passed_over(connector, account, mastodon_server):
    server = mastodon_server
    citizen = server.create_account("aino")
    cursor = connector.fetch_inbox(account).next_cursor
    server.notify_without_status(server.user, citizen, "mention")
    server.post_as(citizen, "@comms still there?")
    page = connector.fetch_inbox(account, cursor)
    assert [i.text for i in page.items] == ["@comms still there?"]
    assert connector.fetch_inbox(account, page.next_cursor).items == []


def test_an_empty_display_name_falls_back_to_the_username(connector, account, mastodon_server):
    citizen = mastodon_server.create_account("aino", "")
    cursor = connector.fetch_inbox(account).next_cursor
    mastodon_server.post_as(citizen, "@comms hi")
    (item,) = connector.fetch_inbox(account, cursor).items
    assert mastodon_server._account_json(citizen)["display_name"] == ""
    assert (item.author_name, item.author_handle) == ("aino", "@aino@social.example")


def test_formatted_html_reads_as_the_text_people_see(connector, account, mastodon_server):
    server = mastodon_server
    citizen = server.create_account("aino")
    server.create_account("bob", domain="other.example")
    cursor = connector.fetch_inbox(account).next_cursor
    url = "https://www.example.org/a/rather/long/path/to/the/minutes.pdf"
    server.post_as(citizen, f"@comms @bob@other.example see {url} #CityCouncil\nThanks")
    (item,) = connector.fetch_inbox(account, cursor).items
    assert item.text == f"@comms @bob see {url} #CityCouncil\nThanks"


def test_a_404_with_an_empty_html_body_is_understood(connector, account, mastodon_server):
    ref = RemoteRef("not-a-status")
    (metrics,) = connector.fetch_post_metrics(account, [ref])
    assert metrics.deleted
    connector.delete(account, ref)  # already gone: nothing to do
    with pytest.raises(Rejected) as caught:
        connector.reply(account, PublishRequest(text="Hi", reply_to=RemoteRef("123")))
    assert caught.value.status_code == 404
    response = requests.get(mastodon_server.base_url + "/api/v1/statuses/x-y", timeout=5)
    assert (response.status_code, response.headers["Content-Type"], response.content) == (
        404,
        "text/html; charset=utf-8",
        b"",
    )


def test_media_uploads_have_their_own_rate_limit(connector, account, mastodon_server):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC), tick=False):
        for number in range(30):
            connector.publish(
                account,
                PublishRequest(text=f"Photo {number}", media=[MediaItem(PNG, "image/png")]),
            )
        last = mastodon_server.requests_to("POST", "/api/v2/media")[-1]
        with pytest.raises(RateLimited) as caught:
            connector.publish(
                account, PublishRequest(text="One too many", media=[MediaItem(PNG, "image/png")])
            )
        # Text alone still goes out: the API's own limit is far from spent.
        connector.publish(account, PublishRequest(text="Words only"))
    # The media window is half an hour, aligned to the clock: 29:50 left.
    assert caught.value.retry_after == 1790
    assert last.path == "/api/v2/media"
    assert len(mastodon_server.statuses_of(mastodon_server.user)) == 31


@pytest.mark.parametrize("typed", ["pds:service", "https://pds.example:0x50", "https://[pds"])
def test_odd_bluesky_server_addresses_are_rejected_in_words(typed):
    from accounts.connectors.bluesky import normalize_server_url as bluesky_server_url

    with pytest.raises(Rejected, match="is not a web address"):
        bluesky_server_url(typed)
