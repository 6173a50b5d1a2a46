"""Writing to the audit log. Every state change in the app goes through ``audit_record``.

Each organization has its own chain of entries (and one "system" chain for entries
of no organization), linked by HMAC-SHA256 under the newest key in
``settings.AUDIT_HMAC_KEYS``. The database holds only the keys' ids, so someone who
can write to the table cannot change an entry and recompute the later links. Beat
writes signed checkpoints of each chain's head to files outside the database
(``audit_checkpoints_write``), so even a key holder cannot rewrite history before
the last checkpoint unnoticed. ``audit_verify_chain`` checks all of it.

Lock order (everywhere, to rule out deadlocks between concurrent writers):

1. the organization's row, only when a write changes the organization itself, and
   only ``FOR NO KEY UPDATE`` (``select_for_update(no_key=True)``);
2. the rows the write changes (a post, a job, an inbox item, an account …), locked
   with ``of=("self",)`` so that no joined row (the organization, a user) is locked
   along with them, and preferably ``no_key=True``;
3. last, the organization's audit chain head, inside ``audit_record``, held until
   the transaction commits.

Why: inserting an entry takes PostgreSQL's ``FOR KEY SHARE`` lock on the rows its
foreign keys name (the organization, the actor). A transaction holding a plain
``FOR UPDATE`` on one of those rows while it waits for the chain head, against one
holding the head while its entry's insert waits for that row, is a deadlock. Row
locks of kind 1 and 2 never conflict with ``FOR KEY SHARE``, and the head comes last.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mail
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from governance.models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    Membership,
    Organization,
    Role,
    User,
    chain_key,
)

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64

# PostgreSQL's deadlock_detected, serialization_failure and lock_not_available: the
# database rolled the whole transaction back, so running it again is safe.
LOCK_CONFLICT_CODES = frozenset({"40P01", "40001", "55P03"})

T = TypeVar("T")

# Where the changes of the running request come from when it is not a person in the
# app ("scim": the organization's identity provider). See ``audit_source``.
_AUDIT_SOURCE: ContextVar[str] = ContextVar("govsocial_audit_source", default="")


@contextmanager
def audit_source(source: str) -> Iterator[None]:
    """Mark every audit entry written inside the block as coming from ``source``.

    The shared services (deactivation, role changes, handover) write their own
    entries; a door other than the app (SCIM) wraps its calls in this so each of
    those entries says where the change came from: ``source`` lands in the entry's
    new values, and stands as the actor when no person acted.
    """
    token = _AUDIT_SOURCE.set(source)
    try:
        yield
    finally:
        _AUDIT_SOURCE.reset(token)


def retry_on_lock_conflict(work: Callable[[], T], *, attempts: int = 3) -> T:
    """Run ``work`` (a transaction of its own) again when the database aborted it for
    a lock conflict. For what must be recorded after a network already acted (a reply
    it accepted, a post it published): a conflict there must not lose the record.
    Inside an outer transaction nothing can be retried, so the error goes up."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            code = getattr(exc.__cause__, "pgcode", None)
            if code not in LOCK_CONFLICT_CODES or attempt == attempts:
                raise
            if connection.in_atomic_block:
                raise
            logger.warning("Lock conflict (%s), running the transaction again", code)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class AuditKey:
    key_id: str
    secret: bytes


def audit_key_id(secret: str) -> str:
    """A key's public fingerprint, stored with each entry it signs."""
    return hashlib.sha256(b"govsocial-audit-key-id:" + secret.encode()).hexdigest()[:12]


def audit_keys() -> list[AuditKey]:
    """The configured audit keys, newest first (read on each call, never at import)."""
    secrets = [str(key).strip() for key in getattr(settings, "AUDIT_HMAC_KEYS", []) if key]
    secrets = [key for key in secrets if key]
    if not secrets:
        raise ImproperlyConfigured("AUDIT_HMAC_KEYS is empty: audit entries cannot be signed.")
    return [AuditKey(key_id=audit_key_id(key), secret=key.encode()) for key in secrets]


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # Behind the documented reverse proxy, the last hop it appends is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    candidate = forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return candidate or None


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any]:
    return dict(json.loads(json.dumps(values or {}, default=str)))


def _lock_head(chain: str) -> AuditChainHead:
    """The chain's head row, locked; made on the chain's first entry."""
    # A plain get (no ORDER BY to compile): this runs for every entry the app writes.
    try:
        return AuditChainHead.objects.select_for_update().get(chain=chain)
    except AuditChainHead.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(chain=chain)
    except IntegrityError:
        pass  # another writer made it first: lock theirs
    return AuditChainHead.objects.select_for_update().get(chain=chain)


