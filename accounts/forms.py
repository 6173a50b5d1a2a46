"""Forms of the Accounts pages. They only read input; the services decide."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ChannelAccount
from accounts.selectors import sandbox_handle_taken
from governance.models import Organization

SANDBOX_TAKEN = _("The organization already has a Sandbox account with this name.")


class MastodonConnectForm(forms.Form):
    instance = forms.CharField(
        label=_("Mastodon server"),
        max_length=255,
        help_text=_(
            "The address of the server (instance) the account is on, like mastodon.social "
            "or social.example.gov. You will sign in there and allow GovSocial to post."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )


class BlueskyConnectForm(forms.Form):
    handle = forms.CharField(
        label=_("Handle"),
        max_length=253,
        help_text=_("Like cityofexample.bsky.social, or the organization's own domain."),
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )
    app_password = forms.CharField(
        label=_("App password"),
        max_length=100,
        strip=True,
        help_text=_("Four groups of four letters and digits, like abcd-efgh-ijkl-mnop."),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    server_url = forms.CharField(
        label=_("Server address (optional)"),
        max_length=255,
        required=False,
        help_text=_(
            "Only for an account on a self-hosted server (PDS), like https://pds.example.gov. "
            "Leave it empty for accounts on Bluesky's own servers."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "url", "spellcheck": "false"}),
    )

    def clean_handle(self) -> str:
        return str(self.cleaned_data["handle"]).strip().lstrip("@")


class SandboxConnectForm(forms.Form):
    handle = forms.SlugField(
        label=_("Name of the practice account"),
        max_length=60,
        help_text=_("Letters, digits, hyphens and underscores. Only your organization sees it."),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_handle(self) -> str:
        handle = str(self.cleaned_data["handle"])
        if sandbox_handle_taken(self.organization.pk, handle):
            raise forms.ValidationError(SANDBOX_TAKEN, code="taken")
        return handle


def suggested_sandbox_handle(organization: Organization) -> str:
    """A free name for a new practice account: ``<org>-training``, then ``-2``, ``-3``…"""
    base = f"{organization.slug or 'org'}-training"[:50]
    taken = set(
        ChannelAccount.objects.filter(
            organization=organization, network="sandbox", handle__startswith=base
        ).values_list("handle", flat=True)
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


class SimulateAudienceForm(forms.Form):
    MOODS = [
        ("everyday", _("An ordinary day")),
        ("crisis", _("A crisis drill (worried, many questions)")),
    ]
    mood = forms.ChoiceField(label=_("Audience mood"), choices=MOODS, initial="everyday")


class NetworkAppForm(forms.Form):
    """The organization's own app on a platform. Secrets are never shown back: an empty
    secret field keeps what is stored."""

    client_id = forms.CharField(
        max_length=255, widget=forms.TextInput(attrs={"spellcheck": "false"})
    )
    client_secret = forms.CharField(
        max_length=500,
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )

    def __init__(self, *args: Any, platform: Any, has_app: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client_id"].label = platform.client_id_label or _("App id")
        secret = self.fields["client_secret"]
        secret.label = platform.client_secret_label or _("App secret")
        secret.required = not has_app
        if has_app:
            secret.help_text = _("Stored encrypted. Leave empty to keep the stored secret.")
        if platform.key == "tiktok":
            self.fields["audited"] = forms.BooleanField(
                label=_("TikTok has audited the app"),
                required=False,
                help_text=_(
                    "Until TikTok has audited the app, TikTok only allows private posts. "
                    "Tick this once TikTok has approved the app's audit."
                ),
            )
        for extra in platform.extra_secrets:
            self.fields[f"secret_{extra.key}"] = forms.CharField(
                label=extra.label,
                help_text=(
                    f"{extra.help_text} {_('Leave empty to keep the stored value.')}"
                    if has_app
                    else extra.help_text
                ),
                max_length=500,
                required=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
            )

    def extra_secret_values(self) -> dict[str, str]:
        return {
            name.removeprefix("secret_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("secret_") and value
        }


class LinkedInAppForm(forms.Form):
    """The organization's own LinkedIn app (developer portal → My apps → Auth)."""

    client_id = forms.CharField(
        label=_("Client ID"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client_secret = forms.CharField(
        label=_("Primary client secret"),
        max_length=255,
        required=False,
        help_text=_("Leave empty to keep the stored secret."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class LinkedInPagesForm(forms.Form):
    """Which of the pages the person administers become channel accounts."""

    pages = forms.MultipleChoiceField(
        label=_("Pages to connect"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one page.")},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["pages"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices


class ThreadsAppForm(forms.Form):
    """The organization's own Threads app: its Threads app id and secret."""

    app_id = forms.RegexField(
        label=_("Threads app ID"),
        regex=r"^\d{5,25}$",
        max_length=25,
        error_messages={"invalid": _("The Threads app ID is a number, like 990602627938098.")},
        help_text=_("In Meta's App Dashboard: App settings → Basic → Threads App ID."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    app_secret = forms.CharField(
        label=_("Threads app secret"),
        max_length=255,
        required=False,
        help_text=_(
            "App settings → Basic → Threads App secret. It is stored encrypted and never "
            "shown again; leave it empty to keep the stored one."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret

    def clean_app_secret(self) -> str:
        secret = str(self.cleaned_data.get("app_secret") or "").strip()
        if not secret and not self.has_secret:
            raise forms.ValidationError(_("Enter the Threads app secret."))
        return secret


class XAppForm(forms.Form):
    """The organization's own X app, from the X developer console."""

    client_id = forms.CharField(
        label=_("OAuth 2.0 Client ID"),
        max_length=255,
        help_text=_("In the X developer console: your app → Keys and tokens → OAuth 2.0."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    client_secret = forms.CharField(
        label=_("OAuth 2.0 Client Secret"),
        max_length=255,
        required=False,
        strip=True,
        help_text=_("Shown once by X when generated. Leave empty to keep the stored secret."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "spellcheck": "false"}),
    )
    plan = forms.ChoiceField(
        label=_("API plan"),
        help_text=_(
            "The plan your X developer account is on: it decides which replies and "
            "messages are allowed."
        ),
    )

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from accounts.connectors.x import PLANS

        plan_field = self.fields["plan"]
        assert isinstance(plan_field, forms.ChoiceField)
        plan_field.choices = [(key, plan.label) for key, plan in PLANS.items()]
        self.has_secret = has_secret
        if not has_secret:
            self.fields["client_secret"].required = True
            self.fields["client_secret"].help_text = _(
                "Shown once by X when generated; stored encrypted."
            )


class CallBudgetForm(forms.Form):
    monthly_calls = forms.IntegerField(
        label=_("Monthly budget of API calls"),
        min_value=0,
        max_value=100_000_000,
        required=False,
        help_text=_(
            "When this month's calls reach it, GovSocial stops reading the inbox and "
            "metrics of this account until the month ends. Publishing never stops. "
            "Leave empty for no budget."
        ),
    )


class MetaAppForm(forms.Form):
    """The organization's own Meta app (Facebook Pages and Instagram)."""

    app_id = forms.RegexField(
        label=_("App ID"),
        regex=r"^\d{5,32}$",
        error_messages={"invalid": _("The App ID is a number, as Meta shows it.")},
        help_text=_("In Meta's developer console: App settings → Basic → App ID."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    app_secret = forms.CharField(
        label=_("App secret"),
        required=False,
        max_length=255,
        help_text=_(
            "App settings → Basic → App secret. Stored encrypted and never shown again; "
            "leave empty to keep the one stored."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    verify_token = forms.CharField(
        label=_("Webhook verify token"),
        required=False,
        max_length=255,
        help_text=_(
            "Any long random text you also type into Meta's webhook settings, so Meta can "
            "prove the address is yours. Leave empty to keep the one stored."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    human_agent = forms.BooleanField(
        label=_("The app has the Human Agent permission"),
        required=False,
        help_text=_(
            "Only when Meta has approved it for the app: then a person may answer a message "
            "up to 7 days after it was sent, instead of 24 hours."
        ),
    )

    def __init__(self, *args: Any, has_secret: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_secret = has_secret

    def clean_app_secret(self) -> str:
        secret = str(self.cleaned_data.get("app_secret") or "").strip()
        if not secret and not self.has_secret:
            raise forms.ValidationError(_("Enter the app secret."))
        if secret and not re.fullmatch(r"[0-9a-f]{32}", secret):
            raise forms.ValidationError(
                _("The app secret is 32 characters (digits and a to f), as Meta shows it.")
            )
        return secret


class MetaPickForm(forms.Form):
    """Which Pages and Instagram accounts become channel accounts."""

    pages = forms.MultipleChoiceField(
        label=_("Facebook Pages"), required=False, widget=forms.CheckboxSelectMultiple
    )
    instagram = forms.MultipleChoiceField(
        label=_("Instagram accounts"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        pages: list[tuple[str, str]],
        instagram: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["pages"]).choices = pages
        cast(forms.MultipleChoiceField, self.fields["instagram"]).choices = instagram
        if not instagram:
            del self.fields["instagram"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("pages") and not data.get("instagram"):
            raise forms.ValidationError(_("Choose at least one Page or Instagram account."))
        return data
