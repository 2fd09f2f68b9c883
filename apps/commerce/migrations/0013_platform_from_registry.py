"""The platform is checked against apps.platforms.registry, not stored as choices: a new platform needs no migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0012_notification_resolved"),
    ]

    operations = [
        migrations.AlterField(
            model_name="plugin",
            name="platform",
            field=models.CharField(max_length=30),
        ),
    ]
