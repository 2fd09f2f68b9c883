"""Checks against a Shopify store served by a local HTTP server: answers, errors, timeouts."""

import json
import re
import time
from datetime import date
from html import unescape

import httpx
import pytest
from wagtail.models import Page
from werkzeug import Response

from apps.commerce.demo import DEMO_MERCHANT
from apps.commerce.models import Merchant
from apps.platforms.breaker import STRIKES
from apps.platforms.shopify import API_VERSION
from tests.conftest import wait_for
from tests.factories import PluginFactory
from tests.platforms.test_shopify import order_node, orders_body

pytestmark = pytest.mark.django_db
GRAPHQL = f"/admin/api/{API_VERSION}/graphql.json"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shopify(merchant_client, httpserver, monkeypatch):
    monkeypatch.setattr(
        "apps.commerce.diagnostics.dry_run.INTERACTIVE_TIMEOUT", httpx.Timeout(0.5, connect=0.5)
    )
    merchant = Merchant.objects.get(name=DEMO_MERCHANT)
    plugin = PluginFactory(
        merchant=merchant,
        platform="shopify",
        name="Shopify – Main store",
        credentials={
            "shop": "kitty",
            "access_token": "shpat_secret",
            "base_url": httpserver.url_for("").rstrip("/"),
        },
    )
    return plugin


def order_queries(httpserver) -> int:
    return sum(1 for request, _ in httpserver.log if "name:#" in request.get_data(as_text=True))


def start(client, plugin, *, number="1001", step=None):
    page = Page.objects.get(slug="order-did-not-import").specific
    data = {"page": page.pk, "subject": plugin.pk, "order_number": number}
    if step is None:
        data["all"] = "1"
    else:
        data["block_id"] = page.steps[step - 1].id
    html = client.post("/checks/start/", data, **HTMX).content.decode()
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def answer(body: dict, status: int = 200):
    return Response(json.dumps(body), status=status, content_type="application/json")


def graphql_handler(order: dict | None, asked: list | None = None):
    """Shopify's GraphQL endpoint holding ``order`` (or none); each query it is asked goes to ``asked``.

    Counted here rather than in the server's log, which may still take in a
    request a slow answer of the test before held up.
    """

    def handle(request):
        query = request.get_json()["query"]
        if asked is not None:
            asked.append(query)
        if "shop" in query and "name:#" not in json.dumps(request.get_json()):
            return answer({"data": {"shop": {"name": "Kitty"}, "orders": {"nodes": []}}, "extensions": {}})
        return answer(orders_body([order] if order else []))

    return handle


def test_check_every_step_fetches_the_source_order_once(merchant_client, shopify, httpserver):
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(
        graphql_handler(
            order_node(
                "1001", displayFinancialStatus="PENDING", createdAt=f"{date.today().isoformat()}T00:00:01Z"
            )
        )
    )

    page_text = start(merchant_client, shopify)

    assert "Most likely cause: Step 6." in page_text
    assert order_queries(httpserver) == 1


def test_an_order_the_platform_hands_over_also_proves_it_accepts_the_plugin_in_one_request(
    merchant_client, shopify, httpserver
):
    asked = []
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(
        graphql_handler(order_node("1001", createdAt=f"{date.today().isoformat()}T00:00:01Z"), asked)
    )

    page_text = start(merchant_client, shopify)

    assert "The platform accepts “Shopify – Main store”'s authorization." in page_text
    assert "Step 6 passed: Order #1001 is paid and confirmed on the platform (PAID)." in page_text
    assert len(asked) == 1  # the order's request, not a second one for the credentials
    shopify.refresh_from_db()
    assert shopify.authorization_status == shopify.Authorization.AUTHORIZED
    assert shopify.authorization_checked_at is not None


def test_an_order_the_platform_does_not_have_still_asks_whether_it_accepts_the_plugin(
    merchant_client, shopify, httpserver
):
    asked = []
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(graphql_handler(None, asked))

    page_text = start(merchant_client, shopify)

    assert "The platform accepts “Shopify – Main store”'s authorization." in page_text
    assert "The platform has no order #1001 for “Shopify – Main store”." in page_text
    assert len(asked) == 2  # the order, then the credentials on their own


