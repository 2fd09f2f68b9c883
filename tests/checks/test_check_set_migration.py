"""Diagnoses started before check sets keep what was typed: the migration carries every row."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("checks", "0006_check_start")]
AFTER = [("checks", "0008_check_sets")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _every_migration_again():
    """Going back to checks 0006 also unapplies what depends on it in other apps (the API's tokens):
    every app is brought forward again afterwards, or the later tests would miss their tables."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_an_order_number_and_date_become_the_order_import_sets_inputs_and_come_back_on_the_way_down():
    old = migrate(BEFORE)
    Diagnosis = old.get_model("checks", "Diagnosis")
    typed = Diagnosis.objects.create(
        merchant_id=1,
        subject_id=2,
        subject_label="Main store",
        order_number="1004",
        placed_date=date(2026, 11, 30),
    )
    blank = Diagnosis.objects.create(merchant_id=1, subject_id=2, subject_label="Main store")

    new = migrate(AFTER)
    Diagnosis = new.get_model("checks", "Diagnosis")
    typed_now, blank_now = Diagnosis.objects.get(pk=typed.pk), Diagnosis.objects.get(pk=blank.pk)

    assert (typed_now.check_set, typed_now.reference) == ("order-import", "1004")
    assert typed_now.inputs == {"order_number": "1004", "placed_date": "2026-11-30"}
    assert (blank_now.check_set, blank_now.reference, blank_now.inputs) == (
        "order-import",
        "",
        {"order_number": "", "placed_date": ""},
    )

    Diagnosis = migrate(BEFORE).get_model("checks", "Diagnosis")
    back = Diagnosis.objects.get(pk=typed.pk)
    assert (back.order_number, back.placed_date) == ("1004", date(2026, 11, 30))
    migrate(AFTER)
