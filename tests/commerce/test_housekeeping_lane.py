"""Housekeeping never waits behind bulk work: the sweep ends abandoned syncs while syncs fill bulk."""

import contextlib
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


@pytest.fixture
def doomed_bulk(celery_worker):
    """A bulk worker of its own (queue of its own) that the test kills, and a housekeeping worker
    of its own whose syncs' hard limit is 4 s, so the sweep's cutoff comes within the test."""
    import uuid

    from kitty_troubleshoot.celery import app
    from tests.conftest import celery_worker_spawn

    if celery_worker is None:
        service_missing("this needs real Celery workers (set CELERY_BROKER_URL and DATABASE_URL)")
    tag = uuid.uuid4().hex[:8]
    queues = {"bulk": f"doomed-bulk-{tag}", "housekeeping": f"sweeps-{tag}"}
    started = {
        "bulk": celery_worker_spawn(queues["bulk"], f"tests-{queues['bulk']}@localhost", lane="bulk"),
        "housekeeping": celery_worker_spawn(
            queues["housekeeping"],
            f"tests-{queues['housekeeping']}@localhost",
            lane="interactive",
            SYNC_TASK_SOFT_TIME_LIMIT="3",
            SYNC_TASK_TIME_LIMIT="4",
        ),
    }
    try:
        for queue in queues.values():
            wait_for(
                lambda queue=queue: app.control.ping(destination=[f"tests-{queue}@localhost"], timeout=0.5),
                timeout=60,
            )
        yield queues, started["bulk"][0]
    finally:
        for process, log in started.values():
            process.kill()
            process.wait()
            log.close()
        with app.connection_for_write() as connection:  # what the killed worker left queued
            for queue in queues.values():
                connection.default_channel.queue_purge(queue)


def test_syncs_of_a_killed_bulk_worker_are_ended_within_the_hard_limit_while_bulk_is_saturated(
    doomed_bulk, slow_store
):
    import os
    import signal
    import time

    queues, bulk_worker = doomed_bulk
    merchant = MerchantFactory()
    plugins = [
        PluginFactory(merchant=merchant, platform="shopify", credentials=slow_store.credentials())
        for _ in range(30)
    ]
    for plugin in plugins:
        sync_plugin.apply_async((plugin.pk, SyncRun.Mode.SCHEDULED), queue=queues["bulk"])
    running = SyncRun.objects.filter(plugin__in=plugins, outcome=SyncRun.Outcome.RUNNING)
    wait_for(lambda: running.count() == settings.BULK_WORKER_PROCESSES, timeout=60)  # full; 28 wait

    # The whole bulk worker is lost (OOM killer, a host gone): nothing will end its syncs but the sweep.
    for pid in _children(bulk_worker.pid) + [bulk_worker.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    abandoned = list(running.values_list("pk", flat=True))

    def all_ended() -> bool:
        # As beat sends the sweep (with its schedule's expiry), once a second instead of once a minute.
        end_abandoned_syncs.apply_async(
            queue=queues["housekeeping"], **settings.CELERY_BEAT_SCHEDULE["end-abandoned-syncs"]["options"]
        )
        time.sleep(1)
        return not SyncRun.objects.filter(pk__in=abandoned, outcome=SyncRun.Outcome.RUNNING).exists()

    wait_for(all_ended, timeout=60)
    for run in SyncRun.objects.filter(pk__in=abandoned):
        assert run.outcome == SyncRun.Outcome.FAILED
        # Within the hard limit, the grace, and one (test) sweep period with a margin for a busy machine.
        assert run.finished_at - run.started_at <= timedelta(seconds=4) + SYNC_RUN_GRACE + timedelta(
            seconds=4
        )


def _children(pid: int) -> list[int]:
    from pathlib import Path

    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found