def test_a_platform_that_throttles_the_credentials_question_leaves_the_order_unjudged(
    merchant_client, shopify, httpserver
):
    """No order found, then 429 when asked about the credentials: "couldn't check", never "no such order"."""

    def handle(request):
        if "name:#" in json.dumps(request.get_json()):
            return answer(orders_body([]))
        return Response("Too many requests", status=429, headers={"Retry-After": "120"})

    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(handle)

    step_6 = start(merchant_client, shopify, step=6)

    assert "Couldn't look order #1001 up on the platform: the platform is throttling the plugin" in step_6
    assert "The platform has no order #1001" not in step_6


def test_platform_too_slow_is_couldnt_check(merchant_client, shopify, httpserver):
    def slow(request):
        time.sleep(1.0)
        return answer(orders_body([]))

    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(slow)

    page_text = start(merchant_client, shopify, step=6)

    assert "Couldn't look order #1001 up on the platform: the platform did not answer" in page_text
    assert "shpat_secret" not in page_text


def test_a_store_that_timed_out_again_and_again_is_not_asked_for_a_moment(
    merchant_client, shopify, httpserver
):
    asked = []

    def slow(request):
        asked.append(request)
        time.sleep(1.0)
        return answer(orders_body([]))

    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(slow)
    for _ in range(STRIKES):
        assert "the platform did not answer (Shopify did not answer within 0.5 seconds" in start(
            merchant_client, shopify, step=6
        )
    step_6 = start(merchant_client, shopify, step=6)

    assert re.search(
        r"Couldn't look order #1001 up on the platform: the platform did not answer \(Shopify timed out on "
        r"our last requests, so we are not asking it again for (30|29|28) seconds\.\)",
        step_6,
    )
    wait_for(lambda: len(asked) == STRIKES)  # the store holds each request a second, one at a time
    time.sleep(1.1)
    assert len(asked) == STRIKES  # the last click did not ask it, so it waited on nothing


def test_revoked_token_is_unknown_for_the_order_and_failed_for_authorization(
    merchant_client, shopify, httpserver
):
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_json(
        {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}, status=401
    )

    step_6 = start(merchant_client, shopify, step=6)
    step_5 = start(merchant_client, shopify, step=5)

    assert "Couldn't look order #1001 up on the platform: the platform does not accept" in step_6
    assert "The platform no longer accepts “Shopify – Main store”'s authorization" in step_5
    assert "shpat_secret" not in step_5
    # Refused while asked for the order: that answer is the authorization's, nothing more is asked.
    refused = [request for request, response in httpserver.log if response.status_code == 401]
    assert len(refused) == 2  # one for each start
    shopify.refresh_from_db()
    assert shopify.authorization_status == shopify.Authorization.REVOKED


def test_rate_limited_platform_is_couldnt_check_with_when_to_retry(merchant_client, shopify, httpserver):
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_data(
        "Too many requests", status=429, headers={"Retry-After": "120"}
    )

    page_text = start(merchant_client, shopify, step=6)

    assert "the platform is throttling the plugin" in page_text
    assert "The platform is throttling “Shopify – Main store” until" in page_text
    assert "(about 2 minutes from now)" in page_text


def test_nonsense_from_the_platform_is_couldnt_check_not_a_500(merchant_client, shopify, httpserver):
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_data("<html>oops</html>", status=200)

    page_text = start(merchant_client, shopify, step=6)

    assert "Couldn't look order #1001 up on the platform" in page_text


def test_a_platform_that_cannot_be_reached_leaves_the_diagnosis_incomplete_without_sync_now(
    merchant_client, shopify, httpserver
):
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_data("upstream down", status=503)

    page_text = start(merchant_client, shopify)

    assert "The diagnosis is incomplete: Steps 3, 4, 5, 6 and 7 couldn't be checked." in page_text
    assert "Most likely cause" not in page_text
    assert "Sync now" not in page_text
    assert "whether a sync would bring it in couldn't be checked" in page_text
    assert "Check again in a few minutes." in page_text
    assert "When order #1001 was placed is unknown: the platform did not answer" in page_text


def test_an_order_the_platform_sends_in_an_unreadable_shape_fails_step_4(
    merchant_client, shopify, httpserver
):
    httpserver.expect_request(GRAPHQL, method="POST").respond_with_handler(
        graphql_handler(order_node("1001", createdAt="not a date"))
    )

    step_4 = start(merchant_client, shopify, step=4)

    assert "Failed: Order #1001 could not be read:" in step_4
