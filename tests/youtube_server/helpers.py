"""Helpers of the YouTube tests: connecting a channel through the services, and checking
every request the test server saw against the YouTube Data API discovery document
shipped in google-api-python-client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import googleapiclient

from accounts.models import ChannelAccount, NetworkApp
from accounts.services import (
    channel_account_connect_youtube_finish,
    channel_account_connect_youtube_start,
)
from tests.youtube_server.server import LoggedRequest, YouTubeTestServer

REDIRECT_URI = "https://govsocial.example.fi/accounts/youtube/callback/"
DISCOVERY = json.loads(
    (
        Path(googleapiclient.__file__).parent / "discovery_cache/documents/youtube.v3.json"
    ).read_text()
)


def connect(personas: Any, server: YouTubeTestServer, connector: Any) -> ChannelAccount:
    server.redirect_uris.append(REDIRECT_URI)
    NetworkApp.objects.create(
        organization=personas.org,
        network="google",
        client_id=server.client_id,
        client_secret=server.client_secret,
    )
    start = channel_account_connect_youtube_start(
        organization=personas.org, redirect_uri=REDIRECT_URI
    )
    answer = server.approve(start.authorization_url)
    return channel_account_connect_youtube_finish(
        organization=personas.org,
        actor=personas.alice,
        redirect_uri=REDIRECT_URI,
        code=answer["code"],
        returned_state=answer["state"],
        expected_state=start.state,
        code_verifier=start.code_verifier,
    )


def discovery_method(request: LoggedRequest) -> dict[str, Any] | None:
    """The discovery document's method for a request, by HTTP method and path."""
    path = request.path
    for resource in DISCOVERY["resources"].values():
        for method in resource.get("methods", {}).values():
            if method["httpMethod"] != request.method and not (
                request.method == "PUT" and "mediaUpload" in method
            ):
                continue
            paths = {"/" + method["path"]}
            for protocol in method.get("mediaUpload", {}).get("protocols", {}).values():
                paths.add(protocol["path"])
            if path in paths:
                return method
    return None


def assert_requests_are_documented(server: YouTubeTestServer) -> int:
    """Every API request names a real method, its parameters exist and every field of a
    JSON body is a field of the method's request resource."""
    checked = 0
    globals_ = set(DISCOVERY["parameters"]) | {"upload_id"}
    for request in server.requests:
        if request.path in ("/token", "/revoke"):
            continue
        method = discovery_method(request)
        assert method is not None, f"{request.method} {request.path} is no YouTube method"
        unknown = set(request.query) - set(method.get("parameters", {})) - globals_
        assert not unknown, f"{method['id']} has no parameters {unknown}"
        # A chunk goes to the session URI the initiating request was given (its
        # ``upload_id`` names the session); the method's parameters went with that one.
        in_session = request.method == "PUT" and "upload_id" in request.query
        for name, spec in method.get("parameters", {}).items():
            if spec.get("required") and not in_session:
                assert name in request.query, f"{method['id']} needs {name}"
        if request.headers.get("Content-Type", "").startswith("application/json") and request.body:
            schema = DISCOVERY["schemas"][method["request"]["$ref"]]
            for part, fields in json.loads(request.body).items():
                assert part in schema["properties"], f"{method['id']}: no part {part}"
                ref = schema["properties"][part]["$ref"]
                known = set(DISCOVERY["schemas"][ref]["properties"])
                assert set(fields) <= known, f"{method['id']}: {set(fields) - known}"
        checked += 1
    return checked
