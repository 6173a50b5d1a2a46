"""API call counting (X's paid calls): counter throughput from several threads, exactness,
the account page's month summary, and X's weighted text count.

Records BENCH_API_CALLS calls (default 20,000) with ``api_call_record`` from four
threads over 50 accounts and 10 endpoints, into a throwaway database on the configured
engine, then checks that no increment was lost, times ``account_month_usage`` for an
account with a month of daily rows, and times ``x_text_length`` on a 280-character
Finnish post with a link.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta

from bench import Figure, django_setup, throwaway_database

DEFAULT_CALLS = 20_000
THREADS = 4
ACCOUNTS = 50
ENDPOINTS = 10


def run() -> list[Figure]:
    django_setup()
    from django.db import connections

    from accounts.connectors.x import x_text_length
    from accounts.models import ApiCallCount, ChannelAccount
    from accounts.usage import account_month_usage, api_call_record
    from governance.models import Organization

    calls = int(os.environ.get("BENCH_API_CALLS", DEFAULT_CALLS))
    with throwaway_database():
        organization = Organization.objects.create(name="Bench Municipality", slug="bench")
        accounts = [
            ChannelAccount.objects.create(organization=organization, network="x", handle=f"@b{n}")
            for n in range(ACCOUNTS)
        ]

        def worker(offset: int) -> None:
            try:
                for number in range(offset, calls, THREADS):
                    api_call_record(
                        account=accounts[number % ACCOUNTS],
                        network="x",
                        endpoint=f"GET /2/endpoint/{number % ENDPOINTS}",
                    )
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        record_seconds = time.perf_counter() - started
        counted = sum(ApiCallCount.objects.values_list("count", flat=True))
        if counted != calls:
            raise RuntimeError(f"counted {counted} of {calls} calls")

        today = datetime.now(tz=UTC).date()
        month = [today - timedelta(days=n) for n in range(today.day)]
        ApiCallCount.objects.bulk_create(
            ApiCallCount(
                network="x", account=accounts[0], endpoint=f"GET /2/other/{e}", day=d, count=7
            )
            for d in month
            for e in range(ENDPOINTS)
        )
        rounds = 200
        started = time.perf_counter()
        for _ in range(rounds):
            account_month_usage(accounts[0])
        summary_ms = (time.perf_counter() - started) * 1000 / rounds

    text = ("Kaupungin kirjasto avataan maanantaina klo 9. Lue lisää: https://www.hel.fi/ ") * 3
    text = text[:280]
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        x_text_length(text)
    count_us = (time.perf_counter() - started) * 1_000_000 / rounds
    return [
        ("api_calls_recorded", float(calls), "calls"),
        ("api_calls_lost", float(calls - counted), "calls"),
        ("api_call_record_per_s", calls / record_seconds, "calls/s"),
        ("api_month_usage_ms", summary_ms, "ms"),
        ("x_text_length_us", count_us, "us"),
    ]
