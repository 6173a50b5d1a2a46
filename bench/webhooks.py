"""Webhooks: 10,000 signed Meta deliveries posted to the organization's endpoint.

In a throwaway database on the configured engine, through Django's test client
(the whole request path: middleware, the view, the signature check on the raw
body, queueing the delivery on the ``sync`` queue of the configured broker):

- ``webhooks_ingest_per_s``: deliveries verified and queued per second
  (BENCH_WEBHOOK_DELIVERIES, default 10,000). Goal >= 500.
- ``webhooks_ingest_per_cpu_s``: the same per second of this process's CPU time (the
  endpoint's own cost, less the waiting when other work shares the machine).
- ``webhooks_store_per_s``: queued deliveries taken off the broker's ``sync`` queue
  and stored by the worker's task (events kept once), per second, in this process.
- ``webhooks_duplicates_after_replay``: the same deliveries sent again and stored:
  events stored a second time. Must be 0.
- ``webhooks_bad_signature_accepted``: deliveries with a wrong signature that were
  not refused with 403 (of 100). Must be 0.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time

from bench import Figure, django_setup, throwaway_database

DEFAULT_DELIVERIES = 10_000


def _delivery(page_id: str, number: int) -> dict[str, object]:
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": 1_714_557_600 + number,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": f"{page_id}_{number}",
                            "post_id": f"{page_id}_1",
                            "message": f"Comment number {number}",
                            "from": {"id": str(900_000 + number), "name": "Resident"},
                            "created_time": 1_714_557_600 + number,
                        },
                    }
                ],
            }
        ],
    }


def _drain() -> int:
    """Run, as the worker would, every webhook task waiting on the broker's ``sync``
    queue (other tasks there are left for their workers)."""
    from govsocial.celery import app
    from inbox.services import webhooks

    processed = 0
    others = []
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("sync")
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                task = message.headers.get("task")
                if task == "inbox.tasks.drain_webhook_deliveries":
                    processed += webhooks.meta_webhook_drain()
                    message.ack()
                    continue
                if task != "inbox.tasks.store_webhook_delivery":
                    others.append(message)
                    continue
                args, _kwargs, _embed = message.decode()
                webhooks.meta_webhook_store(
                    organization_id=args[0], body=args[1].encode(), enqueue=False
                )
                message.ack()
                processed += 1
        finally:
            for message in others:
                message.requeue()
            queue.close()
    return processed


def run() -> list[Figure]:
    django_setup()
    logging.getLogger("inbox.views.webhooks").setLevel(logging.ERROR)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    count = int(os.environ.get("BENCH_WEBHOOK_DELIVERIES", DEFAULT_DELIVERIES))
    with throwaway_database():
        from django.test import Client

        from accounts.models import NetworkApp
        from governance.models import Organization
        from inbox.models import WebhookEvent

        organization = Organization.objects.create(name="Bench City", slug="bench-city")
        secret = secrets.token_hex(16)
        app = NetworkApp.objects.create(
            organization=organization, network="meta", client_id="1234567890", client_secret=secret
        )
        url = f"/inbox/webhooks/meta/{app.pk}/"
        bodies = []
        for number in range(count):
            body = json.dumps(_delivery("1000001", number), separators=(",", ":")).encode()
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            bodies.append((body, signature))
        client = Client()

        def post_all() -> None:
            for body, signature in bodies:
                response = client.post(
                    url,
                    data=body,
                    content_type="application/json",
                    headers={"X-Hub-Signature-256": signature},
                )
                assert response.status_code == 200, response.content

        _drain()  # anything an earlier run left on this broker's queue
        started, cpu_started = time.perf_counter(), time.process_time()
        post_all()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        started = time.perf_counter()
        drained = _drain()
        store_elapsed = time.perf_counter() - started
        stored = WebhookEvent.objects.count()
        assert drained == count and stored == count, (drained, stored)
        post_all()  # Meta sends again what it thinks was not received
        _drain()
        duplicates = WebhookEvent.objects.count() - count
        accepted = 0
        for body, _signature in bodies[:100]:
            forged = "sha256=" + hmac.new(b"wrong", body, hashlib.sha256).hexdigest()
            response = client.post(
                url, data=body, content_type="application/json",
                headers={"X-Hub-Signature-256": forged},
            )  # fmt: skip
            accepted += response.status_code != 403
        return [
            ("webhooks_ingest_per_s", count / elapsed, "deliveries/s"),
            # Per second of this process's own CPU: what the endpoint costs, whatever
            # else the machine is doing at the time.
            ("webhooks_ingest_per_cpu_s", count / cpu, "deliveries/s"),
            ("webhooks_store_per_s", count / store_elapsed, "deliveries/s"),
            ("webhooks_duplicates_after_replay", float(duplicates), "events"),
            ("webhooks_bad_signature_accepted", float(accepted), "deliveries"),
            # Other work on the machine slows every figure above; this says how much.
            ("webhooks_machine_load_1min", os.getloadavg()[0], "runnable"),
        ]
