"""EbayClient against a local server answering in the Sell Fulfillment API's shapes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.commerce.importing import rule_importable_state
from apps.platforms import ebay
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
from apps.platforms.ebay import EbayClient, source_order
from tests.platforms.status_words import assert_step_six_follows, every_word

TOKEN = "v^1.1#i^1#access-token-abcdef"
REFRESH = "v^1.1#i^1#refresh-token-123456"
ORDERS = "/sell/fulfillment/v1/order"
APP_BASIC = "Basic " + base64.b64encode(b"ebay-client-id:ebay-secret").decode()


def ebay_order(
    order_id: str = "12-34567-89012",
    *,
    payment: str = "PAID",
    created: str = "2026-01-05T10:00:00.000Z",
    **overrides,
) -> dict:
    order = {
        "orderId": order_id,
        "legacyOrderId": "123456789012-1234567890",
        "creationDate": created,
        "orderPaymentStatus": payment,
        "orderFulfillmentStatus": "NOT_STARTED",
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "buyer": {
            "username": "ada_l",
            "buyerRegistrationAddress": {"fullName": "Ada Lovelace", "email": "ada@members.ebay.com"},
        },
        "pricingSummary": {"total": {"value": "24.90", "currency": "EUR"}},
        "fulfillmentStartInstructions": [
            {
                "shippingStep": {
                    "shipTo": {
                        "fullName": "Ada Lovelace",
                        "email": "abc123@members.ebay.com",
                        "contactAddress": {
                            "addressLine1": "1 Analytical Row",
                            "city": "London",
                            "postalCode": "N1 1AA",
                            "countryCode": "GB",
                        },
                    }
                }
            }
        ],
        "lineItems": [{"lineItemId": "1", "sku": "MUG-BLUE-001", "title": "Blue mug", "quantity": 2}],
    }
    order.update(overrides)
    return order


def orders_page(orders: list[dict], *, offset: int = 0, total: int | None = None, limit: int = 200) -> dict:
    return {
        "href": "…",
        "limit": limit,
        "offset": offset,
        "total": len(orders) if total is None else total,
        "orders": orders,
    }


def error_body(error_id: int, message: str) -> dict:
    return {
        "errors": [
            {"errorId": error_id, "domain": "API_FULFILLMENT", "category": "REQUEST", "message": message}
        ]
    }


@pytest.fixture
def ebay_app(settings):
    settings.EBAY_CLIENT_ID = "ebay-client-id"
    settings.EBAY_CLIENT_SECRET = "ebay-secret"
    settings.EBAY_RU_NAME = "Commerce_Kitty-CommerceK-kitty-abcde"


@pytest.fixture
def make_client(httpserver, make_connection):
    def make(**credentials) -> EbayClient:
        saved: list[dict] = []
        connection = make_connection(
            {"access_token": TOKEN, "base_url": httpserver.url_for("/").rstrip("/"), **credentials}
        )
        connection = type(connection)(
            bucket=connection.bucket,
            credentials=connection.credentials,
            timeout=connection.timeout,
            credentials_renewed=saved.append,
        )
        client = EbayClient(connection)
        client.saved = saved
        return client

    return make


@pytest.fixture
def client(make_client) -> EbayClient:
    return make_client()


def expect(httpserver, path: str = ORDERS, *, token: str = TOKEN, query_string=None):
    return httpserver.expect_request(
        path, method="GET", headers={"Authorization": f"Bearer {token}"}, query_string=query_string
    )


def test_get_order_normalizes_the_whole_order(client, httpserver):
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(ebay_order())

    order = client.get_order(" 12-34567-89012 ")

    assert (order.id, order.number) == ("12-34567-89012", "12-34567-89012")
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert (order.state, order.platform_status) == (OrderState.IMPORTABLE, "PAID, NOT_STARTED")
    assert [(line.sku, line.quantity, line.title) for line in order.lines] == [
        ("MUG-BLUE-001", 2, "Blue mug")
    ]
    assert (order.buyer.email, order.buyer.first_name, order.buyer.last_name) == (
        "abc123@members.ebay.com",
        "Ada",
        "Lovelace",
    )
    assert (order.buyer.city, order.buyer.postcode, order.buyer.country) == ("London", "N1 1AA", "GB")
    assert (order.currency, order.total) == ("EUR", Decimal("24.90"))


def test_get_order_not_found_is_none(client, httpserver):
    expect(httpserver, f"{ORDERS}/99-99999-99999").respond_with_json(
        error_body(32100, "Invalid order ID: 99-99999-99999"), status=404
    )

    assert client.get_order("99-99999-99999") is None


def test_an_order_number_eBay_cannot_have_is_not_asked_for(client, httpserver):
    assert client.get_order("12/../34") is None
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("payment", "cancel", "state", "words", "detail"),
    [
        ("PAID", "NONE_REQUESTED", OrderState.IMPORTABLE, "PAID, NOT_STARTED", ""),
        (
            "PARTIALLY_REFUNDED",
            "NONE_REQUESTED",
            OrderState.IMPORTABLE,
            "PARTIALLY_REFUNDED, NOT_STARTED",
            "",
        ),
        (
            "PENDING",
            "NONE_REQUESTED",
            OrderState.PENDING_PAYMENT,
            "PENDING, NOT_STARTED",
            "waiting for eBay to finish processing the buyer's payment",
        ),
        ("FAILED", "NONE_REQUESTED", OrderState.FAILED, "FAILED, NOT_STARTED", "the buyer's payment failed"),
        ("FULLY_REFUNDED", "NONE_REQUESTED", OrderState.REFUNDED, "FULLY_REFUNDED, NOT_STARTED", ""),
        ("PAID", "CANCELED", OrderState.CANCELLED, "PAID, NOT_STARTED, CANCELED", ""),
        (
            "PAID",
            "IN_PROGRESS",
            OrderState.ON_HOLD,
            "PAID, NOT_STARTED, cancellation requested",
            "not ready to import yet (“PAID, NOT_STARTED, cancellation requested”): it is waiting for you to "
            "accept or decline the buyer's cancel request",
        ),
        ("SOMETHING_NEW", "NONE_REQUESTED", OrderState.ON_HOLD, "SOMETHING_NEW, NOT_STARTED", ""),
    ],
)
def test_payment_and_cancel_status_decide_the_state_and_step_six_says_why(
    client, httpserver, payment, cancel, state, words, detail
):
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(
        ebay_order(payment=payment, cancelStatus={"cancelState": cancel})
    )

    order = client.get_order("12-34567-89012")
    step_six = rule_importable_state(order)

    assert (order.state, order.platform_status) == (state, words)
    assert step_six.passed == (state == OrderState.IMPORTABLE)
    assert words in step_six.message
    assert detail in step_six.message


def test_a_fulfilled_paid_order_still_imports(client, httpserver):
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(
        ebay_order(orderFulfillmentStatus="FULFILLED")
    )

    assert client.get_order("12-34567-89012").state == OrderState.IMPORTABLE


def test_list_orders_filters_by_creationdate_pages_by_offset_and_hands_out_oldest_first(
    client, httpserver, monkeypatch
):
    monkeypatch.setattr(ebay, "PAGE_SIZE", 2)
    newest_first = [
        ebay_order("10-00000-00004", created="2026-01-08T10:00:00.000Z"),
        ebay_order("10-00000-00003", created="2026-01-07T10:00:00.000Z"),
        ebay_order("10-00000-00002", created="2026-01-06T10:00:00.000Z"),
    ]
    window = "creationdate:[2026-01-05T00:00:00.000Z..]"
    expect(httpserver, query_string={"filter": window, "limit": "2", "offset": "0"}).respond_with_json(
        orders_page(newest_first[:2], total=3, limit=2)
    )
    expect(httpserver, query_string={"filter": window, "limit": "2", "offset": "2"}).respond_with_json(
        orders_page(newest_first[2:], offset=2, total=3, limit=2)
    )

    orders = list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert [order.number for order in orders] == ["10-00000-00002", "10-00000-00003", "10-00000-00004"]


def test_a_repeated_page_stops_the_listing_instead_of_looping(client, httpserver, monkeypatch):
    monkeypatch.setattr(ebay, "PAGE_SIZE", 2)
    same = [ebay_order("10-00000-00001"), ebay_order("10-00000-00002")]
    expect(httpserver).respond_with_json(orders_page(same, total=1000, limit=2))  # every offset: the same two

    with pytest.raises(PaginationStuck, match="same page of orders again"):
        list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))
    assert len(httpserver.log) == 2


def test_one_unreadable_order_does_not_stop_the_listing(client, httpserver):
    expect(httpserver).respond_with_json(
        orders_page([ebay_order("10-00000-00001"), ebay_order("10-00000-00002", creationDate=17)])
    )

    orders = list(client.list_orders(datetime(2026, 1, 5, tzinfo=UTC)))

    assert isinstance(orders[0], SourceOrder)
    assert orders[1] == UnreadableOrder(
        id="10-00000-00002",
        number="10-00000-00002",
        reason="eBay sent this order in a shape we did not expect.",
    )


def test_invalid_token_is_not_authorized_and_hides_the_token(client, httpserver, caplog):
    caplog.set_level("DEBUG")
    expect(httpserver).respond_with_json(error_body(1001, "Invalid access token"), status=401)

    with pytest.raises(NotAuthorized, match="errorId 1001") as caught:
        client.check_authorization()

    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text


def test_an_expired_token_is_refreshed_first_and_the_new_one_kept(make_client, httpserver, ebay_app):
    client = make_client(
        access_token="old-token",
        refresh_token=REFRESH,
        access_token_expires_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    )
    httpserver.expect_request(
        "/identity/v1/oauth2/token",
        method="POST",
        headers={"Authorization": APP_BASIC},
        data=f"grant_type=refresh_token&refresh_token={REFRESH.replace('^', '%5E').replace('#', '%23')}&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment.readonly",
    ).respond_with_json({"access_token": TOKEN, "expires_in": 7200, "token_type": "User Access Token"})
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(ebay_order())

    assert client.get_order("12-34567-89012").number == "12-34567-89012"
    (saved,) = client.saved
    assert saved["access_token"] == TOKEN
    assert datetime.fromisoformat(saved["access_token_expires_at"]) > datetime.now(UTC) + timedelta(
        minutes=100
    )


def test_a_token_eBay_turns_down_is_refreshed_once_and_the_call_repeated(make_client, httpserver, ebay_app):
    client = make_client(access_token="revoked-token", refresh_token=REFRESH)
    expect(httpserver, f"{ORDERS}/12-34567-89012", token="revoked-token").respond_with_json(
        error_body(1001, "Invalid access token"), status=401
    )
    httpserver.expect_request("/identity/v1/oauth2/token", method="POST").respond_with_json(
        {"access_token": TOKEN, "expires_in": 7200}
    )
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(ebay_order())

    assert client.get_order("12-34567-89012") is not None
    assert client.saved[0]["access_token"] == TOKEN


def test_a_refresh_token_eBay_refuses_means_reauthorize(make_client, httpserver, ebay_app):
    client = make_client(access_token="", refresh_token=REFRESH)
    httpserver.expect_request("/identity/v1/oauth2/token", method="POST").respond_with_json(
        {
            "error": "invalid_grant",
            "error_description": "the provided authorization refresh token is invalid",
        },
        status=400,
    )

    with pytest.raises(NotAuthorized, match="no longer accepts this plugin's refresh token") as caught:
        client.check_authorization()

    assert REFRESH not in str(caught.value)
    assert client.saved == []


def test_without_the_apps_keys_an_expired_token_is_not_refreshed(make_client, httpserver):
    client = make_client(access_token="", refresh_token=REFRESH)

    with pytest.raises(NotAuthorized, match="no access token"):
        client.check_authorization()
    assert httpserver.log == []


def test_403_is_not_authorized_asking_for_the_scope(client, httpserver):
    expect(httpserver).respond_with_json(error_body(1100, "Access denied"), status=403)

    with pytest.raises(NotAuthorized, match="sell.fulfillment scope"):
        client.check_authorization()


def test_rate_limit_2001_without_retry_after_waits_a_minute(client, httpserver):
    expect(httpserver).respond_with_json(error_body(2001, "Too many requests."), status=429)

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == 60
    with pytest.raises(RateLimited):
        client.check_authorization()
    assert len(httpserver.log) == 1


def test_rate_limit_with_retry_after_waits_that_long(client, httpserver):
    expect(httpserver).respond_with_json(
        error_body(2001, "Too many requests."), status=429, headers={"Retry-After": "30"}
    )

    with pytest.raises(RateLimited) as caught:
        client.check_authorization()

    assert caught.value.retry_after == 30


def test_500_is_unavailable(client, httpserver):
    expect(httpserver).respond_with_json(error_body(2003, "Internal error"), status=500)

    with pytest.raises(PlatformUnavailable, match="HTTP 500"):
        client.check_authorization()


def test_an_answer_slower_than_the_timeout_is_unavailable(client, httpserver, slow_handler):
    expect(httpserver).respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer"):
        client.check_authorization()


def test_malformed_json_is_unavailable(client, httpserver):
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_data(
        '{"orderId": "12-', content_type="application/json"
    )

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        client.get_order("12-34567-89012")


def test_an_order_in_an_unexpected_shape_is_malformed(client, httpserver):
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(
        {"orderId": "12-34567-89012", "creationDate": "soon"}
    )

    with pytest.raises(MalformedOrder):
        client.get_order("12-34567-89012")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=15), children, max_size=6)
    ),
    max_leaves=25,
)
ORDER_KEYS = [
    "orderId",
    "creationDate",
    "orderPaymentStatus",
    "orderFulfillmentStatus",
    "cancelStatus",
    "lineItems",
    "buyer",
    "pricingSummary",
    "fulfillmentStartInstructions",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.fixed_dictionaries({}, optional=dict.fromkeys(ORDER_KEYS, JSON)) | JSON)
def test_the_parser_raises_only_the_malformed_order_error(order):
    try:
        parsed = source_order(order)
    except MalformedOrder:
        return
    assert isinstance(parsed, SourceOrder)
    assert parsed.placed_at.tzinfo is not None


def test_a_missing_scope_is_not_cured_by_a_refresh(make_client, httpserver, ebay_app):
    client = make_client(refresh_token=REFRESH)
    expect(httpserver).respond_with_json(error_body(1100, "Access denied"), status=403)

    with pytest.raises(NotAuthorized, match="sell.fulfillment scope"):
        client.check_authorization()

    assert [request.path for request, _ in httpserver.log] == [ORDERS]


def test_a_token_turned_down_right_after_a_refresh_is_not_refreshed_again(make_client, httpserver, ebay_app):
    client = make_client(access_token="", refresh_token=REFRESH)
    httpserver.expect_request("/identity/v1/oauth2/token", method="POST").respond_with_json(
        {"access_token": TOKEN, "expires_in": 7200}
    )
    expect(httpserver).respond_with_json(error_body(1001, "Invalid access token"), status=401)

    with pytest.raises(NotAuthorized, match="errorId 1001"):
        client.check_authorization()

    assert [request.path for request, _ in httpserver.log] == ["/identity/v1/oauth2/token", ORDERS]


# --- Every word, read whole ---------------------------------------------------------

DOCUMENTED = {
    ebay.PAYMENT: {"PAID", "PARTIALLY_REFUNDED", "PENDING", "FAILED", "FULLY_REFUNDED"},
    ebay.CANCEL: {"NONE_REQUESTED", "IN_PROGRESS", "CANCELED", ""},
    ebay.CANCEL_REQUEST: {"REQUESTED", "REJECTED", "COMPLETED"},
    ebay.FULFILLMENT: {"NOT_STARTED", "IN_PROGRESS", "FULFILLED", ""},
}


def test_the_table_holds_every_documented_word_of_every_field():
    assert {field: {e.word for e in ebay.STATUSES.in_field(field)} for field in DOCUMENTED} == DOCUMENTED


def order_saying(entry) -> dict:
    if entry.field == ebay.PAYMENT:
        return ebay_order(payment=entry.word)
    if entry.field == ebay.CANCEL:
        return ebay_order(cancelStatus={"cancelState": entry.word, "cancelRequests": []})
    if entry.field == ebay.CANCEL_REQUEST:
        request = {"cancelRequestState": entry.word, "cancelInitiator": "Buyer"}
        return ebay_order(cancelStatus={"cancelState": "NONE_REQUESTED", "cancelRequests": [request]})
    return ebay_order(orderFulfillmentStatus=entry.word)


@pytest.mark.parametrize(**every_word(ebay.STATUSES))
def test_each_word_is_read_through_the_client_and_step_six_follows_its_outcome(client, httpserver, entry):
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(order_saying(entry))

    assert_step_six_follows(entry, client.get_order("12-34567-89012"))


def test_a_cancel_request_on_a_paid_order_waits_for_the_seller_not_the_payment(client, httpserver):
    request = {"cancelRequestState": "REQUESTED", "cancelInitiator": "Buyer"}
    expect(httpserver, f"{ORDERS}/12-34567-89012").respond_with_json(
        ebay_order(cancelStatus={"cancelState": "IN_PROGRESS", "cancelRequests": [request]})
    )

    message = rule_importable_state(client.get_order("12-34567-89012")).message

    assert "waiting for you to accept or decline the buyer's cancel request" in message
    assert "not paid" not in message
