"""A video on Mastodon: POST /api/v2/media streamed as multipart from the file, the 202
while it is processed, GET /api/v1/media/:id until 200 with a url, then the status with
its media id (docs.joinmastodon.org/methods/media/)."""

from __future__ import annotations

import pytest

from accounts import http
from accounts.connectors.base import MediaItem, PublishRequest
from accounts.connectors.mastodon import MultipartFile
from accounts.connectors.registry import get_connector
from accounts.tests.helpers import channel_account


@pytest.fixture
def connector():
    return get_connector("mastodon")


@pytest.fixture
def account(db, mastodon_server):
    return channel_account(
        network="mastodon",
        handle="@comms@social.example",
        remote_id=mastodon_server.user.id,
        server_url=mastodon_server.base_url,
        credentials={"access_token": mastodon_server.issue_token()},
    )


def video_item(tmp_path, size: int = 300_000) -> MediaItem:
    path = tmp_path / "silta.mp4"
    path.write_bytes(bytes(i % 253 for i in range(size)))
    return MediaItem(
        content=b"",
        mime_type="video/mp4",
        alt_text="Uusi silta joen yli",
        filename="silta.mp4",
        kind="video",
        path=str(path),
        size_bytes=size,
        duration_ms=30_000,
        width=1280,
        height=720,
    )


def test_a_video_is_streamed_waited_for_and_posted_once(
    connector, account, mastodon_server, tmp_path, monkeypatch
):
    item = video_item(tmp_path)
    bodies = []
    real = http.http_request

    def recording(method, url, **kwargs):
        if url.endswith("/api/v2/media"):
            bodies.append(kwargs.get("data"))
        return real(method, url, **kwargs)

    monkeypatch.setattr(http, "http_request", recording)
    request = PublishRequest(text="Uusi silta", media=[item], idempotency_key="silta-1")
    assert connector.validate(request, account=account) == []

    result = connector.publish(account, request)

    # Streamed: a file-like body, not bytes.
    assert isinstance(bodies[0], MultipartFile)
    (media_id,) = mastodon_server.statuses[result.remote_id].media_ids
    media = mastodon_server.media[media_id]
    assert media.mime_type == "video/mp4"
    assert media.description == "Uusi silta joen yli"
    assert mastodon_server.media_bytes[media_id] == (tmp_path / "silta.mp4").read_bytes()
    # 202 on upload, then 206 twice and 200 (the documented processing answers).
    assert len(mastodon_server.requests_to("POST", "/api/v2/media")) == 1
    assert len(mastodon_server.requests_to("GET", f"/api/v1/media/{media_id}")) == 3
    (status,) = mastodon_server.requests_to("POST", "/api/v1/statuses")
    assert status.headers["Idempotency-Key"] == "silta-1"


def test_a_video_still_processing_is_a_transient_failure_and_no_status(
    connector, account, mastodon_server, tmp_path
):
    mastodon_server.video_processing_polls = 1000
    from accounts.connectors.base import TransientError

    with pytest.raises(TransientError, match="still processing a video"):
        connector.publish(account, PublishRequest(text="x", media=[video_item(tmp_path)]))
    assert mastodon_server.statuses_of(mastodon_server.user) == []


def test_the_instances_video_limits_are_read_at_connect_and_checked(
    connector, account, mastodon_server, tmp_path
):
    limits, _domain = connector.fetch_instance(mastodon_server.base_url)
    assert limits["max_video_bytes"] == 99 * 1024 * 1024
    assert "video/mp4" in limits["video_mime_types"]
    account.network_limits = {**limits, "max_video_bytes": 100_000}
    problems = connector.validate(
        PublishRequest(text="x", media=[video_item(tmp_path)]), account=account
    )
    assert problems == ["Video 1 is larger than 1 MB."]


def test_the_multipart_body_is_what_a_form_would_send(tmp_path):
    item = video_item(tmp_path, size=5000)
    with MultipartFile(
        fields={"description": 'Sillan "kuvaus"'},
        name="file",
        filename="silta.mp4",
        content_type="video/mp4",
        path=item.path,
    ) as body:
        whole = body.read()
        assert len(whole) == len(body)
        body.seek(0)
        pieces = b"".join(iter(lambda: body.read(777), b""))
    assert pieces == whole
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.HTTP).parsebytes(
        f"Content-Type: {body.content_type}\r\n\r\n".encode() + whole
    )
    parts = list(message.iter_parts())
    description = parts[0].get_payload(decode=True)
    assert isinstance(description, bytes) and description.decode() == 'Sillan "kuvaus"'
    assert parts[1].get_filename() == "silta.mp4"
    assert parts[1].get_payload(decode=True) == (tmp_path / "silta.mp4").read_bytes()
