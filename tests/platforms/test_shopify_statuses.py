"""What Step 6 tells a merchant about each Shopify payment status that is neither plainly paid nor unpaid."""

from __future__ import annotations

import pytest

from apps.commerce.importing import rule_importable_state
from apps.platforms.base import OrderState
from apps.platforms.shopify import ShopifyClient
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
    assert "once it is paid" not in result.message


def test_a_partially_paid_order_is_not_yet_waiting_for_the_rest(client, httpserver):
    order, result = step_six(client, httpserver, "PARTIALLY_PAID")

    assert order.state == OrderState.PENDING_PAYMENT
    assert result.failed
    assert (
        "not paid and confirmed yet: waiting for the rest of the payment (“PARTIALLY_PAID”)" in result.message
    )
    assert "it imports once it is paid and confirmed" in result.message


def test_a_cancelled_voided_order_is_called_cancelled(client, httpserver):
    order, result = step_six(client, httpserver, "VOIDED", cancelledAt="2026-01-06T09:00:00Z")

    assert order.state == OrderState.CANCELLED
    assert "is cancelled on the platform (“VOIDED, cancelled”)" in result.message
