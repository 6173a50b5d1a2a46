"""Reading a person's in-app notices."""

from __future__ import annotations

from django.db import models

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
