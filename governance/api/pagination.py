"""Query parameters and paging for every API list: ``limit``/``offset`` (and the audit
log's ``page_size``), validated and capped.

DRF's paginators ignore a value they cannot read (``limit=abc``, ``limit=-1``) and pass
any large number to the database (``offset=99999999999999999999`` is ``bigint out of
range``, a 500). Here a value is a whole number in its range or the request is a 400
naming the parameter and the range, and the schema says the same.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.request import Request

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far past any real list, and well inside PostgreSQL's bigint.
MAX_OFFSET = 1_000_000_000

_DIGITS = re.compile(r"[0-9]{1,20}")


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """The whole-number query parameter ``name`` (``default`` when absent), or a 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise exceptions.ValidationError(
            {
                name: [
                    _("Give a whole number from %(min)d to %(max)d.")
                    % {"min": minimum, "max": maximum}
                ]
            }
        )
    return int(raw)


def query_choice(request: Request, name: str, *, choices: list[str], default: str = "") -> str:
    """The query parameter ``name``, one of ``choices`` (``default`` when absent), or a 400."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise exceptions.ValidationError(
            {name: [_("Give one of: %(choices)s.") % {"choices": ", ".join(choices)}]}
        )
    return raw


def _int_parameter(name: str, description: str, *, minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "name": name,
        "required": False,
        "in": "query",
        "description": description,
        "schema": {"type": "integer", "minimum": minimum, "maximum": maximum},
    }


class PagePagination(LimitOffsetPagination):
    """``limit`` (1-200, 50 by default) and ``offset`` (0-1,000,000,000)."""

    default_limit = DEFAULT_PAGE_SIZE
    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request: Request) -> int:
        return query_int(
            request,
            self.limit_query_param,
            default=DEFAULT_PAGE_SIZE,
            minimum=1,
            maximum=MAX_PAGE_SIZE,
        )

    def get_offset(self, request: Request) -> int:
        return query_int(request, self.offset_query_param, default=0, minimum=0, maximum=MAX_OFFSET)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            _int_parameter(
                self.limit_query_param,
                f"How many results per page: 1 to {MAX_PAGE_SIZE}, {DEFAULT_PAGE_SIZE} by default.",
                minimum=1,
                maximum=MAX_PAGE_SIZE,
            ),
            _int_parameter(
                self.offset_query_param,
                "How many results to skip before the page starts.",
                minimum=0,
                maximum=MAX_OFFSET,
            ),
        ]


class NewestFirstCursorPagination(CursorPagination):
    """A cursor that stays stable while new rows arrive at the top; ``page_size`` 1-200."""

    ordering = ("-created_at", "-id")
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        return query_int(
            request,
            self.page_size_query_param,
            default=DEFAULT_PAGE_SIZE,
            minimum=1,
            maximum=MAX_PAGE_SIZE,
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        cursor, _size = super().get_schema_operation_parameters(view)
        return [
            cursor,
            _int_parameter(
                self.page_size_query_param,
                f"How many results per page: 1 to {MAX_PAGE_SIZE}, {DEFAULT_PAGE_SIZE} by default.",
                minimum=1,
                maximum=MAX_PAGE_SIZE,
            ),
        ]


# For views that page by hand with PagePagination (an APIView has no paginator the
# schema generator could ask).
PAGE_PARAMETERS = [
    OpenApiParameter(
        name=parameter["name"],
        type=parameter["schema"],
        location=OpenApiParameter.QUERY,
        required=False,
        description=parameter["description"],
    )
    for parameter in PagePagination().get_schema_operation_parameters(view=None)
]
