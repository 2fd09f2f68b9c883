"""Checks have a worker of their own: a slow store's syncs filling the bulk queue never delay a click."""

import time

import pytest
from django.core.management import call_command
from wagtail.models import Page

from apps.commerce.models import Plugin, SyncRun
from apps.commerce.tasks import sync_plugin
from tests.checks.test_worker_flow import HTMX, poll_until_done
from tests.conftest import service_missing, wagtail_tree_ensure, wait_for
from tests.factories import MerchantFactory, PluginFactory
from tests.slow_store import SlowShopifyStore, days_ago


@pytest.fixture
def live_demo(celery_worker, client):
    from io import StringIO

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    assert client.login(username="merchant", password="kitty-merchant")
    return Page.objects.get(slug="order-did-not-import").specific


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

    started = time.monotonic()
    html = client.post(
        "/checks/start/",
        {
            "page": live_demo.pk,
            "subject": main_store.pk,
            "order_number": "1001",
            "block_id": live_demo.steps[0].id,
        },
        **HTMX,
    ).content.decode()
    final, _polls = poll_until_done(client, html, timeout=10)
    elapsed = time.monotonic() - started

    assert 'data-check-status="passed"' in final
    assert elapsed < 2.0, f"the check took {elapsed:.2f} s"
    # The syncs were still holding the bulk worker the whole time.
    assert bulk_queue_saturated.count() == 2
