"""Built dashboards kept in the cache, per organization.

A dashboard's figures change only when analytics writes (a metric pull, a rollup
rebuild, a post starting to be tracked, a goal set or removed) or when the day's raw
numbers, read live, are read again. Each write moves the organization's version on,
so a cached dashboard is never shown after new figures are stored; the rest (today's
posts and inbox items, a title or a handle changed elsewhere) is at most
``ANALYTICS_LIVE_SECONDS`` old, as the page's "figures as of" says.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import get_language

_VERSION_KEY = "analytics-dashboard-version:{}"


def dashboard_version(organization_id: int) -> int:
    key = _VERSION_KEY.format(organization_id)
    version = cache.get(key)
    if version is None:
        # A new number, never 0 again: an evicted version must not bring back the
        # dashboards cached under it.
        cache.add(key, time.time_ns(), timeout=None)
        version = cache.get(key)
    return int(version or 0)


def dashboard_key(organization_id: int, *parts: object) -> str:
    """The cache key of one dashboard: the organization's current version and what
    was asked (range, filters, accounts in scope, language...)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"analytics-dashboard:{organization_id}:{dashboard_version(organization_id)}:{digest}"


def dashboards_changed(*organization_ids: int) -> None:
    """New figures are stored for these organizations: their cached dashboards are
    stale. After the commit, so that no reader caches the old figures under the new
    version."""
    ids = sorted(set(organization_ids))

    def bump() -> None:
        for organization_id in ids:
            cache.set(_VERSION_KEY.format(organization_id), time.time_ns(), timeout=None)

    if ids:
        transaction.on_commit(bump)


def dashboard_part(build_id: str | None, name: str, make: Callable[[], str]) -> str:
    """A part of the page made from one cached dashboard build only (its charts, in
    the reader's language), kept as long as that build can be served. A new build
    (new figures stored, or the live figures read again) has a new id, so a part is
    never shown with other figures than its own."""
    if build_id is None:
        return make()
    key = f"analytics-dashboard-part:{build_id}:{name}:{get_language()}"
    part = cache.get(key)
    if not isinstance(part, str):
        part = make()
        cache.set(key, part, int(getattr(settings, "ANALYTICS_LIVE_SECONDS", 60)))
    return part
