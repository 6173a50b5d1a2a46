"""Listening: ingesting 50,000 matching posts, and the stream page over a large store.

In a throwaway database on the configured engine:

- ``listening_ingest_s``: 50,000 found posts (BENCH_LISTENING_INGEST) taken in as
  the poll takes a search's answer, page by page of 100 (searchPosts' maximum):
  each post matched against the watch's terms (prefix matching, an excluded term),
  deduplicated against what the watch holds, stored, counted into the hourly
  volume, and the alert checked. The network's part (the HTTP calls) is not in it.
  ``listening_duplicates_after_reingest``: the same pages taken in again: rows
  added. Must be 0.
- ``listening_stream_p95_ms``: the 95th percentile of the whole stream page
  (middleware, session, queries, template) for an admin, over a store of
  1,000,000 posts in one watch (BENCH_LISTENING_POSTS), unfiltered and with each
  filter (network, language, misinformation, last 24 hours, the fifth page and a
  page nine tenths down, by the "Older" link's cursor), 20 times each after a
  warm-up. ``listening_stream_queries``: queries one page costs,
  at the full store and at 1/10 of it (the same number: constant queries).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import timedelta
from typing import Any

from bench import Figure, django_setup, throwaway_database

DEFAULT_INGEST = 50_000
DEFAULT_POSTS = 1_000_000
PAGE = 100
ROUNDS = 20
WARM_UP = 3


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _setup() -> tuple[Any, Any, Any, Any]:
    from accounts.models import ChannelAccount
    from governance.models import Membership, Organization, Role, TOTPDevice, User
    from listening.models import Watch

    organization = Organization.objects.create(name="Bench City", slug="bench-city")
    user = User.objects.create_user("bench@bench.example", "bench-pw", full_name="Bench Admin")
    Membership.objects.create(organization=organization, user=user, role=Role.ADMIN)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    account = ChannelAccount.objects.create(
        organization=organization, network="bluesky", handle="bench.bsky.social"
    )
    watch = Watch.objects.create(
        organization=organization,
        name="Uimahalli",
        terms=["uimahalli", "#uimahalli"],
        excluded_terms=["myynnissä"],
        prefix_match=True,
        alert_min_count=10**9,  # measured without e-mail going out
    )
    watch.channel_accounts.add(account)
    return user, device, account, watch


def _pages(count: int) -> list[list[Any]]:
    from django.utils import timezone

    from accounts.connectors.base import FoundPost

    now = timezone.now()
    texts = [
        "uimahallissa on kylmää vettä tänään",
        "milloin #uimahalli aukeaa?",
        "Uimahallin remontti kestää",
        "uimahalli kiinni pyhinä",
    ]
    posts = [
        FoundPost(
            remote_id=f"at://did:plc:bench{n % 5000}/app.bsky.feed.post/{n:012d}",
            url=f"https://bsky.app/profile/bench{n % 5000}/post/{n:012d}",
            author_handle=f"bench{n % 5000}.bsky.social",
            author_name=f"Asukas {n % 5000}",
            text=f"{texts[n % len(texts)]} {n}",
            created_at=now - timedelta(seconds=n * 7),
            language=("fi", "sv", "en")[n % 3],
            likes=n % 17,
        )
        for n in range(count)
    ]
    return [posts[start : start + PAGE] for start in range(0, count, PAGE)]


def _ingest_figures(count: int) -> tuple[float, int]:
    from listening.matching import matcher_for
    from listening.models import ListeningPost
    from listening.services import listening_store_posts

    _user, _device, account, watch = _setup()
    pages = _pages(count)

    def take_in() -> None:
        matcher = matcher_for(watch.terms, watch.excluded_terms, watch.prefix_match)
        for page in pages:
            found = [(post, matcher.matches(post.text)) for post in page]
            kept = [(post, matched) for post, matched in found if matched]
            listening_store_posts(watch=watch, account=account, network="bluesky", found=kept)

    started = time.perf_counter()
    take_in()
    seconds = time.perf_counter() - started
    before = ListeningPost.objects.filter(watch=watch).count()
    take_in()
    after = ListeningPost.objects.filter(watch=watch).count()
    ListeningPost.objects.filter(watch=watch).delete()
    return seconds, after - before


def _seed_store(watch: Any, account: Any, count: int) -> None:
    """``count`` stored posts in the watch, one every 3 seconds back from now: on
    PostgreSQL in one INSERT ... SELECT over generate_series (a million rows in well
    under a minute, where ORM objects took many), elsewhere through bulk_create."""
    from django.db import connection
    from django.utils import timezone

    from listening.models import ListeningPost

    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO listening_listeningpost
                    (organization_id, watch_id, channel_account_id, network, remote_id,
                     canonical_key, url, author_handle, author_name, text, language,
                     posted_at, found_at,
                     likes, shares, replies, quotes, matched_terms, extra,
                     misinformation_at, correction_url)
                SELECT %(org)s, %(watch)s, %(account)s,
                       CASE WHEN g %% 4 = 0 THEN 'mastodon' ELSE 'bluesky' END,
                       'seed-' || g,
                       'seed-' || g,
                       'https://bsky.app/profile/seed/post/' || g,
                       'seed' || (g %% 9000) || '.bsky.social',
                       'Asukas ' || (g %% 9000),
                       'uimahallissa taas jotain ' || g,
                       (ARRAY['fi', 'sv', 'en', 'tr'])[1 + g %% 4],
                       %(now)s - make_interval(secs => g * 3),
                       %(now)s - make_interval(secs => g * 3),
                       (g::bigint * 7919) %% 51, 0, 0, 0,
                       '["uimahalli"]'::jsonb, '{}'::jsonb,
                       CASE WHEN g %% 500 = 0 THEN %(now)s - make_interval(secs => g * 3) END,
                       ''
                FROM generate_series(0, %(last)s) AS g
                """,
                {
                    "org": watch.organization_id,
                    "watch": watch.pk,
                    "account": account.pk,
                    "now": now,
                    "last": count - 1,
                },
            )
        return
    rng = random.Random(11)
    batch: list[ListeningPost] = []
    for n in range(count):
        posted = now - timedelta(seconds=n * 3)
        batch.append(
            ListeningPost(
                organization_id=watch.organization_id,
                watch=watch,
                channel_account=account,
                network="bluesky" if n % 4 else "mastodon",
                remote_id=f"seed-{n}",
                canonical_key=f"seed-{n}",
                url=f"https://bsky.app/profile/seed/post/{n}",
                author_handle=f"seed{n % 9000}.bsky.social",
                author_name=f"Asukas {n % 9000}",
                text=f"uimahallissa taas jotain {n}",
                language=("fi", "sv", "en", "tr")[n % 4],
                posted_at=posted,
                found_at=posted,
                likes=rng.randint(0, 50),
                matched_terms=["uimahalli"],
                misinformation_at=posted if n % 500 == 0 else None,
            )
        )
        if len(batch) == 10_000:
            ListeningPost.objects.bulk_create(batch)
            batch = []
    if batch:
        ListeningPost.objects.bulk_create(batch)


