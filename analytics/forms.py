"""Forms of the analytics pages: they parse input; the selectors and services decide."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from analytics.models import Cadence, Goal, GoalMetric, ScheduledReport
from analytics.selectors import (
    MAX_RANGE_DAYS,
    DashboardFilters,
    analytics_account_get_for_membership,
    campaign_get_for_membership,
    default_range,
)
from governance.models import Membership
from governance.widgets import QuickSelect
from publishing.models import Campaign


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _account_label(account: ChannelAccount) -> str:
    return f"{account.handle} ({account.network})"


def _apply_service_errors(form: forms.Form, error: ValidationError, fields: dict[str, str]) -> None:
    """Put a service's errors next to the field each one is about (by its code)."""
    for item in error.error_list:
        form.add_error(fields.get(item.code or ""), item.messages)


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ChannelAccount) -> str:
        return _account_label(obj)


class DashboardFilterForm(forms.Form):
    """The dashboard's filters (GET). An account or campaign the member cannot see is a
    404, as everywhere else."""

    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput())
    account = forms.IntegerField(label=_("Account"), required=False, widget=QuickSelect())
    campaign = forms.IntegerField(label=_("Campaign"), required=False, widget=QuickSelect())

    def __init__(
        self,
        data: Any,
        *,
        membership: Membership,
        accounts: list[ChannelAccount],
        campaigns: list[Campaign],
        today: date,
    ) -> None:
        super().__init__(data)
        self.membership = membership
        self.today = today
        start, end = default_range(today)
        self.fields["start"].initial = start
        self.fields["end"].initial = end
        account_widget = self.fields["account"].widget
        assert isinstance(account_widget, forms.Select)
        account_widget.choices = [("", _("All accounts"))] + [
            (account.pk, _account_label(account)) for account in accounts
        ]
        campaign_widget = self.fields["campaign"].widget
        assert isinstance(campaign_widget, forms.Select)
        campaign_widget.choices = [("", _("All posts"))] + [
            (campaign.pk, campaign.name) for campaign in campaigns
        ]
        self._accounts = {account.pk: account for account in accounts}
        self._campaigns = {campaign.pk: campaign for campaign in campaigns}

    def clean_account(self) -> ChannelAccount | None:
        pk = self.cleaned_data.get("account")
        if pk is None:
            return None
        return self._accounts.get(pk) or analytics_account_get_for_membership(self.membership, pk)

    def clean_campaign(self) -> Campaign | None:
        pk = self.cleaned_data.get("campaign")
        if pk is None:
            return None
        return self._campaigns.get(pk) or campaign_get_for_membership(self.membership, pk)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default_start, default_end = default_range(self.today)
        start = data.get("start") or default_start
        end = data.get("end") or default_end
        if not self.errors:
            if end < start:
                self.add_error("end", _("The range must end on or after its first day."))
            elif (end - start).days + 1 > MAX_RANGE_DAYS:
                self.add_error("start", _("Show at most five years at a time."))
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> DashboardFilters:
        """The filters asked for, or the last 30 days when the form is empty or wrong."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return DashboardFilters(
                start=data["start"],
                end=data["end"],
                account=data["account"],
                campaign=data["campaign"],
            )
        start, end = default_range(self.today)
        return DashboardFilters(start=start, end=end)


class GoalForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_(
            "Optional: how people refer to this goal, for example “Spring campaign reach”."
        ),
    )
    metric = forms.ChoiceField(label=_("Metric"), choices=GoalMetric.choices)
    account = AccountChoiceField(
        label=_("Account"),
        queryset=ChannelAccount.objects.none(),
        required=False,
        empty_label=_("All accounts"),
    )
    target = forms.DecimalField(
        label=_("Target"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "A count, a percentage (for the share answered in time) or minutes (for the "
            "median response time, which should stay at or below it)."
        ),
    )
    period_start = forms.DateField(label=_("From"), widget=DateInput())
    period_end = forms.DateField(label=_("Until"), widget=DateInput())

    SERVICE_FIELDS = {
        "metric": "metric",
        "account": "account",
        "target": "target",
        "period": "period_end",
    }

    def __init__(self, *args: Any, membership: Membership, goal: Goal | None = None, **kwargs: Any):
        if goal is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": goal.name,
                "metric": goal.metric,
                "account": goal.channel_account_id,
                "target": goal.target,
                "period_start": goal.period_start,
                "period_end": goal.period_end,
            }
        super().__init__(*args, **kwargs)
        account_field = self.fields["account"]
        assert isinstance(account_field, forms.ModelChoiceField)
        account_field.queryset = channel_accounts_for_membership(membership).order_by(
            "network", "handle"
        )

    def apply_service_errors(self, error: ValidationError) -> None:
        _apply_service_errors(self, error, self.SERVICE_FIELDS)


def goal_initial(today: date) -> dict[str, Any]:
    return {"period_start": today, "period_end": today + timedelta(days=90)}


class ScheduledReportForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    cadence = forms.ChoiceField(label=_("How often"), choices=Cadence.choices)
    account = AccountChoiceField(
        label=_("Account"),
        queryset=ChannelAccount.objects.none(),
        required=False,
        empty_label=_("All accounts"),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("All posts"),
    )
    recipients = forms.CharField(
        label=_("Send to"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "E-mail addresses, one per line or separated by commas. People outside the "
            "app can receive it too; each gets a message of their own."
        ),
    )
    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES)
    is_active = forms.BooleanField(label=_("Send this report"), required=False, initial=True)

    SERVICE_FIELDS = {
        "name": "name",
        "cadence": "cadence",
        "account": "account",
        "campaign": "campaign",
        "recipients": "recipients",
        "language": "language",
    }

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        report: ScheduledReport | None = None,
        **kwargs: Any,
    ):
        if report is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": report.name,
                "cadence": report.cadence,
                "account": report.channel_account_id,
                "campaign": report.campaign_id,
                "recipients": "\n".join(report.recipients),
                "language": report.language,
                "is_active": report.is_active,
            }
        super().__init__(*args, **kwargs)
        account_field = self.fields["account"]
        assert isinstance(account_field, forms.ModelChoiceField)
        account_field.queryset = channel_accounts_for_membership(membership).order_by(
            "network", "handle"
        )
        campaign_field = self.fields["campaign"]
        assert isinstance(campaign_field, forms.ModelChoiceField)
        campaign_field.queryset = Campaign.objects.filter(
            organization_id=membership.organization_id
        ).order_by("name")

    def recipient_list(self) -> list[str]:
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["recipients"]) if part]

    def apply_service_errors(self, error: ValidationError) -> None:
        _apply_service_errors(self, error, self.SERVICE_FIELDS)
