from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")


class AuditCheckpointQuerySet(models.QuerySet["AuditCheckpoint"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit checkpoints are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit checkpoints are append-only")


def chain_key(organization_id: int | None) -> str:
    """The name of the chain an entry belongs to: one per organization, and one for
    entries of no organization (a failed login with an unknown address, say)."""
    return f"org-{organization_id}" if organization_id is not None else "system"


class AuditEvent(models.Model):
    """One accountable act. Append-only; each entry holds the HMAC of the one before.

    Each organization has its own chain (``seq`` counts its entries from 1), linked
    by HMAC-SHA256 under a key from ``settings.AUDIT_HMAC_KEYS`` that the database
    does not hold, so changing an entry and recomputing the later links needs that
    key. Written only through ``governance.services.audit.audit_record``, which
    takes the chain head's row lock so concurrent writers form one unbroken chain.
    On PostgreSQL a trigger refuses UPDATE and DELETE on this table.
    """

    organization = models.ForeignKey(
        "governance.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The actor's e-mail (or "system") as it was, kept even if the user changes later.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    old_values = models.JSONField(default=dict, blank=True)
    new_values = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Position in its organization's chain (1, 2, 3 …); 0 only for entries written
    # before chains were per organization and signed (none remain after migration).
    seq = models.PositiveBigIntegerField(default=0)
    # Which of AUDIT_HMAC_KEYS signed this entry (a fingerprint, never the key).
    key_id = models.CharField(max_length=16, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            models.Index(fields=["organization", "action"]),
            models.Index(fields=["organization", "seq"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit entries are append-only")

    def canonical_payload(self) -> str:
        """The entry's content as hashed: stable key order, ISO times, text ids."""
        return json.dumps(
            {
                "organization": self.organization_id,
                "actor": self.actor_id,
                "actor_label": self.actor_label,
                "action": self.action,
                "target_type": self.target_type,
                "target_id": self.target_id,
                "target_label": self.target_label,
                "old_values": self.old_values,
                "new_values": self.new_values,
                "ip_address": self.ip_address,
                "user_agent": self.user_agent,
                "created_at": self.created_at.isoformat(),
                "prev_hash": self.prev_hash,
                "seq": self.seq,
                "key_id": self.key_id,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def compute_hash(self, key: bytes) -> str:
        """The entry's link: HMAC-SHA256 of its content (with the previous link) under ``key``."""
        return hmac.new(key, self.canonical_payload().encode(), hashlib.sha256).hexdigest()


class AuditChainHead(models.Model):
    """The newest entry of one chain (one per organization, and "system"); its row
    lock is what an appender holds, so it is always the LAST lock a transaction takes
    (see governance.services.audit for the lock order)."""

    chain = models.CharField(max_length=32, unique=True)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    last_event_id = models.BigIntegerField(null=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.chain}@{self.last_seq}"


class AuditCheckpoint(models.Model):
    """A signed record of a chain's head at a moment, written to a file outside the
    database (and e-mailed to the organization's auditors where configured).

    This row is the app's copy, for the audit page; ``audit_verify`` trusts only the
    file. Append-only like the entries (a PostgreSQL trigger refuses UPDATE and DELETE).
    """

    chain = models.CharField(max_length=32, db_index=True)
    organization = models.ForeignKey(
        "governance.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_checkpoints",
    )
    seq = models.PositiveBigIntegerField()
    event_id = models.BigIntegerField(null=True)
    hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    file_name = models.CharField(max_length=300, blank=True)
    emailed_to = models.JSONField(default=list, blank=True)

    objects = AuditCheckpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.chain}@{self.seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("Audit checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit checkpoints are append-only")

    def payload(self) -> str:
        """What the signature covers, as written to the checkpoint file."""
        return json.dumps(
            {
                "chain": self.chain,
                "organization": self.organization_id,
                "seq": self.seq,
                "event_id": self.event_id,
                "hash": self.hash,
                "key_id": self.key_id,
                "created_at": self.created_at.isoformat(),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
