"""The audit log page: who may read it, what it shows, how it filters."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.conf import settings

from governance.models import AuditEvent, User
from governance.selectors.audit import AuditFilters, audit_events_for_user
from governance.services.audit import audit_record

URL = "/governance/audit/"
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


def _record(personas, action="member.role_changed", actor=None, organization=None, **kwargs):
    return audit_record(
        action=action,
        organization=organization or personas.org,
        actor=actor or personas.alice,
        **kwargs,
    )


def test_admin_sees_entries_of_own_org_only(client, personas, login):
    _record(
        personas,
        target=personas.bob.memberships.get(),
        old={"role": "editor"},
        new={"role": "manager"},
    )
    _record(
        personas,
        action="org.settings_changed",
        organization=personas.other_org,
        actor=personas.charlie,
        target_label="Other Agency secret",
    )
    login(client, personas.alice)
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Changed a member&#x27;s role" in body
    assert "Editor" in body and "Manager" in body  # the role in words, not its code
    assert "Other Agency secret" not in body
    assert "charlie@other.example" not in body


def test_auditor_sees_the_log(client, personas, login):
    _record(personas, action="auth.login_succeeded")
    login(client, personas.carol)
    response = client.get(URL)
    assert response.status_code == 200
    assert "Logged in" in response.content.decode()


def test_editor_is_forbidden(client, personas, login):
    login(client, personas.bob)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "export.csv").status_code == 403
    assert client.get(URL + "export.json").status_code == 403


def test_outsider_sees_only_their_org(client, personas, login):
    _record(personas, action="member.invited", target_label="ours@example.org")
    _record(
        personas,
        action="member.invited",
        organization=personas.other_org,
        actor=personas.charlie,
        target_label="theirs@other.example",
    )
    login(client, personas.charlie)
    body = client.get(URL).content.decode()
    assert "theirs@other.example" in body
    assert "ours@example.org" not in body


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/auth/login/" in response["Location"]


def test_login_failure_for_unknown_email_is_in_no_org_log(client, personas, login):
    audit_record(action="auth.login_failed", actor_label="nobody@nowhere.example")
    login(client, personas.alice)
    assert "nobody@nowhere.example" not in client.get(URL).content.decode()


def test_page_is_an_accessible_table(client, personas, login):
    _record(personas)
    login(client, personas.alice)
    body = client.get(URL).content.decode()
    assert "<caption>" in body
    assert body.count('<th scope="col">') == 6
    assert body.count("<h1>") == 1
    for field in (
        "id_actor",
        "id_actor_text",
        "id_type",
        "id_action",
        "id_date_from",
        "id_date_to",
    ):
        assert f'for="{field}"' in body


def test_unknown_action_shows_its_code(client, personas, login):
    _record(personas, action="publishing.crisis_paused")
    login(client, personas.alice)
    assert "publishing.crisis_paused" in client.get(URL).content.decode()


def test_time_is_shown_in_the_users_time_zone(client, personas, login):
    with time_machine.travel(dt.datetime(2025, 3, 4, 22, 30, tzinfo=dt.UTC), tick=False):
        _record(personas)
    User.objects.filter(pk=personas.alice.pk).update(time_zone="Europe/Helsinki")
    login(client, personas.alice)
    body = client.get(URL).content.decode()
    assert "5 Mar 2025, 00:30" in body
    assert "Europe/Helsinki" in body


def test_changed_times_and_dates_read_in_the_readers_zone_and_language(client, personas, login):
    _record(
        personas,
        action="post.rescheduled",
        old={"scheduled_at": "2026-12-07T04:44:00+00:00"},
        new={"scheduled_at": "2026-12-08T10:05:00+00:00", "leaving_on": "2026-12-31"},
    )
    User.objects.filter(pk=personas.alice.pk).update(
        time_zone="Europe/Helsinki", preferred_language="fi"
    )
    login(client, personas.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fi"
    body = client.get(URL).content.decode()
    assert "7.12.2026 klo 6.44" in body  # 04:44 UTC is 06:44 in Helsinki
    assert "8.12.2026 klo 12.05" in body
    assert "31.12.2026" in body
    assert "2026-12-07T04:44" not in body and "2026-12-31<" not in body


def test_newest_first_and_paginated_by_fifty(client, personas, login):
    start = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)
    for n in range(55):
        with time_machine.travel(start + dt.timedelta(minutes=n), tick=False):
            _record(personas, target_label=f"object-{n:02d}")
    login(client, personas.alice)
    first = client.get(URL)
    rows = first.context["rows"]
    assert len(rows) == 50
    assert rows[0].event.target_label == "object-54"
    body = first.content.decode()
    assert 'aria-label="Audit log pages"' in body
    assert "Page 1 of 2" in body
    second = client.get(URL, {"page": 2})
    assert [r.event.target_label for r in second.context["rows"]] == [
        f"object-{n:02d}" for n in range(4, -1, -1)
    ]


def test_filter_by_actor(client, personas, login):
    _record(personas, action="auth.login_succeeded", actor=personas.alice)
    _record(personas, action="auth.logout", actor=personas.carol)
    login(client, personas.alice)
    rows = client.get(URL, {"actor": personas.carol.pk}).context["rows"]
    assert [r.event.action for r in rows] == ["auth.logout"]


def test_filter_by_actor_text_finds_failed_logins(client, personas, login):
    audit_record(
        action="auth.login_failed",
        organization=personas.org,
        actor_label="anonymous",
        new={"email": "alice@example.org", "reason": "wrong_password"},
    )
    _record(personas, action="auth.logout", actor=personas.carol)
    login(client, personas.carol)
    response = client.get(URL, {"actor_text": "ALICE@"})
    assert [r.event.action for r in response.context["rows"]] == ["auth.login_failed"]
    assert "Someone not logged in" in response.content.decode()


def test_filter_by_action_and_type(client, personas, login):
    _record(personas, action="auth.login_succeeded")
    _record(personas, action="auth.logout")
    _record(personas, action="member.invited")
    login(client, personas.alice)
    rows = client.get(URL, {"action": "auth.logout"}).context["rows"]
    assert [r.event.action for r in rows] == ["auth.logout"]
    rows = client.get(URL, {"type": "auth"}).context["rows"]
    assert {r.event.action for r in rows} == {"auth.login_succeeded", "auth.logout"}


def test_filter_by_dates_in_users_time_zone(client, personas, login):
    User.objects.filter(pk=personas.alice.pk).update(time_zone="Europe/Helsinki")
    # 2025-03-04 23:30 in Helsinki is still 21:30 UTC on the 4th ...
    with time_machine.travel(dt.datetime(2025, 3, 4, 21, 30, tzinfo=dt.UTC), tick=False):
        _record(personas, target_label="late-on-the-4th")
    # ... and 2025-03-05 00:30 in Helsinki is 22:30 UTC on the 4th.
    with time_machine.travel(dt.datetime(2025, 3, 4, 22, 30, tzinfo=dt.UTC), tick=False):
        _record(personas, target_label="early-on-the-5th")
    with time_machine.travel(dt.datetime(2025, 3, 6, 12, tzinfo=dt.UTC), tick=False):
        _record(personas, target_label="on-the-6th")
    login(client, personas.alice)

    def labels(**params):
        return [r.event.target_label for r in client.get(URL, params).context["rows"]]

    assert labels(date_from="2025-03-05", date_to="2025-03-05") == ["early-on-the-5th"]
    assert labels(date_to="2025-03-04") == ["late-on-the-4th"]
    assert labels(date_from="2025-03-05") == ["on-the-6th", "early-on-the-5th"]


def test_reversed_dates_show_an_error_next_to_the_field(client, personas, login):
    login(client, personas.alice)
    response = client.get(URL, {"date_from": "2025-03-05", "date_to": "2025-03-01"})
    body = response.content.decode()
    assert "The end date is before the start date." in body
    assert 'id="id_date_to_error"' in body
    assert 'aria-describedby="id_date_to_helptext id_date_to_error"' in body


def test_filters_survive_pagination_and_reach_exports(client, personas, login):
    for _ in range(51):
        _record(personas, action="auth.logout")
    login(client, personas.alice)
    body = client.get(URL, {"action": "auth.logout"}).content.decode()
    assert "?action=auth.logout&amp;page=2" in body
    assert "/governance/audit/export.csv?action=auth.logout" in body
    assert "/governance/audit/export.json?action=auth.logout" in body


def test_query_count_does_not_grow_with_rows(
    client, personas, login, django_assert_max_num_queries
):
    actors = [personas.alice, personas.carol, personas.bob]
    for n in range(40):
        _record(
            personas,
            actor=actors[n % 3],
            target=personas.other_account,
            old={"n": n},
            new={"n": n + 1},
        )
    login(client, personas.alice)
    with django_assert_max_num_queries(14):
        response = client.get(URL)
    assert len(response.context["rows"]) == 40


def test_selector_refuses_roles_without_audit_view(personas):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        audit_events_for_user(personas.bob, AuditFilters())
    assert audit_events_for_user(personas.carol).count() == 0


def test_entries_refuse_update_and_delete(personas):
    event = _record(personas)
    event.action = "member.forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="member.forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "member.role_changed"
