"""Records search: full-text search over the kept record (goal: p95 ≤ 200 ms at 1,000,000).

In a throwaway PostgreSQL database, seeds BENCH_RECORDS search entries (default
200,000 so that a run takes a few minutes on a shared machine; set
BENCH_RECORDS=1000000 for the issue's full size) in one organization and five
accounts, in Finnish, Swedish, English and other languages (texts built from word
lists, so common words match hundreds of thousands of rows and rare ones a few),
through the same trigger that keeps ``search_vector`` in production. Then runs
``records_search`` (the page's own query: the first 50 matches newest first and the
match count up to 1,000) for a fixed set of searches, 20 times each after a warm-up:

- ``records_search_p95_ms``: the 95th percentile over all of them (Finnish inflected
  words, a Swedish and an English word, a rare word, a word that only the trigram
  fallback finds, and searches narrowed by account, dates and author);
- ``records_search_fallback_p95_ms``: the trigram fallback's searches only (words
  inside longer words);
- ``records_search_similar_p95_ms``: the last resort, word similarity (a Finnish
  form whose stem changed: "kaupungin" for "kaupunki"), not in the p95 above;
- ``records_search_rows``: the number of entries searched.

BENCH_RECORDS_KEEP=1 seeds into a kept database (``<BENCH_DATABASE_NAME>_records_<N>``)
once and reuses it on later runs (migrated again, so new indexes apply), to iterate
on the queries at 1,000,000 without seeding each time; drop it by hand when done.
BENCH_EXPLAIN=1 prints each search's own p95 and its statements' EXPLAIN ANALYZE
execution times on standard error.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from bench import Figure, django_setup, kept_database, throwaway_database

DEFAULT_RECORDS = 200_000
ROUNDS = 20
WARM_UP = 3

FINNISH = [
    "uimahalli",
    "kirjasto",
    "jätehuolto",
    "tiedote",
    "kaupunki",
    "liikenne",
    "koulu",
    "päiväkoti",
    "terveysasema",
    "vesikatko",
    "remontti",
    "aukioloajat",
    "asukas",
    "palvelu",
    "lupa",
    "katu",
    "puisto",
    "talvi",
    "lumi",
    "bussi",
]
SWEDISH = [
    "simhall",
    "bibliotek",
    "avfall",
    "meddelande",
    "stad",
    "trafik",
    "skola",
    "daghem",
    "hälsostation",
]
ENGLISH = [
    "library",
    "swimming",
    "waste",
    "notice",
    "city",
    "traffic",
    "school",
    "service",
    "permit",
    "street",
]
INFLECT_FI = ("", "n", "ssa", "sta", "lle", "t", "a")
RARE = "kassajonoa"


def _seed(count: int) -> tuple[Any, list[int]]:
    from django.db import connection

    from accounts.models import ChannelAccount
    from governance.models import Organization

    organization = Organization.objects.create(name="Bench City", slug="bench-city")
    accounts = [
        ChannelAccount.objects.create(
            organization=organization, network="mastodon", handle=f"bench-{n}"
        ).pk
        for n in range(5)
    ]
    with connection.cursor() as cursor:
        # Texts from the word lists by a deterministic hash of the row number; the
        # trigger fills search_vector with each row's own dictionary.
        cursor.execute(
            """
            INSERT INTO archive_recordentry
                (organization_id, channel_account_id, kind, object_id, author,
                 occurred_at, text, language, search_config)
            SELECT %(org)s,
                   (%(accounts)s::bigint[])[1 + (g %% 5)],
                   (ARRAY['post', 'comment', 'inbox_item', 'reply', 'note',
                          'post_version'])[1 + (g %% 6)],
                   g,
                   'author' || (g %% 5000),
                   now() - make_interval(mins => g %% 1000000),
                   CASE WHEN g %% 10 < 6 THEN
                       initcap((%(fi)s::text[])[1 + abs(hashtext(g::text || '7')) %% %(nfi)s])
                       || (%(inf)s::text[])[1 + abs(hashtext(g::text || '3')) %% 7] || ' '
                       || (%(fi)s::text[])[1 + abs(hashtext(g::text || '13')) %% %(nfi)s]
                       || (%(inf)s::text[])[1 + abs(hashtext(g::text || '5')) %% 7] || ' on '
                       || (%(fi)s::text[])[1 + abs(hashtext(g::text || '31')) %% %(nfi)s]
                       || ' numero ' || g
                       || CASE WHEN g %% 100000 = 3 THEN ' %(rare)s' ELSE '' END
                   WHEN g %% 10 < 8 THEN
                       (%(sv)s::text[])[1 + abs(hashtext(g::text || '7')) %% %(nsv)s] || ' och '
                       || (%(sv)s::text[])[1 + abs(hashtext(g::text || '11')) %% %(nsv)s]
                       || ' nummer ' || g
                   ELSE
                       (%(en)s::text[])[1 + abs(hashtext(g::text || '7')) %% %(nen)s] || ' and the '
                       || (%(en)s::text[])[1 + abs(hashtext(g::text || '11')) %% %(nen)s]
                       || ' number ' || g
                   END,
                   CASE WHEN g %% 10 < 6 THEN 'fi' WHEN g %% 10 < 8 THEN 'sv'
                        WHEN g %% 10 < 9 THEN 'en' ELSE 'et' END,
                   CASE WHEN g %% 10 < 6 THEN 'finnish' WHEN g %% 10 < 8 THEN 'swedish'
                        WHEN g %% 10 < 9 THEN 'english' ELSE 'simple' END
            FROM generate_series(1, %(count)s) AS g
            """.replace("%(rare)s", RARE),
            {
                "org": organization.pk,
                "accounts": accounts,
                "fi": FINNISH,
                "nfi": len(FINNISH),
                "sv": SWEDISH,
                "nsv": len(SWEDISH),
                "en": ENGLISH,
                "nen": len(ENGLISH),
                "inf": list(INFLECT_FI),
                "count": count,
            },
        )
        # What autovacuum does after a bulk load: merge the GIN pending lists, gather
        # statistics.
        cursor.execute("VACUUM ANALYZE archive_recordentry")
    return organization, accounts


def _seeded(count: int) -> tuple[Any, list[int]]:
    """The seed: made now, or (in a kept database) found from an earlier run."""
    from accounts.models import ChannelAccount
    from governance.models import Organization

    organization = Organization.objects.filter(slug="bench-city").first()
    if organization is None:
        return _seed(count)
    accounts = list(
        ChannelAccount.objects.filter(organization=organization)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return organization, accounts


def _explain(organization: Any, query: Any, method: str) -> None:
    """BENCH_EXPLAIN=1: each SQL statement of the search, EXPLAIN ANALYZE'd, its
    execution time on standard error (less sensitive to a shared machine's load)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from archive.selectors import records_search

    with CaptureQueriesContext(connection) as captured:
        records_search(organization, query, visible_account_ids=None)
    label = f"{query.text!r} {method}" + (" account" if query.account_ids else "")
    label += (" dates" if query.start else "") + (f" author={query.author}" if query.author else "")
    for captured_query in captured.captured_queries:
        sql = captured_query["sql"]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        took = next((line for line in plan if "Execution Time" in line), "").strip()
        print(f"{label}: {took} :: {sql[:90]}", file=sys.stderr)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def run() -> list[Figure]:
    django_setup()
    from django.db import connection
    from django.utils import timezone

    if connection.vendor != "postgresql":
        raise SystemExit("records_search needs PostgreSQL (DATABASE_URL)")
    from archive.selectors import (
        RecordQuery,
        records_search,
    )

    count = int(os.environ.get("BENCH_RECORDS", DEFAULT_RECORDS))
    keep = os.environ.get("BENCH_RECORDS_KEEP", "") not in ("", "0")
    with kept_database(f"records_{count}") if keep else throwaway_database():
        organization, accounts = _seeded(count)
        now = timezone.now()
        searches = [
            RecordQuery(text="uimahallissa"),
            RecordQuery(text="kirjastosta"),
            RecordQuery(text="jätehuoltoa"),
            RecordQuery(text="simhallen"),
            RecordQuery(text="libraries"),
            RecordQuery(text=RARE),
            RecordQuery(text="uimahalli", account_ids=(accounts[2],)),
            RecordQuery(text="kaupunkia", start=now - timedelta(days=30), end=now),
            RecordQuery(text="koulu", author="author42"),
        ]
        fallback = [RecordQuery(text="kassajon"), RecordQuery(text="terveysase")]
        similar = [RecordQuery(text="kaupungin")]
        samples: list[float] = []
        fallback_samples: list[float] = []
        similar_samples: list[float] = []
        for query in searches + fallback + similar:
            for _ in range(WARM_UP):
                records_search(organization, query, visible_account_ids=None)
            own: list[float] = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                results = records_search(organization, query, visible_account_ids=None)
                elapsed = (time.perf_counter() - started) * 1000
                own.append(elapsed)
                if query in similar:
                    similar_samples.append(elapsed)
                    continue
                samples.append(elapsed)
                if query in fallback:
                    fallback_samples.append(elapsed)
            if os.environ.get("BENCH_EXPLAIN"):
                print(f"{query.text!r}: p95 {_p95(own):.1f} ms", file=sys.stderr)
                _explain(organization, query, results.method)
            if query in fallback and results.method != "trigram":
                raise SystemExit(f"{query.text!r} was expected to need the trigram fallback")
            if not results.entries:
                raise SystemExit(f"{query.text!r} found nothing: the seed is wrong")
    return [
        ("records_search_p95_ms", _p95(samples), "ms"),
        ("records_search_median_ms", statistics.median(samples), "ms"),
        ("records_search_fallback_p95_ms", _p95(fallback_samples), "ms"),
        ("records_search_similar_p95_ms", _p95(similar_samples), "ms"),
        ("records_search_rows", float(count), "rows"),
    ]
