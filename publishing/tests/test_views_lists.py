"""The post lists load in a fixed number of queries however many posts there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from publishing.models import PostStatus
from publishing.services.posts import post_submit_for_review
from publishing.tests.fixtures import draft

pytestmark = pytest.mark.django_db


def queries_for(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context.captured_queries)


def add_posts(team, count: int) -> None:
    for number in range(count):
        post = draft(team.eddie, team.account, f"Post {number}", title=f"Post {number}")
        post.variants.create(channel_account=team.other_account, language="sv", text="Hej")
        post_submit_for_review(post=post, membership=team.eddie)


@pytest.mark.parametrize("path", ["/publishing/posts/", "/publishing/review/"])
def test_list_pages_take_the_same_queries_for_two_posts_or_twelve(client, login, team, path):
    login(client, team.rita.user)
    add_posts(team, 2)
    client.get(path)  # the session's first request fills per-session and per-org caches
    few = queries_for(client, path)
    add_posts(team, 10)
    client.get(path)  # new notices (submitted for review) emptied the unread-count cache
    many = queries_for(client, path)
    assert many == few


def test_post_list_filters_by_status(client, personas, login, team):
    add_posts(team, 1)
    draft(team.eddie, team.account, "Still a draft", title="Draft one")
    login(client, personas.alice)
    page = client.get(f"/publishing/posts/?status={PostStatus.DRAFT}").content.decode()
    assert "Draft one" in page
    assert "Post 0" not in page
    page = client.get("/publishing/posts/").content.decode()
    assert "Draft one" in page and "Post 0" in page
    assert "city-mayor, city-news" in page


def test_bob_sees_only_posts_to_his_account(client, personas, login, team):
    draft(team.alice, team.other_account, "Mayor only", title="Mayor only")
    draft(team.alice, team.account, "News", title="News post")
    login(client, personas.bob)
    page = client.get("/publishing/posts/").content.decode()
    assert "News post" in page
    assert "Mayor only" not in page
