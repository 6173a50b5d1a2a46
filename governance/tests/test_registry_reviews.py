"""Access reviews: recording one, and the reminder when one falls due."""

from __future__ import annotations

from datetime import date

import pytest

from governance.models import AccessReview, AuditEvent, NativeAdmin, Notification
from governance.services.registry import access_reviews_remind_due, add_months
from governance.tasks.reminders import remind_access_reviews
from governance.tests.registry_helpers import make_entry, member


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    return time_machine


def test_add_months_stays_inside_the_month():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2025, 3, 3), 12) == date(2026, 3, 3)


def test_owner_confirms_removes_and_adds_people(client, personas, login, frozen):
    entry = make_entry(personas.org, personas.alice, business_owner=member(personas.bob))
    keep = NativeAdmin.objects.create(entry=entry, name="Bob Editor", email="bob@example.org")
    gone = NativeAdmin.objects.create(entry=entry, name="Old Agency", email="old@agency.example")
    login(client, personas.bob)
    page = client.get(f"/governance/registry/{entry.pk}/review/").content.decode()
    assert "Old Agency" in page and "Still have access" in page
    response = client.post(
        f"/governance/registry/{entry.pk}/review/",
        {
            "keep": [str(keep.pk)],
            "added": "New Hire, new.hire@example.org, Editor\nPat Consultant <pat@agency.example>",
            "notes": "Removed the old agency.",
            "checked": "on",
        },
    )
    assert response.status_code == 302
    review = AccessReview.objects.get(entry=entry)
    assert review.reviewer == personas.bob
    assert [p["name"] for p in review.people_confirmed] == ["Bob Editor"]
    assert [p["name"] for p in review.people_removed] == ["Old Agency"]
    assert sorted(p["email"] for p in review.people_added) == [
        "new.hire@example.org",
        "pat@agency.example",
    ]
    assert review.next_due == date(2025, 6, 3)
    entry.refresh_from_db()
    assert entry.next_review_due == date(2025, 6, 3)
    assert entry.last_reviewed_at is not None
    assert not NativeAdmin.objects.filter(pk=gone.pk).exists()
    assert set(entry.native_admins.values_list("name", flat=True)) == {
        "Bob Editor",
        "New Hire",
        "Pat Consultant",
    }
    event = AuditEvent.objects.get(action="registry.access_reviewed")
    assert event.new_values["removed"] == ["Old Agency"]
    detail = client.get(f"/governance/registry/{entry.pk}/").content.decode()
    assert "Removed the old agency." in detail


def test_review_must_be_confirmed_against_the_network(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    response = client.post(f"/governance/registry/{entry.pk}/review/", {"notes": "x"})
    assert response.status_code == 200
    assert not AccessReview.objects.exists()
    assert 'aria-invalid="true"' in response.content.decode()


def test_a_bad_line_of_added_people_is_shown(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.alice)
    response = client.post(
        f"/governance/registry/{entry.pk}/review/",
        {"added": "Someone, not-an@address", "checked": "on"},
    )
    assert "Line 1: the e-mail address is not valid." in response.content.decode()
    assert not AccessReview.objects.exists()


def test_editor_who_holds_no_role_cannot_review(client, personas, login):
    entry = make_entry(personas.org, personas.alice)
    login(client, personas.bob)
    assert (
        client.post(f"/governance/registry/{entry.pk}/review/", {"checked": "on"}).status_code
        == 403
    )


def test_due_review_reminds_the_owner_once(
    personas, time_machine, mailoutbox, django_capture_on_commit_callbacks
):
    time_machine.move_to("2025-03-03 09:00:00+00:00", tick=False)
    entry = make_entry(
        personas.org,
        personas.alice,
        business_owner=member(personas.carol),
        next_review_due=date(2025, 3, 10),
    )
    assert remind_access_reviews() == 0  # not due yet

    time_machine.move_to("2025-03-10 06:00:00+00:00", tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_access_reviews() == 1
    assert remind_access_reviews() == 0  # a second tick the same day
    time_machine.move_to("2025-03-11 06:00:00+00:00", tick=False)
    assert access_reviews_remind_due() == 0  # and the next day

    notice = Notification.objects.get()
    assert notice.user == personas.carol
    assert notice.kind == "registry.review_due"
    assert notice.link == f"/governance/registry/{entry.pk}/review/"
    assert "city_news" in notice.message
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["carol@example.org"]
    assert AuditEvent.objects.filter(action="registry.review_reminder_sent").count() == 1


def test_the_next_due_review_is_reminded_again(client, personas, login, time_machine):
    time_machine.move_to("2025-03-10 06:00:00+00:00", tick=False)
    entry = make_entry(
        personas.org,
        personas.alice,
        business_owner=member(personas.alice),
        next_review_due=date(2025, 3, 10),
    )
    assert access_reviews_remind_due() == 1
    login(client, personas.alice)
    client.post(f"/governance/registry/{entry.pk}/review/", {"checked": "on"})
    time_machine.move_to("2025-06-10 06:00:00+00:00", tick=False)
    assert access_reviews_remind_due() == 1
    assert Notification.objects.filter(kind="registry.review_due").count() == 2


def test_without_owners_the_admins_are_reminded(personas, time_machine):
    time_machine.move_to("2025-03-10 06:00:00+00:00", tick=False)
    make_entry(personas.org, personas.alice, next_review_due=date(2025, 3, 1))
    assert access_reviews_remind_due() == 1
    assert list(Notification.objects.values_list("user__email", flat=True)) == ["alice@example.org"]


def test_due_date_counts_in_the_organizations_time_zone(personas, time_machine):
    # 23:30 UTC on 9 March is already 10 March in Helsinki.
    time_machine.move_to("2025-03-09 23:30:00+00:00", tick=False)
    make_entry(personas.org, personas.alice, next_review_due=date(2025, 3, 10))
    assert access_reviews_remind_due() == 1


def test_reminders_run_daily_on_the_default_queue(settings):
    tasks = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "governance.tasks.remind_access_reviews",
        "governance.tasks.remind_vault_rotations",
        "governance.tasks.remind_governance_reviews",
    ):
        assert tasks[name]["schedule"] == 24 * 60 * 60.0
        assert tasks[name]["options"]["queue"] == "default"
