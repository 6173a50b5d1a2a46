"""Model fields whose column holds a Fernet token instead of the value.

Python code reads and writes plain values; the database (and so any dump of
it) holds only ciphertext. Because every encryption is randomised, these
columns cannot be filtered or indexed on. ``manage.py rotate_encryption_keys``
finds every field of these classes and re-encrypts it under the newest key.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core import exceptions
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.utils.translation import gettext_lazy as _

from governance.crypto import DecryptionError, decrypt, encrypt

__all__ = [
    "SERIALIZED_PREFIX",
    "EncryptedField",
    "EncryptedJSONField",
    "EncryptedTextField",
]

# Serialised values (dumpdata, fixtures) carry the ciphertext behind this marker,
# so a serialised dump holds no readable secret either and loads back exactly.
SERIALIZED_PREFIX = "fernet:"


class EncryptedField(models.Field):
    """Base of the encrypted fields: the column is text holding a Fernet token."""

    def get_internal_type(self) -> str:
        return "TextField"

    def _to_plain_text(self, value: Any) -> str:
        raise NotImplementedError

    def _from_plain_text(self, text: str) -> Any:
        raise NotImplementedError

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> Any:
        if value is None:
            return None
        if value == "":
            return self._from_plain_text("")
        return self._from_plain_text(decrypt(value))

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        plain = self._to_plain_text(value)
        if plain == "":
            return ""
        return encrypt(plain)

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        prepared = self.get_prep_value(value)
        return SERIALIZED_PREFIX + prepared if prepared else ""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            try:
                return self._from_plain_text(decrypt(value[len(SERIALIZED_PREFIX) :]))
            except DecryptionError as exc:
                raise exceptions.ValidationError(
                    _("This encrypted value cannot be read with the configured keys."),
                    code="invalid",
                ) from exc
        return value


class EncryptedTextField(EncryptedField):
    """A text value (a token, a password, a client secret) encrypted at rest."""

    description = _("Text encrypted at rest")

    def _to_plain_text(self, value: Any) -> str:
        return str(value)

    def _from_plain_text(self, text: str) -> str:
        return text

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return value if value is None or isinstance(value, str) else str(value)

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(**{"widget": forms.PasswordInput(render_value=False), **kwargs})


class EncryptedJSONField(EncryptedField):
    """A JSON value (a dict of credentials, say) encrypted at rest as one token."""

    description = _("JSON encrypted at rest")
    empty_strings_allowed = False

    def __init__(
        self, *args: Any, encoder: type[json.JSONEncoder] = DjangoJSONEncoder, **kwargs: Any
    ):
        self.encoder = encoder
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.encoder is not DjangoJSONEncoder:
            kwargs["encoder"] = self.encoder
        return name, path, args, kwargs

    def _to_plain_text(self, value: Any) -> str:
        return json.dumps(value, cls=self.encoder, sort_keys=True)

    def _from_plain_text(self, text: str) -> Any:
        return json.loads(text) if text else None

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(
            **{"form_class": forms.JSONField, "encoder": self.encoder, **kwargs}
        )
