"""The X connector against the local X API v2 test server, with request and answer
shapes checked against the official ``xdk`` package's models."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from pydantic import BaseModel
from xdk.schemas import (
    AppendMediaUploadRequest,
    CreateDirectMessagesByParticipantIdRequest,
    CreateMediaMetadataRequest,
    CreatePostsRequest,
    CreatePostsResponse,
    GetPostsByIdsResponse,
    GetUsersMentionsResponse,
    GetUsersMeResponse,
    GetUsersPostsResponse,
    InitializeMediaUploadRequest,
    MediaUploadRequest,
    MediaUploadResponse,
)

from accounts.connectors.base import (
    AuthError,
    MediaItem,
    OAuthClient,
    Poll,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.x import SCOPES, XConnector, snowflake_time, x_text_length
from accounts.models import AccountStatus, ApiCallBudget, ApiCallCount, ChannelAccount, NetworkApp
from accounts.tests.helpers import channel_account
from accounts.usage import account_month_usage
from governance.models import Organization
from tests.factories import OrganizationFactory
from tests.x_server.server import _Request

REDIRECT_URI = "https://govsocial.example/accounts/connect/x/callback/"
CJK_160 = (  # the conformance text, full-width commas and all
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，"  # noqa: RUF001
    "乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。"  # noqa: RUF001
    "两岸猿声啼不住，轻舟已过万重山。泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，"  # noqa: RUF001
    "斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。"  # noqa: RUF001
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def assert_shape(model: type[BaseModel], payload: Any) -> None:
    """``payload`` validates against the xdk model and uses no key the model lacks."""
    model.model_validate(payload)
    unknown = set(payload) - set(model.model_fields)
    assert not unknown, f"{model.__name__} has no {sorted(unknown)}"


def last_json(server, method: str, path: str) -> dict[str, Any]:
    return json.loads(server.requests_to(method, path)[-1].body)


def form_names(server, method: str, path: str) -> set[str]:
    """The part names of the last multipart body sent to ``path``."""
    logged = server.requests_to(method, path)[-1]
    request = _Request(logged.method, logged.path, logged.query, logged.headers, logged.body)
    fields, files = request.form()
    return set(fields) | set(files)


@pytest.fixture
def connector():
    return get_connector("x")


@pytest.fixture
def app(x_server):
    return x_server.create_app(redirect_uris=[REDIRECT_URI])


@pytest.fixture
def account(db, x_server, app):
    """A connected account, as the connect flow stores it, with the org's own X app."""
    org = cast(Organization, OrganizationFactory())
    NetworkApp.objects.create(
        organization=org, network="x", client_id=app.client_id, client_secret=app.client_secret
    )
    pair = x_server.issue_token(app=app)
    return channel_account(
        organization=org,
        network="x",
        handle="@KaupunkiX",
        remote_id=x_server.user.id,
        server_url=x_server.base_url,
        credentials={**pair, "token_type": "bearer"},
        credentials_expire_at=datetime.now(UTC) + timedelta(hours=2),
        scopes=list(SCOPES),
    )


def client_for(app) -> OAuthClient:
    return OAuthClient(
        server_url="",
        client_id=app.client_id,
        client_secret=app.client_secret,
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
    )


# --- text counting ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        # twitter-text conformance/validate.yml (weighted counting; values that hold in
        # both the v2 and the current v3 configuration).
        (CJK_160, 320),
        ("the" + CJK_160, 323),
        ("😷" * 160, 320),
        ("😷👾😡🔥💩", 10),
        ("https://www.twitter.com/aloha " * 10, 240),
        ("ÁB", 2),
        ("285 chars-" + "xxxxxxxxxx-" * 25, 285),
        # v3 discounts emoji sequences: a family or a flag counts 2.
        ("a" * 280, 280),
        ("Hyvää huomenta, Helsinki!", 25),
        ("Katso https://www.hel.fi/fi/uutiset/hyvin-pitka-osoite-joka-on-paljon-pidempi", 29),
        ("https://t.co", 23),
        ("日本語", 6),
        ("🇫🇮", 2),
        ("👨‍👩‍👧‍👦", 2),
        ("café", 4),
    ],
)
def test_text_is_counted_as_x_counts_it(text, length):
    assert x_text_length(text) == length


