"""`manage.py audit_verify` and the chain walk behind it: per-organization chains linked
by HMAC under a key the database does not hold, signed checkpoints outside the
database, and the PostgreSQL trigger that refuses UPDATE and DELETE."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from governance.models import AuditChainHead, AuditCheckpoint, AuditEvent, chain_key
from governance.services.audit import (
    audit_checkpoints_write,
    audit_keys,
    audit_record,
    audit_verify_chain,
    checkpoint_file,
)
from governance.tests.audit_tamper import tamper


def _chain(personas, length=3, organization=None):
    return [
        audit_record(
            action=f"test.step_{n}",
            organization=organization or personas.org,
            actor=personas.alice,
            new={"step": n},
        )
        for n in range(length)
    ]


def _run() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _plain_rehash(event: AuditEvent) -> str:
    """What the old plain SHA-256 chain computed: no secret needed."""
    return hashlib.sha256(event.canonical_payload().encode()).hexdigest()


def test_intact_chain_passes(personas):
    _chain(personas)
    code, out, _ = _run()
    assert code == 0
    assert "Audit chain intact: 3 entries checked in 1 chain." in out


def test_empty_log_passes(db):
    code, out, _ = _run()
    assert code == 0
    assert "Audit chain intact: 0 entries checked in 0 chains." in out


def test_each_organization_has_its_own_chain(personas):
    ours = _chain(personas, 2)
    theirs = _chain(personas, 2, organization=personas.other_org)
    system = audit_record(action="test.system")
    assert [e.seq for e in ours] == [1, 2] and [e.seq for e in theirs] == [1, 2]
    assert theirs[0].prev_hash == "0" * 64 and ours[1].prev_hash == ours[0].hash
    assert system.seq == 1
    assert set(AuditChainHead.objects.values_list("chain", flat=True)) == {
        chain_key(personas.org.pk),
        chain_key(personas.other_org.pk),
        "system",
    }
    assert ours[0].key_id == audit_keys()[0].key_id
    report = audit_verify_chain()
    assert report.ok and report.checked == 5 and report.chains == 3


def test_edited_entry_is_named(personas):
    entries = _chain(personas, 4)
    tamper(
        "UPDATE governance_auditevent SET new_values = %s WHERE id = %s",
        ['{"role": "admin"}', entries[1].pk],
    )
    code, _, err = _run()
    assert code == 1
    assert f"Audit chain broken at entry #{entries[1].pk}: its content does not match" in err
    assert "Intact entries before it: 1." in err


def test_the_rewrite_and_rehash_attack_is_detected(personas):
    """Change an entry and recompute every later link as plain SHA-256 did: without
    the HMAC key the forger's links are wrong from the changed entry on."""
    entries = _chain(personas, 5)
    forged = AuditEvent.objects.get(pk=entries[1].pk)
    forged.new_values = {"step": "never happened"}
    prev = None
    for event in AuditEvent.objects.filter(pk__in=[e.pk for e in entries[1:]]).order_by("seq"):
        if event.pk == forged.pk:
            event = forged
        if prev is not None:
            event.prev_hash = prev
        event.hash = _plain_rehash(event)
        tamper(
            "UPDATE governance_auditevent SET new_values = %s, prev_hash = %s, hash = %s "
            "WHERE id = %s",
            [json.dumps(event.new_values), event.prev_hash, event.hash, event.pk],
        )
        prev = event.hash
    last = AuditEvent.objects.get(pk=entries[-1].pk)
    tamper(
        "UPDATE governance_auditchainhead SET last_hash = %s WHERE chain = %s",
        [last.hash, chain_key(personas.org.pk)],
    )

    report = audit_verify_chain()

    assert not report.ok
    assert report.first_broken_id == forged.pk
    assert "does not match its HMAC" in report.reason
    code, _, err = _run()
    assert code == 1 and f"entry #{forged.pk}" in err


def test_a_key_holder_rewriting_history_before_a_checkpoint_is_detected(personas):
    """Even with the HMAC key, history before a signed checkpoint cannot be rewritten
    unnoticed: the checkpoint file outside the database disagrees."""
    entries = _chain(personas, 3)
    assert len(audit_checkpoints_write()) == 1
    more = _chain(personas, 2)
    audit_checkpoints_write()
    key = audit_keys()[0].secret
    # Rewrite entry 2 and re-sign it and every later entry with the real key.
    prev = entries[0].hash
    for original in [*entries[1:], *more]:
        event = AuditEvent.objects.get(pk=original.pk)
        if event.pk == entries[1].pk:
            event.new_values = {"step": "rewritten"}
        event.prev_hash = prev
        event.hash = event.compute_hash(key)
        tamper(
            "UPDATE governance_auditevent SET new_values = %s, prev_hash = %s, hash = %s "
            "WHERE id = %s",
            [json.dumps(event.new_values), event.prev_hash, event.hash, event.pk],
        )
        prev = event.hash
    tamper(
        "UPDATE governance_auditchainhead SET last_hash = %s WHERE chain = %s",
        [prev, chain_key(personas.org.pk)],
    )

    report = audit_verify_chain()

    assert not report.ok
    # Entry 1 still matches nothing but the genesis; the first checkpoint covers 1 to 3,
    # so the first entry that cannot be trusted is the first of the chain.
    assert report.first_broken_id == entries[0].pk
    assert "no longer matches the signed checkpoint" in report.reason


