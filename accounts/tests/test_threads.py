"""The Threads connector against the local Threads test server."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from accounts.connectors.base import (
    AuthError,
    MediaItem,
    OAuthClient,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.threads import SCOPES, ThreadsConnector, threads_length
from accounts.models import PublishCheckpoint
from accounts.tests.helpers import channel_account

REDIRECT_URI = "https://govsocial.example/accounts/threads/callback/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def connector():
    return get_connector("threads")


@pytest.fixture
def fast():
    """A connector with a short read timeout, for tests where the server hangs."""
    impatient = ThreadsConnector()
    impatient.timeout = (2.0, 0.3)
    return impatient


@pytest.fixture
def account(db, threads_server):
    """A connected account, as the connect flow would have stored it."""
    return channel_account(
        network="threads",
        handle="@cityofexample",
        remote_id=threads_server.user.id,
        server_url=threads_server.base_url,
        credentials={
            "access_token": threads_server.issue_token(age=timedelta(days=2)),
            "issued_at": (timezone.now() - timedelta(days=2)).isoformat(),
        },
        scopes=list(SCOPES),
    )


def client_for(server) -> OAuthClient:
    server.app.redirect_uris.append(REDIRECT_URI)
    return OAuthClient(
        server_url=server.base_url,
        client_id=server.app.id,
        client_secret=server.app.secret,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
    )


def image(server, content=JPEG, mime="image/jpeg", alt="") -> MediaItem:
    return MediaItem(
        content=content,
        mime_type=mime,
        alt_text=alt,
        public_url=server.host_file(content, mime),
    )


# --- connecting -------------------------------------------------------------------


def test_it_connects_with_a_long_lived_token_and_the_granted_permissions(connector, threads_server):
    client = client_for(threads_server)
    start = connector.oauth_start(client=client)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["scope"] == [",".join(SCOPES)]
    assert query["state"] == [start.state]
    assert query["response_type"] == ["code"]
    answer = threads_server.approve(start.authorization_url)

    connected = connector.oauth_finish(
        client=client,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier="",
    )

    assert connected.remote_id == threads_server.user.id
    assert connected.handle == "@cityofexample"
    assert connected.display_name == "City of Example"
    assert set(connected.scopes) == set(SCOPES)
    token = threads_server.tokens[connected.credentials["access_token"]]
    assert token.long_lived
    assert connected.credentials_expire_at is not None
    assert connected.credentials_expire_at - timezone.now() > timedelta(days=59)
    # The short-lived token's user_id was a number; we keep ids as strings.
    assert isinstance(connected.remote_id, str)


def test_it_refuses_an_answer_whose_state_is_not_ours(connector, threads_server):
    client = client_for(threads_server)
    start = connector.oauth_start(client=client)
    answer = threads_server.approve(start.authorization_url)
    with pytest.raises(AuthError):
        connector.oauth_finish(
            client=client,
            code=answer["code"],
            returned_state="forged",
            expected_state=start.state,
            code_verifier="",
        )
    assert not threads_server.requests_to("POST", "/oauth/access_token")


def test_a_used_code_is_refused_with_a_message_to_start_again(connector, threads_server):
    client = client_for(threads_server)
    start = connector.oauth_start(client=client)
    answer = threads_server.approve(start.authorization_url)
    args = {
        "client": client,
        "code": answer["code"],
        "returned_state": answer["state"],
        "expected_state": start.state,
        "code_verifier": "",
    }
    connector.oauth_finish(**args)
    with pytest.raises(AuthError, match="Start connecting again"):
        connector.oauth_finish(**args)


def test_it_refuses_a_connection_without_the_publishing_permission(connector, threads_server):
    client = client_for(threads_server)
    client = OAuthClient(**{**client.__dict__, "scopes": ("threads_basic",)})
    start = connector.oauth_start(client=client)
    answer = threads_server.approve(start.authorization_url)
    with pytest.raises(AuthError, match="threads_content_publish"):
        connector.oauth_finish(
            client=client,
            code=answer["code"],
            returned_state=answer["state"],
            expected_state=start.state,
            code_verifier="",
        )


def test_health_reports_the_permissions_the_token_really_has(connector, account, threads_server):
    account.credentials = {
        "access_token": threads_server.issue_token(
            scopes={"threads_basic", "threads_content_publish"}
        )
    }
    health = connector.check_health(account)
    assert health.remote_id == threads_server.user.id
    assert health.handle == "@cityofexample"
    assert set(health.scopes) == {"threads_basic", "threads_content_publish"}


def test_a_revoked_token_is_an_auth_error(connector, account, threads_server):
    threads_server.tokens[account.credentials["access_token"]].revoked = True
    with pytest.raises(AuthError) as caught:
        connector.check_health(account)
    assert json.loads(caught.value.detail)["code"] == 190


# --- token lifecycle ----------------------------------------------------------------


def test_it_refreshes_a_long_lived_token_for_sixty_more_days(connector, account, threads_server):
    old = account.credentials["access_token"]
    update = connector.refresh_credentials(account)
    assert update.credentials["access_token"] != old
    assert threads_server.tokens[update.credentials["access_token"]].long_lived
    assert update.expires_at is not None
    assert update.expires_at - timezone.now() > timedelta(days=59)


def test_a_token_younger_than_a_day_is_not_refreshed_yet(connector, account, threads_server):
    account.credentials = {
        "access_token": threads_server.issue_token(),
        "issued_at": timezone.now().isoformat(),
    }
    with pytest.raises(TransientError, match="a day old"):
        connector.refresh_credentials(account)
    assert not threads_server.requests_to("GET", "/refresh_access_token")


def test_an_expired_token_cannot_be_refreshed_and_asks_for_reconnecting(
    connector, account, threads_server
):
    account.credentials = {
        "access_token": threads_server.issue_token(age=timedelta(days=61)),
        "issued_at": (timezone.now() - timedelta(days=61)).isoformat(),
    }
    with pytest.raises(AuthError):
        connector.refresh_credentials(account)


def test_threads_tokens_are_renewed_a_month_before_they_end(db):
    from accounts.selectors import channel_accounts_due_for_refresh

    soon = channel_account(
        network="threads", credentials_expire_at=timezone.now() + timedelta(days=25)
    )
    channel_account(network="threads", credentials_expire_at=timezone.now() + timedelta(days=45))
    assert list(channel_accounts_due_for_refresh()) == [soon]


# --- publishing ---------------------------------------------------------------------


def test_it_publishes_text_through_a_container(connector, account, threads_server):
    result = connector.publish(account, PublishRequest(text="Hei Helsinki!", idempotency_key="k1"))
    [post] = threads_server.posts_of(threads_server.user)
    assert post.id == result.remote_id
    assert post.text == "Hei Helsinki!"
    assert result.url.endswith("/post/" + post.shortcode)
    container_id = result.extra["container_id"]
    assert threads_server.containers[container_id].status == "PUBLISHED"
    checkpoint = PublishCheckpoint.objects.get(channel_account=account, key="k1")
    assert checkpoint.data["container_id"] == container_id


def test_a_link_in_the_text_becomes_the_link_attachment(connector, account, threads_server):
    connector.publish(
        account, PublishRequest(text="Lue lisää: https://www.hel.fi/fi/uutiset. Kiitos!")
    )
    [post] = threads_server.posts_of(threads_server.user)
    assert post.link_attachment == "https://www.hel.fi/fi/uutiset"


def test_reply_control_is_sent(connector, account, threads_server):
    request = PublishRequest(text="Vain seuraajat", reply_control="followers_only")
    connector.publish(account, request)
    [post] = threads_server.posts_of(threads_server.user)
    assert post.reply_control == "followers_only"


def test_it_publishes_an_image_with_its_alt_text_fetched_from_the_public_url(
    connector, account, threads_server
):
    item = image(threads_server, alt="Kaupungintalo talvella")
    connector.publish(account, PublishRequest(text="Talvi tuli", media=[item]))
    [post] = threads_server.posts_of(threads_server.user)
    assert post.media_type == "IMAGE"
    assert post.image_bytes == JPEG
    assert post.alt_text == "Kaupungintalo talvella"


def test_it_publishes_a_carousel_of_finished_items(connector, account, threads_server):
    threads_server.processing_polls = 2
    media = [image(threads_server, alt=f"Kuva {n}") for n in range(3)]
    connector.publish(account, PublishRequest(text="Kolme kuvaa", media=media))
    [post] = threads_server.posts_of(threads_server.user)
    assert post.media_type == "CAROUSEL_ALBUM"
    children = [threads_server.media[c] for c in post.children]
    assert [c.alt_text for c in children] == ["Kuva 0", "Kuva 1", "Kuva 2"]
    # It waited (recorded, not slept) while the containers were processing.
    assert threads_server.client_waits


def test_an_image_without_a_public_address_is_refused_before_any_call(
    connector, account, threads_server
):
    item = MediaItem(content=JPEG, mime_type="image/jpeg")
    with pytest.raises(Rejected, match="public web address"):
        connector.publish(account, PublishRequest(text="x", media=[item]))
    assert not threads_server.requests_to("POST", f"/v1.0/{threads_server.user.id}/threads")


def test_a_container_error_is_explained(connector, account, threads_server):
    broken = MediaItem(
        content=JPEG, mime_type="image/jpeg", public_url=threads_server.base_url + "/files/gone"
    )
    with pytest.raises(Rejected, match="could not download the image"):
        connector.publish(account, PublishRequest(text="x", media=[broken]))
    assert not threads_server.posts_of(threads_server.user)


def test_a_wrong_kind_of_image_is_explained(connector, account, threads_server):
    gif = MediaItem(
        content=b"GIF89a",
        mime_type="image/gif",
        public_url=threads_server.host_file(b"GIF89a", "image/gif"),
    )
    with pytest.raises(Rejected, match="JPEG or PNG"):
        connector.publish(account, PublishRequest(text="x", media=[gif]))


def test_a_timeout_on_publish_is_an_unknown_outcome_and_the_retry_does_not_post_twice(
    fast, account, threads_server
):
    request = PublishRequest(text="Tärkeä tiedote", idempotency_key="once")
    threads_server.hang(method="POST", path_prefix="/v1.0/", after_processing=True)
    # Only the publish call hangs: creating the container answered before.
    threads_server._hangs[0].path_prefix = f"/v1.0/{threads_server.user.id}/threads_publish"
    with pytest.raises(UnknownOutcome):
        fast.publish(account, request)
    threads_server.release()
    assert len(threads_server.posts_of(threads_server.user)) == 1

    result = fast.publish(account, request)

    [post] = threads_server.posts_of(threads_server.user)
    assert result.remote_id == post.id
    assert len(threads_server.requests_to("POST", f"/v1.0/{threads_server.user.id}/threads")) == 1


def test_a_lost_publish_that_never_happened_reuses_the_prepared_container(
    connector, account, threads_server
):
    request = PublishRequest(text="Uudestaan", idempotency_key="again")
    threads_server.fail_next(
        503, path_prefix=f"/v1.0/{threads_server.user.id}/threads_publish", times=1
    )
    with pytest.raises(TransientError):
        connector.publish(account, request)
    assert not threads_server.posts_of(threads_server.user)
    connector.publish(account, request)
    assert len(threads_server.posts_of(threads_server.user)) == 1
    assert len(threads_server.requests_to("POST", f"/v1.0/{threads_server.user.id}/threads")) == 1


def test_an_expired_container_is_prepared_again(connector, account, threads_server):
    request = PublishRequest(text="Vanhentunut", idempotency_key="expired")
    threads_server.processing_polls = 50
    with pytest.raises(TransientError, match="still processing"):
        connector.publish(account, request)
    [container] = threads_server.containers.values()
    threads_server.expire_container(container.id)
    threads_server.processing_polls = 0
    connector.publish(account, request)
    assert len(threads_server.containers) == 2
    assert len(threads_server.posts_of(threads_server.user)) == 1


def test_recent_posts_include_published_replies(connector, account, threads_server):
    first = connector.publish(account, PublishRequest(text="Ensimmäinen"))
    connector.reply(
        account,
        PublishRequest(text="Jatkoa", reply_to=RemoteRef(remote_id=first.remote_id)),
    )
    recent = connector.lookup_recent(account, since=timezone.now() - timedelta(minutes=5))
    texts = {(p.text, p.reply_to_id) for p in recent}
    assert ("Ensimmäinen", "") in texts
    assert ("Jatkoa", first.remote_id) in texts


def test_the_publishing_limit_is_read(connector, account, threads_server):
    connector.publish(account, PublishRequest(text="Yksi"))
    limit = connector.publishing_quota(account)
    assert (limit.posts_used, limit.posts_total) == (1, 250)
    assert (limit.replies_used, limit.replies_total) == (0, 1000)


# --- errors -------------------------------------------------------------------------


def test_throttling_codes_are_rate_limits(connector, account, threads_server):
    threads_server.fail_next(400, code=4, message="Application request limit reached")
    with pytest.raises(RateLimited):
        connector.check_health(account)


def test_a_missing_permission_asks_for_reconnecting(connector, account, threads_server):
    account.credentials = {"access_token": threads_server.issue_token(scopes={"threads_basic"})}
    with pytest.raises(AuthError, match="permission"):
        connector.publish(account, PublishRequest(text="x"))


def test_too_long_text_is_rejected_in_words(connector, account, threads_server):
    with pytest.raises(Rejected, match="500 characters"):
        connector.publish(account, PublishRequest(text="a" * 501))


def test_graph_errors_1_and_2_are_transient(connector, account, threads_server):
    threads_server.fail_next(500, code=2, times=3)
    with pytest.raises(TransientError):
        connector.check_health(account)


def test_emoji_count_as_their_utf8_bytes(connector):
    assert threads_length("Hei 👋") == 4 + 4
    assert connector.text_length("ääkköset") == 8
    problems = connector.validate(PublishRequest(text="👋" * 126))
    assert problems and "504" in problems[0]


# --- inbox, moderation and metrics ----------------------------------------------------


def test_the_inbox_brings_replies_and_mentions_once(connector, account, threads_server):
    ours = connector.publish(account, PublishRequest(text="Kysy meiltä"))
    citizen = threads_server.create_user("kuntalainen", "Kuntalainen")
    reply = threads_server.post_as(citizen, "Milloin auki?", reply_to=ours.remote_id)
    nested = threads_server.post_as(threads_server.user, "Klo 8", reply_to=reply.id)
    mention = threads_server.post_as(citizen, "@cityofexample kiitos!", mention=threads_server.user)

    page = connector.fetch_inbox(account)

    by_id = {item.remote_id: item for item in page.items}
    assert set(by_id) == {reply.id, mention.id}  # our own answer is not an inbox item
    assert by_id[reply.id].kind == "reply"
    assert by_id[reply.id].author_handle == "@kuntalainen"
    assert by_id[reply.id].in_reply_to == RemoteRef(remote_id=ours.remote_id)
    assert by_id[mention.id].kind == "mention"
    assert nested.id not in by_id

    again = connector.fetch_inbox(account, page.next_cursor)
    assert again.items == []
    later = threads_server.post_as(citizen, "Entä lauantaina?", reply_to=ours.remote_id)
    third = connector.fetch_inbox(account, again.next_cursor)
    assert [item.remote_id for item in third.items] == [later.id]


def test_it_answers_a_reply_and_hides_and_unhides_one(connector, account, threads_server):
    ours = connector.publish(account, PublishRequest(text="Palaute"))
    rude = threads_server.post_as(
        threads_server.create_user("troll"), "Rumaa tekstiä", reply_to=ours.remote_id
    )
    answer = connector.reply(
        account, PublishRequest(text="Kiitos palautteesta", reply_to=RemoteRef(rude.id))
    )
    assert threads_server.media[answer.remote_id].replied_to == rude.id

    connector.hide_reply(account, RemoteRef(rude.id))
    assert threads_server.media[rude.id].hidden
    assert threads_server.media[answer.remote_id].hidden  # nested replies follow
    connector.hide_reply(account, RemoteRef(rude.id), hide=False)
    assert not threads_server.media[rude.id].hidden


def test_post_and_account_metrics(connector, account, threads_server):
    ours = connector.publish(account, PublishRequest(text="Mittarit"))
    media = threads_server.media[ours.remote_id]
    media.views, media.likes, media.reposts, media.shares, media.quotes = 120, 7, 2, 1, 3
    threads_server.post_as(threads_server.create_user("a"), "Hyvä", reply_to=ours.remote_id)
    threads_server.user.followers_count = 4321

    [metrics] = connector.fetch_post_metrics(account, [RemoteRef(ours.remote_id)])
    assert (metrics.impressions, metrics.likes, metrics.replies) == (120, 7, 1)
    assert (metrics.shares, metrics.quotes) == (3, 3)
    assert connector.fetch_account_metrics(account).followers == 4321


def test_metrics_of_a_deleted_post_say_deleted(connector, account, threads_server):
    ours = connector.publish(account, PublishRequest(text="Poistetaan"))
    connector.delete(account, RemoteRef(ours.remote_id))
    assert threads_server.media[ours.remote_id].deleted
    [metrics] = connector.fetch_post_metrics(account, [RemoteRef(ours.remote_id)])
    assert metrics.deleted


def test_a_threads_sign_in_still_unrenewed_two_weeks_before_its_end_is_announced(db):
    from accounts.selectors import channel_accounts_with_expiring_credentials

    stuck = channel_account(
        network="threads", credentials_expire_at=timezone.now() + timedelta(days=10)
    )
    channel_account(network="bluesky", credentials_expire_at=timezone.now() + timedelta(days=10))
    assert channel_accounts_with_expiring_credentials() == [stuck]


def test_metric_pulls_stop_before_the_call_budget_runs_out(connector, account, threads_server):
    posts = [connector.publish(account, PublishRequest(text=f"Post {n}")) for n in range(12)]
    # From here on the app may make 10 calls; X-App-Usage reports the share used.
    threads_server.call_limit = 10
    threads_server._calls.clear()
    refs = [RemoteRef(p.remote_id) for p in posts]

    with pytest.raises(RateLimited) as caught:
        connector.fetch_post_metrics(account, refs)

    assert caught.value.retry_after == 15 * 60
    insight_calls = [r for r in threads_server.requests if r.path.endswith("/insights")]
    # It stopped once 80 % was used, before Threads refused anything (code 4 at 100 %).
    assert len(insight_calls) == 8
