"""Reading the audit log: one organization's entries, filtered, and their readable form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from governance.audit_labels import AUDIT_LABELS, audit_action_label
from governance.models import AuditEvent, Membership, User
from governance.selectors.access import membership_for_user, require_perm

# What the login pages record as the actor of an attempt by someone not logged in.
ANONYMOUS_ACTOR_LABEL = "anonymous"

# A changed value longer than this is cut in the page (exports keep it whole).
VALUE_DISPLAY_LIMIT = 200

# The fields an entry's HMAC covers (see AuditEvent.canonical_payload), so an
# export holding them lets anyone with the audit key recompute each link outside
# the app (and anyone at all check that each entry links to the one before).
HASHED_FIELDS = (
    "organization",
    "actor",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "old_values",
    "new_values",
    "ip_address",
    "user_agent",
    "created_at",
    "prev_hash",
    "seq",
    "key_id",
)


@dataclass(frozen=True)
class AuditFilters:
    """What the person asked to see. Dates are aware datetimes, already in UTC terms."""

    actor_id: int | None = None
    actor_text: str = ""
    category: str = ""
    action: str = ""
    created_from: datetime | None = None
    created_before: datetime | None = None

    def describe(self) -> dict[str, Any]:
        """The filters as plain values, for the export's own audit entry and header."""
        values: dict[str, Any] = {
            "actor_id": self.actor_id,
            "actor_text": self.actor_text,
            "category": self.category,
            "action": self.action,
            "created_from": self.created_from.isoformat() if self.created_from else None,
            "created_before": self.created_before.isoformat() if self.created_before else None,
        }
        return {key: value for key, value in values.items() if value not in (None, "")}


def _membership(user_or_membership: User | Membership) -> Membership:
    if isinstance(user_or_membership, Membership):
        return user_or_membership
    return membership_for_user(user_or_membership)


def audit_events_for_user(
    user_or_membership: User | Membership, filters: AuditFilters | None = None
) -> models.QuerySet[AuditEvent]:
    """The entries of the person's organization they may read, newest first.

    403 unless their role grants ``audit.view``. Entries with no organization
    (a failed login for an unknown e-mail) belong to no organization's log.
    """
    membership = _membership(user_or_membership)
    require_perm(membership, "audit.view")
    filters = filters or AuditFilters()
    events = AuditEvent.objects.filter(organization=membership.organization).select_related("actor")
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.actor_text:
        text = filters.actor_text
        # A failed login has no actor: the address tried is among the entry's values.
        events = events.alias(values_text=Cast("new_values", models.TextField())).filter(
            models.Q(actor_label__icontains=text)
            | models.Q(actor__full_name__icontains=text)
            | models.Q(actor__email__icontains=text)
            | models.Q(actor__isnull=True, values_text__icontains=text)
        )
    if filters.category:
        events = events.filter(action__startswith=f"{filters.category}.")
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.created_from is not None:
        events = events.filter(created_at__gte=filters.created_from)
    if filters.created_before is not None:
        events = events.filter(created_at__lt=filters.created_before)
    return events.order_by("-created_at", "-id")


def audit_actions_in_use(membership: Membership) -> list[str]:
    """Action codes the filter offers: every known one plus any the log holds."""
    present = (
        AuditEvent.objects.filter(organization=membership.organization)
        .order_by()
        .values_list("action", flat=True)
        .distinct()
    )
    return sorted(set(AUDIT_LABELS) | set(present))


