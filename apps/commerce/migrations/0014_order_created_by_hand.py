"""An order created by hand (the order wizard) has no plugin: it is kept beside imported ones, so a later
import of the same order can be recognised as its twin."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commerce", "0013_platform_from_registry"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="plugin",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="commerce.plugin",
            ),
        ),
    ]
