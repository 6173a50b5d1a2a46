"""The interface in Indonesian (Bahasa Indonesia).

Every string of the catalogues is translated (none missing, none fuzzy), each
translation keeps the placeholders and HTML of its English text, and the pages a
person opens come out in Indonesian: the login page, the language switcher, the
passkey script's texts, and dates and times written the Indonesian way.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import polib
import pytest
from django.conf import settings

from governance.dates import format_date_range, format_day_heading
from governance.holidays import country_for_time_zone, holidays_between
from governance.models import User

LOCALE = Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES"
CATALOGUES = ["django.po", "djangojs.po"]

# What a translation must carry over unchanged: printf-style and brace
# placeholders, a literal "%%", and HTML tags.
PLACEHOLDER = re.compile(
    r"%%|%\([A-Za-z_]+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%[sdfr]|\{[A-Za-z_]*\}|</?[a-zA-Z][^>]*>"
)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def catalogue(name: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / name))


def test_indonesian_is_an_interface_language():
    assert ("id", "Indonesian") in [(code, str(name)) for code, name in settings.LANGUAGES]


@pytest.mark.parametrize("name", CATALOGUES)
def test_every_string_is_translated_and_none_is_fuzzy(name):
    po = catalogue(name)
    assert po.metadata["Language"] == "id"
    assert po.metadata["Plural-Forms"].startswith("nplurals=1;")
    entries = [entry for entry in po if not entry.obsolete]
    assert entries
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    for entry in entries:
        if entry.msgid_plural:
            assert list(entry.msgstr_plural) == [0], entry.msgid
            assert entry.msgstr_plural[0].strip(), entry.msgid


@pytest.mark.parametrize("name", CATALOGUES)
def test_translations_keep_placeholders_html_and_edge_whitespace(name):
    wrong = []
    for entry in catalogue(name):
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            # Indonesian has one form: it must name what the plural names.
            expected = placeholders(entry.msgid_plural) | placeholders(entry.msgid)
            translations = list(entry.msgstr_plural.values())
        else:
            expected = placeholders(entry.msgid)
            translations = [entry.msgstr]
        for text in translations:
            if placeholders(text) != expected:
                wrong.append((entry.msgid, text))
            for pattern in (r"^\s*", r"\s*$"):
                source = re.search(pattern, entry.msgid)
                target = re.search(pattern, text)
                if source and target and source.group() != target.group():
                    wrong.append((entry.msgid, text))
    assert wrong == []


def visible_text(page: str) -> str:
    body = page.split("<body", 1)[1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_the_login_page_is_in_indonesian_by_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    page = client.get("/auth/login/").content.decode()
    assert '<html lang="id">' in page
    assert "<title>Masuk · GovSocial</title>" in page
    text = visible_text(page)
    assert "Lupa kata sandi?" in text
    assert "Forgotten your password?" not in text
    # The switcher names the language in itself and marks it chosen.
    assert re.search(r'<option value="id" lang="id" selected>\s*Bahasa Indonesia\s*</option>', page)


def test_a_browser_asking_for_indonesian_gets_indonesian(client):
    page = client.get("/auth/login/", HTTP_ACCEPT_LANGUAGE="id-ID,id;q=0.9,en;q=0.5")
    assert "<title>Masuk · GovSocial</title>" in page.content.decode()


def test_choosing_indonesian_in_the_switcher_keeps_it(client):
    answer = client.post("/i18n/setlang/", {"language": "id", "next": "/auth/login/"})
    assert answer.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "id"
    assert "<title>Masuk · GovSocial</title>" in client.get("/auth/login/").content.decode()


def test_the_passkey_script_speaks_indonesian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    script = client.get("/auth/passkeys/jsi18n/").content.decode()
    assert "Memverifikasi" in script
    assert "Verifikasi dengan kunci sandi" in script


def test_dates_are_written_the_indonesian_way():
    assert format_day_heading(date(2026, 12, 7), "id") == "Senin, 7 Desember 2026"
    assert format_date_range(date(2026, 11, 30), date(2026, 12, 6), "id") == (
        "30 Nov\u20136 Des 2026"
    )


def test_indonesian_public_holidays_are_named_in_indonesian():
    assert country_for_time_zone("Asia/Jakarta") == "ID"
    assert holidays_between("ID", date(2026, 8, 17), date(2026, 8, 18), "id") == {
        date(2026, 8, 17): ["Hari Kemerdekaan Republik Indonesia"]
    }


def test_a_member_who_chose_indonesian_sees_the_calendar_in_it(client, login, personas):
    User.objects.filter(pk=personas.alice.pk).update(
        time_zone="Asia/Jakarta", preferred_language="id"
    )
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    response = client.get("/publishing/calendar/week/?date=2026-12-02")
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert "Minggu 49: 30 Nov\u20136 Des 2026" in text
    assert " 09.00 " in text  # the week's rows of hours, with the Indonesian full stop
    assert "Kalender" in text


# The everyday screens, and words English would show there.
SCREENS = [
    "/",
    "/publishing/posts/new/",
    "/publishing/calendar/",
    "/inbox/",
    "/analytics/",
    "/accounts/",
    "/governance/members/",
    "/governance/audit/",
    "/governance/settings/",
]
ENGLISH = re.compile(r"\b(the|and|Save|Choose|your|with|This|Add|New|Show|All)\b")


def test_the_everyday_screens_have_no_english_left(client, login, personas):
    User.objects.filter(pk=personas.alice.pk).update(preferred_language="id")
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    for url in SCREENS:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert '<html lang="id">' in page, url
        text = visible_text(page)
        assert "Kotak masuk" in text, url  # the main navigation
        # Place names ("Amerika Serikat (New York)") are not English text.
        english = [
            line.strip()
            for line in text.splitlines()
            if ENGLISH.search(line) and "Amerika Serikat" not in line
        ]
        assert english == [], url
