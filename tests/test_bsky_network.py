"""The local Bluesky network behaves like Bluesky for what GovSocial does with it.

These tests talk plain XRPC to the real PDS and AppView (``bsky_network``), as the
Bluesky connector will: they pin down the answers, error names and status codes the
connector must handle.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any

import pytest

from tests.bsky_fixtures import BskyAccount, BskyNetwork, BskyRecordRef, make_tid

pytestmark = pytest.mark.bsky


@dataclass
class Connected:
    """An account connected the way GovSocial connects one: with an app password."""

    account: BskyAccount
    app_password: str
    session: dict[str, Any]

    @property
    def token(self) -> str:
        token: str = self.session["accessJwt"]
        return token


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x1f\x6f\xb4" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def byte_span(text: str, part: str) -> dict[str, int]:
    """Facet indexes count UTF-8 bytes, not characters."""
    start = text.encode().index(part.encode())
    return {"byteStart": start, "byteEnd": start + len(part.encode())}


def publish(bsky: BskyNetwork, connected: Connected, text: str, **record: Any) -> BskyRecordRef:
    body = bsky.call(
        "POST",
        "com.atproto.repo.createRecord",
        token=connected.token,
        json_body={
            "repo": connected.session["did"],
            "collection": "app.bsky.feed.post",
            "rkey": make_tid(),
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2026-11-02T09:30:00.000Z",
                **record,
            },
        },
    )
    return BskyRecordRef(uri=body["uri"], cid=body["cid"])


def get_post(bsky: BskyNetwork, token: str, uri: str) -> dict[str, Any]:
    posts = bsky.call("GET", "app.bsky.feed.getPosts", token=token, params={"uris": [uri]})
    [post] = posts["posts"]
    return post


@pytest.fixture
def connected(bsky_network: BskyNetwork) -> Connected:
    account = bsky_network.create_account("comms")
    app_password = bsky_network.create_app_password(account, "GovSocial")
    session = bsky_network.create_session(account.handle, app_password)
    return Connected(account, app_password, session)


def test_handle_resolves_to_did_whose_document_names_the_pds(bsky_network: BskyNetwork) -> None:
    account = bsky_network.create_account("resolve")

    did = bsky_network.resolve_handle(account.handle)
    document = bsky_network.did_document(did)

    assert did == account.did
    assert document["alsoKnownAs"] == [f"at://{account.handle}"]
    [pds] = [s for s in document["service"] if s["id"] == "#atproto_pds"]
    assert pds["serviceEndpoint"] == bsky_network.pds_url


def test_app_password_session_publishes_post_with_facets_and_image_at_chosen_rkey(
    bsky_network: BskyNetwork, connected: Connected
) -> None:
    citizen = bsky_network.create_account("citizen")
    uploaded = bsky_network.call(
        "POST",
        "com.atproto.repo.uploadBlob",
        token=connected.token,
        data=png(4, 3),
        content_type="image/png",
    )
    text = f"Road works on Main St ✅ ask @{citizen.handle} or see https://example.org/roads"
    rkey = make_tid()

    created = bsky_network.call(
        "POST",
        "com.atproto.repo.createRecord",
        token=connected.token,
        json_body={
            "repo": connected.session["did"],
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2026-11-02T09:30:00.000Z",
                "langs": ["en"],
                "facets": [
                    {
                        "index": byte_span(text, f"@{citizen.handle}"),
                        "features": [
                            {"$type": "app.bsky.richtext.facet#mention", "did": citizen.did}
                        ],
                    },
                    {
                        "index": byte_span(text, "https://example.org/roads"),
                        "features": [
                            {
                                "$type": "app.bsky.richtext.facet#link",
                                "uri": "https://example.org/roads",
                            }
                        ],
                    },
                ],
                "embed": {
                    "$type": "app.bsky.embed.images",
                    "images": [
                        {
                            "image": uploaded["blob"],
                            "alt": "Map of the closed section",
                            "aspectRatio": {"width": 4, "height": 3},
                        }
                    ],
                },
            },
        },
    )
    bsky_network.process_all()

    assert created["uri"] == f"at://{connected.session['did']}/app.bsky.feed.post/{rkey}"
    post = get_post(bsky_network, connected.token, created["uri"])
    assert post["record"]["text"] == text
    assert [f["features"][0]["$type"] for f in post["record"]["facets"]] == [
        "app.bsky.richtext.facet#mention",
        "app.bsky.richtext.facet#link",
    ]
    assert post["embed"]["images"][0]["alt"] == "Map of the closed section"
    mentions = bsky_network.call(
        "GET", "app.bsky.notification.listNotifications", token=citizen.access_jwt
    )
    assert [n["reason"] for n in mentions["notifications"]] == ["mention"]


def test_reply_and_like_from_another_account_show_in_counts_and_notifications(
    bsky_network: BskyNetwork, connected: Connected
) -> None:
    post = publish(bsky_network, connected, "Libraries open late this week.")
    citizen = bsky_network.create_account("citizen")

    reply = bsky_network.reply(citizen, post.uri, "Is the one on Elm St open too?")
    bsky_network.like(citizen, post.uri)
    bsky_network.process_all()

    counts = get_post(bsky_network, connected.token, post.uri)
    assert (counts["likeCount"], counts["replyCount"]) == (1, 1)
    listed = bsky_network.call(
        "GET", "app.bsky.notification.listNotifications", token=connected.token
    )
    replies = [n for n in listed["notifications"] if n["reason"] == "reply"]
    assert [(n["uri"], n["author"]["did"]) for n in replies] == [(reply.uri, citizen.did)]
    assert replies[0]["record"]["reply"]["parent"] == post.as_strong_ref()


def test_our_reply_to_a_reply_joins_the_thread(
    bsky_network: BskyNetwork, connected: Connected
) -> None:
    post = publish(bsky_network, connected, "Bins collected on Tuesday.")
    citizen = bsky_network.create_account("citizen")
    question = bsky_network.reply(citizen, post.uri, "And on holidays?")
    bsky_network.process_all()

    answer = publish(
        bsky_network,
        connected,
        "Wednesday on holiday weeks.",
        reply={"root": post.as_strong_ref(), "parent": question.as_strong_ref()},
    )
    bsky_network.process_all()

    thread = bsky_network.call(
        "GET", "app.bsky.feed.getPostThread", token=connected.token, params={"uri": post.uri}
    )["thread"]
    [question_view] = thread["replies"]
    assert question_view["post"]["uri"] == question.uri
    assert [r["post"]["uri"] for r in question_view["replies"]] == [answer.uri]
    listed = bsky_network.call(
        "GET", "app.bsky.notification.listNotifications", token=citizen.access_jwt
    )
    assert [n["uri"] for n in listed["notifications"] if n["reason"] == "reply"] == [answer.uri]


def test_used_rkey_is_refused_and_get_record_finds_the_first_post(
    bsky_network: BskyNetwork, connected: Connected
) -> None:
    rkey = make_tid()
    record = {"$type": "app.bsky.feed.post", "text": "Once", "createdAt": "2026-11-02T09:30:00Z"}
    body = {"repo": connected.session["did"], "collection": "app.bsky.feed.post", "rkey": rkey}
    first = bsky_network.call(
        "POST",
        "com.atproto.repo.createRecord",
        token=connected.token,
        json_body={**body, "record": record},
    )

    again = bsky_network.xrpc(
        "POST",
        "com.atproto.repo.createRecord",
        token=connected.token,
        json_body={**body, "record": {**record, "text": "Twice"}},
    )

    # The PDS has no "already exists" error: a used rkey fails as a plain 500, so only
    # com.atproto.repo.getRecord tells the connector that its post is already there.
    assert (again.status_code, again.json()["error"]) == (500, "InternalServerError")
    found = bsky_network.get_record(first["uri"])
    assert (found["cid"], found["value"]["text"]) == (first["cid"], "Once")


def test_expired_access_token_is_refused_and_refresh_session_renews_it(
    bsky_network: BskyNetwork, connected: Connected
) -> None:
    expired = bsky_network.expire_access_token(connected.token)

    refused = bsky_network.xrpc("GET", "com.atproto.server.getSession", token=expired)
    renewed = bsky_network.call(
        "POST", "com.atproto.server.refreshSession", token=connected.session["refreshJwt"]
    )

    assert (refused.status_code, refused.json()["error"]) == (400, "ExpiredToken")
    assert renewed["did"] == connected.account.did
    assert renewed["refreshJwt"] != connected.session["refreshJwt"]
    publish(bsky_network, Connected(connected.account, connected.app_password, renewed), "Renewed")


def test_garbage_token_is_invalid(bsky_network: BskyNetwork) -> None:
    refused = bsky_network.xrpc("GET", "com.atproto.server.getSession", token="not-a-jwt")

    assert (refused.status_code, refused.json()["error"]) == (400, "InvalidToken")


def test_revoked_app_password_can_neither_refresh_nor_log_in(
    bsky_network: BskyNetwork, connected: Connected
) -> None:
    bsky_network.revoke_app_password(connected.account, "GovSocial")

    refresh = bsky_network.xrpc(
        "POST", "com.atproto.server.refreshSession", token=connected.session["refreshJwt"]
    )
    login = bsky_network.xrpc(
        "POST",
        "com.atproto.server.createSession",
        json_body={"identifier": connected.account.handle, "password": connected.app_password},
    )

    assert (refresh.status_code, refresh.json()["error"]) == (400, "ExpiredToken")
    assert refresh.json()["message"] == "Token has been revoked"
    assert (login.status_code, login.json()["error"]) == (401, "AuthenticationRequired")
    # Access tokens are not looked up: one issued before the revocation works until it expires.
    still = bsky_network.xrpc("GET", "com.atproto.server.getSession", token=connected.token)
    assert still.status_code == 200
