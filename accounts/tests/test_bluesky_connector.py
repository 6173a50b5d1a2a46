"""The Bluesky connector without a network: facets and their byte offsets, grapheme
counting, record keys from idempotency keys, and how each answer of a PDS is classified.

The PDS here is a stand-in for ``accounts.http.http_request`` that answers as the real
one was measured to answer (``tests/test_bsky_network.py``); the live tests
(``tests/test_bluesky_live.py``) run the same connector against the real servers.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import UTC, datetime

import pytest
import time_machine
from requests.structures import CaseInsensitiveDict

from accounts import http
from accounts.connectors.base import (
    AuthError,
    PublishRequest,
    RateLimited,
    Rejected,
    RemoteRef,
    TransientError,
    UnknownOutcome,
)
from accounts.connectors.bluesky import (
    TID_ALPHABET,
    BlueskyConnector,
    NotAnAppPassword,
    UnknownHandle,
    normalize_identifier,
    tid_from_key,
)
from accounts.connectors.registry import get_connector
from accounts.connectors.text import bluesky_facet_spans, grapheme_length
from accounts.models import AccountStatus, ChannelAccount
from accounts.tests.helpers import channel_account
from governance.models import Notification

PDS = "https://pds.example"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
CITIZEN_DID = "did:plc:citizencitizencitizenaa"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def jwt(**claims) -> str:
    def part(value) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'HS256'})}.{part(claims)}.signature"


def session_tokens(number: int = 1, scope: str = "com.atproto.appPass") -> dict[str, str]:
    now = int(time.time())
    return {
        "accessJwt": jwt(scope=scope, sub=DID, exp=now + 7200, n=number),
        "refreshJwt": jwt(scope="com.atproto.refresh", sub=DID, exp=now + 90 * 86400, n=number),
    }


def answer(status: int = 200, body=None, headers=None) -> http.HttpResponse:
    headers = CaseInsensitiveDict(headers or {})
    return http.HttpResponse(
        method="",
        url="",
        status=status,
        headers=headers,
        content=json.dumps(body).encode() if body is not None else b"",
        elapsed_ms=1,
        retry_after=http.parse_retry_after(headers, status=status),
        rate_limit=http.parse_rate_limit(headers),
    )


def xrpc_error(status: int, error: str, message: str = "") -> http.HttpResponse:
    return answer(status, {"error": error, "message": message})


class FakePds:
    """Answers XRPC calls by method name, in order; the last answer repeats."""

    def __init__(self) -> None:
        self.answers: dict[str, list] = {}
        self.calls: list[tuple[str, str, dict]] = []

    def on(self, nsid: str, *answers) -> None:
        self.answers.setdefault(nsid, []).extend(answers)

    def names(self) -> list[str]:
        return [nsid for _method, nsid, _kwargs in self.calls]

    def sent(self, nsid: str) -> dict:
        return next(kwargs for _m, name, kwargs in reversed(self.calls) if name == nsid)

    def __call__(self, method: str, url: str, **kwargs) -> http.HttpResponse:
        nsid = url.rsplit("/xrpc/", 1)[-1] if "/xrpc/" in url else url
        self.calls.append((method, nsid, kwargs))
        queue = self.answers.get(nsid)
        if not queue:
            raise AssertionError(f"unexpected call: {method} {nsid}")
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, Exception):
            raise item
        return item(kwargs) if callable(item) else item


@pytest.fixture
def pds(monkeypatch) -> FakePds:
    fake = FakePds()
    monkeypatch.setattr(http, "http_request", fake)
    return fake


@pytest.fixture
def connector() -> BlueskyConnector:
    return get_connector("bluesky")  # type: ignore[return-value]


@pytest.fixture
def account(personas) -> ChannelAccount:
    return channel_account(
        organization=personas.org,
        network="bluesky",
        handle="city.example.gov",
        remote_id=DID,
        server_url=PDS,
        connected_by=personas.alice,
        credentials={**session_tokens(1), "did": DID, "pds": PDS},
    )


def created(rkey: str) -> http.HttpResponse:
    return answer(200, {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafyreicid"})


# --- text: facets by UTF-8 byte offsets, length in graphemes ---------------------------


def spans_of(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, the bytes the facet covers, start, end) for every facet of ``text``."""
    raw = text.encode()
    return [
        (s.kind, raw[s.byte_start : s.byte_end].decode(), s.byte_start, s.byte_end)
        for s in bluesky_facet_spans(text)
    ]


