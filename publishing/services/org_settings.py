"""The organization's publishing rules."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import PublishingSettings

MAX_LATE_CUTOFF_MINUTES = 24 * 60


def publishing_settings_update(
    *,
    membership: Membership,
    require_alt_text: bool | None = None,
    require_captions: bool | None = None,
    late_cutoff_minutes: int | None = None,
    post_languages: Sequence[str] | None = None,
    request: HttpRequest | None = None,
) -> PublishingSettings:
    """Change the organization's publishing rules (admins). Unchanged when None.

    ``post_languages`` are the language versions a new post starts with, in order
    (empty: worked out from the organization's default language)."""
    require_perm(membership, "org.manage")
    codes = [code for code, _name in django_settings.LANGUAGES]
    if post_languages is not None and any(code not in codes for code in post_languages):
        raise ValidationError(_("Choose languages GovSocial publishes in."), code="language")
    if late_cutoff_minutes is not None and not 1 <= late_cutoff_minutes <= MAX_LATE_CUTOFF_MINUTES:
        raise ValidationError(
            _("The late cut-off must be between 1 and %(max)d minutes.")
            % {"max": MAX_LATE_CUTOFF_MINUTES},
            code="late_cutoff",
        )
    with transaction.atomic():
        settings, _created = PublishingSettings.objects.select_for_update().get_or_create(
            organization=membership.organization
        )
        old = {
            "require_alt_text": settings.require_alt_text,
            "require_captions": settings.require_captions,
            "late_cutoff_minutes": settings.late_cutoff_minutes,
            "post_languages": list(settings.post_languages),
        }
        if post_languages is not None:
            settings.post_languages = [code for code in codes if code in post_languages]
        if require_alt_text is not None:
            settings.require_alt_text = require_alt_text
        if require_captions is not None:
            settings.require_captions = require_captions
        if late_cutoff_minutes is not None:
            settings.late_cutoff_minutes = late_cutoff_minutes
        settings.save()
        audit_record(
            action="publishing_settings.updated",
            organization=membership.organization,
            actor=membership.user,
            target=settings,
            old=old,
            new={
                "require_alt_text": settings.require_alt_text,
                "require_captions": settings.require_captions,
                "late_cutoff_minutes": settings.late_cutoff_minutes,
                "post_languages": list(settings.post_languages),
            },
            request=request,
        )
    return settings
