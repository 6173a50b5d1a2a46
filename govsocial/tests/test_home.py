"""The home page ("Today"): what needs the reader now, each line linking to its
action, only what their role and accounts allow, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AccountStatus
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import inbox_item, local_noon, post_snapshot, today_local, tracked
from inbox.models import ItemStatus
from publishing.models import HoldReason, JobStatus, PublishJob
from publishing.services.pause import publishing_pause_start
from publishing.services.posts import post_submit_for_review
from publishing.tests.fixtures import draft, scheduled
from tests.factories import ChannelAccountFactory

pytestmark = pytest.mark.django_db


def section(page: str, heading_id: str) -> str:
    """The text of one section of the page, found by its heading's id."""
    match = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match is not None, f"no section {heading_id}"
    return match.group(1)


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def submitted(team, account=None, title="Library hours"):
    post = draft(team.eddie, account or team.account, title=title)
    post_submit_for_review(post=post, membership=team.eddie)
    return post


def mine(membership, account, *, due_in, text="Milloin kirjasto aukeaa?"):
    item = inbox_item(
        account, posted_at=timezone.now() - timedelta(hours=1), due_at=timezone.now() + due_in
    )
    item.assignee_id = membership.user_id
    item.status = ItemStatus.ASSIGNED
    item.text = text
    item.save(update_fields=["assignee", "status", "text"])
    return item


def test_it_lists_posts_waiting_for_my_approval_with_links(client, login, team):
    post = submitted(team, title="Snow ploughing tonight")
    login(client, team.rita.user)

    review = section(home(client), "today-review-heading")

    assert f'href="/publishing/posts/{post.pk}/"' in review
    assert "Snow ploughing tonight" in review
    assert "Waiting for me: 1 post to review" in review


def test_with_many_posts_in_review_it_reads_only_the_oldest_and_says_there_may_be_more(
    client, login, team, monkeypatch
):
    monkeypatch.setattr("publishing.selectors.REVIEW_SCAN", 2)
    oldest = submitted(team, title="Oldest in review")
    submitted(team, title="Second in review")
    newest = submitted(team, title="Newest in review")
    login(client, team.rita.user)

    review = section(home(client), "today-review-heading")

    assert f'href="/publishing/posts/{oldest.pk}/"' in review
    assert f'href="/publishing/posts/{newest.pk}/"' not in review
    assert "Waiting for me: 2 or more posts to review" in review


def test_editors_do_not_get_an_approval_list(client, login, team):
    submitted(team)
    login(client, team.eddie.user)

    page = home(client)

    assert "today-review-heading" not in page
    assert "Waiting for me" not in page


def test_it_lists_my_overdue_and_due_soon_inbox_items_and_nothing_else(client, login, team):
    overdue = mine(team.eddie, team.account, due_in=-timedelta(minutes=30), text="Overdue one")
    soon = mine(team.eddie, team.account, due_in=timedelta(hours=1), text="Soon one")
    mine(team.eddie, team.account, due_in=timedelta(days=2), text="Later one")
    mine(team.rita, team.account, due_in=-timedelta(hours=1), text="Rita's one")
    login(client, team.eddie.user)

    inbox = section(home(client), "today-inbox-heading")

    assert f'href="/inbox/{overdue.pk}/"' in inbox
    assert f'href="/inbox/{soon.pk}/"' in inbox
    assert inbox.index("Overdue one") < inbox.index("Soon one")
    assert "Overdue since" in inbox
    assert "Later one" not in inbox
    assert "Rita&#x27;s one" not in inbox and "Rita's one" not in inbox


