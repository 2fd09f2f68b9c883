"""The import tasks, run by a real Celery worker on Redis (in CI) or eagerly (zero setup)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.commerce.models import Order, SyncRun
from apps.commerce.tasks import sync_all_plugins, sync_plugin
from tests.conftest import wait_for
from tests.factories import PluginFactory, ProductFactory, SandboxOrderFactory, store_of


@pytest.fixture
def plugin(celery_worker):
    plugin = PluginFactory()
    ProductFactory(merchant=plugin.merchant, code="SKU-A")
    SandboxOrderFactory(store=store_of(plugin), number="1001")
    return plugin


def test_manual_sync_task_imports_the_order(plugin):
    sync_plugin.delay(plugin.pk, "manual")

    wait_for(lambda: Order.objects.filter(plugin=plugin, number="1001").exists())
    run = wait_for(lambda: SyncRun.objects.filter(plugin=plugin, finished_at__isnull=False).first())
    assert run.mode == "manual"
    assert run.outcome == "succeeded"


def test_beat_task_syncs_only_plugins_importing_orders(plugin):
    idle = PluginFactory(merchant=plugin.merchant, import_orders=False)
    SandboxOrderFactory(store=store_of(idle), number="2001")

    sync_all_plugins.delay()

    wait_for(lambda: Order.objects.filter(number="1001").exists())
    wait_for(lambda: SyncRun.objects.filter(plugin=plugin, finished_at__isnull=False).exists())
    assert not SyncRun.objects.filter(plugin=idle).exists()
    assert not Order.objects.filter(number="2001").exists()


def test_backfill_task_imports_older_orders(plugin):
    SandboxOrderFactory(store=store_of(plugin), number="1003", placed_at=timezone.now() - timedelta(days=45))

    sync_plugin.delay(plugin.pk, "backfill", (timezone.now() - timedelta(days=60)).isoformat())

    wait_for(lambda: Order.objects.filter(number="1003").exists())
    assert SyncRun.objects.get(plugin=plugin).mode == "backfill"


def test_not_authorized_is_recorded_once_and_never_retried(plugin):
    store_of(plugin).rotate_token()

    sync_plugin.delay(plugin.pk, "manual")

    run = wait_for(lambda: SyncRun.objects.filter(plugin=plugin, finished_at__isnull=False).first())
    assert run.outcome == "not_authorized"
    # Give a (wrong) retry time to happen; there must still be one run.
    import time

    time.sleep(0.5)
    assert SyncRun.objects.filter(plugin=plugin).count() == 1


def test_sync_of_a_deleted_plugin_is_a_no_op(celery_worker):
    sync_plugin.delay(999_999, "manual")  # must not crash the worker

    plugin = PluginFactory()
    ProductFactory(merchant=plugin.merchant, code="SKU-A")
    SandboxOrderFactory(store=store_of(plugin), number="7")
    sync_plugin.delay(plugin.pk, "manual")
    wait_for(lambda: Order.objects.filter(number="7").exists())


@pytest.mark.django_db
def test_a_backfill_waits_for_a_running_sync_instead_of_being_dropped(other_process_holding_sync_lock):
    from celery.exceptions import Retry

    plugin = PluginFactory()
    other_process_holding_sync_lock(plugin.pk)
    since = (timezone.now() - timedelta(days=60)).isoformat()
    with pytest.raises(Retry):  # called as a worker would, not eagerly
        sync_plugin(plugin.pk, SyncRun.Mode.BACKFILL, since)
    sync_plugin(plugin.pk, SyncRun.Mode.SCHEDULED)  # a scheduled sync just skips: the next one comes

    assert not SyncRun.objects.exists()
