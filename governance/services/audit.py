"""Writing to the audit log. Every state change in the app goes through ``audit_record``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from governance.models import AuditChainHead, AuditEvent, Organization, User

GENESIS_HASH = "0" * 64


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind the documented reverse proxy, the last hop it appends is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    candidate = forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return candidate or None


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any]:
    return dict(json.loads(json.dumps(values or {}, default=str)))


def audit_record(
    *,
    action: str,
    organization: Organization | None = None,
    actor: User | None = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_label: str = "",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one entry to the audit log, chained to the previous one.

    Runs in its own atomic block holding the chain head's row lock, so two
    concurrent writers can never both chain onto the same previous hash.
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)[:300]
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    label = actor_label or (actor.email if actor is not None else "system")
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            organization=organization,
            actor=actor,
            actor_label=label,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label[:300],
            old_values=_jsonable(old),
            new_values=_jsonable(new),
            ip_address=client_ip(request),
            user_agent=user_agent,
            created_at=timezone.now(),
            prev_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=head.pk).update(
            last_hash=event.hash, last_event_id=event.pk
        )
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def audit_verify_chain() -> ChainReport:
    """Walk the whole chain in order; name the first entry whose hash or link is wrong.

    Catches an entry edited in place (its content no longer matches its hash),
    one removed or re-hashed (the next entry's link breaks), and entries cut
    from the end or slipped in after it (the chain head, written in the same
    transaction as every entry, no longer agrees with the last entry). The walk
    takes no lock, so entries written while it runs are not mistaken for forgeries.
    """
    expected_prev = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            reason = (
                "the first entry does not start from the genesis hash"
                if last_id is None
                else f"its previous-hash link does not match entry #{last_id} "
                "(an entry between them was removed, or that entry was altered)"
            )
            return ChainReport(checked, event.pk, reason)
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event.pk, "its content does not match its hash")
        expected_prev = event.hash
        last_id = event.pk
        checked += 1
    # Read the head after the walk: anything it knows of beyond our last entry
    # was committed while we walked, and is checked by the next run.
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None:
        if checked:
            return ChainReport(checked, last_id, "the chain head record is missing")
        return ChainReport(0, None, "")
    if head.last_hash == expected_prev:
        return ChainReport(checked, None, "")
    if head.last_event_id is not None and (last_id is None or head.last_event_id > last_id):
        if AuditEvent.objects.filter(pk=head.last_event_id).exists():
            return ChainReport(checked, None, "")
        return ChainReport(
            checked, head.last_event_id, "the newest entries are missing (cut from the end)"
        )
    if (
        head.last_event_id is not None
        and AuditEvent.objects.filter(pk=head.last_event_id, hash=head.last_hash).exists()
    ):
        # The head points inside the chain: what follows was not written through audit_record.
        intruder = AuditEvent.objects.filter(pk__gt=head.last_event_id).order_by("id").first()
        return ChainReport(
            checked,
            intruder.pk if intruder is not None else head.last_event_id,
            "it was appended outside the audit log (the chain head does not know it)",
        )
    return ChainReport(
        checked,
        head.last_event_id or last_id or 0,
        "the chain head does not match the newest entry",
    )
