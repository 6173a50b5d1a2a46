"""Records management: retention rules, legal holds, the disposal job and
records-request exports.

Record types come from the ``RECORDS`` providers of ``governance.providers``
(published posts from publishing, inbox items from inbox, audit entries and
vault access from governance itself). Every function is keyword-only; writes
run in one transaction and write an audit entry. Broken rules raise
``ValidationError`` with a message for the person and a ``code``.

Audit entries are never deleted: the log is a hash chain, and removing an entry
would break it (``audit_verify_chain`` would report tampering). Their record
type supports only the "archive" action: past their retention they are left
in place and can be exported for archiving.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import tempfile
import zipfile
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import (
    DisposalLog,
    ExportStatus,
    LegalHold,
    Organization,
    RecordsExport,
    RetentionAction,
    RetentionRule,
    User,
)
from governance.providers import (
    HoldScope,
    Record,
    RecordsProvider,
    records_provider,
    records_providers,
)
from governance.selectors.members import organization_channel_accounts
from governance.services.audit import audit_record
from governance.spreadsheet import formula_safe

logger = logging.getLogger(__name__)

# Longest retention a rule may set: a century covers any records law.
MAX_KEEP_FOR_DAYS = 36_500
# A build whose worker died is taken up again after this long (beyond the task's limit).
EXPORT_STALE_AFTER = timedelta(minutes=35)
EXPORT_FORMAT = "govsocial.records-export"
EXPORT_FORMAT_VERSION = 1
COPY_CHUNK = 1024 * 1024
# Spreadsheet programs run a cell starting with these as a formula.


# ---------------------------------------------------------------------------
# Record types and dates


def record_type_choices() -> list[tuple[str, str]]:
    """Every record type a provider offers, as (key, label)."""
    return [(provider.key, str(provider.label)) for provider in records_providers()]


def _provider(key: str) -> RecordsProvider:
    provider = records_provider(key)
    if provider is None:
        raise ValidationError(
            _("“%(type)s” is not a record type of this app.") % {"type": key},
            code="invalid_record_type",
        )
    return provider


def _check_record_types(record_types: Collection[str]) -> list[str]:
    wanted = sorted(set(record_types))
    if not wanted:
        raise ValidationError(_("Choose at least one record type."), code="no_record_types")
    for key in wanted:
        _provider(key)
    return wanted


def _check_accounts(organization: Organization, account_ids: Collection[int] | None) -> list[int]:
    wanted = sorted({int(pk) for pk in account_ids or ()})
    if not wanted:
        return []
    found = set(
        organization_channel_accounts(organization)
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )
    if found != set(wanted):
        raise ValidationError(
            _("Choose channel accounts of this organization."), code="invalid_accounts"
        )
    return wanted


def _check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationError(
            _("The start date must not be after the end date."), code="invalid_dates"
        )


def day_bounds(
    organization: Organization, start: date | None, end: date | None
) -> tuple[datetime | None, datetime | None]:
    """Whole days in the organization's time zone as ``[start, end)`` aware datetimes."""
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    lower = datetime.combine(start, time.min, tzinfo=zone) if start is not None else None
    upper = (
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
        if end is not None
        else None
    )
    return lower, upper


def _account_labels(organization: Organization, ids: Collection[int]) -> list[dict[str, Any]]:
    return [
        {"id": account.pk, "handle": account.handle, "network": account.network}
        for account in organization_channel_accounts(organization).filter(pk__in=list(ids))
    ]


# ---------------------------------------------------------------------------
# Retention rules


def _rule_values(rule: RetentionRule) -> dict[str, Any]:
    return {
        "record_type": rule.record_type,
        "keep_for_days": rule.keep_for_days,
        "action": rule.action,
    }


