"""Forms of the records search."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import ChannelAccount
from archive.models import RecordKind

# --- the records search ------------------------------------------------------------------


class RecordSearchForm(forms.Form):
    """The records search of an information request: words and the request's filters."""

    q = forms.CharField(
        label=_("Words"),
        max_length=200,
        required=False,
        help_text=_(
            "Searches our posts and their earlier versions, comments on them (also those "
            "deleted since), inbox messages, our replies and internal notes, in each text's "
            "own language."
        ),
    )
    account: forms.ModelChoiceField[ChannelAccount] = forms.ModelChoiceField(
        queryset=None, label=_("Channel account"), required=False, empty_label=_("All accounts")
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Both days included, in the organization's time zone."),
    )
    author = forms.CharField(label=_("Author"), max_length=255, required=False)
    kind = forms.ChoiceField(label=_("Kind of record"), required=False)

    def __init__(self, *args: Any, accounts: QuerySet[ChannelAccount], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        assert isinstance(account, forms.ModelChoiceField)
        account.queryset = accounts.order_by("network", "handle", "pk")
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", _("All kinds")), *RecordKind.choices]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is not None and end is not None and start > end:
            self.add_error("end", _("The end date must not be before the start date."))
        return cleaned

    @property
    def searched(self) -> bool:
        """Whether the person asked for anything (the empty page searches nothing)."""
        return self.is_bound and any(
            str(self.data.get(name) or "").strip()
            for name in ("q", "account", "start", "end", "author", "kind")
        )


class RecordExportForm(RecordSearchForm):
    reference = forms.CharField(label=_("Request reference"), max_length=200, required=False)
