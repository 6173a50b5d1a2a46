"""Audit log: append throughput and full-chain verification time.

Appends BENCH_AUDIT_ENTRIES entries (default 20,000) through ``audit_record``, one
transaction each as the app writes them, into a throwaway database on the
configured engine, then times ``audit_verify_chain`` over all of them.
"""

from __future__ import annotations

import os
import time

from bench import Figure, django_setup, throwaway_database

DEFAULT_ENTRIES = 20_000


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
    return [
        ("audit_entries", float(entries), "entries"),
        ("audit_append_per_s", entries / append_seconds, "entries/s"),
        ("audit_verify_s", verify_seconds, "s"),
    ]
