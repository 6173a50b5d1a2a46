"""Page CPU: the median CPU of one request of each page type of the load mix, over a kept seed.

The ``load`` benchmark seeds its data afresh each run and measures these figures before
its three minutes of load; this one seeds the same data once into a kept database
(``<BENCH_DATABASE_NAME>_load_<scale>``, see ``bench.kept_database``; drop it by hand when
done) and measures only the CPU per page, so a change to a page can be measured in a
minute. ``BENCH_LOAD_SCALE`` (default 1) scales the posts and items as in ``load``;
``BENCH_PAGE_CPU_REQUESTS`` (default 30) requests of each page after warm-up;
``BENCH_PAGE_CPU_PAGES`` (comma-separated page types) measures only those.

``BENCH_PAGE_CPU_PROFILE=<page type>`` also profiles that page's requests with
pyinstrument (``pip install pyinstrument``) and writes the call tree to
``var/page_cpu-<page>.txt`` (and ``.html``). Prints ``page_cpu_ms_<page>`` as ``load``
does and ``page_queries_<page>``. Goal (issue 14): no page type above 30 ms.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from bench import Figure, django_setup, kept_database

DEFAULT_REQUESTS = 30


def run() -> list[Figure]:
    os.environ.setdefault("DEBUG", "false")
    django_setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench import load
    from governance.models import Organization, TOTPDevice

    scale = float(os.environ.get("BENCH_LOAD_SCALE", "1"))
    requests = int(os.environ.get("BENCH_PAGE_CPU_REQUESTS", DEFAULT_REQUESTS))
    wanted = [p for p in os.environ.get("BENCH_PAGE_CPU_PAGES", "").split(",") if p]
    profiled = os.environ.get("BENCH_PAGE_CPU_PROFILE", "")

    figures: list[Figure] = []
    with kept_database(f"load_{str(scale).replace('.', '_')}"):
        organization = Organization.objects.filter(slug="bench").first()
        if organization is None:
            target = load._seed(scale)
        else:
            membership = organization.memberships.select_related("user").first()
            assert membership is not None
            user = membership.user
            device = TOTPDevice.objects.filter(user=user).first()
            target = load.target(organization, user, device)
        client = load.signed_in_client(target)
        for page, paths in target.paths.items():
            if wanted and page not in wanted:
                continue
            profiler = None
            if page == profiled:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
            samples = load.page_cpu_samples(client, target, page, requests, profiler)
            if profiler is not None:
                out = Path(__file__).resolve().parent.parent / "var" / f"page_cpu-{page}"
                out.parent.mkdir(exist_ok=True)
                out.with_suffix(".txt").write_text(profiler.output_text(show_all=True))
                out.with_suffix(".html").write_text(profiler.output_html())
            with CaptureQueriesContext(connection) as captured:
                client.get(paths[0], headers=load.api_headers(target, page))
            figures += [
                (f"page_cpu_ms_{page}", statistics.median(samples), "ms"),
                (f"page_queries_{page}", float(len(captured.captured_queries)), "queries"),
            ]
    return figures
