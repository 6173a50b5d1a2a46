"""SCIM 2.0 provisioning: the organization's bearer token, its settings, and the
people and groups its identity provider manages."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.models.org import Role


class ScimToken(models.Model):
    """The bearer token an identity provider uses for one organization.

    Only its SHA-256 is stored; the token itself is shown once when made. An
    organization has at most one token in use: making a new one revokes the old.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="scim_tokens"
    )
    prefix = models.CharField(max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SCIM token")
        verbose_name_plural = _("SCIM tokens")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_scim_token_in_use",
            )
        ]

    def __str__(self) -> str:
        return f"SCIM {self.prefix}…"


class ScimSettings(models.Model):
    """How provisioned people get their role: group display name → role, highest wins."""

    organization = models.OneToOneField(
        "governance.Organization", on_delete=models.CASCADE, related_name="scim_settings"
    )
    # {"GovSocial admins": "admin", "Comms": "editor"}: matched case-insensitively.
    group_roles = models.JSONField(default=dict, blank=True)
    default_role = models.CharField(
        _("role for people in no mapped group"),
        max_length=16,
        choices=Role.choices,
        default=Role.EDITOR,
    )

    class Meta:
        verbose_name = _("SCIM settings")
        verbose_name_plural = _("SCIM settings")

    def __str__(self) -> str:
        return f"SCIM settings of {self.organization}"


class ProvisionedUser(models.Model):
    """A member as the organization's identity provider knows them (a SCIM User).

    The SCIM attributes GovSocial does not act on (the parts of a name, every
    e-mail address) are kept as sent, so the provider reads back what it wrote.
    ``removed_at`` set: the provider deleted the resource; the membership stays
    (deactivated) for the handover and the audit log.
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="provisioned_users"
    )
    membership = models.OneToOneField(
        "governance.Membership", on_delete=models.CASCADE, related_name="provisioned"
    )
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user_name = models.CharField(max_length=300)
    external_id = models.CharField(max_length=300, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("provisioned member")
        verbose_name_plural = _("provisioned members")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("user_name"),
                condition=models.Q(removed_at__isnull=True),
                name="uniq_scim_user_name",
            )
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(models.Model):
    """A group of the identity provider; its display name can map to a role."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="scim_groups"
    )
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=300)
    external_id = models.CharField(max_length=300, blank=True)
    members = models.ManyToManyField(ProvisionedUser, blank=True, related_name="groups")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("provisioned group")
        verbose_name_plural = _("provisioned groups")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.display_name
