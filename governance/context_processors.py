from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.selectors.access import has_perm
from governance.selectors.notifications import unread_notification_count

# The main navigation: (url name, label, permission needed to see it).
NAV = [
    ("home", _("Home"), "org.view"),
    ("publishing:post_list", _("Posts"), "posts.view"),
    ("publishing:calendar", _("Calendar"), "posts.view"),
    ("inbox:index", _("Inbox"), "inbox.view"),
    ("listening:index", _("Listening"), "listening.view"),
    ("analytics:index", _("Analytics"), "analytics.view"),
    ("accounts:list", _("Accounts"), "accounts.view"),
    ("governance:index", _("Governance"), "org.view"),
    ("governance:settings", _("Settings"), "org.view"),
]


def organization(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    items = []
    if membership is not None:
        for name, label, perm in NAV:
            if has_perm(membership, perm):
                url = reverse(name)
                current = request.path == url if url == "/" else request.path.startswith(url)
                items.append({"url": url, "label": label, "current": current})
    unread = 0
    if request.user.is_authenticated and membership is not None:
        unread = unread_notification_count(request.user)
    return {
        "current_membership": membership,
        "current_org": getattr(request, "organization", None),
        "nav_items": items,
        "unread_notifications": unread,
    }
