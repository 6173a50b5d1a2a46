"""The inbox list's rows and selects, written in Python (see ``inbox.presentation``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from inbox.presentation import SelectField, rows_html, selects_html

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_rows(context: Any) -> SafeString:
    return rows_html(
        context.get("rows") or [],
        can_reply=bool(context.get("can_reply")),
        fresh=bool(context.get("fresh")),
        open_pk=context.get("open_pk"),
        query=str(context.get("query") or ""),
    )


@register.simple_tag
def inbox_selects(selects: list[SelectField]) -> SafeString:
    return selects_html(selects)
