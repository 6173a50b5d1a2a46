"""Listening against the real Bluesky servers, run locally (``bsky_network``).

A comms person sets a watch on a service's name in Finnish, with word beginnings
matching and an excluded term; people on Bluesky who never tag our account write
about it; the search through our account (``app.bsky.feed.searchPosts`` on the
local AppView) brings in the matching posts, and only those; searching again adds
nothing; the stream shows them, and one is sent to the inbox as an item to answer.
"""

from __future__ import annotations

import pytest

from accounts import services as account_services
from accounts.connectors.registry import get_connector
from accounts.models import ChannelAccount
from governance.models import AuditEvent
from inbox.models import InboxItem
from listening import tasks
from listening.models import ListeningPost, Watch, WatchSource, WatchVolume
from listening.tasks import listening_poll_due
from tests.bsky_fixtures import BskyNetwork

pytestmark = [pytest.mark.bsky, pytest.mark.django_db]


@pytest.fixture
def bsky(bsky_network: BskyNetwork, settings) -> BskyNetwork:
    settings.CONNECTORS_ALLOW_PRIVATE_NETWORKS = True
    settings.BLUESKY_PLC_URL = bsky_network.plc_url
    settings.BLUESKY_DEFAULT_SERVICE = bsky_network.pds_url
    return bsky_network


@pytest.fixture
def queues(monkeypatch) -> list[str]:
    """Runs the search tasks beat's tick sends at once, and notes the queue of each."""
    sent: list[str] = []

    def run(args, **options):
        sent.append(options["queue"])
        tasks.listening_poll_source(*args)

    monkeypatch.setattr(tasks.listening_poll_source, "apply_async", run)
    return sent


def _connect(bsky: BskyNetwork, personas) -> ChannelAccount:
    remote = bsky.create_account("city")
    account = account_services.channel_account_connect_bluesky(
        organization=personas.org,
        actor=personas.alice,
        handle=f"@{remote.handle}",
        app_password=bsky.create_app_password(remote, "GovSocial"),
    )
    return ChannelAccount.objects.select_related("organization").get(pk=account.pk)


def test_search_posts_finds_posts_by_others_with_author_language_and_engagement(bsky, personas):
    account = _connect(bsky, personas)
    citizen = bsky.create_account("citizen")
    neighbour = bsky.create_account("neighbour")
    found_post = bsky.post(citizen, "maauimala aukeaa kesäkuussa?", langs=["fi"])
    bsky.like(neighbour, found_post.uri)
    bsky.process_all()

    page = get_connector("bluesky").search_posts(account, "maauimala")

    [post] = [p for p in page.posts if p.remote_id == found_post.uri]
    assert post.author_handle == citizen.handle
    assert post.text == "maauimala aukeaa kesäkuussa?"
    assert post.language == "fi"
    assert post.likes == 1
    assert post.url.endswith(f"/post/{found_post.rkey}")
    assert post.extra == {"uri": found_post.uri, "cid": found_post.cid}


def test_a_finnish_watch_finds_untagged_posts_once_and_sends_one_to_the_inbox(
    bsky, personas, client, login, queues
):
    account = _connect(bsky, personas)
    citizen = bsky.create_account("citizen")
    other = bsky.create_account("other")
    in_hall = bsky.post(citizen, "uimahallissa on taas kylmää vettä", langs=["fi"])
    opening = bsky.post(other, "milloin uimahallin remontti valmistuu?", langs=["fi"])
    sale = bsky.post(other, "uimahallin vanhat kaapit myynnissä", langs=["fi"])
    bsky.post(other, "kirjastossa oli hiljaista", langs=["fi"])
    bsky.process_all()

    login(client, personas.alice)
    response = client.post(
        "/listening/new/",
        {
            "name": "Uimahalli",
            "terms": "uimahalli",
            "excluded_terms": "myynnissä",
            "prefix_match": "on",
            "channel_accounts": [account.pk],
            "alert_factor": 3,
            "alert_min_count": 10,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    watch = Watch.objects.get(name="Uimahalli")
    assert AuditEvent.objects.filter(action="listening.watch_created").count() == 1

    # Beat's tick sends the search (on the sync queue; eager here).
    assert listening_poll_due() == 1
    assert queues == ["sync"]  # never on the publish queue
    found = {p.remote_id: p for p in ListeningPost.objects.filter(watch=watch)}
    assert set(found) == {in_hall.uri, opening.uri}
    assert sale.uri not in found  # the excluded term
    assert found[in_hall.uri].author_handle == citizen.handle
    assert found[in_hall.uri].language == "fi"
    assert found[in_hall.uri].network == "bluesky"
    assert sum(WatchVolume.objects.filter(watch=watch).values_list("count", flat=True)) == 2

    # Searching again (the same window overlaps) adds nothing.
    WatchSource.objects.filter(watch=watch).update(next_poll_at=watch.created_at)
    assert listening_poll_due() == 1
    assert ListeningPost.objects.filter(watch=watch).count() == 2
    assert sum(WatchVolume.objects.filter(watch=watch).values_list("count", flat=True)) == 2

    # A new post arrives and the next search finds it.
    later = bsky.post(citizen, "uimahalli auki pyhänäkin", langs=["fi"])
    bsky.process_all()
    WatchSource.objects.filter(watch=watch).update(next_poll_at=watch.created_at)
    listening_poll_due()
    assert ListeningPost.objects.filter(watch=watch, remote_id=later.uri).exists()

    stream = client.get(f"/listening/{watch.pk}/").content.decode()
    assert "uimahallissa on taas kylmää vettä" in stream
    assert "milloin uimahallin remontti valmistuu?" in stream
    assert "myynnissä" not in stream.split('id="stream-heading"', 1)[1]
    assert "kirjastossa" not in stream

    # Send one to the inbox as an item to answer.
    post = found[opening.uri]
    response = client.post(f"/listening/posts/{post.pk}/inbox/")
    item = InboxItem.objects.get(channel_account=account, remote_id=opening.uri)
    assert response.status_code == 302 and response["Location"] == f"/inbox/{item.pk}/"
    assert item.text == "milloin uimahallin remontti valmistuu?"
    assert item.author_handle == other.handle
    assert item.ref_extra == {"uri": opening.uri, "cid": opening.cid}
    inbox_page = client.get(f"/inbox/{item.pk}/").content.decode()
    assert "milloin uimahallin remontti valmistuu?" in inbox_page
    assert AuditEvent.objects.filter(action="listening.sent_to_inbox").count() == 1
