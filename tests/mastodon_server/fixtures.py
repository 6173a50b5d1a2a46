"""The ``mastodon_server`` fixture (registered in the root conftest's ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mastodon_server.server import MastodonTestServer


@pytest.fixture
def mastodon_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonTestServer]:
    """A fresh Mastodon test server on 127.0.0.1, stopped after the test.

    The connector layer's waits (retry back-off, media polling) are recorded in
    ``server.client_waits`` instead of slept, so tests never wait.
    """
    # The server speaks plain http on loopback; oauthlib refuses http unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    server = MastodonTestServer().start()
    monkeypatch.setattr("accounts.http.sleep", server.client_waits.append)
    try:
        yield server
    finally:
        server.stop()