def test_finnish_text_gets_byte_offsets_for_tag_mention_and_a_link_with_letters_beyond_ascii():
    text = "Hyvää päivää #Äänestä @kaupunki.test https://example.fi/ä"
    assert spans_of(text) == [
        ("tag", "#Äänestä", 18, 29),
        ("mention", "@kaupunki.test", 30, 44),
        ("link", "https://example.fi/ä", 45, 66),
    ]
    assert grapheme_length(text) == 57
    assert len(text.encode()) == 66


def test_turkish_dotted_capitals_and_cedillas_count_two_bytes_each():
    text = "Günaydın İstanbul #Seçim"  # noqa: RUF001 (the dotless i is the point)
    assert spans_of(text) == [("tag", "#Seçim", 21, 28)]
    assert grapheme_length(text) == 24


def test_a_flag_and_a_family_emoji_are_one_character_each_but_many_bytes():
    text = "🇫🇮👩‍👩‍👧 #juhla"
    assert spans_of(text) == [("tag", "#juhla", 27, 33)]
    assert get_connector("bluesky").text_length(text) == 9


def test_links_keep_their_parentheses_only_when_they_opened_one():
    assert [s[1] for s in spans_of("(katso https://fi.wikipedia.org/wiki/Oulu_(kaupunki))")] == [
        "https://fi.wikipedia.org/wiki/Oulu_(kaupunki)"
    ]
    assert [s[1] for s in spans_of("Lue lisää (https://www.hel.fi/fi/päätöksenteko).")] == [
        "https://www.hel.fi/fi/päätöksenteko"
    ]


def test_the_limit_is_300_graphemes_and_3000_bytes(connector):
    assert connector.validate(PublishRequest(text="ä" * 300)) == []
    [too_long] = connector.validate(PublishRequest(text="ä" * 301))
    assert "301 characters long; the limit is 300" in too_long
    family = "👩‍👩‍👧"  # one grapheme, 18 bytes
    [too_big] = connector.validate(PublishRequest(text=family * 200))
    assert "3600 bytes" in too_big


def test_warnings_other_visibility_and_a_fifth_image_are_refused(connector):
    from accounts.connectors.base import MediaItem

    image = MediaItem(content=b"x" * 10, mime_type="image/png", alt_text="Kartta")
    problems = connector.validate(
        PublishRequest(
            text="Tiedote", media=[image] * 5, content_warning="Spoiler", visibility="followers"
        )
    )
    assert "Attach at most 4 images." in problems
    assert "This network has no content warnings." in problems
    assert "On this network every post is public." in problems
    big = MediaItem(content=b"x" * 1_000_001, mime_type="image/jpeg", alt_text="Iso")
    assert any("larger than" in p for p in connector.validate(PublishRequest("x", media=[big])))


# --- record keys ----------------------------------------------------------------------


def test_the_record_key_of_an_idempotency_key_is_always_the_same_valid_tid():
    key = "7f1c2a9e-3b5d-4c8e-9a0b-1d2e3f4a5b6c"
    rkey = tid_from_key(key)
    assert rkey == tid_from_key(key)
    assert rkey != tid_from_key(key + "-part-1")
    assert TID_RE.match(rkey) and rkey[0] == "3"
    value = 0
    for char in rkey:
        value = value << 5 | TID_ALPHABET.index(char)
    created = datetime.fromtimestamp((value >> 10) / 1_000_000, tz=UTC)
    assert datetime(2005, 1, 1, tzinfo=UTC) < created < datetime(2024, 1, 1, tzinfo=UTC)


