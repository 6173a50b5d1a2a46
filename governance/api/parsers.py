"""The API's JSON body parser: DRF's, with a limit on nesting.

``json.loads`` raises ``RecursionError`` (not ``ValueError``) on a body like
``[[[[…]]]]`` a few thousand levels deep, which DRF's parser lets through as a 500;
a body that parses but nests hundreds of levels deep would hit the same limit later,
in validation or rendering. No request body here nests anywhere near the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def _too_deep(data: Any) -> bool:
    """Whether ``data`` nests lists/objects deeper than MAX_DEPTH (without recursing)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        too_deep = ParseError(
            _("JSON parse error: nested more than %(max)d levels deep.") % {"max": MAX_DEPTH}
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise too_deep from exc
        if _too_deep(data):
            raise too_deep
        return data
