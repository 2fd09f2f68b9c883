"""The importer end to end on the demo marketplace."""

import json
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from werkzeug import Request, Response

from apps.commerce.importing import plugin_sync
from apps.commerce.models import Customer, Notification, Order, OrderLine, SyncRun
from apps.platforms.base import (
    Buyer,
    OrderState,
    PlatformUnavailable,
    SourceOrder,
    SourceOrderLine,
)
from apps.platforms.models import SandboxOrder, SandboxStore
from tests.factories import (
    ChannelFactory,
    PluginFactory,
    ProductFactory,
    SandboxOrderFactory,
    store_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plugin():
    plugin = PluginFactory()
    for sku in ("SKU-A", "SKU-B"):
        ProductFactory(merchant=plugin.merchant, code=sku)
    return plugin


def order_on(plugin, **kwargs):
    return SandboxOrderFactory(store=store_of(plugin), **kwargs)


def test_paid_orders_import_with_lines_customer_and_channel(plugin):
    order_on(
        plugin,
        number="1001",
        lines=[{"sku": "SKU-A", "quantity": 2, "title": "A"}, {"sku": "SKU-B", "quantity": 1}],
    )

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED
    assert (run.seen, run.imported, run.not_imported) == (1, 1, 0)
    order = Order.objects.get()
    assert order.number == "1001"
    assert order.channel == plugin.channels.get()
    assert [(line.sku, line.quantity) for line in order.lines.order_by("sku")] == [("SKU-A", 2), ("SKU-B", 1)]
    assert order.customer.email == "buyer1001@example.com"
    plugin.refresh_from_db()
    assert plugin.last_synced_at is not None
    assert plugin.authorization_status == "authorized"


def test_syncing_again_creates_nothing_new(plugin):
    order_on(plugin, number="1001")
    plugin_sync(plugin=plugin)

    run = plugin_sync(plugin=plugin)

    assert Order.objects.count() == 1
    assert (run.imported, run.already_imported) == (0, 1)


def test_repeat_buyers_share_one_customer(plugin):
    order_on(plugin, number="1", email="Same@Example.com")
    order_on(plugin, number="2", email="same@example.com")

    plugin_sync(plugin=plugin)

    assert Order.objects.count() == 2
    assert Customer.objects.count() == 1


def test_orders_whose_platform_withholds_the_buyer_import_with_a_customer_each(plugin, monkeypatch):
    def withheld(number):
        return SourceOrder(
            id=f"902-3159896-139091{number}",
            number=f"902-3159896-139091{number}",
            placed_at=timezone.now(),
            state=OrderState.IMPORTABLE,
            platform_status="Unshipped",
            lines=(SourceOrderLine(sku="SKU-A", quantity=1),),
            buyer=Buyer(city="Berlin", country="DE"),
            buyer_contact_shared=False,
        )

    monkeypatch.setattr(
        "apps.platforms.sandbox.SandboxClient.list_orders",
        lambda self, since: iter([withheld(1), withheld(2)]),
    )

    run = plugin_sync(plugin=plugin)

    assert (run.imported, run.not_imported) == (2, 0)
    customers = {order.customer for order in Order.objects.all()}
    assert len(customers) == 2  # not one customer with an empty e-mail for every buyer
    assert all(customer.email.endswith(".invalid") and customer.city == "Berlin" for customer in customers)
    assert not Notification.objects.exists()


def test_each_failure_writes_one_notification_with_evidence(plugin):
    order_on(
        plugin, number="1004", lines=[{"sku": "SKU-A", "quantity": 1}, {"sku": "MUG-RED-404", "quantity": 1}]
    )
    order_on(plugin, number="1005", email="", first_name="", last_name="")
    order_on(plugin, number="1006", status="pending_payment")
    order_on(plugin, number="1003", placed_at=timezone.now() - timedelta(days=45))

    run = plugin_sync(plugin=plugin)

    assert (run.seen, run.imported, run.not_imported) == (3, 0, 3)  # 1003 is older than the sync window
    notes = {(n.order_number, n.kind): n for n in Notification.objects.all()}
    assert set(notes) == {("1004", "missing_product"), ("1005", "missing_customer_fields")}
    assert notes[("1004", "missing_product")].evidence == {"missing_skus": ["MUG-RED-404"]}
    assert notes[("1005", "missing_customer_fields")].evidence == {"empty_fields": ["email", "name"]}
    assert not Order.objects.exists()


def test_a_repeated_failure_counts_up_instead_of_piling_up(plugin):
    order_on(plugin, number="1004", lines=[{"sku": "NOPE", "quantity": 1}])

    plugin_sync(plugin=plugin)
    plugin_sync(plugin=plugin)

    note = Notification.objects.get()
    assert note.occurrences == 2


def test_once_the_product_exists_the_order_imports(plugin):
    order_on(plugin, number="1004", lines=[{"sku": "NEW-SKU", "quantity": 1}])
    plugin_sync(plugin=plugin)

    ProductFactory(merchant=plugin.merchant, code="NEW-SKU")
    plugin_sync(plugin=plugin)

    assert Order.objects.get().number == "1004"


@pytest.mark.parametrize("channel_count", [0, 2])
def test_plugin_on_zero_or_several_channels_imports_nothing_and_says_why(plugin, channel_count):
    plugin.channels.set([ChannelFactory(merchant=plugin.merchant) for _ in range(channel_count)])
    order_on(plugin, number="3001")

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.BLOCKED
    assert "channel" in run.message
    assert not Order.objects.exists()
    assert Notification.objects.get().kind == "channel_conflict"


def test_plugin_with_import_orders_off_imports_nothing(plugin):
    plugin.import_orders = False
    plugin.save()
    order_on(plugin, number="2001")

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.BLOCKED
    assert run.message.startswith("Import Orders is off on")
    assert not Order.objects.exists()


def test_revoked_authorization_is_recorded_and_notified(plugin):
    store_of(plugin).rotate_token()
    order_on(plugin, number="5001")

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.NOT_AUTHORIZED
    plugin.refresh_from_db()
    assert plugin.authorization_status == "revoked"
    assert "Reauthorize" in plugin.authorization_error
    assert Notification.objects.get().kind == "authorization"


def test_throttled_platform_records_until_when(plugin):
    store = store_of(plugin)
    store.throttled_until = timezone.now() + timedelta(minutes=15)
    store.save()
    order_on(plugin, number="4001")

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.RATE_LIMITED
    plugin.refresh_from_db()
    assert plugin.rate_limited_until > timezone.now() + timedelta(minutes=14)
    note = Notification.objects.get()
    assert note.kind == "rate_limit"
    assert note.evidence["seconds_left"] > 14 * 60
    # The next sync does not even ask the platform until then.
    assert plugin_sync(plugin=plugin).outcome == SyncRun.Outcome.RATE_LIMITED


def test_backfill_imports_orders_older_than_the_plugin(plugin):
    order_on(plugin, number="1003", placed_at=timezone.now() - timedelta(days=45))
    order_on(plugin, number="old", placed_at=timezone.now() - timedelta(days=90))

    run = plugin_sync(plugin=plugin, backfill_since=timezone.now() - timedelta(days=60))

    assert run.mode == SyncRun.Mode.BACKFILL, run.message
    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert list(Order.objects.values_list("number", flat=True)) == ["1003"]


def test_a_time_boxed_backfill_stops_and_says_where_to_carry_on(plugin):
    start = timezone.now() - timedelta(days=50)
    for day in range(3):
        order_on(plugin, number=f"old-{day}", placed_at=start + timedelta(days=day))

    first = plugin_sync(plugin=plugin, backfill_since=start - timedelta(hours=1), time_budget=0)

    assert first.outcome == SyncRun.Outcome.SUCCEEDED, first.message
    assert list(Order.objects.values_list("number", flat=True)) == ["old-0"]  # the oldest comes first
    assert first.resume_from == start
    assert "continue in the background" in first.message
    rest = plugin_sync(plugin=plugin, backfill_since=first.resume_from)
    assert rest.resume_from is None
    assert sorted(Order.objects.values_list("number", flat=True)) == ["old-0", "old-1", "old-2"]


def test_backfill_is_refused_where_the_platform_cannot_list_history(plugin):
    store = store_of(plugin)
    store.supports_backfill = False
    store.save()

    run = plugin_sync(plugin=plugin, backfill_since=timezone.now() - timedelta(days=60))

    assert run.outcome == SyncRun.Outcome.BLOCKED
    assert "cannot list older orders" in run.message


def test_unavailable_platform_fails_the_run_and_raises_for_a_retry(plugin, monkeypatch):
    def down(self, since):
        raise PlatformUnavailable("The demo marketplace did not answer in time.")

    monkeypatch.setattr("apps.platforms.sandbox.SandboxClient.list_orders", down)

    with pytest.raises(PlatformUnavailable):
        plugin_sync(plugin=plugin)

    run = SyncRun.objects.get()
    assert run.outcome == SyncRun.Outcome.FAILED
    assert "did not answer" in run.message


def test_large_sync_imports_in_batches_with_few_queries(plugin, django_assert_max_num_queries):
    store = store_of(plugin)
    SandboxOrder.objects.bulk_create(
        SandboxOrder(
            store=store,
            number=str(n),
            placed_at=timezone.now() - timedelta(hours=1),
            lines=[{"sku": "SKU-A", "quantity": 1}, {"sku": "SKU-B", "quantity": 1}],
            email=f"b{n}@example.com",
            first_name="B",
        )
        for n in range(1200)
    )

    # Batches of 500: a handful of queries each (SQLite splits big inserts
    # by its variable limit), never one per order or per line.
    with django_assert_max_num_queries(100):
        run = plugin_sync(plugin=plugin)

    assert run.imported == 1200
    assert OrderLine.objects.count() == 2400


# --- One bad order, or an unexpected error, never wedges the plugin ---------------


def test_a_line_with_a_negative_quantity_is_left_out_and_the_orders_still_import(plugin):
    bad = order_on(plugin, number="1001")
    order_on(plugin, number="1002")
    # validate_lines refuses this in admin; a platform sends what it sends.
    SandboxOrder.objects.filter(pk=bad.pk).update(
        lines=[{"sku": "SKU-A", "quantity": -1}, {"sku": "SKU-B", "quantity": 2}]
    )

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert sorted(Order.objects.values_list("number", flat=True)) == ["1001", "1002"]
    lines = OrderLine.objects.filter(order__number="1001")
    assert [(line.sku, line.quantity) for line in lines] == [("SKU-B", 2)]


def test_an_order_the_database_refuses_is_skipped_with_a_notification_and_the_rest_import(plugin):
    bad = order_on(plugin, number="1001")
    order_on(plugin, number="1002")
    order_on(plugin, number="1003")
    # More than any quantity column holds: the insert of this one order fails.
    SandboxOrder.objects.filter(pk=bad.pk).update(lines=[{"sku": "SKU-A", "quantity": 2**63}])

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert (run.seen, run.imported, run.not_imported) == (3, 2, 1)
    assert sorted(Order.objects.values_list("number", flat=True)) == ["1002", "1003"]
    note = Notification.objects.get()
    assert note.order_number == "1001"
    assert note.message.startswith("Order #1001 could not be read")
    assert "skipped" in note.message


def test_an_unreadable_order_counts_up_on_the_next_sync_instead_of_piling_up(plugin):
    bad = order_on(plugin, number="1001")
    SandboxOrder.objects.filter(pk=bad.pk).update(lines=[{"sku": "SKU-A", "quantity": 2**63}])

    plugin_sync(plugin=plugin)
    plugin_sync(plugin=plugin)

    assert Notification.objects.get().occurrences == 2


def test_an_unexpected_error_fails_the_run_with_a_message_and_is_raised(plugin, monkeypatch):
    order_on(plugin, number="1001")

    def broken(merchant_id):
        raise RuntimeError("a bug")

    monkeypatch.setattr("apps.commerce.importing.rules.catalog_sku_map", broken)

    with pytest.raises(RuntimeError):
        plugin_sync(plugin=plugin)

    run = SyncRun.objects.get()
    assert run.outcome == SyncRun.Outcome.FAILED
    assert run.finished_at is not None
    assert "unexpected error" in run.message


def test_a_history_window_beyond_the_calendar_shows_every_order(plugin):
    order_on(plugin, number="1001")
    # Saved before history_days had a maximum, or by an update() that skips validators.
    SandboxStore.objects.filter(pk=store_of(plugin).pk).update(history_days=10**6)

    run = plugin_sync(plugin=plugin)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert Order.objects.get().number == "1001"


# --- Through a real platform client, against a local WooCommerce ----------------

WC_KEY = "ck_test_key"
WC_SECRET = "cs_test_secret"
WC_ORDERS = "/wp-json/wc/v3/orders"


@pytest.fixture
def wc_plugin(httpserver):
    plugin = PluginFactory(
        platform="woocommerce",
        credentials={
            "site_url": httpserver.url_for("/").rstrip("/"),
            "consumer_key": WC_KEY,
            "consumer_secret": WC_SECRET,
        },
    )
    for sku in ("SKU-A", "SKU-B"):
        ProductFactory(merchant=plugin.merchant, code=sku)
    return plugin


def wc_order(number: int, **overrides) -> dict:
    created = (timezone.now() - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    order = {
        "id": number + 5000,
        "number": str(number),
        "status": "processing",
        "currency": "EUR",
        "total": "24.90",
        "date_created_gmt": created,
        "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": f"ada{number}@example.com"},
        "line_items": [{"id": 1, "name": "A", "sku": "SKU-A", "quantity": 1}],
    }
    order.update(overrides)
    return order


def wc_serves(httpserver, orders: list[dict]) -> None:
    """check_authorization's one-order probe, then the listing."""
    httpserver.expect_request(WC_ORDERS, query_string={"per_page": "1"}).respond_with_json(orders[:1])
    httpserver.expect_request(WC_ORDERS).respond_with_json(orders)


def test_malformed_woocommerce_orders_do_not_stop_the_others(wc_plugin, httpserver):
    broken_shape = wc_order(1005)
    del broken_shape["date_created_gmt"]
    wc_serves(
        httpserver,
        [
            wc_order(1001, billing={"first_name": "Ada", "email": 12345}),
            wc_order(1002),
            wc_order(1003, total="123456789012345.00"),
            wc_order(
                1004,
                line_items=[{"sku": "SKU-A", "quantity": -1}, {"sku": "SKU-B", "quantity": 3}],
            ),
            broken_shape,
        ],
    )

    run = plugin_sync(plugin=wc_plugin)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert sorted(Order.objects.values_list("number", flat=True)) == ["1002", "1003", "1004"]
    assert Order.objects.get(number="1003").total is None  # too large to keep, not a crash
    assert [(line.sku, line.quantity) for line in OrderLine.objects.filter(order__number="1004")] == [
        ("SKU-B", 3)
    ]
    notes = {n.order_number: n for n in Notification.objects.all()}
    assert set(notes) == {"1001", "1005"}
    assert notes["1001"].kind == "missing_customer_fields"
    assert "no email" in notes["1001"].message
    assert notes["1005"].message.startswith("Order #1005 could not be read")


def test_a_woocommerce_site_that_ignores_the_page_number_fails_the_run_instead_of_looping(
    wc_plugin, httpserver
):
    same_page = [wc_order(2000 + i) for i in range(100)]
    requests = []

    def handler(request: Request) -> Response:
        requests.append(request.args.get("page"))
        if len(requests) > 20:  # without a guard the client would ask forever
            return Response("enough", status=500)
        return Response(json.dumps(same_page), content_type="application/json")  # no X-WP-TotalPages

    httpserver.expect_request(WC_ORDERS, query_string={"per_page": "1"}).respond_with_json(same_page[:1])
    httpserver.expect_request(WC_ORDERS).respond_with_handler(handler)

    run = plugin_sync(plugin=wc_plugin)

    assert run.outcome == SyncRun.Outcome.FAILED
    assert "same page" in run.message
    assert len(requests) == 2
    assert Order.objects.count() == 100  # what it did send is imported


def test_a_short_woocommerce_throttle_is_waited_out_without_a_notification(wc_plugin, httpserver):
    answers = iter([Response("slow down", status=429, headers={"Retry-After": "1"})])

    def handler(request: Request) -> Response:
        return next(answers, None) or Response(json.dumps([wc_order(1001)]), content_type="application/json")

    httpserver.expect_request(WC_ORDERS).respond_with_handler(handler)

    run = plugin_sync(plugin=wc_plugin)

    assert run.outcome == SyncRun.Outcome.SUCCEEDED, run.message
    assert Order.objects.get().number == "1001"
    assert not Notification.objects.exists()
    wc_plugin.refresh_from_db()
    assert wc_plugin.rate_limited_until is None


def test_sync_for_a_merchants_order_says_why_past_the_kept_reasons(plugin, monkeypatch):
    monkeypatch.setattr(SyncRun, "BLOCKED_ORDERS_KEPT", 2)
    for number in ("2001", "2002", "2003"):
        order_on(plugin, number=number, status="pending_payment")
    order_on(plugin, number="9999", lines=[{"sku": "NOPE-1", "quantity": 1}])

    run = plugin_sync(plugin=plugin, order_numbers=("9999",))

    assert run.blocked_orders["9999"][0]["rule"] == "skus_in_catalog"
    assert run.seen == 4  # the merchant's order is not fetched again once the listing judged it
    assert Notification.objects.get(order_number="9999").occurrences == 1
