"""The organization's important dates: events, awareness days and quiet days."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import DateKind, ImportantDate

# A date range longer than this is a typing mistake, not a quiet period.
MAX_DAYS = 366


def _checked(
    *, starts_on: date, ends_on: date | None, name: str, kind: str, note: str
) -> dict[str, Any]:
    name = name.strip()
    if not name:
        raise ValidationError(_("Enter a name."), code="name_required")
    if kind not in DateKind.values:
        raise ValidationError(_("Choose a kind."), code="kind")
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        raise ValidationError(
            _("The last day cannot be before the first day."), code="ends_before_start"
        )
    if (ends_on - starts_on).days >= MAX_DAYS:
        raise ValidationError(
            _("An important date can last at most %(days)d days.") % {"days": MAX_DAYS},
            code="too_long",
        )
    return {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "name": name,
        "kind": kind,
        "note": note.strip(),
    }


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in values.items()
    }


@transaction.atomic
def important_date_create(
    *,
    membership: Membership,
    starts_on: date,
    ends_on: date | None,
    name: str,
    kind: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> ImportantDate:
    """Mark a day or days on the organization's calendar (managers and admins)."""
    require_perm(membership, "dates.manage")
    values = _checked(starts_on=starts_on, ends_on=ends_on, name=name, kind=kind, note=note)
    item = ImportantDate.objects.create(organization=membership.organization, **values)
    audit_record(
        action="important_date.created",
        organization=membership.organization,
        actor=membership.user,
        target=item,
        new=_audited(values),
        request=request,
    )
    return item


@transaction.atomic
def important_date_update(
    *,
    membership: Membership,
    item: ImportantDate,
    starts_on: date,
    ends_on: date | None,
    name: str,
    kind: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> ImportantDate:
    require_perm(membership, "dates.manage")
    values = _checked(starts_on=starts_on, ends_on=ends_on, name=name, kind=kind, note=note)
    item = ImportantDate.objects.select_for_update().get(
        pk=item.pk, organization=membership.organization
    )
    old = {key: getattr(item, key) for key, value in values.items() if getattr(item, key) != value}
    if not old:
        return item
    new = {key: values[key] for key in old}
    for key, value in new.items():
        setattr(item, key, value)
    item.save(update_fields=list(new))
    audit_record(
        action="important_date.changed",
        organization=membership.organization,
        actor=membership.user,
        target=item,
        old=_audited(old),
        new=_audited(new),
        request=request,
    )
    return item


@transaction.atomic
def important_date_delete(
    *, membership: Membership, item: ImportantDate, request: HttpRequest | None = None
) -> None:
    require_perm(membership, "dates.manage")
    old = _audited(
        {"starts_on": item.starts_on, "ends_on": item.ends_on, "name": item.name, "kind": item.kind}
    )
    audit_record(
        action="important_date.deleted",
        organization=membership.organization,
        actor=membership.user,
        target=item,
        old=old,
        request=request,
    )
    ImportantDate.objects.filter(pk=item.pk, organization=membership.organization).delete()
