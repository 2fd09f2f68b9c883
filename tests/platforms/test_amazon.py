"""AmazonClient against a local server answering in the SP-API Orders v0 and LWA shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import Request, Response

from apps.platforms import amazon
from apps.platforms.amazon import (
    GET_ORDER,
    GET_ORDERS,
    STATUSES,
    AmazonClient,
    order_number_read,
    source_order,
)
from apps.platforms.authorization import AuthorizationAnswer
from apps.platforms.base import (
    MalformedOrder,
    NotAuthorized,
    OrderNumberProblem,
    OrderState,
    PaginationStuck,
    PlatformUnavailable,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from tests.platforms.status_words import assert_step_six_follows, every_word

REFRESH_TOKEN = "Atzr|IwEBIJ-refresh-token-very-secret"
ACCESS_TOKEN = "Atza|IwEBIA-access-token-secret"
CLIENT_ID = "amzn1.application-oa2-client.0123456789abcdef"
CLIENT_SECRET = "amzn1.oa2-cs.v1.lwa-client-secret"
ORDER_ID = "902-3159896-1390916"
ORDERS = "/orders/v0/orders"
TOKEN_PATH = "/auth/o2/token"
MARKETPLACE = "A1PA6795UKMFR9"


def amazon_order(
    order_id: str = ORDER_ID, *, status: str = "Unshipped", purchased: str = "2026-01-05T10:00:00Z"
):
    return {
        "AmazonOrderId": order_id,
        "PurchaseDate": purchased,
        "LastUpdateDate": purchased,
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.de",
        "OrderTotal": {"CurrencyCode": "EUR", "Amount": "24.90"},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 2,
        "MarketplaceId": MARKETPLACE,
        "ShippingAddress": {
            "City": "Berlin",
            "StateOrRegion": "BE",
            "PostalCode": "10115",
            "CountryCode": "DE",
        },
        "BuyerInfo": {},
    }


def order_item(sku: str = "MUG-BLUE-001", *, quantity: int = 2, item_id: str = "68828574383266") -> dict:
    return {
        "ASIN": "B00551Q3CS",
        "SellerSKU": sku,
        "OrderItemId": item_id,
        "Title": "Blue mug",
        "QuantityOrdered": quantity,
        "QuantityShipped": 0,
    }


def items_body(order_id: str = ORDER_ID, items: list | None = None, next_token: str | None = None) -> dict:
    payload = {"AmazonOrderId": order_id, "OrderItems": [order_item()] if items is None else items}
    if next_token:
        payload["NextToken"] = next_token
    return {"payload": payload}


def orders_body(orders: list[dict], next_token: str | None = None) -> dict:
    payload = {"Orders": orders, "CreatedBefore": "2026-01-07T10:00:00Z"}
    if next_token:
        payload["NextToken"] = next_token
    return {"payload": payload}


def unauthorized_body() -> dict:
    return {
        "errors": [
            {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "The access token you provided is revoked, malformed or invalid.",
            }
        ]
    }


@pytest.fixture
def credentials(httpserver) -> dict:
    return {
        "region": "eu",
        "marketplace_ids": MARKETPLACE,
        "refresh_token": REFRESH_TOKEN,
        "lwa_client_id": CLIENT_ID,
        "lwa_client_secret": CLIENT_SECRET,
        "base_url": httpserver.url_for("/").rstrip("/"),
        "token_url": httpserver.url_for(TOKEN_PATH),
    }


@pytest.fixture
def client(credentials, make_connection) -> AmazonClient:
    return AmazonClient(make_connection(credentials))


@pytest.fixture
def lwa(httpserver):
    """The LWA token endpoint, issuing ACCESS_TOKEN for an hour."""
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 3600,
        }
    )


def expect_api(httpserver, path: str, query_string=None):
    return httpserver.expect_request(
        path, method="GET", headers={"x-amz-access-token": ACCESS_TOKEN}, query_string=query_string
    )


def expect_order(httpserver, order: dict | None = None, items: list | None = None):
    order = order or amazon_order()
    expect_api(httpserver, f"{ORDERS}/{order['AmazonOrderId']}").respond_with_json({"payload": order})
    expect_api(httpserver, f"{ORDERS}/{order['AmazonOrderId']}/orderItems").respond_with_json(
        items_body(order["AmazonOrderId"], items)
    )


def api_requests(httpserver) -> list[Request]:
    return [request for request, _response in httpserver.log if request.path != TOKEN_PATH]


def token_requests(httpserver) -> list[Request]:
    return [request for request, _response in httpserver.log if request.path == TOKEN_PATH]


# --- Statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("Pending", OrderState.PENDING_PAYMENT),
        ("PendingAvailability", OrderState.PENDING_PAYMENT),
        ("Unshipped", OrderState.IMPORTABLE),
        ("PartiallyShipped", OrderState.IMPORTABLE),
        ("Shipped", OrderState.IMPORTABLE),
        ("InvoiceUnconfirmed", OrderState.IMPORTABLE),
        ("Canceled", OrderState.CANCELLED),
        ("Unfulfillable", OrderState.FAILED),
        ("SomethingAmazonAddsLater", OrderState.ON_HOLD),
    ],
)
def test_order_state_follows_the_amazon_order_status(client, httpserver, lwa, status, state):
    expect_order(httpserver, amazon_order(status=status))

    order = client.get_order(ORDER_ID)

    assert order.state == state
    assert order.platform_status == status


# --- One order ---------------------------------------------------------------------


def test_get_order_reads_the_order_and_its_items(client, httpserver, lwa):
    expect_order(
        httpserver,
        items=[order_item("MUG-BLUE-001", quantity=2), order_item("MUG-RED-001", quantity=1, item_id="2")],
    )

    order = client.get_order(f" #{ORDER_ID} ")

    assert (order.id, order.number) == (ORDER_ID, ORDER_ID)
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug"),
        ("MUG-RED-001", 1, "Blue mug"),
    ]
    assert (order.currency, order.total) == ("EUR", Decimal("24.90"))
    assert (order.buyer.city, order.buyer.postcode, order.buyer.country) == ("Berlin", "10115", "DE")
    assert [request.path for request in api_requests(httpserver)] == [
        f"{ORDERS}/{ORDER_ID}",
        f"{ORDERS}/{ORDER_ID}/orderItems",
    ]


def test_without_a_restricted_data_token_the_order_says_amazon_withholds_the_buyer(client, httpserver, lwa):
    expect_order(httpserver)

    order = client.get_order(ORDER_ID)

    assert (order.buyer.email, order.buyer.first_name, order.buyer.last_name) == ("", "", "")
    assert order.buyer_contact_shared is False
    assert AmazonClient.capabilities.buyer_contact is False


def test_buyer_details_amazon_does_share_are_kept(client, httpserver, lwa):
    shared = {
        **amazon_order(),
        "BuyerInfo": {"BuyerEmail": "x7kq@marketplace.amazon.de", "BuyerName": "Ada King Lovelace"},
    }
    expect_order(httpserver, shared)

    order = client.get_order(ORDER_ID)

    assert order.buyer.email == "x7kq@marketplace.amazon.de"
    assert (order.buyer.first_name, order.buyer.last_name) == ("Ada King", "Lovelace")
    assert order.buyer_contact_shared is True


def test_an_order_with_many_items_follows_the_items_next_token(client, httpserver, lwa):
    path = f"{ORDERS}/{ORDER_ID}/orderItems"
    seen = []

    def items(request: Request) -> Response:
        seen.append(request.args.get("NextToken"))
        if "NextToken" in request.args:
            body = items_body(items=[order_item("SKU-2", item_id="2")])
        else:
            body = items_body(items=[order_item("SKU-1", item_id="1")], next_token="items-2")
        return Response(json.dumps(body), content_type="application/json")

    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_json({"payload": amazon_order()})
    expect_api(httpserver, path).respond_with_handler(items)

    order = client.get_order(ORDER_ID)

    assert [line.sku for line in order.lines] == ["SKU-1", "SKU-2"]
    assert seen == [None, "items-2"]


def test_an_items_next_token_that_repeats_is_stopped(client, httpserver, lwa):
    asked = []

    def items(request: Request) -> Response:
        asked.append(request.args.get("NextToken"))
        if len(asked) > 20:  # without a guard the client would ask forever
            return Response("enough", status=500)
        return Response(json.dumps(items_body(next_token="items-2")), content_type="application/json")

    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_json({"payload": amazon_order()})
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}/orderItems").respond_with_handler(items)

    with pytest.raises(PaginationStuck, match="items"):
        client.get_order(ORDER_ID)

    assert asked == [None, "items-2"]


def test_cancelled_items_are_left_out(client, httpserver, lwa):
    expect_order(
        httpserver, items=[order_item("GONE", quantity=0), order_item("KEPT", quantity=1, item_id="2")]
    )

    assert [line.sku for line in client.get_order(ORDER_ID).lines] == ["KEPT"]


def test_an_order_amazon_does_not_have_is_none(client, httpserver, lwa):
    body = {"errors": [{"code": "NotFound", "message": "Invalid AmazonOrderId"}]}
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_json(body, status=404)

    assert client.get_order(ORDER_ID) is None


@pytest.mark.parametrize("typed", ["1001", "#1001", "902-3159896", "ABC-1234567-1234567", ""])
def test_a_number_that_cannot_be_an_amazon_order_is_not_looked_up(client, httpserver, typed):
    assert client.get_order(typed) is None

    assert httpserver.log == []


@pytest.mark.parametrize("typed", [ORDER_ID, f"#{ORDER_ID}", " 902 3159896 1390916 ", "90231598961390916"])
def test_the_ways_merchants_type_an_amazon_order_id_read_as_amazon_writes_it(typed):
    assert order_number_read(typed) == ORDER_ID


@pytest.mark.parametrize("typed", ["1001", "#KT-1001", "902-31598961-390916", "902-3159896-13909160"])
def test_a_number_that_is_not_an_amazon_order_id_says_what_one_looks_like(typed):
    with pytest.raises(OrderNumberProblem, match="Amazon order numbers look like 123-1234567-1234567"):
        order_number_read(typed)


# --- Listing -------------------------------------------------------------------------


def test_list_orders_follows_next_token_and_reads_each_orders_items(client, httpserver, lwa):
    first, second, third = "111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003"
    pages = {
        None: orders_body(
            [amazon_order(second, purchased="2026-01-05T11:00:00Z"), amazon_order(first)], next_token="page-2"
        ),
        "page-2": orders_body([amazon_order(third, purchased="2026-01-06T10:00:00Z")]),
    }
    seen = []

    def orders(request: Request) -> Response:
        seen.append(request.args.to_dict())
        return Response(json.dumps(pages[request.args.get("NextToken")]), content_type="application/json")

    def items(request: Request) -> Response:
        order_id = request.path.split("/")[-2]
        body = items_body(order_id, [order_item(f"SKU-{order_id[-1]}")])
        return Response(json.dumps(body), content_type="application/json")

    expect_api(httpserver, ORDERS).respond_with_handler(orders)
    for order_id in (first, second, third):
        expect_api(httpserver, f"{ORDERS}/{order_id}/orderItems").respond_with_handler(items)

    orders_listed = list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert [order.number for order in orders_listed] == [first, second, third]  # oldest first
    assert [order.lines[0].sku for order in orders_listed] == ["SKU-1", "SKU-2", "SKU-3"]
    assert seen == [
        {"MarketplaceIds": MARKETPLACE, "CreatedAfter": "2026-01-05T00:00:00Z", "MaxResultsPerPage": "100"},
        {"MarketplaceIds": MARKETPLACE, "NextToken": "page-2"},
    ]


def test_list_orders_since_the_last_two_minutes_asks_from_two_minutes_ago(client, httpserver, lwa):
    just_now = datetime.now(UTC) - timedelta(seconds=30)
    expect_api(httpserver, ORDERS).respond_with_json(
        orders_body(
            [amazon_order(purchased=(just_now - timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ"))]
        )
    )

    orders = list(client.list_orders(just_now))

    asked = datetime.fromisoformat(api_requests(httpserver)[0].args["CreatedAfter"].replace("Z", "+00:00"))
    assert asked <= datetime.now(UTC) - timedelta(minutes=2)
    assert orders == []  # the order before `since` is dropped by us, without asking for its items
    assert [request.path for request in api_requests(httpserver)] == [ORDERS]


def test_a_repeated_next_token_stops_the_listing(client, httpserver, lwa):
    asked = []

    def orders(request: Request) -> Response:
        asked.append(request.args.get("NextToken"))
        if len(asked) > 20:  # without a guard the client would ask forever
            return Response("enough", status=500)
        order_id = f"111-0000000-000000{len(asked)}"
        return Response(
            json.dumps(orders_body([amazon_order(order_id)], "same")), content_type="application/json"
        )

    expect_api(httpserver, ORDERS).respond_with_handler(orders)
    httpserver.expect_request(f"{ORDERS}/111-0000000-0000001/orderItems").respond_with_json(items_body())
    httpserver.expect_request(f"{ORDERS}/111-0000000-0000002/orderItems").respond_with_json(items_body())

    listing = client.list_orders(datetime(2026, 1, 1, tzinfo=UTC))
    numbers = [next(listing).number, next(listing).number]
    with pytest.raises(PaginationStuck, match="same place"):
        next(listing)

    assert numbers == ["111-0000000-0000001", "111-0000000-0000002"]
    assert asked == [None, "same"]


def test_a_page_of_orders_already_listed_stops_the_listing(client, httpserver, lwa):
    count = iter(range(1, 100))

    def orders(request: Request) -> Response:
        n = next(count)
        if n > 20:
            return Response("enough", status=500)
        # A fresh token every time, but always the same order.
        return Response(
            json.dumps(orders_body([amazon_order()], f"token-{n}")), content_type="application/json"
        )

    expect_api(httpserver, ORDERS).respond_with_handler(orders)
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}/orderItems").respond_with_json(items_body())

    with pytest.raises(PaginationStuck, match="same page"):
        list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert len([r for r in api_requests(httpserver) if r.path == ORDERS]) == 2


def test_an_order_in_an_unexpected_shape_is_listed_as_unreadable(client, httpserver, lwa):
    first, broken, third = "111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003"
    bad = amazon_order(broken)
    bad["PurchaseDate"] = None
    expect_api(httpserver, ORDERS).respond_with_json(
        orders_body([amazon_order(first), bad, amazon_order(third)])
    )
    for order_id in (first, broken, third):
        expect_api(httpserver, f"{ORDERS}/{order_id}/orderItems").respond_with_json(items_body(order_id))

    orders = list(client.list_orders(datetime(2026, 1, 1, tzinfo=UTC)))

    assert [order.number for order in orders] == [broken, first, third]  # no date sorts first
    assert isinstance(orders[0], UnreadableOrder)
    assert "shape we did not expect" in orders[0].reason


# --- Login with Amazon access tokens ---------------------------------------------------------


def test_the_access_token_is_refreshed_once_and_reused_until_it_nearly_expires(client, httpserver, lwa):
    expect_order(httpserver)

    client.get_order(ORDER_ID)
    client.get_order(ORDER_ID)

    tokens = token_requests(httpserver)
    assert len(tokens) == 1
    form = parse_qs(tokens[0].get_data(as_text=True))
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert tokens[0].headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_an_access_token_about_to_expire_is_not_reused(client, httpserver):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 60}
    )
    expect_order(httpserver)

    client.get_order(ORDER_ID)
    client.get_order(ORDER_ID)

    assert len(token_requests(httpserver)) == 2


def test_a_revoked_refresh_token_is_not_authorized(client, httpserver, caplog):
    caplog.set_level("DEBUG")
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {
            "error_description": "The request has an invalid grant parameter : refresh_token",
            "error": "invalid_grant",
        },
        status=400,
    )

    with pytest.raises(NotAuthorized, match="revoked it in Seller Central") as caught:
        client.get_order(ORDER_ID)

    assert api_requests(httpserver) == []
    for secret in (REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


def test_app_keys_amazon_does_not_accept_are_our_fault_not_the_merchants(client, httpserver):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"error_description": "Client authentication failed", "error": "invalid_client"}, status=401
    )

    with pytest.raises(NotAuthorized, match="contact support"):
        client.check_authorization()


def test_a_cached_access_token_amazon_turns_down_is_refreshed_and_the_call_sent_again(
    client, httpserver, lwa
):
    expect_order(httpserver)
    client.get_order(ORDER_ID)  # caches the token
    httpserver.clear_log()
    refused = []

    def order(request: Request) -> Response:
        if not refused:
            refused.append(True)
            return Response(json.dumps(unauthorized_body()), status=403, content_type="application/json")
        return Response(json.dumps({"payload": amazon_order()}), content_type="application/json")

    httpserver.clear_all_handlers()
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600}
    )
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_handler(order)
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}/orderItems").respond_with_json(items_body())

    assert client.get_order(ORDER_ID).number == ORDER_ID
    assert len(token_requests(httpserver)) == 1


# --- Errors -----------------------------------------------------------------------------


def test_403_unauthorized_is_not_authorized_and_hides_the_tokens(client, httpserver, lwa, caplog):
    caplog.set_level("DEBUG")
    expect_api(httpserver, ORDERS).respond_with_json(unauthorized_body(), status=403)

    with pytest.raises(NotAuthorized, match="Reauthorize the plugin from Seller Central") as caught:
        client.check_authorization()

    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET):
        assert secret not in str(caught.value)
        assert secret not in caplog.text
    # A token just refreshed is not refreshed again: the refusal is the seller's authorization.
    assert len(token_requests(httpserver)) == 1


def test_401_is_not_authorized(client, httpserver, lwa):
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_json(unauthorized_body(), status=401)

    with pytest.raises(NotAuthorized, match="rejected the access token"):
        client.get_order(ORDER_ID)


def test_a_plugin_without_a_refresh_token_is_not_authorized_without_calling_amazon(
    credentials, make_connection, httpserver
):
    client = AmazonClient(make_connection({**credentials, "refresh_token": ""}))

    with pytest.raises(NotAuthorized, match="no authorization yet"):
        client.check_authorization()

    assert httpserver.log == []


def test_429_with_retry_after_blocks_that_operation_only(client, httpserver, lwa):
    quota = {
        "errors": [
            {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}
        ]
    }
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_json(
        quota, status=429, headers={"Retry-After": "30"}
    )
    expect_api(httpserver, ORDERS).respond_with_json(orders_body([]))

    with pytest.raises(RateLimited) as caught:
        client.get_order(ORDER_ID)

    assert caught.value.retry_after == 30
    assert client.operation_throttle(GET_ORDER).blocked_until() is not None
    assert client.operation_throttle(GET_ORDERS).blocked_until() is None
    client.check_authorization()  # getOrders has its own budget
    with pytest.raises(RateLimited):
        client.get_order(ORDER_ID)
    assert [r.path for r in api_requests(httpserver)] == [f"{ORDERS}/{ORDER_ID}", ORDERS]


@pytest.mark.parametrize(("limit", "wait"), [("0.0167", 1 / 0.0167), ("0.5", 2.0)])
def test_429_without_retry_after_waits_one_request_at_the_operations_rate(
    client, httpserver, lwa, limit, wait
):
    quota = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota."}]}
    expect_api(httpserver, ORDERS).respond_with_json(
        quota, status=429, headers={"x-amzn-RateLimit-Limit": limit}
    )

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == pytest.approx(wait)


def test_429_without_any_hint_waits_a_minute(client, httpserver, lwa):
    expect_api(httpserver, ORDERS).respond_with_json({"errors": [{"code": "QuotaExceeded"}]}, status=429)

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == 60


def test_get_orders_is_paced_at_amazons_one_a_minute_after_its_burst(client, httpserver, lwa):
    expect_api(httpserver, ORDERS).respond_with_json(orders_body([]))
    expect_order(httpserver)

    for _ in range(20):
        client.check_authorization()
    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert 55 < caught.value.retry_after <= 60
    assert client.get_order(ORDER_ID) is not None  # getOrder's budget is untouched
    assert len([r for r in api_requests(httpserver) if r.path == ORDERS]) == 20


def test_500_is_unavailable(client, httpserver, lwa):
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_json(
        {"errors": [{"code": "InternalFailure", "message": "We encountered an internal error."}]}, status=500
    )

    with pytest.raises(PlatformUnavailable, match="HTTP 500"):
        client.get_order(ORDER_ID)


def test_slow_answer_past_the_read_timeout_is_unavailable(client, httpserver, lwa, slow_handler):
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer within 0.3 seconds"):
        client.get_order(ORDER_ID)


def test_a_slow_token_endpoint_is_unavailable(client, httpserver, slow_handler):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer"):
        client.get_order(ORDER_ID)


def test_malformed_json_is_unavailable(client, httpserver, lwa):
    expect_api(httpserver, f"{ORDERS}/{ORDER_ID}").respond_with_data(
        '{"payload": {"AmazonOrderId": ', content_type="application/json"
    )

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        client.get_order(ORDER_ID)


def test_an_order_in_an_unexpected_shape_is_malformed(client, httpserver, lwa):
    expect_order(httpserver, {**amazon_order(), "OrderStatus": ["Unshipped"]})

    with pytest.raises(MalformedOrder, match="shape we did not expect"):
        client.get_order(ORDER_ID)


# --- Any JSON at all: an order or the typed malformed error ------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=25,
)
order_keys = st.sampled_from(
    ["AmazonOrderId", "PurchaseDate", "OrderStatus", "OrderTotal", "BuyerInfo", "ShippingAddress"]
)
item_keys = st.sampled_from(["SellerSKU", "QuantityOrdered", "Title"])
orderish = st.dictionaries(order_keys, json_values | st.just("2026-01-05T10:00:00Z"), max_size=6)
itemish = st.dictionaries(item_keys, json_values, max_size=3)


@settings(max_examples=300, deadline=None)
@given(order=orderish | json_values, items=st.lists(itemish | json_values, max_size=3) | json_values)
def test_the_parser_turns_any_json_into_an_order_or_the_typed_malformed_error(order, items):
    try:
        parsed = source_order(order, items)
    except MalformedOrder:
        return
    assert isinstance(parsed, SourceOrder)
    assert parsed.placed_at.tzinfo is not None


# --- The seller's authorization ----------------------------------------------------------------


def test_authorize_url_sends_the_seller_to_seller_centrals_consent_page():
    url = amazon.authorize_url(
        application_id="amzn1.sp.solution.0123",
        state="opaque-state",
        redirect_uri="https://help.example/amazon/callback",
        seller_central_url="https://sellercentral.amazon.de",
        draft=True,
    )

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "sellercentral.amazon.de",
        "/apps/authorize/consent",
    )
    assert parse_qs(parts.query) == {
        "application_id": ["amzn1.sp.solution.0123"],
        "state": ["opaque-state"],
        "redirect_uri": ["https://help.example/amazon/callback"],
        "version": ["beta"],
    }


@pytest.fixture
def lwa_app(settings, httpserver):
    settings.AMAZON_LWA_CLIENT_ID, settings.AMAZON_LWA_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.AMAZON_LWA_TOKEN_URL = httpserver.url_for(TOKEN_PATH)


def consent(code: str, connection) -> AuthorizationAnswer:
    return AuthorizationAnswer(
        {},
        {"spapi_oauth_code": code, "selling_partner_id": "A3SELLER", "state": "s"},
        connection,
        callback_url="https://help.example/amazon/callback",
    )


def test_reauthorize_trades_the_code_for_tokens_the_client_then_uses(
    httpserver, make_connection, lwa_app, credentials, lwa
):
    kept = amazon.AUTHORIZATION.finish(consent("ANDGXVLxYmRmPIcqIyqP", make_connection({})))

    form = parse_qs(httpserver.log[0][0].get_data(as_text=True))
    assert form == {
        "grant_type": ["authorization_code"],
        "code": ["ANDGXVLxYmRmPIcqIyqP"],
        "redirect_uri": ["https://help.example/amazon/callback"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert (kept["refresh_token"], kept["selling_partner_id"]) == (REFRESH_TOKEN, "A3SELLER")
    # The access token that came with the refresh token serves the first calls.
    expect_order(httpserver)
    AmazonClient(make_connection({**credentials, **kept})).get_order(ORDER_ID)
    assert len(token_requests(httpserver)) == 1


def test_an_expired_authorization_code_is_not_authorized(httpserver, make_connection, lwa_app):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"error": "invalid_grant", "error_description": "Authorization code expired"}, status=400
    )

    with pytest.raises(NotAuthorized, match="Start Reauthorize again"):
        amazon.AUTHORIZATION.finish(consent("expired", make_connection({})))


# --- Every status, read whole -------------------------------------------------------


def test_the_table_holds_every_documented_order_status():
    assert {e.word for e in STATUSES} == {
        "PendingAvailability", "Pending", "Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed",
        "Canceled", "Unfulfillable",
    }  # fmt: skip


@pytest.mark.parametrize(**every_word(STATUSES))
def test_each_status_is_read_through_the_client_and_step_six_follows_its_outcome(
    client, httpserver, lwa, entry
):
    expect_order(httpserver, amazon_order(status=entry.word))

    assert_step_six_follows(entry, client.get_order(ORDER_ID))
