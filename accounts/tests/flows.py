"""Steps the Accounts page tests share: connecting through the app's own views."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from django.test import Client

from accounts.models import ChannelAccount
from tests.mastodon_server.server import MastodonTestServer

CALLBACK = "/accounts/mastodon/callback/"


def authorization_url(response) -> str:
    """Where the "continue to the server" page sends the browser (its link and its
    meta refresh, which must agree)."""
    assert response.status_code == 200, response.content.decode()[:2000]
    body = response.content.decode()
    link = re.search(r'id="authorize-link" href="([^"]+)"', body)
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', body)
    assert link and refresh, body[:2000]
    assert link.group(1) == refresh.group(1)
    return html.unescape(link.group(1))


def start_mastodon(client: Client, instance: str):
    """Submit the Mastodon connect form; the answer sends the browser on to the server."""
    return client.post("/accounts/connect/mastodon/", {"instance": instance})


def connect_mastodon(client: Client, server: MastodonTestServer) -> ChannelAccount:
    """The whole flow: the form, the instance's sign-in page, the callback."""
    answer = server.approve(authorization_url(start_mastodon(client, server.base_url)))
    back = client.get(f"{CALLBACK}?{urlencode(answer)}")
    assert back.status_code == 302, back.content.decode()[:2000]
    return ChannelAccount.objects.get(network="mastodon", handle="@comms@social.example")
