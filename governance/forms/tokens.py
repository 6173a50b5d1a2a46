"""The form that names a new personal API token."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.services.tokens import NAME_MAX_LENGTH


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_(
            "What the token is for, so you recognise it later, e.g. 'Weekly report script'."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
