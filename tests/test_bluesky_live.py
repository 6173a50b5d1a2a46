"""The Bluesky connector and its services against the real Bluesky servers, run locally.

Every test makes its own accounts on the local PDS (``bsky_network``) and connects one
through ``channel_account_connect_bluesky`` with an app password, as a person would.
What the connector wrote is checked on the server itself (``getRecord``), not through
the connector.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image

from accounts import http, services
from accounts.connectors.base import (
    AuthError,
    MediaItem,
    PublishRequest,
    RemoteRef,
    UnknownOutcome,
)
from accounts.connectors.bluesky import BlueskyConnector, tid_from_key
from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus, ChannelAccount
from governance.models import AuditEvent, Notification
from tests.bsky_fixtures import BskyAccount, BskyNetwork, BskyXrpcError

pytestmark = pytest.mark.bsky


@dataclass
class Comms:
    """The organization's Bluesky account: on the server, and connected in GovSocial."""

    remote: BskyAccount
    app_password: str
    account: ChannelAccount


class Spy:
    """Passes every call through to the real ``http_request`` and remembers what was called."""

    def __init__(self, real: Callable[..., http.HttpResponse]) -> None:
        self.real = real
        self.urls: list[str] = []
        # Called with the URL after the real call; may raise to simulate a lost answer.
        self.after: Callable[[str], None] | None = None

    def __call__(self, method: str, url: str, **kwargs) -> http.HttpResponse:
        self.urls.append(url)
        response = self.real(method, url, **kwargs)
        if self.after is not None:
            self.after(url)
        return response

    def called(self, nsid: str) -> int:
        return sum(1 for url in self.urls if url.endswith(f"/xrpc/{nsid}"))


@pytest.fixture
def bsky(bsky_network: BskyNetwork, settings) -> BskyNetwork:
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


@pytest.fixture
def spy(monkeypatch) -> Spy:
    recorder = Spy(http.http_request)
    monkeypatch.setattr(http, "http_request", recorder)
    return recorder


@pytest.fixture
def connector() -> BlueskyConnector:
    return get_connector("bluesky")  # type: ignore[return-value]


@pytest.fixture
def comms(bsky: BskyNetwork, personas) -> Comms:
    remote = bsky.create_account("comms")
    app_password = bsky.create_app_password(remote, "GovSocial")
    account = services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=f"@{remote.handle}",
        app_password=app_password,
    )
    return Comms(remote, app_password, account)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (31, 111, 180)).save(buffer, format="PNG")
    return buffer.getvalue()


def byte_span(text: str, part: str) -> dict[str, int]:
    start = text.encode().index(part.encode())
    return {"byteStart": start, "byteEnd": start + len(part.encode())}


def mention(text: str, account: BskyAccount) -> list[dict]:
    """A facet mentioning ``account``, as the Bluesky app would add it."""
    return [
        {
            "index": byte_span(text, f"@{account.handle}"),
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": account.did}],
        }
    ]


def post_count(bsky: BskyNetwork, did: str) -> int:
    listed = bsky.call(
        "GET",
        "com.atproto.repo.listRecords",
        params={"repo": did, "collection": "app.bsky.feed.post", "limit": 100},
    )
    return len(listed["records"])


# --- connecting --------------------------------------------------------------------------


def test_connecting_stores_the_session_and_forgets_the_app_password(bsky, personas, spy):
    remote = bsky.create_account("comms")
    app_password = bsky.create_app_password(remote, "GovSocial")

    account = services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=remote.handle.upper(),
        app_password=app_password,
    )

    stored = ChannelAccount.objects.get(pk=account.pk)
    assert (stored.network, stored.handle, stored.remote_id) == (
        "bluesky",
        remote.handle,
        remote.did,
    )
    assert stored.server_url == bsky.pds_url
    assert stored.status == AccountStatus.ACTIVE
    assert set(stored.credentials) == {"accessJwt", "refreshJwt", "did", "pds"}
    assert app_password not in str(stored.credentials)
    assert stored.scopes == ["com.atproto.appPass"]
    # The refresh token's own expiry: about 90 days.
    assert stored.credentials_expire_at is not None
    assert stored.credentials_expire_at > timezone.now() + timedelta(days=89)
    assert AuditEvent.objects.filter(
        action="channel_account.connected", actor=personas.alice
    ).exists()
    # The handle led to the DID, the DID (through the PLC directory) to the PDS.
    assert spy.called("com.atproto.identity.resolveHandle") == 1
    assert any(url == f"{bsky.plc_url}/{remote.did}" for url in spy.urls)
    assert spy.called("com.atproto.server.createSession") == 1


