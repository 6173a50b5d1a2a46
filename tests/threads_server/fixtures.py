"""The ``threads_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.threads_server.server import ThreadsTestServer


@pytest.fixture
def threads_server(monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[ThreadsTestServer]:
    """A fresh Threads test server on 127.0.0.1, stopped after the test; the connector is
    pointed at it (``THREADS_API_URL``, ``THREADS_AUTHORIZE_URL``).

    The connector layer's waits (retry back-off, container polling) are recorded in
    ``server.client_waits`` instead of slept, so tests never wait.
    """
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = ThreadsTestServer().start()
    settings.THREADS_API_URL = server.base_url
    settings.THREADS_AUTHORIZE_URL = server.authorize_url
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    monkeypatch.setattr("accounts.http.sleep", server.client_waits.append)
    try:
        yield server
    finally:
        server.release()
        server.stop()
