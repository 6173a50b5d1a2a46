"""Cells that a spreadsheet shows as text, never runs.

A CSV cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a
formula to Excel and LibreOffice (CSV injection). Every CSV GovSocial hands out passes
its text cells through :func:`formula_safe`, which puts an apostrophe in front: the
spreadsheet then shows the text as typed. The exact text stays in the JSON files and
the database.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