def test_a_text_over_280_weighted_characters_is_refused_before_sending(connector):
    problems = connector.validate(PublishRequest(text="漢" * 141))
    assert problems == ["The text is 282 characters long; the limit is 280."]
    assert connector.validate(PublishRequest(text="漢" * 140)) == []


# --- connecting -------------------------------------------------------------------


def test_connecting_uses_pkce_and_basic_auth_and_stores_a_rotating_pair(connector, x_server, app):
    start = connector.oauth_start(client=client_for(app))
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"]
    digest = hashlib.sha256(start.code_verifier.encode()).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]
    assert set(query["scope"][0].split()) == set(SCOPES)
    answer = x_server.approve(start.authorization_url)

    connected = connector.oauth_finish(
        client=client_for(app),
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier=start.code_verifier,
    )

    token_call = x_server.requests_to("POST", "/2/oauth2/token")[-1]
    expected = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert connected.remote_id == x_server.user.id
    assert connected.handle == "@KaupunkiX"
    assert connected.credentials["refresh_token"] in x_server.refresh_tokens
    remaining = connected.credentials_expire_at - datetime.now(UTC)
    assert timedelta(hours=1, minutes=59) < remaining <= timedelta(hours=2)
    assert set(connected.scopes) == set(SCOPES)


def test_a_wrong_state_or_secret_does_not_connect(connector, x_server, app):
    start = connector.oauth_start(client=client_for(app))
    answer = x_server.approve(start.authorization_url)
    with pytest.raises(AuthError, match="does not match"):
        connector.oauth_finish(
            client=client_for(app),
            code=answer["code"],
            returned_state="forged",
            expected_state=start.state,
            code_verifier=start.code_verifier,
        )
    wrong = OAuthClient(
        server_url="",
        client_id=app.client_id,
        client_secret="not-the-secret",
        redirect_uri=REDIRECT_URI,
        scopes=SCOPES,
    )
    with pytest.raises(AuthError, match="did not accept the sign-in"):
        connector.oauth_finish(
            client=wrong,
            code=answer["code"],
            returned_state=answer["state"],
            expected_state=start.state,
            code_verifier=start.code_verifier,
        )


def test_users_me_answer_matches_the_xdk_model(connector, account, x_server):
    health = connector.check_health(account)
    assert health.remote_id == x_server.user.id
    call = x_server.requests_to("GET", "/2/users/me")[-1]
    assert call.query["user.fields"] == ["public_metrics,profile_image_url"]
    body = connector._send("users_me", account=None, token=account.credentials["access_token"])
    assert_shape(GetUsersMeResponse, body.json())


# --- refreshing -------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once_and_the_call_goes_through(connector, account, x_server):
    old_refresh = account.credentials["refresh_token"]
    x_server.expire_access_tokens()

    metrics = connector.fetch_account_metrics(account)

    assert metrics.followers == 1520
    account.refresh_from_db()
    assert account.credentials["refresh_token"] != old_refresh
    assert old_refresh in x_server.spent_refresh_tokens
    assert len(x_server.requests_to("POST", "/2/oauth2/token")) == 1


def test_disconnecting_revokes_the_refresh_token(connector, account, x_server):
    refresh = account.credentials["refresh_token"]
    connector.disconnect(account)
    assert x_server.refresh_tokens[refresh].revoked
    call = x_server.requests_to("POST", "/2/oauth2/revoke")[-1]
    assert call.headers["Authorization"].startswith("Basic ")


def test_a_500_on_a_post_is_an_unknown_outcome_not_a_retry(connector, account, x_server):
    x_server.fail_next(500, method="POST", path_prefix="/2/tweets")
    with pytest.raises(UnknownOutcome):
        connector.publish(account, PublishRequest(text="Ehkä meni"))
    assert len(x_server.requests_to("POST", "/2/tweets")) == 1


