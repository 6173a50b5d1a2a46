"""Links that measure: UTM tags and short links added at publish time, and the public
redirect that counts each click once without storing anything about the visitor."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import ChannelAccount, SandboxPost
from governance.models import Organization
from publishing.models import Campaign, LinkSettings, Post, PublishJob, ShortLink, ShortLinkClick
from publishing.services import links as links_service
from publishing.services.links import short_link_clicks_flush, text_rewrite, text_urls, url_tag
from publishing.tests.fixtures import scheduled

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TEXT = "Register now: https://example.fi/events?id=7#signup. Questions: mailto:info@example.fi"


def feed(account: ChannelAccount) -> list[SandboxPost]:
    return list(SandboxPost.objects.filter(account=account, is_own=True).order_by("pk"))


def fail_mode(account: ChannelAccount, mode: str) -> None:
    account.credentials = {"sandbox_fail_mode": mode} if mode else {}
    account.save(update_fields=["credentials"])


def links_on(
    org: Organization, *, tag_utm: bool = True, shorten: bool = False, domain: str = ""
) -> None:
    LinkSettings.objects.update_or_create(
        organization=org, defaults={"tag_utm": tag_utm, "shorten": shorten, "short_domain": domain}
    )


def campaign_post(team, text: str = TEXT) -> Post:
    post = scheduled(team, at=timezone.now() + timedelta(hours=1), text=text)
    post.campaign = Campaign.objects.create(organization=post.organization, name="Autumn Events")
    post.save(update_fields=["campaign"])
    return post


def short_code(text: str) -> str:
    match = re.search(r"/l/([A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


# --- tagging --------------------------------------------------------------------------------


def test_tagging_keeps_the_address_own_parameters_and_fragment():
    tagged = url_tag("https://example.fi/events?id=7&lang=fi#signup", source="x", campaign="c")
    assert tagged == (
        "https://example.fi/events?id=7&lang=fi&utm_source=x&utm_medium=social&utm_campaign=c"
        "#signup"
    )


def test_tagging_never_overrides_utm_parameters_already_there():
    tagged = url_tag("https://example.fi/?utm_source=newsletter", source="mastodon", campaign="c")
    assert tagged == "https://example.fi/?utm_source=newsletter&utm_medium=social&utm_campaign=c"


def test_only_web_addresses_change_and_punctuation_stays_in_the_sentence():
    text = "See https://example.fi/a_(b). Or (https://example.fi/c), tel:+358 9 123, mailto:a@b.fi!"
    assert text_urls(text) == ["https://example.fi/a_(b)", "https://example.fi/c"]
    assert text_rewrite(text, lambda url: "<" + url + ">") == (
        "See <https://example.fi/a_(b)>. Or (<https://example.fi/c>), tel:+358 9 123, "
        "mailto:a@b.fi!"
    )


def test_a_published_post_carries_campaign_parameters_and_the_approved_text_is_unchanged(
    team, run_due
):
    links_on(team.alice.organization)
    post = campaign_post(team)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        assert run_due() == ["published"]
    [sent] = feed(team.account)
    network = team.account.network
    assert sent.text == (
        "Register now: https://example.fi/events?id=7&utm_source="
        f"{network}&utm_medium=social&utm_campaign=autumn-events#signup. "
        "Questions: mailto:info@example.fi"
    )
    assert post.variants.get().text == TEXT
    assert not ShortLink.objects.exists()


def test_links_are_left_alone_when_the_organization_has_not_asked(team, run_due):
    campaign_post(team)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        assert run_due() == ["published"]
    assert feed(team.account)[0].text == TEXT


def test_a_text_that_tags_would_make_too_long_goes_out_with_its_links_as_written(team, run_due):
    links_on(team.alice.organization)
    text = "x" * 470 + " https://example.fi/a"  # 491 of the sandbox's 500; tagged: 550
    campaign_post(team, text=text)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        assert run_due() == ["published"]
    assert feed(team.account)[0].text == text


# --- shortening -----------------------------------------------------------------------------


def test_a_shortened_link_leads_to_the_tagged_address(team, run_due, client):
    links_on(team.alice.organization, shorten=True, domain="go.example.fi")
    post = campaign_post(team)
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        assert run_due() == ["published"]
    [sent] = feed(team.account)
    code = short_code(sent.text)
    assert sent.text == (
        f"Register now: https://go.example.fi/l/{code}. Questions: mailto:info@example.fi"
    )
    link = ShortLink.objects.get()
    assert (link.post, link.network) == (post, team.account.network)
    response = client.get(f"/l/{code}", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == (
        "https://example.fi/events?id=7&utm_source="
        f"{team.account.network}&utm_medium=social&utm_campaign=autumn-events#signup"
    )


def test_a_retried_publish_sends_the_same_short_link(team, run_due):
    links_on(team.alice.organization, shorten=True)
    campaign_post(team)
    fail_mode(team.account, "timeout")  # the post lands, the answer is lost
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        assert run_due() == ["retry"]
    first_code = ShortLink.objects.get().code
    fail_mode(team.account, "")
    job = PublishJob.objects.get()
    with time_machine.travel(job.next_attempt_at, tick=False):
        # Reconciling finds the post it sent, because the text it looks for has the same code.
        assert run_due() == ["published"]
    [sent] = feed(team.account)
    assert short_code(sent.text) == first_code
    assert ShortLink.objects.count() == 1


def test_a_transient_failure_then_success_reuses_the_code(team, run_due):
    links_on(team.alice.organization, tag_utm=False, shorten=True)
    campaign_post(team)
    fail_mode(team.account, "transient")
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1), tick=False):
        assert run_due() == ["retry"]
    code = ShortLink.objects.get().code
    assert ShortLink.objects.get().target_url == "https://example.fi/events?id=7#signup"
    fail_mode(team.account, "")
    with time_machine.travel(PublishJob.objects.get().next_attempt_at, tick=False):
        assert run_due() == ["published"]
    assert short_code(feed(team.account)[0].text) == code
    assert ShortLink.objects.count() == 1


# --- the redirect ---------------------------------------------------------------------------


@pytest.fixture
def link(team) -> ShortLink:
    post = campaign_post(team)
    return ShortLink.objects.create(
        organization=post.organization,
        post=post,
        job=PublishJob.objects.get(post=post),
        network="sandbox",
        code="abcDEF12",
        original_url="https://example.fi/",
        target_url="https://example.fi/?utm_source=sandbox",
    )


def test_each_click_is_counted_once_and_nothing_about_the_visitor_is_kept(client, link):
    for _n in range(3):
        response = client.get(
            "/l/abcDEF12", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9", HTTP_COOKIE="a=b"
        )
        assert response.status_code == 302
        assert response["Location"] == "https://example.fi/?utm_source=sandbox"
        assert response["Cache-Control"] == "no-store"
        assert not response.cookies  # no session, no cookie of ours
    assert short_link_clicks_flush() == 3  # as the periodic task does
    [row] = ShortLinkClick.objects.values()
    assert row == {
        "id": row["id"],
        "link_id": link.pk,
        "day": timezone.now().date(),
        "clicks": 3,
        "bot_clicks": 0,
    }


def test_crawlers_and_link_previews_are_not_counted_as_clicks(client, link):
    for agent in (
        "Mastodon/4.3.0 (http.rb/5.2.0; +https://mastodon.social/)",
        "facebookexternalhit/1.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "",
    ):
        assert client.get("/l/abcDEF12", HTTP_USER_AGENT=agent).status_code == 302
    assert client.head("/l/abcDEF12", HTTP_USER_AGENT=BROWSER).status_code == 302
    short_link_clicks_flush()
    row = ShortLinkClick.objects.get(link=link)
    assert (row.clicks, row.bot_clicks) == (0, 4)


def test_clicks_on_another_day_count_on_that_day(client, link):
    client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    short_link_clicks_flush()
    assert sorted(ShortLinkClick.objects.values_list("clicks", flat=True)) == [1, 1]


def test_an_unknown_link_is_a_friendly_not_found_page(client, link):
    for path in ("/l/nope1234", "/l/" + "x" * 40, "/l/abc%00def"):
        response = client.get(path, HTTP_USER_AGENT=BROWSER)
        assert response.status_code in (400, 404)
    response = client.get("/l/nope1234", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 404
    assert "This short link does not lead anywhere." in response.content.decode()
    short_link_clicks_flush()
    assert not ShortLinkClick.objects.exists()


def _clicks(link: ShortLink) -> tuple[int, int]:
    rows = ShortLinkClick.objects.filter(link=link).values_list("clicks", "bot_clicks")
    return (sum(c for c, _b in rows), sum(b for _c, b in rows))


def test_clicks_wait_in_redis_until_flushed_then_count_once(client, link):
    for _n in range(4):
        client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    client.get("/l/abcDEF12", HTTP_USER_AGENT="facebookexternalhit/1.1")
    assert _clicks(link) == (0, 0)
    assert short_link_clicks_flush() == 5
    assert _clicks(link) == (4, 1)
    assert short_link_clicks_flush() == 0  # nothing new: nothing added
    client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    short_link_clicks_flush()
    assert _clicks(link) == (5, 1)


def test_a_flush_interrupted_after_its_commit_counts_nothing_twice(client, link, monkeypatch):
    for _n in range(3):
        client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    redis_client = links_service._redis()

    def lost_connection(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Redis went away before the batch was cleared")

    monkeypatch.setattr(redis_client, "eval", lost_connection)
    with pytest.raises(ConnectionError):
        short_link_clicks_flush()
    monkeypatch.undo()
    assert _clicks(link) == (3, 0)
    client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)  # meanwhile, a new click
    assert short_link_clicks_flush() == 0  # finishes the old batch: already counted
    assert short_link_clicks_flush() == 1  # then the new click
    assert _clicks(link) == (4, 0)


def test_a_flush_interrupted_before_its_commit_loses_nothing(client, link, monkeypatch):
    for _n in range(2):
        client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)

    def crash(counts: object) -> None:
        raise RuntimeError("worker killed mid-flush")

    monkeypatch.setattr(links_service, "_clicks_add", crash)
    with pytest.raises(RuntimeError):
        short_link_clicks_flush()
    monkeypatch.undo()
    assert _clicks(link) == (0, 0)
    client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    assert short_link_clicks_flush() == 2  # the interrupted batch, once
    assert short_link_clicks_flush() == 1  # the click that came after
    assert _clicks(link) == (3, 0)


def test_clicks_of_a_deleted_link_are_dropped_at_the_flush(client, link):
    client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    ShortLink.objects.filter(pk=link.pk).delete()
    short_link_clicks_flush()
    assert not ShortLinkClick.objects.exists()


def test_without_redis_each_click_is_counted_in_the_database(client, link, settings):
    settings.REDIS_URL = ""
    client.get("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    client.head("/l/abcDEF12", HTTP_USER_AGENT=BROWSER)
    assert _clicks(link) == (1, 0)
    assert short_link_clicks_flush() == 0
