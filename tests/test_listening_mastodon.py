"""Listening against the Mastodon test server (``mastodon_server``): a hashtag through
the tag timeline, words through full-text search (``GET /api/v2/search``), paging by
``max_id``; an instance without full-text search finds hashtags only; a rate limit
makes the watch wait as the server says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount
from listening.models import ListeningPost, WatchSource
from listening.services import watch_poll_source, watch_save
from tests.factories import ChannelAccountFactory
from tests.mastodon_server.server import MastodonTestServer

pytestmark = pytest.mark.django_db


def _account(server: MastodonTestServer, personas, scopes=None) -> ChannelAccount:
    account = ChannelAccountFactory.create(
        organization=personas.org,
        network="mastodon",
        handle="@comms@social.example",
        remote_id=server.user.id,
        server_url=server.base_url,
        credentials={"access_token": server.issue_token(scopes=scopes)},
        scopes=list(scopes or []),
    )
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def _watch(personas, account, terms):
    return watch_save(
        membership=personas.membership(personas.alice),
        watch=None,
        name="Vesikatko",
        terms=terms,
        excluded_terms=["testi"],
        prefix_match=True,
        channel_accounts=[account],
    )


def test_tag_timeline_and_search_find_posts_by_others_paged_by_max_id(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    aino = server.create_account("aino", "Aino Virtanen")
    for number in range(45):
        server.post_as(aino, f"Taas #vesikatko kadulla {number}", language="fi")
    server.post_as(aino, "vesikatkon aikana keittäkää vesi", language="fi")
    server.post_as(aino, "vesikatko testi", language="fi")
    server.post_as(aino, "nothing to see")

    connector = get_connector("mastodon")
    first = connector.search_posts(account, "#vesikatko")
    assert len(first.posts) == 40 and first.next_cursor
    second = connector.search_posts(account, "#vesikatko", cursor=first.next_cursor)
    assert len(second.posts) == 5
    post = first.posts[0]
    assert post.author_handle == "@aino@social.example"
    assert post.author_name == "Aino Virtanen"
    assert post.text == "Taas #vesikatko kadulla 44"
    assert post.language == "fi"

    watch = _watch(personas, account, ["#vesikatko", "vesikatko"])
    result = watch_poll_source(source_id=WatchSource.objects.get(watch=watch).pk)
    assert result.outcome == "searched"
    texts = set(ListeningPost.objects.filter(watch=watch).values_list("text", flat=True))
    assert len(texts) == 46
    assert "vesikatkon aikana keittäkää vesi" in texts  # the word's beginning, by search
    assert "vesikatko testi" not in texts  # excluded
    assert "nothing to see" not in texts
    # The hashtag's 45 posts, also found by the word search, are kept once.
    assert ListeningPost.objects.filter(watch=watch).count() == 46
    searches = server.requests_to("GET", "/api/v2/search")
    assert searches and all(r.query["type"] == ["statuses"] for r in searches)
    assert server.requests_to("GET", "/api/v1/timelines/tag/vesikatko")


def test_an_instance_without_full_text_search_finds_hashtags_only(mastodon_server, personas):
    server = mastodon_server
    server.full_text_search = False
    account = _account(server, personas)
    aino = server.create_account("aino", "Aino Virtanen")
    server.post_as(aino, "#vesikatko taas", language="fi")
    server.post_as(aino, "vesikatko ilman tunnistetta", language="fi")
    watch = _watch(personas, account, ["#vesikatko", "vesikatko"])
    watch_poll_source(source_id=WatchSource.objects.get(watch=watch).pk)
    texts = list(ListeningPost.objects.filter(watch=watch).values_list("text", flat=True))
    assert texts == ["#vesikatko taas"]


def test_an_account_without_read_search_searches_hashtags_only(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas, scopes=["read:accounts", "read:statuses"])
    aino = server.create_account("aino", "Aino Virtanen")
    server.post_as(aino, "#vesikatko taas", language="fi")
    server.post_as(aino, "vesikatko ilman tunnistetta", language="fi")
    watch = _watch(personas, account, ["#vesikatko", "vesikatko"])
    assert watch_poll_source(source_id=WatchSource.objects.get(watch=watch).pk).outcome == (
        "searched"
    )
    assert not server.requests_to("GET", "/api/v2/search")
    assert ListeningPost.objects.filter(watch=watch).count() == 1


def test_a_rate_limit_makes_the_watch_wait_until_the_server_resets(mastodon_server, personas):
    server = mastodon_server
    account = _account(server, personas)
    watch = _watch(personas, account, ["#vesikatko"])
    server.rate_limit = 0
    source = WatchSource.objects.get(watch=watch)
    before = timezone.now()
    assert watch_poll_source(source_id=source.pk).outcome == "rate_limited"
    source.refresh_from_db()
    assert source.last_error_kind == "rate_limited"
    assert before < source.next_poll_at <= before + timedelta(minutes=6)


def test_one_status_seen_through_two_instances_is_kept_once(mastodon_server, personas):
    # Aino posts on social.example; mastodon.example (where a second account of ours
    # lives) has the status by federation, under a local id of its own and the same
    # ActivityPub uri. A watch searching through both keeps it once.
    home = mastodon_server
    other = MastodonTestServer(domain="mastodon.example", first_id=120_000_000_000_000_001)
    other.start()
    try:
        aino = home.create_account("aino", "Aino Virtanen")
        original = home.post_as(aino, "Taas #vesikatko Kalliossa", language="fi")
        aino_there = other.create_account("aino", "Aino Virtanen", domain="social.example")
        copy = other.federate(home, original, author=aino_there)
        only_there = other.post_as(
            other.create_account("pekka"), "#vesikatko myös täällä", language="fi"
        )
        assert copy.id != original.id
        first = _account(home, personas)
        second = ChannelAccountFactory.create(
            organization=personas.org,
            network="mastodon",
            handle="@comms@mastodon.example",
            remote_id=other.user.id,
            server_url=other.base_url,
            credentials={"access_token": other.issue_token()},
        )
        watch = _watch(personas, first, ["#vesikatko"])
        watch = watch_save(
            membership=personas.membership(personas.alice),
            watch=watch,
            name=watch.name,
            terms=watch.terms,
            excluded_terms=watch.excluded_terms,
            prefix_match=True,
            channel_accounts=[first, second],
        )
        sources = WatchSource.objects.filter(watch=watch).order_by("channel_account__handle")
        for source in sources:
            assert watch_poll_source(source_id=source.pk).outcome == "searched"

        posts = list(ListeningPost.objects.filter(watch=watch).order_by("text"))
        assert [p.text for p in posts] == ["#vesikatko myös täällä", "Taas #vesikatko Kalliossa"]
        kept = posts[1]
        assert kept.canonical_key == f"https://social.example/users/aino/statuses/{original.id}"
        assert kept.url == f"https://social.example/@aino/{original.id}"
        assert kept.author_handle == "@aino@social.example"
        assert posts[0].canonical_key.endswith(f"/statuses/{only_there.id}")
        # Searching both again (the window overlaps) adds nothing and counts nothing twice.
        WatchSource.objects.filter(watch=watch).update(next_poll_at=timezone.now())
        for source in sources:
            result = watch_poll_source(source_id=source.pk)
            assert (result.outcome, result.added) == ("searched", 0)
        assert ListeningPost.objects.filter(watch=watch).count() == 2
        assert sum(watch.volume.values_list("count", flat=True)) == 2
    finally:
        other.stop()
