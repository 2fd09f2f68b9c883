"""A diagnosis records its article's check set and every input it was started with.

Every diagnosis so far was of "An Order Did Not Import": its order number and
placed date become that set's inputs, and the order number its reference.
"""

from django.db import migrations, models

ORDER_IMPORT = "order-import"


def inputs_from_columns(apps, schema_editor):
    Diagnosis = apps.get_model("checks", "Diagnosis")
    for diagnosis in Diagnosis.objects.only("pk", "order_number", "placed_date").iterator(chunk_size=2000):
        Diagnosis.objects.filter(pk=diagnosis.pk).update(
            check_set=ORDER_IMPORT,
            reference=diagnosis.order_number,
            inputs={
                "order_number": diagnosis.order_number,
                "placed_date": diagnosis.placed_date.isoformat() if diagnosis.placed_date else "",
            },
        )


def columns_from_inputs(apps, schema_editor):
    import datetime

    Diagnosis = apps.get_model("checks", "Diagnosis")
    for diagnosis in Diagnosis.objects.only("pk", "inputs").iterator(chunk_size=2000):
        inputs = diagnosis.inputs or {}
        placed = inputs.get("placed_date") or ""
        Diagnosis.objects.filter(pk=diagnosis.pk).update(
            order_number=str(inputs.get("order_number") or "")[:64],
            placed_date=datetime.date.fromisoformat(placed) if placed else None,
        )


class Migration(migrations.Migration):
    dependencies = [("checks", "0006_check_start")]

    operations = [
        migrations.AddField(
            model_name="diagnosis",
            name="check_set",
            field=models.CharField(
                default=ORDER_IMPORT,
                help_text="The article's check set: what its inputs mean.",
                max_length=64,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="diagnosis", name="reference", field=models.CharField(blank=True, max_length=64)
        ),
        migrations.AddField(
            model_name="diagnosis",
            name="inputs",
            field=models.JSONField(
                blank=True, default=dict, help_text="Every input of the check set, as stored."
            ),
        ),
        migrations.RunPython(inputs_from_columns, columns_from_inputs),
    ]
