"""WCAG 2.4.2 Page titled: each calendar view has a title of its own, and a filtered
list says in its title that it is filtered, and by what."""

# ruff: noqa: RUF001 (the titles hold en dashes)

from __future__ import annotations

import html
import re

import pytest

from inbox.tests.helpers import make_item
from publishing.services.posts import post_create

pytestmark = pytest.mark.django_db


def title_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert found is not None
    return html.unescape(found.group(1)).strip()


def test_each_calendar_view_has_its_own_title(client, personas, login):
    login(client, personas.alice)
    day = "date=2026-03-10"
    titles = {
        title_of(client, f"/publishing/calendar/?{day}"),
        title_of(client, f"/publishing/calendar/week/?{day}"),
        title_of(client, f"/publishing/calendar/list/?{day}"),
        title_of(client, f"/publishing/calendar/list/?{day}&span=month"),
    }
    assert titles == {
        "Calendar – March 2026 · GovSocial",
        "Calendar – week of 9 March 2026 · GovSocial",
        "Calendar – list: Week 11: 9\u00a0–\u00a015 Mar 2026 · GovSocial",
        "Calendar – list: March 2026 · GovSocial",
    }
    assert title_of(client, f"/publishing/calendar/week/?{day}&status=draft") == (
        "Calendar – week of 9 March 2026 (filtered) · GovSocial"
    )


def test_a_filtered_posts_list_says_so_in_its_title(client, personas, login):
    post_create(membership=personas.membership(personas.alice), title="Library hours")
    login(client, personas.alice)
    assert title_of(client, "/publishing/posts/") == "Posts · GovSocial"
    assert title_of(client, "/publishing/posts/?status=draft") == (
        "Posts (filtered: Draft) · GovSocial"
    )


def test_a_filtered_inbox_says_by_what_in_its_title(client, personas, login):
    make_item(personas.bob_account, assignee=personas.alice, status="assigned")
    login(client, personas.alice)
    assert title_of(client, "/inbox/") == "Inbox · GovSocial"
    assert title_of(client, "/inbox/?assignee=me") == (
        "Inbox (filtered: Assigned to: Me) · GovSocial"
    )
    assert title_of(client, "/inbox/?assignee=me&status=assigned") == (
        "Inbox (filtered: Status: Assigned, Assigned to: Me) · GovSocial"
    )


def test_a_filtered_audit_log_says_by_what_in_its_title(client, personas, login):
    login(client, personas.alice)
    assert title_of(client, "/governance/audit/") == "Audit log · GovSocial"
    assert title_of(client, "/governance/audit/?date_from=2026-03-01&actor_text=bob") == (
        "Audit log (filtered: Name or e-mail contains: bob, From date: 2026-03-01) · GovSocial"
    )