def audit_entry(
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
    """An entry as ``audit_record`` would write it, not yet chained nor saved: give a
    list of them to ``audit_append`` (so several entries of one transaction take the
    chain's lock once)."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_label = target_label or str(target)[:300]
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    # A change made by the identity provider (SCIM, SSO) says so in every entry it writes.
    source = _AUDIT_SOURCE.get()
    if source:
        new = {**(new or {}), "source": source}
    label = actor_label or (actor.email if actor is not None else source or "system")
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    return AuditEvent(
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
    )


def audit_append(entries: Sequence[AuditEvent]) -> list[AuditEvent]:
    """Chain and save ``entries`` (from ``audit_entry``), in order, each linked to the
    one before in its organization's chain.

    Holds each chain head's row lock until the outer transaction commits, so two
    concurrent writers can never both chain onto the same entry: take it last (see
    the lock order above). Everything but the linking is done before the lock, and
    each chain takes it once with one INSERT for all its entries, so the lock (the
    one point where an organization's writers queue) is held for three statements
    and the commit.
    """
    if not entries:
        return []
    key = audit_keys()[0]
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in entries:
        by_chain.setdefault(chain_key(event.organization_id), []).append(event)
    # No savepoint: a failed append fails the whole transaction, as it must.
    with transaction.atomic(savepoint=False):
        # Several chains (rare): always locked in the same order.
        for chain in sorted(by_chain):
            events = by_chain[chain]
            head = _lock_head(chain)
            now = timezone.now()
            last_hash, last_seq = head.last_hash, head.last_seq
            for event in events:
                event.created_at = now
                event.seq = last_seq + 1
                event.key_id = key.key_id
                event.prev_hash = last_hash
                event.hash = event.compute_hash(key.secret)
                last_hash, last_seq = event.hash, event.seq
            AuditEvent.objects.bulk_create(events)
            AuditChainHead.objects.filter(pk=head.pk).update(
                last_hash=last_hash, last_event_id=events[-1].pk, last_seq=last_seq
            )
    return list(entries)


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
    """Append one entry to its organization's audit chain, linked to the previous one
    (``audit_append`` of one ``audit_entry``: take it last in the transaction)."""
    entry = audit_entry(
        action=action,
        organization=organization,
        actor=actor,
        target=target,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        old=old,
        new=new,
        request=request,
        actor_label=actor_label,
    )
    return audit_append([entry])[0]


# --- Checkpoints: the chain heads, signed, outside the database -----------------------


def _organization_id_of(chain: str) -> int | None:
    return int(chain.removeprefix("org-")) if chain.startswith("org-") else None


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def checkpoint_file(chain: str) -> Path:
    return checkpoint_dir() / f"{chain}.jsonl"


def _auditor_addresses(organization_id: int) -> list[tuple[str, str]]:
    """(address, language) of the organization's active auditors."""
    auditors = Membership.objects.filter(
        organization_id=organization_id, role=Role.AUDITOR, is_active=True, user__is_active=True
    ).select_related("user")
    return [(m.user.email, m.user.preferred_language or "") for m in auditors if m.user.email]


def _email_checkpoint(checkpoint: AuditCheckpoint, line: str) -> list[str]:
    if not settings.AUDIT_CHECKPOINT_EMAIL_AUDITORS or checkpoint.organization_id is None:
        return []
    organization = Organization.objects.get(pk=checkpoint.organization_id)
    sent: list[str] = []
    for address, language in _auditor_addresses(checkpoint.organization_id):
        with translation.override(language or None):
            subject = _("Audit log checkpoint for %(organization)s") % {
                "organization": organization.name
            }
            body = ngettext(
                "The audit log of %(organization)s had %(count)d entry at %(when)s. "
                "Keep this message: it lets anyone check later that no entry up to here "
                "was changed or removed (manage.py audit_verify compares it).\n\n%(line)s\n",
                "The audit log of %(organization)s had %(count)d entries at %(when)s. "
                "Keep this message: it lets anyone check later that no entry up to here "
                "was changed or removed (manage.py audit_verify compares it).\n\n%(line)s\n",
                checkpoint.seq,
            ) % {
                "organization": organization.name,
                "count": checkpoint.seq,
                "when": checkpoint.created_at.isoformat(),
                "line": line,
            }
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except OSError:
            logger.exception("Audit checkpoint %s: e-mail to an auditor failed", checkpoint.chain)
            continue
        sent.append(address)
    return sent


def audit_checkpoints_write() -> list[AuditCheckpoint]:
    """Write a signed checkpoint of every chain whose head moved since its last one.

    Appended to ``<AUDIT_CHECKPOINT_DIR>/<chain>.jsonl`` (flushed to disk before the
    database copy is saved), e-mailed to the organization's auditors where
    configured, and recorded in the database for the audit page.
    """
    key = audit_keys()[0]
    written: list[AuditCheckpoint] = []
    directory = checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    latest = {
        row["chain"]: row["last"]
        for row in AuditCheckpoint.objects.values("chain").annotate(last=models.Max("seq"))
    }
    for head in AuditChainHead.objects.filter(last_seq__gt=0).order_by("chain"):
        if latest.get(head.chain, 0) >= head.last_seq:
            continue
        checkpoint = AuditCheckpoint(
            chain=head.chain,
            organization_id=_organization_id_of(head.chain),
            seq=head.last_seq,
            event_id=head.last_event_id,
            hash=head.last_hash,
            key_id=key.key_id,
            created_at=timezone.now(),
        )
        payload = checkpoint.payload()
        checkpoint.signature = _sign(key.secret, payload)
        line = json.dumps({**json.loads(payload), "signature": checkpoint.signature})
        path = checkpoint_file(head.chain)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        checkpoint.file_name = path.name
        checkpoint.emailed_to = _email_checkpoint(checkpoint, line)
        checkpoint.save(force_insert=True)
        written.append(checkpoint)
    return written


def latest_checkpoint(organization: Organization) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(chain=chain_key(organization.pk)).order_by("-seq").first()


# --- Verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str
    chain: str = ""
    chains: int = 0
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass(frozen=True)
class _Checkpoint:
    line: int
    seq: int
    event_id: int | None
    hash: str
    created_at: str


class _CheckpointProblem(Exception):
    pass


def _read_checkpoints(chain: str, keys: dict[str, bytes]) -> list[_Checkpoint]:
    """The chain's checkpoints from its file, each signature checked."""
    path = checkpoint_file(chain)
    if not path.exists():
        recorded = AuditCheckpoint.objects.filter(chain=chain).count()
        if recorded:
            raise _CheckpointProblem(
                f"its checkpoint file {path} is missing, though the database records "
                f"{recorded} checkpoints written to it"
            )
        return []
    found: list[_Checkpoint] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            signature = str(record.pop("signature"))
            key = keys.get(str(record.get("key_id")))
            payload = json.dumps(record, sort_keys=True, separators=(",", ":"))
            valid = key is not None and hmac.compare_digest(_sign(key, payload), signature)
            if record.get("chain") != chain:
                valid = False
            checkpoint = _Checkpoint(
                line=number,
                seq=int(record["seq"]),
                event_id=record.get("event_id"),
                hash=str(record["hash"]),
                created_at=str(record["created_at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _CheckpointProblem(f"line {number} of {path} cannot be read") from exc
        if not valid:
            raise _CheckpointProblem(
                f"line {number} of {path} is not signed by any key in AUDIT_HMAC_KEYS"
            )
        found.append(checkpoint)
    return sorted(found, key=lambda c: c.seq)


def _verify_chain(chain: str, keys: dict[str, bytes]) -> ChainReport:
    organization_id = _organization_id_of(chain)
    events = (
        AuditEvent.objects.filter(organization_id=organization_id)
        if organization_id is not None
        else AuditEvent.objects.filter(organization__isnull=True)
    )
    try:
        checkpoints = _read_checkpoints(chain, keys)
    except _CheckpointProblem as exc:
        return ChainReport(0, None, str(exc), chain)
    wanted = {c.seq for c in checkpoints}
    at_checkpoint: dict[int, tuple[int, str]] = {}
    expected_prev, expected_seq = GENESIS_HASH, 1
    checked = 0
    last_id: int | None = None

    def broken(event_id: int | None, reason: str) -> ChainReport:
        return ChainReport(checked, event_id, reason, chain)

    for event in events.order_by("seq", "id").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                return broken(
                    event.pk,
                    f"it is entry {event.seq} of the chain but entry {expected_seq} is missing "
                    "(an entry before it was removed)",
                )
            return broken(event.pk, f"it repeats position {event.seq} of the chain")
        if event.prev_hash != expected_prev:
            reason = (
                "the first entry does not start from the genesis hash"
                if last_id is None
                else f"its previous-hash link does not match entry #{last_id} "
                "(an entry between them was removed, or that entry was altered)"
            )
            return broken(event.pk, reason)
        key = keys.get(event.key_id)
        if key is None:
            return broken(
                event.pk,
                f"it was signed with audit key {event.key_id or '(none)'}, "
                "which is not in AUDIT_HMAC_KEYS",
            )
        if not hmac.compare_digest(event.compute_hash(key), event.hash):
            return broken(
                event.pk,
                "its content does not match its HMAC (it was altered, or re-hashed "
                "without the audit key)",
            )
        if event.seq in wanted:
            at_checkpoint[event.seq] = (event.pk, event.hash)
        expected_prev, expected_seq = event.hash, expected_seq + 1
        last_id = event.pk
        checked += 1
    head_report = _check_head(chain, events, checked, last_id, expected_prev, expected_seq - 1)
    if head_report is not None:
        return head_report
    last_matching_seq = 0
    for checkpoint in checkpoints:
        found = at_checkpoint.get(checkpoint.seq)
        if found is None:
            return broken(
                checkpoint.event_id,
                f"the checkpoint of {checkpoint.created_at} recorded {checkpoint.seq} entries, "
                f"but the chain now ends at entry {expected_seq - 1} (entries were cut from "
                "the end)",
            )
        if found[1] != checkpoint.hash:
            first = events.filter(seq=last_matching_seq + 1).values_list("pk", flat=True).first()
            return broken(
                first,
                f"entry {checkpoint.seq} of the chain no longer matches the signed checkpoint "
                f"of {checkpoint.created_at}: history up to it was rewritten, from this entry "
                f"(the first after the last matching checkpoint) on",
            )
        last_matching_seq = checkpoint.seq
    return ChainReport(checked, None, "", chain, checkpoints=len(checkpoints))


def _check_head(
    chain: str,
    events: models.QuerySet[AuditEvent],
    checked: int,
    last_id: int | None,
    last_hash: str,
    last_seq: int,
) -> ChainReport | None:
    # Read the head after the walk: anything it knows of beyond our last entry
    # was committed while we walked, and is checked by the next run.
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is None:
        if checked:
            return ChainReport(checked, last_id, "the chain head record is missing", chain)
        return None
    if head.last_hash == last_hash and head.last_seq == last_seq:
        return None
    if head.last_seq > last_seq:
        if head.last_event_id is not None and events.filter(pk=head.last_event_id).exists():
            return None
        return ChainReport(
            checked, head.last_event_id, "the newest entries are missing (cut from the end)", chain
        )
    intruder = events.filter(seq__gt=head.last_seq).order_by("seq", "id").first()
    head_entry_exists = (
        head.last_event_id is not None
        and events.filter(pk=head.last_event_id, hash=head.last_hash).exists()
    )
    if intruder is not None and head_entry_exists:
        return ChainReport(
            checked,
            intruder.pk,
            "it was appended outside the audit log (the chain head does not know it)",
            chain,
        )
    return ChainReport(
        checked,
        head.last_event_id or last_id or 0,
        "the chain head does not match the newest entry",
        chain,
    )


def _chains() -> list[str]:
    chains = set(AuditChainHead.objects.values_list("chain", flat=True))
    for organization_id in AuditEvent.objects.values_list("organization_id", flat=True).distinct():
        chains.add(chain_key(organization_id))
    chains.update(AuditCheckpoint.objects.values_list("chain", flat=True).distinct())
    if checkpoint_dir().is_dir():
        chains.update(path.stem for path in checkpoint_dir().glob("*.jsonl"))
    return sorted(chains)


def audit_verify_chain(*, chains: Iterable[str] | None = None) -> ChainReport:
    """Walk every chain (or those named) in order; name the first entry that does not hold.

    Catches an entry edited in place or re-hashed without the audit key (its HMAC no
    longer matches), one removed (a gap in the positions, or a broken link), entries
    cut from the end or slipped in after it (the chain head disagrees), and, against
    the signed checkpoint files, history rewritten even by someone holding the key.
    The walk takes no lock, so entries written while it runs are not mistaken for
    forgeries.
    """
    keys = {key.key_id: key.secret for key in audit_keys()}
    total = checkpoints = 0
    names = list(chains) if chains is not None else _chains()
    for chain in names:
        report = _verify_chain(chain, keys)
        if not report.ok:
            return ChainReport(
                total + report.checked,
                report.first_broken_id,
                report.reason,
                chain,
                chains=len(names),
                checkpoints=checkpoints,
            )
        total += report.checked
        checkpoints += report.checkpoints
    return ChainReport(total, None, "", "", chains=len(names), checkpoints=checkpoints)
