"""Connecting a Mastodon account through the pages: the form, the instance's sign-in
page (the test server), and the callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from accounts.models import AccountStatus, ChannelAccount, MastodonApp
from accounts.tests.flows import (
    CALLBACK,
    authorization_url,
    connect_mastodon,
    start_mastodon,
)
from governance.models import AuditEvent, Role
from tests.factories import MembershipFactory, UserFactory


def test_the_whole_flow_connects_an_active_account(client, personas, login, mastodon_server):
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    assert "Continue to 127.0.0.1:" in response.content.decode()
    url = authorization_url(response)
    authorize = urlsplit(url)
    assert f"{authorize.scheme}://{authorize.netloc}" == mastodon_server.base_url
    assert authorize.path == "/oauth/authorize"
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/accounts/mastodon/callback/"]

    answer = mastodon_server.approve(url)
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")
    account = ChannelAccount.objects.get(network="mastodon")
    assert back.status_code == 302
    assert back["Location"] == f"/accounts/{account.pk}/"
    assert account.status == AccountStatus.ACTIVE
    assert account.organization == personas.org
    assert account.connected_by == personas.alice

    detail = client.get(back["Location"]).content.decode()
    assert "@comms@social.example is connected." in detail
    page = client.get("/accounts/").content.decode()
    assert "@comms@social.example" in page
    assert '<span class="account-status account-status-active">Active</span>' in page
    assert AuditEvent.objects.filter(action="channel_account.connected").count() == 1


def test_the_app_is_registered_once_per_instance_with_an_absolute_callback(
    client, personas, login, mastodon_server
):
    login(client, personas.alice)
    start_mastodon(client, mastodon_server.base_url)
    start_mastodon(client, mastodon_server.base_url)
    assert len(mastodon_server.requests_to("POST", "/api/v1/apps")) == 1
    assert MastodonApp.objects.get().redirect_uri == "http://testserver/accounts/mastodon/callback/"


def test_the_callback_address_uses_the_sites_scheme_on_its_own_host(
    client, personas, login, mastodon_server, settings
):
    settings.SITE_URL = "https://testserver"
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    query = parse_qs(urlsplit(authorization_url(response)).query)
    assert query["redirect_uri"] == ["https://testserver/accounts/mastodon/callback/"]


def test_a_wrong_state_is_refused(client, personas, login, mastodon_server):
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    answer = mastodon_server.approve(authorization_url(response))
    back = client.get(f"{CALLBACK}?{urlencode({**answer, 'state': 'forged'})}")
    assert back.status_code == 400
    body = back.content.decode()
    assert "The account was not connected." in body
    assert "does not match a connect started here" in body
    assert not ChannelAccount.objects.filter(network="mastodon").exists()
    assert mastodon_server.requests_to("POST", "/oauth/token") == []


def test_a_state_works_once(client, personas, login, mastodon_server):
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    answer = mastodon_server.approve(authorization_url(response))
    assert client.get(f"{CALLBACK}?{urlencode(answer)}").status_code == 302
    again = client.get(f"{CALLBACK}?{urlencode(answer)}")
    assert again.status_code == 400
    assert "does not match a connect started here" in again.content.decode()


def test_another_persons_state_is_refused(client, personas, login, mastodon_server):
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    answer = mastodon_server.approve(authorization_url(response))
    client.logout()
    dana = UserFactory(email="dana@example.org")
    MembershipFactory(organization=personas.org, user=dana, role=Role.MANAGER)
    login(client, dana)
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")
    assert back.status_code == 400
    assert not ChannelAccount.objects.filter(network="mastodon").exists()


def test_a_refused_sign_in_is_shown(client, personas, login, mastodon_server):
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    state = parse_qs(urlsplit(authorization_url(response)).query)["state"][0]
    refused = {"error": "access_denied", "error_description": "No", "state": state}
    back = client.get(f"{CALLBACK}?{urlencode(refused)}")
    assert back.status_code == 400
    assert "The sign-in was cancelled at the server" in back.content.decode()
    assert not ChannelAccount.objects.filter(network="mastodon").exists()


def test_an_instance_on_a_loopback_address_is_refused(
    client, personas, login, mastodon_server, settings
):
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = False
    login(client, personas.alice)
    port = urlsplit(mastodon_server.base_url).port
    response = start_mastodon(client, f"https://127.0.0.1:{port}")
    assert response.status_code == 400
    body = response.content.decode()
    assert "GovSocial cannot connect to https://127.0.0.1:" in body
    assert "this server address is not allowed" in body
    assert 'id="id_instance_error"' in body  # next to the field, linked to it
    assert mastodon_server.requests == []
    assert not MastodonApp.objects.exists()


def test_a_plain_http_instance_is_refused_outside_tests(
    client, personas, login, mastodon_server, settings
):
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = False
    login(client, personas.alice)
    response = start_mastodon(client, mastodon_server.base_url)
    assert response.status_code == 400
    assert "the server must use a secure (https) address" in response.content.decode()
    assert mastodon_server.requests == []


def test_an_unreachable_instance_is_explained(client, personas, login, mastodon_server):
    login(client, personas.alice)
    mastodon_server.fail_next(503, path_prefix="/api/v1/apps", times=5)
    response = start_mastodon(client, mastodon_server.base_url)
    assert response.status_code == 400
    assert "We could not reach" in response.content.decode()
    assert not MastodonApp.objects.exists()


def test_a_bad_address_is_shown_next_to_the_field(client, personas, login):
    login(client, personas.alice)
    response = start_mastodon(client, "mastodon.social/@someone")
    assert response.status_code == 400
    body = response.content.decode()
    assert "give only the server&#x27;s address, like mastodon.social" in body
    assert 'aria-describedby="id_instance_helptext id_instance_error"' in body


def test_auditor_cannot_connect(client, personas, login, mastodon_server):
    login(client, personas.carol)
    assert client.get("/accounts/connect/").status_code == 403
    assert client.get("/accounts/connect/mastodon/").status_code == 403
    assert start_mastodon(client, mastodon_server.base_url).status_code == 403
    assert client.get(f"{CALLBACK}?code=x&state=y").status_code == 403
    assert mastodon_server.requests == []


def test_reconnecting_a_revoked_account_updates_the_same_account(
    client, personas, login, mastodon_server
):
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    ChannelAccount.objects.filter(pk=account.pk).update(status=AccountStatus.NEEDS_RECONNECT)
    response = client.post(f"/accounts/{account.pk}/reconnect/")
    answer = mastodon_server.approve(authorization_url(response))
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")
    assert back["Location"] == f"/accounts/{account.pk}/"
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert ChannelAccount.objects.filter(network="mastodon").count() == 1
    assert AuditEvent.objects.filter(action="channel_account.reconnected").count() == 1


def test_an_instance_in_limited_federation_mode_connects(client, personas, login, mastodon_server):
    """Its instance endpoint answers 401 without a token: the account is still connected,
    with the instance's own domain and limits."""
    mastodon_server.limited_federation = True
    mastodon_server.max_characters = 5000
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    assert account.status == AccountStatus.ACTIVE
    assert account.network_limits["max_text"] == 5000
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "@comms@social.example is connected." in page
    assert "no longer accepts" not in page


def test_an_instance_older_than_4_connects_with_its_domain(
    client, personas, login, mastodon_server
):
    mastodon_server.instance_v2 = False
    login(client, personas.alice)
    account = connect_mastodon(client, mastodon_server)
    assert account.handle == "@comms@social.example"