def test_checkpoints_are_signed_files_outside_the_database(personas, audit_checkpoint_dir):
    entries = _chain(personas, 3)
    audit_record(action="test.other", organization=personas.other_org)

    written = audit_checkpoints_write()

    assert {c.chain for c in written} == {
        chain_key(personas.org.pk),
        chain_key(personas.other_org.pk),
    }
    lines = checkpoint_file(chain_key(personas.org.pk)).read_text().splitlines()
    record = json.loads(lines[-1])
    assert record["seq"] == 3 and record["hash"] == entries[-1].hash
    assert record["event_id"] == entries[-1].pk and len(record["signature"]) == 64
    # Nothing moved: no new checkpoint.
    assert audit_checkpoints_write() == []
    report = audit_verify_chain()
    assert report.ok and report.checkpoints == 2


def test_a_forged_checkpoint_file_is_refused(personas):
    _chain(personas, 2)
    audit_checkpoints_write()
    path = checkpoint_file(chain_key(personas.org.pk))
    record = json.loads(path.read_text().splitlines()[-1])
    record["seq"] = 1
    path.write_text(json.dumps(record) + "\n")

    report = audit_verify_chain()

    assert not report.ok
    assert "is not signed by any key in AUDIT_HMAC_KEYS" in report.reason


def test_a_missing_checkpoint_file_is_reported(personas):
    _chain(personas, 2)
    audit_checkpoints_write()
    checkpoint_file(chain_key(personas.org.pk)).unlink()

    report = audit_verify_chain()

    assert not report.ok and "checkpoint file" in report.reason and "missing" in report.reason


def test_entries_cut_back_to_before_a_checkpoint_are_found(personas):
    entries = _chain(personas, 3)
    audit_checkpoints_write()
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [entries[2].pk])
    tamper(
        "UPDATE governance_auditchainhead SET last_hash = %s, last_event_id = %s, last_seq = 2 "
        "WHERE chain = %s",
        [entries[1].hash, entries[1].pk, chain_key(personas.org.pk)],
    )

    report = audit_verify_chain()

    assert not report.ok
    assert report.first_broken_id == entries[2].pk
    assert "cut from the end" in report.reason


def test_checkpoints_are_emailed_to_the_organizations_auditors(personas, settings):
    settings.AUDIT_CHECKPOINT_EMAIL_AUDITORS = True
    _chain(personas, 2)

    [checkpoint] = audit_checkpoints_write()

    assert [m.to for m in mail.outbox] == [["carol@example.org"]]
    assert "Audit log checkpoint for City of Example" in mail.outbox[0].subject
    assert checkpoint.hash in mail.outbox[0].body
    assert checkpoint.emailed_to == ["carol@example.org"]


def test_the_audit_page_shows_the_last_checkpoint(client, personas, login):
    _chain(personas, 2)
    [checkpoint] = audit_checkpoints_write()
    login(client, personas.carol)

    page = client.get("/governance/audit/").content.decode()

    assert "Last signed checkpoint" in page
    assert checkpoint.hash[:16] in page
    assert "audit-checkpoints" not in page  # the server's folder is not shown


def test_entries_signed_with_an_older_key_still_verify_after_rotation(personas, settings):
    old = _chain(personas, 2)
    settings.AUDIT_HMAC_KEYS = ["a-new-audit-key-for-2027", *settings.AUDIT_HMAC_KEYS]
    new = _chain(personas, 1)
    assert new[0].key_id != old[0].key_id
    assert audit_verify_chain().ok
    settings.AUDIT_HMAC_KEYS = settings.AUDIT_HMAC_KEYS[:1]
    report = audit_verify_chain()
    assert report.first_broken_id == old[0].pk
    assert "not in AUDIT_HMAC_KEYS" in report.reason


def test_removed_entry_is_found(personas):
    entries = _chain(personas, 3)
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [entries[1].pk])
    code, _, err = _run()
    assert code == 1
    assert f"Audit chain broken at entry #{entries[2].pk}: it is entry 3" in err


def test_entries_cut_from_the_end_are_found(personas):
    entries = _chain(personas, 3)
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [entries[2].pk])
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_broken_id == entries[2].pk
    assert "missing" in report.reason


def test_emptied_log_is_found(personas):
    entries = _chain(personas, 2)
    tamper("DELETE FROM governance_auditevent", [])
    report = audit_verify_chain()
    assert not report.ok
    assert report.first_broken_id == entries[-1].pk


def test_entry_slipped_in_after_the_head_is_found(personas):
    entries = _chain(personas, 2)
    chain = chain_key(personas.org.pk)
    head = AuditChainHead.objects.get(chain=chain)
    forged = audit_record(action="test.forged", organization=personas.org)
    # Put the head back, as if the forged row had been inserted by hand.
    tamper(
        "UPDATE governance_auditchainhead SET last_hash = %s, last_event_id = %s, last_seq = %s "
        "WHERE chain = %s",
        [head.last_hash, entries[-1].pk, head.last_seq, chain],
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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE governance_auditevent SET action = 'x' WHERE id = %s",
        "DELETE FROM governance_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_entry(personas, statement):
    [entry] = _chain(personas, 1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [entry.pk])
    assert AuditEvent.objects.get(pk=entry.pk).action == entry.action


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_change_a_checkpoint(personas):
    _chain(personas, 1)
    [checkpoint] = audit_checkpoints_write()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE governance_auditcheckpoint SET hash = 'x' WHERE id = %s", [checkpoint.pk]
        )
    assert AuditCheckpoint.objects.get(pk=checkpoint.pk).hash == checkpoint.hash
