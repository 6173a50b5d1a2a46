"""The ``tiktok_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import LazySettings

from tests.tiktok_server.server import TikTokTestServer


@pytest.fixture
def tiktok_server(
    monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> Iterator[TikTokTestServer]:
    """A fresh TikTok test server on 127.0.0.1 playing www.tiktok.com and
    open.tiktokapis.com, stopped after the test. The connector's waits are recorded in
    ``server.client_waits`` instead of slept."""
    server = TikTokTestServer().start()
    settings.TIKTOK_API_URL = server.base_url
    settings.TIKTOK_AUTH_URL = server.base_url
    monkeypatch.setattr("accounts.http.sleep", server.client_waits.append)
    try:
        yield server
    finally:
        server.stop()
