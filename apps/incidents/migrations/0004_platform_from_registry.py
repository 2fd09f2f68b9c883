"""The platform is checked against apps.platforms.registry, not stored as choices: a new platform needs no migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0003_incident_platform_amazon_etsy"),
    ]

    operations = [
        migrations.AlterField(
            model_name="incident",
            name="platform",
            field=models.CharField(max_length=30),
        ),
    ]
