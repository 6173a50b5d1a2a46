"""Policies as versioned documents staff acknowledge, and the governance model's review."""

from __future__ import annotations

from datetime import date

import pytest

from governance.models import (
    AuditEvent,
    GovernanceReview,
    Notification,
    Policy,
    PolicyAcknowledgement,
)
from governance.services.policies import policy_create, policy_publish_version
from governance.tasks.reminders import remind_governance_reviews
from governance.tests.registry_helpers import member


@pytest.fixture
def tone(personas) -> Policy:
    return policy_create(
        organization=personas.org,
        actor=personas.alice,
        kind="tone_of_voice",
        title="Tone of voice",
        body="Plain language.\n\nNo jargon.",
    )


def test_admin_publishes_a_policy_and_members_are_asked_to_read_it(client, personas, login):
    login(client, personas.alice)
    response = client.post(
        "/governance/policies/new/",
        {"title": "Hashtags", "kind": "hashtags", "body": "#CityOfExample #Council"},
    )
    policy = Policy.objects.get()
    assert response.status_code == 302
    version = policy.current_version
    assert version is not None
    assert (version.number, version.author) == (1, personas.alice)
    assert set(Notification.objects.values_list("user__email", flat=True)) == {
        "bob@example.org",
        "carol@example.org",
    }
    assert AuditEvent.objects.get(action="policy.created").new_values["title"] == "Hashtags"


def test_everyone_reads_policies_but_only_admins_and_managers_write(client, personas, login, tone):
    login(client, personas.bob)
    page = client.get(f"/governance/policies/{tone.pk}/").content.decode()
    assert "<p>Plain language.</p>" in page
    assert client.get("/governance/policies/").status_code == 200
    assert client.get("/governance/policies/new/").status_code == 403
    assert client.get(f"/governance/policies/{tone.pk}/edit/").status_code == 403
    assert client.get(f"/governance/policies/{tone.pk}/acknowledgements/").status_code == 403


def test_outsider_gets_404(client, personas, login, tone):
    login(client, personas.charlie)
    for path in ("", "edit/", "acknowledgements/"):
        assert client.get(f"/governance/policies/{tone.pk}/{path}").status_code == 404, path
    assert client.post(f"/governance/policies/{tone.pk}/acknowledge/").status_code == 404
    assert "Tone of voice" not in client.get("/governance/policies/").content.decode()


def test_member_acknowledges_the_current_version(client, personas, login, tone):
    login(client, personas.bob)
    assert "Not yet acknowledged" in client.get("/governance/policies/").content.decode()
    response = client.post(f"/governance/policies/{tone.pk}/acknowledge/")
    assert response.status_code == 302
    client.post(f"/governance/policies/{tone.pk}/acknowledge/")  # a double click
    ack = PolicyAcknowledgement.objects.get()
    assert ack.membership == member(personas.bob)
    assert ack.version == tone.current_version
    assert AuditEvent.objects.filter(action="policy.acknowledged").count() == 1
    page = client.get(f"/governance/policies/{tone.pk}/").content.decode()
    assert "You acknowledged this version" in page


def test_acknowledgement_page_lists_who_has_and_has_not(client, personas, login, tone):
    from governance.services.policies import policy_acknowledge

    policy_acknowledge(policy=tone, membership=member(personas.bob))
    login(client, personas.carol)  # auditors see the acknowledgements
    response = client.get(f"/governance/policies/{tone.pk}/acknowledgements/")
    page = response.content.decode()
    pending, done = page.split("Acknowledged (", 1)
    assert "Not yet acknowledged (2 people)" in pending
    assert "Alice Admin" in pending and "Carol Auditor" in pending
    assert "Bob Editor" in done and "Acknowledged (1 person)" in page


