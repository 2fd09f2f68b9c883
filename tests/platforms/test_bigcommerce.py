"""BigCommerceClient against a local server answering in the V2 Orders API's shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.commerce.importing import rule_importable_state
from apps.platforms import bigcommerce
from apps.platforms.base import (
    MalformedOrder,
    NotAuthorized,
    OrderState,
    PaginationStuck,
    PlatformUnavailable,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from apps.platforms.bigcommerce import STATUSES, BigCommerceClient, source_order, status_name
from tests.platforms.status_words import assert_step_six_follows, every_word

TOKEN = "bc-token-5f4e3d2c1b0a99887766"
HASH = "abc123"
V2 = f"/stores/{HASH}/v2"


def bc_order(
    order_id: int = 1001, *, status_id: int = 11, created: str = "Mon, 05 Jan 2026 10:00:00 +0000"
) -> dict:
    return {
        "id": order_id,
        "customer_id": 7,
        "date_created": created,
        "status_id": status_id,
        "status": status_name(known) if (known := STATUSES.get(str(status_id))) else "Something new",
        "currency_code": "EUR",
        "total_inc_tax": "24.9000",
        "billing_address": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "street_1": "1 Analytical Row",
            "city": "London",
            "zip": "N1 1AA",
            "country_iso2": "GB",
            "email": "ada@example.com",
        },
        "products": {
            "url": f"https://api.bigcommerce.com{V2}/orders/{order_id}/products",
            "resource": "/products",
        },
    }


def bc_product(
    order_id: int = 1001, *, sku: str = "MUG-BLUE-001", quantity: int = 2, refunded: int = 0
) -> dict:
    return {
        "id": order_id * 10,
        "order_id": order_id,
        "name": "Blue mug",
        "sku": sku,
        "quantity": quantity,
        "quantity_refunded": refunded,
    }


@pytest.fixture
def small_pages(monkeypatch) -> int:
    """Five orders a page, so paging is tested without hundreds of product requests."""
    monkeypatch.setattr(bigcommerce, "PAGE_SIZE", 5)
    return 5


@pytest.fixture
def client(httpserver, make_connection) -> BigCommerceClient:
    return BigCommerceClient(
        make_connection(
            {"store_hash": HASH, "access_token": TOKEN, "base_url": httpserver.url_for("/").rstrip("/")}
        )
    )


def expect(httpserver, path: str, query_string=None):
    return httpserver.expect_request(
        f"{V2}/{path}", method="GET", headers={"X-Auth-Token": TOKEN}, query_string=query_string
    )


def serve_order(httpserver, order: dict, products: list[dict] | None = None) -> None:
    expect(httpserver, f"orders/{order['id']}").respond_with_json(order)
    expect(httpserver, f"orders/{order['id']}/products").respond_with_json(
        [bc_product(order["id"])] if products is None else products
    )


def test_get_order_normalizes_the_order_and_its_products(client, httpserver):
    serve_order(httpserver, bc_order())

    order = client.get_order("#1001")

    assert order.id == "1001"
    assert order.number == "1001"
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert (order.state, order.platform_status) == (OrderState.IMPORTABLE, "Awaiting Fulfillment")
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug")
    ]
    assert (order.buyer.email, order.buyer.first_name, order.buyer.country) == (
        "ada@example.com",
        "Ada",
        "GB",
    )
    assert (order.currency, order.total) == ("EUR", Decimal("24.90"))


def test_get_order_that_does_not_exist_is_none(client, httpserver):
    expect(httpserver, "orders/4040").respond_with_json(
        [{"status": 404, "message": "The requested resource was not found."}], status=404
    )

    assert client.get_order("4040") is None


def test_an_order_number_that_cannot_be_an_id_is_not_asked_for(client, httpserver):
    assert client.get_order("KT-1001") is None
    assert httpserver.log == []


def test_refunded_products_are_left_out(client, httpserver):
    serve_order(
        httpserver,
        bc_order(status_id=14),
        [
            bc_product(sku="MUG-BLUE-001", quantity=2, refunded=1),
            bc_product(sku="MUG-RED-001", quantity=1, refunded=1),
        ],
    )

    order = client.get_order("1001")

    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-BLUE-001", 1)]


# Every status id in BigCommerce's Orders reference: the table reads them all.
DOCUMENTED = {str(n) for n in range(15)}


def test_the_table_holds_every_documented_status_id():
    assert {entry.word for entry in STATUSES} == DOCUMENTED


@pytest.mark.parametrize(**every_word(STATUSES))
def test_each_status_id_is_read_whole_and_step_six_follows_its_outcome(client, httpserver, entry):
    serve_order(httpserver, bc_order(status_id=int(entry.word)))

    order = client.get_order("1001")

    assert order.platform_status == status_name(entry)
    assert_step_six_follows(entry, order)


def test_pending_is_a_checkout_never_completed_not_a_pending_payment(client, httpserver):
    serve_order(httpserver, bc_order(status_id=1))

    step_six = rule_importable_state(client.get_order("1001"))

    assert "it is waiting for the buyer to complete checkout" in step_six.message
    assert "payment" not in step_six.message


@pytest.mark.parametrize("status_id", [11, 9, 8, 2, 3, 10, 14])
def test_paid_statuses_are_importable(client, httpserver, status_id):
    serve_order(httpserver, bc_order(status_id=status_id))

    assert client.get_order("1001").state == OrderState.IMPORTABLE


def test_a_status_bigcommerce_adds_later_is_held_with_its_own_word(client, httpserver):
    order = bc_order(status_id=99)
    order["status"] = "Awaiting Moon Phase"
    serve_order(httpserver, order)

    fetched = client.get_order("1001")

    assert (fetched.state, fetched.platform_status) == (OrderState.ON_HOLD, "Awaiting Moon Phase")


def test_manual_verification_says_what_the_merchant_must_do(client, httpserver):
    serve_order(httpserver, bc_order(status_id=12))

    message = rule_importable_state(client.get_order("1001")).message

    assert "waiting for you to verify it in BigCommerce" in message


def test_list_orders_pages_by_min_date_created_oldest_first(client, httpserver, small_pages):
    first = [bc_order(2000 + i) for i in range(small_pages)]
    expect(
        httpserver,
        "orders",
        query_string={
            "min_date_created": "Mon, 05 Jan 2026 00:00:00 GMT",
            "sort": "date_created:asc",
            "limit": "5",
            "page": "1",
        },
    ).respond_with_json(first)
    expect(
        httpserver,
        "orders",
        query_string={
            "min_date_created": "Mon, 05 Jan 2026 00:00:00 GMT",
            "sort": "date_created:asc",
            "limit": "5",
            "page": "2",
        },
    ).respond_with_json([bc_order(3000)])
    for raw in [*first, bc_order(3000)]:
        expect(httpserver, f"orders/{raw['id']}/products").respond_with_json([bc_product(raw["id"])])

    orders = list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert len(orders) == small_pages + 1
    assert orders[0].number == "2000" and orders[-1].number == "3000"
    assert all(isinstance(order, SourceOrder) for order in orders)


def test_list_orders_ends_on_no_content(client, httpserver):
    expect(httpserver, "orders").respond_with_data("", status=204)

    assert list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC))) == []


def test_a_repeated_page_stops_the_listing_instead_of_looping(client, httpserver, small_pages):
    page = [bc_order(2000 + i) for i in range(small_pages)]
    expect(httpserver, "orders").respond_with_json(page)  # every page number gets the same answer
    for raw in page:
        expect(httpserver, f"orders/{raw['id']}/products").respond_with_json([bc_product(raw["id"])])

    listed = []
    with pytest.raises(PaginationStuck, match="same page of orders again") as caught:
        listed.extend(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert len(listed) == small_pages
    assert f"stopped after {small_pages} orders" in str(caught.value)


def test_one_unreadable_order_does_not_stop_the_listing(client, httpserver):
    broken = bc_order(2001)
    broken["date_created"] = "yesterday-ish"
    expect(httpserver, "orders").respond_with_json([bc_order(2000), broken])
    for order_id in (2000, 2001):
        expect(httpserver, f"orders/{order_id}/products").respond_with_json([bc_product(order_id)])

    orders = list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert isinstance(orders[0], SourceOrder)
    assert orders[1] == UnreadableOrder(
        id="2001", number="2001", reason="BigCommerce sent this order in a shape we did not expect."
    )


def test_401_is_not_authorized_and_hides_the_token(client, httpserver, caplog):
    caplog.set_level("DEBUG")
    expect(httpserver, "orders/count").respond_with_json(
        [{"status": 401, "message": "You have not provided correct credentials."}], status=401
    )

    with pytest.raises(NotAuthorized, match="rejected the access token") as caught:
        client.check_authorization()

    assert TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text


def test_403_is_not_authorized_asking_for_the_orders_scope(client, httpserver):
    expect(httpserver, "orders/1001").respond_with_json([{"status": 403, "message": "Forbidden"}], status=403)

    with pytest.raises(NotAuthorized, match="Orders"):
        client.get_order("1001")


def test_429_waits_as_long_as_the_reset_header_says(client, httpserver):
    expect(httpserver, "orders/1001").respond_with_data(
        "", status=429, headers={"X-Rate-Limit-Time-Reset-Ms": "15000", "X-Rate-Limit-Requests-Left": "0"}
    )

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == 15
    assert client.throttle.blocked_until() is not None
    with pytest.raises(RateLimited):
        client.check_authorization()
    assert len(httpserver.log) == 1  # the second call never reached BigCommerce


def test_429_without_a_hint_waits_one_quota_window(client, httpserver):
    expect(httpserver, "orders/1001").respond_with_data("", status=429)

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == 30


def test_a_short_reset_is_waited_out_and_asked_again(client, httpserver):
    httpserver.expect_oneshot_request(f"{V2}/orders/1001").respond_with_data(
        "", status=429, headers={"X-Rate-Limit-Time-Reset-Ms": "200"}
    )
    serve_order(httpserver, bc_order())

    assert client.get_order("1001").number == "1001"


def test_no_requests_left_holds_the_next_call_off_until_the_window_resets(client, httpserver):
    expect(httpserver, "orders/count").respond_with_json(
        {"count": 3}, headers={"X-Rate-Limit-Requests-Left": "0", "X-Rate-Limit-Time-Reset-Ms": "20000"}
    )

    client.check_authorization()

    with pytest.raises(RateLimited):
        client.check_authorization()
    assert len(httpserver.log) == 1


def test_500_is_unavailable(client, httpserver):
    expect(httpserver, "orders/1001").respond_with_data("oops", status=502)

    with pytest.raises(PlatformUnavailable, match="HTTP 502"):
        client.get_order("1001")


def test_an_answer_slower_than_the_timeout_is_unavailable(client, httpserver, slow_handler):
    expect(httpserver, "orders/1001").respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer"):
        client.get_order("1001")


def test_malformed_json_is_unavailable(client, httpserver):
    expect(httpserver, "orders/1001").respond_with_data(
        '{"id": 1001, "status_id": ', content_type="application/json"
    )

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        client.get_order("1001")


def test_an_order_in_an_unexpected_shape_is_malformed(client, httpserver):
    expect(httpserver, "orders/1001").respond_with_json({"id": 1001, "status_id": "eleven"})

    with pytest.raises(MalformedOrder):
        client.get_order("1001")


def test_a_plugin_without_a_token_is_not_authorized_before_asking(make_connection, httpserver):
    client = BigCommerceClient(make_connection({"store_hash": HASH, "base_url": httpserver.url_for("/")}))

    with pytest.raises(NotAuthorized, match="missing its store hash or access token"):
        client.check_authorization()
    assert httpserver.log == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=6)
    ),
    max_leaves=25,
)
ORDER_KEYS = [
    "id",
    "date_created",
    "status_id",
    "status",
    "billing_address",
    "currency_code",
    "total_inc_tax",
]
ORDERISH = st.fixed_dictionaries({}, optional=dict.fromkeys(ORDER_KEYS, JSON)) | JSON


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=ORDERISH,
    products=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "sku": JSON,
                "quantity": JSON,
                "quantity_refunded": JSON,
                "name": JSON,
            },
        )
        | JSON,
        max_size=3,
    )
    | JSON,
)
def test_the_parser_raises_only_the_malformed_order_error(order, products):
    try:
        parsed = source_order(order, products)
    except MalformedOrder:
        return
    assert isinstance(parsed, SourceOrder)
    assert parsed.placed_at.tzinfo is not None