def test_a_spent_refresh_token_means_reconnect(connector, account, x_server):
    x_server.refresh_tokens[account.credentials["refresh_token"]].revoked = True
    x_server.expire_access_tokens()
    with pytest.raises(AuthError, match="no longer renews"):
        connector.fetch_account_metrics(account)


@pytest.mark.django_db(transaction=True)
def test_two_workers_refreshing_at_once_never_lose_the_account(x_server, app):
    """Both threads find the token expired; the row lock lets one spend the single-use
    refresh token; the other waits, sees the new pair and uses it."""
    assert connection.vendor == "postgresql"
    org = cast(Organization, OrganizationFactory())
    NetworkApp.objects.create(
        organization=org, network="x", client_id=app.client_id, client_secret=app.client_secret
    )
    pair = x_server.issue_token(app=app)
    stored = channel_account(
        organization=org,
        network="x",
        handle="@KaupunkiX",
        remote_id=x_server.user.id,
        server_url=x_server.base_url,
        credentials={**pair, "token_type": "bearer"},
        credentials_expire_at=datetime.now(UTC) - timedelta(minutes=1),
        scopes=list(SCOPES),
    )
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        from django.db import connections

        try:
            mine = ChannelAccount.objects.get(pk=stored.pk)
            barrier.wait()
            results.append(XConnector().fetch_account_metrics(mine).followers)
        except Exception as exc:  # the assertion below reports it
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert results == [1520, 1520]
    assert len(x_server.requests_to("POST", "/2/oauth2/token")) == 1
    stored.refresh_from_db()
    assert stored.status == AccountStatus.ACTIVE
    assert stored.credentials["refresh_token"] in x_server.refresh_tokens
    assert not x_server.refresh_tokens[stored.credentials["refresh_token"]].revoked


# --- publishing -------------------------------------------------------------------


def test_a_post_goes_out_with_a_body_the_xdk_model_accepts(connector, account, x_server):
    result = connector.publish(account, PublishRequest(text="Hyvää huomenta, Helsinki!"))

    body = last_json(x_server, "POST", "/2/tweets")
    assert_shape(CreatePostsRequest, body)
    assert body == {"text": "Hyvää huomenta, Helsinki!"}
    tweet = x_server.tweets[result.remote_id]
    assert tweet.text == "Hyvää huomenta, Helsinki!"
    assert result.remote_id == tweet.id and int(result.remote_id) > 2**53
    assert result.url == f"https://x.com/KaupunkiX/status/{tweet.id}"


def test_images_are_uploaded_then_described_then_attached(connector, account, x_server):
    big = PNG + b"\x01" * (1024 * 1024 + 10)
    result = connector.publish(
        account,
        PublishRequest(
            text="Uusi kirjasto",
            media=[
                MediaItem(PNG, "image/png", alt_text="Kirjaston julkisivu"),
                MediaItem(big, "image/png", alt_text="Lukusali ikkunoineen"),
            ],
        ),
    )

    tweet = x_server.tweets[result.remote_id]
    assert [x_server.media[m].alt_text for m in tweet.media_ids] == [
        "Kirjaston julkisivu",
        "Lukusali ikkunoineen",
    ]
    assert x_server.media[tweet.media_ids[1]].size == len(big)
    assert len(x_server.requests_to("POST", f"/2/media/upload/{tweet.media_ids[1]}/append")) == 2
    assert_shape(
        InitializeMediaUploadRequest, last_json(x_server, "POST", "/2/media/upload/initialize")
    )
    # Multipart bodies: the part names are the model's fields.
    append = f"/2/media/upload/{tweet.media_ids[1]}/append"
    assert form_names(x_server, "POST", append) == set(AppendMediaUploadRequest.model_fields)
    simple = form_names(x_server, "POST", "/2/media/upload")
    assert simple == {"media", "media_category"} <= set(MediaUploadRequest.model_fields)
    assert_shape(CreateMediaMetadataRequest, last_json(x_server, "POST", "/2/media/metadata"))
    assert_shape(CreatePostsRequest, last_json(x_server, "POST", "/2/tweets"))


