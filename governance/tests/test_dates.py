# ruff: noqa: RUF001, RUF002 (Turkish text, where the dotless i is a letter)
"""Date ranges and day headings read as each language writes them (CLDR, through Babel)."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from governance.dates import format_date_range, format_day_heading, sort_key

WITHIN_A_MONTH = (date(2026, 12, 7), date(2026, 12, 13))
ACROSS_TWO_MONTHS = (date(2026, 11, 30), date(2026, 12, 6))
ACROSS_TWO_YEARS = (date(2026, 12, 28), date(2027, 1, 3))


@pytest.mark.parametrize(
    ("language", "days", "expected"),
    [
        ("fi", WITHIN_A_MONTH, "7.\u201313. joulukuuta 2026"),
        ("fi", ACROSS_TWO_MONTHS, "30. marraskuuta\u00a0\u2013\u00a06. joulukuuta 2026"),
        ("fi", ACROSS_TWO_YEARS, "28. joulukuuta 2026\u00a0\u2013\u00a03. tammikuuta 2027"),
        ("sv", WITHIN_A_MONTH, "7\u201313 dec. 2026"),
        ("sv", ACROSS_TWO_MONTHS, "30 nov.\u20136 dec. 2026"),
        ("sv", ACROSS_TWO_YEARS, "28 dec. 2026\u20133 jan. 2027"),
        ("en", WITHIN_A_MONTH, "7\u00a0\u2013\u00a013 Dec 2026"),
        ("en", ACROSS_TWO_MONTHS, "30 Nov\u00a0\u2013\u00a06 Dec 2026"),
        ("tr", WITHIN_A_MONTH, "7\u201313 Ara 2026"),
        ("tr", ACROSS_TWO_MONTHS, "30 Kas\u00a0\u2013\u00a06 Ara 2026"),
        ("tr", ACROSS_TWO_YEARS, "28 Ara 2026\u00a0\u2013\u00a03 Oca 2027"),
    ],
)
def test_a_range_of_days_is_written_once_with_its_month_and_year(language, days, expected):
    with translation.override(language):
        assert format_date_range(*days) == expected


def test_finnish_never_writes_the_month_in_the_nominative_inside_a_range():
    with translation.override("fi"):
        text = format_date_range(*WITHIN_A_MONTH)
    assert "joulukuu " not in text and "7 joulukuu" not in text


def test_a_range_of_one_day_is_that_day_in_the_languages_format():
    day = date(2026, 12, 7)
    for language, expected in (
        ("en", "7 Dec 2026"),
        ("fi", "7.12.2026"),
        ("sv", "7 december 2026"),
        ("tr", "07.12.2026"),
    ):
        with translation.override(language):
            assert format_date_range(day, day) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Monday, 7 December 2026"),
        ("fi", "maanantai 7. joulukuuta 2026"),
        ("sv", "måndag 7 december 2026"),
        ("tr", "7 Aralık 2026 Pazartesi"),
    ],
)
def test_a_day_heading_names_the_weekday_in_the_language(language, expected):
    with translation.override(language):
        assert format_day_heading(date(2026, 12, 7)) == expected


def test_turkish_names_sort_in_the_turkish_alphabet():
    """ç, ğ, ı, ö, ş and ü each follow their base letter; "I" is the capital of "ı"."""
    names = ["Zambiya", "Şili", "İran", "Irak", "Hindistan", "Hırvatistan", "Çad", "Cezayir"]
    names += ["Ürdün", "Uganda", "Özbekistan", "Orta Afrika", "Gürcistan", "Gana", "Sudan"]
    assert sorted(names, key=lambda name: sort_key(name, "tr")) == [
        "Cezayir",
        "Çad",
        "Gana",
        "Gürcistan",
        "Hırvatistan",
        "Hindistan",
        "Irak",
        "İran",
        "Orta Afrika",
        "Özbekistan",
        "Sudan",
        "Şili",
        "Uganda",
        "Ürdün",
        "Zambiya",
    ]
    # Other languages keep their own rules: Finnish files "Ö" after "z".
    assert sort_key("Özbekistan", "fi") > sort_key("Zambia", "fi")
    assert sort_key("Çad", "en") < sort_key("Cezayir", "en")
