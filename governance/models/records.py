"""Records management: how long each kind of record is kept, legal holds that stop
disposal, the log of what disposal removed, and records-request exports.

Record types are defined by providers (``governance.providers``): published
posts (publishing), inbox items (inbox), audit entries and vault access
(governance). The rules live in ``governance.services.records``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionAction(models.TextChoices):
    DELETE = "delete", _("Delete")
    ANONYMIZE = "anonymize", _("Anonymize")
    # Audit entries are never removed from the hash chain: past their retention
    # they are listed for archiving (export), nothing more.
    ARCHIVE = "archive", _("Keep (archive only)")


class RetentionRule(models.Model):
    """Keep records of one type for ``keep_for_days``, then delete or anonymize them."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="retention_rules"
    )
    record_type = models.CharField(_("record type"), max_length=64)
    keep_for_days = models.PositiveIntegerField(_("keep for (days)"))
    action = models.CharField(
        _("then"), max_length=20, choices=RetentionAction.choices, default=RetentionAction.DELETE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")
        ordering = ["organization", "record_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "record_type"], name="uniq_retention_rule_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.keep_for_days} days, then {self.action}"


class LegalHold(models.Model):
    """Records that must not be disposed of (litigation, an investigation, an open
    records request), whatever their retention rule says.

    Scope: the record types named, limited to ``account_ids`` (channel accounts;
    empty: all) and to records dated ``start_date``..``end_date`` inclusive (either
    may be open).
    """

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="legal_holds"
    )
    name = models.CharField(_("name"), max_length=200)
    reason = models.TextField(_("reason"))
    record_types = models.JSONField(_("record types"), default=list)
    account_ids = models.JSONField(_("channel accounts"), default=list, blank=True)
    start_date = models.DateField(_("records from"), null=True, blank=True)
    end_date = models.DateField(_("records until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_reason = models.TextField(_("reason for release"), blank=True)

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-is_active", "-placed_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DisposalLog(models.Model):
    """What one disposal run did to one record type of one organization."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="disposal_logs"
    )
    rule = models.ForeignKey(
        RetentionRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )
    record_type = models.CharField(_("record type"), max_length=64)
    action = models.CharField(_("action"), max_length=20, choices=RetentionAction.choices)
    older_than = models.DateTimeField(_("records older than"))
    removed_count = models.PositiveIntegerField(_("removed"), default=0)
    held_count = models.PositiveIntegerField(_("kept under a legal hold"), default=0)
    # The removed records' ids, so what went is on record.
    record_ids = models.JSONField(default=list, blank=True)
    hold_ids = models.JSONField(default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    ran_at = models.DateTimeField(_("ran at"), default=timezone.now)

    class Meta:
        verbose_name = _("disposal log entry")
        verbose_name_plural = _("disposal log")
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.removed_count} {self.action} at {self.ran_at}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    BUILDING = "building", _("Building")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


def records_export_upload_to(instance: RecordsExport, filename: str) -> str:
    # A random folder: the file is only ever served through the download view,
    # which checks access, but its name should give nothing away either.
    return f"records-exports/{instance.organization_id}/{uuid.uuid4().hex}/{filename}"


class RecordsExport(models.Model):
    """A records-request export (a freedom-of-information request, say): the chosen
    record types, accounts and dates as a zip of JSON, CSV and media with a manifest."""

    organization = models.ForeignKey(
        "governance.Organization", on_delete=models.CASCADE, related_name="records_exports"
    )
    reference = models.CharField(_("request reference"), max_length=200, blank=True)
    record_types = models.JSONField(_("record types"), default=list)
    account_ids = models.JSONField(_("channel accounts"), default=list, blank=True)
    start_date = models.DateField(_("from"), null=True, blank=True)
    end_date = models.DateField(_("until"), null=True, blank=True)
    # A records search whose matches are the export (empty: every record of the types).
    search = models.JSONField(_("search"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        _("status"), max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=records_export_upload_to, max_length=255, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("records export")
        verbose_name_plural = _("records exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.reference or f"Export {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.READY, ExportStatus.FAILED)
