"""The link settings form (UTM tags and short links)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from publishing.models import LinkSettings

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class LinkSettingsForm(forms.Form):
    tag_utm = forms.BooleanField(
        label=_("Tag links with campaign parameters"),
        required=False,
        help_text=_(
            "Adds utm_source (the network), utm_medium (social) and utm_campaign (the "
            "post's campaign) to each web address when a post is published."
        ),
    )
    shorten = forms.BooleanField(
        label=_("Shorten links and count clicks"),
        required=False,
        help_text=_(
            "Replaces each web address with a short link that counts clicks per post, "
            "network and day. Nothing about the visitor is stored."
        ),
    )
    short_domain = forms.CharField(
        label=_("Short link domain"),
        required=False,
        max_length=253,
        help_text=_(
            "A domain of your own that points at GovSocial, such as go.example.fi. "
            "Leave empty to use GovSocial's own address."
        ),
    )

    def __init__(self, data: Any = None, *, instance_values: LinkSettings) -> None:
        super().__init__(
            data,
            initial={
                "tag_utm": instance_values.tag_utm,
                "shorten": instance_values.shorten,
                "short_domain": instance_values.short_domain,
            },
        )

    def clean_short_domain(self) -> str:
        value = str(self.cleaned_data["short_domain"]).strip().lower().rstrip(".")
        if value and not _DOMAIN.match(value):
            raise forms.ValidationError(
                _("Enter a domain name only, such as go.example.fi (no https:// or path)."),
                code="domain",
            )
        return value
