"""The ``saml_idp`` fixture: pysaml2's identity provider (tests/saml_idp/server.py) on a
free loopback port, with a key and certificate made now (never committed).

Registered in the root conftest's ``pytest_plugins``. Needs the ``xmlsec1`` program
(Debian package xmlsec1); without it the tests skip locally and fail in CI.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_key_and_certificate(directory: Path, name: str = "idp") -> tuple[Path, Path]:
    """A fresh RSA key and a self-signed certificate for it, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"GovSocial test {name}")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file = directory / f"{name}.key"
    cert_file = directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


@dataclass
class SAMLTestIdP:
    base: str
    process: subprocess.Popen[str]
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/metadata"

    @property
    def entity_id(self) -> str:
        return self.metadata_url

    def metadata(self) -> str:
        response = self.http.get(self.metadata_url, timeout=10)
        response.raise_for_status()
        return response.text

    def add_account(self, account_id: str, **attributes: Any) -> None:
        """A person who can sign in: ``email``, ``name``, ``groups``, ``authn_context``."""
        response = self.http.post(
            f"{self.base}/_test/accounts", json={"id": account_id, **attributes}, timeout=10
        )
        response.raise_for_status()

    def next_answer(self, **options: Any) -> None:
        """How the next answer is made: ``sign_assertion``, ``sign_response``,
        ``lifetime_seconds``, ``audience``."""
        response = self.http.post(f"{self.base}/_test/next", json=options, timeout=10)
        response.raise_for_status()

    def log_in(self, sso_url: str, login: str) -> tuple[str, dict[str, str]]:
        """What a browser does at the IdP: open the address with our request, sign in as
        ``login``; the address its answer form posts to, and the form's fields."""
        browser = requests.Session()
        response = browser.get(sso_url, timeout=10)
        assert response.status_code == 200, response.text[:300]
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', response.text))
        response = browser.post(
            urljoin(sso_url, "/sso/login"), data={**fields, "login": login}, timeout=10
        )
        assert response.status_code == 200, response.text[:300]
        action = re.search(r'action="([^"]+)"', response.text)
        assert action, response.text[:300]
        posted = {
            name: unescape(value)
            for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', response.text)
        }
        return unescape(action.group(1)), posted


def _problem() -> str | None:
    if shutil.which("xmlsec1") is None:
        return "the xmlsec1 program is not installed (apt-get install xmlsec1)"
    return None


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SAMLTestIdP]:
    problem = _problem()
    if problem:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{problem} (CI must run the SAML tests)", pytrace=False)
        pytest.skip(problem)
    key_file, cert_file = make_key_and_certificate(tmp_path_factory.mktemp("saml_idp"))
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.saml_idp.server", str(port), str(key_file), str(cert_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=None,  # its tracebacks, if any, show in the failing test's output
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), f"the SAML IdP did not start: {line!r}"
        yield SAMLTestIdP(base=line.split()[1], process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
