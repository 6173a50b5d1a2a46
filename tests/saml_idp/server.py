"""A SAML 2.0 identity provider for the tests: pysaml2's own IdP (``saml2.server.Server``)
behind a small HTTP server on a loopback port.

    python -m tests.saml_idp.server PORT KEY_FILE CERT_FILE

prints ``ready <base address>`` once it listens. Its key and certificate are made by
the fixture at test time (tests/saml_idp/fixtures.py); none is committed.

- ``GET /metadata``: the IdP's metadata (entity ID = this address).
- ``GET /sso?SAMLRequest=…`` (HTTP-Redirect binding): a sign-in page with a form.
- ``POST /sso/login`` (``login``, ``SAMLRequest``): the signed answer, as the usual
  self-posting HTML form to the service provider's assertion consumer service.
- ``POST /_test/accounts`` (JSON: ``id``, ``email``, ``name``, ``groups``,
  ``authn_context``): a person who can sign in.
- ``POST /_test/next`` (JSON: ``sign_assertion``, ``sign_response``,
  ``lifetime_seconds``, ``audience``, ``sign_alg`` and ``digest_alg`` (SHA-256 unless
  given), ``destination``: the Destination and Recipient written in it, while the form
  still posts to the real one): how the next answer is made (once).
"""

from __future__ import annotations

import html
import json
import shutil
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.assertion import Policy
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

ACCOUNTS: dict[str, dict[str, Any]] = {}
NEXT: dict[str, Any] = {}


def make_server(base: str, key_file: str, cert_file: str) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": f"{base}/metadata",
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": key_file,
            "cert_file": cert_file,
            "metadata": {},
            "service": {
                "idp": {
                    "name": "Test IdP",
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "sign_assertion": True,
                    "sign_response": False,
                }
            },
        }
    )
    server = Server(config=config)
    # No SP metadata is loaded here (the SP's address is only known to the test client):
    # answers are never encrypted, so pysaml2 need not look for the SP's key.
    server.has_encrypt_cert_in_metadata = lambda sp_entity_id: False
    return server


class Handler(BaseHTTPRequestHandler):
    server_version = "TestSAMLIdP"
    idp: Server
    base: str

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: str, content_type: str = "text/html") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/metadata":
            self._send(200, str(entity_descriptor(self.idp.config)), "application/xml")
        elif parts.path == "/sso":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            saml_request = query.get("SAMLRequest", "")
            self.idp.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT)  # must parse
            self._send(
                200,
                '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                "<title>Test IdP: sign in</title></head><body><main><h1>Test IdP</h1>"
                '<form method="post" action="/sso/login">'
                f'<input type="hidden" name="SAMLRequest" value="{html.escape(saml_request)}">'
                '<label for="login">User name</label> <input id="login" name="login">'
                "<button>Sign in</button></form></main></body></html>",
            )
        else:
            self._send(404, "not found")

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/_test/accounts":
            account = json.loads(self._body())
            ACCOUNTS[account["id"]] = account
            self._send(200, "{}", "application/json")
        elif parts.path == "/_test/next":
            NEXT.clear()
            NEXT.update(json.loads(self._body()))
            self._send(200, "{}", "application/json")
        elif parts.path == "/sso/login":
            form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
            self._login(form)
        else:
            self._send(404, "not found")

    def _login(self, form: dict[str, str]) -> None:
        account = ACCOUNTS.get(form.get("login", ""))
        if account is None:
            self._send(403, "unknown account")
            return
        request = self.idp.parse_authn_request(form["SAMLRequest"], BINDING_HTTP_REDIRECT)
        message = request.message
        options = dict(NEXT)
        NEXT.clear()
        acs = message.assertion_consumer_service_url
        audience = options.get("audience") or message.issuer.text
        identity = {
            "mail": [account["email"]],
            "displayName": [account.get("name", "")],
            "groups": list(account.get("groups", [])),
        }
        policy = Policy(
            {
                "default": {
                    "lifetime": {"seconds": int(options.get("lifetime_seconds", 300))},
                    "attribute_restrictions": None,
                }
            }
        )
        response = self.idp.create_authn_response(
            identity,
            in_response_to=message.id,
            destination=options.get("destination") or acs,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=f"subject-{account['id']}"),
            authn={
                "class_ref": account.get("authn_context") or PASSWORDPROTECTEDTRANSPORT,
                "authn_auth": self.base,
            },
            sign_assertion=options.get("sign_assertion", True),
            sign_response=options.get("sign_response", False),
            release_policy=policy,
            sign_alg=options.get("sign_alg") or SIG_RSA_SHA256,
            digest_alg=options.get("digest_alg") or DIGEST_SHA256,
        )
        info = self.idp.apply_binding(
            BINDING_HTTP_POST, str(response), acs, relay_state="", response=True
        )
        self._send(200, info["data"])


def main() -> None:
    port, key_file, cert_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    base = f"http://127.0.0.1:{port}"
    Handler.idp = make_server(base, key_file, cert_file)
    Handler.base = base
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"ready {base}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
