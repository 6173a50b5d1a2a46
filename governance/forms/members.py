"""Forms for members, invitations, organization settings and the personal profile.

Forms only parse and check what a person typed; the rules live in
``governance.services.members``, whose ``ValidationError`` the views attach
back to a field here.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.dates import canonical_time_zone, is_time_zone_alias, sort_key, time_zone_label
from governance.holidays import country_choices, country_for_time_zone, country_name
from governance.models import Membership, Organization, Role, User
from governance.models.org import LIMITABLE_ROLES
from governance.selectors.members import channel_account_label, organization_channel_accounts

# The regions of the IANA database a person would look under; legacy aliases
# such as "US/Eastern" or "Etc/GMT+3" are left out of the list.
TIME_ZONE_REGIONS = (
    ("Europe", pgettext_lazy("time zone region", "Europe")),
    ("Africa", pgettext_lazy("time zone region", "Africa")),
    ("America", pgettext_lazy("time zone region", "America")),
    ("Antarctica", pgettext_lazy("time zone region", "Antarctica")),
    ("Arctic", pgettext_lazy("time zone region", "Arctic")),
    ("Asia", pgettext_lazy("time zone region", "Asia")),
    ("Atlantic", pgettext_lazy("time zone region", "Atlantic Ocean")),
    ("Australia", pgettext_lazy("time zone region", "Australia")),
    ("Indian", pgettext_lazy("time zone region", "Indian Ocean")),
    ("Pacific", pgettext_lazy("time zone region", "Pacific Ocean")),
)


def _listed(name: str) -> bool:
    # A zone the CLDR knows under a newer name ("Europe/Kiev" for "Europe/Kyiv")
    # is listed once, under that name, unless the newer one is in another region.
    if not is_time_zone_alias(name):
        return True
    canonical = canonical_time_zone(name)
    return canonical.split("/", 1)[0] != name.split("/", 1)[0]


@lru_cache(maxsize=8)
def _grouped_time_zones(language: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    names = [n for n in zoneinfo.available_timezones() if _listed(n)]
    groups = []
    for region, _label in TIME_ZONE_REGIONS:
        zones = [(n, time_zone_label(n, language)) for n in names if n.startswith(f"{region}/")]
        zones.sort(key=lambda zone: sort_key(zone[1], language))
        groups.append((region, tuple(zones)))
    return tuple(groups)


def time_zone_choices(current: str = "") -> list[Any]:
    """Time zones grouped by region (Europe first, as most users are there), UTC on top.

    Regions and zones are named in the reader's language ("Ukraina (Kiova)" on a
    Finnish page) and sorted by that name. ``current`` is kept as a choice even if
    it is a legacy alias, so saving a form never silently changes a value nobody
    touched.
    """
    language = translation.get_language() or settings.LANGUAGE_CODE
    labels = dict(TIME_ZONE_REGIONS)
    choices: list[Any] = [("UTC", "UTC")]
    known = {"UTC"}
    for region, zones in _grouped_time_zones(language):
        choices.append((str(labels[region]), list(zones)))
        known.update(name for name, _label in zones)
    if current and current not in known and current in zoneinfo.available_timezones():
        choices.insert(0, (current, time_zone_label(current, language)))
    return choices


class ChannelAccountChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return channel_account_label(obj)


def _accounts_field(organization: Organization) -> ChannelAccountChoiceField:
    return ChannelAccountChoiceField(
        queryset=organization_channel_accounts(organization),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Limit to these channel accounts"),
        help_text=_(
            "Only for editors and reviewers. Leave every box unticked to allow all of the "
            "organization's accounts."
        ),
    )


def _check_accounts_for_role(form: forms.Form, cleaned: dict[str, Any]) -> None:
    role = cleaned.get("role")
    if cleaned.get("channel_accounts") and role and role not in LIMITABLE_ROLES:
        form.add_error(
            "channel_accounts",
            _("Only editors and reviewers can be limited to some channel accounts."),
        )


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels read as written ("Full name", not "Full name:"): screen readers and
        # browser tests find fields by their exact label.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


ROLE_HELP = _(
    "Admins manage settings and people. Managers see dashboards, approve and can pause "
    "publishing. Editors write, schedule and reply. Reviewers approve. Auditors only read, "
    "including the audit log."
)


class InvitationForm(_Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"), choices=Role.choices, initial=Role.EDITOR, help_text=ROLE_HELP
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self.fields["channel_accounts"] = _accounts_field(organization)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_accounts_for_role(self, cleaned)
        return cleaned


class AcceptInvitationForm(_Form):
    """A new person's name and password."""

    full_name = forms.CharField(label=_("Full name"), max_length=200)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Type the same password again, to be sure it is what you meant."),
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields[
            "password1"
        ].help_text = password_validation.password_validators_help_text_html()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            # Checked against the name and address too, so "Maija Virtanen" cannot
            # choose "maijavirtanen1" as her password.
            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class MemberEditForm(_Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, help_text=ROLE_HELP)
    leaving_on = forms.DateField(
        label=_("Leaving date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Optional. The last working day, so the handover can be planned."),
    )

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel_accounts"] = _accounts_field(membership.organization)
        self.fields["channel_accounts"].help_text = _(
            "Only for editors and reviewers. Leave every box unticked to allow all accounts. "
            "Changing to another role gives the person every account."
        )
        self.order_fields(["role", "channel_accounts", "leaving_on"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_accounts_for_role(self, cleaned)
        return cleaned


class DeactivateMemberForm(_Form):
    leaving_on = forms.DateField(
        label=_("Leaving date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Optional. Kept with the member for the handover."),
    )


class OrganizationSettingsForm(_Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    time_zone = forms.ChoiceField(label=_("Time zone"))
    default_language = forms.ChoiceField(label=_("Default language"))
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        help_text=_("Its public holidays are shown on the publishing calendar."),
    )
    require_2fa = forms.BooleanField(
        label=_("Require two-factor authentication"),
        required=False,
        help_text=_(
            "Every member must log in with an authenticator app as well as a password. "
            "Strongly recommended."
        ),
    )
    disable_2fa_confirmation = forms.CharField(
        label=_("Confirm turning off two-factor authentication"),
        required=False,
        max_length=200,
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "name": organization.name,
                "time_zone": organization.time_zone,
                "default_language": organization.default_language,
                "country": organization.country,
                "require_2fa": organization.require_2fa,
            },
        )
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["time_zone"].choices = time_zone_choices(organization.time_zone)  # type: ignore[attr-defined]
        self.fields["default_language"].choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]
        self.fields["country"].choices = [  # type: ignore[attr-defined]
            (
                "",
                _("The time zone's country (%(country)s)")
                % {"country": country_name(country_for_time_zone(organization.time_zone))},
            ),
            *country_choices(),
        ]
        self.fields["disable_2fa_confirmation"].help_text = _(
            "Only needed to turn it off: type the organization's name, %(name)s."
        ) % {"name": organization.name}
        self.fields["disable_2fa_confirmation"].widget.attrs["autocomplete"] = "off"


class ProfileForm(_Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    preferred_language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"), help_text=_("Times in the app are shown in this time zone.")
    )
    keyboard_shortcuts = forms.BooleanField(
        label=_("Keyboard shortcuts"),
        required=False,
        help_text=_(
            "Single-key shortcuts in the inbox (such as j and k to move between items), "
            "active while the list or an open item has focus. Turn them off if they get "
            "in the way of speech input or other tools."
        ),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "full_name": user.full_name,
                "preferred_language": user.preferred_language,
                "time_zone": user.time_zone,
                "keyboard_shortcuts": user.keyboard_shortcuts,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.fields["preferred_language"].choices = [  # type: ignore[attr-defined]
            ("", _("The browser's language")),
            *settings.LANGUAGES,
        ]
        self.fields["time_zone"].choices = time_zone_choices(user.time_zone)  # type: ignore[attr-defined]
