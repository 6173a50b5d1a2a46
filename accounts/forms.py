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
