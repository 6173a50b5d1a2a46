"""The organization's country and its public holidays, in the reader's language.

The ``holidays`` package knows the holidays of most countries and, for many, their
names in several languages (Finland's in Finnish and Swedish, Sweden's in Swedish).
A name in a language the package lacks falls back to the country's own language.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from babel.core import get_global
from django.utils import translation

from governance.dates import babel_locale, sort_key
from governance.models import Organization

DEFAULT_COUNTRY = "FI"


@lru_cache(maxsize=1)
def supported_countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of the countries whose holidays the package knows."""
    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


def country_name(code: str, language: str | None = None) -> str:
    return str(babel_locale(language).territories.get(code, code))


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of every supported country, sorted by name in the reader's language."""
    choices = [(code, country_name(code, language)) for code in supported_countries()]
    return sorted(choices, key=lambda choice: sort_key(choice[1], language))


def country_for_time_zone(name: str) -> str:
    """The country of a time zone ("Europe/Istanbul" is TR), or Finland when unknown."""
    territory = str(get_global("zone_territories").get(name, ""))
    return territory if territory in supported_countries() else DEFAULT_COUNTRY


def organization_country(organization: Organization) -> str:
    """The organization's country: chosen in its settings, else its time zone's."""
    if organization.country in supported_countries():
        return organization.country
    return country_for_time_zone(organization.time_zone)


def _holiday_language(country: str, language: str) -> str | None:
    """The package's language code for ``language`` in ``country`` ("sv_FI" for Swedish
    in Finland), else the country's own language (named: left to itself, the package
    may follow the server's locale instead)."""
    known = holidays.country_holidays(country)
    supported = known.supported_languages
    code = language.split("-")[0].lower()
    for candidate in (code, f"{code}_{country}", "en_US" if code == "en" else ""):
        if candidate in supported:
            return candidate
    matches = sorted(lang for lang in supported if lang.split("_")[0] == code)
    return matches[0] if matches else getattr(known, "default_language", None)


@lru_cache(maxsize=256)
def _year_holidays(country: str, year: int, language: str | None) -> tuple[tuple[date, str], ...]:
    found = holidays.country_holidays(country, years=year, language=language)
    return tuple(sorted(found.items()))


def holidays_between(
    country: str, first: date, end: date, language: str | None = None
) -> dict[date, list[str]]:
    """The public holidays of ``country`` from ``first`` up to ``end`` (exclusive), by
    day, named in ``language`` (the active one by default) where the package can."""
    if country not in supported_countries() or end <= first:
        return {}
    holiday_language = _holiday_language(country, language or translation.get_language() or "en")
    by_day: dict[date, list[str]] = {}
    for year in range(first.year, end.year + 1):
        for day, names in _year_holidays(country, year, holiday_language):
            if first <= day < end:
                # The package joins two holidays on one day with "; ".
                by_day.setdefault(day, []).extend(name.strip() for name in names.split(";"))
    return by_day
