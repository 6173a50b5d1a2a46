"""The form of an important date."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from publishing.models import DateKind, ImportantDate


class ImportantDateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=DateKind.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Publishing a post on a quiet day (a day of mourning, an election silence) "
            "needs a manager's confirmation."
        ),
    )
    starts_on = forms.DateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    ends_on = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for a single day."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    @classmethod
    def initial_for(cls, item: ImportantDate) -> dict[str, object]:
        return {
            "name": item.name,
            "kind": item.kind,
            "starts_on": item.starts_on,
            "ends_on": item.ends_on if item.ends_on != item.starts_on else None,
            "note": item.note,
        }