@transaction.atomic
def retention_rule_save(
    *,
    organization: Organization,
    actor: User,
    record_type: str,
    keep_for_days: int,
    action: str,
    request: HttpRequest | None = None,
) -> RetentionRule:
    """Set how long records of ``record_type`` are kept and what happens after.

    One rule per record type: saving again changes it. The action must be one the
    record type supports (audit entries: archive only).
    """
    provider = _provider(record_type)
    if not 1 <= int(keep_for_days) <= MAX_KEEP_FOR_DAYS:
        raise ValidationError(
            _("Keep records for between 1 and %(max)d days.") % {"max": MAX_KEEP_FOR_DAYS},
            code="invalid_days",
        )
    if action not in provider.actions:
        allowed = ", ".join(str(RetentionAction(value).label) for value in sorted(provider.actions))
        raise ValidationError(
            _("%(type)s can only be: %(actions)s.") % {"type": provider.label, "actions": allowed},
            code="invalid_action",
        )
    rule = (
        RetentionRule.objects.select_for_update()
        .filter(organization=organization, record_type=record_type)
        .first()
    )
    old: dict[str, Any] | None = None
    if rule is None:
        rule = RetentionRule.objects.create(
            organization=organization,
            record_type=record_type,
            keep_for_days=int(keep_for_days),
            action=action,
            created_by=actor,
        )
    else:
        old = _rule_values(rule)
        if old["keep_for_days"] == int(keep_for_days) and old["action"] == action:
            return rule
        rule.keep_for_days = int(keep_for_days)
        rule.action = action
        rule.updated_at = timezone.now()
        rule.save(update_fields=["keep_for_days", "action", "updated_at"])
    audit_record(
        action="records.retention_rule_saved",
        organization=organization,
        actor=actor,
        target=rule,
        old=old,
        new=_rule_values(rule),
        request=request,
    )
    return rule


@transaction.atomic
def retention_rule_delete(
    *, rule: RetentionRule, actor: User, request: HttpRequest | None = None
) -> None:
    """Stop disposing of the record type: its records are kept indefinitely."""
    old = _rule_values(rule)
    audit_record(
        action="records.retention_rule_deleted",
        organization=rule.organization,
        actor=actor,
        target=rule,
        old=old,
        request=request,
    )
    rule.delete()


# ---------------------------------------------------------------------------
# Legal holds


def _hold_values(hold: LegalHold) -> dict[str, Any]:
    return {
        "name": hold.name,
        "reason": hold.reason,
        "record_types": hold.record_types,
        "channel_accounts": _account_labels(hold.organization, hold.account_ids),
        "start_date": hold.start_date.isoformat() if hold.start_date else None,
        "end_date": hold.end_date.isoformat() if hold.end_date else None,
        "is_active": hold.is_active,
    }


@transaction.atomic
def legal_hold_place(
    *,
    organization: Organization,
    actor: User,
    name: str,
    reason: str,
    record_types: Collection[str],
    account_ids: Collection[int] | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    request: HttpRequest | None = None,
) -> LegalHold:
    """Stop disposal of the records in scope until the hold is released.

    Scope: the record types named, records of ``account_ids`` (empty: every
    account), dated ``start_date``..``end_date`` (inclusive; either may be open).
    """
    name = name.strip()
    reason = reason.strip()
    if not name:
        raise ValidationError(_("Give the hold a name."), code="name_required")
    if not reason:
        raise ValidationError(_("Say why the records must be kept."), code="reason_required")
    types = _check_record_types(record_types)
    accounts = _check_accounts(organization, account_ids)
    _check_dates(start_date, end_date)
    hold = LegalHold.objects.create(
        organization=organization,
        name=name[:200],
        reason=reason,
        record_types=types,
        account_ids=accounts,
        start_date=start_date,
        end_date=end_date,
        placed_by=actor,
    )
    audit_record(
        action="records.legal_hold_placed",
        organization=organization,
        actor=actor,
        target=hold,
        new=_hold_values(hold),
        request=request,
    )
    return hold


