"""Signed webhook deliveries from Meta (Facebook Pages and Instagram), one endpoint per
organization's Meta app.

The connector layer verifies and parses (``accounts.connectors.graph``); here a
verified delivery's events are stored once (a delivery sent again finds them
already stored) and the accounts they concern are read at once through the
usual cursor sync on the ``sync`` queue. The periodic sync still runs, so a
webhook that never arrives loses nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.connectors import graph
from accounts.connectors.base import ConnectorError
from accounts.connectors.registry import get_connector
from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from inbox.models import WebhookEvent
from inbox.services.sync import inbox_store_pushed_items, inbox_sync_account

logger = logging.getLogger(__name__)

PLATFORM = "meta"
# Deliveries within this many seconds share one processing task.
PROCESS_DEBOUNCE_SECONDS = 1
OBJECT_NETWORKS = {"page": "facebook", "instagram": "instagram"}


class SignatureInvalid(Exception):
    """The delivery is unsigned or its signature does not match the app secret."""


@dataclass(frozen=True)
class Ingested:
    events: int
    new: int


def meta_webhook_challenge(*, keys: AppKeys, mode: str, verify_token: str, challenge: str) -> str:
    """The ``hub.challenge`` to echo when Meta's subscription check carries our verify
    token; raises :class:`SignatureInvalid` otherwise."""
    expected = keys.verify_token
    if mode != "subscribe" or not expected or not hmac.compare_digest(verify_token, expected):
        raise SignatureInvalid("verify token does not match")
    return challenge


@dataclass(frozen=True)
class AppKeys:
    organization_id: int
    app_secret: str
    verify_token: str


# Each process keeps an app's keys for a short while, so a burst of deliveries costs no
# database read each (in memory only: the secret is never written to a cache).
APP_KEYS_SECONDS = 30.0
_app_keys: dict[int, tuple[float, AppKeys | None]] = {}


def meta_app_keys(app_id: int) -> AppKeys | None:
    """The organization and secrets of the Meta app ``app_id`` (None when there is none)."""
    now = time.monotonic()
    cached = _app_keys.get(app_id)
    if cached is not None and now - cached[0] < APP_KEYS_SECONDS:
        return cached[1]
    app = NetworkApp.objects.filter(pk=app_id, network=PLATFORM).first()
    keys = (
        AppKeys(
            app.organization_id,
            app.client_secret,
            str((app.secrets or {}).get("verify_token") or ""),
        )
        if app is not None
        else None
    )
    _app_keys[app_id] = (now, keys)
    return keys


def meta_webhook_accept(*, keys: AppKeys, body: bytes, signature: str) -> None:
    """Verify ``body`` against the app secret (constant time, on the raw bytes) and queue
    it on the ``sync`` queue, where :func:`meta_webhook_store` keeps its events once.
    Raises :class:`SignatureInvalid` (nothing queued) or ``ValueError`` for a signed
    body that is not a Meta delivery."""
    if not graph.signature_valid(keys.app_secret, body, signature):
        raise SignatureInvalid("bad signature")
    payload = json.loads(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ValueError("not a Meta webhook delivery")
    _enqueue(keys.organization_id, body.decode("utf-8", errors="replace"))


# With Redis, verified deliveries wait in one list that a task on the ``sync`` queue
# drains in batches (one push per delivery, one task per burst); without Redis, each
# delivery is its own task on the embedded broker.
DELIVERY_LIST = "govsocial:inbox:meta-deliveries"
DRAIN_FLAG = "govsocial:inbox:meta-deliveries:drain"
DRAIN_BATCH = 500
_redis_clients: dict[str, Any] = {}


def _redis() -> Any:
    url = str(getattr(settings, "REDIS_URL", "") or "")
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = _redis_clients[url] = redis.Redis.from_url(url)
    return client


def _enqueue(organization_id: int, body: str) -> None:
    from inbox.tasks import QUEUE, drain_webhook_deliveries, store_webhook_delivery

    client = _redis()
    if client is None:
        store_webhook_delivery.apply_async(args=[organization_id, body], queue=QUEUE)
        return
    pipe = client.pipeline(transaction=False)
    pipe.rpush(DELIVERY_LIST, json.dumps([organization_id, body]))
    pipe.set(DRAIN_FLAG, 1, nx=True, ex=60)
    _length, first = pipe.execute()
    if first:
        drain_webhook_deliveries.apply_async(queue=QUEUE)


def meta_webhook_drain() -> int:
    """Store every delivery waiting in the list; returns how many were taken."""
    client = _redis()
    if client is None:
        return 0
    # Cleared first: a delivery pushed from now on schedules another drain.
    client.delete(DRAIN_FLAG)
    taken = 0
    while True:
        raw = client.lpop(DELIVERY_LIST, DRAIN_BATCH)
        if not raw:
            return taken
        for entry in raw:
            try:
                organization_id, body = json.loads(entry)
                meta_webhook_store(organization_id=int(organization_id), body=body.encode())
            except (ValueError, TypeError):
                logger.warning("A queued Meta webhook delivery could not be read; skipped")
            taken += 1


def meta_webhook_store(*, organization_id: int, body: bytes, enqueue: bool = True) -> Ingested:
    """Keep a verified delivery's events once (a delivery sent again adds nothing) and
    have the accounts they concern read soon."""
    events = graph.parse_delivery(body)
    rows = [
        WebhookEvent(
            organization_id=organization_id,
            platform=PLATFORM,
            key=event.key[:300],
            object=event.object[:32],
            account_id=event.account_id[:255],
            field=event.field[:64],
            payload=dict(event.value),
        )
        for event in events
    ]
    if not rows:
        return Ingested(0, 0)
    keys = [row.key for row in rows]
    with transaction.atomic():
        before = set(
            WebhookEvent.objects.filter(
                organization_id=organization_id, platform=PLATFORM, key__in=keys
            ).values_list("key", flat=True)
        )
        WebhookEvent.objects.bulk_create(rows, ignore_conflicts=True)
    new = len(set(keys) - before)
    if new and enqueue:
        transaction.on_commit(lambda: _schedule(organization_id))
    return Ingested(len(rows), new)


def _schedule(organization_id: int) -> None:
    """One processing task per organization per second, however many deliveries came."""
    if cache.add(f"inbox:meta-webhook:{organization_id}", 1, timeout=PROCESS_DEBOUNCE_SECONDS):
        from inbox.tasks import QUEUE, process_webhook_events

        process_webhook_events.apply_async(
            args=[organization_id], queue=QUEUE, countdown=PROCESS_DEBOUNCE_SECONDS
        )


def meta_webhook_process(*, organization_id: int) -> int:
    """Read the accounts that unprocessed events concern, then mark those events done.
    Returns how many events were processed."""
    pending = list(
        WebhookEvent.objects.filter(
            organization_id=organization_id, platform=PLATFORM, processed_at__isnull=True
        ).values_list("pk", "object", "account_id", "field", "payload")
    )
    if not pending:
        return 0
    wanted: dict[str, set[str]] = {}
    for _pk, kind, account_id, _field, _payload in pending:
        network = OBJECT_NETWORKS.get(kind)
        if network and account_id:
            wanted.setdefault(network, set()).add(account_id)
    mentions = [
        (account_id, str((payload or {}).get("comment_id") or ""))
        for _pk, kind, account_id, field, payload in pending
        if kind == "instagram" and field == "mentions"
    ]
    for account in _accounts(organization_id, wanted):
        inbox_sync_account(account=account)
        _store_mentions(account, [c for a, c in mentions if a == account.remote_id and c])
    WebhookEvent.objects.filter(pk__in=[row[0] for row in pending]).update(
        processed_at=timezone.now()
    )
    return len(pending)


def _store_mentions(account: ChannelAccount, comment_ids: Sequence[str]) -> None:
    """Instagram mentions come only by webhook: fetch each mentioning comment and keep it."""
    if not comment_ids:
        return
    connector = get_connector(account.network)
    fetch = getattr(connector, "fetch_mention", None)
    if fetch is None:
        return
    items = []
    for comment_id in dict.fromkeys(comment_ids):
        try:
            item = fetch(account, comment_id)
        except ConnectorError as exc:
            logger.warning("Instagram mention %s not read: %s", comment_id, exc.detail)
            continue
        if item is not None:
            items.append(item)
    inbox_store_pushed_items(account=account, items=items)


def _accounts(organization_id: int, wanted: dict[str, set[str]]) -> Sequence[ChannelAccount]:
    found: list[ChannelAccount] = []
    for network, ids in wanted.items():
        found.extend(
            ChannelAccount.objects.select_related("organization").filter(
                organization_id=organization_id,
                network=network,
                remote_id__in=ids,
                status=AccountStatus.ACTIVE,
            )
        )
    return found
