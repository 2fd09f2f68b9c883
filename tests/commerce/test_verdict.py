"""import_verdict: every rule judged on one order as the platform reports it, passed, failed or unknown."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.commerce.importing import NOT_FETCHED, AccountState, import_verdict
from apps.commerce.importing import rules as r
from apps.platforms.base import (
    Buyer,
    NotAuthorized,
    OrderState,
    PlatformUnavailable,
    RateLimited,
    SourceOrder,
    SourceOrderLine,
    UnreadableOrder,
)
from tests.factories import ChannelFactory, PluginFactory, ProductFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ENABLED_AT = NOW - timedelta(days=10)
AUTHORIZED = r.RuleResult(r.AUTHORIZED, r.RuleStatus.PASSED, "The platform accepts it.")


def order(**overrides) -> SourceOrder:
    fields = {
        "id": "o-1",
        "number": "1001",
        "placed_at": NOW - timedelta(days=1),
        "state": OrderState.IMPORTABLE,
        "platform_status": "paid",
        "lines": (SourceOrderLine(sku="MUG-RED-404", quantity=1),),
        "buyer": Buyer(email="ada@example.com", first_name="Ada", last_name="L"),
    }
    fields.update(overrides)
    return SourceOrder(**fields)


@pytest.fixture
def plugin():
    plugin = PluginFactory(name="Main store", import_orders_enabled_at=ENABLED_AT)
    ProductFactory(merchant=plugin.merchant, code="MUG-RED-404")
    return plugin


DEFAULT = object()


def verdict_of(plugin, source=DEFAULT, **kwargs):
    source = order() if source is DEFAULT else source
    state = AccountState.for_order(plugin, None if source is NOT_FETCHED else source, now=NOW)
    kwargs.setdefault("authorization", AUTHORIZED)
    return import_verdict(plugin, source, state, **kwargs)


def statuses(verdict) -> dict[str, str]:
    return {result.rule: result.status.value for result in verdict.results}


def test_a_paid_order_with_known_skus_and_a_buyer_would_import(plugin):
    verdict = verdict_of(plugin)

    assert verdict.would_import
    assert set(statuses(verdict).values()) == {"passed"}
    assert [res.rule for res in verdict.results] == [*r.PLUGIN_RULES, *r.ORDER_RULES]


def test_every_blocking_rule_is_named_not_only_the_first(plugin):
    plugin.import_orders = False
    source = order(
        state=OrderState.PENDING_PAYMENT,
        platform_status="awaiting payment",
        lines=(SourceOrderLine(sku="NOPE-1", quantity=1),),
        buyer=Buyer(email="", first_name="Ada"),
    )

    verdict = verdict_of(plugin, source)

    assert not verdict.would_import
    assert [b.rule for b in verdict.blockers] == [
        r.IMPORT_ORDERS_ON,
        r.IMPORTABLE_STATE,
        r.SKUS_IN_CATALOG,
        r.BUYER_COMPLETE,
    ]
    assert verdict.result(r.SKUS_IN_CATALOG).message == (
        "Order #1001 has SKU NOPE-1 that your catalog does not have."
    )
    assert verdict.result(r.BUYER_COMPLETE).evidence == {"empty_fields": ["email"]}


def test_an_order_whose_platform_withholds_the_buyer_would_import(plugin):
    withheld = order(buyer=Buyer(city="Berlin", country="DE"), buyer_contact_shared=False)
    shared_but_empty = order(buyer=Buyer(city="Berlin", country="DE"))

    assert verdict_of(plugin, withheld).would_import
    assert [b.rule for b in verdict_of(plugin, shared_but_empty).blockers] == [r.BUYER_COMPLETE]


def test_a_plugin_on_two_channels_or_none_blocks(plugin):
    ChannelFactory(merchant=plugin.merchant, name="Wholesale")
    plugin.channels.add(*plugin.merchant.channels.all())

    two = verdict_of(plugin).result(r.EXACTLY_ONE_CHANNEL)
    plugin.channels.clear()
    none = verdict_of(plugin).result(r.EXACTLY_ONE_CHANNEL)

    assert two.failed and "is on 2 channels" in two.message
    assert none.failed and none.message == "“Main store” is on no channel, so its orders have nowhere to go."


def test_an_order_placed_a_second_before_import_orders_was_turned_on_is_blocked(plugin):
    before = verdict_of(plugin, order(placed_at=ENABLED_AT - timedelta(seconds=1)))
    at = verdict_of(plugin, order(placed_at=ENABLED_AT))

    assert [b.rule for b in before.blockers] == [r.PLACED_AFTER_IMPORT_ENABLED]
    assert at.would_import


def test_an_order_inside_a_backfill_passes_the_age_rule(plugin):
    source = order(placed_at=ENABLED_AT - timedelta(days=3))

    verdict = verdict_of(plugin, source, backfill_since=ENABLED_AT - timedelta(days=4))

    assert verdict.would_import


def test_a_sku_that_differs_only_in_letter_case_is_missing_with_a_did_you_mean(plugin):
    source = order(lines=(SourceOrderLine(sku="mug-red-404 ", quantity=1),))

    result = verdict_of(plugin, source).result(r.SKUS_IN_CATALOG)

    assert result.failed
    assert "“mug-red-404 ” is not “MUG-RED-404”" in result.message
    assert result.evidence["near_matches"] == {"mug-red-404 ": "MUG-RED-404"}


def test_an_order_without_lines_is_blocked(plugin):
    result = verdict_of(plugin, order(lines=())).result(r.SKUS_IN_CATALOG)

    assert result.failed and result.message == "Order #1001 has no lines to import."


def test_a_throttle_met_during_the_diagnosis_blocks_and_leaves_the_order_unjudged(plugin):
    verdict = verdict_of(
        plugin, NOT_FETCHED, number="1001", authorization=None, error=RateLimited("slow", retry_after=600)
    )

    rate = verdict.result(r.NOT_RATE_LIMITED)
    assert rate.failed and "(about 10 minutes from now)" in rate.message
    assert statuses(verdict)[r.AUTHORIZED] == "unknown"
    for rule in r.ORDER_RULES:
        assert statuses(verdict)[rule] == "unknown", rule
    assert "the platform is throttling the plugin" in verdict.result(r.ORDER_FOUND).message


def test_a_throttle_recorded_on_the_plugin_blocks_without_asking(plugin):
    plugin.rate_limited_until = NOW + timedelta(hours=24)

    rate = verdict_of(plugin).result(r.NOT_RATE_LIMITED)

    assert rate.failed and "(about 24 hours from now)" in rate.message


def test_refused_credentials_block_on_authorization(plugin):
    verdict = verdict_of(
        plugin, NOT_FETCHED, number="1001", authorization=None, error=NotAuthorized("revoked")
    )

    assert [b.rule for b in verdict.blockers] == [r.AUTHORIZED]
    assert "revoked" in verdict.result(r.AUTHORIZED).message
    assert statuses(verdict)[r.NOT_RATE_LIMITED] == "passed"


def test_a_platform_that_does_not_answer_leaves_every_platform_rule_unknown(plugin):
    verdict = verdict_of(
        plugin, NOT_FETCHED, number="1001", authorization=None, error=PlatformUnavailable("timed out")
    )

    assert not verdict.blockers
    assert not verdict.would_import
    assert {res.rule for res in verdict.unknowns} == {r.NOT_RATE_LIMITED, r.AUTHORIZED, *r.ORDER_RULES}
    assert statuses(verdict)[r.IMPORT_ORDERS_ON] == "passed"


def test_an_order_the_platform_does_not_have_is_blocked_at_order_found(plugin):
    verdict = verdict_of(plugin, None, number="9999")

    assert [b.rule for b in verdict.blockers] == [r.ORDER_FOUND]
    assert verdict.result(r.ORDER_FOUND).message == "The platform has no order #9999 for “Main store”."


def test_a_typed_day_before_import_orders_was_turned_on_fails_the_age_rule(plugin):
    typed = (ENABLED_AT - timedelta(days=2)).date()

    verdict = verdict_of(plugin, None, number="9999", placed_on_typed=typed)

    result = verdict.result(r.PLACED_AFTER_IMPORT_ENABLED)
    assert result.failed
    assert "the date you typed" in result.message and "before Import Orders was turned on" in result.message


def test_a_typed_day_after_import_orders_was_turned_on_passes_the_age_rule(plugin):
    verdict = verdict_of(plugin, None, number="9999", placed_on_typed=(ENABLED_AT + timedelta(days=1)).date())

    assert verdict.result(r.PLACED_AFTER_IMPORT_ENABLED).passed


def test_a_typed_day_on_which_import_orders_was_turned_on_cannot_be_judged(plugin):
    # Turned on at noon: an order of that day may be from the morning or the afternoon.
    verdict = verdict_of(plugin, None, number="9999", placed_on_typed=ENABLED_AT.date())

    result = verdict.result(r.PLACED_AFTER_IMPORT_ENABLED)
    assert result.unknown
    assert "depends on the time of day" in result.message


def test_a_typed_day_is_judged_as_a_whole_day_against_a_backfill(plugin):
    since = datetime.combine(ENABLED_AT.date(), datetime.min.time(), tzinfo=UTC)

    same_day = verdict_of(plugin, None, number="9999", placed_on_typed=since.date(), backfill_since=since)
    day_before = verdict_of(
        plugin, None, number="9999", placed_on_typed=(since - timedelta(days=1)).date(), backfill_since=since
    )

    assert same_day.result(r.PLACED_AFTER_IMPORT_ENABLED).passed
    assert day_before.result(r.PLACED_AFTER_IMPORT_ENABLED).failed


def test_rules_left_unjudged_by_an_order_the_platform_does_not_have_follow_from_that(plugin):
    verdict = verdict_of(plugin, None, number="9999")

    unknown = verdict.unknowns
    assert unknown and all(u.evidence.get(r.FOLLOWS_FROM) == r.ORDER_FOUND for u in unknown)


def test_an_unreadable_order_is_blocked_at_order_readable(plugin):
    verdict = verdict_of(
        plugin, UnreadableOrder(id="o-9", number="1099", reason="its placed date is missing.")
    )

    assert [b.rule for b in verdict.blockers] == [r.ORDER_READABLE]
    assert verdict.result(r.ORDER_READABLE).notification_kind == "unreadable_order"


def test_the_diagnosis_reads_only_the_products_an_order_can_mean(plugin):
    ProductFactory(merchant=plugin.merchant, code="OTHER-1")
    source = order(lines=(SourceOrderLine(sku="mug-red-404", quantity=1),))

    state = AccountState.for_order(plugin, source, now=NOW)

    assert dict(state.catalog) == {"MUG-RED-404": state.catalog["MUG-RED-404"]}


@pytest.mark.parametrize("sku", ["café-1", "straße-1", "MUG\t"])
def test_a_sku_the_catalog_has_exactly_passes_whatever_its_letters(plugin, sku):
    # The diagnosis reads only the products an order can mean; the exact code is always among them.
    ProductFactory(merchant=plugin.merchant, code=sku)

    verdict = verdict_of(plugin, order(lines=(SourceOrderLine(sku=sku, quantity=1),)))

    assert verdict.would_import
