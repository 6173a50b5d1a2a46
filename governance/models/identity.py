"""Single sign-on: an organization's OpenID Connect provider, and who signed in through it.

One provider per organization. Its client secret is encrypted at rest like every
other secret. People are matched by the provider's stable subject identifier
(``sub``), not by e-mail address, once their first sign-in has linked them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device

from governance.fields import EncryptedTextField
from governance.models.org import Organization

__all__ = ["OIDCIdentity", "OIDCPendingMember", "OIDCProvider", "ProviderMFADevice"]


def _empty_list() -> list[str]:
    return []


def _empty_dict() -> dict[str, str]:
    return {}


class OIDCProvider(models.Model):
    """The organization's identity provider (Entra ID, Keycloak, Okta, Suomi.fi …),
    spoken to with OpenID Connect or SAML 2.0 (``protocol``)."""

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="oidc_provider"
    )
    display_name = models.CharField(
        _("provider name"),
        max_length=100,
        help_text=_('Shown on the login page as "Sign in with …".'),
    )
    issuer = models.URLField(
        _("issuer"),
        max_length=500,
        help_text=_(
            "The provider's issuer address. Its discovery document is read from "
            "/.well-known/openid-configuration under this address."
        ),
    )
    protocol = models.CharField(
        _("protocol"), max_length=8, choices=Protocol.choices, default=Protocol.OIDC
    )
    client_id = models.CharField(_("client ID"), max_length=255)
    client_secret = EncryptedTextField(_("client secret"), blank=True)
    allowed_domains = models.JSONField(_("allowed e-mail domains"), default=_empty_list)
    groups_claim = models.CharField(_("groups claim"), max_length=100, default="groups")
    # Claim value (a group name or id) -> role.
    role_mapping = models.JSONField(_("groups and roles"), default=_empty_dict)
    default_role = models.CharField(
        _("role for people in no mapped group"),
        max_length=16,
        blank=True,
        help_text=_("Empty: they wait until an administrator gives them a role."),
    )
    resync_role = models.BooleanField(_("update the role at each sign-in"), default=False)
    trust_provider_mfa = models.BooleanField(
        _("trust the provider's multi-factor authentication"), default=True
    )
    mfa_acr_values = models.JSONField(_("acr values that mean multi-factor"), default=_empty_list)
    sso_only = models.BooleanField(_("single sign-on is the only way in"), default=False)
    break_glass_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("break-glass administrators"),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # SAML 2.0: the identity provider's metadata, read from an address (kept fresh at
    # each save) or uploaded; the copy here is what every sign-in is checked against.
    saml_metadata_url = models.URLField(_("SAML metadata address"), max_length=500, blank=True)
    saml_metadata_xml = models.TextField(_("SAML metadata"), blank=True)
    saml_idp_entity_id = models.CharField(_("SAML entity ID"), max_length=500, blank=True)
    saml_metadata_fetched_at = models.DateTimeField(null=True, blank=True, editable=False)
    saml_email_attribute = models.CharField(
        _("e-mail attribute"), max_length=200, blank=True, default="email"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("single sign-on provider")
        verbose_name_plural = _("single sign-on providers")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.organization})"

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


class OIDCIdentity(models.Model):
    """A person as the provider knows them: its ``sub``, linked to our user."""

    provider = models.ForeignKey(OIDCProvider, on_delete=models.CASCADE, related_name="identities")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identities"
    )
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    groups = models.JSONField(default=_empty_list)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="uniq_oidc_subject"),
            models.UniqueConstraint(fields=["provider", "user"], name="uniq_oidc_user"),
        ]

    def __str__(self) -> str:
        return f"{self.email or self.subject} @ {self.provider.display_name}"


class OIDCPendingMember(models.Model):
    """Someone who signed in through the provider but has no role yet: an admin decides."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="oidc_pending_members"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    groups = models.JSONField(default=_empty_list)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("person waiting for a role")
        verbose_name_plural = _("people waiting for a role")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uniq_oidc_pending"),
        ]
        ordering = ["requested_at", "pk"]

    def __str__(self) -> str:
        return f"{self.user} → {self.organization}"


class ProviderMFADeviceManager(models.Manager["ProviderMFADevice"]):
    def devices_for_user(self, user: Any, confirmed: bool | None = None) -> Any:
        # Not a factor the person holds: it never counts as "has a device" (so no
        # code is ever asked for it), and no code can verify it.
        return self.none()


class ProviderMFADevice(Device):
    """Marks a session verified by the identity provider's own multi-factor sign-in.

    django-otp's middleware treats the session as verified (``is_verified()``) when
    it names a confirmed device of the user. This device is that name for a
    sign-in where the provider asserted multi-factor authentication; it holds no
    secret and accepts no code.
    """

    provider = models.ForeignKey(OIDCProvider, on_delete=models.CASCADE, related_name="+")

    objects = ProviderMFADeviceManager()

    class Meta:
        verbose_name = _("multi-factor sign-in at the identity provider")
        constraints = [
            models.UniqueConstraint(fields=["user", "provider"], name="uniq_provider_mfa_device"),
        ]

    def verify_token(self, token: Any) -> bool:
        return False
