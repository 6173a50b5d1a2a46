"""An admin sets up the organization's Threads app and connects the city's Threads
profile in a real browser: the app page (steps, permissions, redirect address), the
connect page, Threads' authorization window (the local test server, which allows at
once and sends the browser back), then the account page with its permissions."""

from __future__ import annotations

import re

import pytest

from accounts.models import AccountStatus, ChannelAccount, NetworkApp
from governance.models import Role
from tests.browser.conftest import settle, visit
from tests.browser.test_accounts_mastodon import log_in
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_up_the_threads_app_and_connect_a_profile(page, threads_server):
    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    log_in(page, alice)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    settle(page)
    page.get_by_role("link", name="Connect an account").click()
    settle(page)
    page.get_by_role("link", name="Threads", exact=True).click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Connect a Threads profile"
    page.get_by_role("link", name="Set up the Threads app").click()
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == "The organization's Threads app"
    assert page.get_by_role("rowheader", name="threads_content_publish").is_visible()

    # What the admin registers in Meta's console: the address the page shows.
    redirect_uri = page.locator("code.copyable").inner_text().strip()
    assert redirect_uri.endswith("/accounts/threads/callback/")
    threads_server.app.redirect_uris.append(redirect_uri)

    page.get_by_label("Threads app ID").fill(threads_server.app.id)
    page.get_by_label("Threads app secret").fill(threads_server.app.secret)
    page.get_by_role("button", name="Save the Threads app").click()
    settle(page)
    assert page.get_by_text("The Threads app is saved.").is_visible()
    assert NetworkApp.objects.get(organization=org, network="threads").client_secret == (
        threads_server.app.secret
    )

    page.get_by_role("link", name="Connect a Threads profile").click()
    settle(page)
    authorize = re.compile(r".*/oauth/authorize\?.*")
    page.route(authorize, lambda route: route.fulfill(status=204))
    page.get_by_role("button", name="Continue to Threads").click()
    settle(page)
    host = threads_server.base_url.removeprefix("http://")
    assert page.get_by_role("heading", level=1).inner_text() == f"Sign in at {host}"
    page.unroute(authorize)

    page.get_by_role("link", name=f"Continue to {host}").click()
    # Threads ends its redirect with "#_", and the browser keeps that fragment through
    # our redirect to the account page.
    page.wait_for_url(re.compile(r"/accounts/\d+/(#_)?$"))
    settle(page)
    assert page.get_by_text("@cityofexample is connected.").is_visible()
    assert page.get_by_role("heading", name="Permissions on Threads").is_visible()
    account = ChannelAccount.objects.get(organization=org, network="threads")
    assert account.status == AccountStatus.ACTIVE
    assert account.credentials_expire_at is not None

    page.get_by_role("button", name="Check now").click()
    settle(page)
    assert page.get_by_text("The connection works").is_visible()


def test_answer_and_hide_threads_replies_from_the_inbox(page, threads_server):
    from inbox.models import InboxItem, Reply, ReplyStatus
    from inbox.services import inbox_sync_account
    from tests.factories import ChannelAccountFactory

    org = OrganizationFactory.create(name="City of Example", slug="example")
    alice = UserFactory.create(email="alice@example.org", full_name="Alice Admin")
    MembershipFactory.create(organization=org, user=alice, role=Role.ADMIN)
    account = ChannelAccountFactory.create(
        organization=org,
        network="threads",
        handle="@cityofexample",
        remote_id=threads_server.user.id,
        server_url=threads_server.base_url,
        credentials={"access_token": threads_server.issue_token()},
        scopes=["threads_basic", "threads_content_publish", "threads_read_replies",
                "threads_manage_replies"],
    )  # fmt: skip
    ours = threads_server.post_as(threads_server.user, "Kirjasto on auki lauantaina.")
    citizen = threads_server.create_user("aino")
    question = threads_server.post_as(citizen, "Mihin aikaan?", reply_to=ours.id)
    rude = threads_server.post_as(threads_server.create_user("troll"), "Surkeaa!", reply_to=ours.id)
    inbox_sync_account(account=account)
    log_in(page, alice)

    item = InboxItem.objects.get(remote_id=question.id)
    visit(page, f"/inbox/{item.pk}/")
    assert page.get_by_text("Mihin aikaan?").first.is_visible()
    page.get_by_label("Your reply").fill("Klo 10-16.")
    page.get_by_role("button", name="Send reply").click()
    settle(page)
    reply = Reply.objects.get(item=item)
    assert reply.status == ReplyStatus.SENT
    assert threads_server.media[reply.remote_id].replied_to == question.id

    rude_item = InboxItem.objects.get(remote_id=rude.id)
    visit(page, f"/inbox/{rude_item.pk}/")
    page.get_by_role("button", name="Hide on Threads").click()
    settle(page)
    assert page.get_by_text("The reply is hidden on the network.").is_visible()
    assert threads_server.media[rude.id].hidden
    page.get_by_role("button", name="Show again on Threads").click()
    settle(page)
    assert not threads_server.media[rude.id].hidden
