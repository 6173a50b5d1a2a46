"""The audit log's filter form (a GET form: filters live in the address, so they survive
pagination and carry over to the exports)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.audit_labels import AUDIT_CATEGORIES, audit_action_label, audit_category_label
from governance.models import Membership
from governance.selectors.audit import AuditFilters, audit_actions_in_use, audit_actor_choices


def _choice_labels(choices: Any) -> dict[str, Any]:
    """Each choice's label by its value, through <optgroup> groups too."""
    labels: dict[str, Any] = {}
    for value, label in choices:
        if isinstance(label, list | tuple):
            labels.update(_choice_labels(label))
        else:
            labels[str(value)] = label
    return labels


def _start_of_day(day: date, tz: tzinfo) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), tz)


class AuditFilterForm(forms.Form):
    actor = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    actor_text = forms.CharField(
        label=_("Name or e-mail contains"),
        required=False,
        max_length=254,
        help_text=_("Also finds people who have left, and failed logins."),
    )
    type = forms.ChoiceField(label=_("Type"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(
        label=_("From date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Inclusive. Dates are in your own time zone."),
    )

    def __init__(self, *args: Any, membership: Membership, tz: tzinfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tz = tz
        actor_field = self.fields["actor"]
        assert isinstance(actor_field, forms.ChoiceField)
        actor_field.choices = [("", _("Anyone")), *audit_actor_choices(membership)]

        actions = audit_actions_in_use(membership)
        categories = sorted(
            {code.split(".", 1)[0] for code in actions} | set(AUDIT_CATEGORIES),
            key=lambda c: (c not in AUDIT_CATEGORIES, audit_category_label(c).lower()),
        )
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [
            ("", _("All types")),
            *((c, audit_category_label(c)) for c in categories),
        ]

        # Grouped by type, so a long list stays scannable (rendered as <optgroup>).
        grouped: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for code in actions:
            grouped[code.split(".", 1)[0]].append((code, audit_action_label(code)))
        action_field = self.fields["action"]
        assert isinstance(action_field, forms.ChoiceField)
        action_field.choices = [
            ("", _("All actions")),
            *(
                (audit_category_label(c), sorted(grouped[c], key=lambda item: item[1].lower()))
                for c in categories
                if grouped[c]
            ),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def summary(self) -> str:
        """The filters in force, as a person reads them ("Type: Posts, From date: …"),
        for the page's title."""
        if not self.is_bound:
            return ""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        parts: list[str] = []
        for name, field in self.fields.items():
            value = data.get(name)
            if value in (None, ""):
                continue
            shown: Any = value
            if isinstance(field, forms.ChoiceField):
                shown = _choice_labels(field.choices).get(str(value), value)
            elif isinstance(value, date):
                shown = value.isoformat()  # as the audit page shows its dates
            parts.append(f"{field.label}: {shown}")
        return ", ".join(parts)

    def filters(self) -> AuditFilters:
        """The filters from every field that is valid (an invalid field filters nothing)."""
        if not self.is_bound:
            return AuditFilters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        return AuditFilters(
            actor_id=data.get("actor"),
            actor_text=(data.get("actor_text") or "").strip(),
            category=data.get("type") or "",
            action=data.get("action") or "",
            created_from=_start_of_day(start, self.tz) if start else None,
            # "To" is inclusive: everything before the next day's midnight, local time.
            created_before=_start_of_day(end + timedelta(days=1), self.tz) if end else None,
        )
