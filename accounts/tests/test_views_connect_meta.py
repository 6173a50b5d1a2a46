"""Connecting Facebook Pages and Instagram accounts through the pages: the Meta app,
Facebook Login (the local Graph server) and the pick page."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from accounts.models import ChannelAccount, NetworkApp
from accounts.tests.flows import authorization_url
from governance.models import AuditEvent, Role
from tests.factories import MembershipFactory, UserFactory


def _app(org, graph_server) -> NetworkApp:
    return NetworkApp.objects.create(
        organization=org,
        network="meta",
        client_id=graph_server.app_id,
        client_secret=graph_server.app_secret,
    )


def test_only_admins_enter_the_meta_app_and_the_secret_is_never_shown(
    client, personas, login, graph_server
):
    manager = UserFactory.create()
    MembershipFactory.create(organization=personas.org, user=manager, role=Role.MANAGER)
    login(client, manager)
    assert client.get("/accounts/apps/meta/").status_code == 403
    client.logout()
    login(client, personas.alice)
    response = client.post(
        "/accounts/apps/meta/",
        {"app_id": graph_server.app_id, "app_secret": graph_server.app_secret},
    )
    assert response.status_code == 302
    page = client.get("/accounts/apps/meta/").content.decode()
    assert graph_server.app_secret not in page
    assert "http://localhost:8000/accounts/meta/callback/" in page
    event = AuditEvent.objects.get(action="network_app.created")
    assert graph_server.app_secret not in str(event.new_values)


def test_connect_then_pick_connects_several_accounts_at_once(client, personas, login, graph_server):
    city = graph_server.create_page("City of Example", with_instagram="cityofexample")
    _app(personas.org, graph_server)
    login(client, personas.alice)
    url = html.unescape(authorization_url(client.post("/accounts/connect/meta/")))
    answer = graph_server.approve(url)
    back = client.get(f"/accounts/meta/callback/?{urlencode(answer)}")
    assert back.status_code == 302 and back["Location"] == "/accounts/connect/meta/choose/"
    choose = client.get(back["Location"]).content.decode()
    assert "@cityofexample (linked to City of Example)" in choose
    assert city.token not in choose  # tokens stay server-side
    done = client.post(back["Location"], {"pages": [city.id], "instagram": [city.ig_id]})
    assert done.status_code == 302
    assert set(ChannelAccount.objects.values_list("network", "remote_id")) >= {
        ("facebook", city.id),
        ("instagram", city.ig_id),
    }
    # The list was used once: going back to it starts over.
    assert client.get(back["Location"]).status_code == 400


def test_picking_nothing_is_a_clear_error(client, personas, login, graph_server):
    graph_server.create_page("City of Example")
    _app(personas.org, graph_server)
    login(client, personas.alice)
    url = html.unescape(authorization_url(client.post("/accounts/connect/meta/")))
    back = client.get(f"/accounts/meta/callback/?{urlencode(graph_server.approve(url))}")
    response = client.post(back["Location"], {})
    assert response.status_code == 400
    assert "Choose at least one Page or Instagram account." in response.content.decode()


def test_a_forged_or_cancelled_callback_connects_nothing(client, personas, login, graph_server):
    _app(personas.org, graph_server)
    login(client, personas.alice)
    forged = client.get("/accounts/meta/callback/?code=abc&state=forged")
    assert forged.status_code == 400
    assert "does not match a connect started here" in forged.content.decode()
    cancelled = client.get("/accounts/meta/callback/?error=access_denied&state=x")
    assert cancelled.status_code == 400
    assert "cancelled on Facebook" in cancelled.content.decode()
    assert not ChannelAccount.objects.filter(network__in=["facebook", "instagram"]).exists()


def test_without_an_app_the_connect_page_points_to_the_setup(client, personas, login):
    login(client, personas.alice)
    page = client.get("/accounts/connect/meta/").content.decode()
    assert "not set up yet" in page
    assert client.post("/accounts/connect/meta/").status_code == 200


def test_the_instagram_page_shows_the_publishing_limit(client, personas, login, graph_server):
    from accounts.tests.helpers import channel_account

    page = graph_server.create_page("City of Example", with_instagram="cityofexample")
    graph_server.ig_accounts[page.ig_id].publish_quota_total = 3
    account = channel_account(
        organization=personas.org,
        network="instagram",
        handle="@cityofexample",
        remote_id=page.ig_id,
        server_url=graph_server.base_url,
        credentials={"access_token": page.token},
        scopes=["instagram_basic"],
    )
    login(client, personas.alice)
    body = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "0 of 3 posts used in the last 24 hours." in body
    assert "Only 3 more posts can go out" in body
    assert "instagram_content_publish" in body and "Missing: this does not work" in body
