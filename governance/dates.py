# ruff: noqa: RUF002 (the examples are written with the en dash the CLDR uses)
"""Dates, date ranges and time-zone names in the reader's language.

Single dates and times use Django's format names (one rule per language, in
``govsocial/formats``). What Django's format strings cannot say correctly is
here, through Babel and the Unicode CLDR: a range of days ("7.–13. joulukuuta
2026", not "7 joulukuu – 13 joulukuu 2026"), a day heading with its weekday,
and the names of time zones ("Kiova", not "Kiev").
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from datetime import date, datetime, tzinfo
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.dates import format_date as babel_format_date
from babel.dates import format_interval, get_timezone_location
from django.utils import formats, timezone, translation

# The CLDR locale whose patterns match the language's format module: English
# is written the European way ("7 Dec 2026", 24-hour clock), as in en_GB.
BABEL_LOCALES = {"en": "en_GB", "fi": "fi", "sv": "sv", "tr": "tr", "id": "id"}


def babel_locale(language: str | None = None) -> Locale:
    """The CLDR locale for an interface language (the active one by default)."""
    code = (language or translation.get_language() or "en").split("-")[0].lower()
    return _locale(BABEL_LOCALES.get(code, code))


@lru_cache(maxsize=16)
def _locale(identifier: str) -> Locale:
    try:
        return Locale.parse(identifier)
    except (ValueError, LookupError):
        return Locale.parse("en_GB")


def format_date_range(start: date, end: date, language: str | None = None) -> str:
    """Two days, both included, as one range in the reader's language.

    "7–13 Dec 2026", "7.–13. joulukuuta 2026", "7–13 dec. 2026"; the shared
    month and year are written once. A range of one day is just that day.
    """
    if start == end:
        return formats.date_format(start, "DATE_FORMAT")
    if end < start:
        start, end = end, start
    text = format_interval(start, end, "yMMMd", locale=babel_locale(language))
    # The CLDR's thin spaces around the dash become no-break spaces: the range
    # stays on one line, and the PDF report's fallback font has no thin space.
    return text.replace("\u2009", "\u00a0")


def format_day_heading(day: date, language: str | None = None) -> str:
    """A day with its weekday, for headings: "Monday, 7 December 2026",
    "maanantai 7. joulukuuta 2026", "måndag 7 december 2026", "Senin, 7 Desember 2026"."""
    locale = babel_locale(language)
    return babel_format_date(day, _DAY_HEADING.get(locale.language, "full"), locale=locale)


# Where the CLDR's full date pads the day ("Senin, 07 Desember 2026"), the day
# is written the way the language's own style guide writes it (PUEBI: "7 Desember").
_DAY_HEADING = {"id": "EEEE, d MMMM y"}


def time_zone_label(name: str, language: str | None = None) -> str:
    """The name of an IANA time zone in the reader's language.

    The country, and the city when the country has several zones: "Suomi",
    "Ukraina (Kiova)", "USA (Knox, Indiana)". Zones outside any country keep
    their city ("McMurdo"); "UTC" stays "UTC".
    """
    return _time_zone_label(name, str(babel_locale(language)))


@lru_cache(maxsize=4096)
def _time_zone_label(name: str, locale_id: str) -> str:
    if name == "UTC" or name.startswith("Etc/"):
        return name.removeprefix("Etc/")
    locale = _locale(locale_id)
    name = canonical_time_zone(name)
    try:
        city = get_timezone_location(name, locale=locale, return_city=True)
    except LookupError:
        city = name.rsplit("/", 1)[-1].replace("_", " ")
    territory: str = get_global("zone_territories").get(name) or ""
    country = locale.territories.get(territory) if territory else None
    if not country:
        return str(city)
    if len(_territory_zones().get(territory, ())) == 1:
        return str(country)
    return f"{country} ({city})"


def canonical_time_zone(name: str) -> str:
    """The CLDR's current name of a zone ("Europe/Kyiv" for "Europe/Kiev")."""
    return str(get_global("zone_aliases").get(name, name))


def is_time_zone_alias(name: str) -> bool:
    """Whether the CLDR knows ``name`` as another name of a zone ("Europe/Kiev")."""
    return name in get_global("zone_aliases")


@lru_cache(maxsize=1)
def _territory_zones() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = {}
    for zone, territory in get_global("zone_territories").items():
        zones.setdefault(territory, []).append(zone)
    return {territory: tuple(names) for territory, names in zones.items()}


# Letters each language files after "z", in its own order; other accented
# letters sort with their base letter ("Érd" with "E").
_AFTER_Z = {"fi": "åäöæø", "sv": "åäöæø"}
_KEPT = {"fi": {"å": "å", "ä": "ä", "ö": "ö", "æ": "ä", "ø": "ö"}}
_KEPT["sv"] = _KEPT["fi"]
# Letters each language files right after another one ("ç" after "c"; the
# dotless "ı" before "i", so after "h"), as the Turkish alphabet does.  # noqa: RUF003
_FILED_AFTER = {"tr": {"ç": "c", "ğ": "g", "ı": "h", "ö": "o", "ş": "s", "ü": "u"}}  # noqa: RUF001
# Case rules of their own: in Turkish "I" is the capital of "ı", "İ" of "i".  # noqa: RUF003
_UPPER_I = {"tr": str.maketrans({"I": "ı", "İ": "i"})}  # noqa: RUF001


def sort_key(text: str, language: str | None = None) -> tuple[tuple[int, str], ...]:
    """A key that sorts names the way the language's alphabet does.

    Not full Unicode collation (no ICU here), but right for the names we sort:
    Finnish and Swedish put å, ä and ö after z; Turkish puts ç, ğ, ı, ö, ş and
    ü each after its base letter; accents elsewhere do not move a name.
    """
    code = (language or translation.get_language() or "en").split("-")[0].lower()
    kept = _KEPT.get(code, {})
    order = _AFTER_Z.get(code, "")
    filed_after = _FILED_AFTER.get(code, {})
    key: list[tuple[int, str]] = []
    for char in text.translate(_UPPER_I.get(code, {})).casefold():
        if char in kept:
            key.append((1 + order.index(kept[char]), ""))
            continue
        if char in filed_after:
            key.append((0, filed_after[char] + "\U0010ffff"))
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
        )
        for c in base:
            key.append((0, c))
    return tuple(key)


def format_datetime_in_zone(moment: datetime, zone: str | tzinfo | None) -> str:
    """A moment in a named zone, with the zone's abbreviation: "7.12.2026 klo 8.44 EET".

    For text written once and read later by several people (a publishing error,
    a handover line), where the reader's own zone is not known when it is written.
    """
    if isinstance(zone, str) or zone is None:
        try:
            zone = zoneinfo.ZoneInfo(zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
    local = timezone.localtime(moment, zone)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} {local.tzname()}"
