"""A worker killed in the middle of a sync: its redelivery carries on, the dead run is swept, nothing imports twice."""

import json
import os
import signal
import threading
import time

from django.utils import timezone
from werkzeug import Request, Response

from apps.commerce.models import Order, SyncRun
from apps.commerce.tasks import end_abandoned_syncs, sync_plugin
from apps.platforms.shopify import API_VERSION
from tests.checks.test_worker_dies import children_of
from tests.conftest import service_missing, wait_for
from tests.factories import PluginFactory, ProductFactory
from tests.platforms.test_shopify import order_node, orders_body


def test_sync_killed_mid_way_is_carried_on_by_its_redelivery_and_its_run_is_swept(
    celery_worker, bulk_worker_process, httpserver, settings
):
    if bulk_worker_process is None:
        service_missing("this needs a real Celery worker (set CELERY_BROKER_URL and DATABASE_URL)")
    plugin = PluginFactory(
        platform="shopify",
        name="Shopify – Slow store",
        credentials={"shop": "slow", "access_token": "t", "base_url": httpserver.url_for("").rstrip("/")},
    )
    ProductFactory(merchant=plugin.merchant, code="MUG-BLUE-001")
    placed = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    pages = {
        None: orders_body(
            [order_node("1001", createdAt=placed), order_node("1002", createdAt=placed)],
            has_next=True,
            cursor="c1",
        ),
        "c1": orders_body([order_node("1003", createdAt=placed)]),
    }
    asked, release = threading.Event(), threading.Event()
    second_pages = []

    def slow_second_page(request: Request) -> Response:
        after = request.get_json()["variables"].get("after")
        if after == "c1":
            second_pages.append(time.monotonic())
            if len(second_pages) == 1:  # the first delivery hangs here until its worker is killed
                asked.set()
                release.wait(timeout=8)
                return Response("{}", status=503)
        return Response(json.dumps(pages[after]), content_type="application/json")

    httpserver.expect_request(f"/admin/api/{API_VERSION}/graphql.json", method="POST").respond_with_handler(
        slow_second_page
    )
    try:
        sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)
        assert asked.wait(timeout=20), "the sync never asked for the second page"
        killed_run = SyncRun.objects.get(plugin=plugin)
        assert killed_run.outcome == "running"

        for child in children_of(bulk_worker_process.pid):  # the bulk worker runs syncs
            os.kill(child, signal.SIGKILL)
        killed_at = time.monotonic()
        release.set()  # the killed delivery's request is answered to nobody
        # The broker hands the task to a fresh pool process; the lock died with the killed one's
        # connection, so the redelivered sync takes it and imports the rest.
        carried_on = wait_for(
            lambda: (
                SyncRun.objects.filter(plugin=plugin, finished_at__isnull=False)
                .exclude(pk=killed_run.pk)
                .first()
            ),
            timeout=15,
        )
    finally:
        release.set()
    assert time.monotonic() - killed_at < 10
    assert carried_on.outcome == "succeeded"
    assert carried_on.imported + carried_on.already_imported == 3
    numbers = list(Order.objects.filter(plugin=plugin).values_list("number", flat=True))
    assert sorted(numbers) == ["1001", "1002", "1003"]  # nothing imported twice

    # The killed run is ended by the sweeper once the sync's hard limit (plus grace) is past.
    settings.SYNC_TASK_TIME_LIMIT = 1
    killed_run.refresh_from_db()
    assert killed_run.outcome == "running"
    wait_for(
        lambda: end_abandoned_syncs() or SyncRun.objects.get(pk=killed_run.pk).outcome != "running",
        timeout=10,
    )
    killed_run.refresh_from_db()
    assert killed_run.outcome == "failed"
    assert "stopped without finishing" in killed_run.message
    assert (killed_run.finished_at - killed_run.started_at).total_seconds() < 1 + 5 + 2

    # And the next scheduled sync runs: no lock was left behind.
    sync_plugin.delay(plugin.pk, SyncRun.Mode.SCHEDULED)
    wait_for(lambda: SyncRun.objects.filter(plugin=plugin, finished_at__isnull=False).count() == 3)
    latest = SyncRun.objects.filter(plugin=plugin).order_by("-started_at").first()
    assert latest.outcome == "succeeded" and latest.already_imported == 3 and latest.imported == 0
    assert Order.objects.filter(plugin=plugin).count() == 3
