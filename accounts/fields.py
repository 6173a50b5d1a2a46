"""Encrypted model fields: moved to ``governance.fields`` (the ground floor, so the
credential vault can use them too); re-exported here so existing imports, and the
migrations that name ``accounts.fields``, keep working."""

from governance.fields import (
    SERIALIZED_PREFIX,
    EncryptedField,
    EncryptedJSONField,
    EncryptedTextField,
)

__all__ = ["SERIALIZED_PREFIX", "EncryptedField", "EncryptedJSONField", "EncryptedTextField"]
