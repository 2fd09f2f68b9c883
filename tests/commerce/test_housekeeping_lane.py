"""Housekeeping never waits behind bulk work: the sweep ends abandoned syncs while syncs fill bulk."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from apps.commerce.models import SyncRun
from apps.commerce.services import SYNC_RUN_GRACE
from apps.commerce.tasks import end_abandoned_syncs, sync_plugin
from tests.conftest import service_missing, wait_for
from tests.factories import MerchantFactory, PluginFactory
from tests.slow_store import SlowShopifyStore, days_ago


@pytest.fixture
def slow_store():
    store = SlowShopifyStore(count=100, first_placed_at=days_ago(10), page_seconds=6)
    yield store
    store.stop()


def test_the_sweep_ends_abandoned_syncs_at_once_while_30_syncs_wait_on_bulk(celery_worker, slow_store):
    if celery_worker is None:
        service_missing("this needs real Celery workers (set CELERY_BROKER_URL and DATABASE_URL)")
    merchant = MerchantFactory()
    plugins = [
        PluginFactory(merchant=merchant, platform="shopify", credentials=slow_store.credentials())
        for _ in range(30)
    ]
    for plugin in plugins:
        sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)
    running = SyncRun.objects.filter(plugin__in=plugins, outcome=SyncRun.Outcome.RUNNING)
    wait_for(lambda: running.count() == settings.BULK_WORKER_PROCESSES)  # bulk is full; 28 wait
    # A sync whose worker was killed past its hard limit, as the sweep finds it.
    killed = SyncRun.objects.create(
        plugin=PluginFactory(merchant=merchant),
        mode=SyncRun.Mode.SCHEDULED,
        started_at=timezone.now()
        - timedelta(seconds=settings.SYNC_TASK_TIME_LIMIT)
        - SYNC_RUN_GRACE
        - timedelta(seconds=1),
    )

    # As beat sends it: with its schedule's expiry, well short of the bulk backlog.
    end_abandoned_syncs.apply_async(**settings.CELERY_BEAT_SCHEDULE["end-abandoned-syncs"]["options"])

    killed.refresh_from_db()
    wait_for(lambda: SyncRun.objects.get(pk=killed.pk).outcome == SyncRun.Outcome.FAILED, timeout=10)
    assert running.count() == settings.BULK_WORKER_PROCESSES  # bulk was still busy all along
    slow_store.release()
    wait_for(
        lambda: SyncRun.objects.filter(plugin__in=plugins).exclude(outcome="running").count() >= 30,
        timeout=120,
    )
