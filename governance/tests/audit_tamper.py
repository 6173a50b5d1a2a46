"""Changing audit rows the way an attacker with database superuser rights would: past
the append-only trigger (replica mode skips ordinary triggers on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from django.db import connection


def tamper(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
