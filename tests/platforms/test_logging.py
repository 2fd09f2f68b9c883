"""Platform requests are logged with their path only: no store host, no order number, no keys."""

import logging

import pytest

from apps.platforms.woocommerce import WooCommerceClient
from tests.platforms.test_woocommerce import KEY, SECRET, expect_orders, wc_order


@pytest.fixture
def client(httpserver, make_connection) -> WooCommerceClient:
    return WooCommerceClient(
        make_connection(
            {"site_url": httpserver.url_for("/").rstrip("/"), "consumer_key": KEY, "consumer_secret": SECRET}
        )
    )


def test_looking_up_an_order_logs_the_path_without_the_order_number(client, httpserver, caplog):
    expect_orders(httpserver).respond_with_json([wc_order(73519)])

    with caplog.at_level(logging.INFO):
        client.get_order("73519")

    httpx_lines = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert httpx_lines, "httpx's request line is still logged, as a path"
    assert any("/wp-json/wc/v3/orders" in line for line in httpx_lines)
    # Everything our process logged; werkzeug's lines are the local test store's own access log.
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    assert "73519" not in logged
    assert "search=" not in logged
    assert f"{httpserver.host}:{httpserver.port}" not in logged
    assert KEY not in logged and SECRET not in logged
