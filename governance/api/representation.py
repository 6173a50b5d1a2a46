"""Serializer helpers shared by every app's API: writing rows cheaply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework.fields import Field, SkipField
from rest_framework.relations import PKOnlyObject

_Reading = tuple[str, Field[Any, Any, Any, Any], str | None]


# Writes an object as DRF's ``Serializer.to_representation`` does, with less work per row
# for the lists: a field whose source is one attribute is read with a plain ``getattr``
# (DRF's generic look-up checks for mappings, callables and missing values on every field
# of every row); anything else (a method, a dotted source, a related field, a missing
# value) goes through the field's own ``get_attribute`` as before. Each field still
# writes its value with its own ``to_representation``, so the output and the schema are
# DRF's; a DateTimeField made without a time zone takes the request's once, not once a
# value. (A comment, not a docstring: the schema would take a docstring as the
# description of every serializer that has none of its own.)
class DirectReadMixin(serializers.Serializer[Any]):
    def to_representation(self, instance: Any) -> dict[str, Any]:
        output: dict[str, Any] = {}
        for name, field, attribute in self._reading_plan(type(instance)):
            value = _read(instance, attribute) if attribute else _UNREAD
            if value is _UNREAD:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            empty = value.pk is None if isinstance(value, PKOnlyObject) else value is None
            output[name] = None if empty else field.to_representation(value)
        return output

    def _reading_plan(self, kind: type) -> list[_Reading]:
        """Each readable field, its name and the attribute to read it from directly (None:
        DRF's way), worked out once per serializer (a list's rows share one) and kind of
        row."""
        plans: dict[type, list[_Reading]]
        plans = self.__dict__.setdefault("_reading_plans", {})
        if kind not in plans:
            for field in self._readable_fields:
                # The time zone of a DateTimeField made without one is the request's
                # current one, which DRF otherwise looks up for every value of every row.
                if isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone"):
                    # (None, with USE_TZ off, reads as DRF's own default does.)
                    field.timezone = field.default_timezone()  # type: ignore[assignment]
            plans[kind] = [
                (str(field.field_name), field, _direct_attribute(field, kind))
                for field in self._readable_fields
            ]
        return plans[kind]


_UNREAD = object()


def _read(instance: Any, attribute: str) -> Any:
    """The attribute's value, or ``_UNREAD`` where DRF's look-up must decide (a missing
    value, a related object that does not exist, a callable to call)."""
    try:
        value = getattr(instance, attribute)
    except (AttributeError, ObjectDoesNotExist):
        return _UNREAD
    return _UNREAD if callable(value) else value


def _direct_attribute(field: Field[Any, Any, Any, Any], kind: type) -> str | None:
    if issubclass(kind, Mapping) or len(field.source_attrs) != 1:
        return None
    # Related fields (a primary key only) and method fields read their own way.
    if type(field).get_attribute is not Field.get_attribute:
        return None
    return str(field.source_attrs[0])
