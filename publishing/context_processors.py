"""What every page needs from publishing: the crisis-pause banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from publishing.selectors import active_pauses


def pause_banner(request: HttpRequest) -> dict[str, Any]:
    """The organization's active pauses, shown on every page while publishing is
    stopped (one query, and none for a visitor who is not a member)."""
    organization = getattr(request, "organization", None)
    if organization is None:
        return {}
    return {"publishing_pauses": list(active_pauses(organization).order_by("started_at", "pk"))}
