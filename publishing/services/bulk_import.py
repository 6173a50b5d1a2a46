"""Bulk import: a month of posts from a spreadsheet (CSV or Excel), checked row by row
before anything is made.

``import_read`` turns an uploaded file into an :class:`ImportReport`: every row with
the account, language, text, time, images, alt text and campaign it names, and every
problem found in words (an unknown account, a text too long for the network as the
network counts it, an image without alt text, a time in the past, a date in a format
we cannot read). Nothing is created then; the report is kept as an
:class:`~publishing.models.ImportBatch` and shown as a preview.

``import_create`` then makes the posts, as drafts or sent for review, either all at
once or nothing (``all_or_nothing``), or only the rows without problems. A cell is
only ever text: a formula (``=HYPERLINK(…)``) is read as the characters it is and
never evaluated, and the problems file we hand back neutralises cells that a
spreadsheet would run.

Rows that share a value in the optional ``post`` column become one post with a
version per account and language (the Finnish and Swedish texts of one
announcement); without it, each row is its own post.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.connectors.base import MediaItem, PublishRequest
from accounts.connectors.registry import UnknownNetwork, get_connector
from accounts.models import ChannelAccount
from accounts.selectors import channel_accounts_for_membership
from governance.models import Membership
from governance.selectors.access import require_perm
from governance.services.audit import audit_append, audit_entry, audit_record
from governance.spreadsheet import formula_safe
from publishing.languages import normalise_language_tag, organization_language_codes
from publishing.models import (
    Campaign,
    ImportBatch,
    ImportStatus,
    MediaAsset,
    Post,
    Variant,
    VariantMedia,
)
from publishing.selectors_calendar import filter_choices_know_language
from publishing.services.media import media_alt_text_set
from publishing.services.posts import _planned as planned_time_checked
from publishing.services.posts import (
    campaign_create,
    post_submit_for_review,
)
from publishing.validation import publishing_rules

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
# Images in one cell are separated by a vertical bar (commas and semicolons may
# separate the columns themselves).
IMAGE_SEPARATOR = "|"

COLUMNS = ("post", "account", "language", "text", "time", "image", "alt_text", "campaign")
REQUIRED_COLUMNS = ("account", "language", "text", "time")
# What people call the columns, in the interface languages (English, Finnish, Swedish,
# Indonesian, Turkish), mapped to ours.
COLUMN_ALIASES: dict[str, str] = {
    "post": "post",
    "group": "post",
    "julkaisu": "post",
    "inlägg": "post",
    "account": "account",
    "tili": "account",
    "konto": "account",
    "language": "language",
    "lang": "language",
    "kieli": "language",
    "språk": "language",
    "text": "text",
    "teksti": "text",
    "time": "time",
    "date": "time",
    "publish at": "time",
    "aika": "time",
    "julkaisuaika": "time",
    "tid": "time",
    "publiceringstid": "time",
    "image": "image",
    "images": "image",
    "kuva": "image",
    "kuvat": "image",
    "bild": "image",
    "bilder": "image",
    "alt text": "alt_text",
    "alt": "alt_text",
    "vaihtoehtoinen teksti": "alt_text",
    "alternativtext": "alt_text",
    "campaign": "campaign",
    "kampanja": "campaign",
    "kampanj": "campaign",
    # Indonesian
    "unggahan": "post",
    "akun": "account",
    "bahasa": "language",
    "teks": "text",
    "waktu": "time",
    "tanggal": "time",
    "gambar": "image",
    "teks alternatif": "alt_text",
    "kampanye": "campaign",
    # Turkish
    "gönderi": "post",
    "hesap": "account",
    "dil": "language",
    "metin": "text",
    "zaman": "time",
    "tarih": "time",
    "görsel": "image",
    "alternatif metin": "alt_text",
    "kampanya": "campaign",
}

# Date formats people type, tried in order after ISO 8601. Day-first, as in Europe;
# the American month-first form is refused rather than guessed (3/4 is ambiguous).
_DATE_TIME_FORMATS = (
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H.%M",
    "%d.%m.%Y klo %H.%M",
    "%d.%m.%Y kl. %H.%M",
    "%d.%m.%Y kl %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H.%M",
)
# Excel's serial dates count days from 1899-12-30 (with its 1900 leap-year quirk).
_EXCEL_EPOCH = datetime(1899, 12, 30)
_EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")


class ImportFileError(ValidationError):
    """The file as a whole cannot be read (not a row's problem)."""


@dataclass
class ImportRow:
    number: int  # the line or sheet row, as the person's spreadsheet numbers it
    post_key: str
    account: str
    language: str
    text: str
    time: str
    image: str
    alt_text: str
    campaign: str
    account_id: int | None = None
    account_label: str = ""
    network: str = ""
    at: str | None = None  # ISO 8601, UTC
    asset_ids: list[int] = field(default_factory=list)
    new_campaign: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def group(self) -> str:
        return self.post_key or f"row-{self.number}"

    def when(self) -> datetime | None:
        return datetime.fromisoformat(self.at) if self.at else None


@dataclass
class ImportReport:
    file_name: str
    rows: list[ImportRow]
    file_notes: list[str] = field(default_factory=list)

    @property
    def problem_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.problems]

    @property
    def ok_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.problems]

    def groups(self) -> dict[str, list[ImportRow]]:
        groups: dict[str, list[ImportRow]] = {}
        for row in self.rows:
            groups.setdefault(row.group, []).append(row)
        return groups

    def as_json(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "file_notes": self.file_notes,
            "rows": [asdict(row) for row in self.rows],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportReport:
        return cls(
            file_name=data["file_name"],
            file_notes=list(data.get("file_notes", [])),
            rows=[ImportRow(**row) for row in data["rows"]],
        )


# --- Reading the file ----------------------------------------------------------------


def _normalize_header(value: str) -> str:
    text = unicodedata.normalize("NFC", str(value or "")).strip().lower()
    return re.sub(r"[\s_-]+", " ", text)


def _decode(content: bytes) -> tuple[str, list[str]]:
    """The file's text: UTF-8 (with or without a byte-order mark), or, failing that,
    Windows-1252 as older Excel versions save CSV (said in the report)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict"), []
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16"), []
    try:
        return content.decode("utf-8"), []
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
        return text, [
            _(
                "The file is not UTF-8; it was read as Windows-1252 (Western European). "
                "Check that letters such as ä, ö and å look right below, or save the "
                "file as “CSV UTF-8” and upload it again."
            )
        ]


def _csv_rows(content: bytes) -> tuple[list[list[str]], list[str], int]:
    text, notes = _decode(content)
    if "\x00" in text:
        raise ImportFileError(_("The file contains binary data; upload a CSV or Excel file."))
    sample = text[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows = list(reader)
    except csv.Error as error:
        raise ImportFileError(
            _("The file is not a readable CSV file (%(error)s).") % {"error": error}
        ) from error
    return rows, notes, 1


def _xlsx_rows(content: bytes) -> tuple[list[list[Any]], list[str], int]:
    from openpyxl import load_workbook  # imported here: only Excel uploads need it

    try:
        # data_only: a formula cell gives the value Excel last computed, never the
        # formula run by us; read_only keeps a large sheet out of memory.
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(
            _("The file is not a readable Excel workbook (.xlsx). Save it again, or as CSV.")
        ) from error
    try:
        sheet = book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return rows, [], 1


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unicodedata.normalize("NFC", str(value)).strip()


# --- Checking each row ----------------------------------------------------------------


class _Lookups:
    """What rows refer to, loaded once per file: the accounts this person may post to,
    the organization's media library and campaigns."""

    def __init__(self, membership: Membership) -> None:
        organization = membership.organization
        self.tz = ZoneInfo(organization.time_zone or settings.TIME_ZONE)
        self.accounts: dict[str, ChannelAccount] = {}
        for account in channel_accounts_for_membership(membership):
            for key in (account.handle, account.display_name, str(account.pk)):
                if key:
                    self.accounts.setdefault(key.strip().lstrip("@").lower(), account)
        self.assets: dict[str, MediaAsset] = {}
        images = MediaAsset.objects.filter(organization=organization, kind="image")
        for asset in images.prefetch_related("alt_texts"):
            for key in (asset.original_name, str(asset.pk), f"media:{asset.pk}"):
                if key:
                    self.assets.setdefault(key.strip().lower(), asset)
        self.campaigns = {
            campaign.name.strip().lower(): campaign
            for campaign in Campaign.objects.filter(organization=organization)
        }
        rules = publishing_rules(organization.pk)
        # The organization's languages of posts, by tag in its standard form.
        self.languages = set(organization_language_codes(rules))
        self.require_alt_text = rules.require_alt_text
        self.now = timezone.now()


def _tag(text: str) -> str:
    """A language cell as a tag in its standard form ('FI' → 'fi'); "" when it is none."""
    try:
        return normalise_language_tag(text)
    except ValidationError:
        return ""


def _parse_time(value: Any, tz: ZoneInfo) -> tuple[datetime | None, str]:
    """An aware datetime from what the cell holds, in the organization's time zone,
    or a problem in words."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
    else:
        text = _cell_text(value)
        if not text:
            return None, _("No time. Write it as 2026-12-20 09:00 or 20.12.2026 9.00.")
        naive = None
        if _EXCEL_SERIAL.match(text):
            naive = _EXCEL_EPOCH + timedelta(days=float(text))
            naive = naive.replace(second=0, microsecond=0)
        if naive is None:
            try:
                parsed = datetime.fromisoformat(text.replace(" klo ", " ").replace("T", " "))
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed, ""
            naive = parsed
        if naive is None:
            for pattern in _DATE_TIME_FORMATS:
                try:
                    naive = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if naive is None:
            if re.match(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$", text) or re.match(
                r"^\d{4}-\d{2}-\d{2}$", text
            ):
                return None, _("“%(value)s” has a date but no time of day.") % {"value": text}
            return None, _(
                "“%(value)s” is not a date and time we can read. Write it as "
                "2026-12-20 09:00 or 20.12.2026 9.00."
            ) % {"value": text}
    assert naive is not None
    aware = naive.replace(tzinfo=tz)
    # A wall-clock time skipped when the clocks go forward does not exist.
    if aware.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != naive:
        return None, _(
            "%(value)s does not exist in %(zone)s: the clocks go forward then. Choose another time."
        ) % {"value": naive.strftime("%Y-%m-%d %H:%M"), "zone": tz.key}
    return aware, ""


def _check_row(row: ImportRow, raw_time: Any, lookups: _Lookups) -> None:
    problems = row.problems
    account = lookups.accounts.get(row.account.strip().lstrip("@").lower()) if row.account else None
    if not row.account:
        problems.append(_("No account."))
    elif account is None:
        problems.append(
            _("No account “%(account)s” that you may post to. Use the handle shown under Accounts.")
            % {"account": row.account}
        )
    else:
        row.account_id = account.pk
        row.account_label = account.handle
        row.network = account.network
    if not row.language:
        problems.append(_("No language."))
    elif _tag(row.language) not in lookups.languages:
        problems.append(
            _("“%(language)s” is not a language we publish in (%(languages)s).")
            % {"language": row.language, "languages": ", ".join(sorted(lookups.languages))}
        )
    else:
        row.language = _tag(row.language)
    if not row.text:
        problems.append(_("No text."))
    at, problem = _parse_time(raw_time, lookups.tz)
    if problem:
        problems.append(problem)
    elif at is not None:
        if at <= lookups.now:
            problems.append(
                _("%(time)s is in the past.")
                % {"time": at.astimezone(lookups.tz).strftime("%Y-%m-%d %H:%M")}
            )
        row.at = at.astimezone(ZoneInfo("UTC")).isoformat()
    assets: list[MediaAsset] = []
    for name in filter(None, (part.strip() for part in row.image.split(IMAGE_SEPARATOR))):
        asset = lookups.assets.get(name.lower())
        if asset is None:
            problems.append(
                _("No image “%(name)s” in the media library. Upload it there first.")
                % {"name": name}
            )
        else:
            assets.append(asset)
            row.asset_ids.append(asset.pk)
    if assets and lookups.require_alt_text and not row.alt_text and row.language:
        for asset in assets:
            if not asset.alt_text_for(row.language).strip():
                problems.append(
                    _(
                        "Image “%(name)s” has no alt text in this language: add it in the "
                        "alt_text column."
                    )
                    % {"name": str(asset)}
                )
    if row.alt_text and len(assets) > 1:
        problems.append(_("One alt text for several images: give each image its own row's post."))
    if row.campaign and row.campaign.strip().lower() not in lookups.campaigns:
        row.new_campaign = True
    if account is not None and row.text and not problems:
        _check_network_rules(row, account, assets)


def _check_network_rules(row: ImportRow, account: ChannelAccount, assets: list[MediaAsset]) -> None:
    try:
        connector = get_connector(account.network)
    except UnknownNetwork:
        row.problems.append(
            _("GovSocial cannot publish to %(network)s.") % {"network": account.network}
        )
        return
    media = [
        MediaItem(
            content=b"",
            mime_type=asset.mime_type,
            alt_text=row.alt_text or asset.alt_text_for(row.language),
            filename=asset.original_name,
        )
        for asset in assets
    ]
    request = PublishRequest(text=row.text, media=media, language=row.language)
    row.problems.extend(connector.validate(request, account=account))


def _check_groups(rows: Sequence[ImportRow]) -> None:
    groups: dict[str, list[ImportRow]] = {}
    for row in rows:
        if row.post_key:
            groups.setdefault(row.post_key, []).append(row)
    for key, members in groups.items():
        times = {row.at for row in members if row.at}
        if len(times) > 1:
            for row in members:
                row.problems.append(
                    _("The rows of post “%(post)s” have different times; give them one.")
                    % {"post": key}
                )
        seen: set[tuple[int | None, str]] = set()
        for row in members:
            target = (row.account_id, row.language)
            if row.account_id is not None and target in seen:
                row.problems.append(
                    _("Post “%(post)s” already has a %(language)s text for %(account)s.")
                    % {"post": key, "language": row.language, "account": row.account_label}
                )
            seen.add(target)


def import_read(*, membership: Membership, file_name: str, content: bytes) -> ImportReport:
    """Read and check an uploaded CSV or Excel file; nothing is created."""
    require_perm(membership, "posts.write")
    if not content:
        raise ImportFileError(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(limit)d MB. Split it into smaller files.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    is_excel = file_name.lower().endswith(".xlsx") or content.startswith(b"PK\x03\x04")
    if file_name.lower().endswith((".xls", ".ods", ".numbers")):
        raise ImportFileError(
            _("Save the sheet as Excel (.xlsx) or CSV first; this file type cannot be read.")
        )
    raw_rows, notes, first_line = _xlsx_rows(content) if is_excel else _csv_rows(content)
    raw_rows = [row for row in raw_rows if any(_cell_text(cell) for cell in row)]
    if not raw_rows:
        raise ImportFileError(_("The file has no rows."))
    header = [_normalize_header(_cell_text(cell)) for cell in raw_rows[0]]
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, name in enumerate(header):
        column = COLUMN_ALIASES.get(name)
        if column is None:
            if name:
                unknown.append(name)
            continue
        positions.setdefault(column, index)
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        raise ImportFileError(
            _(
                "The first row must name the columns; missing: %(missing)s. Download the "
                "template to see the columns."
            )
            % {"missing": ", ".join(missing)}
        )
    if unknown:
        notes.append(
            _("These columns were ignored: %(columns)s.") % {"columns": ", ".join(unknown)}
        )
    data_rows = raw_rows[1:]
    if len(data_rows) > MAX_ROWS:
        raise ImportFileError(
            ngettext(
                "The file has more than %(limit)d row; split it into smaller files.",
                "The file has more than %(limit)d rows; split it into smaller files.",
                MAX_ROWS,
            )
            % {"limit": MAX_ROWS}
        )
    lookups = _Lookups(membership)
    rows: list[ImportRow] = []
    for offset, raw in enumerate(data_rows, start=first_line + 1):

        def cell(column: str, raw: list[Any] = raw) -> Any:
            index = positions.get(column)
            return raw[index] if index is not None and index < len(raw) else None

        row = ImportRow(
            number=offset,
            post_key=_cell_text(cell("post")),
            account=_cell_text(cell("account")),
            language=_cell_text(cell("language")),
            text=_cell_text(cell("text")),
            time=_cell_text(cell("time")),
            image=_cell_text(cell("image")),
            alt_text=_cell_text(cell("alt_text")),
            campaign=_cell_text(cell("campaign")),
        )
        _check_row(row, cell("time"), lookups)
        rows.append(row)
    _check_groups(rows)
    return ImportReport(file_name=file_name, rows=rows, file_notes=notes)


# --- The batch between preview and creation -------------------------------------------


def import_batch_save(
    *, membership: Membership, report: ImportReport, request: HttpRequest | None = None
) -> ImportBatch:
    batch = ImportBatch.objects.create(
        organization=membership.organization,
        created_by=membership.user,
        file_name=report.file_name[:255],
        report=report.as_json(),
        row_count=len(report.rows),
        problem_count=len(report.problem_rows),
    )
    audit_record(
        action="import.checked",
        organization=membership.organization,
        actor=membership.user,
        target=batch,
        new={
            "file": batch.file_name,
            "rows": batch.row_count,
            "rows_with_problems": batch.problem_count,
        },
        request=request,
    )
    return batch


@dataclass
class ImportOutcome:
    posts: int
    rows: int
    skipped_rows: int


def posts_phrase(count: int) -> str:
    return ngettext("%(count)d post", "%(count)d posts", count) % {"count": count}


def organization_zone(organization: Any) -> ZoneInfo:
    return ZoneInfo(organization.time_zone or settings.TIME_ZONE)


def _progress_key(batch_id: int) -> str:
    return f"import-progress:{batch_id}"


def import_progress(batch: ImportBatch) -> tuple[int, int]:
    """How many of the batch's posts a running import has made so far, and of how many."""
    value = cache.get(_progress_key(batch.pk))
    if isinstance(value, tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    return 0, 0


def _check_importable(report: ImportReport, only_valid: bool) -> None:
    if not only_valid and report.problem_rows:
        raise ValidationError(
            ngettext(
                "%(count)d row has problems: fix it and upload the file again, or import "
                "only the rows without problems.",
                "%(count)d rows have problems: fix them and upload the file again, or import "
                "only the rows without problems.",
                len(report.problem_rows),
            )
            % {"count": len(report.problem_rows)},
            code="rows_with_problems",
        )
    if not report.ok_rows:
        raise ValidationError(_("No row is ready to import."), code="nothing_to_import")


def import_start(
    *,
    membership: Membership,
    batch: ImportBatch,
    submit: bool,
    only_valid: bool,
    inline: bool,
    request: HttpRequest | None = None,
) -> ImportOutcome | None:
    """Claim the batch for importing (once: a second click finds it taken) and import it
    now (``inline``) or hand it to a worker; returns the outcome when done here."""
    require_perm(membership, "posts.write")
    if batch.organization_id != membership.organization_id:
        raise PermissionDenied
    _check_importable(ImportReport.from_json(batch.report), only_valid)
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.CHECKED).update(
        status=ImportStatus.IMPORTING, submit_for_review=submit, only_valid_rows=only_valid
    )
    if not claimed:
        raise ValidationError(_("This file is already being imported, or was."), code="taken")
    batch.refresh_from_db()
    if inline:
        return import_batch_run(batch_id=batch.pk, request=request)
    from publishing.tasks import import_posts  # tasks import services, not the reverse

    transaction.on_commit(lambda: import_posts.delay(batch.pk))
    return None


def import_batch_run(*, batch_id: int, request: HttpRequest | None = None) -> ImportOutcome | None:
    """Import a claimed batch (a worker's task, or inline for small files). A failure
    leaves nothing made and says why on the batch's page."""
    batch = ImportBatch.objects.select_related("organization", "created_by").get(pk=batch_id)
    if batch.status != ImportStatus.IMPORTING:
        return None
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization=batch.organization, user=batch.created_by, is_active=True)
        .first()
    )
    try:
        if membership is None:
            raise ValidationError(_("The person who started this import is no longer a member."))
        return import_create(
            membership=membership,
            batch=batch,
            submit=batch.submit_for_review,
            only_valid=batch.only_valid_rows,
            request=request,
            progress=lambda done, total: cache.set(_progress_key(batch_id), (done, total), 3600),
        )
    except (ValidationError, PermissionDenied) as error:
        messages = (
            error.messages
            if isinstance(error, ValidationError)
            else [_("You may no longer post to every account the file names.")]
        )
        ImportBatch.objects.filter(pk=batch_id, status=ImportStatus.IMPORTING).update(
            status=ImportStatus.FAILED,
            failure=" ".join(str(message) for message in messages),
            finished_at=timezone.now(),
        )
        return None
    finally:
        cache.delete(_progress_key(batch_id))