def test_handles_are_cleaned_and_non_handles_refused():
    assert normalize_identifier(" @City.Example.GOV ") == "city.example.gov"
    assert normalize_identifier(DID) == DID
    for wrong in ("city", "info@city.example", "https://bsky.app/profile/city"):
        with pytest.raises(UnknownHandle):
            normalize_identifier(wrong)


# --- publishing -------------------------------------------------------------------------


def test_a_post_carries_facets_with_the_mentioned_did_its_language_and_the_key_rkey(
    connector, account, pds
):
    text = "Hyvää päivää #Äänestä @kaupunki.test https://example.fi/ä"
    pds.on("com.atproto.identity.resolveHandle", answer(200, {"did": CITIZEN_DID}))
    rkey = tid_from_key("key-1")
    pds.on("com.atproto.repo.createRecord", created(rkey))

    result = connector.publish(
        account, PublishRequest(text=text, language="fi", idempotency_key="key-1")
    )

    body = pds.sent("com.atproto.repo.createRecord")["json"]
    assert body["rkey"] == rkey and body["repo"] == DID
    record = body["record"]
    assert record["langs"] == ["fi"]
    assert [(f["index"], f["features"][0]) for f in record["facets"]] == [
        (
            {"byteStart": 18, "byteEnd": 29},
            {"$type": "app.bsky.richtext.facet#tag", "tag": "Äänestä"},
        ),
        (
            {"byteStart": 30, "byteEnd": 44},
            {"$type": "app.bsky.richtext.facet#mention", "did": CITIZEN_DID},
        ),
        (
            {"byteStart": 45, "byteEnd": 66},
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.fi/ä"},
        ),
    ]
    assert result.remote_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/{DID}/post/{rkey}"
    assert result.extra["cid"] == "bafyreicid"


def test_a_mention_nobody_answers_to_stays_plain_text(connector, account, pds):
    pds.on(
        "com.atproto.identity.resolveHandle",
        xrpc_error(400, "InvalidRequest", "Unable to resolve handle"),
    )
    pds.on("com.atproto.repo.createRecord", created(tid_from_key("k")))
    connector.publish(account, PublishRequest(text="Kiitos @ei.ole.olemassa", idempotency_key="k"))
    assert "facets" not in pds.sent("com.atproto.repo.createRecord")["json"]["record"]


def test_a_reply_names_the_thread_root_and_the_parent(connector, account, pds):
    pds.on("com.atproto.repo.createRecord", created(tid_from_key("r")))
    root = RemoteRef(remote_id="at://did:plc:a/app.bsky.feed.post/1", extra={"cid": "c1"})
    parent = RemoteRef(
        remote_id="at://did:plc:b/app.bsky.feed.post/2",
        extra={"uri": "at://did:plc:b/app.bsky.feed.post/2", "cid": "c2"},
    )
    connector.reply(
        account,
        PublishRequest(text="Kiitos!", reply_to=parent, thread_root=root, idempotency_key="r"),
    )
    assert pds.sent("com.atproto.repo.createRecord")["json"]["record"]["reply"] == {
        "root": {"uri": "at://did:plc:a/app.bsky.feed.post/1", "cid": "c1"},
        "parent": {"uri": "at://did:plc:b/app.bsky.feed.post/2", "cid": "c2"},
    }


def test_a_reply_without_its_root_finds_it_in_the_parent(connector, account, pds):
    parent_uri = "at://did:plc:b/app.bsky.feed.post/2"
    root = {"uri": "at://did:plc:a/app.bsky.feed.post/1", "cid": "c1"}
    pds.on(
        "app.bsky.feed.getPosts",
        answer(
            200, {"posts": [{"uri": parent_uri, "cid": "c2", "record": {"reply": {"root": root}}}]}
        ),
    )
    pds.on("com.atproto.repo.createRecord", created(tid_from_key("r")))
    connector.reply(
        account, PublishRequest(text="Kyllä", reply_to=RemoteRef(parent_uri), idempotency_key="r")
    )
    reply = pds.sent("com.atproto.repo.createRecord")["json"]["record"]["reply"]
    assert reply == {"root": root, "parent": {"uri": parent_uri, "cid": "c2"}}


