"""The ``graph_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.graph_server.server import GraphTestServer


@pytest.fixture
def graph_server(monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[GraphTestServer]:
    """A fresh Graph server on 127.0.0.1; ``settings.META_GRAPH_URL``,
    ``META_GRAPH_VIDEO_URL`` and ``META_DIALOG_URL`` point at it, and the connector
    layer's waits are recorded in ``server.client_waits`` instead of slept."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = GraphTestServer().start()
    settings.META_GRAPH_URL = server.base_url
    settings.META_GRAPH_VIDEO_URL = server.base_url
    settings.META_DIALOG_URL = server.base_url
    monkeypatch.setattr("accounts.http.sleep", server.client_waits.append)
    try:
        yield server
    finally:
        server.stop()
