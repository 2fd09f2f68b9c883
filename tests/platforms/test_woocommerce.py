"""WooCommerceClient against a local server answering in the REST API v3's shapes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from werkzeug import Request, Response

from apps.platforms.base import NotAuthorized, OrderState, PlatformUnavailable, RateLimited
from apps.platforms.woocommerce import WooCommerceClient

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
