"""Listening forms: a watch, the stream's filters, actions on a found post, cases."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount
from governance.models import Membership, User
from listening.matching import clean_terms
from listening.models import MisinformationCase, Watch


def _capability_note(account: ChannelAccount) -> str:
    caps = get_connector(account.network).listening
    kinds = []
    if caps.words:
        kinds.append(_("words and phrases"))
    if caps.hashtags:
        kinds.append(_("hashtags"))
    if caps.handles:
        kinds.append(_("handles"))
    reach = (
        _("as far back as the network keeps")
        if caps.lookback_days is None
        else _("%(days)d days back") % {"days": caps.lookback_days}
    )
    return _("%(network)s %(handle)s: searches %(kinds)s, %(reach)s") % {
        "network": get_connector(account.network).label,
        "handle": account.handle,
        "kinds": ", ".join(kinds),
        "reach": reach,
    }


class AccountsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: ChannelAccount) -> str:
        return _capability_note(obj)


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name or obj.email


class WatchForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    terms = forms.CharField(
        label=gettext_lazy("Terms"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One per line: words, phrases, #hashtags or @handles, in any language."
        ),
    )
    excluded_terms = forms.CharField(
        label=gettext_lazy("Excluded terms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("A post with any of these is left out. One per line."),
    )
    prefix_match = forms.BooleanField(
        label=gettext_lazy("Match word beginnings"),
        required=False,
        help_text=gettext_lazy(
            "For inflected languages such as Finnish and Turkish: “kirjasto” also finds "
            "“kirjastossa” and “kirjaston”."
        ),
    )
    channel_accounts = AccountsField(
        label=gettext_lazy("Search through"),
        queryset=ChannelAccount.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Each account's network is searched, signed in as that account."),
    )
    followers = PeopleField(
        label=gettext_lazy("Followers"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("They get the alerts in the app and by e-mail."),
    )
    alert_factor = forms.IntegerField(
        label=gettext_lazy("Alert at this many times the usual volume"),
        min_value=2,
        max_value=100,
        initial=3,
        help_text=gettext_lazy("Usual: the same hour's median over the last 14 days."),
    )
    alert_min_count = forms.IntegerField(
        label=gettext_lazy("Alert only from this many posts an hour"),
        min_value=1,
        max_value=100000,
        initial=10,
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        accounts: list[ChannelAccount],
        membership: Membership,
        watch: Watch | None = None,
        **kwargs: Any,
    ) -> None:
        if watch is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": watch.name,
                "terms": "\n".join(watch.terms),
                "excluded_terms": "\n".join(watch.excluded_terms),
                "prefix_match": watch.prefix_match,
                "channel_accounts": list(watch.channel_accounts.all()),
                "followers": list(watch.followers.all()),
                "alert_factor": watch.alert_factor,
                "alert_min_count": watch.alert_min_count,
                "is_active": watch.is_active,
            }
        super().__init__(*args, **kwargs)
        self.fields["channel_accounts"].queryset = ChannelAccount.objects.filter(  # type: ignore[attr-defined]
            pk__in=[a.pk for a in accounts]
        ).order_by("network", "handle")
        self.fields["followers"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            memberships__organization_id=membership.organization_id,
            memberships__is_active=True,
            is_active=True,
        ).order_by("full_name", "email")

    def clean_terms(self) -> list[str]:
        return clean_terms(self.cleaned_data["terms"])

    def clean_excluded_terms(self) -> list[str]:
        return clean_terms(self.cleaned_data.get("excluded_terms") or "")

    def apply_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = field if field in self.fields else None
                for item in errors:
                    self.add_error(target, item.messages)
        else:
            self.add_error(None, error.messages)


PERIODS = (
    ("", gettext_lazy("Any time")),
    ("1", gettext_lazy("Last hour")),
    ("24", gettext_lazy("Last 24 hours")),
    ("168", gettext_lazy("Last 7 days")),
)


class StreamFilterForm(forms.Form):
    network = forms.ChoiceField(label=gettext_lazy("Network"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    period = forms.ChoiceField(label=gettext_lazy("Posted"), required=False, choices=PERIODS)
    misinformation = forms.BooleanField(label=gettext_lazy("Only misinformation"), required=False)

    def __init__(self, *args: Any, networks: list[str], languages: list[str], **kw: Any):
        super().__init__(*args, **kw)
        self.fields["network"].choices = [("", _("All networks"))] + [  # type: ignore[attr-defined]
            (n, get_connector(n).label) for n in networks
        ]
        self.fields["language"].choices = [("", _("All languages"))] + [  # type: ignore[attr-defined]
            (code, code) for code in languages
        ]


class MarkMisinformationForm(forms.Form):
    case = forms.ModelChoiceField(
        label=gettext_lazy("Add to case"),
        queryset=MisinformationCase.objects.none(),
        required=False,
        empty_label=gettext_lazy("No case yet"),
    )

    def __init__(self, *args: Any, cases: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["case"].queryset = cases  # type: ignore[attr-defined]


class CorrectionForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Address of our correcting post"),
        max_length=500,
        assume_scheme="https",
    )


class CaseForm(forms.Form):
    claim = forms.CharField(label=gettext_lazy("False claim"), max_length=300)
    correction_url = forms.URLField(
        label=gettext_lazy("Address of our correcting post"),
        max_length=500,
        required=False,
        assume_scheme="https",
    )


class CaseCloseForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Closing note"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
