"""The API documentation in a real browser: Redoc from the site's own files, under its
CSP (nothing fetched from elsewhere), readable by everyone: axe finds no serious or
critical violation once the whole schema is drawn."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_documentation_passes_axe(page):
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(("http://localhost", "data:", "blob:"))
            else None
        ),
    )
    page.goto("/api/docs/")
    assert page.title() == "GovSocial API"
    # Drawn from the schema: every tag of the API and its operations are on the page.
    page.get_by_role("heading", name="Revoke one of the caller's API tokens").first.wait_for()
    assert page.locator("redoc [role=menuitem], redoc li").count() > 50
    page.axe.check()
    assert not outside, f"the docs page asked other sites for {outside}"


def test_swagger_ui_passes_axe(page):
    """The page for trying calls out: deep links off (no focusable link nested in each
    operation's button), colours darkened to AA contrast by our own stylesheet."""
    page.goto("/api/swagger/")
    page.locator(".opblock").first.wait_for()
    page.axe.check()
