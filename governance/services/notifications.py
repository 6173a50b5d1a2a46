"""In-app notices, and the e-mail that goes with them.

A notice is not an accountable act of its own: the service that causes one (a
token expiring, a post awaiting review) writes the audit entry for what happened.
Marking one's own notices read is personal bookkeeping and is not audited either.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from governance.models import Notification, Organization, User
from governance.selectors.notifications import unread_forget

logger = logging.getLogger(__name__)

SUBJECT_SUMMARY_CHARS = 80


def _absolute(link: str) -> str:
    if link.startswith("/"):
        return settings.SITE_URL.rstrip("/") + link
    return link


def _email_notice(notification_id: int) -> None:
    notice = (
        Notification.objects.select_related("user", "organization")
        .filter(pk=notification_id)
        .first()
    )
    if notice is None or not notice.user.is_active or not notice.user.email:
        return
    language = (
        notice.user.preferred_language
        or notice.organization.default_language
        or settings.LANGUAGE_CODE
    )
    with translation.override(language):
        summary = Truncator(" ".join(notice.message.split())).chars(SUBJECT_SUMMARY_CHARS)
        subject = _("GovSocial, %(organization)s: %(summary)s") % {
            "organization": notice.organization.name,
            "summary": summary,
        }
        parts = [notice.message]
        if notice.link:
            parts.append(_absolute(notice.link))
        parts.append(
            _("All your notices: %(url)s") % {"url": _absolute(reverse("governance:notifications"))}
        )
        body = "\n\n".join(parts) + "\n"
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email])
    except Exception:
        # The notice is saved and shown in the app; a mail outage must not undo
        # the change that caused it (this runs after that change committed).
        logger.exception("Could not e-mail notification %s", notification_id)


def notification_send(
    *,
    user: User,
    organization: Organization,
    kind: str,
    message: str,
    link: str = "",
    email: bool = True,
) -> Notification:
    """Give ``user`` an in-app notice and, unless ``email`` is False, e-mail it too.

    The e-mail goes once the surrounding transaction commits, so a change that
    is rolled back never tells anyone it happened.
    """
    if link and not link.startswith(("/", "https://", "http://")):
        # The link lands in an href: only app paths and web addresses are safe there.
        raise ValueError(f"Notification links must be paths or http(s) URLs, not {link!r}")
    with transaction.atomic():
        notice = Notification.objects.create(
            user=user,
            organization=organization,
            kind=kind,
            message=message,
            link=link,
        )
        if email:
            transaction.on_commit(partial(_email_notice, notice.pk))
    return notice


def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notice of ``user`` read; return how many there were."""
    with transaction.atomic():
        marked = Notification.objects.filter(user=user, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        unread_forget(user.pk)
    return marked
