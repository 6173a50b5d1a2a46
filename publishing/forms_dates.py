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


class CalendarImportForm(forms.Form):
    """A calendar to import: an .ics file, or the address of one to subscribe to."""

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_("For example: City council meetings."),
    )
    file = forms.FileField(
        label=_("iCalendar file (.ics)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
    url = forms.CharField(
        label=_("Or the calendar's address"),
        required=False,
        max_length=2000,
        help_text=_(
            "An https:// or webcal:// address, such as a published Outlook or Google calendar. "
            "The calendar is fetched again every few hours."
        ),
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        has_file = bool(cleaned.get("file"))
        has_url = bool(str(cleaned.get("url") or "").strip())
        if has_file == has_url:
            raise forms.ValidationError(
                _("Choose a file or enter an address (one of them)."), code="one_of"
            )
        return cleaned


class CalendarNewVersionForm(forms.Form):
    """A new version of an imported file."""

    file = forms.FileField(
        label=_("New version of the file (.ics)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
