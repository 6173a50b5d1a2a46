"""Audit log: append throughput, full-chain verification time, and concurrent writers.

Appends BENCH_AUDIT_ENTRIES entries (default 20,000) through ``audit_record``, one
transaction each as the app writes them, into a throwaway database on the
configured engine, then times ``audit_verify_chain`` over all of them.

On PostgreSQL it then runs 8 concurrent clients (threads, each with its own database
connection) for BENCH_AUDIT_CONCURRENT_SECONDS (default 15) across 8 organizations:
each client alternates between changing an inbox item's status (the item row lock,
then the organization's audit chain head) and answering an item on the Sandbox
network (a reply recorded and audited without the item lock, then sent and
recorded again), round-robin over all 8 organizations, so clients meet on the same
organizations' items and chain heads. Prints audited writes per
second and how many transactions PostgreSQL aborted as deadlocks (the goal is 0).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bench import Figure, django_setup, throwaway_database

DEFAULT_ENTRIES = 20_000
CLIENTS = 8
DEFAULT_CONCURRENT_SECONDS = 15.0
ITEMS_PER_ORGANIZATION = 4
DEADLOCK = "40P01"


def run() -> list[Figure]:
    django_setup()
    from governance.models import Organization, User
    from governance.services.audit import audit_record, audit_verify_chain

    entries = int(os.environ.get("BENCH_AUDIT_ENTRIES", DEFAULT_ENTRIES))
    with throwaway_database():
        organization = Organization.objects.create(name="Bench Municipality", slug="bench")
        actor = User.objects.create_user("bench@bench.example", None)
        started = time.perf_counter()
        for number in range(entries):
            audit_record(
                action="bench.appended",
                organization=organization,
                actor=actor,
                target_type="bench.item",
                target_id=str(number),
                target_label=f"Item {number}",
                old={"status": "draft"},
                new={"status": "scheduled", "number": number},
            )
        append_seconds = time.perf_counter() - started

        started = time.perf_counter()
        report = audit_verify_chain()
        verify_seconds = time.perf_counter() - started
        if not report.ok or report.checked != entries:
            raise RuntimeError(f"audit chain did not verify: {report}")
        figures = [
            ("audit_entries", float(entries), "entries"),
            ("audit_append_per_s", entries / append_seconds, "entries/s"),
            ("audit_verify_s", verify_seconds, "s"),
        ]
        from django.db import connection

        if connection.vendor == "postgresql":
            figures += _concurrent()
    return figures


def _concurrent() -> list[Any]:
    from django.db import OperationalError, connection

    from accounts.models import ChannelAccount
    from governance.models import Membership, Organization, Role, User
    from governance.services.audit import audit_verify_chain
    from inbox.models import InboxItem, ItemStatus
    from inbox.services import inbox_sync_account
    from inbox.services.replies import inbox_reply_create
    from inbox.services.triage import inbox_item_set_status
    from inbox.tests.helpers import citizen_writes, publish_sandbox

    seconds = float(os.environ.get("BENCH_AUDIT_CONCURRENT_SECONDS", DEFAULT_CONCURRENT_SECONDS))
    work: list[tuple[InboxItem, User, Membership]] = []
    for number in range(CLIENTS):
        organization = Organization.objects.create(
            name=f"Concurrent {number}", slug=f"concurrent-{number}"
        )
        user = User.objects.create_user(f"editor{number}@bench.example", None)
        membership = Membership.objects.create(
            organization=organization, user=user, role=Role.EDITOR
        )
        account = ChannelAccount.objects.create(
            organization=organization, network="sandbox", handle=f"bench{number}"
        )
        post = publish_sandbox(account, "Opening hours change on Monday.")
        for item_number in range(ITEMS_PER_ORGANIZATION):
            citizen_writes(account, f"Question {item_number}?", reply_to=post)
        inbox_sync_account(account=account)
        for item in InboxItem.objects.filter(channel_account=account):
            work.append((item, user, membership))
    statuses = [ItemStatus.CLOSED, ItemStatus.ANSWERED, ItemStatus.NEW]
    done = [0] * CLIENTS
    deadlocks = [0] * CLIENTS
    other_errors: list[BaseException] = []
    start = threading.Barrier(CLIENTS)
    deadline = [0.0]

    def client(index: int) -> None:
        try:
            start.wait()
            step = index
            while time.perf_counter() < deadline[0]:
                item, user, membership = work[(step * 7 + index) % len(work)]
                try:
                    if step % 2:
                        inbox_reply_create(
                            item=item, body=f"Answer {step}.", actor=user, membership=membership
                        )
                    else:
                        inbox_item_set_status(
                            item=item,
                            status=statuses[step % len(statuses)],
                            actor=user,
                            membership=membership,
                        )
                    done[index] += 1
                except OperationalError as exc:
                    if getattr(exc.__cause__, "pgcode", None) != DEADLOCK:
                        raise
                    deadlocks[index] += 1
                step += 1
        except BaseException as exc:
            other_errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    deadline[0] = time.perf_counter() + seconds + 1.0
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if other_errors:
        raise RuntimeError(f"concurrent clients failed: {other_errors[0]!r}") from other_errors[0]
    report = audit_verify_chain()
    if not report.ok:
        raise RuntimeError(f"audit chains did not verify after the concurrent run: {report}")
    return [
        ("audit_concurrent_clients", float(CLIENTS), "clients"),
        ("audit_concurrent_organizations", float(CLIENTS), "organizations"),
        ("audit_concurrent_writes_per_s", sum(done) / elapsed, "writes/s"),
        ("audit_concurrent_deadlocks", float(sum(deadlocks)), "deadlocks"),
    ]