def test_a_used_record_key_returns_the_post_already_there(connector, account, pds):
    rkey = tid_from_key("again")
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    pds.on(
        "com.atproto.repo.createRecord",
        xrpc_error(500, "InternalServerError", "Internal Server Error"),
    )
    pds.on(
        "com.atproto.repo.getRecord",
        answer(
            200,
            {
                "uri": uri,
                "cid": "first",
                "value": {"text": "Once", "createdAt": "2026-11-02T09:30:00.000Z"},
            },
        ),
    )
    result = connector.publish(account, PublishRequest(text="Once", idempotency_key="again"))
    assert (result.remote_id, result.extra["cid"]) == (uri, "first")
    assert pds.sent("com.atproto.repo.getRecord")["params"]["rkey"] == rkey


def test_a_timed_out_write_is_an_unknown_outcome_and_a_read_is_transient(connector, account, pds):
    pds.on("com.atproto.repo.createRecord", http.ResponseTimeout("no answer"))
    with pytest.raises(UnknownOutcome):
        connector.publish(account, PublishRequest(text="Hei", idempotency_key="t"))
    pds.on("app.bsky.actor.getProfile", http.ResponseTimeout("no answer"))
    with pytest.raises(TransientError):
        connector.fetch_account_metrics(account)


def test_a_gateway_timeout_on_a_write_is_unknown_when_the_post_is_not_found(
    connector, account, pds
):
    pds.on("com.atproto.repo.createRecord", xrpc_error(504, "UpstreamTimeout"))
    pds.on(
        "com.atproto.repo.getRecord", xrpc_error(400, "RecordNotFound", "Could not locate record")
    )
    with pytest.raises(UnknownOutcome):
        connector.publish(account, PublishRequest(text="Hei", idempotency_key="g"))


def test_a_refused_connection_is_transient_even_for_a_write(connector, account, pds):
    pds.on("com.atproto.repo.createRecord", http.ConnectFailed("refused"))
    with pytest.raises(TransientError):
        connector.publish(account, PublishRequest(text="Hei", idempotency_key="c"))


# --- sessions and error kinds ---------------------------------------------------------------


def test_an_expired_token_renews_the_session_once_and_the_call_goes_through(
    connector, account, pds
):
    pds.on(
        "com.atproto.server.getSession",
        xrpc_error(400, "ExpiredToken", "Token has expired"),
        answer(200, {"did": DID, "handle": "city.example.gov"}),
    )
    renewed = session_tokens(2)
    pds.on("com.atproto.server.refreshSession", answer(200, {**renewed, "did": DID}))
    old_refresh = account.credentials["refreshJwt"]

    health = connector.check_health(account)

    assert health.remote_id == DID
    assert pds.names() == [
        "com.atproto.server.getSession",
        "com.atproto.server.refreshSession",
        "com.atproto.server.getSession",
    ]
    assert pds.calls[1][2]["headers"]["Authorization"] == f"Bearer {old_refresh}"
    assert pds.calls[2][2]["headers"]["Authorization"] == f"Bearer {renewed['accessJwt']}"
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.credentials["refreshJwt"] == renewed["refreshJwt"]
    assert stored.credentials_expire_at is not None
    assert stored.credentials_expire_at > datetime.now(tz=UTC)


def test_a_session_renewed_meanwhile_by_another_worker_is_used_without_renewing(
    connector, account, pds
):
    stale = ChannelAccount.objects.get(pk=account.pk)
    newer = {**account.credentials, **session_tokens(3)}
    ChannelAccount.objects.filter(pk=account.pk).update(credentials=newer)  # the other worker
    account.credentials = newer
    account.save(update_fields=["credentials"])
    pds.on(
        "com.atproto.server.getSession", xrpc_error(400, "ExpiredToken"), answer(200, {"did": DID})
    )

    connector.check_health(stale)

    assert "com.atproto.server.refreshSession" not in pds.names()
    assert pds.calls[-1][2]["headers"]["Authorization"] == f"Bearer {newer['accessJwt']}"


