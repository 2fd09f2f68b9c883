"""What Step 6 tells a merchant about every word Shopify uses for an order's state: payment, risk, holds."""

from __future__ import annotations

import json

import pytest

from apps.commerce.importing import rule_importable_state
from apps.platforms import shopify
from apps.platforms.base import OrderState
from apps.platforms.shopify import STATUSES, ShopifyClient
from tests.platforms.status_words import assert_step_six_follows, every_word
from tests.platforms.test_shopify import TOKEN, expect_graphql, order_node, orders_body


@pytest.fixture
def client(httpserver, make_connection) -> ShopifyClient:
    credentials = {
        "shop": "kitty-test",
        "access_token": TOKEN,
        "base_url": httpserver.url_for("/").rstrip("/"),
    }
    return ShopifyClient(make_connection(credentials))


def step_six(client, httpserver, financial: str, **node):
    expect_graphql(httpserver).respond_with_json(
        orders_body([order_node(displayFinancialStatus=financial, **node)])
    )
    order = client.get_order("1001")
    return order, rule_importable_state(order)


def test_a_partially_refunded_order_imports_what_is_left(client, httpserver):
    order, result = step_six(client, httpserver, "PARTIALLY_REFUNDED")

    assert order.state == OrderState.IMPORTABLE
    assert result.passed
    assert "paid and confirmed" in result.message
    assert "PARTIALLY_REFUNDED" in result.message


@pytest.mark.parametrize(
    ("financial", "said"),
    [
        ("VOIDED", "will not import: the payment was voided (“VOIDED”)"),
        ("EXPIRED", "will not import: the payment expired before it was captured (“EXPIRED”)"),
    ],
)
def test_a_voided_or_expired_payment_is_not_imported_and_step_six_says_so(
    client, httpserver, financial, said
):
    order, result = step_six(client, httpserver, financial)

    assert order.state == OrderState.FAILED
    assert result.failed
    assert said in result.message
    # Not "it imports once it is paid": this payment will never arrive.
    assert "waiting" not in result.message
    assert "create it by hand in Commerce Kitty" in result.message


def test_a_partially_paid_order_is_not_yet_waiting_for_the_rest(client, httpserver):
    order, result = step_six(client, httpserver, "PARTIALLY_PAID")

    assert order.state == OrderState.PENDING_PAYMENT
    assert result.failed
    assert (
        "not ready to import yet (“PARTIALLY_PAID”): it is waiting for the rest of the payment"
        in result.message
    )


def test_a_cancelled_voided_order_is_called_cancelled(client, httpserver):
    order, result = step_six(client, httpserver, "VOIDED", cancelledAt="2026-01-06T09:00:00Z")

    assert order.state == OrderState.CANCELLED
    assert "will not import: it was cancelled in Shopify (“VOIDED, cancelled”)" in result.message


# Every word Shopify's Admin GraphQL reference lists for each field the table reads.
DOCUMENTED = {
    shopify.CANCELLED: {"cancelled"},
    shopify.FINANCIAL: {
        "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED", "EXPIRED", "",
    },
    shopify.RISK: {"ACCEPT", "CANCEL", "INVESTIGATE", "NONE", ""},
    shopify.FULFILLMENT: {
        "FULFILLED", "IN_PROGRESS", "ON_HOLD", "OPEN", "PARTIALLY_FULFILLED", "PENDING_FULFILLMENT",
        "REQUEST_DECLINED", "RESTOCKED", "SCHEDULED", "UNFULFILLED", "",
    },
    shopify.FULFILLMENT_ORDER: {"CANCELLED", "CLOSED", "INCOMPLETE", "IN_PROGRESS", "ON_HOLD", "OPEN", "SCHEDULED"},
    shopify.HOLD: {
        "AWAITING_PAYMENT", "AWAITING_RETURN_ITEMS", "HIGH_RISK_OF_FRAUD", "INCORRECT_ADDRESS",
        "INVENTORY_OUT_OF_STOCK", "ONLINE_STORE_POST_PURCHASE_CROSS_SELL", "OTHER", "UNKNOWN_DELIVERY_DATE",
    },
}  # fmt: skip


def test_the_table_holds_every_documented_word_of_every_field():
    assert {field: {e.word for e in STATUSES.in_field(field)} for field in DOCUMENTED} == DOCUMENTED
    assert {e.field for e in STATUSES} == set(DOCUMENTED)


def node_saying(entry) -> dict:
    """A paid, accepted, unfulfilled order whose only other word is ``entry``'s."""
    if entry.field == shopify.CANCELLED:
        return order_node(cancelledAt="2026-01-06T09:00:00Z")
    if entry.field == shopify.FINANCIAL:
        return order_node(displayFinancialStatus=entry.word or None)
    if entry.field == shopify.RISK:
        return order_node(risk={"recommendation": entry.word or None})
    if entry.field == shopify.FULFILLMENT:
        return order_node(displayFulfillmentStatus=entry.word or None)
    if entry.field == shopify.FULFILLMENT_ORDER:
        return order_node(fulfillmentOrders={"nodes": [{"status": entry.word, "fulfillmentHolds": []}]})
    hold = {"reason": entry.word, "reasonNotes": "held by an app"}
    return order_node(fulfillmentOrders={"nodes": [{"status": "ON_HOLD", "fulfillmentHolds": [hold]}]})


@pytest.mark.parametrize(**every_word(STATUSES))
def test_each_word_is_read_through_the_client_and_step_six_follows_its_outcome(client, httpserver, entry):
    expect_graphql(httpserver).respond_with_json(orders_body([node_saying(entry)]))

    assert_step_six_follows(entry, client.get_order("1001"))


def test_a_paid_order_on_a_fraud_hold_is_not_yet_importable(client, httpserver):
    hold = {"reason": "HIGH_RISK_OF_FRAUD", "reasonNotes": ""}
    order, result = step_six(
        client,
        httpserver,
        "PAID",
        displayFulfillmentStatus="ON_HOLD",
        fulfillmentOrders={"nodes": [{"status": "ON_HOLD", "fulfillmentHolds": [hold]}]},
    )

    assert order.state == OrderState.ON_HOLD
    assert result.failed
    assert result.message == (
        "Order #1001 is not ready to import yet (“PAID, hold HIGH_RISK_OF_FRAUD, fulfillment order ON_HOLD, "
        "fulfillment ON_HOLD”): it is waiting for you to review it and release Shopify's fraud hold, "
        "and imports with the first sync after that."
    )


def test_the_order_query_asks_for_the_fulfillment_status_and_holds(client, httpserver):
    expect_graphql(httpserver).respond_with_json(orders_body([order_node()]))

    client.get_order("1001")

    query = json.loads(httpserver.log[0][0].get_data())["query"]
    assert "displayFulfillmentStatus" in query
    assert "fulfillmentHolds { reason reasonNotes }" in query
    assert "cancelledAt" in query and "risk { recommendation }" in query
