"""Forms of the records pages: retention rules, legal holds, records-request exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import Organization, RetentionAction
from governance.selectors.members import channel_account_label, organization_channel_accounts
from governance.services.records import MAX_KEEP_FOR_DAYS, record_type_choices


class ChannelAccountsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return channel_account_label(obj)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class RetentionRuleForm(forms.Form):
    record_type = forms.ChoiceField(label=_("Record type"))
    keep_for_days = forms.IntegerField(
        label=_("Keep for (days)"),
        min_value=1,
        max_value=MAX_KEEP_FOR_DAYS,
        help_text=_("Counted from the record's date: when a post was published, for example."),
    )
    action = forms.ChoiceField(
        label=_("Then"),
        choices=RetentionAction.choices,
        help_text=_(
            "Audit entries and vault access can only be kept (archive only): the audit log "
            "is a hash chain, and removing an entry would break it."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["record_type"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = record_type_choices()


class _ScopeForm(forms.Form):
    """Record types, channel accounts and a date range: what a hold or an export covers."""

    record_types = forms.MultipleChoiceField(
        label=_("Record types"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one record type.")},
    )
    channel_accounts = ChannelAccountsField(
        queryset=None,
        label=_("Channel accounts"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None chosen: every account. Audit entries and vault access are not tied to an "
            "account: with accounts chosen, only audit entries about those accounts are included."
        ),
    )
    start_date = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end_date = forms.DateField(
        label=_("Until"),
        required=False,
        widget=DateInput(),
        help_text=_(
            "Both days included, in the organization's time zone. Leave empty for no limit."
        ),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = self.fields["record_types"]
        assert isinstance(types, forms.MultipleChoiceField)
        types.choices = record_type_choices()
        accounts = self.fields["channel_accounts"]
        assert isinstance(accounts, ChannelAccountsField)
        accounts.queryset = organization_channel_accounts(organization)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start: date | None = cleaned.get("start_date")
        end: date | None = cleaned.get("end_date")
        if start is not None and end is not None and start > end:
            self.add_error("end_date", _("The end date must not be before the start date."))
        return cleaned

    def account_ids(self) -> list[int]:
        return [account.pk for account in self.cleaned_data.get("channel_accounts") or []]


class LegalHoldForm(_ScopeForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The case, investigation or request that needs these records kept."),
    )

    field_order = ["name", "reason", "record_types", "channel_accounts", "start_date", "end_date"]


class ReleaseHoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the records no longer need to be kept"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RecordsExportForm(_ScopeForm):
    reference = forms.CharField(
        label=_("Request reference"),
        max_length=200,
        required=False,
        help_text=_("The records request's number or name, written into the export's manifest."),
    )

    field_order = ["reference", "record_types", "channel_accounts", "start_date", "end_date"]