def test_a_new_version_needs_a_new_acknowledgement(client, personas, login, tone):
    from governance.services.policies import policy_acknowledge

    policy_acknowledge(policy=tone, membership=member(personas.bob))
    login(client, personas.alice)
    response = client.post(
        f"/governance/policies/{tone.pk}/edit/",
        {
            "title": "Tone of voice",
            "kind": "tone_of_voice",
            "body": "Plain language, always.",
            "change_note": "Shorter",
        },
    )
    assert response.status_code == 302
    tone.refresh_from_db()
    assert tone.current_version.number == 2
    assert tone.versions.count() == 2
    page = client.get(f"/governance/policies/{tone.pk}/acknowledgements/").content.decode()
    assert "Version 1" in page  # Bob read the old one
    event = AuditEvent.objects.get(action="policy.version_published")
    assert event.new_values == {
        "title": "Tone of voice",
        "kind": "tone_of_voice",
        "version": 2,
        "change_note": "Shorter",
    }
    detail = client.get(f"/governance/policies/{tone.pk}/").content.decode()
    assert "Earlier versions" in detail and "No jargon." in detail


def test_policy_needs_title_and_text(client, personas, login):
    login(client, personas.alice)
    response = client.post("/governance/policies/new/", {"title": "", "kind": "other", "body": ""})
    assert response.status_code == 200
    assert not Policy.objects.exists()


def test_policies_api_lists_and_acknowledges(client, personas, tone):
    from governance.services.tokens import api_token_create

    _token, raw = api_token_create(user=personas.bob, organization=personas.org, name="s")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    listed = client.get("/api/v1/policies/").json()["results"]
    assert listed[0]["title"] == "Tone of voice" and listed[0]["acknowledged"] is False
    response = client.post(f"/api/v1/policies/{tone.pk}/acknowledge/")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert client.get(f"/api/v1/policies/{tone.pk}/").json()["acknowledged"] is True
    assert client.post("/api/v1/policies/", {"title": "x", "body": "y"}).status_code == 403


def test_policies_api_hides_other_organizations(client, personas, tone):
    from governance.services.tokens import api_token_create

    _token, raw = api_token_create(user=personas.charlie, organization=personas.other_org, name="s")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    assert client.get(f"/api/v1/policies/{tone.pk}/").status_code == 404
    assert client.post(f"/api/v1/policies/{tone.pk}/acknowledge/").status_code == 404


# --- The governance model's own review ----------------------------------------------------


def test_admin_schedules_and_records_the_review(client, personas, login, time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    login(client, personas.alice)
    response = client.post(
        "/governance/review/",
        {"action": "schedule", "due_on": "2025-06-01", "cadence_months": "12"},
    )
    assert response.status_code == 302
    review = GovernanceReview.objects.get(organization=personas.org)
    assert review.due_on == date(2025, 6, 1)
    response = client.post("/governance/review/", {"action": "record", "notes": "All fine."})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.due_on == date(2026, 3, 3)
    assert review.last_reviewed_by == personas.alice
    assert AuditEvent.objects.filter(action__startswith="governance.review").count() == 2


def test_overview_shows_the_review_due_and_the_new_areas(client, personas, login, time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    GovernanceReview.objects.create(organization=personas.org, due_on=date(2025, 3, 1))
    login(client, personas.carol)
    page = client.get("/governance/").content.decode()
    assert "The governance model's next review is due on 1 Mar 2025." in page
    assert ">Due</span>" in page
    for path in (
        "/governance/registry/",
        "/governance/vault/",
        "/governance/risks/",
        "/governance/policies/",
    ):
        assert f'href="{path}"' in page, path


def test_non_admins_cannot_change_the_review(client, personas, login):
    login(client, personas.carol)
    assert client.get("/governance/review/").status_code == 200
    response = client.post("/governance/review/", {"action": "record", "notes": "x"})
    assert response.status_code == 403


def test_due_review_reminds_the_admins_once(personas, time_machine):
    time_machine.move_to("2025-06-01 09:00:00+00:00", tick=False)
    GovernanceReview.objects.create(organization=personas.org, due_on=date(2025, 6, 2))
    assert remind_governance_reviews() == 0
    time_machine.move_to("2025-06-02 09:00:00+00:00", tick=False)
    assert remind_governance_reviews() == 1
    assert remind_governance_reviews() == 0
    notice = Notification.objects.get()
    assert notice.user == personas.alice
    assert notice.link == "/governance/review/"


def test_policy_version_service_keeps_numbers_in_order(personas, tone):
    policy_publish_version(policy=tone, actor=personas.alice, title="T", kind="other", body="b")
    policy_publish_version(policy=tone, actor=personas.alice, title="T", kind="other", body="c")
    assert list(tone.versions.values_list("number", flat=True)) == [3, 2, 1]
