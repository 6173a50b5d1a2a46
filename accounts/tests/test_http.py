"""The HTTP chokepoint: timeouts, retries only for reads, rate-limit headers, the address guard."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from accounts import http

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_a_call_without_a_timeout_is_refused():
    with pytest.raises(ValueError, match="timeout"):
        http.http_request("GET", "https://example.org/", timeout=None)  # type: ignore[arg-type]


def test_a_server_that_does_not_answer_in_time_times_out(mastodon_server):
    mastodon_server.hang(path_prefix="/slow", after_processing=False)
    with pytest.raises(http.ResponseTimeout) as caught:
        http.http_request("POST", mastodon_server.base_url + "/slow", json={}, timeout=(2.0, 0.2))
    assert caught.value.request_sent


def test_a_refused_connection_says_nothing_was_sent():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(http.ConnectFailed) as caught:
        http.http_request("POST", f"http://127.0.0.1:{port}/api/v1/statuses", json={})
    assert not caught.value.request_sent


def test_loopback_is_refused_unless_private_networks_are_allowed(mastodon_server, settings):
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(http.BlockedAddress):
        http.http_request("GET", mastodon_server.base_url + "/api/v2/instance")
    assert mastodon_server.requests == []

    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    response = http.http_request("GET", mastodon_server.base_url + "/api/v2/instance")
    assert response.status == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/",
        "http://10.0.0.1/",
        "http://192.168.1.10/",
        "http://172.16.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_private_link_local_and_reserved_addresses_are_refused(url):
    with pytest.raises(http.BlockedAddress):
        http.http_request("GET", url, allow_private=False)


def test_a_name_that_resolves_elsewhere_at_connect_time_is_still_refused(
    mastodon_server, monkeypatch
):
    # The first lookup says "public"; the socket then lands on loopback (DNS rebinding).
    monkeypatch.setattr(http, "_resolve", lambda host, port: ["93.184.216.34"])
    with pytest.raises(http.BlockedAddress):
        http.http_request("GET", mastodon_server.base_url + "/api/v2/instance", allow_private=False)
    assert mastodon_server.requests == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "http:///nohost"])
def test_only_http_addresses_are_accepted(url):
    with pytest.raises(http.InvalidURL):
        http.http_request("GET", url)


def test_a_read_is_retried_after_a_server_error(mastodon_server):
    mastodon_server.fail_next(500, path_prefix="/api/v2/instance")
    response = http.http_request("GET", mastodon_server.base_url + "/api/v2/instance")
    assert response.status == 200
    assert response.attempts == 2
    assert len(mastodon_server.requests_to("GET", "/api/v2/instance")) == 2
    assert mastodon_server.client_waits == [http.RETRY_BACKOFF_SECONDS[0]]


def test_read_retries_are_bounded(mastodon_server):
    mastodon_server.fail_next(503, path_prefix="/api/v2/instance", times=10)
    response = http.http_request("GET", mastodon_server.base_url + "/api/v2/instance")
    assert response.status == 503
    assert len(mastodon_server.requests_to("GET", "/api/v2/instance")) == 1 + http.MAX_RETRIES


def test_a_write_is_never_retried(mastodon_server):
    mastodon_server.fail_next(500, method="POST")
    response = http.http_request("POST", mastodon_server.base_url + "/api/v1/apps", json={})
    assert response.status == 500
    assert len(mastodon_server.requests_to("POST", "/api/v1/apps")) == 1
    assert mastodon_server.client_waits == []


def test_a_write_is_not_retried_after_a_timeout(mastodon_server):
    mastodon_server.hang(method="POST", path_prefix="/api/v1/apps", after_processing=True)
    with pytest.raises(http.ResponseTimeout):
        http.http_request(
            "POST", mastodon_server.base_url + "/api/v1/apps", json={}, timeout=(2.0, 0.2)
        )
    assert len(mastodon_server.requests_to("POST", "/api/v1/apps")) == 1


def test_a_read_marked_not_idempotent_is_not_retried(mastodon_server):
    mastodon_server.fail_next(502, path_prefix="/api/v2/instance")
    response = http.http_request(
        "GET", mastodon_server.base_url + "/api/v2/instance", idempotent=False
    )
    assert response.status == 502


def test_a_long_rate_limit_wait_goes_back_to_the_caller(mastodon_server):
    mastodon_server.fail_next(
        429, path_prefix="/api/v2/instance", headers={"Retry-After": "120"}, times=5
    )
    response = http.http_request("GET", mastodon_server.base_url + "/api/v2/instance")
    assert response.status == 429
    assert response.retry_after == pytest.approx(120, abs=1)
    assert response.attempts == 1


def test_a_short_rate_limit_wait_is_waited_out_for_a_read(mastodon_server):
    mastodon_server.fail_next(429, path_prefix="/api/v2/instance", headers={"Retry-After": "3"})
    response = http.http_request("GET", mastodon_server.base_url + "/api/v2/instance")
    assert response.status == 200
    assert mastodon_server.client_waits == [pytest.approx(3, abs=0.1)]


def test_a_redirect_to_another_host_loses_the_bearer_token(mastodon_server):
    from tests.mastodon_server.server import MastodonTestServer

    other = MastodonTestServer().start()
    try:
        mastodon_server.fail_next(
            302, path_prefix="/moved", headers={"Location": other.base_url + "/landing"}
        )
        response = http.http_request(
            "GET",
            mastodon_server.base_url + "/moved",
            headers={"Authorization": "Bearer secret"},
        )
        assert response.status == 404
        (landing,) = other.requests_to("GET", "/landing")
        assert "Authorization" not in landing.headers
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("headers", "status", "expected"),
    [
        ({"Retry-After": "30"}, 429, 30.0),
        ({"Retry-After": "Sun, 01 Mar 2026 12:01:00 GMT"}, 503, 60.0),
        # Mastodon: an ISO timestamp.
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-01T12:05:00.000Z"}, 429, 300),
        # A real server's reset has microseconds (Ruby's iso8601(6)).
        (
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-01T12:05:00.250117Z"},
            429,
            300.25,
        ),
        # X: epoch seconds.
        (
            {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW.timestamp()) + 90)},
            429,
            90,
        ),
        # Draft standard: seconds from now; Bluesky's PDS sends epoch seconds.
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "45"}, 429, 45),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW.timestamp()) + 10)}, 429, 10),
        # A window that is spent says when it refills, even on a success.
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-01T12:00:20Z"}, 200, 20),
        ({"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "2026-03-01T12:05:00Z"}, 200, None),
        ({"Retry-After": "10", "X-RateLimit-Reset": "2026-03-01T12:05:00Z"}, 429, 10),
        ({}, 429, None),
        ({"Retry-After": "2026-03-01T11:00:00Z"}, 429, 0.0),
    ],
)
def test_retry_after_is_read_from_every_header_style(headers, status, expected):
    assert http.parse_retry_after(headers, status=status, now=NOW) == expected


def test_rate_limit_budget_is_parsed():
    limit = http.parse_rate_limit(
        {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": "2026-03-01T12:05:00.000Z",
        },
        now=NOW,
    )
    assert (limit.limit, limit.remaining) == (300, 299)
    assert limit.reset_at == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


def test_link_header_gives_absolute_urls_by_rel():
    links = http.parse_link_header(
        '<https://m.example/api/v1/notifications?max_id=7>; rel="next", '
        '</api/v1/notifications?min_id=9>; rel="prev"',
        base_url="https://m.example/api/v1/notifications",
    )
    assert links == {
        "next": "https://m.example/api/v1/notifications?max_id=7",
        "prev": "https://m.example/api/v1/notifications?min_id=9",
    }
