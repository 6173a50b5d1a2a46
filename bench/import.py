"""Bulk import: a 10,000-row CSV of posts read, checked and created (drafts).

Seeds one organization with BENCH_IMPORT_ACCOUNTS Sandbox accounts (default 10) and
writes a CSV of BENCH_IMPORT_ROWS rows (default 10,000: pairs of Finnish and Swedish
rows forming 5,000 posts over the next month, semicolon-separated with a BOM, as Excel
saves it). Times ``import_read`` (decode, parse, check every row against the
accounts, the network's text rules and the time) and ``import_create`` (every post and
variant, audited, in one transaction), as the worker runs it. Figures:
``import_check_rows_per_s``, ``import_create_rows_per_s`` and ``import_rows_per_s``
(the whole, check plus create), with ``import_create_cpu_ms_per_row`` (this process's CPU
per created row) and the machine's load average, since the wall-clock rates depend on
what else runs.
"""

from __future__ import annotations

import os
import time

from bench import Figure, django_setup, throwaway_database

DEFAULT_ROWS = 10_000
DEFAULT_ACCOUNTS = 10


def _csv(rows: int, handles: list[str]) -> bytes:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    start = timezone.now().astimezone(ZoneInfo("Europe/Helsinki")) + timedelta(days=2)
    lines = ["post;account;language;text;time;campaign"]
    for n in range(rows // 2):
        at = (start + timedelta(minutes=7 * n)).strftime("%d.%m.%Y %H.%M")
        handle = handles[n % len(handles)]
        lines.append(f"{n};{handle};fi;Tiedote {n}: kirjasto on auki tänään klo 10-18.;{at};Syksy")
        lines.append(
            f"{n};{handle};sv;Meddelande {n}: biblioteket är öppet i dag 10-18.;{at};Syksy"
        )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def run() -> list[Figure]:
    django_setup()
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", DEFAULT_ROWS))
    account_count = int(os.environ.get("BENCH_IMPORT_ACCOUNTS", DEFAULT_ACCOUNTS))
    with throwaway_database():
        from accounts.models import ChannelAccount
        from governance.models import Membership, Organization, Role, User
        from publishing.models import ImportStatus, Post
        from publishing.services.bulk_import import (
            import_batch_save,
            import_create,
            import_read,
        )

        organization = Organization.objects.create(
            name="Bench City", slug="bench-import", time_zone="Europe/Helsinki"
        )
        user = User.objects.create_user(email="importer@bench.example", password="x" * 20)
        membership = Membership.objects.create(
            organization=organization, user=user, role=Role.EDITOR, all_accounts=True
        )
        handles = [f"city{n}" for n in range(account_count)]
        ChannelAccount.objects.bulk_create(
            ChannelAccount(organization=organization, network="sandbox", handle=h, display_name=h)
            for h in handles
        )
        content = _csv(rows, handles)

        started = time.perf_counter()
        report = import_read(membership=membership, file_name="month.csv", content=content)
        checked = time.perf_counter()
        assert not report.problem_rows, report.problem_rows[:3]
        batch = import_batch_save(membership=membership, report=report)
        batch.status = ImportStatus.IMPORTING
        batch.save(update_fields=["status"])
        created_at = time.perf_counter()
        cpu_before = time.process_time()
        outcome = import_create(membership=membership, batch=batch, submit=False, only_valid=False)
        done = time.perf_counter()
        create_cpu_s = time.process_time() - cpu_before
        assert outcome.rows == rows and Post.objects.count() == rows // 2

    check_s = checked - started
    create_s = done - created_at
    return [
        ("import_rows", float(rows), "rows"),
        ("import_check_rows_per_s", rows / check_s, "rows/s"),
        ("import_create_rows_per_s", rows / create_s, "rows/s"),
        ("import_rows_per_s", rows / (check_s + create_s), "rows/s"),
        # This process's CPU only (the database's own work is not in it): steadier than
        # the wall-clock rates on a shared machine.
        ("import_create_cpu_ms_per_row", create_cpu_s * 1000 / rows, "ms"),
        ("import_load_average", os.getloadavg()[0], "load"),
    ]