def test_it_shows_today_and_tomorrow_per_account(client, login, team):
    local = timezone.localtime()
    tomorrow_noon = (local + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    later_today = local + timedelta(minutes=30)
    if later_today.date() != local.date():  # just before midnight: the next post is tomorrow's
        later_today = tomorrow_noon - timedelta(hours=1)
    first = scheduled(team, at=later_today, title="Road works")
    second = scheduled(team, at=tomorrow_noon, title="Market day", account=team.other_account)
    scheduled(team, at=local + timedelta(days=3), title="Next week")
    login(client, team.eddie.user)

    schedule = section(home(client), "today-schedule-heading")

    assert f'href="/publishing/posts/{first.pk}/"' in schedule
    assert f'href="/publishing/posts/{second.pk}/"' in schedule
    assert team.account.handle in schedule and team.other_account.handle in schedule
    assert "Next week" not in schedule


def test_a_limited_member_sees_only_their_accounts(client, login, team, personas):
    scheduled(team, title="Mayor's speech", account=team.other_account)
    scheduled(team, title="News briefing")
    personas.other_account.status = AccountStatus.NEEDS_RECONNECT
    personas.other_account.save(update_fields=["status"])
    login(client, personas.bob)

    page = home(client)

    assert "News briefing" in page
    assert "speech" not in page
    assert "city-mayor" not in page


def test_it_lists_accounts_to_reconnect_and_sign_ins_ending_soon(client, login, team, personas):
    personas.bob_account.status = AccountStatus.NEEDS_RECONNECT
    personas.bob_account.save(update_fields=["status"])
    ending = ChannelAccountFactory.create(
        organization=personas.org,
        network="mastodon",
        handle="city@social.example",
        credentials_expire_at=timezone.now() + timedelta(days=3),
    )
    ChannelAccountFactory.create(
        organization=personas.other_org, handle="elsewhere", status=AccountStatus.NEEDS_RECONNECT
    )
    login(client, team.eddie.user)

    problems = section(home(client), "today-problems-heading")

    assert f'href="/accounts/{personas.bob_account.pk}/"' in problems
    assert "city-news needs reconnecting" in problems
    assert f'href="/accounts/{ending.pk}/"' in problems
    assert "The sign-in of city@social.example ends on" in problems
    assert "elsewhere" not in problems


def test_it_shows_a_crisis_pause_failed_and_held_posts(client, login, team):
    post = scheduled(team, title="Held one")
    failed_post = scheduled(team, title="Failed one", account=team.other_account)
    PublishJob.objects.filter(post=failed_post).update(
        status=JobStatus.FAILED, last_error_message="The network refused the image."
    )
    publishing_pause_start(membership=team.manny, reason="Storm warning")
    PublishJob.objects.filter(post=post).update(
        status=JobStatus.HELD, hold_reason=HoldReason.PAUSE, held_at=timezone.now()
    )
    login(client, team.eddie.user)

    page = home(client)

    pause = page.split('aria-labelledby="pause-banner-heading"')[1].split("</div>")[0]
    assert "Storm warning" in pause and 'href="/publishing/pause/"' in pause
    problems = section(page, "today-problems-heading")
    assert "Held: Held one to city-news" in problems
    assert 'href="/publishing/pause/held/"' in problems
    assert "Failed: Failed one to city-mayor" in problems
    assert f'href="/publishing/posts/{failed_post.pk}/"' in problems
    assert "The network refused the image." in problems
    assert page.count("Storm warning") == 1  # in the banner, not repeated below it


def test_managers_see_the_weeks_key_figures_and_editors_do_not(client, login, team):
    today = today_local()
    post = tracked(team.account, at=local_noon(today - timedelta(days=2)), title="Ferry")
    post_snapshot(post, local_noon(today - timedelta(days=2)), likes=11)
    rollups_rebuild(organization=team.account.organization, since=today - timedelta(days=8))
    login(client, team.manny.user)

    week = section(home(client), "today-week-heading")

    assert "Posts published" in week
    assert re.search(r"Engagement</dt><dd><span[^>]*>11</span>", week)
    login(client, team.eddie.user)
    assert "today-week-heading" not in home(client)


def test_the_query_count_does_not_grow_with_the_data(client, login, team, personas):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            home(client)
        return len(captured.captured_queries)

    submitted(team)
    mine(team.manny, team.account, due_in=timedelta(hours=1))
    scheduled(team, title="One")
    login(client, team.manny.user)
    home(client)  # the session's first request fills per-session caches
    few = queries()
    for number in range(12):
        account = ChannelAccountFactory.create(
            organization=personas.org,
            handle=f"extra-{number}",
            status=AccountStatus.NEEDS_RECONNECT,
        )
        submitted(team, account=account, title=f"Review {number}")
        scheduled(team, title=f"Post {number}", account=account)
        mine(team.manny, account, due_in=-timedelta(minutes=number + 1))
    # The new notices dropped the cached unread count: the next request reads it again.
    home(client)
    many = queries()

    assert few == many


@pytest.mark.parametrize(
    ("language", "heading", "empty"),
    [
        ("fi", "Odottaa hyväksyntääni", "Mikään ei odota hyväksyntääsi."),
        ("sv", "Väntar på mitt godkännande", "Inget väntar på ditt godkännande."),
    ],
)
def test_the_page_speaks_finnish_and_swedish(client, login, team, language, heading, empty):
    team.rita.user.preferred_language = language
    team.rita.user.save(update_fields=["preferred_language"])
    login(client, team.rita.user)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert heading in page
    assert empty in page


def test_a_reviewer_limited_to_one_account_sees_only_its_posts(client, login, team, personas):
    from governance.models import Role
    from tests.factories import MembershipFactory, UserFactory

    limited = MembershipFactory.create(
        organization=personas.org,
        user=UserFactory.create(email="lily@example.org", full_name="Lily Limited"),
        role=Role.REVIEWER,
        all_accounts=False,
    )
    team.account.limited_members.add(limited)
    submitted(team, title="News item")
    submitted(team, account=team.other_account, title="Mayor item")
    login(client, limited.user)

    review = section(home(client), "today-review-heading")

    assert "News item" in review
    assert "Mayor item" not in review
    assert "Waiting for me: 1 post to review" in review
