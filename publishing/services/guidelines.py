"""Writes of the organization's writing guidelines (admins): the short style guide,
hashtag sets and word rules. Each change is one transaction with an audit entry."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.http import HttpRequest

from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from publishing.models import HashtagSet, StyleGuide, WordRule

Guideline = StyleGuide | HashtagSet | WordRule

_FIELDS: dict[type[Any], list[str]] = {
    StyleGuide: ["language", "text", "policy"],
    HashtagSet: ["name", "campaign", "hashtags", "required"],
    WordRule: ["language", "phrase", "severity", "alternative", "note", "match_prefix"],
}


def guideline_save(
    *, item: Guideline, membership: Membership, request: HttpRequest | None = None
) -> Guideline:
    """Create or change a guideline of the caller's organization (``item`` comes from a
    form bound to the organization; its other fields are as the admin typed them)."""
    require_perm(membership, "org.manage")
    fields = _FIELDS[type(item)]
    with transaction.atomic():
        old: dict[str, Any] | None = None
        if item.pk is not None:
            before = type(item).objects.get(pk=item.pk, organization=membership.organization)
            old = model_to_dict(before, fields=fields)
        item.organization = membership.organization
        item.save()
        audit_record(
            action="guideline.created" if old is None else "guideline.updated",
            organization=membership.organization,
            actor=membership.user,
            target=item,
            old=old,
            new=model_to_dict(item, fields=fields),
            request=request,
        )
    return item


def guideline_delete(
    *, item: Guideline, membership: Membership, request: HttpRequest | None = None
) -> None:
    require_perm(membership, "org.manage")
    with transaction.atomic():
        fields = _FIELDS[type(item)]
        audit_record(
            action="guideline.deleted",
            organization=membership.organization,
            actor=membership.user,
            target=item,
            old=model_to_dict(item, fields=fields),
            request=request,
        )
        item.delete()
