"""Connecting LinkedIn pages through the pages: the organization's app, LinkedIn's
sign-in (the test server), the callback, and choosing pages."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import time_machine

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from accounts.tests.flows import authorization_url
from governance.models import AuditEvent

CONNECT = "/accounts/connect/linkedin/"
CALLBACK = "/accounts/linkedin/callback/"
PAGES = "/accounts/connect/linkedin/pages/"


@pytest.fixture
def app(linkedin_server, settings):
    settings.SITE_URL = "http://testserver"
    return linkedin_server.create_app(redirect_uris=[f"http://testserver{CALLBACK}"])


def _save_app(client, app) -> None:
    response = client.post(
        CONNECT,
        {"action": "save_app", "client_id": app.client_id, "client_secret": app.client_secret},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_page_shows_the_setup_steps_and_the_redirect_address(client, personas, login, app):
    login(client, personas.alice)
    body = client.get(CONNECT).content.decode()
    assert "Community Management API" in body
    assert "http://testserver/accounts/linkedin/callback/" in body
    assert "w_organization_social" in body
    assert "Save your organization's LinkedIn app first." in body


def test_the_secret_is_stored_encrypted_and_never_shown(client, personas, login, app):
    login(client, personas.alice)
    _save_app(client, app)
    stored = NetworkApp.objects.get(organization=personas.org, network="linkedin")
    assert stored.client_secret == app.client_secret
    assert app.client_secret not in client.get(CONNECT).content.decode()


def test_the_whole_flow_connects_the_chosen_pages_in_one_click(
    client, personas, login, app, linkedin_server
):
    member = linkedin_server.member
    city = linkedin_server.create_organization("Kaupunki", admin=member)
    museum = linkedin_server.create_organization(
        "Museo", admin=member, role="CONTENT_ADMINISTRATOR"
    )
    linkedin_server.create_organization("Tilastot", admin=member, role="ANALYST")
    login(client, personas.alice)
    _save_app(client, app)

    url = authorization_url(client.post(CONNECT, {"action": "sign_in"}))
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["w_organization_social r_organization_social rw_organization_admin"]
    assert query["redirect_uri"] == ["http://testserver/accounts/linkedin/callback/"]
    answer = linkedin_server.approve(url)
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")
    assert back["Location"] == PAGES
    choose = client.get(PAGES).content.decode()
    assert "Kaupunki" in choose and "Museo" in choose
    assert "Pages you cannot post for" in choose and "Tilastot" in choose

    done = client.post(PAGES, {"pages": [str(city.id), str(museum.id)]})

    assert done.status_code == 302
    accounts = ChannelAccount.objects.filter(network="linkedin").order_by("display_name")
    assert [a.display_name for a in accounts] == ["Kaupunki", "Museo"]
    assert {a.status for a in accounts} == {AccountStatus.ACTIVE}
    assert accounts[0].credentials["access_token"] == accounts[1].credentials["access_token"]
    assert accounts[0].credentials_expire_at is not None
    assert AuditEvent.objects.filter(action="channel_account.connected").count() == 2
    # The sign-in is used once.
    assert "expired or was used" in client.get(PAGES).content.decode()


def test_a_forged_state_connects_nothing(client, personas, login, app, linkedin_server):
    linkedin_server.create_organization("Kaupunki", admin=linkedin_server.member)
    login(client, personas.alice)
    _save_app(client, app)
    url = authorization_url(client.post(CONNECT, {"action": "sign_in"}))
    answer = linkedin_server.approve(url)
    response = client.get(f"{CALLBACK}?{urlencode({**answer, 'state': 'forged'})}")
    assert response.status_code == 400
    assert "does not match a connect started here" in response.content.decode()
    assert not ChannelAccount.objects.filter(network="linkedin").exists()


def test_a_cancelled_sign_in_says_so(client, personas, login, app):
    login(client, personas.alice)
    response = client.get(f"{CALLBACK}?error=user_cancelled_authorize&state=x")
    assert "cancelled at LinkedIn" in response.content.decode()


def test_a_page_the_member_cannot_post_for_cannot_be_forced(
    client, personas, login, app, linkedin_server
):
    linkedin_server.create_organization("Kaupunki", admin=linkedin_server.member)
    analyst = linkedin_server.create_organization(
        "Tilastot", admin=linkedin_server.member, role="ANALYST"
    )
    login(client, personas.alice)
    _save_app(client, app)
    answer = linkedin_server.approve(authorization_url(client.post(CONNECT, {"action": "sign_in"})))
    client.get(f"{CALLBACK}?{urlencode(answer)}")
    response = client.post(PAGES, {"pages": [str(analyst.id)]})
    assert response.status_code == 400
    assert not ChannelAccount.objects.filter(network="linkedin").exists()


def test_editors_cannot_connect(client, personas, login, app):
    login(client, personas.bob)
    assert client.get(CONNECT).status_code == 403


def test_reconnecting_a_page_signs_in_again_and_keeps_the_account(
    client, personas, login, app, linkedin_server
):
    city = linkedin_server.create_organization("Kaupunki", admin=linkedin_server.member)
    login(client, personas.alice)
    _save_app(client, app)
    for _round in range(2):
        answer = linkedin_server.approve(
            authorization_url(client.post(CONNECT, {"action": "sign_in"}))
        )
        client.get(f"{CALLBACK}?{urlencode(answer)}")
        client.post(PAGES, {"pages": [str(city.id)]})
    account = ChannelAccount.objects.get(network="linkedin")
    assert client.post(f"/accounts/{account.pk}/reconnect/")["Location"] == CONNECT
    assert AuditEvent.objects.filter(action="channel_account.reconnected").count() == 1


def test_admins_are_warned_two_months_before_the_versions_sunset(
    client, personas, login, app, settings
):
    account = ChannelAccount.objects.create(
        organization=personas.org, network="linkedin", handle="kaupunki", remote_id="1"
    )
    settings.LINKEDIN_API_VERSION = "202601"  # sunset 15 January 2027
    login(client, personas.alice)
    with time_machine.travel("2026-12-07T10:00:00Z"):
        detail = client.get(f"/accounts/{account.pk}/").content.decode()
        connect = client.get(CONNECT).content.decode()
    assert "which LinkedIn retires on" in detail and "LINKEDIN_API_VERSION" in detail
    assert "which LinkedIn retires on" in connect
    with time_machine.travel("2026-10-01T10:00:00Z"):
        assert (
            "which LinkedIn retires on"
            not in client.get(f"/accounts/{account.pk}/").content.decode()
        )
