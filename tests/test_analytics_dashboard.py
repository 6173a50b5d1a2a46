"""The analytics dashboard page: who may see it, what it shows (each chart with its
table), its filters, its exports, and a query count that does not grow with the
range or the number of posts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from analytics.models import DailyAccountRollup, Goal, GoalMetric, ScheduledReport
from analytics.schedule import month_start, week_start
from analytics.selectors import PeriodStart
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import (
    followers,
    inbox_item,
    local_noon,
    post_snapshot,
    today_local,
    tracked,
)
from governance.models import AuditEvent, Role
from publishing.models import Campaign
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(personas):
    user = UserFactory.create(email="manny@example.org", full_name="Manny Manager")
    MembershipFactory.create(organization=personas.org, user=user, role=Role.MANAGER)
    return user


@pytest.fixture
def history(personas):
    """A week of the city's accounts: followers, two posts with reactions, inbox answers."""
    today = today_local()
    news, mayor = personas.bob_account, personas.other_account
    campaign = Campaign.objects.create(organization=personas.org, name="Snow ploughing")
    followers(news, local_noon(today - timedelta(days=8)), 1200)
    followers(news, local_noon(today - timedelta(days=3)), 1290)
    followers(mayor, local_noon(today - timedelta(days=8)), 300)
    ploughs = tracked(
        news,
        at=local_noon(today - timedelta(days=4)),
        title="Ploughs out tonight",
        campaign=campaign,
    )
    post_snapshot(
        ploughs, local_noon(today - timedelta(days=4)) + timedelta(hours=2), likes=40, shares=12
    )
    post_snapshot(ploughs, local_noon(today - timedelta(days=3)), likes=57, shares=15, replies=6)
    library = tracked(mayor, at=local_noon(today - timedelta(days=2)), title="Library open late")
    post_snapshot(
        library, local_noon(today - timedelta(days=2)) + timedelta(hours=1), likes=9, quotes=2
    )
    asked = local_noon(today - timedelta(days=3))
    inbox_item(
        news,
        posted_at=asked,
        answered_at=asked + timedelta(minutes=25),
        due_at=asked + timedelta(hours=8),
    )
    inbox_item(
        news,
        posted_at=asked,
        answered_at=asked + timedelta(hours=10),
        due_at=asked + timedelta(hours=8),
    )
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=10))
    return {"today": today, "campaign": campaign, "ploughs": ploughs, "library": library}


# --- access ------------------------------------------------------------------------------------


def test_editors_may_not_see_analytics(personas, client, login):
    login(client, personas.bob)

    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/export.csv").status_code == 403
    assert client.get("/analytics/goals/").status_code == 403


def test_auditors_see_the_dashboard_but_cannot_set_goals(personas, client, login, history):
    login(client, personas.carol)

    page = client.get("/analytics/")

    assert page.status_code == 200
    assert b"Set a goal" not in page.content
    assert client.get("/analytics/goals/new/").status_code == 403
    assert client.get("/analytics/reports/new/").status_code == 403


def test_another_organizations_account_or_campaign_is_not_found(personas, client, login, history):
    login(client, personas.charlie)

    assert client.get("/analytics/").status_code == 200
    assert client.get(f"/analytics/?account={personas.bob_account.pk}").status_code == 404
    assert client.get(f"/analytics/?campaign={history['campaign'].pk}").status_code == 404
    assert client.get(f"/analytics/export.csv?account={personas.bob_account.pk}").status_code == 404


def test_the_main_navigation_leads_managers_to_analytics(personas, client, login, manager):
    login(client, manager)

    page = client.get("/").content.decode()

    assert 'href="/analytics/"' in page


# --- what it shows -----------------------------------------------------------------------------


