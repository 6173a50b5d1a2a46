"""The Bluesky connect page: how to make an app password, and the form.

The service (``channel_account_connect_bluesky``) and its live tests belong to the
Bluesky connector; here it is replaced by a stand-in with the same signature, so
these tests are about the page: what it says, what it sends, how it shows errors.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.connectors.base import RateLimited, TransientError
from accounts.models import AccountStatus, ChannelAccount
from accounts.tests.helpers import channel_account

PAGE = "/accounts/connect/bluesky/"


@pytest.fixture
def bluesky_service(monkeypatch):
    """A stand-in for the service; ``.calls`` holds its arguments, ``.error`` what to raise."""

    class Stand:
        calls: list[dict] = []
        error: Exception | None = None

        def __call__(
            self, *, organization, actor, handle, app_password, server_url="", request=None
        ):
            self.calls.append(
                {
                    "organization": organization,
                    "actor": actor,
                    "handle": handle,
                    "app_password": app_password,
                    "server_url": server_url,
                    "request": request,
                }
            )
            if self.error is not None:
                raise self.error
            account, _ = ChannelAccount.objects.update_or_create(
                organization=organization,
                network="bluesky",
                handle=handle,
                defaults={"status": AccountStatus.ACTIVE, "connected_by": actor},
            )
            return account

    stand = Stand()
    stand.calls = []
    monkeypatch.setattr(services, "channel_account_connect_bluesky", stand, raising=False)
    return stand


def test_the_page_explains_app_passwords_and_warns_against_the_main_password(
    client, personas, login
):
    login(client, personas.alice)
    body = client.get(PAGE).content.decode()
    assert "<h1>Connect a Bluesky account</h1>" in body
    assert "Settings → Privacy and security → App passwords" in body
    assert "Never enter the account's main password here." in body
    for label in ("Handle", "App password", "Server address (optional)"):
        assert label in body
    assert 'type="password"' in body


def test_connecting_sends_the_form_to_the_service(client, personas, login, bluesky_service):
    login(client, personas.alice)
    response = client.post(
        PAGE,
        {
            "handle": "@city.bsky.social",
            "app_password": "abcd-efgh-ijkl-mnop",
            "server_url": "https://pds.example.gov",
        },
    )
    account = ChannelAccount.objects.get(network="bluesky")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{account.pk}/"
    [call] = bluesky_service.calls
    assert call["organization"] == personas.org
    assert call["actor"] == personas.alice
    assert call["handle"] == "city.bsky.social"
    assert call["app_password"] == "abcd-efgh-ijkl-mnop"
    assert call["server_url"] == "https://pds.example.gov"
    assert call["request"] is not None
    assert "city.bsky.social is connected." in client.get(response["Location"]).content.decode()


def test_the_services_refusal_is_shown_on_the_form(client, personas, login, bluesky_service):
    bluesky_service.error = ValidationError(
        "The handle or app password is wrong.", code="bad_credentials"
    )
    login(client, personas.alice)
    response = client.post(PAGE, {"handle": "city.bsky.social", "app_password": "wrong"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "The handle or app password is wrong." in body
    assert 'value="wrong"' not in body  # the password is not sent back
    assert not ChannelAccount.objects.filter(network="bluesky").exists()


def test_a_field_error_from_the_service_sits_next_to_its_field(
    client, personas, login, bluesky_service
):
    bluesky_service.error = ValidationError({"server_url": "No Bluesky server answers there."})
    login(client, personas.alice)
    response = client.post(
        PAGE,
        {"handle": "city.example.gov", "app_password": "abcd", "server_url": "https://x.example"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_server_url_error"' in body
    assert "No Bluesky server answers there." in body


def test_an_unreachable_server_is_explained(client, personas, login, bluesky_service):
    bluesky_service.error = TransientError()
    login(client, personas.alice)
    response = client.post(
        PAGE,
        {"handle": "city.example.gov", "app_password": "abcd", "server_url": "https://pds.example"},
    )
    assert response.status_code == 400
    assert "We could not reach https://pds.example" in response.content.decode()


def test_a_rate_limit_says_to_wait(client, personas, login, bluesky_service):
    bluesky_service.error = RateLimited(60)
    login(client, personas.alice)
    response = client.post(PAGE, {"handle": "city.bsky.social", "app_password": "abcd"})
    assert response.status_code == 400
    assert "Bluesky asks us to slow down" in response.content.decode()


def test_missing_fields_are_shown_next_to_them(client, personas, login, bluesky_service):
    login(client, personas.alice)
    response = client.post(PAGE, {"handle": "", "app_password": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_handle_error"' in body and 'id="id_app_password_error"' in body
    assert bluesky_service.calls == []


def test_reconnecting_updates_the_same_account(client, personas, login, bluesky_service):
    account = channel_account(
        organization=personas.org,
        network="bluesky",
        handle="city.bsky.social",
        status=AccountStatus.NEEDS_RECONNECT,
    )
    login(client, personas.alice)
    response = client.post(
        PAGE,
        {"account": account.pk, "handle": "city.bsky.social", "app_password": "abcd-efgh"},
    )
    assert response["Location"] == f"/accounts/{account.pk}/"
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE


def test_auditor_and_outsider_cannot_use_the_page(client, personas, login, bluesky_service):
    login(client, personas.carol)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"handle": "a.bsky.social", "app_password": "x"}).status_code == 403
    login(client, personas.charlie)
    other = personas.other_account
    assert client.get(f"{PAGE}?account={other.pk}").status_code == 404
    assert bluesky_service.calls == []