def test_a_refused_renewal_asks_for_a_reconnect_and_tells_the_people(connector, account, pds):
    pds.on("com.atproto.server.getSession", xrpc_error(400, "ExpiredToken"))
    pds.on(
        "com.atproto.server.refreshSession",
        xrpc_error(400, "ExpiredToken", "Token has been revoked"),
    )
    with pytest.raises(AuthError, match="app password may have been revoked"):
        connector.check_health(account)
    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert Notification.objects.filter(kind="account.needs_reconnect").exists()


@pytest.mark.parametrize(
    "status,error", [(400, "InvalidToken"), (401, "AuthenticationRequired"), (401, "")]
)
def test_a_refused_token_is_renewed_once_then_it_is_an_auth_error(
    connector, account, pds, status, error
):
    pds.on("app.bsky.actor.getProfile", xrpc_error(status, error, "Bad token"))
    pds.on("com.atproto.server.refreshSession", answer(200, {**session_tokens(2), "did": DID}))
    with pytest.raises(AuthError):
        connector.fetch_account_metrics(account)
    assert pds.names() == [
        "app.bsky.actor.getProfile",
        "com.atproto.server.refreshSession",
        "app.bsky.actor.getProfile",
    ]


def test_a_taken_down_account_is_an_auth_error_at_once(connector, account, pds):
    pds.on("app.bsky.actor.getProfile", xrpc_error(400, "AccountTakedown", "Account taken down"))
    with pytest.raises(AuthError):
        connector.fetch_account_metrics(account)
    assert pds.names() == ["app.bsky.actor.getProfile"]


def test_a_rate_limit_says_when_to_come_back(connector, account, pds):
    reset = int(time.time()) + 120
    pds.on(
        "app.bsky.actor.getProfile",
        answer(
            429,
            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            {"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
        ),
    )
    with pytest.raises(RateLimited) as caught:
        connector.fetch_account_metrics(account)
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


def test_invalid_content_is_rejected_with_the_servers_words(connector, account, pds):
    pds.on(
        "com.atproto.repo.createRecord",
        xrpc_error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: text too long"),
    )
    with pytest.raises(Rejected, match="text too long") as caught:
        connector.publish(account, PublishRequest(text="x", idempotency_key="x"))
    assert not isinstance(caught.value, AuthError)


def test_a_server_error_on_a_read_is_transient(connector, account, pds):
    pds.on("app.bsky.feed.getPosts", xrpc_error(502, "UpstreamFailure"))
    with pytest.raises(TransientError):
        connector.fetch_post_metrics(account, [RemoteRef(f"at://{DID}/app.bsky.feed.post/3abc")])


# --- connecting ------------------------------------------------------------------------------


def test_the_main_password_is_refused_and_its_session_ended(connector, pds):
    pds.on(
        "com.atproto.server.createSession",
        answer(
            200,
            {
                **session_tokens(1, scope="com.atproto.access"),
                "did": DID,
                "handle": "city.example.gov",
            },
        ),
    )
    pds.on("com.atproto.server.deleteSession", answer(200))
    with pytest.raises(NotAnAppPassword):
        connector.connect(server_url=PDS, identifier="city.example.gov", secret="main-password")
    assert pds.names()[-1] == "com.atproto.server.deleteSession"


def test_connecting_keeps_the_session_and_never_the_app_password(connector, pds):
    tokens = session_tokens(1)
    pds.on(
        "com.atproto.server.createSession",
        answer(200, {**tokens, "did": DID, "handle": "city.example.gov"}),
    )
    pds.on("app.bsky.actor.getProfile", answer(200, {"did": DID, "displayName": "Kaupunki"}))
    connected = connector.connect(
        server_url=PDS + "/", identifier="@City.Example.gov", secret="abcd-efgh-ijkl-mnop"
    )
    assert pds.sent("com.atproto.server.createSession")["json"] == {
        "identifier": "city.example.gov",
        "password": "abcd-efgh-ijkl-mnop",
    }
    assert connected.credentials == {**tokens, "did": DID, "pds": PDS}
    assert "abcd-efgh-ijkl-mnop" not in json.dumps(connected.credentials)
    assert (connected.remote_id, connected.handle, connected.display_name) == (
        DID,
        "city.example.gov",
        "Kaupunki",
    )
    assert connected.scopes == ("com.atproto.appPass",)
    assert connected.credentials_expire_at is not None


# --- the inbox cursor -----------------------------------------------------------------------


def notification(rkey: str, reason: str, at: str, **record) -> dict:
    uri = f"at://{CITIZEN_DID}/app.bsky.feed.post/{rkey}"
    return {
        "uri": uri,
        "cid": f"cid-{rkey}",
        "reason": reason,
        "indexedAt": at,
        "author": {"did": CITIZEN_DID, "handle": "asukas.example", "displayName": "Asukas"},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": f"post {rkey}",
            "createdAt": at,
            **record,
        },
    }