@transaction.atomic
def legal_hold_release(
    *, hold: LegalHold, actor: User, reason: str, request: HttpRequest | None = None
) -> LegalHold:
    """End the hold: its records are disposed of again when their retention says so."""
    hold = (
        LegalHold.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=hold.pk)
    )
    if not hold.is_active:
        raise ValidationError(_("This hold was already released."), code="hold_released")
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            _("Say why the records no longer need to be kept."), code="reason_required"
        )
    hold.is_active = False
    hold.released_by = actor
    hold.released_at = timezone.now()
    hold.release_reason = reason
    hold.save(update_fields=["is_active", "released_by", "released_at", "release_reason"])
    audit_record(
        action="records.legal_hold_released",
        organization=hold.organization,
        actor=actor,
        target=hold,
        old={"is_active": True},
        new={"is_active": False, "reason": reason},
        request=request,
    )
    return hold


def hold_scopes(organization: Organization, record_type: str) -> list[HoldScope]:
    """What the organization's active holds protect within ``record_type``."""
    scopes = []
    for hold in LegalHold.objects.filter(organization=organization, is_active=True).order_by("pk"):
        if record_type not in hold.record_types:
            continue
        start, end = day_bounds(organization, hold.start_date, hold.end_date)
        scopes.append(
            HoldScope(
                hold_id=hold.pk,
                account_ids=frozenset(int(pk) for pk in hold.account_ids),
                start=start,
                end=end,
            )
        )
    return scopes


# ---------------------------------------------------------------------------
# Disposal


@dataclass(frozen=True)
class DisposalOutcome:
    organization: Organization
    record_type: str
    action: str
    older_than: datetime
    removed: int
    held: int
    note: str = ""
    ids: list[str] = field(default_factory=list)


def _dispose_rule(rule: RetentionRule, now: datetime, dry_run: bool) -> DisposalOutcome:
    organization = rule.organization
    older_than = now - timedelta(days=rule.keep_for_days)
    provider = records_provider(rule.record_type)
    if provider is None or rule.action not in provider.actions:
        note = (
            _("No part of the app provides this record type now; nothing was disposed of.")
            if provider is None
            else _("This record type cannot be disposed of this way; nothing was done.")
        )
        return DisposalOutcome(organization, rule.record_type, rule.action, older_than, 0, 0, note)
    with transaction.atomic():
        # The rule's row lock makes a doubled tick (two beat processes) wait, then
        # find nothing left to do, instead of logging the same removal twice.
        RetentionRule.objects.select_for_update().filter(pk=rule.pk).first()
        scopes = hold_scopes(organization, rule.record_type)
        result = provider.dispose(
            organization, older_than, scopes, action=rule.action, dry_run=dry_run
        )
        if not dry_run and (result.removed or result.held):
            log = DisposalLog.objects.create(
                organization=organization,
                rule=rule,
                record_type=rule.record_type,
                action=rule.action,
                older_than=older_than,
                removed_count=result.removed,
                held_count=result.held,
                record_ids=result.ids,
                hold_ids=[scope.hold_id for scope in scopes],
                note=result.note,
                ran_at=now,
            )
            audit_record(
                action="records.disposed",
                organization=organization,
                target=log,
                new={
                    "record_type": rule.record_type,
                    "action": rule.action,
                    "older_than": older_than.isoformat(),
                    "removed": result.removed,
                    "kept_under_hold": result.held,
                    "legal_holds": [scope.hold_id for scope in scopes],
                    "ids": result.ids,
                },
            )
    return DisposalOutcome(
        organization,
        rule.record_type,
        rule.action,
        older_than,
        result.removed,
        result.held,
        result.note,
        result.ids,
    )


def records_dispose(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    organization: Organization | None = None,
) -> list[DisposalOutcome]:
    """Apply every retention rule (of one organization, or all): remove what is past
    its retention unless a legal hold covers it, and log what went.

    Each rule runs in its own transaction, so one record type failing does not undo
    another's disposal. ``dry_run`` changes and logs nothing and reports what
    would be done.
    """
    now = now or timezone.now()
    rules = RetentionRule.objects.select_related("organization").order_by(
        "organization_id", "record_type"
    )
    if organization is not None:
        rules = rules.filter(organization=organization)
    return [_dispose_rule(rule, now, dry_run) for rule in rules]