def test_a_self_hosted_server_can_be_named(bsky, personas):
    remote = bsky.create_account("selfhosted")
    app_password = bsky.create_app_password(remote, "GovSocial")
    account = services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=remote.handle,
        app_password=app_password,
        server_url=bsky.pds_url + "/",
    )
    assert (account.remote_id, account.server_url) == (remote.did, bsky.pds_url)


def test_what_went_wrong_is_said_next_to_the_field(bsky, personas):
    remote = bsky.create_account("comms")
    app_password = bsky.create_app_password(remote, "GovSocial")

    def refusal(**kwargs) -> ValidationError:
        with pytest.raises(ValidationError) as caught:
            services.channel_account_connect_bluesky(
                organization=personas.org, actor=personas.alice, **kwargs
            )
        return caught.value

    unknown = refusal(handle=f"nobody-here{bsky.handle_domain}", app_password=app_password)
    assert "No Bluesky account answers to" in unknown.message_dict["handle"][0]
    wrong = refusal(handle=remote.handle, app_password="aaaa-bbbb-cccc-dddd")
    assert "did not accept this handle and app password" in wrong.message_dict["app_password"][0]
    main = refusal(handle=remote.handle, app_password=remote.password)
    assert "This is the account's main password" in main.message_dict["app_password"][0]
    unreachable = refusal(
        handle=remote.handle, app_password=app_password, server_url="http://127.0.0.1:9"
    )
    assert (
        "No Bluesky server answered at http://127.0.0.1:9"
        in (unreachable.message_dict["server_url"][0])
    )
    bsky.revoke_app_password(remote, "GovSocial")
    revoked = refusal(handle=remote.handle, app_password=app_password)
    assert (
        "if the app password was revoked, make a new one"
        in (revoked.message_dict["app_password"][0])
    )
    assert not ChannelAccount.objects.filter(network="bluesky").exists()


# --- publishing ------------------------------------------------------------------------------