def listed(*notifications, cursor: str = "") -> http.HttpResponse:
    return answer(200, {"notifications": list(notifications), "cursor": cursor or None})


def kinds(page) -> list[tuple[str, str]]:
    return [(item.kind, item.remote_id.rsplit("/", 1)[-1]) for item in page.items]


def test_the_inbox_returns_replies_mentions_and_quotes_oldest_first(connector, account, pds):
    ours = {"uri": f"at://{DID}/app.bsky.feed.post/ours", "cid": "c-ours"}
    pds.on(
        "app.bsky.notification.listNotifications",
        listed(
            notification(
                "c",
                "quote",
                "2026-11-02T10:00:09.000Z",
                embed={"$type": "app.bsky.embed.record", "record": ours},
            ),
            notification("b", "mention", "2026-11-02T10:00:05.000Z"),
            notification(
                "a", "reply", "2026-11-02T10:00:01.000Z", reply={"root": ours, "parent": ours}
            ),
            notification("f", "follow", "2026-11-02T09:00:00.000Z"),
            cursor="older",
        ),
    )

    page = connector.fetch_inbox(account)

    assert kinds(page) == [("reply", "a"), ("mention", "b"), ("quote", "c")]
    reply, _mention, quote = page.items
    assert reply.in_reply_to == reply.thread_root
    assert reply.thread_root is not None and reply.thread_root.extra == ours
    assert quote.in_reply_to is not None and quote.in_reply_to.remote_id == ours["uri"]
    assert reply.url == f"https://bsky.app/profile/{CITIZEN_DID}/post/a"
    assert (reply.author_handle, reply.author_name) == ("asukas.example", "Asukas")
    # The first sync reads one page; the reasons were asked of the server too.
    assert pds.names() == ["app.bsky.notification.listNotifications"]
    assert pds.sent("app.bsky.notification.listNotifications")["params"]["reasons"] == [
        "mention",
        "reply",
        "quote",
    ]


def test_the_next_sync_returns_only_what_is_new_even_in_the_same_second(connector, account, pds):
    first, second = (
        notification("m", "mention", "2026-11-02T10:00:05.000Z"),
        notification("z", "reply", "2026-11-02T10:00:05.000Z"),
    )
    pds.on("app.bsky.notification.listNotifications", listed(second, first))
    cursor = connector.fetch_inbox(account).next_cursor
    same_second = notification("a", "reply", "2026-11-02T10:00:05.000Z")
    late_clock = notification("late", "mention", "2026-11-02T09:58:00.000Z")
    pds.answers["app.bsky.notification.listNotifications"] = [
        listed(same_second, second, first, late_clock, cursor="p2"),
        listed(notification("old", "reply", "2026-11-02T09:40:00.000Z")),
    ]

    page = connector.fetch_inbox(account, cursor)

    assert kinds(page) == [("mention", "late"), ("reply", "a")]
    assert pds.names().count("app.bsky.notification.listNotifications") == 3
    pds.answers["app.bsky.notification.listNotifications"] = [
        listed(same_second, second, first, late_clock)
    ]
    assert connector.fetch_inbox(account, page.next_cursor).items == []


