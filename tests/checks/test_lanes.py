"""A slow store costs its own merchants a bounded wait and nobody else anything.

Checks run on threads, one step's on the clicks lane and whole diagnoses on the interactive
lane (README, "Running workers"): checks hanging on a store that answers after 8 s hold threads
of their own, and Sync now queues its sync where syncs run, so another merchant's click on a
healthy store is answered at once.
"""

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.steps import every_step_targets, step_targets
from apps.checks.services.fixes import check_fix_request
from apps.checks.services.starting import check_runs_start
from apps.commerce.models import Plugin, SyncRun
from tests.checks.test_worker_flow import step_one_click
from tests.conftest import service_missing, wait_for
from tests.factories import MembershipFactory, MerchantFactory, PluginFactory, order_inputs
from tests.slow_store import SlowShopifyStore, days_ago


@pytest.fixture(autouse=True)
def _real_workers(celery_worker):
    if celery_worker is None:
        service_missing("this needs real Celery workers (set CELERY_BROKER_URL and DATABASE_URL)")


@pytest.fixture
def eight_second_store():
    store = SlowShopifyStore(count=30, first_placed_at=days_ago(2), page_seconds=8)
    yield store
    store.stop()


def _diagnosis(page, plugin, user, number: str) -> Diagnosis:
    return Diagnosis.objects.create(
        merchant_id=plugin.merchant_id,
        user=user,
        page_id=page.pk,
        subject_id=plugin.pk,
        subject_label=plugin.name,
        **order_inputs(number),
    )


def test_a_healthy_stores_click_is_answered_in_under_1_s_while_a_slow_store_hangs_checks_and_syncs(
    client, live_demo, eight_second_store, bulk_worker_process
):
    main_store = Plugin.objects.get(name__contains="Main store")

    def click() -> tuple[str, float]:
        return step_one_click(client, live_demo, main_store)

    _, before = click()  # the same click before the slow store's load (templates compiled, connections open)
    other = MerchantFactory()
    owner = MembershipFactory(merchant=other, role="owner").user
    slow = PluginFactory(merchant=other, platform="shopify", credentials=eight_second_store.credentials())
    *_, step_7 = step_targets(live_demo)

    # Eight merchants' "Check every step" on the slow store: each waits on its order lookup.
    for n in range(8):
        check_runs_start(
            diagnosis=_diagnosis(live_demo, slow, owner, f"{1001 + n}"),
            user=owner,
            targets=every_step_targets(live_demo, f"{1001 + n}"),
            count_towards_limit=False,
        )
    # Four merchants press Sync now on plugins of the same slow store, from Step 7 results offering it.
    pressed = []
    for n in range(4):
        merchant = MerchantFactory()
        presser = MembershipFactory(merchant=merchant, role="owner").user
        plugin = PluginFactory(
            merchant=merchant, platform="shopify", credentials=eight_second_store.credentials()
        )
        pressed.append(plugin)
        offered = CheckRun.objects.create(
            diagnosis=_diagnosis(live_demo, plugin, presser, f"{1101 + n}"),
            merchant_id=merchant.pk,
            user=presser,
            check_key=step_7.check_key,
            block_id=step_7.block_id,
            step_number=step_7.step_number,
            status=CheckRun.State.FAILED,
            deadline=timezone.now(),
            fixes_offered=[{"key": "sync_now", "label": "Sync now"}],
        )
        check_fix_request(run=offered, user=presser, fix_key="sync_now")
    # Everything above is under way: checks waiting on the store, syncs fetching from it.
    waiting = CheckRun.objects.filter(diagnosis__subject_id=slow.pk, status=CheckRun.State.RUNNING)
    syncing = SyncRun.objects.filter(plugin__in=pressed, outcome="running")
    wait_for(lambda: waiting.count() >= 8, timeout=20)
    wait_for(lambda: syncing.count() == 2, timeout=20)  # the bulk worker's two processes
    assert eight_second_store.pages_served == 0  # nothing has been answered yet

    final, elapsed = click()

    assert 'data-check-status="passed"' in final
    run = CheckRun.objects.filter(diagnosis__subject_id=main_store.pk).latest("queued_at")
    waited = (run.started_at - run.queued_at).total_seconds()
    assert elapsed < 1.0, f"the click took {elapsed:.2f} s ({before:.2f} s before; {waited:.2f} s queued)"
    assert waiting.count() >= 1, "the slow store's checks should still be waiting"
    # No sync ran on a checks lane: every sync of the slow store is the bulk worker's.
    fixes = CheckRun.objects.filter(
        diagnosis__subject_id__in=[p.pk for p in pressed], fix_requested__key="sync_now"
    )
    wait_for(lambda: fixes.filter(status=CheckRun.State.FAILED).count() == 4, timeout=30)
    for run in fixes:
        assert "queued" in run.fixes_applied[0]["result"]
    eight_second_store.release()
    # Each press's step follows its sync: checked again once it has run.
    wait_for(
        lambda: SyncRun.objects.filter(plugin__in=pressed).exclude(outcome="running").count() == 4, timeout=60
    )

    # The sync's row ends before it queues the step's re-check: wait for the re-check itself.
    def latest_step(plugin):
        return CheckRun.objects.filter(diagnosis__subject_id=plugin.pk, check_key="manual_sync").latest(
            "queued_at"
        )

    def all_checked_again() -> bool:
        return all(
            not (run := latest_step(plugin)).in_flight
            and run.fixes_applied
            and run.fixes_applied[0]["result"].startswith("Synced")
            for plugin in pressed
        )

    wait_for(all_checked_again, timeout=60, interval=0.2)
    for plugin in pressed:
        latest = latest_step(plugin)
        assert latest.fixes_applied[0]["result"].startswith(f"Synced “{plugin.name}”")
        assert "queued" not in latest.summary