def test_the_dashboard_shows_each_chart_with_its_figures(personas, client, login, history):
    login(client, personas.alice)

    page = client.get("/analytics/").content.decode()

    for slug, title in [
        ("followers", "Follower growth"),
        ("engagement", "Engagement over time"),
        ("publishing", "Publishing volume"),
        ("inbox", "Inbox volume"),
        ("response", "Response time"),
        ("sla", "Answered within the response time"),
    ]:
        assert f'aria-labelledby="chart-{slug}-title chart-{slug}-desc"' in page
        assert f'<title id="chart-{slug}-title">{title}</title>' in page
    assert page.count('<details class="chart-figures">') == 6
    assert page.count('<th scope="row">Whole range</th>') == 6
    # Key figures: 1,290 + 300 followers; 57 + 15 + 6 + 9 + 2 engagement.
    assert '<span class="key-figure-value">1,590</span>' in page
    assert '<span class="key-figure-value">89</span>' in page
    assert "Ploughs out tonight" in page and "Library open late" in page
    assert "style=" not in page  # the CSP allows no inline styles


def test_the_account_and_range_filters_change_the_figures(personas, client, login, history):
    login(client, personas.alice)
    today = history["today"]
    start = (today - timedelta(days=2)).isoformat()

    page = client.get(
        f"/analytics/?start={start}&end={today.isoformat()}&account={personas.other_account.pk}"
    ).content.decode()

    assert '<span class="key-figure-value">300</span>' in page  # the mayor's followers only
    assert '<span class="key-figure-value">11</span>' in page  # 9 likes + 2 quotes
    assert "Library open late" in page and "Ploughs out tonight" not in page
    assert f'<option value="{personas.other_account.pk}" selected>' in page


def test_a_campaign_shows_its_posts_engagement(personas, client, login, history):
    login(client, personas.alice)

    page = client.get(f"/analytics/?campaign={history['campaign'].pk}").content.decode()

    assert '<span class="key-figure-value">78</span>' in page  # 57 + 15 + 6
    assert "Library open late" not in page
    assert "followers and the inbox are the accounts" in page


def test_a_wrong_range_is_shown_next_to_the_field(personas, client, login):
    login(client, personas.alice)

    page = client.get("/analytics/?start=2030-05-10&end=2030-05-01").content.decode()

    assert "The range must end on or after its first day." in page
    assert 'aria-describedby="id_end_error"' in page


def test_long_ranges_are_shown_by_week_and_by_month(personas, client, login, history):
    login(client, personas.alice)
    today = history["today"]

    weekly = client.get(f"/analytics/?start={(today - timedelta(days=120)).isoformat()}")
    monthly = client.get(f"/analytics/?start={(today - timedelta(days=700)).isoformat()}")

    weekly_page = weekly.content.decode()
    assert ", by week." in weekly_page
    # Each week is one range of days ("3 Feb 2031" to "9 Feb 2031" reads "3-9 Feb 2031").
    assert re.search(
        r"\d{1,2}( [A-Z][a-z]{2}( \d{4})?)?\u00a0\u2013\u00a0\d{1,2} [A-Z][a-z]{2} \d{4}",
        weekly_page,
    )
    assert ", by month." in monthly.content.decode()


def test_query_count_does_not_grow_with_the_range_or_the_posts(personas, client, login, history):
    Goal.objects.create(
        organization=personas.org,
        metric=GoalMetric.RESPONSE_MEDIAN,
        target=60,
        period_start=history["today"] - timedelta(days=400),
        period_end=history["today"] + timedelta(days=30),
    )
    login(client, personas.alice)
    today = history["today"]
    # Today is read live from the snapshots (a step of a few queries when any post has
    # numbers today); the counts below must not grow beyond that with more posts.
    early = tracked(personas.bob_account, at=local_noon(today - timedelta(days=1)))
    post_snapshot(early, local_noon(today - timedelta(days=1)), likes=1)
    post_snapshot(early, local_noon(today), likes=2)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured.captured_queries)

    client.get("/analytics/")  # the session's first request fills per-session caches
    week = queries(f"/analytics/?start={(today - timedelta(days=6)).isoformat()}")
    two_years = queries(f"/analytics/?start={(today - timedelta(days=730)).isoformat()}")
    for number in range(30):
        post = tracked(personas.bob_account, at=local_noon(today - timedelta(days=number % 7)))
        post_snapshot(post, local_noon(today - timedelta(days=number % 7)), likes=number)
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=8))
    more_posts = queries(f"/analytics/?start={(today - timedelta(days=6)).isoformat()}")

    assert week == two_years == more_posts


