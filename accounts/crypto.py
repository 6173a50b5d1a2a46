"""Encryption of secrets at rest: moved to ``governance.crypto`` (the ground floor, so
the credential vault can use it too); re-exported here so existing imports keep working."""

from governance.crypto import DecryptionError, decrypt, encrypt, fernet, rotate

__all__ = ["DecryptionError", "decrypt", "encrypt", "fernet", "rotate"]
