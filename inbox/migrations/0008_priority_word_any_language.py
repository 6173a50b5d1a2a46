from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0007_saved_reply_any_post_language"),
    ]

    operations = [
        migrations.AlterField(
            model_name="priorityword",
            name="language",
            field=models.CharField(blank=True, max_length=10, verbose_name="language"),
        ),
    ]
