"""The ``x_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.x_server.server import XTestServer


@pytest.fixture
def x_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[XTestServer]:
    """A fresh X test server on 127.0.0.1, stopped after the test; the connector's
    API and sign-in addresses point at it. The connector layer's waits (retry
    back-off, media polling) are recorded in ``server.client_waits`` instead of slept."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = XTestServer().start()
    monkeypatch.setattr("accounts.http.sleep", server.client_waits.append)
    try:
        with override_settings(
            X_API_URL=server.base_url,
            X_AUTHORIZE_URL=server.authorize_url,
            CONNECTORS_ALLOW_PRIVATE_NETWORKS=True,
        ):
            yield server
    finally:
        server.stop()
