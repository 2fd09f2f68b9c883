"""A demo order can speak as another platform: its status in that platform's words, as Step 6 shows them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from apps.commerce.importing import rule_importable_state
from apps.platforms.base import OrderState, SourceOrder
from apps.platforms.models import SandboxOrderStatus
from tests.platforms.test_sandbox import add_order, client, store  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_an_order_speaking_as_ebay_shows_ebays_failed_payment(client, store):  # noqa: F811
    add_order(store, "1008", status=SandboxOrderStatus.FAILED, imitates="ebay")

    order = client.get_order("1008")
    step_six = rule_importable_state(order)

    assert (order.state, order.platform_status) == (OrderState.FAILED, "FAILED, NOT_STARTED")
    assert "will not import: the buyer's payment failed (“FAILED, NOT_STARTED”)" in step_six.message


def test_an_order_speaking_as_bigcommerce_waits_for_manual_verification(client, store):  # noqa: F811
    add_order(store, "1009", status=SandboxOrderStatus.ON_HOLD, imitates="bigcommerce")

    (order,) = client.list_orders(datetime(2026, 1, 1, tzinfo=UTC))

    assert isinstance(order, SourceOrder)
    assert order.platform_status == "Manual Verification Required"
    assert "waiting for you to verify it in BigCommerce" in rule_importable_state(order).message


def test_a_state_the_platform_has_no_word_for_keeps_the_demos_word(client, store):  # noqa: F811
    add_order(store, "1010", status=SandboxOrderStatus.CHECKOUT, imitates="ebay")

    assert client.get_order("1010").platform_status == "in checkout"


def test_only_a_platform_with_demo_words_can_be_imitated(store):  # noqa: F811
    order = add_order(store, "1011", imitates="myspace")

    with pytest.raises(ValidationError) as caught:
        order.full_clean()

    assert "bigcommerce" in str(caught.value) and "ebay" in str(caught.value)
