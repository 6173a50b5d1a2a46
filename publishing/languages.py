"""The languages posts are written in: BCP 47 tags, their names and writing direction.

A post's language versions are not limited to the interface's languages: each
organization keeps its own list (``PublishingSettings.languages``; empty: English
and the official languages of the organization's country). Tags are checked and
normalised with ``langcodes`` ('FI' → 'fi', 'sr-latn' → 'sr-Latn', 'iw' → 'he');
names and direction come from CLDR through Babel, in the reader's interface language.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import langcodes
from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from governance.models import Organization
    from publishing.models import PublishingSettings

MAX_TAG_LENGTH = 10  # what fits in Variant.language ("sr-Latn", "se-FI")

# Used when CLDR does not know a tag: languages and scripts written right to left.
_RTL_LANGUAGES = {"ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb", "sd", "ug", "syr", "arc"}
_RTL_SCRIPTS = {"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Rohg", "Mand", "Samr"}


def interface_language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def organization_language_codes(rules: PublishingSettings) -> list[str]:
    """The languages the organization writes posts in, in its order: its own list, or
    until it chooses one, English and its country's official languages."""
    if rules.languages:
        return list(rules.languages)
    cached: list[str] | None = getattr(rules, "_default_language_codes", None)
    if cached is None:
        cached = default_language_codes(rules.organization)
        rules._default_language_codes = cached  # type: ignore[attr-defined]
    return list(cached)


def default_language_codes(organization: Organization) -> list[str]:
    """English and the official languages of the organization's country (CLDR):
    Finland en, fi, sv; Sweden en, sv; Turkey en, tr; Indonesia en, id."""
    from governance.holidays import organization_country

    official = get_official_languages(organization_country(organization), de_facto=True)
    codes = ["en"]
    for code in official:
        if code not in codes:
            codes.append(code)
    return codes


def language_choices(codes: list[str], reader: str | None = None) -> list[tuple[str, str]]:
    return [(code, language_label(code, reader)) for code in codes]


def normalise_language_tag(text: str) -> str:
    """The standard form of a BCP 47 tag, or a ValidationError saying what is wrong."""
    raw = (text or "").strip().replace("_", "-")
    if not raw:
        raise ValidationError(_("Give a language tag, such as fi, sv or ar."), code="required")
    try:
        tag = str(langcodes.standardize_tag(raw))
        valid = langcodes.tag_is_valid(tag)
    except (langcodes.LanguageTagError, ValueError, KeyError):
        valid = False
        tag = raw
    if not valid or len(tag) > MAX_TAG_LENGTH:
        raise ValidationError(
            _("“%(tag)s” is not a language tag (BCP 47), such as fi, sv, se or ar.")
            % {"tag": raw[:40]},
            code="invalid_tag",
        )
    return tag


def is_language_tag(text: str) -> bool:
    try:
        return normalise_language_tag(text) == text
    except ValidationError:
        return False


@lru_cache(maxsize=2048)
def _cldr(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _capitalised(name: str) -> str:
    # Finnish and Swedish CLDR names are lower case ("suomi"); in a list they start a line.
    return name[:1].upper() + name[1:]


def _reader_language() -> str:
    return (get_language() or settings.LANGUAGE_CODE).split("-")[0]


@lru_cache(maxsize=4096)
def _label(tag: str, reader: str) -> str:
    locale = _cldr(tag)
    if locale is None:
        return tag
    name = locale.get_display_name(reader) or tag
    native = locale.get_display_name() or ""
    if native and native.casefold() != name.casefold():
        return f"{_capitalised(name)} — {_capitalised(native)}"
    return _capitalised(name)


def language_label(tag: str, reader: str | None = None) -> str:
    """The language's name in the reader's interface language, with its own name beside
    it ("Arabic — العربية"); the tag itself when CLDR does not know it. The interface's
    own languages go by their name alone, as everywhere in GovSocial ("Finnish")."""
    if tag in interface_language_codes():
        return language_name(tag, reader)
    return _label(tag, reader or _reader_language())


def language_name(tag: str, reader: str | None = None) -> str:
    """The name alone, in the reader's language ("Arabic"), as it reads inside a sentence
    (Finnish and Swedish names are lower case: "suomi", "arabia")."""
    if reader is None and tag in interface_language_codes():
        return str(dict(settings.LANGUAGES)[tag])
    if reader is not None and tag in interface_language_codes():
        with override(reader):
            return str(dict(settings.LANGUAGES)[tag])
    locale = _cldr(tag)
    if locale is None:
        return tag
    return locale.get_display_name(reader or _reader_language()) or tag


def language_direction(tag: str) -> str:
    """'rtl' for a language written right to left, else 'ltr'."""
    locale = _cldr(tag)
    if locale is not None:
        return "rtl" if locale.text_direction == "rtl" else "ltr"
    parts = tag.split("-")
    if any(part in _RTL_SCRIPTS for part in parts[1:]):
        return "rtl"
    return "rtl" if parts[0].lower() in _RTL_LANGUAGES else "ltr"


def search_languages(query: str, reader: str | None = None, limit: int = 20) -> list[str]:
    """Tags whose name (in the reader's language, in English or in the language
    itself) or tag contains ``query``: what the settings page offers to add."""
    needle = query.strip().casefold()
    if len(needle) < 2:
        return []
    reader = reader or _reader_language()
    names_reader = Locale.parse(reader).languages
    names_en = Locale("en").languages
    found: list[str] = []
    for code in sorted(names_en):
        if "_" in code:
            continue
        haystack = [code, names_en.get(code, ""), names_reader.get(code, "")]
        native = _cldr(code)
        if native is not None:
            haystack.append(native.get_display_name() or "")
        if any(needle in text.casefold() for text in haystack):
            found.append(code)
    found.sort(key=lambda code: (not code.startswith(needle), language_name(code, reader)))
    return found[:limit]
