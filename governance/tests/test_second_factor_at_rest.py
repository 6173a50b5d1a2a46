"""Second factors at rest: a copy of the database (a dump, a backup) holds neither an
authenticator key nor a backup code in readable form, rows from django-otp's old
readable tables are moved over, and key rotation re-encrypts authenticator keys."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from base64 import b32encode
from datetime import UTC, datetime
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django_otp.oath import totp

from governance.models import BackupCode, BackupCodeDevice, TOTPDevice
from tests.factories import DEFAULT_PASSWORD

FROZEN = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrol(client, email: str) -> tuple[TOTPDevice, list[str]]:
    """Log in and set up an authenticator as a person does; the codes shown once."""
    client.post("/auth/login/", {"username": email, "password": DEFAULT_PASSWORD})
    client.get("/auth/2fa/enrol/")
    device = TOTPDevice.objects.get(user__email=email, confirmed=False)
    response = client.post("/auth/2fa/enrol/", {"code": code_for(device)}, follow=True)
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(codes) == 10
    return device, codes


def secret_forms(device: TOTPDevice, codes: list[str]) -> list[str]:
    """Every way the secrets could appear in a dump, lower-cased."""
    b32 = b32encode(device.bin_key).decode().rstrip("=")
    return [device.key.lower(), b32.lower(), *codes]


def every_value_in_the_database() -> str:
    """Every column of every row of every table, as text (what a dump would hold)."""
    quote = connection.ops.quote_name
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (table names from the database)
            for row in cursor.fetchall():
                parts.extend(
                    bytes(value).hex() if isinstance(value, bytes | memoryview) else str(value)
                    for value in row
                )
    return "\n".join(parts).lower()


@pytest.mark.django_db
def test_it_keeps_no_authenticator_key_or_backup_code_readable_in_any_column(
    client, personas, time_machine
):
    time_machine.move_to(FROZEN, tick=False)
    device, codes = enrol(client, "alice@example.org")

    everything = every_value_in_the_database()

    assert "alice@example.org" in everything  # the walk does read the data
    for secret in secret_forms(device, codes):
        assert secret not in everything, secret


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_holds_no_authenticator_key_or_backup_code(client, personas, time_machine):
    if connection.vendor != "postgresql" or shutil.which("pg_dump") is None:
        pytest.skip("needs PostgreSQL and pg_dump")
    time_machine.move_to(FROZEN, tick=False)
    device, codes = enrol(client, "alice@example.org")
    settings = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "--host",
            settings["HOST"] or "127.0.0.1",
            "--port",
            str(settings["PORT"] or 5432),
            "--username",
            settings["USER"],
            settings["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": settings["PASSWORD"] or "", "PATH": "/usr/bin:/bin"},
        timeout=60,
    ).stdout.lower()

    assert "alice@example.org" in dump
    for secret in secret_forms(device, codes):
        assert secret not in dump, secret


@pytest.mark.django_db
def test_login_works_with_the_authenticator_and_with_a_backup_code(client, personas, time_machine):
    time_machine.move_to(FROZEN, tick=False)
    device, codes = enrol(client, "alice@example.org")
    client.post("/auth/logout/")

    time_machine.shift(60)
    client.post("/auth/login/", {"username": "alice@example.org", "password": DEFAULT_PASSWORD})
    device.refresh_from_db()
    assert client.post("/auth/2fa/verify/", {"code": code_for(device)})["Location"] == "/"
    client.post("/auth/logout/")

    client.post("/auth/login/", {"username": "alice@example.org", "password": DEFAULT_PASSWORD})
    assert client.post("/auth/2fa/verify/", {"code": codes[3]})["Location"] == "/"
    assert BackupCode.objects.count() == 9


OLD_TABLES_SQL = [
    """CREATE TABLE otp_totp_totpdevice (
        id integer PRIMARY KEY, name varchar(64) NOT NULL, confirmed boolean NOT NULL,
        user_id bigint NOT NULL, key varchar(80) NOT NULL, step smallint NOT NULL,
        t0 bigint NOT NULL, digits smallint NOT NULL, tolerance smallint NOT NULL,
        drift smallint NOT NULL, last_t bigint NOT NULL,
        throttling_failure_timestamp timestamp with time zone NULL,
        throttling_failure_count integer NOT NULL,
        created_at timestamp with time zone NULL, last_used_at timestamp with time zone NULL)""",
    """CREATE TABLE otp_static_staticdevice (
        id integer PRIMARY KEY, name varchar(64) NOT NULL, confirmed boolean NOT NULL,
        user_id bigint NOT NULL, throttling_failure_timestamp timestamp with time zone NULL,
        throttling_failure_count integer NOT NULL,
        created_at timestamp with time zone NULL, last_used_at timestamp with time zone NULL)""",
    """CREATE TABLE otp_static_statictoken (
        id integer PRIMARY KEY, device_id integer NOT NULL, token varchar(16) NOT NULL)""",
]
OLD_KEY = "3132333435363738393031323334353637383930"


@pytest.mark.django_db
def test_the_migration_moves_readable_second_factors_and_drops_the_old_tables(
    client, personas, time_machine
):
    time_machine.move_to(FROZEN, tick=False)
    alice = personas.alice
    with connection.cursor() as cursor:
        for sql in OLD_TABLES_SQL:
            cursor.execute(sql)
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES "
            "(7, 'Phone', %s, %s, %s, 30, 0, 6, 1, 0, -1, NULL, 0, %s, NULL)",
            [True, alice.pk, OLD_KEY, FROZEN],
        )
        cursor.execute(
            "INSERT INTO otp_static_staticdevice VALUES (3, 'Backup', %s, %s, NULL, 0, %s, NULL)",
            [True, alice.pk, FROZEN],
        )
        cursor.execute(
            "INSERT INTO otp_static_statictoken VALUES (1, 3, 'abcd2345'), (2, 3, 'efgh6723')"
        )
    migration = importlib.import_module("governance.migrations.0004_second_factor_secrets_at_rest")
    with connection.schema_editor() as editor:
        migration.move_second_factors(apps, editor)

    assert not {"otp_totp_totpdevice", "otp_static_staticdevice", "otp_static_statictoken"} & set(
        connection.introspection.table_names()
    )
    device = TOTPDevice.objects.get(user=alice)
    assert device.key == OLD_KEY and device.name == "Phone" and device.confirmed
    assert BackupCodeDevice.objects.get(user=alice).code_set.count() == 2
    everything = every_value_in_the_database()
    assert OLD_KEY not in everything and "abcd2345" not in everything

    # The moved authenticator and the moved backup codes still log alice in.
    client.post("/auth/login/", {"username": "alice@example.org", "password": DEFAULT_PASSWORD})
    assert client.post("/auth/2fa/verify/", {"code": code_for(device)})["Location"] == "/"
    client.post("/auth/logout/")
    client.post("/auth/login/", {"username": "alice@example.org", "password": DEFAULT_PASSWORD})
    assert client.post("/auth/2fa/verify/", {"code": "efgh6723"})["Location"] == "/"


@pytest.mark.django_db
def test_key_rotation_re_encrypts_authenticator_keys(personas, settings):
    device = TOTPDevice.objects.create(user=personas.alice, name="App", confirmed=True)
    key = device.key
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM governance_totpdevice WHERE id = %s", [device.pk])
        before = cursor.fetchone()[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, *settings.ENCRYPTION_KEYS]
    out = StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    assert "governance.TOTPDevice.key: 1 re-encrypted" in out.getvalue()
    settings.ENCRYPTION_KEYS = [new_key]
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM governance_totpdevice WHERE id = %s", [device.pk])
        assert cursor.fetchone()[0] != before
    assert TOTPDevice.objects.get(pk=device.pk).key == key
