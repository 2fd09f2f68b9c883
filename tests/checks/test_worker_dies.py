"""A worker killed in the middle of a check: the check never runs twice and the widget offers Try again."""

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page
from werkzeug import Response

from apps.checks.models import CheckRun
from apps.commerce.demo import DEMO_MERCHANT
from apps.commerce.models import Merchant
from apps.platforms.shopify import API_VERSION
from tests.conftest import service_missing, wagtail_tree_ensure, wait_for
from tests.factories import PluginFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def test_killed_worker_leaves_a_run_that_is_never_repeated_and_ends_as_couldnt_finish(
    celery_worker, client, httpserver
):
    if celery_worker is None:
        service_missing("this needs a real Celery worker (set CELERY_BROKER_URL and DATABASE_URL)")
    from io import StringIO

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    client.login(username="merchant", password="kitty-merchant")
    merchant = Merchant.objects.get(name=DEMO_MERCHANT)
    plugin = PluginFactory(
        merchant=merchant,
        platform="shopify",
        name="Shopify – Slow store",
        credentials={"shop": "slow", "access_token": "t", "base_url": httpserver.url_for("").rstrip("/")},
    )
    asked, release = threading.Event(), threading.Event()
    order_lookups = []

    def hang(request):
        order_lookups.append(time.monotonic())
        asked.set()
        release.wait(timeout=8)
        return Response("{}", status=503)

    httpserver.expect_request(f"/admin/api/{API_VERSION}/graphql.json", method="POST").respond_with_handler(
        hang
    )
    page = Page.objects.get(slug="order-did-not-import").specific
    try:
        client.post(
            "/checks/start/",
            {"page": page.pk, "subject": plugin.pk, "order_number": "1001", "block_id": page.steps[5].id},
            **HTMX,
        )
        assert asked.wait(timeout=20), "the worker never asked the platform"
        run = CheckRun.objects.get(check_key="source_order_state")
        assert run.status == "running"
        started_at = run.started_at

        for child in children_of(celery_worker.pid):  # the pool process running the check dies
            os.kill(child, signal.SIGKILL)
        release.set()
        # The broker hands the task to a fresh pool process; it must find the run already claimed.
        time.sleep(3)
    finally:
        release.set()

    run.refresh_from_db()
    assert run.status == "running"
    assert run.started_at == started_at
    assert len(order_lookups) == 1

    CheckRun.objects.filter(pk=run.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    html = client.get(f"/checks/runs/{run.uuid}/?n=4", **HTMX).content.decode()
    assert 'data-check-status="unknown"' in html
    assert "This check couldn" in html and ">Check again</button>" in html
    # The worker is still serving: a new check runs to the end.
    client.post(
        "/checks/start/",
        {"page": page.pk, "subject": plugin.pk, "order_number": "1001", "block_id": page.steps[0].id},
        **HTMX,
    )
    wait_for(lambda: CheckRun.objects.filter(check_key="import_orders_enabled", status="passed").exists())
