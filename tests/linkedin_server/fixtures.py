"""The ``linkedin_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import LazySettings

from tests.linkedin_server.server import LinkedInTestServer


@pytest.fixture
def linkedin_server(
    monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> Iterator[LinkedInTestServer]:
    """A fresh LinkedIn test server on 127.0.0.1 playing www.linkedin.com and
    api.linkedin.com, stopped after the test. The connector's waits are recorded in
    ``server.client_waits`` instead of slept, so tests never wait."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = LinkedInTestServer().start()
    settings.LINKEDIN_API_URL = server.base_url
    settings.LINKEDIN_AUTH_URL = server.base_url
    monkeypatch.setattr("accounts.http.sleep", server.client_waits.append)
    try:
        yield server
    finally:
        server.stop()