# ---------------------------------------------------------------------------
# Records-request exports


def _export_values(export: RecordsExport) -> dict[str, Any]:
    return {
        "reference": export.reference,
        "record_types": export.record_types,
        "channel_accounts": _account_labels(export.organization, export.account_ids),
        "start_date": export.start_date.isoformat() if export.start_date else None,
        "end_date": export.end_date.isoformat() if export.end_date else None,
        **({"search": export.search} if export.search else {}),
    }


def _send_build_task(export_id: int) -> None:
    # Imported here: the task module imports this one.
    from governance.tasks.records import QUEUE, build_records_export

    build_records_export.apply_async(args=[export_id], queue=QUEUE)


@transaction.atomic
def records_export_request(
    *,
    organization: Organization,
    actor: User,
    record_types: Collection[str],
    account_ids: Collection[int] | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    reference: str = "",
    request: HttpRequest | None = None,
    enqueue: Callable[[int], None] | None = None,
    search: dict[str, Any] | None = None,
) -> RecordsExport:
    """Ask for a records-request export; a worker builds it (queue ``default``).

    The build is enqueued once the transaction commits, so the worker always finds
    the row. ``enqueue`` replaces sending the Celery task (tests, commands).
    """
    types = _check_record_types(record_types)
    accounts = _check_accounts(organization, account_ids)
    _check_dates(start_date, end_date)
    if search and any(not hasattr(_provider(key), "iter_search") for key in types):
        raise ValidationError(
            _("These records cannot be exported from a search."), code="invalid_record_type"
        )
    export = RecordsExport.objects.create(
        organization=organization,
        reference=reference.strip()[:200],
        record_types=types,
        account_ids=accounts,
        start_date=start_date,
        end_date=end_date,
        requested_by=actor,
        search=dict(search or {}),
    )
    audit_record(
        action="records.export_requested",
        organization=organization,
        actor=actor,
        target=export,
        new=_export_values(export),
        request=request,
    )
    send = enqueue or _send_build_task
    transaction.on_commit(lambda: send(export.pk))
    return export


def records_export_record_download(
    *, export: RecordsExport, actor: User, request: HttpRequest | None = None
) -> None:
    """Who took a copy of the records, and when: every download is audited."""
    audit_record(
        action="records.export_downloaded",
        organization=export.organization,
        actor=actor,
        target=export,
        new={"sha256": export.file_sha256, "size": export.file_size},
        request=request,
    )


