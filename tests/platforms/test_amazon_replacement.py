"""An Amazon replacement order says which order it replaces (Orders API v0: IsReplacementOrder, ReplacedOrderId)."""

import pytest

from tests.platforms.test_amazon import (  # noqa: F401  (fixtures)
    ORDER_ID,
    amazon_order,
    client,
    credentials,
    expect_order,
    lwa,
)

REPLACED = "902-1111111-2222222"


@pytest.mark.parametrize("flag", [True, "true"])  # Amazon has sent the flag as text as well
def test_a_replacement_order_names_the_order_it_replaces(client, httpserver, lwa, flag):  # noqa: F811
    expect_order(httpserver, {**amazon_order(), "IsReplacementOrder": flag, "ReplacedOrderId": REPLACED})

    order = client.get_order(ORDER_ID)

    assert order.replaces == REPLACED


@pytest.mark.parametrize("flag", [False, "false", None])
def test_an_order_that_is_no_replacement_replaces_nothing(client, httpserver, lwa, flag):  # noqa: F811
    raw = {**amazon_order(), "IsReplacementOrder": flag}
    if flag is None:
        del raw["IsReplacementOrder"]
    expect_order(httpserver, {**raw, "ReplacedOrderId": REPLACED} if flag is False else raw)

    order = client.get_order(ORDER_ID)

    assert order.replaces == ""
