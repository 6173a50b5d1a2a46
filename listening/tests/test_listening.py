"""Listening without a network: matching, the pages and their access rules, generated
bursts and their alerts, actions on found posts, misinformation cases, and what a
poll does when the network refuses (the real searches: tests/test_listening_bluesky.py
and tests/test_listening_mastodon.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.connectors.base import FoundPost, RateLimited, SearchPage
from accounts.connectors.bluesky import BlueskyConnector
from governance.models import AuditEvent, Notification
from listening.matching import clean_terms, matcher_for
from listening.models import (
    CaseReach,
    CaseStatus,
    ListeningPost,
    MisinformationCase,
    Watch,
    WatchAlert,
    WatchSource,
    WatchVolume,
)
from listening.services import (
    listening_store_posts,
    watch_poll_source,
    watch_save,
)
from publishing.models import PublishingPause
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db


# --- matching ------------------------------------------------------------------------------------


def test_words_match_whole_unless_word_beginnings_are_on():
    exact = matcher_for(["kirjasto"], [], prefix=False)
    prefix = matcher_for(["kirjasto"], [], prefix=True)
    assert exact.matches("Kirjasto on kiinni") == ["kirjasto"]
    assert exact.matches("kirjastossa on kylmä") == []
    assert prefix.matches("KIRJASTOSSA on kylmä") == ["kirjasto"]
    assert prefix.matches("pääkirjaston aukioloajat") == []  # a beginning, not any part


def test_turkish_prefix_phrases_hashtags_and_handles():
    turkish = matcher_for(["okul"], [], prefix=True)
    assert turkish.matches("Okula gidemedik") == ["okul"]
    phrase = matcher_for(["water supply"], [], prefix=False)
    assert phrase.matches("The water   supply is off") == ["water supply"]
    assert phrase.matches("water and supply") == []
    tags = matcher_for(["#vesikatko", "@city.example.org"], [], prefix=False)
    assert tags.matches("Taas #vesikatko!") == ["#vesikatko"]
    assert tags.matches("vesikatko ilman tunnistetta") == []
    assert tags.matches("kysy @city.example.org") == ["@city.example.org"]
    assert tags.matches("kysy @city.example.org.fake") == []


def test_an_excluded_term_drops_the_post():
    matcher = matcher_for(["uimahalli"], ["myynti"], prefix=True)
    assert matcher.matches("uimahallin kaapit myyntiin") == []
    assert matcher.matches("uimahallin kaapit rikki") == ["uimahalli"]


def test_terms_from_a_form_are_trimmed_and_kept_once():
    assert clean_terms("  kirjasto \n#Vesikatko, kirjasto\n\nwater   supply") == [
        "kirjasto",
        "#Vesikatko",
        "water supply",
    ]


# --- helpers ------------------------------------------------------------------------------------


def _watch(personas, **extra) -> Watch:
    account = ChannelAccountFactory.create(
        organization=personas.org, network="bluesky", handle="city.bsky.social"
    )
    watch = watch_save(
        membership=personas.membership(personas.alice),
        watch=None,
        name="Uimahalli",
        terms=["uimahalli"],
        excluded_terms=[],
        prefix_match=True,
        channel_accounts=[account],
        **extra,
    )
    return watch


def _found(n: int, at: datetime, text: str = "uimahalli on kiinni", prefix: str = "p") -> list:
    return [
        (
            FoundPost(
                remote_id=f"at://did:plc:{prefix}{i}/app.bsky.feed.post/{at:%Y%m%d%H}{i}",
                url=f"https://bsky.app/profile/{prefix}{i}/post/{i}",
                author_handle=f"{prefix}{i}.bsky.social",
                author_name=f"Person {i}",
                text=text,
                created_at=at,
                language="fi" if i % 2 else "sv",
                likes=i,
            ),
            ["uimahalli"],
        )
        for i in range(n)
    ]


def _this_hour() -> datetime:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


# --- pages and access --------------------------------------------------------------------------


def test_a_watch_is_made_in_the_form_and_bad_input_gets_clear_errors(personas, client, login):
    account = ChannelAccountFactory.create(organization=personas.org, network="bluesky")
    ChannelAccountFactory.create(organization=personas.org, network="sandbox", handle="drill")
    login(client, personas.alice)
    form = client.get("/listening/new/").content.decode()
    assert account.handle in form and "drill" not in form  # only networks we can search

    response = client.post("/listening/new/", {"name": "Empty", "terms": " \n ", "alert_factor": 3})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give at least one term to watch." in page or "This field is required." in page
    response = client.post(
        "/listening/new/",
        {
            "name": "Huge",
            "terms": "x" * 101,
            "channel_accounts": [account.pk],
            "alert_factor": 3,
            "alert_min_count": 10,
        },
    )
    assert response.status_code == 400
    assert "A term can be at most 100 characters." in response.content.decode()
    response = client.post(
        "/listening/new/",
        {
            "name": "Outsider",
            "terms": "kirjasto",
            "channel_accounts": [personas.outsider_account.pk],
            "alert_factor": 3,
            "alert_min_count": 10,
        },
    )
    assert response.status_code == 400
    assert not Watch.objects.exists()

    response = client.post(
        "/listening/new/",
        {
            "name": "Kirjasto",
            "terms": "kirjasto\n#kirjastot",
            "excluded_terms": "myynti",
            "prefix_match": "on",
            "channel_accounts": [account.pk],
            "followers": [personas.carol.pk],
            "alert_factor": 4,
            "alert_min_count": 5,
            "is_active": "on",
        },
    )
    watch = Watch.objects.get()
    assert response["Location"] == f"/listening/{watch.pk}/"
    assert (watch.terms, watch.excluded_terms, watch.prefix_match) == (
        ["kirjasto", "#kirjastot"],
        ["myynti"],
        True,
    )
    assert set(watch.followers.all()) == {personas.alice, personas.carol}
    assert WatchSource.objects.filter(watch=watch, channel_account=account).exists()
    listing = client.get("/listening/").content.decode()
    assert "Kirjasto" in listing and "kirjasto, #kirjastot" in listing

    response = client.post(
        f"/listening/{watch.pk}/edit/",
        {
            "name": "Kirjastot",
            "terms": "kirjasto",
            "channel_accounts": [account.pk],
            "alert_factor": 3,
            "alert_min_count": 10,
        },
    )
    assert response.status_code == 302
    watch.refresh_from_db()
    assert (watch.name, watch.is_active, watch.prefix_match) == ("Kirjastot", False, False)
    changed = AuditEvent.objects.get(action="listening.watch_changed")
    assert changed.new_values["name"] == "Kirjastot"


def test_another_organizations_watch_post_and_case_are_404(personas, client, login):
    watch = _watch(personas)
    listening_store_posts(
        watch=watch, account=None, network="bluesky", found=_found(1, _this_hour())
    )
    post = ListeningPost.objects.get()
    case = MisinformationCase.objects.create(organization=personas.org, claim="Closed for good")
    login(client, personas.charlie)
    assert client.get(f"/listening/{watch.pk}/").status_code == 404
    assert client.get(f"/listening/{watch.pk}/edit/").status_code == 404
    assert client.post(f"/listening/{watch.pk}/pause/").status_code == 404
    assert client.post(f"/listening/posts/{post.pk}/misinformation/").status_code == 404
    assert client.post(f"/listening/posts/{post.pk}/inbox/").status_code == 404
    assert client.get(f"/listening/cases/{case.pk}/").status_code == 404
    assert "Uimahalli" not in client.get("/listening/").content.decode()


def test_an_auditor_reads_the_stream_but_cannot_act(personas, client, login):
    watch = _watch(personas)
    listening_store_posts(
        watch=watch, account=None, network="bluesky", found=_found(1, _this_hour())
    )
    post = ListeningPost.objects.get()
    login(client, personas.carol)
    page = client.get(f"/listening/{watch.pk}/").content.decode()
    assert "uimahalli on kiinni" in page
    assert "Mark as misinformation" not in page and "Send to the inbox" not in page
    assert client.post(f"/listening/posts/{post.pk}/misinformation/").status_code == 403
    assert client.post(f"/listening/posts/{post.pk}/inbox/").status_code == 403
    assert client.get(f"/listening/{watch.pk}/edit/").status_code == 403


def test_the_stream_pages_older_and_newer_by_cursor(personas, client, login, monkeypatch):
    import re

    monkeypatch.setattr("listening.selectors.STREAM_PAGE_SIZE", 2)
    watch = _watch(personas)
    now = _this_hour()
    for n in range(5):
        # Two posts at each time, so the cursor's tie on the time is settled by the id.
        listening_store_posts(
            watch=watch,
            account=None,
            network="bluesky",
            found=_found(1, now - timedelta(hours=n // 2), f"uimahalli {n}", prefix=f"q{n}"),
        )
    login(client, personas.alice)

    def visit(url: str) -> tuple[list[str], dict[str, str]]:
        html = client.get(url).content.decode()
        texts = re.findall(r"uimahalli (\d)", html)
        links = {
            label: href.replace("&amp;", "&")
            for href, label in re.findall(r'<a href="(\?[^"]*)">(Newer|Older)</a>', html)
        }
        return texts, links

    base = f"/listening/{watch.pk}/"
    first, links = visit(base)
    assert first == ["1", "0"] and "Newer" not in links
    second, links = visit(base + links["Older"])
    assert second == ["3", "2"]
    third, links = visit(base + links["Older"])
    assert third == ["4"] and "Older" not in links
    back, links = visit(base + links["Newer"])
    assert back == ["3", "2"]
    top, links = visit(base + links["Newer"])
    assert top == ["1", "0"] and "Newer" not in links
    # A cursor that is not one is the first page, not a 500.
    assert visit(base + "?before=x.1")[0] == ["1", "0"]
    assert visit(base + "?after=99999999999999999999999.1")[0] == ["1", "0"]


def test_the_stream_filters_by_network_language_and_misinformation(personas, client, login):
    watch = _watch(personas)
    now = _this_hour()
    listening_store_posts(
        watch=watch, account=None, network="bluesky", found=_found(4, now, "uimahalli fi")
    )
    listening_store_posts(
        watch=watch,
        account=None,
        network="mastodon",
        found=_found(1, now - timedelta(days=3), "uimahalli mastodon", prefix="m"),
    )
    login(client, personas.alice)
    everything = client.get(f"/listening/{watch.pk}/").content.decode()
    assert everything.count('class="listening-post"') == 5
    swedish = client.get(f"/listening/{watch.pk}/?language=sv").content.decode()
    assert swedish.count('class="listening-post"') == 3  # p0, p2 and m0
    recent = client.get(f"/listening/{watch.pk}/?network=bluesky&period=24").content.decode()
    assert recent.count('class="listening-post"') == 4 and "uimahalli mastodon" not in recent
    # A filter value that is not offered is ignored, not a 500.
    assert client.get(f"/listening/{watch.pk}/?network=nope&page=x").status_code == 200

    post = ListeningPost.objects.get(network="mastodon")
    response = client.post(
        f"/listening/posts/{post.pk}/misinformation/",
        {"next": f"/listening/{watch.pk}/?misinformation=on"},
    )
    assert response["Location"] == f"/listening/{watch.pk}/?misinformation=on"
    flagged = client.get(response["Location"]).content.decode()
    assert flagged.count('class="listening-post"') == 1 and "uimahalli mastodon" in flagged
    post.refresh_from_db()
    assert post.misinformation_by == personas.alice
    assert AuditEvent.objects.filter(action="listening.marked_misinformation").count() == 1

    # Our correcting post, linked beside it.
    response = client.post(
        f"/listening/posts/{post.pk}/correction/", {"url": "https://example.org/fact"}
    )
    assert response.status_code == 302
    assert (
        'href="https://example.org/fact"' in client.get(f"/listening/{watch.pk}/").content.decode()
    )
    bad = client.post(f"/listening/posts/{post.pk}/correction/", {"url": "javascript:alert(1)"})
    assert bad.status_code == 302
    post.refresh_from_db()
    assert post.correction_url == "https://example.org/fact"


# --- volume and alerts: generated bursts ----------------------------------------------------------


def test_a_burst_alerts_the_followers_once_in_the_app_and_by_email_and_pauses_in_one_click(
    personas, client, login, django_capture_on_commit_callbacks
):
    watch = _watch(personas, followers=[personas.carol])
    personas.alice.preferred_language = "en"
    personas.alice.save()
    personas.carol.preferred_language = "sv"
    personas.carol.save()
    hour = _this_hour()
    # The usual: two posts in this hour on each of the last 14 days.
    for day in range(1, 15):
        listening_store_posts(
            watch=watch,
            account=None,
            network="bluesky",
            found=_found(2, hour - timedelta(days=day), prefix=f"d{day}-"),
        )
    assert not WatchAlert.objects.exists()

    # Nine now: above three times the usual (6), below the minimum count (10): no alert.
    listening_store_posts(
        watch=watch, account=None, network="bluesky", found=_found(9, hour, prefix="a")
    )
    assert not WatchAlert.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        listening_store_posts(
            watch=watch, account=None, network="bluesky", found=_found(3, hour, prefix="b")
        )
    alert = WatchAlert.objects.get()
    assert (alert.count, alert.baseline, alert.hour) == (12, 2.0, hour)
    notices = Notification.objects.filter(kind="listening.alert")
    assert {n.user for n in notices} == {personas.alice, personas.carol}
    assert all(n.link == f"/listening/{watch.pk}/" for n in notices)
    # Each follower in their own language.
    assert "12 posts in one hour, usually 2" in notices.get(user=personas.alice).message
    assert "12 inlägg på en timme, vanligtvis 2" in notices.get(user=personas.carol).message
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "carol@example.org"]
    assert f"/listening/{watch.pk}/" in mail.outbox[0].body

    # More of the same hour: still one alert.
    listening_store_posts(
        watch=watch, account=None, network="bluesky", found=_found(20, hour, prefix="c")
    )
    assert WatchAlert.objects.count() == 1 and notices.count() == 2

    login(client, personas.alice)
    stream = client.get(f"/listening/{watch.pk}/").content.decode()
    assert "12 posts in the hour from" in stream and "(usually 2)" in stream
    assert "Pause all publishing now" in stream
    response = client.post(f"/listening/{watch.pk}/pause/")
    assert response["Location"] == "/publishing/pause/"
    pause = PublishingPause.objects.get(organization=personas.org, ended_at__isnull=True)
    assert "Uimahalli" in pause.reason
    assert AuditEvent.objects.filter(action="publishing.paused").count() == 1

    # An editor sees the alert but may not pause publishing.
    login(client, personas.bob)
    assert "Pause all publishing now" not in client.get(f"/listening/{watch.pk}/").content.decode()


def test_hourly_and_daily_volume_show_on_the_stream(personas, client, login):
    watch = _watch(personas)
    hour = _this_hour()
    listening_store_posts(watch=watch, account=None, network="bluesky", found=_found(7, hour))
    login(client, personas.alice)
    page = client.get(f"/listening/{watch.pk}/").content.decode()
    assert "Posts per hour" in page and "<td>7</td>" in page


# --- polling: rate limits and dedupe -----------------------------------------------------------


def test_a_poll_keeps_matches_once_and_waits_when_rate_limited(personas, monkeypatch):
    watch = _watch(personas)
    source = WatchSource.objects.get(watch=watch)
    now = timezone.now()
    pages = {
        "": SearchPage(
            posts=[p for p, _m in _found(2, now - timedelta(minutes=5))]
            + [
                FoundPost(
                    remote_id="at://x/app.bsky.feed.post/other",
                    url="",
                    author_handle="x",
                    author_name="",
                    text="nothing to do with it",
                    created_at=now,
                )
            ],
            next_cursor="2",
        ),
        "2": SearchPage(posts=[p for p, _m in _found(1, now - timedelta(days=3), prefix="old")]),
    }
    calls: list[tuple[str, str]] = []

    def search(self, account, term, *, since=None, cursor="", limit=50):
        calls.append((term, cursor))
        return pages[cursor]

    monkeypatch.setattr(BlueskyConnector, "search_posts", search)
    assert watch_poll_source(source_id=source.pk).outcome == "searched"
    assert calls == [("uimahalli", ""), ("uimahalli", "2")]
    assert ListeningPost.objects.filter(watch=watch).count() == 2  # not the old one
    source.refresh_from_db()
    assert source.next_poll_at > now and source.posts_found == 2
    # Not due yet: nothing happens.
    assert watch_poll_source(source_id=source.pk).outcome == "busy"

    def limited(self, account, term, *, since=None, cursor="", limit=50):
        raise RateLimited(600)

    monkeypatch.setattr(BlueskyConnector, "search_posts", limited)
    WatchSource.objects.filter(pk=source.pk).update(next_poll_at=now)
    assert watch_poll_source(source_id=source.pk).outcome == "rate_limited"
    source.refresh_from_db()
    assert source.next_poll_at >= now + timedelta(seconds=590)
    assert source.last_error_kind == "rate_limited"
    monkeypatch.setattr(BlueskyConnector, "search_posts", search)
    WatchSource.objects.filter(pk=source.pk).update(next_poll_at=now)
    watch_poll_source(source_id=source.pk)
    assert ListeningPost.objects.filter(watch=watch).count() == 2


# --- misinformation cases ---------------------------------------------------------------------


def test_a_case_groups_posts_links_the_correction_shows_reach_and_closes_with_a_note(
    personas, client, login
):
    watch = _watch(personas)
    listening_store_posts(
        watch=watch,
        account=None,
        network="bluesky",
        found=_found(3, _this_hour(), "uimahalli suljetaan pysyvästi"),
    )
    login(client, personas.alice)
    response = client.post("/listening/cases/", {"claim": ""})
    assert response.status_code == 400
    response = client.post(
        "/listening/cases/",
        {"claim": "Uimahalli suljetaan pysyvästi", "correction_url": "https://example.org/ui"},
    )
    case = MisinformationCase.objects.get()
    assert response["Location"] == f"/listening/cases/{case.pk}/"

    for post in ListeningPost.objects.filter(watch=watch)[:2]:
        client.post(f"/listening/posts/{post.pk}/misinformation/", {"case": case.pk})
    assert ListeningPost.objects.filter(case=case).count() == 2
    reach = CaseReach.objects.filter(case=case).order_by("pk").last()
    assert reach is not None and reach.posts == 2 and reach.engagement == 1 + 2
    page = client.get(f"/listening/cases/{case.pk}/").content.decode()
    assert page.count("suljetaan pysyvästi</td>") == 2
    assert 'href="https://example.org/ui"' in page

    assert client.post(f"/listening/cases/{case.pk}/", {"action": "close"}).status_code == 400
    response = client.post(
        f"/listening/cases/{case.pk}/", {"action": "close", "note": "Corrected; it stopped."}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_by == personas.alice
    assert "Corrected; it stopped." in client.get(f"/listening/cases/{case.pk}/").content.decode()
    # A closed case takes no more posts.
    last = ListeningPost.objects.filter(case__isnull=True).get()
    client.post(f"/listening/posts/{last.pk}/misinformation/", {"case": case.pk})
    last.refresh_from_db()
    assert last.case is None
    actions = set(
        AuditEvent.objects.filter(action__startswith="listening.case").values_list(
            "action", flat=True
        )
    )
    assert actions == {"listening.case_opened", "listening.case_closed"}


def test_seeing_a_post_again_adds_nothing_and_refreshes_its_engagement(personas):
    watch = _watch(personas)
    hour = _this_hour()
    [(post, matched)] = _found(1, hour)
    assert (
        len(
            listening_store_posts(
                watch=watch, account=None, network="bluesky", found=[(post, matched)]
            )
        )
        == 1
    )
    grown = FoundPost(**{**post.__dict__, "likes": 40, "shares": 3})
    again = listening_store_posts(
        watch=watch, account=None, network="bluesky", found=[(grown, matched)]
    )
    assert again == []
    stored = ListeningPost.objects.get()
    assert (stored.likes, stored.shares) == (40, 3)
    assert WatchVolume.objects.get(watch=watch, hour=hour).count == 1


def test_the_migration_keeps_one_row_per_status_with_what_people_did_to_either(personas):
    # Before canonical keys, one Mastodon status found through two instances was two
    # rows; the migration keeps the older and moves the newer's misinformation mark to it.
    import importlib

    from django.apps import apps

    migration = importlib.import_module("listening.migrations.0002_listening_post_canonical_key")
    watch = _watch(personas)
    uri = "https://social.example/users/aino/statuses/1"
    common = {
        "organization": personas.org,
        "watch": watch,
        "network": "mastodon",
        "author_handle": "@aino@social.example",
        "posted_at": timezone.now(),
        "extra": {"uri": uri},
    }
    older = ListeningPost.objects.create(remote_id="1", canonical_key="old-1", **common)
    newer = ListeningPost.objects.create(
        remote_id="9001", canonical_key="old-2", misinformation_at=timezone.now(), **common
    )
    other = ListeningPost.objects.create(
        remote_id="at://did:plc:x/app.bsky.feed.post/1",
        canonical_key="old-3",
        **{**common, "network": "bluesky", "extra": {}},
    )
    migration.fill_keys(apps, None)
    assert list(ListeningPost.objects.order_by("pk").values_list("pk", "canonical_key")) == [
        (older.pk, uri),
        (other.pk, other.remote_id),
    ]
    older.refresh_from_db()
    assert older.misinformation_at == newer.misinformation_at


def test_an_alert_is_acknowledged_on_the_stream_once_and_shown_with_who_and_when(
    personas, client, login
):
    watch = _watch(personas)
    hour = _this_hour()
    alert = WatchAlert.objects.create(watch=watch, hour=hour, count=30, baseline=3)
    stream = f"/listening/{watch.pk}/"
    acknowledge = f"/listening/alerts/{alert.pk}/acknowledge/"

    # Another organization's alert does not exist for them; an auditor may not act.
    login(client, personas.charlie)
    assert client.post(acknowledge).status_code == 404
    login(client, personas.carol)
    assert "Acknowledge</button>" not in client.get(stream).content.decode()
    assert client.post(acknowledge).status_code == 403
    assert client.get(acknowledge).status_code == 405

    login(client, personas.alice)
    page = client.get(stream).content.decode()
    assert f'action="{acknowledge}"' in page and "Acknowledge</button>" in page
    response = client.post(acknowledge, follow=True)
    assert response.redirect_chain == [(stream, 302)]
    page = response.content.decode()
    assert "Alert acknowledged." in page
    alert.refresh_from_db()
    assert alert.acknowledged_by == personas.alice and alert.acknowledged_at is not None
    name = personas.alice.full_name or personas.alice.email
    assert f"Acknowledged by {name} on " in page
    assert f'action="{acknowledge}"' not in page
    # Once: acknowledging again changes nothing and says so.
    again = client.post(acknowledge, follow=True).content.decode()
    assert "This alert was already acknowledged." in again
    events = AuditEvent.objects.filter(action="listening.alert_acknowledged")
    assert [(e.actor, e.target_label) for e in events] == [(personas.alice, "Uimahalli")]
