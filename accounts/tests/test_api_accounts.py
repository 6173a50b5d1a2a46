"""Channel accounts through the API: the same access layer and services as the pages."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services
from accounts.connectors.base import RateLimited
from accounts.models import AccountStatus, ChannelAccount
from accounts.tests.flows import CALLBACK
from governance.models import AuditEvent, Role
from governance.services.tokens import api_token_create
from tests.factories import MembershipFactory, UserFactory

LIST = "/api/v1/channel-accounts/"


def test_admin_lists_accounts_with_status_and_capabilities(client, personas, login):
    login(client, personas.alice)
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = {a["handle"]: a for a in body["results"]}["city-news"]
    assert first["network"] == "sandbox"
    assert first["is_sandbox"] is True
    assert first["status"] == "active"
    assert first["capabilities"]["direct_messages"] is True
    assert first["limits"]["max_text"] == 500
    assert "credentials" not in first


def test_limited_editor_lists_only_his_account(client, personas, login):
    login(client, personas.bob)
    body = client.get(LIST).json()
    assert [a["handle"] for a in body["results"]] == ["city-news"]
    assert client.get(f"{LIST}{personas.other_account.pk}/").status_code == 404


def test_a_token_reads_the_list_too(client, personas):
    _, raw = api_token_create(user=personas.carol, organization=personas.org, name="report")
    response = client.get(LIST, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_outsider_gets_404_for_the_organizations_account(client, personas, login):
    login(client, personas.charlie)
    pk = personas.other_account.pk
    response = client.get(f"{LIST}{pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert client.post(f"{LIST}{pk}/check/").status_code == 404
    assert client.post(f"{LIST}{pk}/disconnect/").status_code == 404
    assert ChannelAccount.objects.get(pk=pk).status == AccountStatus.ACTIVE


def test_auditor_reads_but_may_not_connect_check_or_disconnect(client, personas, login):
    login(client, personas.carol)
    pk = personas.other_account.pk
    assert client.get(f"{LIST}{pk}/").status_code == 200
    for path, data in [
        (f"{LIST}{pk}/check/", {}),
        (f"{LIST}{pk}/disconnect/", {}),
        (f"{LIST}connect/sandbox/", {}),
        (f"{LIST}connect/mastodon/", {"instance": "mastodon.social"}),
        (f"{LIST}connect/bluesky/", {"handle": "a.bsky.social", "app_password": "x"}),
    ]:
        response = client.post(path, data, content_type="application/json")
        assert response.status_code == 403, path
        assert response.json()["code"] == "permission_denied"


def test_connecting_a_sandbox_account(client, personas, login):
    login(client, personas.alice)
    response = client.post(f"{LIST}connect/sandbox/", {}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["handle"] == "example-training"
    assert response.json()["is_sandbox"] is True
    taken = client.post(
        f"{LIST}connect/sandbox/", {"handle": "city-news"}, content_type="application/json"
    )
    assert taken.status_code == 400
    assert "already has a Sandbox account" in taken.json()["errors"]["handle"][0]


def test_check_and_disconnect(client, personas, login):
    login(client, personas.alice)
    pk = personas.other_account.pk
    check = client.post(f"{LIST}{pk}/check/")
    assert check.status_code == 200
    assert check.json()["ok"] is True
    assert check.json()["account"]["last_health_check_at"]
    gone = client.post(f"{LIST}{pk}/disconnect/")
    assert gone.status_code == 200
    assert gone.json()["status"] == "disconnected"
    assert AuditEvent.objects.filter(action="channel_account.disconnected").count() == 1


def test_a_failed_check_says_why(client, personas, login):
    account = personas.other_account
    account.credentials = {"sandbox_fail_mode": "auth"}
    account.save(update_fields=["credentials"])
    login(client, personas.alice)
    body = client.post(f"{LIST}{account.pk}/check/").json()
    assert body["ok"] is False
    assert "no longer accepts this account's sign-in" in body["detail"]
    assert body["account"]["status"] == "needs_reconnect"


def test_mastodon_connect_starts_by_api_and_finishes_in_the_browser(
    client, personas, login, mastodon_server
):
    login(client, personas.alice)
    response = client.post(
        f"{LIST}connect/mastodon/",
        {"instance": mastodon_server.base_url},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["server_url"] == mastodon_server.base_url
    assert body["callback_url"] == "http://testserver/accounts/mastodon/callback/"
    assert urlsplit(body["authorization_url"]).path == "/oauth/authorize"

    answer = mastodon_server.approve(body["authorization_url"])
    browser = client_for(personas.alice, login)
    back = browser.get(f"{CALLBACK}?{urlencode(answer)}")
    assert back.status_code == 302
    account = ChannelAccount.objects.get(network="mastodon")
    assert account.status == AccountStatus.ACTIVE
    detail = client.get(f"{LIST}{account.pk}/").json()
    assert detail["handle"] == "@comms@social.example"
    assert detail["network_label"] == "Mastodon"


def client_for(user, login):
    """Another browser, logged in as ``user`` (the API client's session is not it)."""
    browser = Client()
    login(browser, user)
    return browser


def test_an_api_started_flow_cannot_be_finished_by_someone_else(
    client, personas, login, mastodon_server
):
    login(client, personas.alice)
    body = client.post(
        f"{LIST}connect/mastodon/",
        {"instance": mastodon_server.base_url},
        content_type="application/json",
    ).json()
    answer = mastodon_server.approve(body["authorization_url"])
    dana = UserFactory(email="dana@example.org")
    MembershipFactory(organization=personas.org, user=dana, role=Role.ADMIN)
    back = client_for(dana, login).get(f"{CALLBACK}?{urlencode(answer)}")
    assert back.status_code == 400
    assert not ChannelAccount.objects.filter(network="mastodon").exists()
    # The person who started it can still finish.
    assert (
        client_for(personas.alice, login).get(f"{CALLBACK}?{urlencode(answer)}").status_code == 302
    )
    assert ChannelAccount.objects.filter(network="mastodon").count() == 1


def test_a_loopback_instance_is_refused(client, personas, login, mastodon_server, settings):
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = False
    login(client, personas.alice)
    port = urlsplit(mastodon_server.base_url).port
    response = client.post(
        f"{LIST}connect/mastodon/",
        {"instance": f"https://127.0.0.1:{port}"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "this server address is not allowed" in response.json()["errors"]["instance"][0]
    assert mastodon_server.requests == []


def test_an_unreachable_instance_is_a_502(client, personas, login, mastodon_server):
    mastodon_server.fail_next(503, path_prefix="/api/v1/apps")
    login(client, personas.alice)
    response = client.post(
        f"{LIST}connect/mastodon/",
        {"instance": mastodon_server.base_url},
        content_type="application/json",
    )
    assert response.status_code == 502
    assert response.json()["code"] == "network_unavailable"
    assert "We could not reach" in response.json()["detail"]


@pytest.fixture
def bluesky_service(monkeypatch):
    calls: list[dict] = []
    errors: list[Exception] = []

    def stand_in(*, organization, actor, handle, app_password, server_url="", request=None):
        calls.append({"handle": handle, "app_password": app_password, "server_url": server_url})
        if errors:
            raise errors[0]
        return ChannelAccount.objects.create(
            organization=organization, network="bluesky", handle=handle, connected_by=actor
        )

    monkeypatch.setattr(services, "channel_account_connect_bluesky", stand_in, raising=False)
    return calls, errors


def test_connecting_bluesky(client, personas, login, bluesky_service):
    calls, _ = bluesky_service
    login(client, personas.alice)
    response = client.post(
        f"{LIST}connect/bluesky/",
        {"handle": "@city.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["handle"] == "city.bsky.social"
    assert "app_password" not in response.json()
    assert calls == [
        {"handle": "city.bsky.social", "app_password": "abcd-efgh-ijkl-mnop", "server_url": ""}
    ]


def test_a_bluesky_refusal_is_a_400_with_the_services_words(
    client, personas, login, bluesky_service
):
    _, errors = bluesky_service
    errors.append(ValidationError("The handle or app password is wrong.", code="bad_credentials"))
    login(client, personas.alice)
    response = client.post(
        f"{LIST}connect/bluesky/",
        {"handle": "city.bsky.social", "app_password": "nope"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["non_field_errors"] == ["The handle or app password is wrong."]


def test_a_bluesky_rate_limit_is_a_429_with_retry_after(client, personas, login, bluesky_service):
    _, errors = bluesky_service
    errors.append(RateLimited(120))
    login(client, personas.alice)
    response = client.post(
        f"{LIST}connect/bluesky/",
        {"handle": "city.bsky.social", "app_password": "abcd"},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "120"
    assert response.json()["code"] == "throttled"


def test_the_schema_describes_the_endpoints(client, personas, login):
    login(client, personas.alice)
    schema = client.get("/api/schema/", headers={"Accept": "application/json"}).json()
    for path in (
        "/api/v1/channel-accounts/",
        "/api/v1/channel-accounts/{id}/",
        "/api/v1/channel-accounts/{id}/check/",
        "/api/v1/channel-accounts/{id}/disconnect/",
        "/api/v1/channel-accounts/connect/bluesky/",
        "/api/v1/channel-accounts/connect/mastodon/",
        "/api/v1/channel-accounts/connect/sandbox/",
    ):
        assert path in schema["paths"]
