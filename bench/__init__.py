"""Benchmarks, run with `python -m bench NAME`; never part of the test suite's pass/fail.

A benchmark is a module ``bench/<name>.py`` with ``run() -> list[tuple[str, float, str]]``
returning (figure name, value, unit) triples. Helpers shared by benchmarks live here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

Figure = tuple[str, float, str]

# Several people benchmarking against one server each name their own database.
BENCH_DATABASE_NAME = os.environ.get("BENCH_DATABASE_NAME", "govsocial_bench")


def django_setup() -> None:
    """Configure Django from the environment, as manage.py does."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govsocial.settings.base")
    django.setup()


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A freshly migrated database of its own for one benchmark, dropped afterwards.

    On PostgreSQL (DATABASE_URL) it is ``govsocial_bench`` on the same server; on
    SQLite a temporary file, so figures reflect a real file with its fsyncs rather
    than an in-memory database. Yields the database's name. Uses Django's test
    database machinery, so the configured database itself is never touched.
    """
    from django.db import connection

    settings_dict = connection.settings_dict
    with tempfile.TemporaryDirectory(prefix="govsocial-bench-") as tmp:
        if connection.vendor == "sqlite":
            name = str(Path(tmp) / "bench.sqlite3")
        else:
            # Engineers sharing one server each name their own (BENCH_DATABASE_NAME).
            name = os.environ.get("BENCH_DATABASE_NAME", BENCH_DATABASE_NAME)
        settings_dict.setdefault("TEST", {})["NAME"] = name
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield name
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)


@contextmanager
def kept_database(suffix: str) -> Iterator[str]:
    """A database a benchmark seeds once and keeps, to iterate on queries against a large
    seed without seeding again (PostgreSQL only). Named ``<BENCH_DATABASE_NAME>_<suffix>``
    (the suffix names the seed, its size say); made and migrated on first use, migrated
    again (new indexes included) on later uses, never dropped: drop it by hand when done.
    Yields its name; the benchmark finds out whether its seed is already there."""
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("a kept benchmark database needs PostgreSQL (DATABASE_URL)")
    name = f"{os.environ.get('BENCH_DATABASE_NAME', BENCH_DATABASE_NAME)}_{suffix}"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    yield name
