"""Post text as a network shows it: web addresses, #tags and @mentions stand out."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# A web address (without the punctuation that ends a sentence after it), a #tag or an
# @mention (a Mastodon one may carry its server: @name@server.example).
_TOKEN = re.compile(
    r"(?P<link>(?:https?://|www\.)[^\s<]*[^\s<.,;:!?)\]'\"])"
    r"|(?<![\w#&])(?P<tag>#\w+)"
    r"|(?<![\w@])(?P<mention>@\w[\w.]*(?:@[\w-]+(?:\.[\w-]+)+)?)"
)


@register.filter
def social_text(text: str) -> SafeString:
    """``text`` escaped, with its addresses, tags and mentions marked, lines kept."""
    parts: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text or ""):
        kind = match.lastgroup or "link"
        parts.append(escape(text[position : match.start()]))
        parts.append(f'<span class="preview-{kind}">{escape(match.group(0))}</span>')
        position = match.end()
    parts.append(escape((text or "")[position:]))
    return mark_safe("".join(parts).replace("\r\n", "\n").replace("\n", "<br>"))  # noqa: S308
