"""Composing for a Threads account: its counting (an emoji counts as 4) and its daily
publishing allowance, read from the Threads test server and shown when nearly used."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.connectors.threads import SCOPES
from accounts.models import ChannelAccount
from publishing.tests.test_views_compose import CHECK, compose_data
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def threads_account(personas, threads_server) -> ChannelAccount:
    cache.clear()
    return ChannelAccountFactory.create(
        organization=personas.org,
        network="threads",
        handle="@cityofexample",
        remote_id=threads_server.user.id,
        server_url=threads_server.base_url,
        credentials={"access_token": threads_server.issue_token()},
        scopes=list(SCOPES),
    )


def check(client, account, text):
    data = compose_data({(account, "fi"): text})
    response = client.post(CHECK, {**data, "check": f"{account.pk}-fi"})
    assert response.status_code == 200
    return response.content.decode()


def test_threads_counts_an_emoji_as_four(client, personas, login, threads_account):
    login(client, personas.alice)
    page = check(client, threads_account, "Hyvää joulua 🎄")
    assert "17 of 500 characters" in page
    assert "an emoji counts as 4" in page


def test_the_allowance_is_shown_only_when_nearly_used(
    client, personas, login, threads_account, threads_server
):
    login(client, personas.alice)
    assert "posts in 24 hours" not in check(client, threads_account, "Hei")

    for number in range(240):
        threads_server.post_as(threads_server.user, f"Tiedote {number}")
    cache.clear()
    page = check(client, threads_account, "Hei")
    assert "Threads lets this account publish 250 posts in 24 hours; 10 are left." in page

    for number in range(10):
        threads_server.post_as(threads_server.user, f"Lisää {number}")
    cache.clear()
    page = check(client, threads_account, "Hei")
    assert "all of them are used" in page


def test_an_unanswered_allowance_check_does_not_break_the_page(
    client, personas, login, threads_account, threads_server
):
    login(client, personas.alice)
    threads_server.fail_next(500, code=2, times=5)
    page = check(client, threads_account, "Hei")
    assert "3 of 500 characters" in page
    assert "posts in 24 hours" not in page
