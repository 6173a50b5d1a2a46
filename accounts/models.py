from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    PAUSED = "paused", _("Paused")
    DISCONNECTED = "disconnected", _("Disconnected")


class ChannelAccount(models.Model):
    """One official account of the organization on one network."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="channel_accounts"
    )
    network = models.CharField(_("network"), max_length=32)
    handle = models.CharField(_("handle"), max_length=255)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    remote_id = models.CharField(_("network's account id"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    # Members limited to some accounts (Membership.all_accounts False) see only these.
    limited_members = models.ManyToManyField(
        "governance.Membership", blank=True, related_name="channel_accounts"
    )
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("channel account")
        verbose_name_plural = _("channel accounts")
        ordering = ["network", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "network", "handle"], name="uniq_channel_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"
