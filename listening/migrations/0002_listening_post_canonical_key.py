"""Found posts are kept once per watch by their identity across the network.

A Mastodon status read through two instances has two local ids but one ActivityPub
``uri``; it was stored twice under the old key (watch, network, remote_id). Rows
already kept get their key from the ``uri`` their search recorded (``extra.uri``),
else their id; of two rows for one status the older stays, taking over what people
did to the newer (misinformation mark, case, correction, inbox item).
"""

from django.db import migrations, models

MARKS = ("misinformation_at", "misinformation_by_id", "case_id", "correction_url", "inbox_item_id")


def fill_keys(apps, schema_editor):
    ListeningPost = apps.get_model("listening", "ListeningPost")
    watch_ids = ListeningPost.objects.values_list("watch_id", flat=True).distinct()
    for watch_id in list(watch_ids):
        # One watch at a time: the keys seen are held for one watch's store only.
        kept: dict[tuple[str, str], int] = {}
        rows = (
            ListeningPost.objects.filter(watch_id=watch_id)
            .order_by("pk")
            .only("pk", "network", "remote_id", "extra", *MARKS)
        )
        for row in rows.iterator(chunk_size=2000):
            uri = (row.extra or {}).get("uri") if row.network == "mastodon" else ""
            row.canonical_key = str(uri or row.remote_id)[:500]
            key = (row.network, row.canonical_key)
            if key not in kept:
                kept[key] = row.pk
                row.save(update_fields=["canonical_key"])
                continue
            first = ListeningPost.objects.get(pk=kept[key])
            changed = [name for name in MARKS if not getattr(first, name) and getattr(row, name)]
            for name in changed:
                setattr(first, name, getattr(row, name))
            if changed:
                first.save(update_fields=changed)
            row.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="listeningpost",
            name="canonical_key",
            field=models.CharField(default="", max_length=500),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(model_name="listeningpost", name="uniq_listening_post"),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="listeningpost",
            constraint=models.UniqueConstraint(
                fields=("watch", "network", "canonical_key"), name="uniq_listening_post_key"
            ),
        ),
    ]
