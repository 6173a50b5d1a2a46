"""Handover: when a member leaves, everything they hold gets a new holder.

A **HandoverCase** is opened for the leaving membership (on deactivation, when a
leaving date is set, or by hand). Its **HandoverItem** rows are what the person
holds, as the providers of ``governance.providers`` list it: registry roles,
secrets they knew, posts they wrote, approvals waiting on them, inbox items,
channel accounts they connected. A manager signs the case off once every item
has a new holder. The rules live in ``governance.services.handover``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class HandoverStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SIGNED_OFF = "signed_off", _("Signed off")


class HandoverReason(models.TextChoices):
    DEACTIVATED = "deactivated", _("Member deactivated")
    LEAVING_DATE = "leaving_date", _("Leaving date set")
    MANUAL = "manual", _("Opened by hand")


class HandoverCase(models.Model):
    """The handover of one leaving member's responsibilities."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="handover_cases"
    )
    membership = models.ForeignKey(
        "governance.Membership",
        on_delete=models.CASCADE,
        related_name="handover_cases",
        verbose_name=_("leaving member"),
    )
    reason = models.CharField(
        _("opened because"),
        max_length=20,
        choices=HandoverReason.choices,
        default=HandoverReason.MANUAL,
    )
    status = models.CharField(
        _("status"), max_length=20, choices=HandoverStatus.choices, default=HandoverStatus.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    refreshed_at = models.DateTimeField(_("items listed at"), default=timezone.now)
    # Providers that failed the last time items were listed: the list may be
    # incomplete, so the case cannot be signed off until a refresh succeeds.
    incomplete_sources = models.JSONField(default=list, blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("handover case")
        verbose_name_plural = _("handover cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # Deactivating someone whose leaving date opened a case reuses that case.
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status="open"),
                name="uniq_open_handover_case",
            ),
        ]

    def __str__(self) -> str:
        return f"Handover of {self.membership.user}"

    @property
    def is_open(self) -> bool:
        return self.status == HandoverStatus.OPEN


class HandoverItem(models.Model):
    """One thing the leaving member holds, and who takes it over."""

    case = models.ForeignKey(HandoverCase, on_delete=models.CASCADE, related_name="items")
    # The provider's key (``governance.providers``), e.g. "publishing.posts".
    kind = models.CharField(_("kind"), max_length=64)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(max_length=64)
    label = models.CharField(_("item"), max_length=300)
    link = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    # A secret the person knew: whoever takes it over should change it.
    needs_rotation = models.BooleanField(_("rotate"), default=False)
    new_holder = models.ForeignKey(
        "governance.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("new holder"),
    )
    reassigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reassigned_at = models.DateTimeField(_("reassigned at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("handover item")
        verbose_name_plural = _("handover items")
        ordering = ["case", "kind", "label", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "object_id"], name="uniq_handover_item_object"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def is_assigned(self) -> bool:
        return self.new_holder_id is not None