def _explain(client: Any, url: str) -> None:
    """BENCH_EXPLAIN=1: each query of the page, EXPLAIN ANALYZE'd, its execution time
    on standard error (less sensitive to a shared machine's load than the page's)."""
    import sys

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    for captured_query in captured.captured_queries:
        sql = captured_query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = [row[0] for row in cursor.fetchall()]
        took = next((line for line in plan if "Execution Time" in line), "").strip()
        print(f"{url} {took} :: {sql[:110]}", file=sys.stderr)


def _stream_figures(count: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from governance.models import Membership, TOTPDevice
    from listening.models import Watch

    watch = Watch.objects.get(name="Uimahalli")
    user = Membership.objects.get(organization_id=watch.organization_id).user
    device = TOTPDevice.objects.get(user=user)
    account = watch.channel_accounts.get()
    tenth = count // 10
    _seed_store(watch, account, tenth)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = Client()
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    url = f"/listening/{watch.pk}/"
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    small_queries = len(captured.captured_queries)

    from listening.models import ListeningPost

    ListeningPost.objects.filter(watch=watch).delete()
    _seed_store(watch, account, count)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    queries = ["", "?network=mastodon", "?language=sv", "?misinformation=on", "?period=24"]
    # A later page (the fifth, as the "Older" link leads to it) and one far down.
    from listening.selectors import StreamCursor, StreamFilters, stream_page

    older: StreamCursor | None = None
    for _ in range(4):
        older = stream_page(watch, StreamFilters(), before=older).older
    far = ListeningPost.objects.get(watch=watch, remote_id=f"seed-{count * 9 // 10}")
    queries += [f"?before={older}", f"?before={StreamCursor.of(far)}"]
    for query in queries:
        for _ in range(WARM_UP):
            assert client.get(url + query).status_code == 200
    samples: list[float] = []
    for _ in range(ROUNDS):
        for query in queries:
            started = time.perf_counter()
            response = client.get(url + query)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    if os.environ.get("BENCH_EXPLAIN") and connection.vendor == "postgresql":
        for query in queries:
            _explain(client, url + query)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return _p95(samples), statistics.median(samples), len(captured.captured_queries), small_queries


def run() -> list[Figure]:
    django_setup()
    import logging

    from django.conf import settings

    settings.DEBUG = False
    logging.getLogger("accounts.http").setLevel(logging.WARNING)
    ingest = int(os.environ.get("BENCH_LISTENING_INGEST", DEFAULT_INGEST))
    posts = int(os.environ.get("BENCH_LISTENING_POSTS", DEFAULT_POSTS))
    with throwaway_database():
        ingest_seconds, duplicates = _ingest_figures(ingest)
        p95, median, queries, small_queries = _stream_figures(posts)
    return [
        ("listening_ingest_posts", float(ingest), "posts"),
        ("listening_ingest_s", ingest_seconds, "s"),
        ("listening_duplicates_after_reingest", float(duplicates), "posts"),
        ("listening_stream_posts", float(posts), "posts"),
        ("listening_stream_p95_ms", p95, "ms"),
        ("listening_stream_median_ms", median, "ms"),
        ("listening_stream_queries", float(queries), "queries"),
        ("listening_stream_queries_at_tenth", float(small_queries), "queries"),
    ]
