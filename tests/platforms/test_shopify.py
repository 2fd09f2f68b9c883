"""ShopifyClient against a local server answering in the GraphQL Admin API's shapes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from werkzeug import Request, Response

from apps.platforms.base import (
    NotAuthorized,
    OrderState,
    PaginationStuck,
    PlatformUnavailable,
    RateLimited,
    UnreadableOrder,
)
from apps.platforms.shopify import API_VERSION, ShopifyClient, shop_domain

TOKEN = "shpat_0123456789abcdef-very-secret"
GRAPHQL = f"/admin/api/{API_VERSION}/graphql.json"


def order_node(number: str = "1001", **overrides) -> dict:
    node = {
        "id": f"gid://shopify/Order/{number}00",
        "name": f"#{number}",
        "createdAt": "2026-01-05T10:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "risk": {"recommendation": "ACCEPT"},
        "displayFulfillmentStatus": "UNFULFILLED",
        "fulfillmentOrders": {"nodes": [{"status": "OPEN", "fulfillmentHolds": []}]},
        "email": "ada@example.com",
        "currencyCode": "EUR",
        "totalPriceSet": {"shopMoney": {"amount": "24.90", "currencyCode": "EUR"}},
        "customer": {"firstName": "Ada", "lastName": "Lovelace"},
        "shippingAddress": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "address1": "1 Analytical Row",
            "city": "London",
            "zip": "N1 1AA",
            "countryCodeV2": "GB",
        },
        "billingAddress": None,
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [{"sku": "MUG-BLUE-001", "title": "Blue mug", "quantity": 2, "currentQuantity": 2}],
        },
    }
    node.update(overrides)
    return node


def cost(requested: float = 52, available: float = 1948, restore: float = 100) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": available,
                "restoreRate": restore,
            },
        }
    }


def orders_body(nodes: list[dict], *, has_next: bool = False, cursor: str | None = None) -> dict:
    return {
        "data": {
            "orders": {
                "pageInfo": {"hasNextPage": has_next, "endCursor": cursor},
                "nodes": nodes,
            }
        },
        "extensions": cost(),
    }


THROTTLED_BODY = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ],
    "extensions": cost(requested=752, available=152, restore=100),
}


@pytest.fixture
def client(httpserver, make_connection) -> ShopifyClient:
    return ShopifyClient(
        make_connection(
            {
                "shop": "kitty-test",
                "access_token": TOKEN,
                "base_url": httpserver.url_for("/").rstrip("/"),
            }
        )
    )


def expect_graphql(httpserver):
    return httpserver.expect_request(GRAPHQL, method="POST", headers={"X-Shopify-Access-Token": TOKEN})


@pytest.mark.parametrize(
    ("financial", "risk", "cancelled_at", "state", "platform_status"),
    [
        ("PAID", "ACCEPT", None, OrderState.IMPORTABLE, "PAID"),
        ("AUTHORIZED", "NONE", None, OrderState.IMPORTABLE, "AUTHORIZED"),
        ("PARTIALLY_REFUNDED", "ACCEPT", None, OrderState.IMPORTABLE, "PARTIALLY_REFUNDED"),
        ("PENDING", "ACCEPT", None, OrderState.PENDING_PAYMENT, "PENDING"),
        ("PARTIALLY_PAID", "NONE", None, OrderState.PENDING_PAYMENT, "PARTIALLY_PAID"),
        ("PAID", "INVESTIGATE", None, OrderState.ON_HOLD, "PAID, risk INVESTIGATE"),
        ("AUTHORIZED", "CANCEL", None, OrderState.ON_HOLD, "AUTHORIZED, risk CANCEL"),
        ("PAID", "ACCEPT", "2026-01-06T09:00:00Z", OrderState.CANCELLED, "PAID, cancelled"),
        ("REFUNDED", "ACCEPT", None, OrderState.REFUNDED, "REFUNDED"),
        ("VOIDED", "NONE", None, OrderState.FAILED, "VOIDED"),
        ("EXPIRED", "NONE", None, OrderState.FAILED, "EXPIRED"),
    ],
)
def test_order_state_follows_payment_risk_and_cancellation(
    client, httpserver, financial, risk, cancelled_at, state, platform_status
):
    node = order_node(
        displayFinancialStatus=financial, risk={"recommendation": risk}, cancelledAt=cancelled_at
    )
    expect_graphql(httpserver).respond_with_json(orders_body([node]))

    order = client.get_order("#1001")

    assert order is not None
    assert order.state == state
    assert order.platform_status == platform_status


def test_get_order_normalizes_the_whole_order(client, httpserver):
    expect_graphql(httpserver).respond_with_json(orders_body([order_node()]))

    order = client.get_order(" #1001 ")

    sent = json.loads(httpserver.log[0][0].get_data())
    assert sent["variables"]["query"] == "name:#1001"
    assert sent["variables"]["first"] == 1
    assert order.id == "gid://shopify/Order/100100"
    assert order.number == "1001"
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug")
    ]
    assert order.buyer.email == "ada@example.com"
    assert (order.buyer.first_name, order.buyer.last_name) == ("Ada", "Lovelace")
    assert (order.buyer.city, order.buyer.postcode, order.buyer.country) == (
        "London",
        "N1 1AA",
        "GB",
    )
    assert (order.currency, order.total) == ("EUR", Decimal("24.90"))


def test_refunded_lines_are_left_out_of_a_partially_refunded_order(client, httpserver):
    lines = {
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [
            {"sku": "MUG-BLUE-001", "title": "Blue mug", "quantity": 2, "currentQuantity": 1},
            {"sku": "MUG-RED-001", "title": "Red mug", "quantity": 1, "currentQuantity": 0},
        ],
    }
    node = order_node(displayFinancialStatus="PARTIALLY_REFUNDED", lineItems=lines)
    expect_graphql(httpserver).respond_with_json(orders_body([node]))

    order = client.get_order("1001")

    assert [(line.sku, line.quantity) for line in order.lines] == [("MUG-BLUE-001", 1)]


def test_get_order_not_found_is_none(client, httpserver):
    expect_graphql(httpserver).respond_with_json(orders_body([]))

    assert client.get_order("4040") is None


def test_get_order_ignores_a_near_match_from_search(client, httpserver):
    expect_graphql(httpserver).respond_with_json(orders_body([order_node("10010")]))

    assert client.get_order("1001") is None


def test_order_with_many_lines_fetches_the_rest(client, httpserver):
    first_lines = {
        "pageInfo": {"hasNextPage": True, "endCursor": "lines-1"},
        "nodes": [{"sku": f"SKU-{i}", "title": "", "quantity": 1, "currentQuantity": 1} for i in range(30)],
    }

    def handler(request: Request) -> Response:
        body = request.get_json()
        if "OrderLines" in body["query"]:
            assert body["variables"] == {"id": "gid://shopify/Order/100100", "after": "lines-1"}
            data = {
                "order": {
                    "lineItems": {
                        "pageInfo": {"hasNextPage": False, "endCursor": None},
                        "nodes": [{"sku": "SKU-30", "title": "", "quantity": 1, "currentQuantity": 1}],
                    }
                }
            }
            return Response(json.dumps({"data": data, "extensions": cost()}), content_type="application/json")
        payload = orders_body([order_node(lineItems=first_lines)])
        return Response(json.dumps(payload), content_type="application/json")

    expect_graphql(httpserver).respond_with_handler(handler)

    order = client.get_order("1001")

    assert [line.sku for line in order.lines] == [f"SKU-{i}" for i in range(31)]


def test_list_orders_follows_cursors_oldest_first(client, httpserver):
    pages = {
        None: orders_body([order_node("1001"), order_node("1002")], has_next=True, cursor="c1"),
        "c1": orders_body([order_node("1003")], has_next=False, cursor="c2"),
    }
    seen = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        seen.append(body)
        return Response(json.dumps(pages[body["variables"]["after"]]), content_type="application/json")

    expect_graphql(httpserver).respond_with_handler(handler)

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [order.number for order in orders] == ["1001", "1002", "1003"]
    assert [body["variables"]["after"] for body in seen] == [None, "c1"]
    assert seen[0]["variables"]["query"] == "created_at:>='2026-01-01T00:00:00Z'"
    assert "sortKey: CREATED_AT" in seen[0]["query"]


def test_check_authorization_passes_with_a_working_token(client, httpserver):
    body = {
        "data": {"shop": {"name": "Kitty"}, "orders": {"nodes": []}},
        "extensions": cost(requested=3, available=1997),
    }
    expect_graphql(httpserver).respond_with_json(body)

    client.check_authorization()

    assert len(httpserver.log) == 1


def test_401_is_not_authorized_and_hides_the_token(client, httpserver):
    expect_graphql(httpserver).respond_with_json(
        {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
        status=401,
    )

    with pytest.raises(NotAuthorized) as caught:
        client.check_authorization()

    assert "rejected the access token" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_403_is_not_authorized_naming_the_missing_scope(client, httpserver):
    expect_graphql(httpserver).respond_with_json({"errors": "Forbidden"}, status=403)

    with pytest.raises(NotAuthorized) as caught:
        client.get_order("1001")

    assert "read_orders" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_access_denied_graphql_error_is_not_authorized(client, httpserver):
    body = {
        "data": None,
        "errors": [
            {
                "message": "Access denied for orders field. Required access: `read_orders`.",
                "extensions": {"code": "ACCESS_DENIED"},
            }
        ],
    }
    expect_graphql(httpserver).respond_with_json(body)

    with pytest.raises(NotAuthorized, match="permission"):
        client.check_authorization()


def test_logs_never_contain_the_token(client, httpserver, caplog):
    caplog.set_level("DEBUG")
    expect_graphql(httpserver).respond_with_json({"errors": "bad"}, status=401)

    with pytest.raises(NotAuthorized):
        client.check_authorization()

    assert caplog.records
    assert TOKEN not in caplog.text


def test_429_with_retry_after_blocks_the_bucket(client, httpserver):
    expect_graphql(httpserver).respond_with_json(
        {"errors": "Too many"}, status=429, headers={"Retry-After": "30"}
    )

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == 30
    assert client.throttle.blocked_until() is not None
    with pytest.raises(RateLimited) as again:
        client.get_order("1001")
    assert 28 < again.value.retry_after <= 30
    assert len(httpserver.log) == 1  # the second call never reached Shopify


def test_throttled_body_with_http_200_is_rate_limited(client, httpserver):
    expect_graphql(httpserver).respond_with_json(THROTTLED_BODY, status=200)

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    # (752 requested - 152 available) / 100 restored per second
    assert caught.value.retry_after == pytest.approx(6.0)
    with pytest.raises(RateLimited):
        client.check_authorization()
    assert len(httpserver.log) == 1


def test_throttled_body_with_http_429_uses_the_throttle_status(client, httpserver):
    expect_graphql(httpserver).respond_with_json(THROTTLED_BODY, status=429)

    with pytest.raises(RateLimited) as caught:
        client.get_order("1001")

    assert caught.value.retry_after == pytest.approx(6.0)
    assert client.throttle.blocked_until() is not None


def test_nearly_empty_point_bucket_paces_the_next_request(client, httpserver):
    body = orders_body([order_node()])
    body["extensions"] = cost(requested=500, available=100, restore=100)
    expect_graphql(httpserver).respond_with_json(body)

    assert client.get_order("1001") is not None

    # Shopify would throttle an identical query for (500 - 100) / 100 = 4 s.
    blocked_until = client.throttle.blocked_until()
    assert blocked_until is not None
    assert 3 < (blocked_until - datetime.now(UTC)).total_seconds() <= 4


def test_other_graphql_errors_are_unavailable(client, httpserver):
    body = {"errors": [{"message": "Internal error. Looks like something went wrong on our end."}]}
    expect_graphql(httpserver).respond_with_json(body)

    with pytest.raises(PlatformUnavailable, match="something went wrong"):
        client.get_order("1001")


def test_500_is_unavailable(client, httpserver):
    expect_graphql(httpserver).respond_with_data("oops", status=500)

    with pytest.raises(PlatformUnavailable, match="HTTP 500"):
        client.get_order("1001")


def test_slow_answer_past_the_read_timeout_is_unavailable(client, httpserver, slow_handler):
    expect_graphql(httpserver).respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer within 0.3 seconds"):
        client.get_order("1001")


def test_malformed_json_is_unavailable(client, httpserver):
    expect_graphql(httpserver).respond_with_data('{"data": {"orders": ', content_type="application/json")

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        client.get_order("1001")


def test_connection_refused_is_unavailable(make_connection, refused_url):
    client = ShopifyClient(
        make_connection({"shop": "kitty-test", "access_token": TOKEN, "base_url": refused_url})
    )

    with pytest.raises(PlatformUnavailable, match="Could not connect to Shopify") as caught:
        client.check_authorization()

    assert TOKEN not in str(caught.value)


def test_missing_token_is_not_authorized_without_calling_shopify(make_connection, httpserver):
    client = ShopifyClient(make_connection({"shop": "kitty-test", "base_url": httpserver.url_for("/")}))

    with pytest.raises(NotAuthorized, match="no access token"):
        client.check_authorization()

    assert httpserver.log == []


@pytest.mark.parametrize(
    ("shop", "domain"),
    [
        ("kitty-test", "kitty-test.myshopify.com"),
        ("Kitty-Test.myshopify.com", "kitty-test.myshopify.com"),
        ("https://kitty-test.myshopify.com/admin", "kitty-test.myshopify.com"),
    ],
)
def test_shop_domain_accepts_the_usual_spellings(shop, domain):
    assert shop_domain(shop) == domain


@pytest.mark.parametrize("shop", ["evil.example", "kitty-test.myshopify.com.evil.example", ""])
def test_shop_domain_refuses_other_hosts(shop):
    with pytest.raises(NotAuthorized):
        shop_domain(shop)


# --- Values of the wrong kind are coerced, not passed through ---------------------


def test_buyer_fields_and_totals_of_the_wrong_kind_are_coerced(client, httpserver):
    node = order_node(
        email=12345,
        customer={"firstName": ["Ada"], "lastName": None},
        shippingAddress={"firstName": "Ada", "lastName": "Lovelace", "zip": 10115, "countryCodeV2": {}},
        totalPriceSet={"shopMoney": {"amount": "123456789012345.00", "currencyCode": 978}},
    )
    expect_graphql(httpserver).respond_with_json(orders_body([node]))

    order = client.get_order("1001")

    assert (order.buyer.email, order.buyer.first_name, order.buyer.last_name) == ("12345", "Ada", "Lovelace")
    assert (order.buyer.postcode, order.buyer.country) == ("10115", "")
    assert order.total is None
    assert order.currency == "978"


def test_an_order_in_an_unexpected_shape_is_listed_as_unreadable(client, httpserver):
    broken = order_node("1002", createdAt=None)
    expect_graphql(httpserver).respond_with_json(
        orders_body([order_node("1001"), broken, order_node("1003")])
    )

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [order.number for order in orders] == ["1001", "1002", "1003"]
    assert isinstance(orders[1], UnreadableOrder)
    assert orders[1].id == "gid://shopify/Order/100200"


# --- Paging that never ends is stopped ---------------------------------------------


def test_a_repeated_cursor_stops_the_listing(client, httpserver):
    pages = {
        None: orders_body([order_node("1001")], has_next=True, cursor="c1"),
        "c1": orders_body([order_node("1002")], has_next=True, cursor="c1"),
    }
    asked = []

    def handler(request: Request) -> Response:
        after = request.get_json()["variables"]["after"]
        asked.append(after)
        if len(asked) > 20:  # without a guard the client would ask forever
            return Response("enough", status=500)
        return Response(json.dumps(pages[after]), content_type="application/json")

    expect_graphql(httpserver).respond_with_handler(handler)

    orders = client.list_orders(datetime(2026, 1, 1, tzinfo=UTC))
    numbers = [next(orders).number, next(orders).number]
    with pytest.raises(PaginationStuck, match="same place"):
        next(orders)

    assert numbers == ["1001", "1002"]
    assert asked == [None, "c1"]


def test_a_page_of_orders_already_listed_stops_the_listing(client, httpserver):
    count = iter(range(1, 100))

    def handler(request: Request) -> Response:
        n = next(count)
        if n > 20:
            return Response("enough", status=500)
        # A fresh cursor every time, but always the same orders.
        body = orders_body([order_node("1001"), order_node("1002")], has_next=True, cursor=f"c{n}")
        return Response(json.dumps(body), content_type="application/json")

    expect_graphql(httpserver).respond_with_handler(handler)

    with pytest.raises(PaginationStuck):
        list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert len(httpserver.log) == 2


def test_an_order_whose_lines_repeat_their_cursor_is_stopped(client, httpserver):
    first_lines = {
        "pageInfo": {"hasNextPage": True, "endCursor": "lines-1"},
        "nodes": [{"sku": "SKU-0", "title": "", "quantity": 1, "currentQuantity": 1}],
    }
    line_requests = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        if "OrderLines" in body["query"]:
            line_requests.append(body["variables"]["after"])
            if len(line_requests) > 20:
                return Response("enough", status=500)
            items = {
                "pageInfo": {"hasNextPage": True, "endCursor": "lines-2"},
                "nodes": [{"sku": "SKU-1", "title": "", "quantity": 1, "currentQuantity": 1}],
            }
            payload = {"data": {"order": {"lineItems": items}}, "extensions": cost()}
            return Response(json.dumps(payload), content_type="application/json")
        payload = orders_body([order_node(lineItems=first_lines)])
        return Response(json.dumps(payload), content_type="application/json")

    expect_graphql(httpserver).respond_with_handler(handler)

    with pytest.raises(PaginationStuck, match="lines"):
        client.get_order("1001")

    assert line_requests == ["lines-1", "lines-2"]


# --- A short throttle is sat out inside the client -----------------------------------


def test_a_short_throttle_in_the_body_is_waited_out_and_the_query_sent_again(client, httpserver):
    # (152 requested - 52 available) / 100 per second: a 1 s wait, within get_order's 2 s.
    throttled = {**THROTTLED_BODY, "extensions": cost(requested=152, available=52, restore=100)}
    queue = [throttled]

    def handler(request: Request) -> Response:
        body = queue.pop(0) if queue else orders_body([order_node()])
        return Response(json.dumps(body), content_type="application/json")

    expect_graphql(httpserver).respond_with_handler(handler)

    started = time.monotonic()
    order = client.get_order("1001")

    assert order.number == "1001"
    assert len(httpserver.log) == 2
    assert time.monotonic() - started >= 0.9
