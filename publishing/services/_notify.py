"""Telling people about posts: in the app and by e-mail, in each reader's language."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.urls import NoReverseMatch, reverse
from django.utils import translation

from governance.models import User
from governance.services.notifications import notification_send
from publishing.models import Post


def post_link(post: Post) -> str:
    """The post's page (``publishing:post_detail``), or the calendar until that page exists."""
    try:
        return reverse("publishing:post_detail", args=[post.pk])
    except NoReverseMatch:
        return reverse("publishing:calendar")


def post_label(post: Post) -> str:
    return post.title or str(post.pk)


def notify_users(
    *,
    post: Post,
    user_ids: Iterable[int | None],
    kind: str,
    message: Callable[[], str],
    link: str | None = None,
) -> None:
    """Send each user (active, once) the notice ``message()`` built in their language."""
    ids = {uid for uid in user_ids if uid}
    if not ids:
        return
    for user in User.objects.filter(pk__in=ids, is_active=True).order_by("pk"):
        with translation.override(user.preferred_language or None):
            text = message()
        notification_send(
            user=user,
            organization=post.organization,
            kind=kind,
            message=text,
            link=link or post_link(post),
        )
