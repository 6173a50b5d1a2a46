"""The credential vault: the secrets of native logins (passwords, recovery codes,
two-factor seeds), encrypted at rest and revealed only through
``governance.services.vault.vault_secret_reveal``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.fields import EncryptedTextField


class SecretKind(models.TextChoices):
    PASSWORD = "password", _("Password")
    RECOVERY_CODES = "recovery_codes", _("Recovery codes")
    TOTP_SEED = "totp_seed", _("Two-factor backup seed")
    OTHER = "other", _("Other secret")


class VaultSecret(models.Model):
    """One secret. Its value is ciphertext in the database; nothing else about it is
    secret, so people who may not reveal it can still see that it exists, what it
    belongs to, when it must be rotated and who has revealed it."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="vault_secrets"
    )
    registry_entry = models.ForeignKey(
        "governance.RegistryEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vault_secrets",
        verbose_name=_("account"),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=SecretKind.choices, default=SecretKind.PASSWORD
    )
    value = EncryptedTextField(_("secret value"))
    # Anything about the secret that is not itself secret: where it is used, how to rotate.
    notes = models.TextField(_("notes"), blank=True)
    rotate_by = models.DateField(_("rotate by"), null=True, blank=True, db_index=True)
    rotation_reminded_for = models.DateField(null=True, blank=True, editable=False)
    last_rotated_at = models.DateTimeField(_("value last changed"), default=timezone.now)
    # People who have seen the value (by revealing it, or named when it was stored):
    # a handover must make sure they no longer need it, or the secret is rotated.
    known_by = models.ManyToManyField(
        "governance.Membership",
        blank=True,
        related_name="vault_secrets_known",
        verbose_name=_("known by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("vault secret")
        verbose_name_plural = _("vault secrets")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name
