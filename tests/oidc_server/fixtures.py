"""The ``oidc_server`` fixture: the real OpenID Provider of tests/oidc_server/server.mjs
(npm's certified ``oidc-provider``) on a free loopback port.

Registered in the root conftest's ``pytest_plugins``. Needs Node.js and ``npm ci``
(package.json lists oidc-provider); without them the tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent.parent
SERVER = Path(__file__).resolve().parent / "server.mjs"
PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class OIDCTestServer:
    issuer: str
    process: subprocess.Popen[str]
    http: requests.Session = field(default_factory=requests.Session)

    def add_account(self, account_id: str, **claims: Any) -> None:
        """A person who can sign in: ``email``, ``email_verified``, ``name``, ``groups``,
        ``amr`` (default ["pwd"]) and ``acr``."""
        response = self.http.post(
            f"{self.issuer}/_test/accounts", json={"id": account_id, **claims}, timeout=10
        )
        response.raise_for_status()

    def tamper_next_token(self, mode: str) -> None:
        response = self.http.post(f"{self.issuer}/_test/tamper", json={"mode": mode}, timeout=10)
        response.raise_for_status()

    def register_client(self, redirect_uri: str) -> tuple[str, str]:
        """Register a confidential client (Dynamic Client Registration, RFC 7591)."""
        response = self.http.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
                "id_token_signed_response_alg": "RS256",
            },
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        return body["client_id"], body["client_secret"]

    def log_in(self, authorization_url: str, login: str, *, stop_at: str) -> str:
        """What a browser does at the provider: open the authorization address, type
        ``login`` on the sign-in page, follow the redirects until one leads to
        ``stop_at`` (our redirect address), and return that address."""
        browser = requests.Session()
        url = authorization_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code in (301, 302, 303, 307, 308):
                url = urljoin(url, response.headers["Location"])
                if url.startswith(stop_at):
                    return url
                continue
            match = re.search(r'<form method="post" action="([^"]+)"', response.text)
            assert match, f"no sign-in form at {url}: {response.status_code} {response.text[:300]}"
            response = browser.post(
                urljoin(url, match.group(1)),
                data={"login": login},
                allow_redirects=False,
                timeout=10,
            )
            assert response.status_code in (302, 303), response.text[:300]
            url = urljoin(url, response.headers["Location"])
            if url.startswith(stop_at):
                return url
        raise AssertionError(f"the provider never sent the browser back to {stop_at}")


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def _problem() -> str | None:
    if shutil.which(os.environ.get("OIDC_TEST_NODE", "node")) is None:
        return "Node.js is not installed"
    if not PACKAGE.exists():
        return "node_modules/oidc-provider missing (run npm ci)"
    return None


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OIDCTestServer]:
    problem = _problem()
    if problem:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{problem} (CI must run the single sign-on tests)", pytrace=False)
        pytest.skip(problem)
    port = _free_port()
    process = subprocess.Popen(
        [os.environ.get("OIDC_TEST_NODE", "node"), str(SERVER), str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), f"the OpenID Provider did not start: {line!r}"
        yield OIDCTestServer(issuer=line.split()[1], process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
