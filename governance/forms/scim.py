"""Forms of the SCIM settings page: the role each identity-provider group gives."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from governance.models import Role


class ScimSettingsForm(forms.Form):
    default_role = forms.ChoiceField(
        label=_("Role for people in no mapped group"),
        choices=Role.choices,
        help_text=_(
            "New people from your identity provider get this role until a group below "
            "gives them another."
        ),
    )


class GroupRoleForm(forms.Form):
    group = forms.CharField(
        label=_("Group name"),
        max_length=300,
        required=False,
        help_text=_("The group's display name in your identity provider."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def clean_group(self) -> str:
        return " ".join(str(self.cleaned_data.get("group") or "").split())


class BaseGroupRoleFormSet(forms.BaseFormSet):
    def mapping(self) -> dict[str, str]:
        """Group name → role of the rows kept (blank and removed rows left out)."""
        found: dict[str, str] = {}
        for form in self.forms:
            data: dict[str, Any] = getattr(form, "cleaned_data", {}) or {}
            if data.get("DELETE") or not data.get("group"):
                continue
            found[data["group"]] = data["role"]
        return found


GroupRoleFormSet = formset_factory(
    GroupRoleForm, formset=BaseGroupRoleFormSet, extra=1, can_delete=True
)