def test_an_image_still_processing_is_waited_for(connector, account, x_server):
    x_server.media_processing_polls = 2
    big = PNG + b"\x01" * (1024 * 1024 + 10)
    result = connector.publish(
        account, PublishRequest(text="Odota", media=[MediaItem(big, "image/png", alt_text="Kuva")])
    )
    assert len(x_server.requests_to("GET", "/2/media/upload")) == 3
    assert x_server.tweets[result.remote_id].media_ids


def test_a_thread_part_is_a_reply_and_a_quote_and_poll_are_sent(connector, account, x_server):
    first = connector.publish(account, PublishRequest(text="Ketju 1/2"))
    second = connector.publish(
        account,
        PublishRequest(text="Ketju 2/2", reply_to=first.ref, thread_root=first.ref),
    )
    assert x_server.tweets[second.remote_id].in_reply_to_tweet_id == first.remote_id
    assert_shape(CreatePostsRequest, last_json(x_server, "POST", "/2/tweets"))

    with pytest.raises(Rejected, match="plan does not allow quoting this post"):
        connector.publish(account, PublishRequest(text="Lainaus", quote_of=first.ref))
    x_server.quotes_allowed = True  # an Enterprise app
    quote = connector.publish(account, PublishRequest(text="Lainaus", quote_of=first.ref))
    assert x_server.tweets[quote.remote_id].quote_tweet_id == first.remote_id
    poll = connector.publish(
        account, PublishRequest(text="Mikä päivä?", poll=Poll(["Ma", "Ti"], 60))
    )
    body = last_json(x_server, "POST", "/2/tweets")
    assert_shape(CreatePostsRequest, body)
    assert x_server.tweets[poll.remote_id].poll == {"options": ["Ma", "Ti"], "duration_minutes": 60}


def test_the_self_serve_plan_refuses_quotes_before_sending(connector, account):
    problems = connector.validate(
        PublishRequest(text="x", quote_of=RemoteRef("1")), account=account
    )
    assert "The X app's plan does not allow quoting posts." in problems


def test_a_lost_answer_is_an_unknown_outcome_and_the_duplicate_is_reconciled(account, x_server):
    impatient = XConnector()
    impatient.timeout = (2.0, 0.3)
    x_server.hang(method="POST", path_prefix="/2/tweets", after_processing=True)
    with pytest.raises(UnknownOutcome):
        impatient.publish(account, PublishRequest(text="Tiedote klo 12"))
    x_server.release()
    assert len(x_server.tweets_of(x_server.user)) == 1

    again = XConnector().publish(account, PublishRequest(text="Tiedote klo 12"))

    posts = x_server.tweets_of(x_server.user)
    assert len(posts) == 1
    assert again.remote_id == posts[0].id
    assert again.extra == {"reconciled": "duplicate"}


@pytest.mark.parametrize(
    ("text", "media"),
    [
        ("Lue lisää https://www.hel.fi/fi/uutiset?id=12 ja hel.fi/kirjasto", False),
        ("Uusi lukusali https://www.hel.fi/kirjasto", True),
        ("", True),
    ],
)
def test_a_lost_answer_on_a_post_with_links_or_an_image_is_found_not_sent_again(
    account, x_server, text, media
):
    """X shows links as t.co links and adds one for the image: the look-up puts the
    links back and leaves the image's out before comparing with what was sent."""
    request = PublishRequest(
        text=text, media=[MediaItem(PNG, "image/png", alt_text="Lukusali")] if media else []
    )
    impatient = XConnector()
    impatient.timeout = (2.0, 0.3)
    x_server.hang(method="POST", path_prefix="/2/tweets", after_processing=True)
    with pytest.raises(UnknownOutcome):
        impatient.publish(account, request)
    x_server.release()
    [tweet] = x_server.tweets_of(x_server.user)
    assert "https://t.co/" in tweet.text and "hel.fi" not in tweet.text
    assert all(len(u["url"]) == 23 for u in tweet.urls)

    # The dispatcher's look-up (publishing._reconcile) sees the text as it was sent.
    [recent] = XConnector().lookup_recent(account)
    assert recent.text == XConnector().comparable_text(text)
    assert recent.ref.remote_id == tweet.id
    raw = (
        XConnector()
        ._send(
            "user_posts",
            account=None,
            token=account.credentials["access_token"],
            path_id=account.remote_id,
            params={"tweet.fields": "entities"},
        )
        .json()
    )
    assert_shape(GetUsersPostsResponse, raw)
    assert raw["data"][0]["entities"]["urls"] == tweet.urls

    if not text:
        return  # X has no duplicate check for a post without text
    # Sending again (the connector's own duplicate check): found, not refused, not sent.
    again = XConnector().publish(account, request)
    assert again.remote_id == tweet.id
    assert again.extra == {"reconciled": "duplicate"}
    assert len(x_server.tweets_of(x_server.user)) == 1