class _HashingWriter:
    """Counts and hashes the bytes written into one zip member."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self.target.write(data)


class _Progress:
    """Writes the export's progress to its row as it goes, outside the build's
    transaction, so the page polling it sees it move."""

    def __init__(self, export: RecordsExport, total: int) -> None:
        self.export_id = export.pk
        self.total = total
        self.done = 0
        self.percent = -1
        RecordsExport.objects.filter(pk=export.pk).update(total=total, processed=0, progress=0)

    def advance(self, count: int = 1) -> None:
        self.done += count
        # Capped below 100: the file is not ready until it is stored.
        percent = min(99, self.done * 100 // self.total) if self.total else 99
        if percent != self.percent:
            self.percent = percent
            RecordsExport.objects.filter(pk=self.export_id).update(
                processed=self.done, progress=percent
            )


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    # The JSON file keeps the exact text; the CSV's cell is shown, never run.
    return str(formula_safe(text))


def _csv_line(values: Iterable[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_csv_cell(value) for value in values])
    return buffer.getvalue().encode("utf-8")


@dataclass
class _ZipBuilder:
    archive: Any  # zipfile.ZipFile
    files: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)

    def add(self, path: str, chunks: Iterable[bytes]) -> None:
        with self.archive.open(path, "w", force_zip64=True) as member:
            writer = _HashingWriter(member)
            for chunk in chunks:
                writer.write(chunk)
        self.files.append({"path": path, "sha256": writer.sha256.hexdigest(), "size": writer.size})


def _json_lines(
    records: Iterator[Record], staged: IO[bytes], columns: dict[str, None]
) -> Iterator[bytes]:
    """The records as one JSON array, staging each as a line for the CSV pass."""
    yield b"[\n"
    first = True
    for record in records:
        row = {"record_id": record.id, "occurred_at": record.occurred_at.isoformat(), **record.data}
        for key in row:
            columns.setdefault(key, None)
        text = json.dumps(row, ensure_ascii=False, default=str)
        staged.write(text.encode("utf-8") + b"\n")
        yield (b"" if first else b",\n") + text.encode("utf-8")
        first = False
    yield b"\n]\n"


def _csv_lines(staged: IO[bytes], columns: list[str]) -> Iterator[bytes]:
    yield _csv_line(columns)
    staged.seek(0)
    for line in staged:
        row = json.loads(line)
        yield _csv_line(row.get(column) for column in columns)


def _copy(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(COPY_CHUNK):
            yield chunk


def _media_and_progress(
    records: Iterator[Record], media: dict[str, Any], progress: _Progress
) -> Iterator[Record]:
    for record in records:
        for item in record.media:
            media.setdefault(item.name, item)
        yield record
        progress.advance()


class _Counter:
    """Counts records as they pass, for the manifest."""

    def __init__(self, records: Iterator[Record]) -> None:
        self.records = records
        self.count = 0

    def __iter__(self) -> Iterator[Record]:
        for record in self.records:
            self.count += 1
            yield record


def _write_export(export: RecordsExport, target: IO[bytes], now: datetime) -> dict[str, Any]:
    organization = export.organization
    start, end = day_bounds(organization, export.start_date, export.end_date)
    accounts = list(export.account_ids)
    providers = [(key, _provider(key)) for key in export.record_types]
    search = dict(export.search or {})

    def count(provider: RecordsProvider) -> int:
        if search:
            # A records search's matches (the providers that offer it: see the request).
            return int(provider.count_search(organization, accounts, start, end, search))  # type: ignore[attr-defined]
        return provider.count_records(organization, accounts, start, end)

    def records_of(provider: RecordsProvider) -> Iterator[Record]:
        if search:
            return provider.iter_search(organization, accounts, start, end, search)  # type: ignore[attr-defined]
        return provider.iter_records(organization, accounts, start, end)

    counts = {key: count(provider) for key, provider in providers}
    progress = _Progress(export, sum(counts.values()))
    written: dict[str, int] = {}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        builder = _ZipBuilder(archive)
        for key, provider in providers:
            media: dict[str, Any] = {}
            columns: dict[str, None] = {}
            with tempfile.TemporaryFile() as staged:
                records = _media_and_progress(records_of(provider), media, progress)
                counter = _Counter(records)
                builder.add(f"{key}/records.json", _json_lines(iter(counter), staged, columns))
                written[key] = counter.count
                builder.add(
                    f"{key}/records.csv",
                    _csv_lines(staged, list(columns) or ["record_id", "occurred_at"]),
                )
            for name, item in sorted(media.items()):
                path = f"{key}/media/{name}"
                try:
                    handle = item.open()
                except OSError as error:
                    builder.missing.append({"path": path, "error": str(error)})
                    continue
                builder.add(path, _copy(handle))
        manifest = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_FORMAT_VERSION,
            "export_id": export.pk,
            "reference": export.reference,
            "organization": {"id": organization.pk, "name": organization.name},
            "requested_by": export.requested_by.email if export.requested_by else "",
            "requested_at": export.created_at.isoformat(),
            "built_at": now.isoformat(),
            "criteria": {
                "record_types": export.record_types,
                "channel_accounts": _account_labels(organization, accounts),
                "from": export.start_date.isoformat() if export.start_date else None,
                "until": export.end_date.isoformat() if export.end_date else None,
                "time_zone": organization.time_zone,
                **({"search": search} if search else {}),
            },
            "record_counts": written,
            "files": builder.files,
            "missing_media": builder.missing,
            "notes": [
                "Each file's SHA-256 and size are of its bytes as stored in this zip "
                "(uncompressed); this manifest is not listed in itself.",
                "CSV cells that begin with =, +, -, @ or a tab start with an added ' "
                "so spreadsheet programs do not run them; the JSON files have the exact text.",
            ],
        }
        archive.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
        )
    return manifest


def records_export_build(*, export_id: int, now: datetime | None = None) -> str:
    """Build the export's zip (the Celery task's body). Returns what happened.

    Claimed with a conditional update, so a doubled message builds it once; a
    build left half-done by a dead worker is taken up again once stale. The zip
    is written to a temporary file and stored only when complete. Progress is
    written as it goes (outside any transaction) for the page's progress bar.
    """
    now = now or timezone.now()
    claimed = (
        RecordsExport.objects.filter(pk=export_id)
        .filter(
            Q(status=ExportStatus.QUEUED)
            | Q(status=ExportStatus.BUILDING, started_at__lt=now - EXPORT_STALE_AFTER)
        )
        .update(status=ExportStatus.BUILDING, started_at=now, progress=0, processed=0, error="")
    )
    if not claimed:
        return "skipped"
    export = RecordsExport.objects.select_related("organization", "requested_by").get(pk=export_id)
    try:
        with tempfile.TemporaryFile() as target:
            manifest = _write_export(export, target, now)
            size = target.tell()
            target.seek(0)
            digest = hashlib.sha256()
            while chunk := target.read(COPY_CHUNK):
                digest.update(chunk)
            target.seek(0)
            stamp = timezone.localtime(now, zoneinfo.ZoneInfo(export.organization.time_zone))
            export.file.save(
                f"records-export-{export.pk}-{stamp:%Y%m%d-%H%M}.zip", File(target), save=False
            )
    except Exception as error:
        # Whatever went wrong (a provider's bug, a full disk, the time limit), the
        # requester must see the export failed rather than a bar stuck at 60 %.
        logger.exception("Records export %s failed", export_id)
        with transaction.atomic():
            RecordsExport.objects.filter(pk=export_id).update(
                status=ExportStatus.FAILED, error=str(error)[:1000], finished_at=timezone.now()
            )
            audit_record(
                action="records.export_failed",
                organization=export.organization,
                target=export,
                new={"error": str(error)[:300]},
            )
        return "failed"
    with transaction.atomic():
        RecordsExport.objects.filter(pk=export_id).update(
            status=ExportStatus.READY,
            progress=100,
            processed=sum(manifest["record_counts"].values()),
            file=export.file.name,
            file_size=size,
            file_sha256=digest.hexdigest(),
            finished_at=timezone.now(),
        )
        audit_record(
            action="records.export_built",
            organization=export.organization,
            target=export,
            new={
                "record_counts": manifest["record_counts"],
                "files": len(manifest["files"]),
                "size": size,
                "sha256": digest.hexdigest(),
            },
        )
    return "ready"


def records_exports_sweep_stale(*, now: datetime | None = None) -> list[int]:
    """Exports whose build message was lost (queued long ago, or a dead worker's):
    the ids the caller should enqueue again."""
    now = now or timezone.now()
    return list(
        RecordsExport.objects.filter(
            Q(status=ExportStatus.QUEUED, created_at__lt=now - EXPORT_STALE_AFTER)
            | Q(status=ExportStatus.BUILDING, started_at__lt=now - EXPORT_STALE_AFTER)
        ).values_list("pk", flat=True)
    )
