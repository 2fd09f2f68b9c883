"""A long sync runs as a chain of short tasks: each fetches for one slice and queues the rest."""

import pytest

from apps.commerce.models import Order, SyncRun
from apps.commerce.tasks import sync_plugin
from tests.factories import PluginFactory, ProductFactory
from tests.slow_store import SKU, SlowShopifyStore, days_ago

PAGE_SECONDS = 0.2


@pytest.fixture
def slow_store():
    store = SlowShopifyStore(count=300, first_placed_at=days_ago(10), page_seconds=PAGE_SECONDS)
    yield store
    store.stop()


@pytest.fixture
def plugin(db, slow_store):
    plugin = PluginFactory(platform="shopify", credentials=slow_store.credentials())
    ProductFactory(merchant=plugin.merchant, code=SKU)
    return plugin


def test_a_long_sync_finishes_as_several_tasks_each_within_its_slice(plugin, slow_store, settings):
    settings.SYNC_TASK_SLICE_SECONDS = 1

    sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)

    runs = list(SyncRun.objects.filter(plugin=plugin).order_by("started_at"))
    assert len(runs) >= 3  # 12 pages of 0.2 s in slices of 1 s
    for run in runs:
        assert run.outcome == "succeeded"
        assert run.mode == "scheduled"
        # The slice, the page under way when it ended, and the writing of what it fetched.
        assert (run.finished_at - run.started_at).total_seconds() < 1 + PAGE_SECONDS + 1.0
    assert all(run.resume_from is not None for run in runs[:-1])
    assert runs[-1].resume_from is None
    # Every order imported once: a slice starts where the previous one stopped.
    assert Order.objects.filter(plugin=plugin).count() == 300
    assert sum(run.imported for run in runs) == 300
    plugin.refresh_from_db()
    assert plugin.last_synced_at == runs[-1].started_at


def test_a_stopped_slice_leaves_the_next_scheduled_sync_where_it_was(plugin, slow_store, settings):
    from apps.commerce.importing import plugin_sync
    from apps.commerce.importing.sync import scheduled_sync_since

    since_before = scheduled_sync_since(plugin)

    run = plugin_sync(plugin=plugin, mode=SyncRun.Mode.SCHEDULED, time_budget=0.5)

    assert run.resume_from is not None
    assert "continue in the background" in run.message
    plugin.refresh_from_db()
    assert plugin.last_synced_at is None
    assert scheduled_sync_since(plugin) == since_before


def test_a_long_backfill_stays_a_backfill_in_every_slice(plugin, slow_store, settings):
    settings.SYNC_TASK_SLICE_SECONDS = 1
    plugin.import_orders_enabled_at = days_ago(1)  # every order is older: only a backfill imports them
    plugin.save()

    sync_plugin.delay(plugin.pk, SyncRun.Mode.BACKFILL, days_ago(11).isoformat())

    runs = list(SyncRun.objects.filter(plugin=plugin).order_by("started_at"))
    assert len(runs) >= 3
    assert {run.mode for run in runs} == {"backfill"}
    assert Order.objects.filter(plugin=plugin).count() == 300