def test_a_mention_shows_its_links_as_written(connector, account, x_server):
    citizen = x_server.create_user("kuntalainen", "Kuntalainen")
    first = connector.fetch_inbox(account)
    x_server.post_as(citizen, "@KaupunkiX katsokaa https://www.hel.fi/fi/tapahtumat/1")
    [item] = connector.fetch_inbox(account, first.next_cursor).items
    assert item.text == "@KaupunkiX katsokaa https://www.hel.fi/fi/tapahtumat/1"


def test_a_duplicate_of_an_old_post_is_refused_with_a_reason(connector, account, x_server):
    x_server.post_as(x_server.user, "Sama teksti", created_at=datetime.now(UTC) - timedelta(days=2))
    with pytest.raises(Rejected, match="duplicate of one already on the account"):
        connector.publish(account, PublishRequest(text="Sama teksti"))


def test_rate_limits_usage_caps_and_outages_are_told_apart(connector, account, x_server):
    x_server.limits["POST /2/tweets"] = 1
    connector.publish(account, PublishRequest(text="Eka"))
    with pytest.raises(RateLimited, match="Rate limited until") as limited:
        connector.publish(account, PublishRequest(text="Toka"))
    assert 800 < (limited.value.retry_after or 0) <= 900

    x_server.usage_capped = True
    with pytest.raises(RateLimited, match="used up its API allowance") as capped:
        connector.fetch_account_metrics(account)
    assert (capped.value.retry_after or 0) > 0
    x_server.usage_capped = False

    x_server.fail_next(503, path_prefix="/2/users/me", times=5)
    with pytest.raises(TransientError):
        connector.fetch_account_metrics(account)


