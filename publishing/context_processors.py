"""What every page needs from publishing: the crisis-pause banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from publishing.selectors import active_pauses_for_membership, organization_is_paused


def pause_banner(request: HttpRequest) -> dict[str, Any]:
    """The active pauses this member may see, shown on every page while publishing is
    stopped (one query while a pause is active; none otherwise, from the cache, and
    none for a visitor who is not a member)."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    if not organization_is_paused(membership.organization_id):
        return {"publishing_pauses": []}
    pauses = active_pauses_for_membership(membership).order_by("started_at", "pk")
    return {"publishing_pauses": list(pauses)}
