"""Reading a person's in-app notices."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

from governance.models import Notification, User


def notifications_for_user(user: User) -> models.QuerySet[Notification]:
    """The person's own notices, unread first, newest first within each group."""
    return (
        Notification.objects.filter(user=user)
        .select_related("organization")
        .annotate(
            unread=models.Case(
                models.When(read_at__isnull=True, then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )
        .order_by("-unread", "-created_at", "-id")
    )


# The unread count is on every page (the bell in the header): it is cached per person
# until one of their notices is created, read or deleted (signals, and the "mark all
# read" service), and for a minute at most, for writes that send no signal.
UNREAD_CACHE_SECONDS = 60


def _unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_notification_count(user: User) -> int:
    """How many of the person's notices are unread (cached; see ``unread_forget``)."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if isinstance(count, int):
        return count
    count = Notification.objects.filter(user=user, read_at__isnull=True).count()
    cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def unread_forget(user_id: int) -> None:
    """The person's notices changed: drop the cached count now and when the change
    commits (a page read in between must not keep the old count)."""
    key = _unread_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def _notification_changed(sender: Any, instance: Notification, **kwargs: Any) -> None:
    unread_forget(instance.user_id)


def connect_unread_cache_signals() -> None:
    post_save.connect(_notification_changed, sender=Notification, dispatch_uid="unread-saved")
    post_delete.connect(_notification_changed, sender=Notification, dispatch_uid="unread-deleted")