def test_every_answer_carries_rate_limit_headers_in_varying_case(connector, account, x_server):
    import requests

    token = account.credentials["access_token"]
    answers = [
        requests.get(f"{x_server.base_url}/2/users/me", timeout=5),  # no token: 401
        requests.get(
            f"{x_server.base_url}/2/users/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ),
        requests.post(f"{x_server.base_url}/2/oauth2/token", data={}, timeout=5),
        requests.post(
            f"{x_server.base_url}/2/media/metadata",
            json={"id": "1"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ),
    ]
    assert [a.status_code for a in answers] == [401, 200, 401, 400]
    for answer in answers:
        assert answer.headers["x-rate-limit-reset"].isdigit()
        assert int(answer.headers["x-rate-limit-remaining"]) >= 0
    raw_names = set(answers[3].raw.headers)
    assert "X-Rate-Limit-Limit" in raw_names and "x-rate-limit-limit" not in raw_names
    assert answers[0].headers["Content-Type"] == "application/problem+json"
    assert answers[0].json()["type"] == "about:blank"


def test_an_app_outside_a_project_is_told_in_words(connector, account, x_server):
    # The answer X gives an app that is not attached to a project (response-codes page).
    x_server.fail_next(
        403,
        path_prefix="/2/users/",
        body={
            "client_id": "101010",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must "
            "use keys and tokens from a Twitter developer App that is attached to a Project.",
            "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
            "title": "Client Forbidden",
            "required_enrollment": "Appropriate Level of API Access",
            "reason": "client-not-enrolled",
            "type": "https://api.twitter.com/2/problems/client-forbidden",
        },
    )
    with pytest.raises(Rejected, match="must belong to a project"):
        connector.fetch_inbox(account)


def test_a_reply_to_a_post_that_did_not_summon_us_is_refused_in_words(connector, account, x_server):
    stranger = x_server.create_user("naapuri")
    unrelated = x_server.post_as(stranger, "Kaunis päivä")
    with pytest.raises(Rejected, match="only to posts that mention or quote"):
        connector.reply(account, PublishRequest(text="Kiitos!", reply_to=RemoteRef(unrelated.id)))


# --- inbox, metrics, budget ------------------------------------------------------


def test_mentions_and_replies_arrive_once_with_a_since_id_cursor(connector, account, x_server):
    first = connector.fetch_inbox(account)
    assert first.items == []
    citizen = x_server.create_user("kuntalainen", "Kuntalainen")
    ours = connector.publish(account, PublishRequest(text="Tiedote"))
    reply = x_server.post_as(citizen, "@KaupunkiX milloin?", in_reply_to=ours.remote_id)
    mentions = [x_server.post_as(citizen, f"@kaupunkix kysymys {n}") for n in range(120)]

    page = connector.fetch_inbox(account, first.next_cursor)

    assert len(page.items) == 121
    by_id = {item.remote_id: item for item in page.items}
    assert by_id[reply.id].kind == "reply"
    assert by_id[reply.id].in_reply_to == RemoteRef(ours.remote_id)
    assert by_id[mentions[0].id].kind == "mention"
    assert by_id[mentions[0].id].author_handle == "@kuntalainen"
    body = x_server.requests_to("GET", f"/2/users/{x_server.user.id}/mentions")[-1]
    assert "since_id" not in body.query  # the first sync started from its own time
    raw = connector._send(
        "mentions",
        account=None,
        token=account.credentials["access_token"],
        path_id=account.remote_id,
        params={"max_results": 5, "tweet.fields": "created_at", "expansions": "author_id"},
    ).json()
    assert_shape(GetUsersMentionsResponse, raw)

    later = connector.fetch_inbox(account, page.next_cursor)
    assert later.items == []
    assert page.next_cursor.split(";")[0] == mentions[-1].id


def test_an_empty_timeline_has_no_data_key_and_parses(connector, account, x_server):
    raw = connector._send(
        "user_posts",
        account=None,
        token=account.credentials["access_token"],
        path_id=account.remote_id,
        params={"max_results": 5},
    ).json()
    assert raw == {"meta": {"result_count": 0}}
    assert_shape(GetUsersPostsResponse, raw)
    assert connector.lookup_recent(account) == []


def test_direct_messages_arrive_and_are_answered_in_the_conversation(connector, account, x_server):
    citizen = x_server.create_user("asukas")
    first = connector.fetch_inbox(account)
    x_server.send_dm(citizen, x_server.user, "Hei, roskis on täynnä")

    page = connector.fetch_inbox(account, first.next_cursor)

    [dm] = page.items
    assert dm.kind == "dm" and dm.author_handle == "@asukas"
    result = connector.reply(
        account,
        PublishRequest(
            text="Kiitos, välitämme tiedon.",
            reply_to=RemoteRef(dm.remote_id, url=dm.url),
            visibility="direct",
        ),
    )
    sent = x_server.dm_events[result.remote_id.removeprefix("dm:")]
    assert sent.recipient_id == citizen.id
    assert_shape(
        CreateDirectMessagesByParticipantIdRequest,
        last_json(x_server, "POST", f"/2/dm_conversations/with/{citizen.id}/messages"),
    )
    assert connector.fetch_inbox(account, page.next_cursor).items == []


def test_metrics_use_non_public_impressions_where_allowed_and_mark_deleted_posts(
    connector, account, x_server
):
    recent = x_server.post_as(x_server.user, "Uusi")
    recent.like_count, recent.impression_count = 4, 900
    old = x_server.post_as(
        x_server.user, "Vanha", created_at=datetime.now(UTC) - timedelta(days=40)
    )
    old.retweet_count, old.impression_count = 2, 50

    metrics = connector.fetch_post_metrics(
        account, [RemoteRef(recent.id), RemoteRef(old.id), RemoteRef("1880028106020599999")]
    )

    assert [(m.remote_id, m.likes, m.shares, m.impressions, m.deleted) for m in metrics] == [
        (recent.id, 4, 0, 900, False),
        (old.id, 0, 2, 50, False),
        ("1880028106020599999", None, None, None, True),
    ]
    # The old post's id told its age: it was asked for public numbers only, so no
    # (paid) call went to a refusal.
    lookups = [r.query for r in x_server.requests_to("GET", "/2/tweets")]
    assert [(q["ids"][0].split(","), q["tweet.fields"][0]) for q in lookups] == [
        ([recent.id], "public_metrics,non_public_metrics"),
        ([old.id, "1880028106020599999"], "public_metrics"),
    ]
    made = snowflake_time(recent.id)
    assert made is not None and abs(made - datetime.now(UTC)) < timedelta(minutes=1)
    raw = connector._send(
        "lookup_posts",
        account=None,
        token=account.credentials["access_token"],
        params={"ids": f"{recent.id},1", "tweet.fields": "public_metrics"},
    ).json()
    assert set(raw) == {"data", "errors"}
    assert_shape(GetPostsByIdsResponse, raw)


def test_every_call_is_counted_and_a_spent_budget_stops_pulls_not_publishing(
    connector, account, x_server
):
    connector.fetch_account_metrics(account)
    connector.publish(account, PublishRequest(text="Laskuri"))
    usage = account_month_usage(account)
    assert usage.calls == 2
    assert dict(usage.by_endpoint) == {"GET /2/users/me": 1, "POST /2/tweets": 1}
    assert ApiCallCount.objects.get(account=account, endpoint="POST /2/tweets").count == 1

    ApiCallBudget.objects.create(account=account, monthly_calls=2)
    with pytest.raises(RateLimited, match="monthly budget of 2 X API calls is spent"):
        connector.fetch_inbox(account)
    with pytest.raises(RateLimited, match="budget"):
        connector.fetch_post_metrics(account, [RemoteRef("1")])
    calls_before = len(x_server.requests)
    connector.publish(account, PublishRequest(text="Julkaisu menee silti"))
    assert len(x_server.requests) == calls_before + 1


def test_the_create_answer_matches_the_xdk_model(connector, account, x_server):
    connector.publish(account, PublishRequest(text="Muoto", media=[MediaItem(PNG, "image/png")]))
    token = account.credentials["access_token"]
    answer = connector._send(
        "create_post", account=None, token=token, json={"text": "Muoto 2"}
    ).json()
    assert_shape(CreatePostsResponse, answer)
    upload = connector._send(
        "media_upload",
        account=None,
        token=token,
        files={"media": ("a.png", PNG, "image/png")},
        data={"media_category": "tweet_image"},
    )
    assert_shape(MediaUploadResponse, upload.json())
    assert upload.headers["x-rate-limit-remaining"] == str(500 - 2)


def test_the_background_renewal_waits_for_the_tokens_last_minutes(account, x_server):
    from accounts.tasks import refresh_credentials

    refresh_credentials(account.pk)  # two hours left: nothing to do yet
    assert x_server.requests_to("POST", "/2/oauth2/token") == []
    ChannelAccount.objects.filter(pk=account.pk).update(
        credentials_expire_at=datetime.now(UTC) + timedelta(minutes=10)
    )
    refresh_credentials(account.pk)
    account.refresh_from_db()
    assert len(x_server.requests_to("POST", "/2/oauth2/token")) == 1
    assert account.credentials_expire_at > datetime.now(UTC) + timedelta(hours=1)


def test_deleting_a_post_removes_it_and_a_second_delete_is_harmless(connector, account, x_server):
    result = connector.publish(account, PublishRequest(text="Poistettava"))
    connector.delete(account, result.ref)
    assert x_server.tweets[result.remote_id].deleted
    connector.delete(account, result.ref)
    assert x_server.tweets_of(x_server.user) == []
