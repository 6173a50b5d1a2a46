"""Forms of single sign-on: the provider's settings, a waiting person's role, and the
login page's "which organization?" step. They only parse; ``governance.services.sso``
does the rest."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import OIDCProvider, Organization, Role, User
from governance.selectors.sso import sso_organization_admins
from governance.services.sso import ProviderData, sso_insecure_allowed, sso_issuer_problem

DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in re.split(r"[\n,]", text or "") if line.strip()]


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class AdminChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else str(obj.email)


class ProviderForm(_Form):
    # Fields shown under each protocol's heading; the rest apply to both.
    OIDC_FIELDS = ("issuer", "client_id", "client_secret")
    SAML_FIELDS = (
        "saml_metadata_url",
        "saml_metadata_file",
        "saml_idp_entity_id",
        "saml_email_attribute",
    )

    protocol = forms.ChoiceField(
        label=_("Protocol"),
        required=False,
        choices=OIDCProvider.Protocol.choices,
        initial=OIDCProvider.Protocol.OIDC,
        widget=forms.RadioSelect,
        help_text=_("Fill in the settings of the protocol you choose; the others are ignored."),
    )
    display_name = forms.CharField(
        label=_("Provider name"),
        max_length=100,
        help_text=_('Shown on the login page: "Sign in with" and this name.'),
    )
    issuer = forms.URLField(
        label=_("Issuer address"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_(
            "For example https://login.microsoftonline.com/TENANT-ID/v2.0. The settings are "
            "read from /.well-known/openid-configuration under it when you save."
        ),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=255, required=False)
    client_secret = forms.CharField(
        label=_("Client secret"),
        required=False,
        max_length=2000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted. Leave empty to keep the stored secret."),
    )
    allowed_domains = forms.CharField(
        label=_("Allowed e-mail domains"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, for example kaupunki.fi. Only these addresses may sign in."),
    )
    groups_claim = forms.CharField(
        label=_("Groups claim"),
        max_length=100,
        initial="groups",
        help_text=_(
            "The claim of the ID token (OpenID Connect) or the attribute (SAML) that lists "
            "the person's groups."
        ),
    )
    role_mapping = forms.CharField(
        label=_("Groups and roles"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "One per line: a group, an equals sign and a role (admin, manager, editor, "
            "reviewer or auditor), for example comms-editors = editor. Someone in several "
            "groups gets the highest of their roles."
        ),
    )
    default_role = forms.ChoiceField(
        label=_("Role for people in no listed group"),
        required=False,
        choices=[("", _("None: they wait until an admin gives them a role")), *Role.choices],
    )
    resync_role = forms.BooleanField(
        label=_("Update the role from the groups at each sign-in"),
        required=False,
        help_text=_("Otherwise the groups give the role only at the first sign-in."),
    )
    trust_provider_mfa = forms.BooleanField(
        label=_("Trust the provider's multi-factor authentication"),
        required=False,
        initial=True,
        help_text=_(
            "When the provider says the person used a second factor, GovSocial does not "
            "ask for its own code again."
        ),
    )
    mfa_acr_values = forms.CharField(
        label=_("Authentication levels (acr) that mean multi-factor"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "One per line. Methods (amr) such as mfa, otp or hwk always count. With SAML, "
            "list AuthnContextClassRef values; the REFEDS MFA profile "
            "(https://refeds.org/profile/mfa) and MultiFactor always count."
        ),
    )
    sso_only = forms.BooleanField(
        label=_("Single sign-on is the only way in"),
        required=False,
        help_text=_(
            "Members can no longer log in with a password, except the break-glass "
            "administrators below (with their password and a second factor)."
        ),
    )
    break_glass_users = AdminChoiceField(
        label=_("Break-glass administrators"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Admins who may still log in with a password and a second factor if the "
            "provider fails. Each such login is told to every admin."
        ),
    )
    enabled = forms.BooleanField(label=_("Single sign-on is on"), required=False, initial=True)
    saml_metadata_url = forms.URLField(
        label=_("Identity provider's metadata address"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "For example https://idp.example.fi/saml/metadata. It is read again each time "
            "you save. Or upload the metadata file below."
        ),
    )
    saml_metadata_file = forms.FileField(
        label=_("Identity provider's metadata file"),
        required=False,
        help_text=_("An XML file. Leave empty to keep the stored metadata."),
    )
    saml_idp_entity_id = forms.CharField(
        label=_("Identity provider's entity ID"),
        required=False,
        max_length=500,
        help_text=_("Needed only when the metadata describes several identity providers."),
    )
    saml_email_attribute = forms.CharField(
        label=_("E-mail attribute"),
        required=False,
        max_length=200,
        initial="email",
        help_text=_(
            "The attribute that holds the person's e-mail address. The usual names (mail, "
            "email and their URIs) are tried too."
        ),
    )

    def __init__(
        self, *args: Any, organization: Organization, provider: OIDCProvider | None, **kwargs: Any
    ) -> None:
        if provider is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "display_name": provider.display_name,
                "issuer": provider.issuer,
                "client_id": provider.client_id,
                "allowed_domains": "\n".join(provider.allowed_domains),
                "groups_claim": provider.groups_claim,
                "role_mapping": "\n".join(f"{g} = {r}" for g, r in provider.role_mapping.items()),
                "default_role": provider.default_role,
                "resync_role": provider.resync_role,
                "trust_provider_mfa": provider.trust_provider_mfa,
                "mfa_acr_values": "\n".join(provider.mfa_acr_values),
                "sso_only": provider.sso_only,
                "break_glass_users": list(provider.break_glass_users.values_list("pk", flat=True)),
                "enabled": provider.enabled,
                "protocol": provider.protocol,
                "saml_metadata_url": provider.saml_metadata_url,
                "saml_idp_entity_id": provider.saml_idp_entity_id,
                "saml_email_attribute": provider.saml_email_attribute,
            }
        super().__init__(*args, **kwargs)
        self.provider = provider
        admin_ids = [m.user_id for m in sso_organization_admins(organization)]
        field = self.fields["break_glass_users"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = User.objects.filter(pk__in=admin_ids).order_by("email")
        if provider is None or not provider.client_secret:
            self.fields["client_secret"].help_text = _("Stored encrypted.")

    def common_fields(self) -> list[forms.BoundField]:
        skip = {"protocol", *self.OIDC_FIELDS, *self.SAML_FIELDS}
        return [self[name] for name in self.fields if name not in skip]

    def oidc_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.OIDC_FIELDS]

    def saml_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.SAML_FIELDS]

    def clean_protocol(self) -> str:
        return str(self.cleaned_data.get("protocol") or OIDCProvider.Protocol.OIDC)

    def clean_saml_metadata_url(self) -> str:
        url = str(self.cleaned_data.get("saml_metadata_url") or "").strip()
        if url and not url.startswith("https://") and not sso_insecure_allowed():
            raise forms.ValidationError(
                _("The metadata address must start with https://."), code="https"
            )
        return url

    def clean_saml_metadata_file(self) -> str:
        upload = self.cleaned_data.get("saml_metadata_file")
        if not upload:
            return ""
        if upload.size > 2_000_000:
            raise forms.ValidationError(_("The file is too large."), code="too_large")
        try:
            return bytes(upload.read()).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                _("The file is not a metadata file in XML."), code="not_xml"
            ) from exc

    def clean_issuer(self) -> str:
        issuer = str(self.cleaned_data["issuer"] or "").strip()
        if not issuer:
            return ""
        problem = sso_issuer_problem(issuer)
        if problem:
            raise forms.ValidationError(problem, code="issuer")
        return issuer.rstrip("/")

    def clean_allowed_domains(self) -> list[str]:
        domains = [d.lower().lstrip("@") for d in _lines(self.cleaned_data["allowed_domains"])]
        bad = [d for d in domains if not DOMAIN_RE.match(d)]
        if bad:
            raise forms.ValidationError(
                _("These are not domain names: %(domains)s") % {"domains": ", ".join(bad)},
                code="domain",
            )
        if not domains:
            raise forms.ValidationError(_("Enter at least one domain."), code="required")
        return sorted(set(domains))

    def clean_role_mapping(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate((self.cleaned_data["role_mapping"] or "").splitlines(), 1):
            if not line.strip():
                continue
            group, sep, role = line.rpartition("=")
            group, role = group.strip(), role.strip().lower()
            if not sep or not group or role not in Role.values:
                raise forms.ValidationError(
                    _(
                        'Line %(number)d should read "group = role", with one of the roles '
                        "admin, manager, editor, reviewer or auditor."
                    )
                    % {"number": number},
                    code="mapping",
                )
            mapping[group] = role
        return mapping

    def clean_mfa_acr_values(self) -> list[str]:
        return [
            line.strip()
            for line in (self.cleaned_data["mfa_acr_values"] or "").splitlines()
            if line.strip()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        required = _("This field is required.")
        if data.get("protocol") == OIDCProvider.Protocol.SAML:
            has_metadata = bool(self.provider is not None and self.provider.saml_metadata_xml)
            if (
                not data.get("saml_metadata_url")
                and not data.get("saml_metadata_file")
                and not has_metadata
            ):
                self.add_error(
                    "saml_metadata_url",
                    forms.ValidationError(
                        _("Enter the metadata address or upload the metadata file."),
                        code="required",
                    ),
                )
        else:
            for name in ("issuer", "client_id"):
                if name in data and not data.get(name):
                    self.add_error(name, forms.ValidationError(required, code="required"))
            has_secret = bool(self.provider is not None and self.provider.client_secret)
            if not data.get("client_secret") and not has_secret:
                self.add_error("client_secret", forms.ValidationError(required, code="required"))
        if data.get("sso_only") and not data.get("break_glass_users"):
            self.add_error(
                "break_glass_users",
                forms.ValidationError(
                    _(
                        "Choose at least one break-glass administrator, so that the "
                        "organization can still get in if the provider fails."
                    ),
                    code="break_glass_required",
                ),
            )
        if data.get("sso_only") and not data.get("enabled"):
            self.add_error(
                "sso_only",
                forms.ValidationError(
                    _("Single sign-on must be on to be the only way in."), code="sso_off"
                ),
            )
        return data

    def provider_data(self) -> ProviderData:
        data = self.cleaned_data
        return ProviderData(
            display_name=data["display_name"].strip(),
            issuer=data["issuer"],
            client_id=data["client_id"].strip(),
            client_secret=data.get("client_secret") or "",
            allowed_domains=data["allowed_domains"],
            groups_claim=data["groups_claim"].strip(),
            role_mapping=data["role_mapping"],
            default_role=data.get("default_role") or "",
            resync_role=bool(data.get("resync_role")),
            trust_provider_mfa=bool(data.get("trust_provider_mfa")),
            mfa_acr_values=data["mfa_acr_values"],
            sso_only=bool(data.get("sso_only")),
            enabled=bool(data.get("enabled")),
            break_glass_user_ids=[user.pk for user in data.get("break_glass_users") or []],
            protocol=data["protocol"],
            saml_metadata_url=data.get("saml_metadata_url") or "",
            saml_metadata_xml=data.get("saml_metadata_file") or "",
            saml_idp_entity_id=(data.get("saml_idp_entity_id") or "").strip(),
            saml_email_attribute=(data.get("saml_email_attribute") or "").strip() or "email",
        )


class PendingRoleForm(_Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class SSOFindForm(_Form):
    """The login page's first step of single sign-on: which organization?"""

    email = forms.EmailField(
        label=_("Work e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
