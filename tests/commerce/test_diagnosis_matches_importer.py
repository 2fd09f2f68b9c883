"""The promise, tested on generated cases: the diagnosis says what the importer then does.

Each example stages an account and an order on the demo marketplace (Import
Orders on or off, 0-3 channels, Import Orders turned on a moment around the
order's placed time, a catalog with case variants and non-ASCII SKUs, a buyer
without e-mail, every platform status, a throttling platform, refused
credentials, a platform that does not answer, an order the platform does not
have or sends in a shape that cannot be read, a placed date typed by the
merchant), runs every step's check as "Check every step" does, then lets the
importer sync the plugin, as a scheduled sync or as Sync now. The diagnosis
must predict the import, and no step may pass whose rule kept the order out.
"""

from contextlib import nullcontext
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from apps.checks.base import CheckContext, Status
from apps.checks.models import CheckRun
from apps.checks.registry import get_check
from apps.checks.selectors.steps import StepWidget
from apps.checks.selectors.summary import summary_of
from apps.commerce.diagnostics import CHECK_OF_RULE
from apps.commerce.diagnostics.order_import import OrderImport
from apps.commerce.importing import plugin_sync
from apps.commerce.models import Order, Plugin, SyncRun
from apps.platforms.base import PlatformUnavailable
from apps.platforms.models import SandboxOrder, SandboxOrderStatus
from tests.factories import (
    ChannelFactory,
    MerchantFactory,
    PluginFactory,
    ProductFactory,
    SandboxOrderFactory,
    SandboxStoreFactory,
)

pytestmark = pytest.mark.django_db

# The article's steps, in order, by check: as its check set lists them.
STEPS = OrderImport.check_keys
STEP_OF_CHECK = {key: number for number, key in enumerate(STEPS, start=1)}
# What a SyncRun that stopped before fetching says, as the rule that stopped it.
OUTCOME_RULES = {
    SyncRun.Outcome.RATE_LIMITED: "not_rate_limited",
    SyncRun.Outcome.NOT_AUTHORIZED: "authorized",
}


def sometimes(fault, healthy, *, every: int = 4):
    """Mostly the healthy value, the fault about once in ``every``: cases near the edge of importing."""
    return st.sampled_from([healthy] * (every - 1) + [fault])


FAULTY_STATUSES = [s.value for s in SandboxOrderStatus if s != SandboxOrderStatus.PAID]
CATALOGS = [
    {"MUG-1", "TEE-2"},
    {"MUG-1"},  # TEE-2 missing
    {"Mug-1", "TEE-2"},  # MUG-1 only as a case variant
    {"MUG-1", "Mug-1", "TEE-2"},
    {"MUG-1", "TEE-2", "TASSE-É", "杯-3"},
    set(),
]
GOOD_SKUS = st.lists(st.sampled_from(["MUG-1", "TEE-2"]), min_size=1, max_size=3)
ANY_SKUS = st.lists(
    st.sampled_from(["MUG-1", "TEE-2", "mug-1", " TEE-2", "", "TASSE-É", "tasse-é", "TASSE-E", "杯-3"]),
    max_size=3,
)

cases = st.fixed_dictionaries(
    {
        "import_orders": sometimes(False, True, every=8),
        "channels": sometimes(st.sampled_from([0, 2, 3]), st.just(1), every=6).flatmap(lambda s: s),
        # Import Orders turned on this many seconds after the order was placed (None: never).
        "enabled_offset": st.sampled_from([-2, -1, 0] * 3 + [1, 2, None]),
        "catalog": st.sampled_from(CATALOGS[:1] * 8 + CATALOGS[1:]),
        "skus": sometimes(ANY_SKUS, GOOD_SKUS).flatmap(lambda s: s),
        "email": sometimes(st.sampled_from(["", "not-an-address"]), st.just("buyer@example.com")).flatmap(
            lambda s: s
        ),
        "status": sometimes(st.sampled_from(FAULTY_STATUSES), st.just("paid")).flatmap(lambda s: s),
        "platform_throttles": sometimes(True, False, every=6),
        "throttle_recorded": sometimes(True, False, every=6),
        "rejects_credentials": sometimes(True, False, every=6),
        "platform_down": sometimes(True, False, every=10),
        "on_platform": sometimes(False, True, every=10),
        "unreadable": sometimes(True, False, every=10),
        # The placed date the merchant typed, this many days from the real one (None: not typed).
        "typed_day": sometimes(st.sampled_from([-1, 0, 1]), st.none(), every=5).flatmap(lambda s: s),
        "sync_now": st.booleans(),
    }
)


