"""The one rule set: every predicate, passing and failing, with what it tells a merchant."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.commerce.importing import (
    rule_authorized,
    rule_buyer_complete,
    rule_exactly_one_channel,
    rule_import_orders_on,
    rule_importable_state,
    rule_not_rate_limited,
    rule_placed_after_import_enabled,
    rule_skus_in_catalog,
)
from apps.commerce.models import Plugin
from apps.platforms.base import STATE_REASONS, Buyer, OrderState, SourceOrder, SourceOrderLine
from tests.factories import ChannelFactory, PluginFactory, store_of

pytestmark = pytest.mark.django_db

ENABLED_AT = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def source_order(**overrides) -> SourceOrder:
    fields = {
        "id": "o-1",
        "number": "1001",
        "placed_at": ENABLED_AT + timedelta(days=1),
        "state": OrderState.IMPORTABLE,
        "platform_status": "paid",
        "lines": (SourceOrderLine(sku="MUG-1", quantity=1),),
        "buyer": Buyer(email="ada@example.com", first_name="Ada", last_name="L"),
    }
    fields.update(overrides)
    return SourceOrder(**fields)


@pytest.fixture
def plugin():
    return PluginFactory(name="Shopify – Main store", import_orders_enabled_at=ENABLED_AT)


def test_import_orders_off_fails_naming_the_plugin(plugin):
    plugin.import_orders = False

    result = rule_import_orders_on(plugin)

    assert not result.passed
    assert (
        result.message == "Import Orders is off on “Shopify – Main store”, so no orders from it are imported."
    )


def test_import_orders_on_passes(plugin):
    assert rule_import_orders_on(plugin).passed


def test_one_channel_passes_and_names_it(plugin):
    channel = plugin.channels.get()

    result = rule_exactly_one_channel(plugin)

    assert result.passed
    assert channel.name in result.message


def test_two_channels_fail_naming_both(plugin):
    plugin.channels.set([ChannelFactory(merchant=plugin.merchant, name=n) for n in ("Web", "Wholesale")])

    result = rule_exactly_one_channel(plugin)

    assert not result.passed
    assert result.evidence["channels"] == ["Web", "Wholesale"]
    assert "on 2 channels (Web, Wholesale)" in result.message
    assert result.notification_kind == "channel_conflict"


def test_no_channel_fails(plugin):
    plugin.channels.clear()

    result = rule_exactly_one_channel(plugin)

    assert not result.passed
    assert "on no channel" in result.message


def test_authorized_asks_the_platform(plugin):
    assert rule_authorized(plugin, plugin.client()).passed


def test_revoked_token_fails_authorization(plugin):
    store_of(plugin).rotate_token()

    result = rule_authorized(plugin, plugin.client())

    assert not result.passed
    assert "no longer accepts" in result.message
    assert plugin.credentials["access_token"] not in result.message


def test_rate_limited_until_the_future_fails_and_says_until_when(plugin):
    now = timezone.now()
    plugin.rate_limited_until = now + timedelta(minutes=15)

    result = rule_not_rate_limited(plugin, now)

    assert not result.passed
    assert result.evidence["seconds_left"] == 900
    assert "throttling “Shopify – Main store” until" in result.message


def test_rate_limit_in_the_past_passes(plugin):
    plugin.rate_limited_until = timezone.now() - timedelta(seconds=1)

    assert rule_not_rate_limited(plugin).passed


def test_order_placed_before_import_was_turned_on_fails(plugin):
    order = source_order(placed_at=ENABLED_AT - timedelta(days=3))

    result = rule_placed_after_import_enabled(plugin, number=order.number, placed_at=order.placed_at)

    assert not result.passed
    assert "before Import Orders was turned on" in result.message
    assert result.evidence["import_enabled_at"] == ENABLED_AT.isoformat()


def test_order_placed_after_import_was_turned_on_passes(plugin):
    assert rule_placed_after_import_enabled(plugin, number="1001", placed_at=source_order().placed_at).passed


def test_backfill_admits_older_orders_from_its_start(plugin):
    order = source_order(placed_at=ENABLED_AT - timedelta(days=3))

    assert rule_placed_after_import_enabled(
        plugin, number="1", placed_at=order.placed_at, backfill_since=ENABLED_AT - timedelta(days=10)
    ).passed
    assert not rule_placed_after_import_enabled(
        plugin, number="1", placed_at=order.placed_at, backfill_since=ENABLED_AT - timedelta(days=1)
    ).passed


def test_plugin_never_switched_on_admits_no_order(plugin):
    plugin.import_orders_enabled_at = None

    assert not rule_placed_after_import_enabled(
        plugin, number="1001", placed_at=source_order().placed_at
    ).passed


@pytest.mark.parametrize(
    "state,word",
    [
        (OrderState.PENDING_PAYMENT, "pending"),
        (OrderState.ON_HOLD, "on-hold"),
        (OrderState.CHECKOUT, "checkout-draft"),
        (OrderState.CANCELLED, "cancelled"),
    ],
)
def test_order_not_paid_and_confirmed_fails_with_the_platform_word(state, word):
    result = rule_importable_state(source_order(state=state, platform_status=word))

    assert not result.passed
    assert f"“{word}”" in result.message
    assert STATE_REASONS[state] in result.message


def test_an_order_that_will_never_import_is_not_told_to_wait():
    result = rule_importable_state(source_order(state=OrderState.REFUNDED, platform_status="refunded"))

    assert result.message == (
        "Order #1001 will not import: it was refunded in full (“refunded”). "
        "If it is still wanted, create it by hand in Commerce Kitty."
    )
    assert result.evidence["outcome"] == "never"


def test_an_order_that_may_still_import_says_what_it_waits_for():
    result = rule_importable_state(source_order(state=OrderState.PENDING_PAYMENT, platform_status="pending"))

    assert result.message == (
        "Order #1001 is not ready to import yet (“pending”): it is waiting for the buyer's payment, "
        "and imports with the first sync after that."
    )
    assert result.evidence["outcome"] == "not_yet"


def test_paid_order_passes_state():
    assert rule_importable_state(source_order()).passed


def test_missing_skus_are_listed():
    order = source_order(
        lines=(SourceOrderLine("MUG-1"), SourceOrderLine("MUG-RED-404"), SourceOrderLine(""))
    )

    result = rule_skus_in_catalog(order, {"MUG-1"})

    assert not result.passed
    assert result.evidence["missing_skus"] == ["(no SKU)", "MUG-RED-404"]
    assert result.notification_kind == "missing_product"


def test_skus_are_matched_exactly():
    order = source_order(lines=(SourceOrderLine("mug_blue_1"),))

    assert not rule_skus_in_catalog(order, {"MUG-BLUE-001"}).passed
    assert rule_skus_in_catalog(source_order(), {"MUG-1"}).passed


def test_buyer_without_email_or_name_fails_naming_the_fields():
    result = rule_buyer_complete(source_order(buyer=Buyer(email="", first_name="", last_name="")))

    assert not result.passed
    assert result.evidence["empty_fields"] == ["email", "name"]
    assert result.notification_kind == "missing_customer_fields"


def test_complete_buyer_passes():
    assert rule_buyer_complete(source_order()).passed


def test_a_buyer_the_platform_does_not_share_does_not_block_the_import():
    withheld = source_order(buyer=Buyer(email="", city="Berlin", country="DE"), buyer_contact_shared=False)

    result = rule_buyer_complete(withheld)

    assert result.passed
    assert "does not share the buyer's e-mail or name" in result.message


def test_a_platform_that_shares_the_buyer_still_needs_an_email():
    result = rule_buyer_complete(source_order(buyer=Buyer(email="", first_name="Ada")))

    assert result.failed
    assert result.evidence["empty_fields"] == ["email"]


def test_turning_import_orders_on_records_when(plugin):
    plugin.import_orders = False
    plugin.save()
    before = timezone.now()

    plugin.import_orders = True
    plugin.save()

    plugin.refresh_from_db()
    assert plugin.import_orders_enabled_at >= before
    # Saving again while on does not move the date.
    first = plugin.import_orders_enabled_at
    Plugin.objects.get(pk=plugin.pk).save()
    plugin.refresh_from_db()
    assert plugin.import_orders_enabled_at == first
