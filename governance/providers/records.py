"""Record types governance keeps itself (see ``governance.providers``): audit entries,
and vault access (the reveals of vault secrets, and refused attempts, which the
vault records in the audit log). Registered in ``GovernanceConfig.ready()``.

Both live in the audit log, a hash chain where each entry holds the hash of the
one before: deleting or changing one would break the chain, and
``manage.py audit_verify`` would report it as tampering. So their only disposal
action is "archive": past their retention they stay, and an export archives
them; the disposal job removes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy, ngettext

from governance.audit_labels import audit_action_label
from governance.models import AuditEvent, Organization
from governance.providers import ACTION_ARCHIVE, DisposalResult, HoldScope, Record

VAULT_ACCESS_ACTIONS = ("vault.secret_revealed", "vault.reveal_refused")


def _record(event: AuditEvent) -> Record:
    return Record(
        id=str(event.pk),
        occurred_at=event.created_at,
        data={
            "id": event.pk,
            "created_at": event.created_at.isoformat(),
            "actor": event.actor_label,
            "action": event.action,
            "action_label": audit_action_label(event.action),
            "target_type": event.target_type,
            "target_id": event.target_id,
            "target_label": event.target_label,
            "old_values": event.old_values,
            "new_values": event.new_values,
            "ip_address": event.ip_address or "",
            "user_agent": event.user_agent,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        },
    )


class _AuditLogRecords:
    actions = frozenset({ACTION_ARCHIVE})

    def _events(self, organization: Organization) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.filter(organization=organization)

    def _scoped(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> QuerySet[AuditEvent]:
        events = self._events(organization)
        if accounts:
            # Entries are not tied to a channel account; asked about some accounts,
            # an export gives the entries about those accounts.
            events = events.filter(
                target_type="accounts.channelaccount",
                target_id__in=[str(pk) for pk in accounts],
            )
        if start is not None:
            events = events.filter(created_at__gte=start)
        if end is not None:
            events = events.filter(created_at__lt=end)
        return events

    def count_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> int:
        return self._scoped(organization, accounts, start, end).count()

    def iter_records(
        self,
        organization: Organization,
        accounts: Sequence[int],
        start: datetime | None,
        end: datetime | None,
    ) -> Iterator[Record]:
        events = self._scoped(organization, accounts, start, end).order_by("id")
        for event in events.iterator(chunk_size=2000):
            yield _record(event)

    def dispose(
        self,
        organization: Organization,
        older_than: datetime,
        held: Sequence[HoldScope],
        *,
        action: str,
        dry_run: bool,
    ) -> DisposalResult:
        past = self._events(organization).filter(created_at__lt=older_than).count()
        return DisposalResult(
            removed=0,
            note=ngettext(
                "%(count)d entry is past its retention period and was kept: the audit "
                "log is a hash chain and is never cut. Export it to archive it.",
                "%(count)d entries are past their retention period and were kept: the audit "
                "log is a hash chain and is never cut. Export them to archive them.",
                past,
            )
            % {"count": past},
        )


class AuditEntriesRecords(_AuditLogRecords):
    """Every entry of the organization's audit log."""

    key = "audit_entries"
    label = gettext_lazy("Audit entries")


class VaultAccessRecords(_AuditLogRecords):
    """Who revealed which vault secret, when and why (and refused attempts)."""

    key = "vault_access"
    label = gettext_lazy("Vault access")

    def _events(self, organization: Organization) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.filter(organization=organization, action__in=VAULT_ACCESS_ACTIONS)