def import_create(
    *,
    membership: Membership,
    batch: ImportBatch,
    submit: bool,
    only_valid: bool,
    request: HttpRequest | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportOutcome:
    """Make the batch's posts: drafts, or sent for review when ``submit``.

    With ``only_valid`` the posts whose rows all passed are made and the rest are
    skipped (reported); without it, a single problem anywhere makes nothing. Either
    way the creation itself is one transaction: an error half-way leaves nothing.
    """
    require_perm(membership, "posts.write")
    if batch.organization_id != membership.organization_id:
        raise PermissionDenied
    report = ImportReport.from_json(batch.report)
    _check_importable(report, only_valid)
    groups = report.groups()
    good = [rows for rows in groups.values() if all(row.ok for row in rows)]
    skipped = sum(len(rows) for rows in groups.values()) - sum(len(rows) for rows in good)
    accounts = {
        account.pk: account
        for account in channel_accounts_for_membership(membership).filter(
            pk__in={row.account_id for rows in good for row in rows}
        )
    }
    assets = {
        asset.pk: asset
        for asset in MediaAsset.objects.filter(
            organization=membership.organization,
            pk__in={pk for rows in good for row in rows for pk in row.asset_ids},
        )
    }
    campaigns = {
        campaign.name.strip().lower(): campaign
        for campaign in Campaign.objects.filter(organization=membership.organization)
    }
    made_posts = 0
    made_rows = 0
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportStatus.IMPORTING:
            raise ValidationError(_("This file was already imported."), code="already_imported")
        for start in range(0, len(good), CREATE_CHUNK):
            chunk = good[start : start + CREATE_CHUNK]
            posts = _create_drafts(
                membership=membership,
                groups=chunk,
                accounts=accounts,
                assets=assets,
                campaigns=campaigns,
                request=request,
            )
            made_rows += sum(len(rows) for rows in chunk)
            for index, post in enumerate(posts, start=start + 1):
                if submit:
                    post_submit_for_review(post=post, membership=membership, request=request)
                made_posts += 1
                if progress is not None and (index % 25 == 0 or index == len(good)):
                    progress(index, len(good))
        batch.status = ImportStatus.IMPORTED
        batch.imported_posts = made_posts
        batch.imported_rows = made_rows
        batch.skipped_rows = skipped
        batch.finished_at = timezone.now()
        batch.save(
            update_fields=[
                "status",
                "imported_posts",
                "imported_rows",
                "skipped_rows",
                "finished_at",
            ]
        )
        audit_record(
            action="import.created",
            organization=membership.organization,
            actor=membership.user,
            target=batch,
            new={
                "file": batch.file_name,
                "posts": made_posts,
                "rows": made_rows,
                "skipped_rows": skipped,
                "sent_for_review": submit,
            },
            request=request,
        )
    return ImportOutcome(posts=made_posts, rows=made_rows, skipped_rows=skipped)


# Posts are made this many at a time: a few statements per chunk instead of a dozen per row.
CREATE_CHUNK = 500


def _create_drafts(
    *,
    membership: Membership,
    groups: Sequence[list[ImportRow]],
    accounts: dict[int, ChannelAccount],
    assets: dict[int, MediaAsset],
    campaigns: dict[str, Campaign],
    request: HttpRequest | None,
) -> list[Post]:
    """The drafts of ``groups`` (one post each), made in bulk with the same rows and
    audit entries as ``post_create`` and one ``variant_save`` per row would write
    ("post.created", then "post.edited" per variant with the post's version going up
    by one each), appended to the audit chain in one batch (one chain lock)."""
    organization = membership.organization
    now = timezone.now()
    posts: list[Post] = []
    chosen: list[dict[tuple[int, str], tuple[ImportRow, list[MediaAsset]]]] = []
    for rows in groups:
        first = rows[0]
        campaign = None
        if first.campaign:
            key = first.campaign.strip().lower()
            campaign = campaigns.get(key)
            if campaign is None:
                campaign = campaign_create(
                    membership=membership, name=first.campaign.strip(), request=request
                )
                campaigns[key] = campaign
        variants: dict[tuple[int, str], tuple[ImportRow, list[MediaAsset]]] = {}
        for row in rows:
            account = accounts.get(row.account_id or 0)
            if account is None:  # access changed since the check
                raise ValidationError(
                    _("Row %(number)d: you may no longer post to %(account)s.")
                    % {"number": row.number, "account": row.account_label}
                )
            row_assets = [assets[pk] for pk in row.asset_ids if pk in assets]
            if row.alt_text:
                for asset in row_assets:
                    media_alt_text_set(
                        asset=asset,
                        membership=membership,
                        language=row.language,
                        text=row.alt_text,
                        request=request,
                    )
            # A later row for the same account and language replaces the earlier one,
            # as saving the variant again would.
            variants[(account.pk, row.language)] = (row, row_assets)
        posts.append(
            Post(
                organization=organization,
                title=(first.text.splitlines()[0][:80] if first.text else "").strip()[:200],
                campaign=campaign,
                created_by=membership.user,
                scheduled_at=planned_time_checked(first.when()),
                version=1 + len(rows),
                created_at=now,
                updated_at=now,
                status_changed_at=now,
            )
        )
        chosen.append(variants)
    Post.objects.bulk_create(posts)
    made: list[Variant] = []
    slots: list[VariantMedia] = []
    for post, variants in zip(posts, chosen, strict=True):
        for (account_id, language), (row, row_assets) in variants.items():
            variant = Variant(
                post=post,
                channel_account_id=account_id,
                language=language,
                text=row.text,
                created_at=now,
                updated_at=now,
            )
            made.append(variant)
            slots.extend(
                VariantMedia(variant=variant, thread_index=0, position=position, asset=asset)
                for position, asset in enumerate(row_assets)
            )
    Variant.objects.bulk_create(made)
    for slot in slots:
        slot.variant_id = slot.variant.pk
    VariantMedia.objects.bulk_create(slots)
    by_key: dict[tuple[int, int | None, str], Variant] = {
        (v.post_id, v.channel_account_id, v.language): v for v in made
    }
    entries = []
    for post, rows in zip(posts, groups, strict=True):
        entries.append(
            audit_entry(
                action="post.created",
                organization=organization,
                actor=membership.user,
                target=post,
                new={
                    "title": post.title,
                    "status": post.status,
                    "scheduled_at": (
                        post.scheduled_at.astimezone(UTC).isoformat() if post.scheduled_at else None
                    ),
                },
                request=request,
            )
        )
        for version, row in enumerate(rows, start=2):
            variant = by_key[(post.pk, row.account_id, row.language)]
            entries.append(
                audit_entry(
                    action="post.edited",
                    organization=organization,
                    actor=membership.user,
                    target=post,
                    new={
                        "version": version,
                        "variant": variant.pk,
                        "channel_account": row.account_id,
                        "language": row.language,
                        "thread_length": 1,
                        "images": len(row.asset_ids),
                    },
                    request=request,
                )
            )
    audit_append(entries)
    # bulk_create sends no post_save: tell the calendar's filter choices as the signal would.
    for language in {variant.language for variant in made}:
        filter_choices_know_language(organization.pk, language)
    return posts


# --- Files we hand out ---------------------------------------------------------------


def csv_safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading =, +, -, @, tab or carriage return
    would make it a formula, so it gets a leading apostrophe."""
    return str(formula_safe("" if value is None else str(value)))


def csv_lines(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a byte-order mark, so spreadsheet programs read UTF-8
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_safe_cell(cell) for cell in row])
    return buffer.getvalue()


def template_csv(example_account: str, tz: ZoneInfo) -> str:
    """The template: the columns and two example rows (one post in Finnish and Swedish)."""
    when = (timezone.now().astimezone(tz) + timedelta(days=7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    at = when.strftime("%Y-%m-%d %H:%M")
    return csv_lines(
        [
            list(COLUMNS),
            [
                "1",
                example_account,
                "fi",
                "Kirjasto on auki jouluna klo 10-14.",
                at,
                "",
                "",
                "Joulu",
            ],
            [
                "1",
                example_account,
                "sv",
                "Biblioteket är öppet på juldagen kl. 10-14.",
                at,
                "",
                "",
                "Joulu",
            ],
        ]
    )


def problems_csv(report: ImportReport) -> str:
    """The rows with their problems, to fix in the spreadsheet."""
    header = ["row", *COLUMNS, "problems"]
    lines: list[list[Any]] = [header]
    for row in report.problem_rows:
        lines.append(
            [
                row.number,
                row.post_key,
                row.account,
                row.language,
                row.text,
                row.time,
                row.image,
                row.alt_text,
                row.campaign,
                " / ".join(row.problems),
            ]
        )
    return csv_lines(lines)
