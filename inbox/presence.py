"""Who is writing a reply to an item right now: a short-lived mark in the cache.

The reply box renews the mark every few seconds while it is open or focused
(``inbox.js``); a mark that is not renewed disappears after ``REPLYING_TTL``
seconds, so a closed tab or a lost connection clears itself. Not a lock that
stops anyone: it tells a colleague "Bertta is replying…" so two people do not
answer the same citizen twice.
"""

from __future__ import annotations

import time

from django.core.cache import cache

from governance.models import User

REPLYING_TTL = 30  # seconds; the page renews every 10


def _key(item_id: int) -> str:
    return f"inbox:replying:{item_id}"


def _current(item_id: int, now: float) -> dict[str, tuple[str, float]]:
    marks = cache.get(_key(item_id)) or {}
    return {
        str(user_id): (str(name), float(until))
        for user_id, (name, until) in dict(marks).items()
        if float(until) > now
    }


def replying_mark(item_id: int, user: User) -> None:
    """``user`` is writing a reply to the item (renews the mark)."""
    now = time.time()
    marks = _current(item_id, now)
    marks[str(user.pk)] = (user.first_name, now + REPLYING_TTL)
    cache.set(_key(item_id), marks, REPLYING_TTL)


def replying_clear(item_id: int, user: User) -> None:
    """``user`` stopped (sent the reply, or closed the box)."""
    now = time.time()
    marks = _current(item_id, now)
    if marks.pop(str(user.pk), None) is not None:
        if marks:
            cache.set(_key(item_id), marks, REPLYING_TTL)
        else:
            cache.delete(_key(item_id))


def replying_others(item_id: int, user: User) -> list[str]:
    """First names of the other people writing a reply to the item now."""
    marks = _current(item_id, time.time())
    return sorted(name for user_id, (name, _until) in marks.items() if user_id != str(user.pk))
