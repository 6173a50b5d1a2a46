"""Exporting the audit log as CSV and JSON."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json

import time_machine
from django.http import StreamingHttpResponse

from governance.models import AuditEvent
from governance.selectors.audit import HASHED_FIELDS
from governance.services.audit import audit_record

URL = "/governance/audit/"


def _content(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")  # type: ignore[arg-type]


def _seed(personas):
    audit_record(action="auth.login_succeeded", organization=personas.org, actor=personas.alice)
    audit_record(
        action="member.role_changed",
        organization=personas.org,
        actor=personas.alice,
        target=personas.bob.memberships.get(),
        old={"role": "editor"},
        new={"role": "manager"},
    )
    audit_record(
        action="member.invited",
        organization=personas.org,
        actor=personas.alice,
        target_label='=HYPERLINK("http://evil.example")',
    )
    audit_record(
        action="member.role_changed", organization=personas.other_org, actor=personas.charlie
    )


def test_csv_export_holds_the_filtered_entries_with_hashes(client, personas, login):
    _seed(personas)
    login(client, personas.carol)
    with time_machine.travel(dt.datetime(2025, 6, 1, 9, tzinfo=dt.UTC), tick=False):
        response = client.get(URL + "export.csv", {"type": "member"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="audit-log-example-2025-06-01.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(_content(response).lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["member.invited", "member.role_changed"]
    ours = AuditEvent.objects.filter(organization=personas.org, action__startswith="member.")
    assert {row["hash"] for row in rows} == {event.hash for event in ours}
    assert all(len(row["prev_hash"]) == 64 for row in rows)
    changed = rows[1]
    assert json.loads(changed["old_values"]) == {"role": "editor"}
    assert changed["action_label"] == "Changed a member's role"
    # A cell a spreadsheet would run as a formula is defused.
    assert rows[0]["target_label"].startswith("'=HYPERLINK")


def test_format_parameter_on_the_page_exports_too(client, personas, login):
    _seed(personas)
    login(client, personas.alice)
    response = client.get(URL, {"format": "csv", "action": "auth.login_succeeded"})
    rows = list(csv.DictReader(io.StringIO(_content(response).lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["auth.login_succeeded"]


def test_json_export_can_be_rehashed_outside_the_app(client, personas, login, settings):
    _seed(personas)
    login(client, personas.alice)
    response = client.get(URL + "export.json")
    assert response["Content-Type"] == "application/json"
    data = json.loads(_content(response))
    assert data["organization"]["name"] == "City of Example"
    assert data["entries_count"] == 3
    entries = data["entries"]
    assert len(entries) == 3
    assert {e["organization"] for e in entries} == {personas.org.pk}
    for entry in entries:
        payload = json.dumps(
            {field: entry[field] for field in HASHED_FIELDS},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        key = settings.AUDIT_HMAC_KEYS[0].encode()  # an auditor holding the audit key
        assert hmac.new(key, payload.encode(), hashlib.sha256).hexdigest() == entry["hash"]


def test_export_is_itself_audited(client, personas, login):
    _seed(personas)
    login(client, personas.carol)
    _content(client.get(URL + "export.json", {"action": "member.invited"}))
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.organization == personas.org
    assert exported.actor == personas.carol
    assert exported.new_values == {
        "format": "json",
        "entries": 1,
        "filters": {"action": "member.invited"},
    }
    # And it shows in the log.
    body = client.get(URL).content.decode()
    assert "Exported the audit log" in body


def test_export_excludes_its_own_entry_and_later_ones(client, personas, login):
    _seed(personas)
    login(client, personas.alice)
    response = client.get(URL + "export.json")
    audit_record(action="auth.logout", organization=personas.org, actor=personas.alice)
    actions = [e["action"] for e in json.loads(_content(response))["entries"]]
    assert "audit.exported" not in actions
    assert "auth.logout" not in actions


def test_invalid_filters_are_not_exported_but_shown(client, personas, login):
    login(client, personas.alice)
    response = client.get(URL + "export.csv", {"date_from": "not a date"})
    assert response.status_code == 302
    assert response["Location"] == URL + "?date_from=not+a+date"
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_outsider_export_holds_only_their_org(client, personas, login):
    _seed(personas)
    login(client, personas.charlie)
    entries = json.loads(_content(client.get(URL + "export.json")))["entries"]
    assert [e["organization"] for e in entries] == [personas.other_org.pk]
