"""WooCommerceClient against a local server answering in the REST API v3's shapes."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from werkzeug import Request, Response

from apps.commerce.importing import rule_importable_state
from apps.platforms.base import (
    NotAuthorized,
    OrderState,
    PaginationStuck,
    PlatformUnavailable,
    RateLimited,
    UnreadableOrder,
)
from apps.platforms.woocommerce import STATUSES, WooCommerceClient
from tests.platforms.status_words import assert_step_six_follows, every_word

KEY = "ck_4f1d2c3b4a5968778695a4b3c2d1e0f9"
SECRET = "cs_9e8d7c6b5a4938271605f4e3d2c1b0a9"
ORDERS = "/wp-json/wc/v3/orders"
BASIC = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


def wc_order(number: int = 1001, *, status: str = "processing", created: str = "2026-01-05T10:00:00") -> dict:
    return {
        "id": number + 5000,
        "number": str(number),
        "status": status,
        "currency": "EUR",
        "total": "24.90",
        "date_created": "2026-01-05T11:00:00",  # site-local time, must be ignored
        "date_created_gmt": created,
        "date_paid_gmt": created,
        "billing": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "address_1": "1 Analytical Row",
            "city": "London",
            "postcode": "N1 1AA",
            "country": "GB",
        },
        "line_items": [{"id": 1, "name": "Blue mug", "sku": "MUG-BLUE-001", "quantity": 2}],
    }


@pytest.fixture
def client(httpserver, make_connection) -> WooCommerceClient:
    return WooCommerceClient(
        make_connection(
            {
                "site_url": httpserver.url_for("/").rstrip("/"),
                "consumer_key": KEY,
                "consumer_secret": SECRET,
            }
        )
    )


def expect_orders(httpserver, query_string=None):
    return httpserver.expect_request(
        ORDERS, method="GET", headers={"Authorization": BASIC}, query_string=query_string
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("processing", OrderState.IMPORTABLE),
        ("completed", OrderState.IMPORTABLE),
        ("pending", OrderState.PENDING_PAYMENT),
        ("on-hold", OrderState.ON_HOLD),
        ("cancelled", OrderState.CANCELLED),
        ("refunded", OrderState.REFUNDED),
        ("failed", OrderState.FAILED),
        ("checkout-draft", OrderState.CHECKOUT),
        ("shipped-by-plugin", OrderState.ON_HOLD),
    ],
)
def test_order_state_follows_the_woocommerce_status(client, httpserver, status, state):
    expect_orders(httpserver).respond_with_json([wc_order(status=status)])

    order = client.get_order("1001")

    assert order.state == state
    assert order.platform_status == status


def test_get_order_searches_and_normalizes_the_order(client, httpserver):
    expect_orders(httpserver, {"search": "1001", "per_page": "100", "page": "1"}).respond_with_json(
        [wc_order(10010), wc_order(1001)]
    )

    order = client.get_order("#1001")

    assert order.number == "1001"
    assert order.id == "6001"
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug")
    ]
    assert (order.buyer.email, order.buyer.first_name, order.buyer.last_name) == (
        "ada@example.com",
        "Ada",
        "Lovelace",
    )
    assert (order.buyer.address_line1, order.buyer.city, order.buyer.postcode) == (
        "1 Analytical Row",
        "London",
        "N1 1AA",
    )
    assert order.buyer.country == "GB"
    assert (order.currency, order.total) == ("EUR", Decimal("24.90"))


def test_get_order_not_found_is_none(client, httpserver):
    expect_orders(httpserver).respond_with_json([wc_order(10010), wc_order(21001)])

    assert client.get_order("1001") is None


def test_list_orders_pages_until_a_short_page(client, httpserver):
    pages = {
        "1": [wc_order(2000 + i, created=f"2026-01-05T10:{i // 60:02d}:{i % 60:02d}") for i in range(100)],
        "2": [wc_order(3000 + i, created=f"2026-01-06T10:00:{i:02d}") for i in range(3)],
    }
    seen = []

    def handler(request: Request) -> Response:
        seen.append(request.args.to_dict())
        return Response(json.dumps(pages[request.args["page"]]), content_type="application/json")

    expect_orders(httpserver).respond_with_handler(handler)

    orders = list(client.list_orders(datetime(2026, 1, 5, 10, 0, tzinfo=UTC)))

    assert len(orders) == 103
    assert orders[0].number == "2000"
    assert orders[-1].number == "3002"
    assert [params["page"] for params in seen] == ["1", "2"]
    assert seen[0] == {
        "after": "2026-01-05T09:59:59",  # `after` is strict: ask from a second earlier
        "dates_are_gmt": "true",
        "per_page": "100",
        "orderby": "date",
        "order": "asc",
        "page": "1",
    }


def test_list_orders_stops_at_x_wp_totalpages(client, httpserver):
    full_page = [wc_order(2000 + i) for i in range(100)]
    expect_orders(httpserver).respond_with_json(full_page, headers={"X-WP-TotalPages": "1"})

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert len(orders) == 100
    assert len(httpserver.log) == 1


def test_list_orders_drops_orders_before_since(client, httpserver):
    expect_orders(httpserver).respond_with_json(
        [wc_order(1, created="2026-01-04T23:59:59"), wc_order(2, created="2026-01-05T00:00:00")]
    )

    orders = list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert [order.number for order in orders] == ["2"]


def test_check_authorization_passes_with_working_keys(client, httpserver):
    expect_orders(httpserver, {"per_page": "1"}).respond_with_json([])

    client.check_authorization()

    httpserver.check_assertions()
    assert len(httpserver.log) == 1


def test_401_is_not_authorized_and_hides_the_secret(client, httpserver, caplog):
    caplog.set_level("DEBUG")
    expect_orders(httpserver).respond_with_json(
        {
            "code": "woocommerce_rest_authentication_error",
            "message": "Consumer key is invalid.",
            "data": {"status": 401},
        },
        status=401,
    )

    with pytest.raises(NotAuthorized) as caught:
        client.check_authorization()

    assert "rejected the API key" in str(caught.value)
    for secret in (KEY, SECRET):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_403_is_not_authorized_asking_for_read_permission(client, httpserver):
    expect_orders(httpserver).respond_with_json({"code": "woocommerce_rest_cannot_view"}, status=403)

    with pytest.raises(NotAuthorized, match="Read permission") as caught:
        client.get_order("1001")

    assert SECRET not in str(caught.value)


def test_429_with_retry_after_blocks_the_bucket(client, httpserver):
    expect_orders(httpserver).respond_with_data("slow down", status=429, headers={"Retry-After": "45"})

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == 45
    assert client.throttle.blocked_until() is not None
    with pytest.raises(RateLimited):
        client.check_authorization()
    assert len(httpserver.log) == 1  # the second call never reached the site


def test_429_with_an_http_date_retry_after(client, httpserver):
    expect_orders(httpserver).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    )

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == 0  # a date in the past: ask again right away


def test_429_without_retry_after_waits_a_minute(client, httpserver):
    expect_orders(httpserver).respond_with_data("slow down", status=429)

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == 60


def test_500_is_unavailable(client, httpserver):
    expect_orders(httpserver).respond_with_data(
        "<h1>Error establishing a database connection</h1>", status=500
    )

    with pytest.raises(PlatformUnavailable, match="HTTP 500"):
        client.get_order("1001")


def test_slow_answer_past_the_read_timeout_is_unavailable(client, httpserver, slow_handler):
    expect_orders(httpserver).respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer"):
        client.check_authorization()


def test_malformed_json_is_unavailable(client, httpserver):
    # A PHP warning printed before the JSON is the classic WordPress failure.
    expect_orders(httpserver).respond_with_data(
        "<b>Warning</b>: something in functions.php\n[]", content_type="application/json"
    )

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        client.get_order("1001")


def test_connection_refused_is_unavailable(make_connection, refused_url):
    client = WooCommerceClient(
        make_connection({"site_url": refused_url, "consumer_key": KEY, "consumer_secret": SECRET})
    )

    with pytest.raises(PlatformUnavailable, match="Could not connect") as caught:
        client.check_authorization()

    assert SECRET not in str(caught.value)


def test_plain_http_site_is_refused_so_the_secret_is_not_sent_in_the_clear(make_connection):
    client = WooCommerceClient(
        make_connection({"site_url": "http://shop.example", "consumer_key": KEY, "consumer_secret": SECRET})
    )

    with pytest.raises(NotAuthorized, match="https://"):
        client.check_authorization()


# --- Values of the wrong kind are coerced, not passed through ---------------------


def test_buyer_fields_that_are_not_text_become_text_or_empty(client, httpserver):
    billing = {"first_name": None, "last_name": ["Love"], "email": 12345, "postcode": 10115, "city": {}}
    expect_orders(httpserver).respond_with_json([{**wc_order(), "billing": billing}])

    buyer = client.get_order("1001").buyer

    assert (buyer.email, buyer.first_name, buyer.last_name) == ("12345", "", "")
    assert (buyer.postcode, buyer.city, buyer.country) == ("10115", "", "")


def test_lines_with_nothing_to_ship_are_left_out(client, httpserver):
    items = [
        {"sku": "MUG-BLUE-001", "name": "Blue mug", "quantity": -1},
        {"sku": "MUG-RED-001", "name": "Red mug", "quantity": 0},
        {"sku": "MUG-GREEN-001", "name": "Green mug", "quantity": "2"},
    ]
    expect_orders(httpserver).respond_with_json([{**wc_order(), "line_items": items}])

    order = client.get_order("1001")

    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-GREEN-001", 2)]


@pytest.mark.parametrize("total", ["123456789012345.00", "NaN", "-Infinity", "1e400", "lots", True])
def test_a_total_that_cannot_be_kept_is_none(client, httpserver, total):
    expect_orders(httpserver).respond_with_json([{**wc_order(), "total": total}])

    assert client.get_order("1001").total is None


def test_a_total_is_kept_to_the_cent(client, httpserver):
    expect_orders(httpserver).respond_with_json([{**wc_order(), "total": "9999999999.99"}])

    assert client.get_order("1001").total == Decimal("9999999999.99")


def test_an_order_in_an_unexpected_shape_is_listed_as_unreadable(client, httpserver):
    broken = wc_order(1002)
    del broken["date_created_gmt"], broken["date_created"]
    expect_orders(httpserver).respond_with_json([wc_order(1001), broken, wc_order(1003)])

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [order.number for order in orders] == ["1001", "1002", "1003"]
    assert isinstance(orders[1], UnreadableOrder)
    assert orders[1].id == "6002"
    assert "shape we did not expect" in orders[1].reason


# --- Paging that never ends is stopped ---------------------------------------------


def test_a_site_that_ignores_the_page_number_stops_the_listing(client, httpserver):
    same_page = [wc_order(2000 + i) for i in range(100)]
    pages = []

    def handler(request: Request) -> Response:
        pages.append(request.args["page"])
        if len(pages) > 20:  # without a guard the client would ask forever
            return Response("enough", status=500)
        return Response(json.dumps(same_page), content_type="application/json")

    expect_orders(httpserver).respond_with_handler(handler)
    orders = client.list_orders(datetime(2026, 1, 1, tzinfo=UTC))

    listed = [next(orders) for _ in range(100)]
    with pytest.raises(PaginationStuck, match="same page") as caught:
        next(orders)

    assert len({order.id for order in listed}) == 100
    assert pages == ["1", "2"]
    assert "caching" in str(caught.value)


def test_listing_stops_after_the_most_pages_we_ever_ask_for(client, httpserver, monkeypatch):
    monkeypatch.setattr("apps.platforms.woocommerce.MAX_PAGES", 3)

    def handler(request: Request) -> Response:
        page = int(request.args["page"])
        orders = [wc_order(page * 1000 + i) for i in range(100)]  # new orders on every page, forever
        return Response(json.dumps(orders), content_type="application/json")

    expect_orders(httpserver).respond_with_handler(handler)

    with pytest.raises(PaginationStuck, match="3 pages"):
        list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert len(httpserver.log) == 3


# --- A short "slow down" is sat out inside the client ---------------------------------


def answers(*responses: Response):
    """A handler that gives these answers in turn, then orders."""
    queue = list(responses)

    def handler(request: Request) -> Response:
        if queue:
            return queue.pop(0)
        return Response(json.dumps([wc_order()]), content_type="application/json")

    return handler


@pytest.mark.parametrize("status", [429, 503])
def test_a_short_retry_after_is_waited_out_and_the_request_sent_again(client, httpserver, status):
    expect_orders(httpserver).respond_with_handler(
        answers(Response("busy", status=status, headers={"Retry-After": "1"}))
    )

    started = time.monotonic()
    order = client.get_order("1001")

    assert order.number == "1001"
    assert len(httpserver.log) == 2
    assert time.monotonic() - started >= 0.9  # it did wait as asked


def test_a_retry_after_longer_than_the_call_may_wait_is_still_rate_limited(client, httpserver):
    expect_orders(httpserver).respond_with_handler(
        answers(Response("slow down", status=429, headers={"Retry-After": "5"}))
    )

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")  # an interactive call waits 2 s at most

    assert caught.value.retry_after == 5
    assert len(httpserver.log) == 1


def test_a_503_without_retry_after_is_unavailable_at_once(client, httpserver):
    expect_orders(httpserver).respond_with_handler(answers(Response("maintenance", status=503)))

    with pytest.raises(PlatformUnavailable, match="HTTP 503"):
        client.get_order("1001")

    assert len(httpserver.log) == 1


def test_a_site_that_keeps_saying_slow_down_is_rate_limited_after_a_few_tries(client, httpserver):
    expect_orders(httpserver).respond_with_data("slow down", status=429, headers={"Retry-After": "0"})

    with pytest.raises(RateLimited):
        client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)).__next__()

    assert len(httpserver.log) == 4  # the first try and three more


# --- Every status, read whole -------------------------------------------------------


def test_the_table_holds_every_status_of_the_rest_api():
    documented = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"}
    assert {entry.word for entry in STATUSES} == documented | {"checkout-draft"}


@pytest.mark.parametrize(**every_word(STATUSES))
def test_each_status_is_read_through_the_client_and_step_six_follows_its_outcome(client, httpserver, entry):
    expect_orders(httpserver).respond_with_json([wc_order(status=entry.word)])

    assert_step_six_follows(entry, client.get_order("1001"))


def test_a_failed_order_is_not_told_to_wait_for_its_payment(client, httpserver):
    expect_orders(httpserver).respond_with_json([wc_order(status="failed")])

    message = rule_importable_state(client.get_order("1001")).message

    assert message == (
        "Order #1001 will not import: the payment failed or was declined (“failed”). "
        "If it is still wanted, create it by hand in Commerce Kitty."
    )
