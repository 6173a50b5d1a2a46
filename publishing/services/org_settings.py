"""The organization's publishing rules."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.languages import normalise_language_tag, organization_language_codes
from publishing.models import PublishingSettings, ReviewerLanguages

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
    current = PublishingSettings.objects.filter(organization=membership.organization).first()
    codes = organization_language_codes(
        current or PublishingSettings(organization=membership.organization)
    )
    if post_languages is not None and any(code not in codes for code in post_languages):
        raise ValidationError(
            _("Choose languages from the organization's languages of posts."), code="language"
        )
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


def _languages_audit(
    membership: Membership,
    settings: PublishingSettings,
    old: list[str],
    action: str,
    request: HttpRequest | None,
) -> None:
    audit_record(
        action=action,
        organization=membership.organization,
        actor=membership.user,
        target=settings,
        old={"languages": old},
        new={"languages": list(settings.languages)},
        request=request,
    )


def post_language_add(
    *, membership: Membership, tag: str, request: HttpRequest | None = None
) -> str:
    """Add a language posts may be written in (admins), given as a BCP 47 tag; returns
    the tag in its standard form ('FI' → 'fi'). The first change starts from the
    interface's languages, so the ones in use stay."""
    require_perm(membership, "org.manage")
    tag = normalise_language_tag(tag)
    with transaction.atomic():
        settings, _created = PublishingSettings.objects.select_for_update().get_or_create(
            organization=membership.organization
        )
        codes = organization_language_codes(settings)
        if tag in codes:
            raise ValidationError(
                _("%(tag)s is already one of the languages of posts.") % {"tag": tag},
                code="duplicate",
            )
        old = list(settings.languages)
        settings.languages = [*codes, tag]
        settings.save(update_fields=["languages", "updated_at"])
        _languages_audit(membership, settings, old, "publishing_settings.language_added", request)
    return tag


def post_language_remove(
    *, membership: Membership, tag: str, request: HttpRequest | None = None
) -> None:
    """Stop offering a language for new posts (admins). Posts already written in it keep
    their text. The last language cannot be removed."""
    require_perm(membership, "org.manage")
    with transaction.atomic():
        settings, _created = PublishingSettings.objects.select_for_update().get_or_create(
            organization=membership.organization
        )
        codes = organization_language_codes(settings)
        if tag not in codes:
            raise ValidationError(_("That language is not on the list."), code="unknown")
        if len(codes) == 1:
            raise ValidationError(
                _("Posts need at least one language; add another before removing this one."),
                code="last_language",
            )
        old = list(settings.languages)
        settings.languages = [code for code in codes if code != tag]
        settings.post_languages = [code for code in settings.post_languages if code != tag]
        settings.save(update_fields=["languages", "post_languages", "updated_at"])
        _languages_audit(membership, settings, old, "publishing_settings.language_removed", request)


def reviewer_languages_set(
    *,
    membership: Membership,
    reviewer: Membership,
    languages: Sequence[str],
    request: HttpRequest | None = None,
) -> list[str]:
    """Limit what ``reviewer`` may approve to ``languages`` (admins); empty: every
    language. A limited reviewer approves only those language versions, and a whole post
    only when all its languages are among them."""
    require_perm(membership, "org.manage")
    if reviewer.organization_id != membership.organization_id:
        raise PermissionDenied
    rules = PublishingSettings.objects.filter(organization=membership.organization).first()
    codes = organization_language_codes(
        rules or PublishingSettings(organization=membership.organization)
    )
    if any(code not in codes for code in languages):
        raise ValidationError(
            _("Choose languages from the organization's languages of posts."), code="language"
        )
    chosen = [code for code in codes if code in languages]
    with transaction.atomic():
        row = ReviewerLanguages.objects.select_for_update().filter(membership=reviewer).first()
        old = list(row.languages) if row else []
        if chosen:
            if row is None:
                row = ReviewerLanguages(membership=reviewer)
            row.languages = chosen
            row.save()
        elif row is not None:
            row.delete()
        audit_record(
            action="publishing_settings.reviewer_languages_changed",
            organization=membership.organization,
            actor=membership.user,
            target=reviewer,
            old={"languages": old},
            new={"languages": chosen},
            request=request,
        )
    return chosen
