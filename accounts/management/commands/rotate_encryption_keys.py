"""Re-encrypt every encrypted column under the newest key in ENCRYPTION_KEYS.

Put the new key first in ENCRYPTION_KEYS (keeping the old ones after it),
deploy, run this command, then remove the old keys. Rows are read and written
as raw tokens, in batches, one transaction per batch; a row whose value
changed while the batch ran is left alone (whoever wrote it used the keys of
the moment) and counted, so a second run can pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction

from accounts.crypto import DecryptionError, rotate
from accounts.fields import EncryptedField


@dataclass
class ColumnReport:
    label: str
    rotated: int = 0
    changed_meanwhile: int = 0


def encrypted_columns() -> list[tuple[type[models.Model], EncryptedField]]:
    """Every concrete (model, field) pair whose column holds Fernet tokens."""
    found: list[tuple[type[models.Model], EncryptedField]] = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedField):
                found.append((model, field))
    return found


def rotate_column(
    model: type[models.Model], field: EncryptedField, *, batch_size: int
) -> ColumnReport:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    assert model._meta.pk is not None and model._meta.pk.column and field.column
    pk_column = quote(model._meta.pk.column)
    column = quote(field.column)
    report = ColumnReport(label=f"{model._meta.label}.{field.name}")
    filled = f"{column} IS NOT NULL AND {column} <> ''"
    first_batch = (
        f"SELECT {pk_column}, {column} FROM {table} "  # noqa: S608 (names quoted, not user input)
        f"WHERE {filled} ORDER BY {pk_column} LIMIT %s"
    )
    next_batch = (
        f"SELECT {pk_column}, {column} FROM {table} "  # noqa: S608 (names quoted, not user input)
        f"WHERE {pk_column} > %s AND {filled} ORDER BY {pk_column} LIMIT %s"
    )
    update = (
        f"UPDATE {table} SET {column} = %s "  # noqa: S608 (names quoted, not user input)
        f"WHERE {pk_column} = %s AND {column} = %s"
    )
    last_pk: Any = None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if last_pk is None:
                cursor.execute(first_batch, [batch_size])
            else:
                cursor.execute(next_batch, [last_pk, batch_size])
            rows = cursor.fetchall()
            for pk, token in rows:
                try:
                    new_token = rotate(token)
                except DecryptionError as exc:
                    raise CommandError(
                        f"{report.label} of row {pk} cannot be decrypted with the configured "
                        "keys; nothing in this batch was changed."
                    ) from exc
                cursor.execute(update, [new_token, pk, token])
                if cursor.rowcount == 1:
                    report.rotated += 1
                else:
                    report.changed_meanwhile += 1
        if len(rows) < batch_size:
            return report
        last_pk = rows[-1][0]


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the newest key in ENCRYPTION_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = int(options["batch_size"])
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = 0
        for model, field in encrypted_columns():
            report = rotate_column(model, field, batch_size=batch_size)
            total += report.rotated
            line = f"{report.label}: {report.rotated} re-encrypted"
            if report.changed_meanwhile:
                line += f", {report.changed_meanwhile} changed while running (run again)"
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Done: {total} values re-encrypted."))
