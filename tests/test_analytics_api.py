"""Analytics through the REST API: the dashboard as JSON, CSV export, goals and
scheduled reports, with the same access rules as the pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from analytics.models import Goal, GoalMetric, ScheduledReport
from analytics.services.rollups import rollups_rebuild
from analytics.tests.helpers import followers, local_noon, post_snapshot, today_local, tracked
from governance.models import AuditEvent
from governance.services.tokens import api_token_create

pytestmark = pytest.mark.django_db


def api(personas, user) -> APIClient:
    membership = personas.membership(user)
    _token, raw = api_token_create(
        user=user, organization=membership.organization, name="analytics"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def figures(personas):
    today = today_local()
    followers(personas.bob_account, local_noon(today - timedelta(days=5)), 800)
    post = tracked(
        personas.bob_account, at=local_noon(today - timedelta(days=2)), title="Roadworks"
    )
    post_snapshot(post, local_noon(today - timedelta(days=1)), likes=21, shares=4)
    rollups_rebuild(organization=personas.org, since=today - timedelta(days=7))
    return today


def test_the_dashboard_as_json(personas, figures):
    client = api(personas, personas.alice)
    start = (figures - timedelta(days=6)).isoformat()

    response = client.get(f"/api/v1/analytics/dashboard/?start={start}")

    assert response.status_code == 200
    data = response.json()
    assert (data["start"], data["end"], data["granularity"]) == (
        start,
        figures.isoformat(),
        "day",
    )
    assert len(data["periods"]) == 7
    assert data["totals"]["followers"] == 800
    assert (data["totals"]["likes"], data["totals"]["engagement"]) == (21, 25)
    assert data["top_posts"][0]["title"] == "Roadworks"
    assert data["top_posts"][0]["engagement"] == 25


def test_the_dashboard_refuses_editors_and_hides_other_organizations(personas, figures):
    assert api(personas, personas.bob).get("/api/v1/analytics/dashboard/").status_code == 403
    outsider = api(personas, personas.charlie)
    assert outsider.get("/api/v1/analytics/dashboard/").status_code == 200
    response = outsider.get(f"/api/v1/analytics/dashboard/?account={personas.bob_account.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_wrong_range_is_a_400(personas):
    response = api(personas, personas.carol).get(
        "/api/v1/analytics/dashboard/?start=2030-05-10&end=2030-05-01"
    )

    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_csv_export(personas, figures):
    response = api(personas, personas.carol).get("/api/v1/analytics/export.csv?table=top_posts")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows[1][0] == "Roadworks"


def test_goals_can_be_set_read_changed_and_removed(personas, figures):
    client = api(personas, personas.alice)

    created = client.post(
        "/api/v1/analytics/goals/",
        {
            "name": "Reach",
            "metric": "followers",
            "account": personas.bob_account.pk,
            "target": "1000",
            "period_start": (figures - timedelta(days=5)).isoformat(),
            "period_end": (figures + timedelta(days=25)).isoformat(),
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    goal = created.json()
    assert (goal["target"], goal["account"], goal["progress"]["value"]) == (
        "1000",
        personas.bob_account.pk,
        800.0,
    )
    listing = client.get("/api/v1/analytics/goals/").json()
    assert [item["name"] for item in listing["results"]] == ["Reach"]
    changed = client.patch(
        f"/api/v1/analytics/goals/{goal['id']}/", {"target": "900"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["target"] == "900"
    assert client.delete(f"/api/v1/analytics/goals/{goal['id']}/").status_code == 204
    assert not Goal.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="analytics.goal")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["analytics.goal_set", "analytics.goal_changed", "analytics.goal_removed"]


def test_goal_rules_are_the_services(personas):
    client = api(personas, personas.alice)

    response = client.post(
        "/api/v1/analytics/goals/",
        {
            "metric": "sla_share",
            "target": "120",
            "period_start": "2030-01-01",
            "period_end": "2030-03-31",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"target": ["A share is at most 100 per cent."]}


def test_goal_access(personas):
    theirs = Goal.objects.create(
        organization=personas.other_org,
        metric=GoalMetric.ENGAGEMENT,
        target=5,
        period_start=today_local(),
        period_end=today_local(),
    )
    ours = Goal.objects.create(
        organization=personas.org,
        metric=GoalMetric.ENGAGEMENT,
        target=5,
        period_start=today_local(),
        period_end=today_local(),
    )
    alice, carol = api(personas, personas.alice), api(personas, personas.carol)

    assert alice.get(f"/api/v1/analytics/goals/{theirs.pk}/").status_code == 404
    assert alice.delete(f"/api/v1/analytics/goals/{theirs.pk}/").status_code == 404
    assert carol.get(f"/api/v1/analytics/goals/{ours.pk}/").status_code == 200
    assert carol.delete(f"/api/v1/analytics/goals/{ours.pk}/").status_code == 403
    assert carol.post("/api/v1/analytics/goals/", {}, format="json").status_code == 403
    response = alice.post(
        "/api/v1/analytics/goals/",
        {
            "metric": "engagement",
            "account": personas.outsider_account.pk,
            "target": "5",
            "period_start": "2030-01-01",
            "period_end": "2030-01-31",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": ["Choose one of your accounts."]}


def test_scheduled_reports_can_be_made_changed_and_removed(personas):
    client = api(personas, personas.alice)

    created = client.post(
        "/api/v1/analytics/reports/",
        {
            "name": "Monthly for the board",
            "cadence": "monthly",
            "recipients": ["board@city.example", "Chair@City.example"],
            "language": "sv",
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    report = created.json()
    assert report["recipients"] == ["board@city.example", "chair@city.example"]
    assert report["next_send_at"]
    listed = client.get("/api/v1/analytics/reports/").json()
    assert [item["name"] for item in listed["results"]] == ["Monthly for the board"]
    changed = client.patch(
        f"/api/v1/analytics/reports/{report['id']}/", {"is_active": False}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    bad = client.patch(
        f"/api/v1/analytics/reports/{report['id']}/", {"recipients": ["nope"]}, format="json"
    )
    assert bad.status_code == 400
    assert "recipients" in bad.json()["errors"]
    assert client.delete(f"/api/v1/analytics/reports/{report['id']}/").status_code == 204
    assert not ScheduledReport.objects.exists()


def test_scheduled_report_access(personas):
    report = ScheduledReport.objects.create(
        organization=personas.other_org,
        name="Theirs",
        cadence="weekly",
        recipients=["x@other.example"],
        language="en",
        next_send_at="2030-01-07T05:00:00Z",
    )

    assert (
        api(personas, personas.alice).get(f"/api/v1/analytics/reports/{report.pk}/").status_code
        == 404
    )
    assert api(personas, personas.bob).get("/api/v1/analytics/reports/").status_code == 403
    carol = api(personas, personas.carol)
    assert carol.get("/api/v1/analytics/reports/").status_code == 200
    assert carol.post("/api/v1/analytics/reports/", {}, format="json").status_code == 403


def test_the_schema_documents_the_analytics_endpoints(personas, client, login):
    login(client, personas.alice)

    schema = client.get("/api/schema/?format=json").json()

    for path in (
        "/api/v1/analytics/dashboard/",
        "/api/v1/analytics/goals/",
        "/api/v1/analytics/goals/{id}/",
        "/api/v1/analytics/reports/",
        "/api/v1/analytics/export.{fmt}",
    ):
        assert path in schema["paths"], path
