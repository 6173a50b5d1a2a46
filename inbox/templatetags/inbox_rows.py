"""The inbox list's rows, written in Python (see ``inbox.presentation.rows_html``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

from inbox.presentation import rows_html

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
