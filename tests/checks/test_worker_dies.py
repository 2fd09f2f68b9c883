"""A worker killed in the middle of a check: the check is finished, never left "Checking…"."""

import json
import os
import signal
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import Page
from werkzeug import Response

from apps.checks.models import CheckRun
from apps.commerce.demo import DEMO_MERCHANT
from apps.commerce.diagnostics import INTERACTIVE_TIMEOUT
from apps.commerce.models import Merchant
from apps.platforms.shopify import API_VERSION
from tests.conftest import service_missing, wagtail_tree_ensure, wait_for
from tests.factories import PluginFactory
from tests.platforms.test_shopify import order_node, orders_body

HTMX = {"HTTP_HX_REQUEST": "true"}


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.fixture
def slow_store(celery_worker, client, httpserver):
    """A signed-in merchant, the article, and a Shopify plugin whose first order lookup hangs.

    Yields (page, plugin, lookups, asked, release): ``asked`` is set when the
    first lookup arrives, which then waits for ``release``; later lookups
    find order 1001, paid.
    """
    if celery_worker is None:
        service_missing("this needs a real Celery worker (set CELERY_BROKER_URL and DATABASE_URL)")
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
    lookups = []

    def first_lookup_hangs(request):
        lookups.append(time.monotonic())
        if len(lookups) == 1:
            asked.set()
            release.wait(timeout=10)
            return Response("{}", status=503)
        return Response(json.dumps(orders_body([order_node("1001")])), content_type="application/json")

    httpserver.expect_request(f"/admin/api/{API_VERSION}/graphql.json", method="POST").respond_with_handler(
        first_lookup_hangs
    )
    page = Page.objects.get(slug="order-did-not-import").specific
    try:
        yield page, plugin, lookups, asked, release
    finally:
        release.set()


def start_order_state_check(client, page, plugin) -> CheckRun:
    client.post(
        "/checks/start/",
        {"page": page.pk, "subject": plugin.pk, "order_number": "1001", "block_id": page.steps[5].id},
        **HTMX,
    )
    return CheckRun.objects.get(check_key="source_order_state")


def worker_asks_the_platform(asked: threading.Event, run: CheckRun) -> None:
    """Wait until the worker's lookup reaches the store: however long a busy machine takes to hand
    the task over, as long as the run is still waiting for it (queued or running)."""

    def reached_or_over() -> bool:
        run.refresh_from_db()
        return asked.is_set() or run.status not in {"queued", "running"}

    wait_for(reached_or_over, timeout=120, interval=0.1)
    assert asked.is_set(), f"the run ended {run.status} before the worker asked the platform"


def widget(client, run: CheckRun) -> str:
    return client.get(f"/checks/runs/{run.uuid}/?n=4", **HTMX).content.decode()


def test_the_soft_time_limit_in_settings_is_the_one_the_check_gets(slow_store, client, settings):
    page, plugin, lookups, asked, release = slow_store
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 1
    settings.CELERY_TASK_TIME_LIMIT = 10
    run = start_order_state_check(client, page, plugin)

    def final() -> str | None:
        html = widget(client, run)
        return html if 'data-check-status="running"' not in html else None

    html = wait_for(final, timeout=90, interval=0.2)
    run.refresh_from_db()
    assert "This check took too long" in html, (run.status, run.summary)
    # Timed on the run itself, from when the worker took it: a busy machine's wait for a worker does not count.
    # On the interactive lane's threads the limit is raised once the platform call under way returns:
    # within the limit and the check's read timeout (the lookup here hangs past it), not at the hard limit.
    assert (run.finished_at - run.started_at).total_seconds() < 1 + INTERACTIVE_TIMEOUT.read + 2
    assert (run.deadline - run.started_at).total_seconds() == pytest.approx(10 + 5, abs=0.5)


@pytest.fixture
def doomed_worker(celery_worker, monkeypatch):
    """A worker of its own, serving a queue of its own that check tasks are sent to: it can die for good."""
    import uuid

    from apps.checks import tasks
    from kitty_troubleshoot.celery import app
    from tests.conftest import celery_worker_spawn

    queue = f"doomed-{uuid.uuid4().hex[:8]}"
    name = f"tests-{queue}@localhost"
    process, log = celery_worker_spawn(queue, name, lane="interactive")
    try:
        wait_for(lambda: app.control.ping(destination=[name], timeout=0.5), timeout=60)
        send = tasks.run_checks.apply_async
        monkeypatch.setattr(
            tasks.run_checks, "apply_async", lambda *a, **k: send(*a, **{**k, "queue": queue})
        )
        yield process
    finally:
        process.kill()
        process.wait()
        log.close()
        app.control.purge()  # nothing of this test waits for a worker that will never come


def test_a_run_whose_worker_died_for_good_ends_couldnt_finish_within_the_hard_limit(
    slow_store, client, doomed_worker, settings
):
    page, plugin, lookups, asked, release = slow_store
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 2
    settings.CELERY_TASK_TIME_LIMIT = 3
    run = start_order_state_check(client, page, plugin)
    worker_asks_the_platform(asked, run)

    # The whole worker is gone (the machine's OOM killer, a lost host): nothing redelivers the task.
    for child in children_of(doomed_worker.pid):
        os.kill(child, signal.SIGKILL)
    os.kill(doomed_worker.pid, signal.SIGKILL)
    release.set()
    assert 'data-check-status="running"' in widget(client, run)

    def ended() -> str | None:
        html = widget(client, run)
        return html if 'data-check-status="unknown"' in html else None

    html = wait_for(ended, timeout=30)
    seen_at = timezone.now()
    assert "This check couldn" in html and "Try again" in html
    run.refresh_from_db()
    # Told within the run's deadline (its start, the hard limit and the grace) and one poll.
    assert run.deadline == run.started_at + timedelta(seconds=3 + 5)
    assert seen_at <= run.deadline + timedelta(seconds=3)
    assert (run.status, run.summary) == ("unknown", "This check couldn't finish.")