def stage(case: dict, number: str) -> Plugin:
    merchant = MerchantFactory()
    store = SandboxStoreFactory(
        reject_credentials=case["rejects_credentials"],
        throttled_until=timezone.now() + timedelta(hours=1) if case["platform_throttles"] else None,
    )
    placed_at = timezone.now() - timedelta(days=1)
    channels = [ChannelFactory(merchant=merchant) for _ in range(case["channels"])]
    plugin = PluginFactory(merchant=merchant, store=store, channels=channels)
    offset = case["enabled_offset"]
    Plugin.objects.filter(pk=plugin.pk).update(
        import_orders=case["import_orders"],
        import_orders_enabled_at=None if offset is None else placed_at + timedelta(seconds=offset),
        rate_limited_until=timezone.now() + timedelta(hours=1) if case["throttle_recorded"] else None,
    )
    for code in case["catalog"]:
        ProductFactory(merchant=merchant, code=code)
    order = SandboxOrderFactory(
        store=store,
        # An order the platform does not have: the merchant's number names nothing there.
        number=number if case["on_platform"] else f"{number}-other",
        placed_at=placed_at,
        status=case["status"],
        email=case["email"],
        lines=[{"sku": sku, "quantity": 1, "title": "Item"} for sku in case["skus"]],
    )
    if case["unreadable"]:
        # What a platform sends now and then: a field in a shape no client can read.
        SandboxOrder.objects.filter(pk=order.pk).update(lines=[{"sku": "MUG-1", "quantity": "several"}])
    return Plugin.objects.get(pk=plugin.pk)


def platform_down(down: bool):
    """The demo marketplace not answering at all, as a platform timing out does."""
    if not down:
        return nullcontext()
    return mock.patch(
        "apps.platforms.sandbox.SandboxClient._authorized_store",
        side_effect=PlatformUnavailable("The demo marketplace did not answer in time."),
    )


def diagnose(plugin: Plugin, number: str, placed_date=None) -> list[StepWidget]:
    """Every step's check in one task, as "Check every step" runs them."""
    ctx = CheckContext(
        merchant_id=plugin.merchant_id,
        user_id=None,
        subject_id=plugin.pk,
        inputs={"order_number": number, "placed_date": placed_date},
    )
    widgets = []
    for step, key in enumerate(STEPS, start=1):
        outcome = get_check(key)().run(ctx)
        run = CheckRun(
            step_number=step,
            check_key=key,
            status=outcome.status.value,
            summary=outcome.summary,
            data=outcome.data,
            fixes_offered=[f.as_dict() for f in outcome.fixes],
        )
        widgets.append(StepWidget(str(step), step, key, "", run=run))
    return widgets


def importer_reason(run: SyncRun | None, plugin: Plugin, number: str, case: dict) -> str | None:
    """The rule that kept the order out, as the importer recorded it (None: the platform did not answer)."""
    if run is None or run.outcome == SyncRun.Outcome.FAILED:
        return None
    if run.outcome in OUTCOME_RULES:
        return OUTCOME_RULES[run.outcome]
    if run.outcome == SyncRun.Outcome.BLOCKED:
        return "import_orders_on" if not plugin.import_orders else "exactly_one_channel"
    if number in run.blocked_orders:
        return run.blocked_orders[number][0]["rule"]
    if not case["on_platform"]:
        return "order_found"
    if case["unreadable"]:
        # Not listed (placed before the window), but unreadable whenever it is: its placed date too.
        return "order_readable"
    # Not listed at all: the listing starts when Import Orders was turned on.
    return "placed_after_import_enabled"


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases, serial=st.integers(min_value=10_000, max_value=99_999))
def test_the_diagnosis_predicts_what_the_importer_does(case, serial):
    number = str(serial)
    plugin = stage(case, number)
    typed = None
    if case["typed_day"] is not None:
        typed = timezone.localdate() - timedelta(days=1 - case["typed_day"])

    with platform_down(case["platform_down"]):
        widgets = diagnose(plugin, number, typed)
        summary = summary_of(widgets, reference=number)
        status = {w.step_number: w.run.status for w in widgets}
        would_import = all(status[step] == Status.PASSED for step in range(1, 7))

        plugin = Plugin.objects.get(pk=plugin.pk)
        try:
            if case["sync_now"]:  # what the Sync now fix runs
                run = plugin_sync(plugin=plugin, mode=SyncRun.Mode.MANUAL, order_numbers=(number,))
            else:
                run = plugin_sync(plugin=plugin, mode=SyncRun.Mode.SCHEDULED)
        except PlatformUnavailable:
            run = None
    imported = Order.objects.filter(plugin=plugin, number=number).exists()
    reason = importer_reason(run, plugin, number, case)
    event("imported" if imported else f"kept out by {reason or 'a platform that did not answer'}")

    assert would_import == imported, (case, status, run and run.outcome, run and run.message)
    if imported:
        assert summary.state == "cause" and summary.cause.step_number == 7
        offered = [f["key"] for f in widgets[6].run.fixes_offered]
        assert offered == ["sync_now"]
        return
    # Sync now is not offered as something that works: absent, or disabled saying when it will.
    assert all(f["unavailable"] for f in widgets[6].run.fixes_offered if f["key"] == "sync_now")
    if reason is None:
        # Nothing answered: the diagnosis says it is incomplete, unless what the account or the
        # merchant's typed date alone show already keeps the order out.
        if summary.state == "cause":
            assert summary.cause.step_number in (1, 2, 3), (case, status, summary.as_text())
        else:
            assert summary.state == "incomplete", (case, status, summary.as_text())
        return
    blocking_step = STEP_OF_CHECK[CHECK_OF_RULE[reason]]
    # No step passes whose rule kept the order out, and the summary names a failing step first.
    assert status[blocking_step] == Status.FAILED, (case, status, reason)
    assert summary.first_failing is not None and summary.first_failing.step_number <= blocking_step
