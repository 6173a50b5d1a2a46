"""Credentials at rest: encrypted in the database, readable in Python, rotatable."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core import serializers
from django.core.management import CommandError, call_command
from django.db import connection

from accounts import crypto
from accounts.models import ChannelAccount, MastodonApp
from accounts.tests.helpers import channel_account

TOKEN = "secret-access-token-0123456789"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_encrypt_and_decrypt_round_trip(settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    token = crypto.encrypt("hello")
    assert token != "hello"
    assert crypto.decrypt(token) == "hello"


def test_a_token_from_an_unknown_key_cannot_be_read(settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    token = crypto.encrypt("hello")
    settings.ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_credentials_are_not_readable_in_the_database(db, settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    account = channel_account(credentials={"access_token": TOKEN})
    stored = raw_column("accounts_channelaccount", "credentials", account.pk)
    assert TOKEN not in stored
    assert TOKEN in Fernet(OLD_KEY.encode()).decrypt(stored.encode()).decode()
    assert ChannelAccount.objects.get(pk=account.pk).credentials == {"access_token": TOKEN}


def test_client_secrets_are_not_readable_in_the_database(db, settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    app = MastodonApp.objects.create(
        server_url="https://m.example",
        client_id="id",
        client_secret=TOKEN,
        scopes="read",
        redirect_uri="https://app.example/cb",
    )
    assert TOKEN not in raw_column("accounts_mastodonapp", "client_secret", app.pk)
    assert MastodonApp.objects.get(pk=app.pk).client_secret == TOKEN


def test_a_serialized_dump_holds_no_readable_token_and_loads_back(db, settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    account = channel_account(credentials={"access_token": TOKEN})
    dumped = serializers.serialize("json", [account])
    assert TOKEN not in dumped
    (loaded,) = serializers.deserialize("json", dumped)
    assert isinstance(loaded.object, ChannelAccount)
    assert loaded.object.credentials == {"access_token": TOKEN}


def test_rotation_moves_every_value_to_the_new_key(db, settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    accounts = [channel_account(credentials={"access_token": f"{TOKEN}-{n}"}) for n in range(3)]
    app = MastodonApp.objects.create(
        server_url="https://m.example",
        client_id="id",
        client_secret=TOKEN,
        scopes="read",
        redirect_uri="https://app.example/cb",
    )

    settings.ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=out)
    assert "accounts.ChannelAccount.credentials: 3 re-encrypted" in out.getvalue()
    assert "accounts.MastodonApp.client_secret: 1 re-encrypted" in out.getvalue()

    settings.ENCRYPTION_KEYS = [NEW_KEY]
    for n, account in enumerate(accounts):
        account.refresh_from_db()
        assert account.credentials == {"access_token": f"{TOKEN}-{n}"}
        stored = raw_column("accounts_channelaccount", "credentials", account.pk)
        with pytest.raises(InvalidToken):
            Fernet(OLD_KEY.encode()).decrypt(stored.encode())
    assert MastodonApp.objects.get(pk=app.pk).client_secret == TOKEN


def test_rotation_stops_when_a_value_cannot_be_decrypted(db, settings):
    settings.ENCRYPTION_KEYS = [OLD_KEY]
    channel_account(credentials={"access_token": TOKEN})
    settings.ENCRYPTION_KEYS = [NEW_KEY]  # the old key was dropped too early
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_encryption_keys", stdout=StringIO())
