"""Inbox: the list page over 100,000 items, and ingesting 10,000 notifications.

In a throwaway database on the configured engine:

- ``inbox_list_p95_ms``: the 95th percentile of the whole list page (middleware,
  session, query, template) rendered through Django's test client for an admin,
  over 100,000 items (BENCH_INBOX_ITEMS) in five accounts, unfiltered and with
  the usual filters (status, "assigned to me", overdue, tag, account), 20 times
  each after a warm-up. Target ≤ 150 ms. ``inbox_list_queries``: queries one
  page costs (the same whatever the number of rows).
- ``inbox_ingest_s``: one ``inbox_sync_account`` run reading 10,000 mention
  notifications (BENCH_INBOX_NOTIFICATIONS) from the local Mastodon test server
  (``tests/mastodon_server``: real HTTP on 127.0.0.1, ``Link`` pagination, 40
  per page) into the inbox. Target ≤ 10 s.
- ``inbox_duplicates_after_resync``: syncing the same notifications again from
  the very beginning (cursor reset): items added plus duplicate rows. Must be 0.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import statistics
import time
from datetime import timedelta
from typing import Any

from bench import Figure, django_setup, throwaway_database

DEFAULT_ITEMS = 100_000
DEFAULT_NOTIFICATIONS = 10_000
ROUNDS = 20
WARM_UP = 5


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _seed_items(count: int) -> tuple[Any, Any, list[Any], Any]:
    from django.utils import timezone

    from accounts.models import ChannelAccount
    from governance.models import Membership, Organization, Role, TOTPDevice, User
    from inbox.models import InboxItem, ItemKind, ItemStatus, Priority, Tag

    organization = Organization.objects.create(name="Bench City", slug="bench-city")
    user = User.objects.create_user(
        "bench@bench.example", "bench-password", full_name="Bench Admin"
    )
    colleague = User.objects.create_user("colleague@bench.example", None, full_name="Colleague")
    Membership.objects.create(organization=organization, user=user, role=Role.ADMIN)
    Membership.objects.create(organization=organization, user=colleague, role=Role.EDITOR)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    accounts = [
        ChannelAccount.objects.create(
            organization=organization, network=network, handle=f"bench-{number}"
        )
        for number, network in enumerate(["sandbox", "mastodon", "bluesky", "sandbox", "mastodon"])
    ]
    tags = [
        Tag.objects.create(organization=organization, name=name)
        for name in ("Roads", "Crisis", "Schools")
    ]
    rng = random.Random(7)
    now = timezone.now()
    statuses = (
        [ItemStatus.NEW] * 5
        + [ItemStatus.ASSIGNED] * 2
        + [ItemStatus.ANSWERED] * 4
        + [ItemStatus.CLOSED]
    )
    batch: list[InboxItem] = []
    through = InboxItem.tags.through
    links: list[Any] = []
    for number in range(count):
        account = accounts[number % len(accounts)]
        status = rng.choice(statuses)
        posted = now - timedelta(minutes=number * 3 + rng.randint(0, 2))
        assignee = rng.choice([user, colleague]) if status != ItemStatus.NEW else None
        batch.append(
            InboxItem(
                organization=organization,
                channel_account=account,
                network=account.network,
                remote_id=f"bench-{number}",
                kind=rng.choice(ItemKind.values),
                author_handle=f"citizen{number % 5000}",
                author_name=f"Citizen {number % 5000}",
                text=f"Question number {number} about the roads, schools and the swimming hall.",
                posted_at=posted,
                received_at=posted,
                thread_key=f"bench-{number - number % 3}",
                status=status,
                assignee=assignee,
                priority=rng.choice([Priority.NORMAL] * 8 + [Priority.HIGH, Priority.URGENT]),
                sla_due_at=posted + timedelta(hours=rng.randint(1, 72)),
            )
        )
        if len(batch) == 5000:
            InboxItem.objects.bulk_create(batch)
            batch = []
    if batch:
        InboxItem.objects.bulk_create(batch)
    ids = list(InboxItem.objects.filter(organization=organization).values_list("pk", flat=True))
    for pk in ids[::10]:
        links.append(through(inboxitem_id=pk, tag_id=rng.choice(tags).pk))
    through.objects.bulk_create(links, batch_size=5000)
    return user, device, accounts, tags[0]


def _list_figures(item_count: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    user, device, accounts, tag = _seed_items(item_count)
    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum would have gathered them on a live server.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    queries = [
        "",
        "?status=new",
        "?assignee=me",
        "?overdue=on",
        f"?tag={tag.pk}",
        f"?account={accounts[1].pk}",
    ]
    for query in queries:
        for _ in range(WARM_UP):
            assert client.get(f"/inbox/{query}").status_code == 200
    samples: list[float] = []
    for _ in range(ROUNDS):
        for query in queries:
            started = time.perf_counter()
            response = client.get(f"/inbox/{query}")
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/inbox/").status_code == 200
    return _p95(samples), statistics.median(samples), len(captured.captured_queries)


class NotificationsServer:
    """A small local HTTP server speaking Mastodon's notifications API: ``GET
    /api/v1/notifications`` with a bearer token, ``types[]``, ``limit`` (40, at most
    80), ``min_id`` / ``max_id`` / ``since_id`` and ``Link`` headers, as documented
    (mastodon/documentation ``methods/notifications.md``), answering with mention
    notifications whose statuses have the shape the connector reads.

    The full test server (``tests/mastodon_server``) sorts every notification on
    every request, so at 10,000 it would time itself rather than the inbox; this
    one keeps them sorted and each rendered once, so a page costs what a real
    instance's indexed query would. It runs in its own thread on 127.0.0.1.
    """

    domain = "social.example"

    def __init__(self, token: str, account_id: str) -> None:
        self.token = token
        self.account_id = account_id
        self.ids: list[int] = []
        self.bodies: dict[int, bytes] = {}
        self.requests = 0
        self._next = 110_000_000_000_000_001
        self._httpd: Any = None
        self.base_url = ""

    def add_mentions(self, count: int, *, author: str = "citizen") -> None:
        import json
        from datetime import UTC, datetime

        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for _ in range(count):
            status_id, note_id = self._next, self._next + 1
            self._next += 2
            status: dict[str, Any] = {
                "id": str(status_id),
                "created_at": created,
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                "sensitive": False,
                "spoiler_text": "",
                "visibility": "public",
                "language": "en",
                "uri": f"https://{self.domain}/users/{author}/statuses/{status_id}",
                "url": f"https://{self.domain}/@{author}/{status_id}",
                "content": f"<p>@comms question {len(self.ids)} about the swimming hall</p>",
                "account": {
                    "id": "42",
                    "username": author,
                    "acct": author,
                    "display_name": author.title(),
                    "url": f"https://{self.domain}/@{author}",
                },
                "mentions": [],
                "media_attachments": [],
            }
            note = {
                "id": str(note_id),
                "type": "mention",
                "created_at": created,
                "account": status["account"],
                "status": status,
            }
            self.ids.append(note_id)
            self.bodies[note_id] = json.dumps(note).encode()

    def page(self, query: dict[str, list[str]]) -> tuple[list[int], dict[str, str]]:
        import bisect
        from urllib.parse import urlencode

        types = set(query.get("types[]", []))
        if types and "mention" not in types:
            return [], {}
        limit = min(int((query.get("limit") or ["40"])[0]), 80)
        ids = self.ids  # ascending
        upper = len(ids)
        if query.get("max_id"):
            upper = bisect.bisect_left(ids, int(query["max_id"][0]))
        lower = 0
        if query.get("since_id"):
            lower = bisect.bisect_right(ids, int(query["since_id"][0]))
        if query.get("min_id"):
            # The page just after min_id, newest first.
            start = bisect.bisect_right(ids, int(query["min_id"][0]))
            chosen = ids[max(start, lower) : min(start + limit, upper)]
        else:
            chosen = ids[max(lower, upper - limit) : upper]
        chosen = list(reversed(chosen))
        if not chosen:
            return [], {}
        keep = [
            (k, v)
            for k, values in query.items()
            for v in values
            if k not in ("max_id", "min_id", "since_id")
        ]
        base = f"{self.base_url}/api/v1/notifications?"
        link = (
            f'<{base}{urlencode([*keep, ("max_id", chosen[-1])])}>; rel="next", '
            f'<{base}{urlencode([*keep, ("min_id", chosen[0])])}>; rel="prev"'
        )
        return chosen, {"Link": link}

    def start(self) -> NotificationsServer:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from threading import Thread
        from urllib.parse import parse_qs, urlsplit

        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle's algorithm
                # and the client's delayed ACK hold every body back ~40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests += 1
                parts = urlsplit(self.path)
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self._send(401, b'{"error":"The access token is invalid"}', {})
                if parts.path != "/api/v1/notifications":
                    return self._send(404, b'{"error":"Record not found"}', {})
                ids, headers = server.page(parse_qs(parts.query))
                body = b"[" + b",".join(server.bodies[i] for i in ids) + b"]"
                self._send(200, body, headers)

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_port}"
        Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


def _ingest_figures(notifications: int) -> tuple[float, int, int]:
    from django.conf import settings
    from django.db.models import Count

    from accounts.models import ChannelAccount
    from governance.models import Organization
    from inbox.models import InboxCursor, InboxItem
    from inbox.services import inbox_sync_account

    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    server = NotificationsServer(token=secrets.token_urlsafe(16), account_id="1").start()
    try:
        organization = Organization.objects.create(name="Ingest City", slug="ingest-city")
        account = ChannelAccount.objects.create(
            organization=organization,
            network="mastodon",
            handle="@comms@social.example",
            remote_id=server.account_id,
            server_url=server.base_url,
            credentials={"access_token": server.token},
        )
        account = ChannelAccount.objects.select_related("organization").get(pk=account.pk)
        # The first sync of a new account sets its cursor at the newest notification.
        server.add_mentions(1)
        inbox_sync_account(account=account, max_pages=None)
        server.add_mentions(notifications)
        requests_before = server.requests

        started = time.perf_counter()
        result = inbox_sync_account(account=account, max_pages=None)
        ingest_seconds = time.perf_counter() - started
        if result.outcome != "synced" or result.new_items != notifications:
            raise RuntimeError(f"ingest did not take every notification: {result}")
        pages = server.requests - requests_before

        # Again from the very beginning: everything is seen a second time.
        InboxCursor.objects.filter(channel_account=account).update(cursor="0")
        again = inbox_sync_account(account=account, max_pages=None)
        if again.outcome != "synced":
            raise RuntimeError(f"re-sync failed: {again}")
        doubled = (
            InboxItem.objects.filter(channel_account=account)
            .values("remote_id")
            .annotate(copies=Count("pk"))
            .filter(copies__gt=1)
            .count()
        )
        return ingest_seconds, again.new_items + doubled, pages
    finally:
        server.stop()


def run() -> list[Figure]:
    django_setup()
    from django.conf import settings

    # Measured as in production (the development default keeps every query in
    # memory and annotates every template node for debugging).
    settings.DEBUG = False
    # The connector logs every HTTP call at INFO; 250 lines say nothing here.
    logging.getLogger("accounts.http").setLevel(logging.WARNING)
    item_count = int(os.environ.get("BENCH_INBOX_ITEMS", DEFAULT_ITEMS))
    notifications = int(os.environ.get("BENCH_INBOX_NOTIFICATIONS", DEFAULT_NOTIFICATIONS))
    with throwaway_database():
        p95, median, queries = _list_figures(item_count)
        ingest_seconds, duplicates, pages = _ingest_figures(notifications)
    return [
        ("inbox_list_items", float(item_count), "items"),
        ("inbox_list_p95_ms", p95, "ms"),
        ("inbox_list_median_ms", median, "ms"),
        ("inbox_list_queries", float(queries), "queries"),
        ("inbox_ingest_notifications", float(notifications), "notifications"),
        ("inbox_ingest_pages", float(pages), "requests"),
        ("inbox_ingest_s", ingest_seconds, "s"),
        ("inbox_duplicates_after_resync", float(duplicates), "items"),
    ]
