"""The ``youtube_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.youtube_server.server import YouTubeTestServer


@pytest.fixture
def youtube_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[YouTubeTestServer]:
    """A fresh YouTube test server on 127.0.0.1; the connector's API, consent page and
    token endpoint point at it."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = YouTubeTestServer().start()
    monkeypatch.setattr("accounts.http.sleep", lambda seconds: None)
    try:
        with override_settings(
            YOUTUBE_API_URL=server.base_url,
            YOUTUBE_AUTHORIZE_URL=server.authorize_url,
            YOUTUBE_TOKEN_URL=server.base_url,
            CONNECTORS_ALLOW_PRIVATE_NETWORKS=True,
        ):
            yield server
    finally:
        server.stop()
