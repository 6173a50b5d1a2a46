"""Forms of the handover pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import HandoverCase, Membership, Organization
from governance.selectors.handover import handover_holder_choices, handover_leaving_choices


def member_name(membership: Membership) -> str:
    user = membership.user
    return f"{user.full_name or user.email} ({membership.get_role_display()})"


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return member_name(obj)


class ReassignForm(forms.Form):
    """Items of the case and the member who takes them over.

    The detail page posts either one row (its own "Assign" button and select) or
    every ticked row with the bulk select; the view maps both onto these fields.
    """

    items: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("Items"),
        error_messages={"required": _("Choose at least one item.")},
    )
    new_holder = MemberChoiceField(
        queryset=None,
        label=_("New holder"),
        empty_label=_("Choose a person"),
        error_messages={"required": _("Choose who takes the items over.")},
    )

    def __init__(self, *args: Any, case: HandoverCase, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        items_field = self.fields["items"]
        assert isinstance(items_field, forms.ModelMultipleChoiceField)
        items_field.queryset = case.items.all()
        holder_field = self.fields["new_holder"]
        assert isinstance(holder_field, MemberChoiceField)
        holder_field.queryset = handover_holder_choices(case)


class SignOffForm(forms.Form):
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Anything the record should say: agreements made, accounts to check."),
    )


class OpenCaseForm(forms.Form):
    membership = MemberChoiceField(
        queryset=None,
        label=_("Member"),
        empty_label=_("Choose a member"),
        help_text=_("A case opens by itself when a member is deactivated or given a leaving date."),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["membership"]
        assert isinstance(field, MemberChoiceField)
        field.queryset = handover_leaving_choices(organization)
