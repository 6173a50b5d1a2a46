"""Meta's webhook endpoint: the subscription check, signatures verified on the raw body
before anything is stored, events kept once, and the accounts concerned read at once."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from accounts.connectors.base import PublishRequest
from accounts.connectors.graph import sign
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount, NetworkApp
from accounts.tests.helpers import channel_account
from inbox.models import InboxItem, WebhookEvent
from inbox.services import webhooks
from inbox.services.webhooks import meta_webhook_drain, meta_webhook_process

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh(settings):
    webhooks._app_keys.clear()
    client = webhooks._redis()
    if client is not None:
        client.delete(webhooks.DELIVERY_LIST, webhooks.DRAIN_FLAG)
    cache.clear()
    yield
    if client is not None:
        client.delete(webhooks.DELIVERY_LIST, webhooks.DRAIN_FLAG)


@pytest.fixture
def queued(monkeypatch):
    """The Celery messages the endpoint sends (the broker is not read in these tests)."""
    sent: list[str] = []
    monkeypatch.setattr(
        "inbox.tasks.drain_webhook_deliveries.apply_async", lambda **kw: sent.append("drain")
    )
    monkeypatch.setattr(
        "inbox.tasks.store_webhook_delivery.apply_async",
        lambda args, **kw: webhooks.meta_webhook_store(
            organization_id=args[0], body=args[1].encode(), enqueue=False
        ),
    )
    return sent


@pytest.fixture
def app(personas, graph_server):
    return NetworkApp.objects.create(
        organization=personas.org,
        network="meta",
        client_id=graph_server.app_id,
        client_secret=graph_server.app_secret,
        secrets={"verify_token": graph_server.verify_token},
    )


def url(app: NetworkApp) -> str:
    return f"/inbox/webhooks/meta/{app.pk}/"


def comment_delivery(page_id: str, comment_id: str) -> dict[str, object]:
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": 1714557600,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": comment_id,
                            "post_id": f"{page_id}_1",
                            "message": "Hello",
                        },
                    }
                ],
            }
        ],
    }


def post(client, app, body: bytes, signature: str | None):
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    return client.post(url(app), data=body, content_type="application/json", headers=headers)


def test_the_subscription_check_echoes_the_challenge_only_with_our_token(client, app, graph_server):
    ok = client.get(
        url(app),
        {
            "hub.mode": "subscribe",
            "hub.verify_token": graph_server.verify_token,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    wrong = client.get(
        url(app), {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403
    assert client.get("/inbox/webhooks/meta/999999/").status_code == 404


def test_unsigned_or_badly_signed_deliveries_get_403_and_change_nothing(
    client, app, graph_server, queued, caplog
):
    body, signature = graph_server.signed_delivery(comment_delivery("1", "1_2"))
    assert post(client, app, body, None).status_code == 403
    assert post(client, app, body, "sha256=" + "0" * 64).status_code == 403
    assert post(client, app, body + b" ", signature).status_code == 403
    _other_body, foreign = graph_server.signed_delivery(
        comment_delivery("1", "1_2"), secret="another app's secret"
    )
    assert post(client, app, body, foreign).status_code == 403
    assert meta_webhook_drain() == 0
    assert not WebhookEvent.objects.exists() and queued == []
    assert "bad signature" in caplog.text or "missing or bad signature" in caplog.text


def test_a_signed_body_that_is_not_a_delivery_is_a_400(client, app, graph_server, queued):
    body, signature = graph_server.signed_delivery({"hello": "world"})
    assert post(client, app, body, signature).status_code == 400
    garbage = b"not json"
    assert post(client, app, garbage, sign(graph_server.app_secret, garbage)).status_code == 400


def test_events_are_kept_once_and_the_account_is_read_at_once(
    client, personas, app, graph_server, queued
):
    page = graph_server.create_page("City of Example")
    account = channel_account(
        organization=personas.org,
        network="facebook",
        handle=page.name,
        remote_id=page.id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token},
    )
    published = get_connector("facebook").publish(account, PublishRequest(text="Our post"))
    comment = graph_server.comment_as(published.remote_id, "A question", name="Maija")
    body, signature = graph_server.signed_delivery(comment_delivery(page.id, comment.id))
    for _attempt in range(3):  # Meta delivers again when it does not hear back in time
        assert post(client, app, body, signature).status_code == 200
    if webhooks._redis() is not None:
        assert queued == ["drain"]  # one task for the burst
        assert meta_webhook_drain() == 3
    assert WebhookEvent.objects.count() == 1
    assert meta_webhook_process(organization_id=personas.org.pk) == 1
    item = InboxItem.objects.get(channel_account=account)
    assert item.text == "A question" and item.author_name == "Maija"
    assert WebhookEvent.objects.get().processed_at is not None
    assert ChannelAccount.objects.filter(pk=account.pk).exists()


def test_another_organizations_app_does_not_take_our_deliveries(
    client, app, graph_server, queued, personas
):
    other = NetworkApp.objects.create(
        organization=personas.other_org, network="meta", client_id="42", client_secret="b" * 32
    )
    body, signature = graph_server.signed_delivery(comment_delivery("1", "1_9"))
    assert post(client, other, body, signature).status_code == 403
    assert json.loads(body)["entry"]


def test_an_instagram_mention_arrives_by_webhook_and_is_answered(
    client, personas, app, graph_server, queued
):
    from inbox.models import ReplyStatus
    from inbox.services import inbox_reply_create

    page = graph_server.create_page("City of Example", with_instagram="cityofexample")
    account = channel_account(
        organization=personas.org,
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token, "page_id": page.id},
    )
    mention = graph_server.mention_in_comment(page.ig_id, "Kiitos @cityofexample ja hyvää työtä!")
    body, signature = graph_server.signed_delivery(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": page.ig_id,
                    "time": 1714557600,
                    "changes": [
                        {
                            "field": "mentions",
                            "value": {"media_id": mention.object_id, "comment_id": mention.id},
                        }
                    ],
                }
            ],
        }
    )
    assert post(client, app, body, signature).status_code == 200
    meta_webhook_drain()
    assert meta_webhook_process(organization_id=personas.org.pk) == 1
    item = InboxItem.objects.get(channel_account=account, kind="mention")
    assert item.text == "Kiitos @cityofexample ja hyvää työtä!"
    assert item.author_handle == "@neighbour"
    reply = inbox_reply_create(
        item=item,
        body="Kiitos!",
        actor=personas.alice,
        membership=personas.membership(personas.alice),
    )
    assert reply.status == ReplyStatus.SENT
    assert graph_server.comments[reply.remote_id].parent_id == mention.id
