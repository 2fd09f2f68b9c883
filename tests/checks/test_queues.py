"""Checks have workers of their own: a slow store's syncs filling the bulk queue, or whole diagnoses filling the
interactive lane, never delay a click."""

import pytest

from apps.commerce.models import Plugin, SyncRun
from apps.commerce.tasks import sync_plugin
from tests.checks.test_worker_flow import step_one_click
from tests.conftest import service_missing, wait_for
from tests.factories import MerchantFactory, PluginFactory, order_inputs
from tests.slow_store import SlowShopifyStore, days_ago


@pytest.fixture
def slow_store():
    store = SlowShopifyStore(count=100, first_placed_at=days_ago(10), page_seconds=6)
    yield store
    store.stop()


@pytest.fixture
def bulk_queue_saturated(celery_worker, bulk_worker_process, slow_store):
    """Another merchant's plugins on the slow store, synced as beat would: every bulk process busy, one more waiting."""
    if celery_worker is None:
        service_missing("this needs real Celery workers (set CELERY_BROKER_URL and DATABASE_URL)")
    other = MerchantFactory()
    plugins = [
        PluginFactory(merchant=other, platform="shopify", credentials=slow_store.credentials())
        for _ in range(3)
    ]
    for plugin in plugins:
        sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)
    running = SyncRun.objects.filter(plugin__in=plugins, finished_at__isnull=True)
    wait_for(lambda: running.count() == 2)  # the bulk worker's two processes, each on a slow sync
    yield running
    # Let the syncs end at once and wait for them, so no task of this test outlives it.
    slow_store.release()
    synced = SyncRun.objects.filter(plugin__in=plugins)
    wait_for(lambda: synced.values("plugin").distinct().count() == 3 and not running.exists())


def test_one_steps_check_or_a_fix_goes_to_the_clicks_lane_and_every_step_to_interactive():
    from apps.checks.models import CheckRun
    from apps.checks.services.queueing import check_task_queue

    def run(step: int | None, fix: dict | None = None) -> CheckRun:
        return CheckRun(block_id=f"step-{step}", step_number=step, fix_requested=fix or {})

    already_here = CheckRun(block_id="", step_number=None)
    assert check_task_queue([run(1)]) == "clicks"
    assert check_task_queue([already_here, run(6)]) == "clicks"  # one step, with its "already here?"
    assert check_task_queue([run(7, {"key": "sync_now"})]) == "clicks"
    assert check_task_queue([already_here, *(run(n) for n in range(1, 8))]) == "interactive"


def test_a_check_finishes_in_under_2_s_while_slow_syncs_fill_the_bulk_queue(
    client, live_demo, bulk_queue_saturated
):
    main_store = Plugin.objects.get(name__contains="Main store")

    final, elapsed = step_one_click(client, live_demo, main_store)

    assert 'data-check-status="passed"' in final
    assert elapsed < 2.0, f"the check took {elapsed:.2f} s"
    # The syncs were still holding the bulk worker the whole time.
    assert bulk_queue_saturated.count() == 2


def test_a_click_is_answered_while_every_interactive_thread_waits_on_a_slow_store(
    client, live_demo, celery_worker, slow_store, settings
):
    """The clicks lane: one step's check never waits for a thread of the lane running whole diagnoses."""
    from django.db.models import Max

    from apps.checks.models import CheckRun, Diagnosis
    from apps.checks.selectors.steps import every_step_targets
    from apps.checks.services.starting import check_runs_start

    if celery_worker is None:
        service_missing("this needs a real Celery worker (set CELERY_BROKER_URL and DATABASE_URL)")
    main_store = Plugin.objects.get(name__contains="Main store")
    user = main_store.merchant.memberships.first().user
    slow = PluginFactory(
        merchant=main_store.merchant, platform="shopify", credentials=slow_store.credentials()
    )
    # As many "Check every step" on the slow store as the interactive lane has threads, and one more.
    threads = settings.INTERACTIVE_WORKER_THREADS
    for n in range(threads + 1):
        number = f"{1001 + n}"
        diagnosis = Diagnosis.objects.create(
            merchant_id=slow.merchant_id,
            user=user,
            page_id=live_demo.pk,
            subject_id=slow.pk,
            subject_label=slow.name,
            **order_inputs(number),
        )
        check_runs_start(
            diagnosis=diagnosis,
            user=user,
            targets=every_step_targets(live_demo, number),
            count_towards_limit=False,
        )
    slow_runs = CheckRun.objects.filter(diagnosis__subject_id=slow.pk)
    # Every thread holds a diagnosis waiting on the store, and the last diagnosis waits for a thread.
    wait_for(
        lambda: (
            slow_runs.filter(status=CheckRun.State.RUNNING).values("task_id").distinct().count() == threads
        )
    )
    assert slow_runs.filter(status=CheckRun.State.QUEUED).exists()

    final, _elapsed = step_one_click(client, live_demo, main_store)

    assert 'data-check-status="passed"' in final
    slow_store.release()
    wait_for(lambda: not slow_runs.filter(status__in=CheckRun.IN_FLIGHT).exists(), timeout=60)
    # Taken by a worker before any thread of the interactive lane was free: before a diagnosis's task had ended.
    click = CheckRun.objects.filter(diagnosis__subject_id=main_store.pk).latest("queued_at")
    tasks_ended = slow_runs.values("task_id").annotate(ended=Max("finished_at"))
    first_freed = min(task["ended"] for task in tasks_ended)
    assert click.started_at < first_freed, (click.started_at, first_freed)
