"""Language of parts (WCAG 3.1.2) for user text: ``dir="{{ code|text_dir }}"`` beside
``lang="{{ code }}"``, and a language's name in the reader's language."""

from __future__ import annotations

from django import template

from publishing.languages import is_language_tag, language_direction, language_label

register = template.Library()


@register.filter
def text_dir(code: object) -> str:
    """'rtl' or 'ltr' for a language tag ('auto' when there is none or it is not one)."""
    tag = str(code or "")
    if not tag or not is_language_tag(tag):
        return "auto"
    return language_direction(tag)


@register.filter
def language_label_of(code: object) -> str:
    return language_label(str(code or ""))
