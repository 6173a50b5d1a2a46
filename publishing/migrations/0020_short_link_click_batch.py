import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0019_video_upload_sessions"),
    ]

    operations = [
        migrations.CreateModel(
            name="ShortLinkClickBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("batch", models.CharField(max_length=32, unique=True)),
                ("flushed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "verbose_name": "short link click batch",
                "verbose_name_plural": "short link click batches",
            },
        ),
    ]
