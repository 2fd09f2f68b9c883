"""How Commerce Kitty tells that two orders are one, judged on orders the importer really wrote."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commerce.importing import plugin_sync
from apps.commerce.importing.duplicates import (
    TwinKind,
    order_copies,
    rule_history_imported_once,
    rule_in_commerce_kitty_once,
    rule_not_created_by_hand,
    rule_platform_holds_one_order,
    rule_store_connected_once,
    store_connections,
    store_once_notes,
)
from apps.commerce.models import Channel, Customer, Order, OrderLine, Plugin, Product
from tests.factories import (
    MerchantFactory,
    PluginFactory,
    ProductFactory,
    SandboxOrderFactory,
    SandboxStoreFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant():
    merchant = MerchantFactory()
    for sku in ("MUG", "TEE"):
        ProductFactory(merchant=merchant, code=sku)
    return merchant


@pytest.fixture
def store():
    return SandboxStoreFactory(handle="market", name="Market stall")


def connect(merchant, store, name, *, days_ago=30) -> Plugin:
    return PluginFactory(
        merchant=merchant,
        store=store,
        name=name,
        import_orders_enabled_at=timezone.now() - timedelta(days=days_ago),
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def placed(store, number, *, days_ago=2.0, email="ines@example.com", skus=("MUG",)):
    return SandboxOrderFactory(
        store=store,
        number=number,
        placed_at=timezone.now() - timedelta(days=days_ago),
        email=email,
        lines=[{"sku": sku, "quantity": 1, "title": sku} for sku in skus],
    )


def sync(plugin, **kwargs):
    run = plugin_sync(plugin=plugin, mode="scheduled", **kwargs)
    assert run.outcome == "succeeded", run.message
    return run


def by_hand(merchant, number, *, email, skus=("MUG",), placed_days_ago=2.0, created_days_ago=1.0) -> Order:
    customer, _ = Customer.objects.get_or_create(merchant=merchant, email=email)
    order = Order.objects.create(
        merchant=merchant,
        plugin=None,
        channel=Channel.objects.filter(merchant=merchant).first(),
        customer=customer,
        source_order_id="",
        number=number,
        placed_at=timezone.now() - timedelta(days=placed_days_ago),
        imported_at=timezone.now() - timedelta(days=created_days_ago),
        total=Decimal("10.00"),
    )
    for sku in skus:
        OrderLine.objects.create(
            order=order, product=Product.objects.get(merchant=merchant, code=sku), sku=sku
        )
    return order


# --- One store, two connections -------------------------------------------------------------


def test_one_platform_order_through_two_plugins_of_one_store_is_one_order(merchant, store):
    first = connect(merchant, store, "Market stall")
    second = connect(merchant, store, "Market stall (reconnected)", days_ago=10)
    placed(store, "7001")
    sync(first)
    sync(second)

    copies = order_copies(merchant.pk, "7001", plugin_id=first.pk)
    verdict = rule_in_commerce_kitty_once(copies)

    assert [t.kind for t in copies.twins] == [TwinKind.SAME_PLATFORM_ORDER]
    assert verdict.failed
    assert verdict.message == "Order #7001 is in Commerce Kitty 2 times."


def test_store_connected_twice_fails_while_both_plugins_import_and_names_both(merchant, store):
    first = connect(merchant, store, "Market stall")
    second = connect(merchant, store, "Market stall (reconnected)", days_ago=10)
    placed(store, "7001")
    placed(store, "7002", days_ago=20)  # before the second connection: imported once
    sync(first)
    sync(second)

    result = rule_store_connected_once(first, store_connections(first))

    assert result.failed
    assert result.message == (
        "“Market stall” and “Market stall (reconnected)” both import orders from the same store: "
        "1 order came in through both, for example #7001."
    )
    assert rule_in_commerce_kitty_once(order_copies(merchant.pk, "7002", plugin_id=first.pk)).passed


def test_once_the_other_connection_stops_importing_the_store_rule_passes_and_says_what_came_in_before(
    merchant, store
):
    first = connect(merchant, store, "Market stall")
    second = connect(merchant, store, "Market stall (reconnected)", days_ago=10)
    placed(store, "7001")
    sync(first)
    sync(second)
    second.import_orders = False
    second.save()

    connections = store_connections(first)
    result = rule_store_connected_once(first, connections)

    assert result.passed
    assert result.message == "“Market stall” is the only plugin that imports orders from its store."
    assert store_once_notes(connections) == [
        "“Market stall (reconnected)” imported 1 order of the same (for example #7001), but Import Orders "
        "is off on it now."
    ]


def test_another_stores_order_with_the_same_number_is_not_a_copy(merchant, store):
    main = connect(merchant, store, "Market stall")
    other_store = SandboxStoreFactory(handle="outlet", name="Outlet")
    outlet = connect(merchant, other_store, "Outlet")
    placed(store, "1001", email="ada@example.com")
    placed(other_store, "1001", email="lin@example.com", skus=("TEE",))
    sync(main)
    sync(outlet)

    copies = order_copies(merchant.pk, "1001", plugin_id=main.pk)

    assert copies.twins == ()
    assert [c.plugin_name for c in copies.unrelated] == ["Outlet"]
    assert rule_in_commerce_kitty_once(copies).message.startswith("Order #1001 is in Commerce Kitty once:")
    assert rule_store_connected_once(main, store_connections(main)).passed


def test_platform_ids_that_repeat_across_stores_are_told_apart_by_number_and_placed_time(merchant):
    # WooCommerce and BigCommerce number their ids per store: two stores may both have an order 1234.
    plugins = [connect(merchant, SandboxStoreFactory(), name) for name in ("Site A", "Site B")]
    customer = Customer.objects.create(merchant=merchant, email="pat@example.com")
    for plugin, number, days in ((plugins[0], "1234", 3), (plugins[1], "WT1234", 1)):
        Order.objects.create(
            merchant=merchant,
            plugin=plugin,
            channel=plugin.channels.get(),
            customer=customer,
            source_order_id="1234",
            number=number,
            placed_at=timezone.now() - timedelta(days=days),
        )

    assert store_connections(plugins[0]) == []
    assert order_copies(merchant.pk, "1234", plugin_id=plugins[0].pk).twins == ()


# --- A plugin removed and added again ---------------------------------------------------------


def test_a_plugin_added_again_whose_backfill_imported_history_again_is_named_with_when(merchant, store):
    old = connect(merchant, store, "Craft fair (disconnected)", days_ago=60)
    placed(store, "8001", days_ago=50)
    sync(old)
    old.import_orders = False
    old.save()
    new = connect(merchant, store, "Craft fair", days_ago=3)
    placed(store, "8003", days_ago=1, email="mei@example.com", skus=("TEE",))
    plugin_sync(plugin=new, backfill_since=timezone.now() - timedelta(days=90))

    connections = store_connections(new)
    about_8001 = rule_history_imported_once(
        new, connections, order_copies(merchant.pk, "8001", plugin_id=new.pk)
    )
    about_8003 = rule_history_imported_once(
        new, connections, order_copies(merchant.pk, "8003", plugin_id=new.pk)
    )
    about_store = rule_history_imported_once(new, connections)

    assert about_8001.failed
    assert about_8001.message.startswith(
        "Order #8001 came in twice: “Craft fair (disconnected)” imported it "
    )
    assert "and “Craft fair”'s Sync historical orders imported it again " in about_8001.message
    assert about_8003.passed
    assert about_8003.message == "Order #8003 did not come in again through a Sync historical orders."
    assert about_store.failed
    assert about_store.message.endswith(
        "imported 1 order again that “Craft fair (disconnected)” had imported already, for example #8001."
    )
    assert rule_store_connected_once(new, connections).passed


def test_two_connections_that_imported_by_regular_syncs_are_not_history_imported_again(merchant, store):
    first = connect(merchant, store, "Market stall")
    second = connect(merchant, store, "Market stall (reconnected)", days_ago=10)
    placed(store, "7001")
    sync(first)
    sync(second)

    copies = order_copies(merchant.pk, "7001", plugin_id=first.pk)

    assert rule_history_imported_once(first, store_connections(first), copies).passed
    assert rule_history_imported_once(first, store_connections(first)).passed


# --- Created by hand --------------------------------------------------------------------------


def test_an_order_created_by_hand_and_then_imported_by_a_backfill_says_both_moments(merchant, store):
    plugin = connect(merchant, store, "Craft fair", days_ago=3)
    placed(store, "8002", days_ago=70, email="noor@example.com")
    made = by_hand(merchant, "8002", email="noor@example.com", placed_days_ago=70, created_days_ago=20)
    plugin_sync(plugin=plugin, backfill_since=timezone.now() - timedelta(days=90))

    copies = order_copies(merchant.pk, "8002", plugin_id=plugin.pk)
    result = rule_not_created_by_hand(copies)

    assert result.failed
    assert result.message.startswith("Order #8002 was created by hand ")
    assert (
        ", and Sync historical orders through “Craft fair” imported it from the platform " in result.message
    )
    assert result.evidence["by_hand"] == made.pk
    assert result.evidence["matched_on"] == "the order number and the buyer"


def test_an_order_created_by_hand_under_its_own_number_matches_on_buyer_and_items(merchant, store):
    plugin = connect(merchant, store, "Craft fair")
    placed(store, "8005", email="noor@example.com", skus=("MUG", "TEE"))
    by_hand(merchant, "M-17", email="noor@example.com", skus=("TEE", "MUG"), created_days_ago=3)
    sync(plugin)

    result = rule_not_created_by_hand(order_copies(merchant.pk, "8005", plugin_id=plugin.pk))

    assert result.failed
    assert result.evidence["matched_on"] == "the buyer and the items"


def test_an_order_created_by_hand_for_another_buyer_and_items_is_not_a_copy_even_under_the_same_number(
    merchant, store
):
    plugin = connect(merchant, store, "Craft fair")
    placed(store, "8006", email="noor@example.com")
    by_hand(merchant, "8006", email="someone-else@example.com", skus=("TEE",))
    sync(plugin)

    copies = order_copies(merchant.pk, "8006", plugin_id=plugin.pk)
    result = rule_not_created_by_hand(copies)

    assert [c.by_hand for c in copies.unrelated] == [True]
    assert result.passed
    assert result.message == "No order created by hand matches order #8006."


def test_imported_first_and_created_by_hand_afterwards_is_said_in_that_order(merchant, store):
    plugin = connect(merchant, store, "Craft fair")
    placed(store, "8007", email="noor@example.com")
    sync(plugin)
    by_hand(merchant, "8007", email="noor@example.com", created_days_ago=-0.01)  # a moment after the import

    result = rule_not_created_by_hand(order_copies(merchant.pk, "8007", plugin_id=plugin.pk))

    assert result.message.startswith("Order #8007 was imported through “Craft fair” ")
    assert ", and created by hand again " in result.message


# --- Two orders on the platform ---------------------------------------------------------------


def test_two_platform_orders_of_the_same_buyer_and_items_a_day_apart_are_two_orders_of_one_purchase(
    merchant, store
):
    plugin = connect(merchant, store, "Craft fair")
    placed(store, "8003", days_ago=4, email="mei@example.com", skus=("MUG", "TEE"))
    placed(store, "8004", days_ago=3, email="mei@example.com", skus=("MUG", "TEE"))
    sync(plugin)

    result = rule_platform_holds_one_order(order_copies(merchant.pk, "8004", plugin_id=plugin.pk))

    assert result.failed
    assert result.message == (
        "The platform holds two orders for the same buyer and items, placed 24 hours apart: #8003 and "
        "#8004. Each came in once, as an order of its own."
    )


def test_the_same_buyer_buying_again_weeks_later_is_not_a_copy(merchant, store):
    plugin = connect(merchant, store, "Craft fair", days_ago=60)
    placed(store, "8010", days_ago=40, email="mei@example.com")
    placed(store, "8011", days_ago=2, email="mei@example.com")
    sync(plugin)

    copies = order_copies(merchant.pk, "8011", plugin_id=plugin.pk)

    assert copies.twins == ()
    assert rule_platform_holds_one_order(copies).message == (
        "The platform holds order #8011 once, and no other order of the same buyer and items came in "
        "through “Craft fair” within 14 days of it."
    )


def test_the_platforms_word_that_an_order_replaces_another_decides_whatever_the_buyer(merchant, store):
    # Amazon shares no buyer e-mail: each order has a customer of its own, so only Amazon's word links them.
    plugin = connect(merchant, store, "Craft fair")
    original = placed(store, "8020", days_ago=5, email="a@example.com")
    replacement = placed(store, "8021", days_ago=1, email="b@example.com", skus=("TEE",))
    sync(plugin)

    without = order_copies(merchant.pk, "8021", plugin_id=plugin.pk)
    said = order_copies(
        merchant.pk, "8021", plugin_id=plugin.pk, replaces={str(replacement.pk): str(original.pk)}
    )

    assert without.twins == ()
    result = rule_platform_holds_one_order(said)
    assert result.failed
    assert result.message == (
        "The platform holds two orders: #8021 is a replacement for #8020, so each came in once, as an order "
        "of its own."
    )
