"""The organization's Threads app page and connecting a Threads profile through the pages:
the app form, Threads' authorization window (the test server) and the callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from accounts import services
from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from accounts.tests.flows import authorization_url
from governance.models import AuditEvent

APP_PAGE = "/accounts/apps/threads/"
CONNECT = "/accounts/connect/threads/"
CALLBACK = "/accounts/threads/callback/"
REDIRECT = "http://testserver/accounts/threads/callback/"


@pytest.fixture
def threads_app(personas, threads_server):
    """The organization's Threads app, registered with the test server's app."""
    threads_server.app.redirect_uris.append(REDIRECT)
    return services.network_app_save(
        organization=personas.org,
        actor=personas.alice,
        network="threads",
        client_id=threads_server.app.id,
        client_secret=threads_server.app.secret,
    )


def connect(client, threads_server):
    url = authorization_url(client.post(CONNECT))
    answer = threads_server.approve(url)
    return client.get(f"{CALLBACK}?{urlencode(answer)}")


def test_an_admin_saves_the_threads_app_with_the_secret_encrypted(
    client, personas, login, threads_server
):
    login(client, personas.alice)
    page = client.get(APP_PAGE).content.decode()
    assert REDIRECT in page
    assert "threads_content_publish" in page
    assert "threads_manage_mentions" in page

    saved = client.post(APP_PAGE, {"app_id": "990602627938098", "app_secret": "a1b2C3D4e5"})
    assert saved.status_code == 302
    app = NetworkApp.objects.get(organization=personas.org, network="threads")
    assert (app.client_id, app.client_secret) == ("990602627938098", "a1b2C3D4e5")
    again = client.get(APP_PAGE).content.decode()
    assert "a1b2C3D4e5" not in again
    assert "990602627938098" in again

    kept = client.post(APP_PAGE, {"app_id": "990602627938099", "app_secret": ""})
    assert kept.status_code == 302
    app.refresh_from_db()
    assert (app.client_id, app.client_secret) == ("990602627938099", "a1b2C3D4e5")


def test_the_app_form_explains_bad_input(client, personas, login, threads_server):
    login(client, personas.alice)
    response = client.post(APP_PAGE, {"app_id": "not-a-number", "app_secret": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "The Threads app ID is a number" in body
    assert "Enter the Threads app secret." in body
    assert not NetworkApp.objects.exists()


def test_only_admins_set_up_the_app(client, personas, login, threads_server):
    login(client, personas.bob)
    assert client.get(APP_PAGE).status_code == 403
    assert client.post(APP_PAGE, {"app_id": "123456", "app_secret": "x"}).status_code == 403
    assert not NetworkApp.objects.exists()


def test_without_an_app_the_connect_page_points_to_the_setup(
    client, personas, login, threads_server
):
    login(client, personas.alice)
    page = client.get(CONNECT).content.decode()
    assert "none is saved yet" in page
    assert APP_PAGE in page
    refused = client.post(CONNECT)
    assert refused.status_code == 400
    assert "an administrator must first enter the organization" in refused.content.decode()


def test_the_whole_flow_connects_the_profile_with_a_60_day_sign_in(
    client, personas, login, threads_server, threads_app
):
    login(client, personas.alice)
    url = authorization_url(client.post(CONNECT))
    authorize = urlsplit(url)
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == (
        threads_server.authorize_url
    )
    query = parse_qs(authorize.query)
    assert query["client_id"] == [threads_server.app.id]
    assert query["redirect_uri"] == [REDIRECT]
    answer = threads_server.approve(url)
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")

    account = ChannelAccount.objects.get(network="threads")
    assert back.status_code == 302
    assert back["Location"] == f"/accounts/{account.pk}/"
    assert account.status == AccountStatus.ACTIVE
    assert account.handle == "@cityofexample"
    assert account.remote_id == threads_server.user.id
    assert account.server_url == threads_server.base_url
    assert threads_server.tokens[account.credentials["access_token"]].long_lived
    assert account.credentials_expire_at is not None
    assert AuditEvent.objects.filter(action="channel_account.connected").count() == 1

    detail = client.get(back["Location"]).content.decode()
    assert "@cityofexample is connected." in detail
    assert "Permissions on Threads" in detail
    assert "Read posts that mention the account into the inbox." in detail


def test_the_account_page_says_which_permissions_are_missing(
    client, personas, login, threads_server, threads_app
):
    login(client, personas.alice)
    connect(client, threads_server)
    account = ChannelAccount.objects.get(network="threads")
    account.scopes = ["threads_basic", "threads_content_publish"]
    account.save()
    detail = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "this stops working until the account is reconnected with it" in detail


def test_a_forged_state_is_refused_and_no_token_is_asked_for(
    client, personas, login, threads_server, threads_app
):
    login(client, personas.alice)
    answer = threads_server.approve(authorization_url(client.post(CONNECT)))
    back = client.get(f"{CALLBACK}?{urlencode({**answer, 'state': 'forged'})}")
    assert back.status_code == 400
    assert "does not match a connect started here" in back.content.decode()
    assert threads_server.requests_to("POST", "/oauth/access_token") == []
    assert not ChannelAccount.objects.filter(network="threads").exists()


def test_a_cancelled_sign_in_says_so(client, personas, login, threads_server, threads_app):
    login(client, personas.alice)
    client.post(CONNECT)
    back = client.get(
        CALLBACK + "?error=access_denied&error_reason=user_denied&error_description=denied"
    )
    assert back.status_code == 400
    assert "cancelled on Threads" in back.content.decode()


def test_another_organizations_app_is_never_used(
    client, personas, login, threads_server, threads_app
):
    login(client, personas.charlie)
    refused = client.post(CONNECT)
    assert refused.status_code == 400
    assert "an administrator must first enter" in refused.content.decode()


def test_reconnecting_goes_through_threads_again(
    client, personas, login, threads_server, threads_app
):
    login(client, personas.alice)
    connect(client, threads_server)
    account = ChannelAccount.objects.get(network="threads")
    account.status = AccountStatus.NEEDS_RECONNECT
    account.save()
    url = authorization_url(client.post(f"/accounts/{account.pk}/reconnect/"))
    back = client.get(f"{CALLBACK}?{urlencode(threads_server.approve(url))}")
    assert back.status_code == 302
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert ChannelAccount.objects.filter(network="threads").count() == 1


def test_check_now_shows_a_permission_taken_back_on_threads(
    client, personas, login, threads_server, threads_app
):
    login(client, personas.alice)
    connect(client, threads_server)
    account = ChannelAccount.objects.get(network="threads")
    token = threads_server.tokens[account.credentials["access_token"]]
    token.scopes.discard("threads_manage_insights")

    client.post(f"/accounts/{account.pk}/check/")

    account.refresh_from_db()
    assert "threads_manage_insights" not in account.scopes
    assert "threads_basic" in account.scopes
    detail = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "this stops working until the account is reconnected with it" in detail
