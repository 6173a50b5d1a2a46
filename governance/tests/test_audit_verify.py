"""`manage.py audit_verify` and the chain walk behind it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from governance.models import AuditChainHead
from governance.services.audit import audit_record, audit_verify_chain


def _chain(personas, length=3):
    return [
        audit_record(action=f"test.step_{n}", organization=personas.org, actor=personas.alice)
        for n in range(length)
    ]


def _run() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _sql(statement: str, params: list) -> None:
    # Bypass the append-only guard the way someone with database access would.
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_intact_chain_passes(personas):
    _chain(personas)
    code, out, _ = _run()
    assert code == 0
    assert "Audit chain intact: 3 entries checked." in out


def test_empty_log_passes(db):
    code, out, _ = _run()
    assert code == 0
    assert "Audit chain intact: 0 entries checked." in out


def test_edited_entry_is_named(personas):
    entries = _chain(personas, 4)
    _sql(
        "UPDATE governance_auditevent SET new_values = %s WHERE id = %s",
        ['{"role": "admin"}', entries[1].pk],
    )
    code, _, err = _run()
    assert code == 1
    assert f"Audit chain broken at entry #{entries[1].pk}: its content does not match" in err
    assert "Intact entries before it: 1." in err


def test_rehashed_entry_breaks_the_next_link(personas):
    entries = _chain(personas, 3)
    forged = entries[0]
    forged.action = "test.forged"
    # Edit the entry and recompute its own hash, so only the next link can tell.
    _sql(
        "UPDATE governance_auditevent SET action = %s, hash = %s WHERE id = %s",
        [forged.action, forged.compute_hash(), forged.pk],
    )
    report = audit_verify_chain()
    assert report.first_broken_id == entries[1].pk
    assert "previous-hash link does not match" in report.reason


def test_removed_entry_is_found(personas):
    entries = _chain(personas, 3)
    _sql("DELETE FROM governance_auditevent WHERE id = %s", [entries[1].pk])
    code, _, err = _run()
    assert code == 1
    assert f"Audit chain broken at entry #{entries[2].pk}: its previous-hash link" in err


def test_entries_cut_from_the_end_are_found(personas):
    entries = _chain(personas, 3)
    _sql("DELETE FROM governance_auditevent WHERE id = %s", [entries[2].pk])
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_broken_id == entries[2].pk
    assert "missing" in report.reason


def test_emptied_log_is_found(personas):
    entries = _chain(personas, 2)
    _sql("DELETE FROM governance_auditevent", [])
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_broken_id == entries[-1].pk


def test_entry_slipped_in_after_the_head_is_found(personas):
    entries = _chain(personas, 2)
    head = AuditChainHead.objects.get(pk=1)
    forged = audit_record(action="test.forged", organization=personas.org)
    # Put the head back, as if the forged row had been inserted by hand.
    _sql(
        "UPDATE governance_auditchainhead SET last_hash = %s, last_event_id = %s WHERE id = 1",
        [head.last_hash, entries[-1].pk],
    )
    report = audit_verify_chain()
    assert report.first_broken_id == forged.pk
    assert "outside the audit log" in report.reason


@pytest.mark.parametrize("length", [1, 5])
def test_report_counts_every_entry(personas, length):
    _chain(personas, length)
    report = audit_verify_chain()
    assert report.ok
    assert report.checked == length
