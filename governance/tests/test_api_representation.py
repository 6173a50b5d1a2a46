"""DirectReadMixin writes exactly what DRF's own to_representation writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from rest_framework import serializers

from governance.api.representation import DirectReadMixin


class Author:
    def __init__(self, pk: int, name: str) -> None:
        self.pk = pk
        self.name = name

    def shout(self) -> str:
        return self.name.upper()


class Row:
    pk: int

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def summary(self) -> str:
        return f"row {self.pk}"

    @property
    def missing_relation(self) -> Any:
        raise ObjectDoesNotExist


class PlainAuthor(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    shout = serializers.CharField()


class DirectAuthor(DirectReadMixin, PlainAuthor):
    pass


class PlainRow(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    summary = serializers.CharField()
    author = PlainAuthor(allow_null=True)
    author_name = serializers.CharField(source="author.name", allow_null=True)
    at = serializers.DateTimeField(allow_null=True)
    tags = serializers.JSONField()
    optional = serializers.CharField(required=False)
    nullable = serializers.CharField(allow_null=True)
    missing_relation = serializers.CharField(allow_null=True)
    doubled = serializers.SerializerMethodField()
    secret = serializers.CharField(write_only=True)

    def get_doubled(self, row: Row | dict[str, Any]) -> int:
        return 2 * (row["pk"] if isinstance(row, dict) else row.pk)


class DirectRow(DirectReadMixin, PlainRow):
    author = DirectAuthor(allow_null=True)


ROWS = [
    Row(
        pk=1,
        title="First",
        author=Author(7, "Aino"),
        at=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        tags=["roads", "schools"],
        nullable="here",
        secret="hidden",
    ),
    Row(pk=2, title="", author=None, at=None, tags={}, nullable=None),
    {
        "pk": 3,
        "title": "A mapping",
        "summary": "given",
        "author": None,
        "at": None,
        "tags": [],
        "nullable": None,
        "missing_relation": None,
    },
]


def test_it_writes_what_drf_writes_for_every_kind_of_source():
    for row in ROWS:
        assert DirectRow(row).data == PlainRow(row).data


def test_it_writes_lists_as_drf_does_with_the_keys_in_the_same_order():
    direct = DirectRow(ROWS, many=True).data
    plain = PlainRow(ROWS, many=True).data
    assert direct == plain
    assert [list(item) for item in direct] == [list(item) for item in plain]


def test_times_are_in_the_requests_time_zone():
    with timezone.override("Asia/Jakarta"):
        direct = DirectRow(ROWS, many=True).data
        plain = PlainRow(ROWS, many=True).data
    assert direct[0]["at"] == plain[0]["at"] == "2026-03-01T19:30:00+07:00"
    with timezone.override("UTC"):
        assert DirectRow(ROWS[0]).data["at"] == "2026-03-01T12:30:00Z"