def test_a_first_sync_that_finds_nothing_still_reads_a_later_burst_in_full(connector, account, pds):
    pds.on("app.bsky.notification.listNotifications", listed())
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=UTC), tick=False):
        first = connector.fetch_inbox(account)
    assert first.items == [] and first.next_cursor
    burst = [
        notification(
            f"n{number:03d}", "mention", f"2026-11-02T10:{number // 60:02d}:{number % 60:02d}Z"
        )
        for number in range(1, 121)
    ]
    newest_first = burst[::-1]
    pds.answers["app.bsky.notification.listNotifications"] = [
        listed(*newest_first[:50], cursor="p2"),
        listed(*newest_first[50:100], cursor="p3"),
        listed(*newest_first[100:]),
    ]

    page = connector.fetch_inbox(account, first.next_cursor)

    assert [rkey for _kind, rkey in kinds(page)] == [f"n{number:03d}" for number in range(1, 121)]
    pages = [kwargs["params"].get("cursor") for _m, _n, kwargs in pds.calls[1:]]
    assert pages == [None, "p2", "p3"]


def test_a_page_ending_inside_a_second_does_not_skip_the_rest_of_that_second(
    connector, account, pds
):
    """The AppView pages strictly before the last time on a page, as it does."""
    burst = [
        notification(f"n{number:03d}", "mention", f"2026-11-02T10:00:0{5 + number // 30}.000Z")
        for number in range(60)
    ]

    arrived: list[dict] = []

    def notifications(kwargs):
        before = kwargs["params"].get("cursor") or "9999"
        older = [n for n in reversed(arrived) if n["indexedAt"] < before][:50]
        return listed(*older, cursor=older[-1]["indexedAt"] if older else "")

    pds.on("app.bsky.notification.listNotifications", notifications)
    with time_machine.travel(datetime(2026, 11, 2, 10, 0, tzinfo=UTC), tick=False):
        cursor = connector.fetch_inbox(account).next_cursor
    arrived.extend(burst)
    pds.calls.clear()
    page = connector.fetch_inbox(account, cursor)

    read = sorted(rkey for _kind, rkey in kinds(page))
    assert read == [f"n{number:03d}" for number in range(60)]
    assert [kwargs["params"].get("cursor") for _m, _n, kwargs in pds.calls] == [
        None,
        "2026-11-02T10:00:05.001Z",
        "2026-11-02T10:00:05.000Z",
    ]


def test_post_metrics_are_read_25_at_a_time_and_a_missing_post_is_deleted(connector, account, pds):
    refs = [RemoteRef(f"at://{DID}/app.bsky.feed.post/3post{n:08d}") for n in range(30)]

    def posts(kwargs):
        uris = kwargs["params"]["uris"]
        shown = [u for u in uris if not u.endswith("00000007")]
        return answer(
            200, {"posts": [{"uri": u, "cid": "c", "likeCount": 2, "replyCount": 1} for u in shown]}
        )

    pds.on("app.bsky.feed.getPosts", posts)

    metrics = connector.fetch_post_metrics(account, refs)

    assert [len(kwargs["params"]["uris"]) for _m, _n, kwargs in pds.calls] == [25, 5]
    assert [m.remote_id for m in metrics] == [ref.remote_id for ref in refs]
    assert metrics[7].deleted and metrics[7].likes is None
    assert (metrics[0].likes, metrics[0].replies, metrics[0].shares, metrics[0].impressions) == (
        2,
        1,
        0,
        None,
    )
