"""Encryption of secrets at rest (tokens, app passwords, client secrets).

Keys come from ``settings.ENCRYPTION_KEYS``, newest first: the newest key
encrypts, every listed key decrypts. To rotate, put a new key in front, run
``manage.py rotate_encryption_keys``, then drop the old key.

Settings are read on each call (never at import), so a changed key list takes
effect at once; the MultiFernet built for a key list is cached by that list.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["DecryptionError", "decrypt", "encrypt", "fernet", "rotate"]


class DecryptionError(Exception):
    """The stored value is not a token that any configured key can open."""


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "ENCRYPTION_KEYS must hold url-safe base64 Fernet keys "
            "(make one with cryptography.fernet.Fernet.generate_key())."
        ) from exc


def fernet() -> MultiFernet:
    """The MultiFernet for the keys configured right now."""
    keys = tuple(str(key).strip() for key in getattr(settings, "ENCRYPTION_KEYS", []) if key)
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty: secrets cannot be stored.")
    return _multi_fernet(keys)


def encrypt(plaintext: str) -> str:
    """A Fernet token (ASCII text) for ``plaintext``, under the newest key."""
    return fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured ENCRYPTION_KEYS."
        ) from exc


def rotate(token: str) -> str:
    """The same secret re-encrypted under the newest key."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured ENCRYPTION_KEYS."
        ) from exc