# --- exports -----------------------------------------------------------------------------------


def test_the_figures_download_as_csv(personas, client, login, history):
    login(client, personas.alice)
    today = history["today"]

    response = client.get(f"/analytics/export.csv?start={(today - timedelta(days=6)).isoformat()}")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert len(rows) == 8  # seven days and the whole range
    total = rows[-1]
    assert (total["Followers"], total["Likes"], total["Shares"], total["Engagement"]) == (
        "1590",
        "66",
        "15",
        "89",
    )
    assert (total["Answers due"], total["Answered in time"], total["Answered in time (%)"]) == (
        "2",
        "1",
        "50.0",
    )


def test_top_posts_download_as_csv(personas, client, login, history):
    login(client, personas.alice)

    response = client.get("/analytics/export.csv?table=top_posts")

    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[0][:3] == ["Post", "Account", "Network"]
    assert [row[0] for row in rows[1:]] == ["Ploughs out tonight", "Library open late"]
    assert rows[1][9] == "78"


def test_the_pdf_report_holds_the_figures(personas, client, login, history):
    login(client, personas.alice)

    response = client.get("/analytics/export.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    document = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in document.pages)
    assert "Analytics: City of Example" in text
    for figure in ("1,590", "89", "50.0 %", "Ploughs out tonight", "Follower growth", "78"):
        assert figure in text, figure
    assert document.metadata is not None and document.metadata.title == "Analytics: City of Example"


# --- goals -------------------------------------------------------------------------------------


def test_a_manager_sets_a_goal_and_the_dashboard_shows_its_progress(
    personas, client, login, manager, history
):
    login(client, manager)
    today = history["today"]

    response = client.post(
        "/analytics/goals/new/",
        {
            "name": "Winter reach",
            "metric": GoalMetric.FOLLOWERS,
            "account": personas.bob_account.pk,
            "target": "1300",
            "period_start": (today - timedelta(days=8)).isoformat(),
            "period_end": (today + timedelta(days=20)).isoformat(),
        },
    )

    assert response.status_code == 302
    goal = Goal.objects.get()
    assert (goal.name, goal.channel_account, goal.created_by) == (
        "Winter reach",
        personas.bob_account,
        manager,
    )
    page = client.get("/analytics/").content.decode()
    assert "Winter reach" in page
    assert "1,290 of 1,300 (99.2 % of the target): On track" in page
    assert AuditEvent.objects.filter(action="analytics.goal_set", target_id=str(goal.pk)).exists()


def test_a_goal_with_a_period_backwards_is_refused_next_to_the_field(
    personas, client, login, manager
):
    login(client, manager)

    page = client.post(
        "/analytics/goals/new/",
        {
            "metric": GoalMetric.POSTS_PUBLISHED,
            "target": "10",
            "period_start": "2030-05-10",
            "period_end": "2030-05-01",
        },
    ).content.decode()

    assert "The period must end on or after its first day." in page
    assert 'aria-describedby="id_period_end_error"' in page
    assert not Goal.objects.exists()


def test_another_organizations_goal_is_not_found(personas, client, login):
    goal = Goal.objects.create(
        organization=personas.other_org,
        metric=GoalMetric.ENGAGEMENT,
        target=10,
        period_start=date(2030, 1, 1),
        period_end=date(2030, 2, 1),
    )
    login(client, personas.alice)

    assert client.get(f"/analytics/goals/{goal.pk}/").status_code == 404
    assert client.post(f"/analytics/goals/{goal.pk}/delete/").status_code == 404
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_an_auditor_cannot_remove_a_goal(personas, client, login):
    goal = Goal.objects.create(
        organization=personas.org,
        metric=GoalMetric.ENGAGEMENT,
        target=10,
        period_start=date(2030, 1, 1),
        period_end=date(2030, 2, 1),
    )
    login(client, personas.carol)

    assert client.post(f"/analytics/goals/{goal.pk}/delete/").status_code == 403
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_an_admin_removes_a_goal(personas, client, login):
    goal = Goal.objects.create(
        organization=personas.org,
        name="Old target",
        metric=GoalMetric.ENGAGEMENT,
        target=10,
        period_start=date(2030, 1, 1),
        period_end=date(2030, 2, 1),
    )
    login(client, personas.alice)

    assert "Old target" in client.get("/analytics/goals/").content.decode()
    response = client.post(f"/analytics/goals/{goal.pk}/delete/")

    assert response.status_code == 302
    assert not Goal.objects.exists()


# --- scheduled reports ---------------------------------------------------------------------------


def test_a_manager_schedules_a_weekly_report_for_people_outside_the_app(
    personas, client, login, manager
):
    login(client, manager)

    response = client.post(
        "/analytics/reports/new/",
        {
            "name": "Weekly for the mayor's office",
            "cadence": "weekly",
            "recipients": "mayor@city.example\nPress@City.example, mayor@city.example",
            "language": "fi",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    listing = client.get("/analytics/reports/").content.decode()
    assert "Weekly for the mayor&#x27;s office" in listing
    assert "press@city.example" in listing
    report = ScheduledReport.objects.get()
    assert report.recipients == ["mayor@city.example", "press@city.example"]
    assert report.next_send_at.weekday() == 0


def test_a_report_to_a_wrong_address_is_refused(personas, client, login, manager):
    login(client, manager)

    page = client.post(
        "/analytics/reports/new/",
        {"name": "Monthly", "cadence": "monthly", "recipients": "not-an-address", "language": "en"},
    ).content.decode()

    assert "“not-an-address” is not an e-mail address." in page
    assert 'aria-describedby="id_recipients_helptext id_recipients_error"' in page


def test_weeks_start_on_monday_and_months_on_the_first(personas):
    first = date(2030, 2, 20)
    days = [first + timedelta(days=n) for n in range(20)]
    for day in days:
        DailyAccountRollup.objects.create(
            organization=personas.org, channel_account=personas.bob_account, day=day, likes=1
        )

    for kind, expected in (("week", week_start), ("month", month_start)):
        keys = dict(
            DailyAccountRollup.objects.annotate(
                period=PeriodStart(F("day"), kind=kind)
            ).values_list("day", "period")
        )
        assert keys == {day: expected(day) for day in days}, kind


def test_a_manager_limited_to_some_accounts_sees_only_theirs(personas, client, login, history):
    user = UserFactory.create(email="lena@example.org", full_name="Lena Limited")
    membership = MembershipFactory.create(
        organization=personas.org, user=user, role=Role.MANAGER, all_accounts=False
    )
    personas.bob_account.limited_members.add(membership)
    login(client, user)

    page = client.get("/analytics/").content.decode()

    assert '<span class="key-figure-value">1,290</span>' in page  # city-news only
    assert "Library open late" not in page
    assert f'<option value="{personas.other_account.pk}"' not in page
    assert client.get(f"/analytics/?account={personas.other_account.pk}").status_code == 404
    refused = client.post(
        "/analytics/reports/new/",
        {"name": "All of it", "cadence": "weekly", "recipients": "a@b.example", "language": "en"},
    ).content.decode()
    assert "You work with some accounts only: choose one of them." in refused
    assert not ScheduledReport.objects.exists()