def audit_actor_choices(membership: Membership) -> list[tuple[int, str]]:
    """Everyone who is or was a member of the organization, for the actor filter."""
    members = (
        Membership.objects.filter(organization=membership.organization)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    return [
        (m.user_id, f"{m.user.full_name} ({m.user.email})" if m.user.full_name else m.user.email)
        for m in members
    ]


# Readable forms -------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    old: str | None  # None: the entry has no old value for this field
    new: str | None


# How the services store a date or a moment in an entry's values (``isoformat()``).
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _date_in_words(text: str) -> str | None:
    """A stored ISO date or moment in the reader's format, a moment in the reader's zone."""
    try:
        if ISO_DATE.fullmatch(text):
            return date_format(date.fromisoformat(text), "DATE_FORMAT")
        if ISO_MOMENT.fullmatch(text):
            moment = datetime.fromisoformat(text)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return date_format(moment, "DATETIME_FORMAT")
    except ValueError:
        return None
    return None


def _readable(value: Any, limit: int | None = VALUE_DISPLAY_LIMIT) -> str:
    if value is None or value == "":
        text = _("(empty)")
    elif isinstance(value, str) and (when := _date_in_words(value)) is not None:
        text = when
    elif isinstance(value, bool):
        text = _("yes") if value else _("no")
    elif isinstance(value, list | tuple):
        text = ", ".join(_readable(item, None) for item in value) if value else _("(none)")
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _model_field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _field_label(model: type[models.Model] | None, key: str) -> str:
    """The field's translated name from the target's model, else the code in words."""
    field = _model_field(model, key)
    if field is not None and field.verbose_name:
        return str(field.verbose_name)
    return key.replace("_", " ")


def _value_in_words(field: models.Field[Any, Any] | None, value: Any) -> Any:
    """A stored choice code ("scheduled") as its translated label ("Scheduled")."""
    if field is None or not field.choices or not isinstance(value, str | int):
        return value
    for code, label in field.flatchoices:
        if str(code) == str(value):
            return str(label)
    return value


def audit_changes(event: AuditEvent) -> list[Change]:
    """Old and new values side by side, one line per field, in a stable order.

    Fields of the target's model are named and valued in the reader's language
    (its verbose name and choice labels); other keys are shown as words.
    """
    old = event.old_values if isinstance(event.old_values, dict) else {}
    new = event.new_values if isinstance(event.new_values, dict) else {}
    model = _model_for(event.target_type) if event.target_type else None
    changes = []
    for key in sorted(set(old) | set(new)):
        field = _model_field(model, key)
        changes.append(
            Change(
                field=_field_label(model, key),
                old=_readable(_value_in_words(field, old[key])) if key in old else None,
                new=_readable(_value_in_words(field, new[key])) if key in new else None,
            )
        )
    return changes


@lru_cache(maxsize=128)
def _model_for(target_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(target_type)
    except (LookupError, ValueError):
        return None


def audit_target_type_label(target_type: str) -> str:
    """``governance.membership`` → "Membership" (the model's translated name)."""
    if not target_type:
        return ""
    model = _model_for(target_type)
    if model is None:
        return target_type
    return str(model._meta.verbose_name).capitalize()


def audit_actor_display(event: AuditEvent) -> str:
    if event.actor is not None and event.actor.full_name:
        return event.actor.full_name
    if event.actor_label == "system" or not event.actor_label:
        return _("System")
    if event.actor is None and event.actor_label == ANONYMOUS_ACTOR_LABEL:
        return _("Someone not logged in")
    return event.actor_label


@dataclass(frozen=True)
class AuditRow:
    """One entry as the page shows it."""

    event: AuditEvent
    action_label: str
    actor: str
    target_type: str
    changes: list[Change]


def audit_rows(events: Iterable[AuditEvent]) -> list[AuditRow]:
    return [
        AuditRow(
            event=event,
            action_label=audit_action_label(event.action),
            actor=audit_actor_display(event),
            target_type=audit_target_type_label(event.target_type),
            changes=audit_changes(event),
        )
        for event in events
    ]


def audit_export_record(event: AuditEvent, tz: tzinfo) -> dict[str, Any]:
    """An entry for export: the hashed fields verbatim, plus readable extras."""
    return {
        "id": event.pk,
        "organization": event.organization_id,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "actor_name": event.actor.full_name if event.actor is not None else "",
        "action": event.action,
        "action_label": audit_action_label(event.action),
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "old_values": event.old_values,
        "new_values": event.new_values,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        # Exactly as hashed: UTC, ISO 8601.
        "created_at": event.created_at.isoformat(),
        "local_time": timezone.localtime(event.created_at, tz).isoformat(),
        "prev_hash": event.prev_hash,
        "seq": event.seq,
        "key_id": event.key_id,
        "hash": event.hash,
    }
