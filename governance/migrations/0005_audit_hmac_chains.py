"""Per-organization audit chains linked by HMAC, signed checkpoints, and a PostgreSQL
trigger that refuses UPDATE and DELETE on the audit tables.

Existing entries form one global chain of plain SHA-256 links. This migration first
checks that chain as it stands (as ``audit_verify`` did), then re-links every
organization's entries into a chain of its own under the newest AUDIT_HMAC_KEYS
key, and appends to each chain an ``audit.chain_resealed`` entry saying how many
entries were sealed and whether the old chain was intact (and if not, where it
broke), so the upgrade itself is on the record. The trigger is created last.
"""

import hashlib
import hmac
import json

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

GENESIS = "0" * 64

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION governance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER governance_auditevent_append_only
    BEFORE UPDATE OR DELETE ON governance_auditevent
    FOR EACH ROW EXECUTE FUNCTION governance_audit_append_only();
CREATE TRIGGER governance_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON governance_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION governance_audit_append_only();
"""

DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS governance_auditevent_append_only ON governance_auditevent;
DROP TRIGGER IF EXISTS governance_auditcheckpoint_append_only ON governance_auditcheckpoint;
DROP FUNCTION IF EXISTS governance_audit_append_only();
"""


def _payload(event, *, with_chain_fields):
    values = {
        "organization": event.organization_id,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "old_values": event.old_values,
        "new_values": event.new_values,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "created_at": event.created_at.isoformat(),
        "prev_hash": event.prev_hash,
    }
    if with_chain_fields:
        values["seq"] = event.seq
        values["key_id"] = event.key_id
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)


def _key():
    secret = next(str(k).strip() for k in settings.AUDIT_HMAC_KEYS if str(k).strip())
    key_id = hashlib.sha256(b"govsocial-audit-key-id:" + secret.encode()).hexdigest()[:12]
    return key_id, secret.encode()


def _old_chain_break(AuditEvent):
    """The first entry of the old global SHA-256 chain that does not hold, or None."""
    expected = GENESIS
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected:
            return event.pk
        if hashlib.sha256(_payload(event, with_chain_fields=False).encode()).hexdigest() != event.hash:
            return event.pk
        expected = event.hash
    return None


def reseal(apps, schema_editor):
    AuditEvent = apps.get_model("governance", "AuditEvent")
    AuditChainHead = apps.get_model("governance", "AuditChainHead")
    AuditChainHead.objects.all().delete()
    if not AuditEvent.objects.exists():
        return
    key_id, secret = _key()
    broken_at = _old_chain_break(AuditEvent)
    organization_ids = list(
        AuditEvent.objects.order_by().values_list("organization_id", flat=True).distinct()
    )
    for organization_id in organization_ids:
        events = AuditEvent.objects.filter(organization_id=organization_id).order_by("id")
        prev, seq, last_id = GENESIS, 0, None
        for event in events.iterator(chunk_size=2000):
            seq += 1
            event.seq, event.key_id, event.prev_hash = seq, key_id, prev
            event.hash = hmac.new(
                secret, _payload(event, with_chain_fields=True).encode(), hashlib.sha256
            ).hexdigest()
            AuditEvent.objects.filter(pk=event.pk).update(
                seq=seq, key_id=key_id, prev_hash=prev, hash=event.hash
            )
            prev, last_id = event.hash, event.pk
        note = AuditEvent(
            organization_id=organization_id,
            actor_label="system",
            action="audit.chain_resealed",
            new_values={
                "entries": seq,
                "plain_chain_intact": broken_at is None,
                "plain_chain_first_broken_id": broken_at,
            },
            created_at=timezone.now(),
            seq=seq + 1,
            key_id=key_id,
            prev_hash=prev,
        )
        note.hash = hmac.new(
            secret, _payload(note, with_chain_fields=True).encode(), hashlib.sha256
        ).hexdigest()
        note.save(force_insert=True)
        chain = f"org-{organization_id}" if organization_id is not None else "system"
        AuditChainHead.objects.create(
            chain=chain, last_hash=note.hash, last_event_id=note.pk, last_seq=note.seq
        )


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0004_second_factor_secrets_at_rest"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["organization", "seq"], name="governance__organiz_33a58f_idx"),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="last_seq",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain", models.CharField(db_index=True, max_length=32)),
                ("seq", models.PositiveBigIntegerField()),
                ("event_id", models.BigIntegerField(null=True)),
                ("hash", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=16)),
                ("signature", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("file_name", models.CharField(blank=True, max_length=300)),
                ("emailed_to", models.JSONField(blank=True, default=list)),
                (
                    "organization",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="audit_checkpoints",
                        to="governance.organization",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit checkpoint",
                "verbose_name_plural": "audit checkpoints",
                "ordering": ["-id"],
            },
        ),
        migrations.RunPython(reseal, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(max_length=32, unique=True),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
