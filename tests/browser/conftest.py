"""Browser tests: Debian's Chromium driven by Playwright against a live server.

Every page a test loads is checked with axe-core (WCAG 2.0/2.1 A and AA rules);
a serious or critical violation fails the test, and so does a page that was
loaded but never checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# Playwright's sync API runs an event loop in this thread; Django's ORM in the
# test itself is still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM}; apt-get install chromium")
    if not AXE_PATH.exists():
        _missing(f"axe-core not found at {AXE_PATH}; run npm ci")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


_AXE_SOURCE: list[str] = []


def _axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_PATH.read_text())
    return _AXE_SOURCE[0]


class AxeTracker:
    """Remembers which pages were loaded and which were checked with axe."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.loaded: list[str] = []
        self.checked: set[str] = set()
        self.violations: list[str] = []
        self.csp_errors: list[str] = []
        page.on("load", lambda: self.loaded.append(self._key(page.url)))
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        # The app must work under its own CSP: no inline script or style anywhere.
        if "Content Security Policy" in message.text:
            self.csp_errors.append(f"{self.page.url}: {message.text}")

    @staticmethod
    def _key(url: str) -> str:
        parts = urlsplit(url)
        return parts.path

    def check(self) -> None:
        page = self.page
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, so the page's CSP stays in force.
            page.evaluate(_axe_source())
        result = page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
            ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))",
            AXE_TAGS,
        )
        self.checked.add(self._key(page.url))
        blocking = [v for v in result if v["impact"] in BLOCKING_IMPACTS]
        for v in blocking:
            self.violations.append(
                f"{page.url}: [{v['impact']}] {v['id']}: {v['help']} {v['nodes']}"
            )
        assert not blocking, "Accessibility violations:\n" + "\n".join(self.violations)

    def unchecked(self) -> list[str]:
        return sorted({url for url in self.loaded if url not in self.checked})


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", timezone_id="Europe/Helsinki"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.axe = AxeTracker(page)
    yield page
    unchecked = page.axe.unchecked()
    csp_errors = page.axe.csp_errors
    context.close()
    assert not unchecked, f"Pages loaded but never checked with axe: {unchecked}"
    assert not csp_errors, "Content Security Policy violations:\n" + "\n".join(csp_errors)


def visit(page: Any, path: str) -> None:
    """Go to ``path`` and check the page with axe."""
    page.goto(path)
    page.axe.check()


def settle(page: Any) -> None:
    """After a click that navigates: wait for the new page and check it with axe."""
    page.wait_for_load_state("load")
    page.axe.check()
