"""A run is claimed once and ends by its deadline: redelivered, late or abandoned tasks never run it twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.checks.services.running import check_runs_execute
from tests.checks.conftest import plugin_named, start, status_of

pytestmark = pytest.mark.django_db


def test_abandoned_runs_end_as_couldnt_finish_without_anyone_looking(merchant_client, page, tasks_held):
    from apps.checks.tasks import expire_overdue_runs

    start(merchant_client, page, plugin_named("Main store"), number="1001")  # every step, never run
    CheckRun.objects.update(status="running", deadline=timezone.now() - timedelta(seconds=1))
    fresh = start(merchant_client, page, plugin_named("Outlet"), step=1)
    assert status_of(fresh.content.decode()) == "running"

    expired = expire_overdue_runs()

    assert expired == CheckRun.objects.filter(summary="This check couldn't finish.").count() >= 7
    assert CheckRun.objects.filter(status="unknown").count() == expired
    assert CheckRun.objects.filter(status="queued").count() == 1  # the fresh one is left to run


def test_redelivered_or_late_task_never_runs_a_check_twice(merchant_client, page):
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    finished_at = run.finished_at

    assert check_runs_execute([run.pk]) == 0  # redelivery after it ran
    run.refresh_from_db()
    assert run.finished_at == finished_at

    stale = CheckRun.objects.create(
        diagnosis=run.diagnosis,
        merchant_id=run.merchant_id,
        check_key=run.check_key,
        inputs=run.inputs,
        deadline=timezone.now() - timedelta(seconds=1),
    )
    assert check_runs_execute([stale.pk]) == 0  # an expired task delivered late


def test_a_check_delivered_after_its_queue_deadline_ends_at_once(merchant_client, page, tasks_held, settings):
    settings.CHECK_TASK_EXPIRES = 4
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    assert (run.deadline - run.queued_at).total_seconds() == pytest.approx(4)
    CheckRun.objects.filter(pk=run.pk).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )  # a late delivery

    assert check_runs_execute([run.pk]) == 0

    run.refresh_from_db()
    assert (run.status, run.summary) == ("unknown", "This check couldn't finish.")


def test_a_claimed_check_must_end_by_the_hard_limit_in_settings_plus_grace(
    merchant_client, page, tasks_held, settings
):
    settings.CELERY_TASK_TIME_LIMIT = 7
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()

    assert check_runs_execute([run.pk], task_id="t") == 1

    run.refresh_from_db()
    assert run.status == "passed"
    assert (run.deadline - run.started_at).total_seconds() == pytest.approx(7 + 5, abs=0.5)


def test_a_redelivered_task_takes_over_its_own_running_run_but_not_anothers(
    merchant_client, page, tasks_held
):
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    # Claimed by task "t", whose worker then died before finishing it.
    CheckRun.objects.filter(pk=run.pk).update(
        status="running",
        task_id="t",
        started_at=timezone.now(),
        deadline=timezone.now() + timedelta(seconds=35),
    )

    assert check_runs_execute([run.pk], task_id="another") == 0
    assert CheckRun.objects.get(pk=run.pk).status == "running"
    assert check_runs_execute([run.pk], task_id="t") == 1
    assert CheckRun.objects.get(pk=run.pk).status == "passed"
    assert check_runs_execute([run.pk], task_id="t") == 0  # finished runs are never run again
