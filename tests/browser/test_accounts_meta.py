"""An admin sets up the city's Meta app and connects its Facebook Page and the Instagram
account linked to it in a real browser: the app page with its setup steps, Facebook
Login (the local Graph server's dialog, which approves and sends the browser back),
the page that picks Pages and Instagram accounts, and the account page with its
permissions. Every page is checked with axe."""

from __future__ import annotations

import re
from typing import cast

import pytest

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from governance.models import Organization, Role
from tests.browser.conftest import settle, visit
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_up_the_meta_app_and_connect_a_page_and_its_instagram(
    page, graph_server, live_server, settings
):
    settings.SITE_URL = live_server.url
    city = graph_server.create_page("City of Example", with_instagram="cityofexample")
    graph_server.create_page("Youth Services")
    graph_server.granted_scopes = set(graph_server_scopes()) - {"pages_messaging"}
    org = cast(Organization, OrganizationFactory(name="City of Example", slug="example"))
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    visit(page, "/accounts/connect/")
    page.get_by_role("link", name="Facebook Pages and Instagram").click()
    settle(page)
    assert page.get_by_text("Your organization's Meta app is not set up yet.").is_visible()
    page.get_by_role("link", name="Set up the Meta app").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Meta app (Facebook and Instagram)"
    assert (
        page.locator("#redirect-uri").inner_text() == f"{live_server.url}/accounts/meta/callback/"
    )
    assert page.get_by_role("row", name=re.compile("instagram_content_publish")).is_visible()

    # A wrong secret gets a clear error next to the field, and nothing is stored.
    page.get_by_label("App ID").fill(graph_server.app_id)
    page.get_by_label("App secret").fill("not a secret")
    page.get_by_role("button", name="Save the app").click()
    settle(page)
    assert page.get_by_text("The app secret is 32 characters").is_visible()
    assert not NetworkApp.objects.exists()
    page.get_by_label("App secret").fill(graph_server.app_secret)
    page.get_by_label("Webhook verify token").fill(graph_server.verify_token)
    page.get_by_role("button", name="Save the app").click()
    settle(page)
    assert page.get_by_text("The Meta app is saved.").is_visible()
    app = NetworkApp.objects.get(organization=org, network="meta")
    assert app.client_secret == graph_server.app_secret
    assert app.secrets["verify_token"] == graph_server.verify_token

    page.get_by_role("link", name="Connect Pages and Instagram accounts").click()
    settle(page)
    page.get_by_role("button", name="Continue to Facebook").click()
    page.wait_for_url(re.compile(r"/accounts/connect/meta/choose/$"))
    settle(page)
    assert graph_server.requests_to("GET", "/oauth/access_token")
    # The permission that was declined is named, with what stops working.
    assert page.get_by_text("Some permissions were not granted.").is_visible()
    assert page.get_by_text("Read and answer the Page's Messenger conversations.").is_visible()
    page.get_by_label("City of Example", exact=True).check()
    page.get_by_label("@cityofexample (linked to City of Example)").check()
    page.get_by_role("button", name="Connect the chosen accounts").click()
    settle(page)
    assert page.get_by_text(
        "2 accounts are connected: City of Example, @cityofexample."
    ).is_visible()

    fb = ChannelAccount.objects.get(organization=org, network="facebook")
    ig = ChannelAccount.objects.get(organization=org, network="instagram")
    assert (fb.remote_id, ig.remote_id) == (city.id, city.ig_id)
    assert fb.status == ig.status == AccountStatus.ACTIVE
    assert fb.credentials["access_token"] == city.token
    assert fb.credentials_expire_at is not None  # Meta's 90-day data access
    assert not ChannelAccount.objects.filter(handle="Youth Services").exists()

    page.get_by_role("link", name="City of Example", exact=True).first.click()
    settle(page)
    row = page.get_by_role("row", name=re.compile("pages_messaging"))
    assert "Missing: this does not work" in row.inner_text()
    page.get_by_role("button", name="Check now").click()
    settle(page)
    assert page.get_by_text("The connection works").is_visible()

    # Facebook says the password changed: the account needs reconnecting, and says why.
    graph_server.revoke(city.token, subcode=460)
    page.get_by_role("button", name="Check now").click()
    settle(page)
    fb.refresh_from_db()
    assert fb.status == AccountStatus.NEEDS_RECONNECT
    assert page.get_by_text("password of the Facebook account").first.is_visible()


def graph_server_scopes() -> tuple[str, ...]:
    from tests.graph_server.server import ALL_SCOPES

    return ALL_SCOPES


def test_hide_a_rude_comment_from_the_inbox(page, graph_server):
    from accounts.connectors.base import PublishRequest
    from accounts.connectors.registry import get_connector
    from inbox.models import InboxItem
    from inbox.services.sync import inbox_sync_account

    city = graph_server.create_page("City of Example")
    org = cast(Organization, OrganizationFactory(name="City of Example", slug="example"))
    alice = UserFactory(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory(organization=org, user=alice, role=Role.ADMIN)
    account = ChannelAccount.objects.create(
        organization=org,
        network="facebook",
        handle=city.name,
        remote_id=city.id,
        server_url=graph_server.base_url,
        credentials={"access_token": city.token},
    )
    post = get_connector("facebook").publish(account, PublishRequest(text="Budget 2027"))
    rude = graph_server.comment_as(post.remote_id, "You are all idiots", name="Troll")
    inbox_sync_account(account=account)
    item = InboxItem.objects.get(remote_id=rude.id)
    log_in(page, alice)

    visit(page, f"/inbox/{item.pk}/")
    assert page.get_by_role("heading", name="Moderation").is_visible()
    page.get_by_role("button", name="Hide the comment").click()
    settle(page)
    assert page.get_by_text("The comment is hidden.").first.is_visible()
    assert graph_server.comments[rude.id].hidden
    page.get_by_role("button", name="Show the comment again").click()
    settle(page)
    assert not graph_server.comments[rude.id].hidden
