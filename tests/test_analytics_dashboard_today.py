"""The dashboard's figures include today, read from the numbers pulled so far (not
only from the hourly rollups), with the change on the previous period, a breakdown
by network, top posts with their image and language, and the time they are as of."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import followers, local_noon, post_snapshot, today_local, tracked
from governance.models import Membership
from publishing.models import VariantMedia
from publishing.tests.fixtures import make_image, media_root  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def key_figures(page: bytes) -> dict[str, str]:
    found = re.findall(
        r'<div class="key-figure">\s*<dt>(.*?)</dt>\s*<dd>(.*?)</dd>', page.decode(), re.S
    )
    return {text(label): text(value) for label, value in found}


def test_a_post_published_minutes_ago_with_likes_counts_as_published(personas, client, login):
    # The hourly rebuild ran a moment ago: today's rollup rows exist, without the post.
    today = today_local()
    followers(personas.bob_account, local_noon(today - timedelta(days=1)), 500)
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=2))
    now = timezone.now()
    fresh = tracked(personas.bob_account, at=now - timedelta(minutes=5), title="Road closed")
    post_snapshot(fresh, now - timedelta(minutes=1), likes=7, shares=2)
    login(client, personas.alice)

    page = client.get("/analytics/")

    figures = key_figures(page.content)
    assert figures["Posts published"].startswith("1")
    assert figures["Engagement"].startswith("9")
    assert "Road closed" in page.content.decode()


def test_the_key_figures_show_the_change_on_the_previous_period(personas, client, login):
    today = today_local()
    for days_ago in (40, 35, 31):
        post = tracked(personas.bob_account, at=local_noon(today - timedelta(days=days_ago)))
        post_snapshot(post, local_noon(today - timedelta(days=days_ago)), likes=10)
    for days_ago in (20, 10, 5, 3, 2, 1):
        post = tracked(personas.bob_account, at=local_noon(today - timedelta(days=days_ago)))
        post_snapshot(post, local_noon(today - timedelta(days=days_ago)), likes=5)
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=60))
    login(client, personas.alice)

    figures = key_figures(client.get("/analytics/").content)

    # 6 posts against 3 in the 30 days before; 30 likes against 30.
    assert figures["Posts published"] == "6 +100 % on the previous 30 days"
    assert figures["Engagement"].startswith("30 No change on the previous 30 days")


def test_the_page_says_when_the_figures_are_as_of_in_the_readers_zone(personas, client, login):
    personas.alice.time_zone = "Asia/Tokyo"
    personas.alice.save(update_fields=["time_zone"])
    login(client, personas.alice)

    page = client.get("/analytics/").content.decode()

    now = timezone.localtime(timezone.now(), timezone=ZoneInfo("Asia/Tokyo"))
    shown = re.search(r"Figures as of (\d\d:\d\d) \((\w+)\)", page)
    assert shown is not None
    assert shown.group(2) == "JST"
    hours, minutes = map(int, shown.group(1).split(":"))
    assert abs((now.hour * 60 + now.minute) - (hours * 60 + minutes)) % 1440 <= 1


def test_each_network_has_its_line(personas, client, login):
    from tests.factories import ChannelAccountFactory

    today = today_local()
    mastodon = ChannelAccountFactory.create(
        organization=personas.org, network="mastodon", handle="city@social.example"
    )
    followers(personas.bob_account, local_noon(today - timedelta(days=1)), 120)
    followers(mastodon, local_noon(today - timedelta(days=1)), 340)
    post = tracked(mastodon, at=local_noon(today - timedelta(days=1)), sandbox=False)
    post_snapshot(post, local_noon(today - timedelta(days=1)), likes=4, replies=1)
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=3))
    login(client, personas.alice)

    page = client.get("/analytics/").content.decode()

    section = page.split('class="dash-networks"')[1].split("</section>")[0]
    rows = {
        text(label): [text(cell) for cell in re.findall(r"<td>(.*?)</td>", cells)]
        for label, cells in re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', section)
    }
    assert rows["Mastodon"] == ["340", "1", "5", "0"]
    assert rows["Sandbox (practice feed inside GovSocial)"][0] == "120"


def test_top_posts_show_their_image_with_alt_text_and_their_language(
    personas,
    client,
    login,
    media_root,  # noqa: F811
):
    alice = Membership.objects.get(user=personas.alice)
    today = today_local()
    post = tracked(personas.bob_account, at=local_noon(today - timedelta(days=1)), title="Ferry")
    post_snapshot(post, local_noon(today - timedelta(days=1)), likes=3)
    image = make_image(alice, alt={"fi": "Lautta rannassa", "en": "The ferry at the shore"})
    VariantMedia.objects.create(variant=post.job.variant, asset=image)
    login(client, personas.alice)

    page = client.get("/analytics/").content.decode()

    entry = page.split('<li class="top-post">')[1].split("</li>")[0]
    assert (
        f'<img class="top-post-image" src="/publishing/media/{image.pk}/file/" '
        'alt="Lautta rannassa"' in entry
    )
    assert '<span lang="fi">Finnish</span>' in entry
    assert "3 reactions" in text(entry)


def test_the_dashboard_speaks_finnish(personas, client, login):
    personas.alice.preferred_language = "fi"
    personas.alice.save(update_fields=["preferred_language"])
    login(client, personas.alice)

    page = client.get("/analytics/", HTTP_ACCEPT_LANGUAGE="fi").content.decode()

    assert "Luvut klo" in page
    assert "Palveluittain" in page
    assert "Ei muutosta edellisiin 30 päivään" in page


def test_a_campaigns_post_published_today_counts_in_the_campaign_view(personas, client, login):
    from publishing.models import Campaign

    today = today_local()
    campaign = Campaign.objects.create(organization=personas.org, name="Winter")
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=1))
    now = timezone.now()
    ours = tracked(personas.bob_account, at=now - timedelta(minutes=5), campaign=campaign)
    post_snapshot(ours, now - timedelta(minutes=1), likes=4)
    other = tracked(personas.bob_account, at=now - timedelta(minutes=5), title="Other")
    post_snapshot(other, now - timedelta(minutes=1), likes=50)
    login(client, personas.alice)

    figures = key_figures(client.get(f"/analytics/?campaign={campaign.pk}").content)

    assert figures["Posts published"].startswith("1")
    assert figures["Engagement"].startswith("4 ")


def test_todays_figures_are_read_once_a_minute_and_the_page_says_when(
    personas, client, login, settings
):
    # A team of managers opening the dashboard reads the day's raw numbers once per
    # ANALYTICS_LIVE_SECONDS; what came in since shows after that, and "as of" says when.
    settings.ANALYTICS_LIVE_SECONDS = 60
    now = timezone.now()
    first = tracked(personas.bob_account, at=now - timedelta(minutes=5), title="Road closed")
    post_snapshot(first, now - timedelta(minutes=1), likes=7)
    login(client, personas.alice)
    before = client.get("/analytics/")
    assert key_figures(before.content)["Posts published"].startswith("1")
    found = re.search(r"Figures as of ([^(]+)\(", text(before.content.decode()))
    assert found is not None
    as_of = found.group(1)

    later = tracked(personas.bob_account, at=now - timedelta(minutes=2), title="Bridge open")
    post_snapshot(later, now - timedelta(seconds=30), likes=3)
    again = client.get("/analytics/")
    assert key_figures(again.content)["Posts published"].startswith("1")  # read a minute ago
    assert f"Figures as of {as_of}(" in text(again.content.decode())

    settings.ANALYTICS_LIVE_SECONDS = 0  # as a minute later: read afresh
    fresh = client.get("/analytics/")
    assert key_figures(fresh.content)["Posts published"].startswith("2")
