"""TikTok through the pages: the organization's own TikTok app (with the "audited"
choice), connecting an account on TikTok's authorization page (the test server), the
callback, and the account page with what TikTok allows and the unaudited warning."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from django.utils import timezone

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from accounts.tests.flows import authorization_url
from accounts.tests.helpers import channel_account
from governance.models import AuditEvent

CALLBACK = "/accounts/tiktok/callback/"


def save_app(client, server, *, audited=False):
    data = {"client_id": server.client_key, "client_secret": server.client_secret}
    if audited:
        data["audited"] = "on"
    return client.post("/accounts/apps/tiktok/", data)


def test_without_an_app_the_connect_page_says_what_to_do(client, personas, login, tiktok_server):
    login(client, personas.alice)
    page = client.get("/accounts/connect/tiktok/").content.decode()
    assert "none is set up yet" in page
    assert 'href="/accounts/apps/tiktok/"' in page
    response = client.post("/accounts/connect/tiktok/")
    assert response.status_code == 400
    assert "TikTok app is not set up yet" in response.content.decode()


def test_the_whole_flow_connects_an_account_and_shows_what_tiktok_allows(
    client, personas, login, tiktok_server
):
    login(client, personas.alice)
    assert save_app(client, tiktok_server).status_code == 302
    app = NetworkApp.objects.get(organization=personas.org, network="tiktok")
    assert app.options == {"audited": False}
    assert AuditEvent.objects.filter(action="network_app.created").count() == 1
    connect_page = client.get("/accounts/connect/tiktok/").content.decode()
    assert "not yet audited" in connect_page
    response = client.post("/accounts/connect/tiktok/")
    url = authorization_url(response)
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/v2/auth/authorize/"
    assert query["client_key"] == [tiktok_server.client_key]
    assert query["redirect_uri"] == ["http://testserver/accounts/tiktok/callback/"]
    answer = tiktok_server.authorize(url)
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")
    account = ChannelAccount.objects.get(network="tiktok")
    assert back["Location"] == f"/accounts/{account.pk}/"
    assert account.status == AccountStatus.ACTIVE
    assert account.remote_id == "open-id-1"
    assert account.credentials["refresh_token"] in tiktok_server.refresh_tokens
    tiktok_server.creator.privacy_levels = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
    tiktok_server.creator.duet_disabled = True
    tiktok_server.creator.max_video_post_duration_sec = 180
    detail = client.get(back["Location"]).content.decode()
    assert "Helsingin kaupunki is connected." in detail
    assert "Private posts only." in detail
    assert "Followers" in detail and "Only the creator (private)" in detail
    assert "Everyone" not in detail
    assert "180 seconds" in detail
    assert "every post has duets off" in detail
    # Once an admin marks the app audited, the warning goes.
    save_app(client, tiktok_server, audited=True)
    app.refresh_from_db()
    assert app.options == {"audited": True}
    assert "Private posts only." not in client.get(back["Location"]).content.decode()


def test_a_replayed_or_foreign_callback_connects_nothing(client, personas, login, tiktok_server):
    login(client, personas.alice)
    save_app(client, tiktok_server)
    url = authorization_url(client.post("/accounts/connect/tiktok/"))
    answer = tiktok_server.authorize(url)
    forged = client.get(f"{CALLBACK}?{urlencode({**answer, 'state': 'forged'})}")
    assert forged.status_code == 400
    assert "does not match a connect started here" in forged.content.decode()
    cancelled = client.get(f"{CALLBACK}?error=access_denied&state={answer['state']}")
    assert "cancelled at TikTok" in cancelled.content.decode()
    assert not ChannelAccount.objects.filter(network="tiktok").exists()


def test_another_organizations_tiktok_account_is_not_found(client, personas, login, tiktok_server):
    access, refresh = tiktok_server.issue_token()
    theirs = channel_account(
        organization=personas.other_org,
        network="tiktok",
        handle="Muu kunta",
        remote_id="open-id-9",
        credentials={"access_token": access, "refresh_token": refresh},
        credentials_expire_at=timezone.now() + timedelta(hours=20),
    )
    login(client, personas.alice)
    assert client.get(f"/accounts/{theirs.pk}/").status_code == 404
    assert client.post(f"/accounts/{theirs.pk}/reconnect/").status_code == 404
    assert not tiktok_server.requests_to("POST", "/v2/post/publish/creator_info/query/")
