# ruff: noqa: RUF001 (Turkish text, where the dotless i is a letter)
"""A Turkish-speaking editor in a real browser: picks Türkçe on the login page, logs in,
and works through Turkish pages (home, inbox, calendar, posts), each checked with axe."""

from __future__ import annotations

import re

import pytest

from governance.models import Role
from tests.browser.conftest import settle, visit
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_switches_to_turkish_and_works_in_it(page):
    org = OrganizationFactory.create(name="Örnek Belediyesi", slug="ornek", require_2fa=False)
    ayse = UserFactory.create(email="ayse@ornek.example", full_name="Ayşe Yılmaz")
    MembershipFactory.create(organization=org, user=ayse, role=Role.EDITOR)

    visit(page, "/auth/login/")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    page.get_by_label("Language").select_option("tr")
    page.get_by_role("button", name="Change").click()
    settle(page)

    assert page.locator("html").get_attribute("lang") == "tr"
    assert page.get_by_role("heading", level=1).inner_text() == "Oturum aç"
    page.get_by_label("E-posta adresi").fill("ayse@ornek.example")
    page.get_by_label("Şifre").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Oturum aç", exact=True).click()
    settle(page)

    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Bugün")
    assert re.search(r"\d{2}\.\d{2}\.\d{4}", heading), heading  # 07.12.2026
    assert "Hoş geldiniz, Ayşe. Örnek Belediyesi kurumunda Editör olarak" in page.inner_text(
        ".today-who"
    )

    main_nav = page.get_by_role("navigation", name="Ana menü")
    main_nav.get_by_role("link", name="Gelen kutusu").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text().startswith("Gelen kutusu")

    main_nav.get_by_role("link", name="Takvim").click()
    settle(page)
    assert page.get_by_role("link", name="Bugün").first.is_visible()

    visit(page, "/publishing/posts/new/")
    assert page.get_by_role("button", name="Taslağı kaydet").is_visible()