def test_a_post_with_facets_and_an_image_with_alt_text_arrives_as_written(bsky, comms, connector):
    citizen = bsky.create_account("citizen")
    text = f"Hyvää päivää #Äänestä @{citizen.handle} https://example.fi/ä 🇫🇮"
    image = MediaItem(
        content=png(40, 30), mime_type="image/png", alt_text="Äänestyspaikka kartalla"
    )

    result = connector.publish(
        comms.account,
        PublishRequest(text=text, media=[image], language="fi", idempotency_key="vaalit-1"),
    )

    assert result.remote_id == (
        f"at://{comms.remote.did}/app.bsky.feed.post/{tid_from_key('vaalit-1')}"
    )
    record = bsky.get_record(result.remote_id)
    assert record["cid"] == result.extra["cid"]
    value = record["value"]
    assert value["text"] == text
    assert value["langs"] == ["fi"]
    assert [(f["index"], f["features"][0]) for f in value["facets"]] == [
        (byte_span(text, "#Äänestä"), {"$type": "app.bsky.richtext.facet#tag", "tag": "Äänestä"}),
        (
            byte_span(text, f"@{citizen.handle}"),
            {"$type": "app.bsky.richtext.facet#mention", "did": citizen.did},
        ),
        (
            byte_span(text, "https://example.fi/ä"),
            {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.fi/ä"},
        ),
    ]
    [embedded] = value["embed"]["images"]
    assert embedded["alt"] == "Äänestyspaikka kartalla"
    assert embedded["aspectRatio"] == {"width": 40, "height": 30}
    assert embedded["image"]["mimeType"] == "image/png"
    bsky.process_all()
    notified = bsky.call("GET", "app.bsky.notification.listNotifications", token=citizen.access_jwt)
    assert [n["reason"] for n in notified["notifications"]] == ["mention"]


def test_the_same_idempotency_key_twice_makes_one_post(bsky, comms, connector):
    request = PublishRequest(text="Kirjasto on auki myöhään.", idempotency_key="job-42")

    first = connector.publish(comms.account, request)
    again = connector.publish(comms.account, request)

    assert (again.remote_id, again.extra["cid"]) == (first.remote_id, first.extra["cid"])
    assert post_count(bsky, comms.remote.did) == 1


def test_a_post_whose_answer_was_lost_is_found_and_not_sent_twice(bsky, comms, connector, spy):
    def lose_the_answer(url: str) -> None:
        if url.endswith("/xrpc/com.atproto.repo.createRecord"):
            raise http.ResponseTimeout("No answer in time", url=url)

    spy.after = lose_the_answer
    request = PublishRequest(text="Tiet suljetaan klo 22.", idempotency_key="job-timeout")
    with pytest.raises(UnknownOutcome):
        connector.publish(comms.account, request)
    spy.after = None

    found = connector.lookup_by_key(comms.account, "job-timeout")
    assert found is not None
    assert found.ref.remote_id.endswith(f"/{tid_from_key('job-timeout')}")
    assert found.text == "Tiet suljetaan klo 22."
    bsky.process_all()
    recent = connector.lookup_recent(comms.account, since=timezone.now() - timedelta(minutes=5))
    assert [post.ref.remote_id for post in recent] == [found.ref.remote_id]
    resent = connector.publish(comms.account, request)
    assert resent.remote_id == found.ref.remote_id
    assert post_count(bsky, comms.remote.did) == 1


def test_deleting_removes_the_post(bsky, comms, connector):
    result = connector.publish(comms.account, PublishRequest(text="Väärä tiedote"))
    connector.delete(comms.account, result.ref)
    with pytest.raises(BskyXrpcError) as caught:
        bsky.get_record(result.remote_id)
    assert caught.value.error == "RecordNotFound"


# --- inbox, replies and metrics --------------------------------------------------------------


def test_replies_and_mentions_reach_the_inbox_and_our_answer_joins_the_thread(
    bsky, comms, connector
):
    ours = connector.publish(comms.account, PublishRequest(text="Roskat haetaan tiistaina."))
    citizen = bsky.create_account("citizen")
    question = bsky.reply(citizen, ours.remote_id, "Entä pyhäpäivinä?")
    neighbour = bsky.create_account("neighbour")
    text = f"Kysykää @{comms.remote.handle} lumitöistä"
    shout = bsky.post(neighbour, text, facets=mention(text, comms.remote))
    bsky.process_all()

    page = connector.fetch_inbox(comms.account)

    assert [(item.kind, item.remote_id) for item in page.items] == [
        ("reply", question.uri),
        ("mention", shout.uri),
    ]
    reply_item, mention_item = page.items
    assert (reply_item.author_handle, reply_item.author_id) == (citizen.handle, citizen.did)
    assert reply_item.text == "Entä pyhäpäivinä?"
    assert reply_item.in_reply_to is not None and reply_item.thread_root is not None
    assert reply_item.in_reply_to.remote_id == ours.remote_id
    assert reply_item.thread_root.remote_id == ours.remote_id
    assert mention_item.in_reply_to is None

    answer = connector.reply(
        comms.account,
        PublishRequest(
            text="Keskiviikkona, kun tiistai on pyhäpäivä.",
            reply_to=RemoteRef(reply_item.remote_id, reply_item.url, extra=reply_item.raw),
            thread_root=reply_item.thread_root,
            idempotency_key="answer-1",
        ),
    )

    sent = bsky.get_record(answer.remote_id)["value"]["reply"]
    assert sent["root"] == {"uri": ours.remote_id, "cid": ours.extra["cid"]}
    assert sent["parent"] == question.as_strong_ref()
    bsky.process_all()
    assert connector.fetch_inbox(comms.account, page.next_cursor).items == []
    follow_up = bsky.reply(citizen, answer.remote_id, "Kiitos!")
    bsky.process_all()
    newer = connector.fetch_inbox(comms.account, page.next_cursor)
    assert [(item.kind, item.remote_id) for item in newer.items] == [("reply", follow_up.uri)]
    assert newer.items[0].thread_root is not None
    assert newer.items[0].thread_root.remote_id == ours.remote_id


def test_likes_and_replies_are_counted(bsky, comms, connector):
    ours = connector.publish(comms.account, PublishRequest(text="Uimahalli avautuu."))
    other = connector.publish(comms.account, PublishRequest(text="Toinen tiedote."))
    citizen = bsky.create_account("citizen")
    bsky.like(citizen, ours.remote_id)
    bsky.reply(citizen, ours.remote_id, "Hienoa!")
    bsky.process_all()

    liked, quiet = connector.fetch_post_metrics(comms.account, [ours.ref, other.ref])

    assert (liked.likes, liked.replies, liked.shares, liked.quotes) == (1, 1, 0, 0)
    assert (quiet.likes, quiet.replies) == (0, 0)
    assert liked.impressions is None
    assert connector.fetch_account_metrics(comms.account).posts == 2


# --- sessions ----------------------------------------------------------------------------------


def test_an_expired_session_is_renewed_without_signing_in_again(bsky, comms, spy):
    account = comms.account
    expired = bsky.expire_access_token(account.credentials["accessJwt"])
    old_refresh = account.credentials["refreshJwt"]
    account.credentials = {**account.credentials, "accessJwt": expired}
    account.save(update_fields=["credentials"])

    result = services.channel_account_check_health(account=account)

    assert result is not None and result.remote_id == comms.remote.did
    stored = ChannelAccount.objects.get(pk=account.pk)
    assert stored.credentials["accessJwt"] != expired
    assert stored.credentials["refreshJwt"] != old_refresh
    assert stored.status == AccountStatus.ACTIVE
    assert spy.called("com.atproto.server.refreshSession") == 1
    assert spy.called("com.atproto.server.createSession") == 0


def test_a_revoked_app_password_turns_the_account_to_needs_reconnect(bsky, comms, personas):
    account = comms.account
    bsky.revoke_app_password(comms.remote, "GovSocial")
    # Access tokens issued before the revocation work until they expire (two hours).
    assert services.channel_account_check_health(account=account) is not None
    account.credentials = {
        **account.credentials,
        "accessJwt": bsky.expire_access_token(account.credentials["accessJwt"]),
    }
    account.save(update_fields=["credentials"])

    assert services.channel_account_check_health(account=account) is None

    account.refresh_from_db()
    assert account.status == AccountStatus.NEEDS_RECONNECT
    assert account.last_error_kind == "auth"
    [notice] = Notification.objects.filter(user=personas.alice, kind="account.needs_reconnect")
    assert account.handle in notice.message
    assert "app password may have been revoked" in notice.message


def test_renewing_after_the_revocation_asks_for_a_reconnect(bsky, comms):
    bsky.revoke_app_password(comms.remote, "GovSocial")
    with pytest.raises(AuthError):
        services.channel_account_refresh_credentials(account=comms.account)
    comms.account.refresh_from_db()
    assert comms.account.status == AccountStatus.NEEDS_RECONNECT


def test_disconnecting_ends_the_session(bsky, comms, personas):
    refresh = comms.account.credentials["refreshJwt"]
    services.channel_account_disconnect(account=comms.account, actor=personas.alice)
    renewal = bsky.xrpc("POST", "com.atproto.server.refreshSession", token=refresh)
    assert renewal.status_code == 400
    event = AuditEvent.objects.get(action="channel_account.disconnected")
    assert event.new_values["token_revoked"] is True
