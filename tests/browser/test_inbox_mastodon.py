"""An editor reads what a real Mastodon server sends, in a real browser: a first
private message the server's notification policy filtered (it reaches the inbox, and
the page says why it is not in Mastodon's own list), and a quote of the account's
post (read without Mastodon's "RE:" fallback line, the quoted post one link away)."""

from __future__ import annotations

import pytest

from governance.models import Role
from inbox.models import InboxItem
from inbox.services import inbox_sync_account
from tests.browser.conftest import visit
from tests.browser.test_inbox import log_in
from tests.factories import (
    ChannelAccountFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_filtered_message_and_a_quote_read_as_people_would(page, live_server, mastodon_server):
    server = mastodon_server
    org = OrganizationFactory.create(name="Esimerkkilä", slug="esimerkkila")
    editor = UserFactory.create(email="bertta@esimerkkila.example", full_name="Bertta Berg")
    MembershipFactory.create(organization=org, user=editor, role=Role.EDITOR)
    account = ChannelAccountFactory.create(
        organization=org,
        network="mastodon",
        handle="@comms@social.example",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token()},
    )
    ours = server.post_as(server.user, "The swimming hall opens on Monday.")
    inbox_sync_account(account=account)
    citizen = server.create_account("aino", "")
    message = server.post_as(citizen, "@comms my street light is broken", visibility="direct")
    quote = server.post_as(citizen, "Finally, good news!", quote=ours)
    assert inbox_sync_account(account=account).new_items == 2

    log_in(page, editor)
    visit(page, f"/inbox/{InboxItem.objects.get(remote_id=message.id).pk}/")
    assert page.get_by_text("Filtered by the network").is_visible()
    assert page.locator(".inbox-text").inner_text().strip() == "@comms my street light is broken"

    visit(page, f"/inbox/{InboxItem.objects.get(remote_id=quote.id).pk}/")
    assert page.locator(".inbox-text").inner_text().strip() == "Finally, good news!"
    link = page.get_by_role("link", name="Open the quoted post (leaves GovSocial)")
    assert link.get_attribute("href") == f"https://social.example/@comms/{ours.id}"
