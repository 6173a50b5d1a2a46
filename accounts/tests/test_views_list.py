"""The Accounts page: every account the member may see, its status in words, and
what its network supports."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountStatus
from accounts.tests.helpers import channel_account


def _row(body: str, handle: str) -> str:
    """The table row of the account whose handle is ``handle``."""
    return body.split(f">{handle}</a>")[1].split("</tr>")[0]


def test_admin_sees_every_account_with_status_support_and_who_connected_it(client, personas, login):
    checked = timezone.now() - timedelta(minutes=5)
    channel_account(
        organization=personas.org,
        network="mastodon",
        handle="@city@social.example",
        status=AccountStatus.NEEDS_RECONNECT,
        connected_by=personas.carol,
        connected_at=timezone.now() - timedelta(days=3),
        last_health_check_at=checked,
        credentials_expire_at=timezone.now() + timedelta(days=20),
    )
    login(client, personas.alice)
    response = client.get("/accounts/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Accounts</h1>" in body
    assert "3 channel accounts" in body
    row = _row(body, "@city@social.example")
    assert "Mastodon" in row
    assert "Needs reconnect" in row
    assert "Publishing, Images, Replies, Direct messages, Metrics" in row
    assert "Carol Auditor" in row
    assert timezone.localtime(checked).strftime("%-d %b %Y, %H:%M") in row
    sandbox_row = _row(body, "city-news")
    assert "Sandbox (training)" in sandbox_row
    assert "Not yet" in sandbox_row  # never checked
    assert "Does not expire" in sandbox_row
    assert "Connect an account" in body


def test_every_status_is_written_in_words(client, personas, login):
    for status in AccountStatus:
        channel_account(organization=personas.org, handle=f"acct-{status.value}", status=status)
    login(client, personas.alice)
    body = client.get("/accounts/").content.decode()
    for status in AccountStatus:
        assert f">{status.label}</span>" in _row(body, f"acct-{status.value}")


def test_limited_editor_sees_only_his_account(client, personas, login):
    login(client, personas.bob)
    body = client.get("/accounts/").content.decode()
    assert "city-news" in body
    assert "city-mayor" not in body
    assert "You see the accounts you may use." in body
    assert "Connect an account" not in body


def test_auditor_sees_the_accounts_but_may_not_connect(client, personas, login):
    login(client, personas.carol)
    body = client.get("/accounts/").content.decode()
    assert "city-news" in body and "city-mayor" in body
    assert "Connect an account" not in body
    assert client.get("/accounts/connect/").status_code == 403


def test_outsider_sees_only_their_own_organizations_accounts(client, personas, login):
    login(client, personas.charlie)
    body = client.get("/accounts/").content.decode()
    assert "agency" in body
    assert "city-news" not in body and "city-mayor" not in body


def test_list_queries_do_not_grow_with_accounts(client, personas, login):
    login(client, personas.alice)
    client.get("/accounts/")  # warm up the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/accounts/").status_code == 200
    for number in range(10):
        channel_account(
            organization=personas.org,
            network="mastodon" if number % 2 else "sandbox",
            handle=f"extra-{number}",
            connected_by=personas.alice if number % 3 else personas.carol,
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/accounts/")
    assert "12 channel accounts" in response.content.decode()
    assert len(many) == len(few)


def test_the_list_needs_a_login(client, personas):
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")
