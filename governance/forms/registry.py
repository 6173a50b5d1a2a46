"""Forms of the account registry, the credential vault and the policies.

Forms parse what a person typed; the rules (same organization, no duplicates,
fresh second factor) live in the services, whose ``ValidationError`` the views
attach back to the fields here.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import (
    Membership,
    NativeAdmin,
    Organization,
    PolicyKind,
    RegistryEntry,
    RegistryNetwork,
    ReviewCadence,
    SecretKind,
)
from governance.selectors.registry import ConnectedAccount, registry_people_choices
from governance.services.policies import GOVERNANCE_CADENCES
from governance.services.registry import PersonInput, RegistryEntryData
from governance.services.vault import VaultSecretData

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels read as written ("Handle", not "Handle:"): tests and screen readers
        # find fields by their exact label.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Membership)
        return f"{obj.user.get_full_name()} ({obj.user.email})"


def _member_field(organization: Organization, label: Any, help_text: Any = "") -> MemberChoiceField:
    return MemberChoiceField(
        queryset=registry_people_choices(organization),
        required=False,
        label=label,
        help_text=help_text,
        empty_label=_("Nobody yet"),
    )


# --- Registry --------------------------------------------------------------------------


class RegistryEntryForm(_Form):
    network = forms.ChoiceField(label=_("Network"), choices=RegistryNetwork.choices)
    handle = forms.CharField(
        label=_("Handle or address"),
        max_length=255,
        help_text=_("As the network shows it: @city_news, a page address, a channel name."),
    )
    display_name = forms.CharField(label=_("Name"), max_length=255, required=False)
    purpose = forms.CharField(
        label=_("Purpose"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the account is for and who it speaks to."),
    )
    login_identity = forms.CharField(
        label=_("Login identity"),
        max_length=254,
        required=False,
        help_text=_(
            "The e-mail address or user name of the native login. Use a role mailbox "
            "(such as comms@ or viestinta@), not a person's own address: it stays when "
            "people leave."
        ),
    )
    two_factor_location = forms.CharField(
        label=_("Where the two-factor authentication lives"),
        max_length=255,
        required=False,
        help_text=_("Which device or app holds it, and where the device is kept."),
    )
    review_cadence_months = forms.TypedChoiceField(
        label=_("Access review cadence"),
        choices=ReviewCadence.choices,
        coerce=int,
        initial=ReviewCadence.QUARTERLY,
    )
    next_review_due = forms.DateField(
        label=_("Next access review due"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("Leave empty to count one cadence from today."),
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        connected_accounts: list[ConnectedAccount],
        entry: RegistryEntry | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["business_owner"] = _member_field(
            organization,
            _("Business owner"),
            _("Answers for what the account says and decides who may use it."),
        )
        self.fields["technical_custodian"] = _member_field(
            organization,
            _("Technical custodian"),
            _("Keeps the login, the two-factor device and the recovery codes."),
        )
        self.fields["backup_owner"] = _member_field(
            organization, _("Backup owner"), _("Steps in when the owner is away.")
        )
        self.fields["two_factor_holder"] = _member_field(
            organization, _("Person holding the two-factor device")
        )
        choices: list[tuple[str, str]] = [("", str(_("Not connected to GovSocial")))]
        for account in connected_accounts:
            if account.registry_entry_id in (None, entry.pk if entry else None):
                choices.append((str(account.pk), account.label))
        self.fields["channel_account"] = forms.TypedChoiceField(
            label=_("Connected channel account"),
            choices=choices,
            coerce=int,
            empty_value=None,
            required=False,
            help_text=_("If the account is also connected to GovSocial, link it here."),
        )
        # Fields in reading order: the account, its people, its login, its reviews.
        self.order_fields(
            [
                "network",
                "handle",
                "display_name",
                "purpose",
                "channel_account",
                "business_owner",
                "technical_custodian",
                "backup_owner",
                "login_identity",
                "two_factor_location",
                "two_factor_holder",
                "review_cadence_months",
                "next_review_due",
            ]
        )
        self.fields["login_identity"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false"}
        )
        if entry is not None and not self.is_bound:
            self.initial.update(
                {
                    "network": entry.network,
                    "handle": entry.handle,
                    "display_name": entry.display_name,
                    "purpose": entry.purpose,
                    "business_owner": entry.business_owner_id,
                    "technical_custodian": entry.technical_custodian_id,
                    "backup_owner": entry.backup_owner_id,
                    "login_identity": entry.login_identity,
                    "two_factor_location": entry.two_factor_location,
                    "two_factor_holder": entry.two_factor_holder_id,
                    "review_cadence_months": entry.review_cadence_months,
                    "next_review_due": entry.next_review_due,
                }
            )
            linked = [a for a in connected_accounts if a.registry_entry_id == entry.pk]
            if linked:
                self.initial["channel_account"] = linked[0].pk

    def to_data(self) -> RegistryEntryData:
        data = self.cleaned_data
        return RegistryEntryData(
            network=data["network"],
            handle=data["handle"],
            display_name=data["display_name"],
            purpose=data["purpose"],
            business_owner=data["business_owner"],
            technical_custodian=data["technical_custodian"],
            backup_owner=data["backup_owner"],
            login_identity=data["login_identity"].strip(),
            two_factor_location=data["two_factor_location"],
            two_factor_holder=data["two_factor_holder"],
            review_cadence_months=data["review_cadence_months"],
            next_review_due=data["next_review_due"],
        )


class NativeAdminForm(_Form):
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    role_on_network = forms.CharField(
        label=_("Role on the network"),
        max_length=100,
        required=False,
        help_text=_("For example admin, editor or analyst, as the network calls it."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("name") and not cleaned.get("email"):
            self.add_error("name", _("Enter the person's name or e-mail address."))
        return cleaned

    def to_person(self) -> PersonInput:
        return PersonInput(
            name=self.cleaned_data["name"],
            email=self.cleaned_data["email"],
            role_on_network=self.cleaned_data["role_on_network"],
        )


_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


def parse_people(text: str) -> list[PersonInput]:
    """People typed one per line as "Name, e-mail, role" (e-mail and role optional;
    "Name <e-mail>" works too)."""
    people: list[PersonInput] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _EMAIL.search(line)
        email = match.group(0) if match else ""
        rest = (line[: match.start()] + " , " + line[match.end() :]) if match else line
        parts = [part.strip(" <>\t") for part in rest.split(",")]
        parts = [part for part in parts if part]
        name = parts[0] if parts else ""
        role = ", ".join(parts[1:]) if len(parts) > 1 else ""
        if not name and not email:
            raise forms.ValidationError(
                _("Line %(number)d: give a name or an e-mail address."),
                params={"number": number},
            )
        if "@" in line and not email:
            raise forms.ValidationError(
                _("Line %(number)d: the e-mail address is not valid."),
                params={"number": number},
            )
        people.append(PersonInput(name=name, email=email, role_on_network=role))
    return people


class AccessReviewForm(_Form):
    added = forms.CharField(
        label=_("People who also have access"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Anyone you found on the network who is not on the list above, one per line: "
            "name, e-mail address, role."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    checked = forms.BooleanField(
        label=_("I have compared this list with the people who have access on the network."),
        required=True,
    )

    def __init__(self, *args: Any, admins: list[NativeAdmin], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"] = forms.TypedMultipleChoiceField(
            label=_("Still have access"),
            choices=[(str(admin.pk), str(admin)) for admin in admins],
            coerce=int,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            initial=[str(admin.pk) for admin in admins],
            help_text=_("Untick anyone who should no longer have access: they are removed."),
        )
        if not admins:
            del self.fields["keep"]  # nothing to confirm: only people to add
        self.order_fields(["keep", "added", "notes", "checked"])

    def clean_added(self) -> list[PersonInput]:
        return parse_people(self.cleaned_data.get("added", ""))


# --- Vault ----------------------------------------------------------------------------


class RegistryEntryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj)


class VaultSecretForm(_Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        help_text=_('What the secret is, for example "YouTube login password".'),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=SecretKind.choices)
    value = forms.CharField(
        label=_("Secret"),
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        ),
        help_text=_("Stored encrypted. Recovery codes can go one per line."),
    )
    rotate_by = forms.DateField(
        label=_("Rotate by"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("When the secret must be changed; a reminder goes out after this date."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Nothing secret here: where it is used, how to change it."),
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        secret: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registry_entry"] = RegistryEntryChoiceField(
            queryset=RegistryEntry.objects.filter(organization=organization).order_by(
                "network", "handle"
            ),
            required=False,
            label=_("Account"),
            empty_label=_("Not tied to one account"),
        )
        self.order_fields(["name", "kind", "registry_entry", "value", "rotate_by", "notes"])
        if secret is not None:
            # Editing: the value is never shown back; a new one rotates the secret.
            self.fields["value"] = forms.CharField(
                label=_("New secret"),
                required=False,
                strip=False,
                widget=self.fields["value"].widget,
                help_text=_("Leave empty to keep the current secret. A new one rotates it."),
            )
            self.order_fields(["name", "kind", "registry_entry", "value", "rotate_by", "notes"])
            if not self.is_bound:
                self.initial.update(
                    {
                        "name": secret.name,
                        "kind": secret.kind,
                        "registry_entry": secret.registry_entry_id,
                        "rotate_by": secret.rotate_by,
                        "notes": secret.notes,
                    }
                )

    def to_data(self) -> VaultSecretData:
        data = self.cleaned_data
        return VaultSecretData(
            name=data["name"],
            kind=data["kind"],
            notes=data["notes"],
            registry_entry=data["registry_entry"],
            rotate_by=data["rotate_by"],
        )


class RevealForm(_Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you need the secret now. It is written to the audit log."),
    )

    # Not required here: the vault service refuses (and audits) a reveal without a
    # fresh code, so the refusal is the same by every door. The attribute still
    # tells assistive technology the field is needed.
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        required=False,
        help_text=_(
            "Revealing a secret needs a fresh two-factor check: enter the 6-digit "
            "code your authenticator app shows now."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "required": True,
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )


# --- Policies --------------------------------------------------------------------------


class PolicyForm(_Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=PolicyKind.choices)
    body = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Plain text. Blank lines separate paragraphs."),
    )

    def __init__(self, *args: Any, new_version: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if new_version:
            self.fields["change_note"] = forms.CharField(
                label=_("What changed"),
                max_length=300,
                required=False,
                help_text=_("Shown to everyone asked to acknowledge the new version."),
            )


class GovernanceReviewScheduleForm(_Form):
    due_on = forms.DateField(label=_("Next review due"), widget=DATE_WIDGET)
    cadence_months = forms.TypedChoiceField(
        label=_("Review the governance model every"),
        coerce=int,
        choices=[
            (3, _("3 months")),
            (6, _("6 months")),
            (12, _("12 months")),
            (24, _("24 months")),
        ],
        initial=12,
    )

    def clean_cadence_months(self) -> int:
        value = int(self.cleaned_data["cadence_months"])
        if value not in GOVERNANCE_CADENCES:
            raise forms.ValidationError(_("Choose a cadence from the list."))
        return value


class GovernanceReviewRecordForm(_Form):
    notes = forms.CharField(
        label=_("What was reviewed and decided"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
