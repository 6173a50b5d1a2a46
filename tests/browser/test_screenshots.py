"""`make screenshots`: the demo organization's content and the screenshot helper.

The command itself (``scripts/screenshots.py``) migrates a SQLite database of its own and
starts ``runserver``; here the same seeding and capture run against the test database
and live server, so each screen is known to open (not a login page, not an error) with
the demo data, and the files are PNGs of the window's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.models import TrackedPost
from govsocial.demo_content import demo_content_seed
from govsocial.management.commands.bootstrap_demo import demo_bootstrap
from govsocial.screenshots import (
    SCREENS,
    Size,
    capture,
    demo_environment,
    png_size,
    verified_session,
)
from inbox.models import InboxItem
from publishing.models import PostStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_screen_of_the_demo_organization_is_captured(browser, live_server, tmp_path):
    demo = demo_bootstrap()
    content = demo_content_seed(
        organization=demo.organization, admin=demo.admin, sandbox=demo.sandbox
    )
    # What the screens show: posts waiting, questions in the inbox, a top post's image.
    assert [post.status for post in content.waiting] == [PostStatus.IN_REVIEW] * 2
    assert InboxItem.objects.filter(channel_account=demo.sandbox, status="new").count() == 4
    assert TrackedPost.objects.filter(job__variant__media__asset=content.image).exists()
    session_key = verified_session(demo.admin, demo.organization)

    phone = Size("390x844", 390, 844)
    written = capture(browser, live_server.url, session_key, tmp_path, sizes=[phone])
    assert [path.name for path in written] == [f"{s.name}-390x844.png" for s in SCREENS]
    for path in written:
        assert png_size(path) == (390, 844)

    tall = capture(
        browser,
        live_server.url,
        session_key,
        tmp_path,
        screens=SCREENS[3:4],
        sizes=[Size("1366x900", 1366, 900)],
        full_page=True,
    )
    width, height = png_size(tall[0])
    assert tall[0].name == "dashboard-1366x900.png"
    assert width == 1366 and height > 900


def test_a_stale_session_is_refused_not_photographed(browser, live_server, tmp_path):
    with pytest.raises(RuntimeError, match="/auth/"):
        capture(browser, live_server.url, "no-such-session", tmp_path, screens=SCREENS[:1])


def test_the_demo_never_touches_the_development_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/production")
    monkeypatch.setenv("REDIS_URL", "redis://cache.example/0")
    env = demo_environment(tmp_path)
    assert env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert env["REDIS_URL"] == ""
    assert Path(env["GOVSOCIAL_VAR_DIR"]) == tmp_path
    assert not Path(env["GOVSOCIAL_ENV_FILE"]).exists()
    assert env["SANDBOX_AUDIENCE_REACTS"] == "false"
