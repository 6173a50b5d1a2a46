"""The pages around links that measure: the settings, the post page (what links become,
and their clicks) and the analytics dashboard's clicks beside engagement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from governance.models import AuditEvent
from publishing.forms_links import LinkSettingsForm
from publishing.models import LinkSettings, PublishJob, ShortLink, ShortLinkClick
from publishing.tasks import flush_short_link_clicks
from publishing.tests.fixtures import scheduled

pytestmark = pytest.mark.django_db

TEXT = "Register now: https://example.fi/events?id=7#signup"


@pytest.fixture
def clicked(team):
    """A post with a short link clicked 5 times yesterday and 2 today (plus crawlers)."""
    post = scheduled(team, at=timezone.now() + timedelta(hours=1), text=TEXT, title="Events")
    link = ShortLink.objects.create(
        organization=post.organization,
        post=post,
        job=PublishJob.objects.get(post=post),
        network=team.account.network,
        code="evt12345",
        original_url="https://example.fi/events?id=7#signup",
        target_url="https://example.fi/events?id=7&utm_medium=social#signup",
    )
    today = timezone.now().date()
    ShortLinkClick.objects.create(link=link, day=today - timedelta(days=1), clicks=5, bot_clicks=9)
    ShortLinkClick.objects.create(link=link, day=today, clicks=2)
    return post


def test_an_admin_turns_on_tagging_and_short_links(team, client, login):
    login(client, team.alice.user)
    page = client.get("/publishing/links/")
    assert page.status_code == 200
    assert "Tag links with campaign parameters" in page.content.decode()
    response = client.post(
        "/publishing/links/", {"tag_utm": "on", "shorten": "on", "short_domain": "Go.Example.FI"}
    )
    assert response.status_code == 302
    saved = LinkSettings.objects.get(organization=team.alice.organization)
    assert (saved.tag_utm, saved.shorten, saved.short_domain) == (True, True, "go.example.fi")
    assert AuditEvent.objects.filter(action="link_settings.updated").count() == 1


def test_a_short_domain_must_be_a_domain(team, client, login):
    login(client, team.alice.user)
    response = client.post("/publishing/links/", {"short_domain": "https://go.example.fi/x"})
    assert response.status_code == 400
    assert "Enter a domain name only" in response.content.decode()
    assert not LinkSettings.objects.exists()


def test_only_admins_change_link_settings(team, client, login):
    login(client, team.eddie.user)
    assert client.get("/publishing/links/").status_code == 403
    assert client.post("/publishing/links/", {"tag_utm": "on"}).status_code == 403
    assert not LinkSettings.objects.exists()


def test_the_post_page_shows_what_its_links_will_become(team, client, login):
    LinkSettings.objects.create(organization=team.alice.organization, tag_utm=True)
    post = scheduled(team, at=timezone.now() + timedelta(hours=1), text=TEXT)
    login(client, team.eddie.user)
    page = client.get(f"/publishing/posts/{post.pk}/").content.decode()
    assert "When the post is published, its links change like this" in page
    assert "https://example.fi/events?id=7&amp;utm_source=sandbox&amp;utm_medium=social" in page


def test_the_post_page_says_nothing_about_links_when_nothing_changes(team, client, login):
    post = scheduled(team, at=timezone.now() + timedelta(hours=1), text=TEXT)
    login(client, team.eddie.user)
    assert (
        'id="post-links-heading"'
        not in client.get(f"/publishing/posts/{post.pk}/").content.decode()
    )


def test_the_post_page_shows_clicks_per_link_and_day(team, client, login, clicked):
    login(client, team.eddie.user)
    page = client.get(f"/publishing/posts/{clicked.pk}/").content.decode()
    assert "Clicks on the post's short links" in page
    assert "/l/evt12345</code></td><td>7</td>" in page
    sandbox = "Sandbox (practice feed inside GovSocial)"
    today = timezone.now().date()
    rows = {
        chunk.split('"', 1)[0]: chunk.split("</time></th>", 1)[1].split("</tr>", 1)[0]
        for chunk in page.split('<time datetime="')[1:]
        if "</time></th><td>" in chunk
    }
    assert rows[str(today)] == f"<td>{sandbox}</td><td>2</td>"
    assert rows[str(today - timedelta(days=1))] == f"<td>{sandbox}</td><td>5</td>"


def test_another_organization_sees_neither_the_post_nor_its_clicks(team, client, login, clicked):
    login(client, team.charlie.user)
    assert client.get(f"/publishing/posts/{clicked.pk}/").status_code == 404
    page = client.get("/analytics/").content.decode()
    assert "No clicks on short links in this range." in page
    assert "Events" not in page


def test_the_dashboard_shows_clicks_beside_engagement(team, client, login, clicked):
    login(client, team.alice.user)
    page = client.get("/analytics/").content.decode()
    assert "7 clicks on the short links of posts in this range." in page
    assert f'<a href="/publishing/posts/{clicked.pk}/">Events</a></th><td>7</td>' in page
    assert '<th scope="row">Sandbox (practice feed inside GovSocial)</th><td>7</td>' in page


def test_the_dashboard_counts_redirects_once_flushed(team, client, login, clicked):
    browser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    for _n in range(3):
        assert client.get("/l/evt12345", HTTP_USER_AGENT=browser).status_code == 302
    client.get("/l/evt12345", HTTP_USER_AGENT="Mastodon/4.3.0 (http.rb/5.2.0)")
    client.head("/l/evt12345", HTTP_USER_AGENT=browser)
    flush_short_link_clicks()  # the periodic task
    login(client, team.alice.user)
    page = client.get("/analytics/").content.decode()
    assert "10 clicks on the short links of posts in this range." in page


def test_the_link_pages_speak_finnish_and_swedish(client, team):
    page = client.get("/l/nope1234", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "Länken hittades inte" in page
    page = client.get("/l/nope1234", HTTP_ACCEPT_LANGUAGE="fi").content.decode()
    assert "Linkkiä ei löytynyt" in page
    with translation.override("fi"):
        form = LinkSettingsForm(instance_values=LinkSettings())
        assert str(form.fields["shorten"].label) == "Lyhennä linkit ja laske klikkaukset"
