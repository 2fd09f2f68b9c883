"""A check task writes its quick checks' results together, and never holds one behind a slow platform.

apps/checks/services/running.py: results wait in the task only until the next
check is about to wait on a platform (kitty_troubleshoot.waits), then go out
in one statement; a run ended meanwhile (past its deadline) keeps that end.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.services.running import _Results
from kitty_troubleshoot.said import said
from kitty_troubleshoot.waits import about_to_wait, before_waiting
from tests.checks.conftest import start
from tests.checks.test_worker_flow import poll_until_done
from tests.conftest import service_missing, wait_for
from tests.factories import MerchantFactory, PluginFactory, UserFactory, order_inputs


def _running_runs(count: int) -> list[CheckRun]:
    plugin = PluginFactory(merchant=MerchantFactory())
    user = UserFactory()
    diagnosis = Diagnosis.objects.create(
        merchant_id=plugin.merchant_id, user=user, subject_id=plugin.pk, **order_inputs("1001")
    )
    now = timezone.now()
    return [
        CheckRun.objects.create(
            diagnosis=diagnosis,
            merchant_id=plugin.merchant_id,
            user=user,
            check_key="import_orders_enabled",
            block_id=f"block-{n}",
            step_number=n + 1,
            status=CheckRun.State.RUNNING,
            started_at=now,
            deadline=now + timedelta(seconds=30),
        )
        for n in range(count)
    ]


def _result(n: int) -> dict:
    return {
        "status": "failed",
        **CheckRun.verdict_fields(
            said("Import Orders is off on “%(plugin)s”.", plugin=f"Store {n}"), [said("Turn it on.")]
        ),
        "data": {"n": n, "orders": ["#1001"]},
        "fixes_offered": [{"key": "turn_on", "label": "Turn it on"}],
        "fixes_applied": [],
        "finished_at": timezone.now(),
        "task_seconds": 0.25 + n,
    }


def test_held_results_are_written_together_and_read_back_as_written(db):
    runs = _running_runs(3)
    results = _Results()
    for n, run in enumerate(runs):
        results.add(run.pk, _result(n))
    assert all(r.status == "running" for r in CheckRun.objects.filter(pk__in=[r.pk for r in runs]))

    results.write()

    for n, run in enumerate(runs):
        run.refresh_from_db()
        assert run.status == "failed"
        assert run.summary == f"Import Orders is off on “Store {n}”."
        assert [str(line) for line in run.evidence] == ["Turn it on."]
        assert run.data == {"n": n, "orders": ["#1001"]}
        assert run.fixes_offered == [{"key": "turn_on", "label": "Turn it on"}]
        assert run.finished_at is not None and run.task_seconds == pytest.approx(0.25 + n)
    assert results.held == []


def test_a_run_ended_meanwhile_keeps_its_end(db):
    runs = _running_runs(3)
    ended = runs[1]
    CheckRun.objects.filter(pk=ended.pk).update(
        status=CheckRun.State.UNKNOWN, summary="This check couldn't finish."
    )
    results = _Results()
    for n, run in enumerate(runs):
        results.add(run.pk, _result(n))

    results.write()

    ended.refresh_from_db()
    assert ended.status == "unknown" and ended.summary == "This check couldn't finish."
    assert CheckRun.objects.filter(pk__in=[runs[0].pk, runs[2].pk], status="failed").count() == 2


def test_a_call_about_to_wait_writes_what_is_held_first():
    written = []
    with before_waiting(lambda: written.append("written")):
        about_to_wait()
    about_to_wait()  # outside the block: nothing registered, nothing happens

    assert written == ["written"]


def test_a_quick_steps_result_shows_while_a_slow_stores_step_still_waits(
    client, live_demo, celery_worker, hanging_shopify
):
    if celery_worker is None:
        service_missing("this needs real Celery workers (set CELERY_BROKER_URL and DATABASE_URL)")
    store, slow = hanging_shopify
    answer = start(client, live_demo, slow, number="1002").content.decode()
    runs = CheckRun.objects.filter(diagnosis__subject_id=slow.pk)

    # Checked before the first order lookup, written before it waits on the store.
    wait_for(lambda: runs.exclude(status__in=CheckRun.IN_FLIGHT).exists(), timeout=20)
    assert runs.filter(status=CheckRun.State.RUNNING).exists()
    assert store.pages_served == 0  # the store still holds the lookup

    store.release()
    final, _ = poll_until_done(client, answer)
    assert 'data-summary-status="done"' in final
