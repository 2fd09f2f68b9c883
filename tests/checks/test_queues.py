"""Checks have a worker of their own: a slow store's syncs filling the bulk queue never delay a click."""

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


def test_a_check_finishes_in_under_2_s_while_slow_syncs_fill_the_bulk_queue(
    client, live_demo, bulk_queue_saturated
):
    main_store = Plugin.objects.get(name__contains="Main store")

    final, elapsed = step_one_click(client, live_demo, main_store)

    assert 'data-check-status="passed"' in final
    assert elapsed < 2.0, f"the check took {elapsed:.2f} s"
    # The syncs were still holding the bulk worker the whole time.
    assert bulk_queue_saturated.count() == 2


def test_one_steps_check_goes_ahead_of_every_step_checks_waiting_for_the_interactive_worker(
    live_demo, celery_worker, slow_store, settings
):
    """Shortest job first: a click queued after five "Check every step" starts is answered before them."""
    from apps.checks.models import CheckRun, Diagnosis
    from apps.checks.selectors.steps import every_step_targets, step_targets
    from apps.checks.services.starting import check_runs_start

    if celery_worker is None:
        service_missing("this needs a real Celery worker (set CELERY_BROKER_URL and DATABASE_URL)")
    main_store = Plugin.objects.get(name__contains="Main store")
    user = main_store.merchant.memberships.first().user
    slow = PluginFactory(
        merchant=main_store.merchant, platform="shopify", credentials=slow_store.credentials()
    )
    step_1, *_, step_6, _step_7 = step_targets(live_demo)

    def start(plugin, number, targets):
        diagnosis = Diagnosis.objects.create(
            merchant_id=plugin.merchant_id,
            user=user,
            page_id=live_demo.pk,
            subject_id=plugin.pk,
            subject_label=plugin.name,
            **order_inputs(number),
        )
        check_runs_start(diagnosis=diagnosis, user=user, targets=targets, count_towards_limit=False)
        return CheckRun.objects.filter(diagnosis=diagnosis)

    # Every interactive thread waits on the slow store, so what is started next waits in the queue.
    threads = settings.INTERACTIVE_WORKER_THREADS
    for n in range(threads):
        start(slow, f"{1001 + n}", [step_6])
    wait_for(
        lambda: (
            CheckRun.objects.filter(status=CheckRun.State.RUNNING, diagnosis__subject_id=slow.pk).count()
            == threads
        )
    )
    every_step = [start(main_store, f"100{n}", every_step_targets(live_demo, f"100{n}")) for n in range(1, 6)]
    click = start(main_store, "1001", [step_1])
    slow_store.release()

    wait_for(lambda: not CheckRun.objects.filter(status__in=CheckRun.IN_FLIGHT).exists(), timeout=20)
    click_started = click.get().started_at
    started_before = [runs for runs in every_step if min(run.started_at for run in runs) < click_started]
    # At most a few other threads took as the slow checks ended together; in turn, it would be all five.
    assert len(started_before) <= 2
