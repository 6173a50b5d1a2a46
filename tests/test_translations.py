# ruff: noqa: RUF001, RUF003 (Turkish text, where the dotless i is a letter)
"""Every interface language is complete: each string translated, none fuzzy, placeholders kept.

The catalogues are read as they are committed (locale/<code>/LC_MESSAGES/*.po), for
every language of ``settings.LANGUAGES`` but the source language, so a new language
fails here until all its strings are in. The rendered pages then show that Django
really serves them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings

from governance.dates import sort_key

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# What must survive translation unchanged: %(name)s and %s / %d, {name}, HTML tags.
PLACEHOLDER = re.compile(
    r"%%|%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{[a-z_]+\}|</?[a-z]+\b[^>]*>"
)


def catalogue(code: str, domain: str) -> polib.POFile:
    path = LOCALE / code / "LC_MESSAGES" / f"{domain}.po"
    assert path.is_file(), f"{path} is missing: every interface language needs its catalogue"
    return polib.pofile(str(path))


def translations(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs: one per plural form, the first against the singular;
    a language with one form for every number (Indonesian) against the plural."""
    if entry.msgid_plural:
        forms = sorted(entry.msgstr_plural.items())
        if len(forms) == 1:
            return [(entry.msgid_plural, forms[0][1])]
        return [(entry.msgid if form == 0 else entry.msgid_plural, text) for form, text in forms]
    return [(entry.msgid, entry.msgstr)]


def problems(po: polib.POFile) -> list[str]:
    found = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {entry.msgid!r}")
        for source, text in translations(entry):
            if not text:
                found.append(f"untranslated: {source!r}")
                continue
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(text)):
                found.append(f"placeholders differ: {source!r} -> {text!r}")
            if source.endswith("\n") != text.endswith("\n") or (
                source[-1:] == " " and text[-1:] != " "
            ):
                found.append(f"trailing whitespace differs: {source!r} -> {text!r}")
    return found


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_interface_catalogue_is_complete(code):
    po = catalogue(code, "django")
    assert po.metadata.get("Language") == code
    assert not po.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert len(po) > 1000  # the whole interface, not a stub
    assert problems(po) == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_passkey_script_catalogue_is_complete(code):
    """The passkey script's texts (served by /auth/passkeys/jsi18n/), the same in every language."""
    po = catalogue(code, "djangojs")
    reference = catalogue(TRANSLATED[0], "djangojs")
    assert {entry.msgid for entry in po} == {entry.msgid for entry in reference}
    assert problems(po) == []


@pytest.mark.parametrize("code", TRANSLATED[1:])
def test_every_catalogue_has_the_same_strings(code):
    """makemessages ran for each language: none misses a string another one has."""

    def strings(language: str) -> set[str]:
        return {e.msgid for e in catalogue(language, "django") if not e.obsolete}

    difference = strings(code) ^ strings(TRANSLATED[0])
    assert not difference, sorted(difference)[:10]


def test_the_placeholder_check_notices_a_lost_placeholder():
    po = polib.POFile()
    po.append(polib.POEntry(msgid='Hello %(name)s, see <a href="x">this</a>', msgstr="Merhaba"))
    po.append(polib.POEntry(msgid="{author} wrote", msgstr="{yazar} yazdı"))
    po.append(polib.POEntry(msgid="Post: ", msgstr="Gönderi:"))
    assert len(problems(po)) == 3


def test_the_login_page_speaks_turkish_from_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "tr"
    page = client.get("/auth/login/").content.decode()
    assert '<html lang="tr">' in page
    assert "<h1>Oturum aç</h1>" in page
    assert "Şifrenizi mi unuttunuz?" in page
    assert "Log in" not in page


def test_the_login_page_speaks_turkish_to_a_turkish_browser(client):
    page = client.get("/auth/login/", headers={"Accept-Language": "tr-TR,tr;q=0.9,en;q=0.5"})
    text = page.content.decode()
    assert '<html lang="tr">' in text
    assert "<h1>Oturum aç</h1>" in text


def test_the_language_switcher_offers_turkish_by_its_own_name(client):
    page = client.get("/auth/login/").content.decode()
    assert '<option value="tr" lang="tr">Türkçe</option>' in page


def test_the_passkey_script_speaks_turkish(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "tr"
    script = client.get("/auth/passkeys/jsi18n/").content.decode()
    # The catalogue is JSON inside the script, non-ASCII letters escaped.
    assert json.dumps("Doğrulanıyor…") in script


def test_the_settings_page_in_turkish_names_and_sorts_time_zones_the_turkish_way(
    client, personas, login
):
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "tr"
    body = client.get("/governance/settings/").content.decode()
    assert "<h1>Kurum ayarları</h1>" in body
    group = body.split('<optgroup label="Avrupa">', 1)[1].split("</optgroup>", 1)[0]
    europe = re.findall(r"<option [^>]*>([^<]*)</option>", group)
    assert europe == sorted(europe, key=lambda name: sort_key(name, "tr"))
    assert ">Türkiye</option>" in group and ">Ukrayna (Kiev)</option>" in group
    # Ç after C; ı (Kıbrıs, Sırbistan) between h and i; İ (İrlanda) with i.
    assert europe.index("Cebelitarık") < europe.index("Çekya") < europe.index("Danimarka")
    assert europe.index("Kıbrıs (Lefkoşa)") < europe.index("Kuzey Makedonya")
    assert europe.index("Sırbistan") < europe.index("Slovakya")
    assert europe.index("Hollanda") < europe.index("İrlanda") < europe.index("Jersey")
