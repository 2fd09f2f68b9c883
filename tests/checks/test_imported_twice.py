"""“An Order Imported Twice”: each step's check on the demo's staged copies, its fix, and Amazon's own word."""

import re
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from django.utils import timezone
from wagtail.models import Page

from apps.checks.models import CheckRun
from apps.commerce.demo import DEMO_MERCHANT, TWICE_ORDERS, TWICE_PLUGIN_OF_STORE
from apps.commerce.models import Customer, Merchant, Order, OrderLine, Plugin, Product
from tests.factories import PluginFactory
from tests.html import text
from tests.platforms.test_amazon import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    MARKETPLACE,
    ORDERS,
    REFRESH_TOKEN,
    TOKEN_PATH,
    amazon_order,
    expect_order,
    order_item,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def twice(demo):
    return Page.objects.get(slug="order-imported-twice").specific


def plugin(name: str) -> Plugin:
    return Plugin.objects.get(merchant__name=DEMO_MERCHANT, merchant__preview_editor=None, name=name)


def start(client, page, subject, *, number="", step=None):
    data = {"page": page.pk, "subject": subject.pk, "order_number": number}
    if step is None:
        data["all"] = "1"
    else:
        data["block_id"] = page.steps[step - 1].id
    return client.post("/checks/start/", data, **HTMX).content.decode()


def step_statuses(page, html: str) -> dict[int, str]:
    """Each step's status as its widget shows it, by step number."""
    blocks = {step.id: number for number, step in enumerate(page.steps, start=1)}
    found = re.findall(r'id="check-([0-9a-f-]+)" data-check-status="([a-z-]+)"', html)
    return {blocks[block]: status for block, status in found if block in blocks}


def verdict(html: str) -> str:
    return text(re.search(r'class="summary__verdict[^"]*">(.*?)</p>', html, re.S).group(1))


def step_text(html: str, page, number: int) -> str:
    block = page.steps[number - 1].id
    start_at = html.index(f'id="check-{block}"')
    end_at = html.find('class="check" id="check-', start_at + 1)
    return text(html[start_at : end_at if end_at != -1 else None])


def test_the_article_declares_its_check_set_and_reuses_the_authorization_check(twice):
    assert twice.check_set == "order-imported-twice"
    assert [step.value["check"] for step in twice.steps] == [
        "store_connected_twice",
        "plugin_authorized",
        "history_imported_again",
        "order_created_by_hand",
        "platform_has_two_orders",
    ]


def test_the_article_closes_with_its_own_question_and_the_ticket_form(merchant_client, twice):
    html = merchant_client.get(twice.url).content.decode()

    closing = text(html[html.index('<h2 id="still-missing-title"') :])
    assert closing.startswith("Still seeing it twice? If you have worked through every step")
    assert "Both order numbers as Commerce Kitty shows them" in closing


@pytest.mark.parametrize("order", TWICE_ORDERS, ids=[o.number for o in TWICE_ORDERS])
def test_check_every_step_fails_only_the_step_that_names_how_the_demo_order_came_in_twice(
    merchant_client, twice, order
):
    html = start(merchant_client, twice, plugin(TWICE_PLUGIN_OF_STORE[order.store]), number=order.number)

    statuses = step_statuses(twice, html)
    assert statuses == {n: ("failed" if n == order.step else "passed") for n in range(1, 6)}, statuses
    assert verdict(html).startswith(f"Most likely cause: Step {order.step}. "), verdict(html)


def test_each_cause_is_said_in_the_merchants_words(merchant_client, twice):
    market, fair = plugin("Demo Marketplace – Market stall"), plugin("Demo Marketplace – Craft fair")

    store = step_text(start(merchant_client, twice, market, number="7001", step=1), twice, 1)
    history = step_text(start(merchant_client, twice, fair, number="8001", step=3), twice, 3)
    by_hand = step_text(start(merchant_client, twice, fair, number="8002", step=4), twice, 4)
    platform = step_text(start(merchant_client, twice, fair, number="8004", step=5), twice, 5)

    assert (
        "“Demo Marketplace – Market stall” and “Demo Marketplace – Market stall (reconnected)” both import "
        "orders from the same store: 1 order came in through both, for example #7001."
    ) in store
    assert (
        "Order #7001 came in through “Demo Marketplace – Market stall” and “Demo Marketplace – Market stall (reconnected)”."
        in store
    )
    assert "Order #8001 came in twice: “Demo Marketplace – Craft fair (disconnected)” imported it " in history
    assert "reauthorize it (the step “Plugin authorized?”) instead of adding it again" in history
    assert "Order #8002 was created by hand " in by_hand
    assert "They match on the order number and the buyer." in by_hand
    assert "Cancel the one created by hand." in by_hand
    assert (
        "The platform holds two orders for the same buyer and items, placed 24 hours apart: #8003 and #8004."
        in platform
    )


def test_the_article_with_its_results_and_the_fixs_choice_is_valid_html(merchant_client, twice, tmp_path):
    from tests.test_html_validity import vnu_messages

    start(merchant_client, twice, plugin("Demo Marketplace – Market stall"), number="7001")
    page = merchant_client.get(twice.url).content.decode()
    assert "Connection to keep" in page

    assert vnu_messages({"imported-twice": page}, tmp_path) == {"imported-twice": []}


def test_the_check_before_step_one_lists_every_copy_and_the_step_that_explains_it(merchant_client, twice):
    start(merchant_client, twice, plugin("Demo Marketplace – Craft fair"), number="8002")

    run = CheckRun.objects.filter(check_key="order_imported_twice").latest("queued_at")
    assert (run.status, run.summary) == ("failed", "Order #8002 is in Commerce Kitty 2 times.")
    assert run.evidence[0].startswith(
        "#8002, imported through “Demo Marketplace – Craft fair” by Sync historical orders "
    )
    assert run.evidence[1].startswith("#8002, created by hand ")
    assert run.evidence[1].endswith(": an order created by hand (see the step “Also created by hand?”).")


def test_an_order_that_came_in_once_passes_every_step(merchant_client, twice):
    html = start(merchant_client, twice, plugin("Demo Marketplace – Main store"), number="1001")

    assert step_statuses(twice, html) == dict.fromkeys(range(1, 6), "passed")
    assert verdict(html) == "Order #1001 is in Commerce Kitty once: there is no second copy to explain."


def test_an_order_that_is_not_in_commerce_kitty_says_so_where_a_copy_would_be_judged(merchant_client, twice):
    html = start(merchant_client, twice, plugin("Demo Marketplace – Craft fair"), number="9999")

    assert [step_statuses(twice, html)[n] for n in (3, 4, 5)] == ["unknown"] * 3
    assert "Order #9999 is not in Commerce Kitty, so there is no second copy to look at." in step_text(
        html, twice, 4
    )
    # The summary says what the merchant can do about it, not "check again in a few minutes".
    assert verdict(html).startswith("Order #9999 is not in Commerce Kitty, so it was not imported twice")
    summary = text(html[html.index('id="diagnosis-summary"') : html.index('id="diagnosis-checklist"')])
    assert "Check the number as Commerce Kitty shows it" in summary
    assert "Check again in a few minutes" not in summary
    assert "incomplete" not in summary


def test_the_store_step_needs_no_order_number(merchant_client, twice):
    html = start(merchant_client, twice, plugin("Demo Marketplace – Market stall (reconnected)"), step=1)

    assert step_statuses(twice, html)[1] == "failed"
    assert "both import orders from the same store" in step_text(html, twice, 1)


def test_the_step_about_hand_made_orders_asks_for_the_order_number_first(merchant_client, twice):
    html = start(merchant_client, twice, plugin("Demo Marketplace – Craft fair"), step=4)

    # The refusal, in the article's own words, where the number is typed.
    assert "Type the number of the order you see twice (as Commerce Kitty shows it)." in text(html)
    assert not CheckRun.objects.filter(check_key="order_created_by_hand").exists()


def test_keep_one_connection_turns_import_orders_off_on_the_other_and_keeps_every_order(
    merchant_client, twice
):
    market, again = (
        plugin("Demo Marketplace – Market stall"),
        plugin("Demo Marketplace – Market stall (reconnected)"),
    )
    orders = Order.objects.count()
    start(merchant_client, twice, market, number="7001", step=1)
    run = CheckRun.objects.filter(check_key="store_connected_twice").latest("queued_at")
    assert [choice[1] for choice in run.fixes_offered[0]["choices"]] == [
        "Demo Marketplace – Market stall: authorized",
        "Demo Marketplace – Market stall (reconnected): authorized",
    ]

    fixed = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_one_connection", "choice": str(market.pk)}, **HTMX
    ).content.decode()

    assert (
        "Fix applied: “Demo Marketplace – Market stall” keeps importing orders from its store; Import Orders is "
        "off on “Demo Marketplace – Market stall (reconnected)”. No order was deleted."
    ) in text(fixed)
    assert step_statuses(twice, fixed)[1] == "passed"
    again.refresh_from_db()
    market.refresh_from_db()
    assert (market.import_orders, again.import_orders) == (True, False)
    assert Order.objects.count() == orders
    # Applying it again changes nothing more.
    repeat = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_one_connection", "choice": str(market.pk)}, **HTMX
    ).content.decode()
    assert "Only “Demo Marketplace – Market stall” imports orders from its store already." in text(repeat)


def test_after_keeping_one_connection_the_step_says_the_earlier_copy_is_still_there_to_cancel(
    merchant_client, twice
):
    market = plugin("Demo Marketplace – Market stall")
    start(merchant_client, twice, market, number="7001", step=1)
    run = CheckRun.objects.filter(check_key="store_connected_twice").latest("queued_at")

    fixed = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_one_connection", "choice": str(market.pk)}, **HTMX
    ).content.decode()

    assert step_statuses(twice, fixed)[1] == "passed"
    assert (
        "Order #7001 came in through “Demo Marketplace – Market stall” and “Demo Marketplace – Market stall "
        "(reconnected)” before only one connection imported: cancel the copy you do not keep; orders from now "
        "on come in once."
    ) in step_text(fixed, twice, 1)


def test_keeping_a_connection_another_fix_has_since_turned_off_is_refused_and_changes_nothing(
    merchant_client, twice
):
    market, again = (
        plugin("Demo Marketplace – Market stall"),
        plugin("Demo Marketplace – Market stall (reconnected)"),
    )
    start(merchant_client, twice, market, number="7001", step=1)
    run = CheckRun.objects.filter(check_key="store_connected_twice").latest("queued_at")
    fix_url = f"/checks/runs/{run.uuid}/fix/"
    merchant_client.post(fix_url, {"fix": "keep_one_connection", "choice": str(market.pk)}, **HTMX)

    refused = merchant_client.post(fix_url, {"fix": "keep_one_connection", "choice": str(again.pk)}, **HTMX)

    assert "That plugin does not import orders from this store any more. Check again." in text(
        refused.content.decode()
    )
    assert list(
        Plugin.objects.filter(pk__in=[market.pk, again.pk])
        .order_by("pk")
        .values_list("import_orders", flat=True)
    ) == [True, False]


# --- Amazon says which order a replacement replaces ----------------------------------------------

ORIGINAL = "111-1111111-1111111"
REPLACEMENT = "111-2222222-2222222"


@pytest.fixture
def amazon_store(merchant_client, httpserver, monkeypatch):
    """An Amazon plugin of the demo account (a local server answers as Amazon) that imported both orders."""
    monkeypatch.setattr("apps.commerce.diagnostics.imported_twice.INTERACTIVE_TIMEOUT", httpx.Timeout(2.0))
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "token_type": "bearer",
            "expires_in": 3600,
        }
    )
    merchant = Merchant.objects.get(name=DEMO_MERCHANT, preview_editor=None)
    seller = PluginFactory(
        merchant=merchant,
        platform="amazon",
        name="Amazon – DE",
        credentials={
            "region": "eu",
            "marketplace_ids": MARKETPLACE,
            "refresh_token": REFRESH_TOKEN,
            "lwa_client_id": CLIENT_ID,
            "lwa_client_secret": CLIENT_SECRET,
            "base_url": httpserver.url_for("/").rstrip("/"),
            "token_url": httpserver.url_for(TOKEN_PATH),
        },
    )
    mug = Product.objects.get(merchant=merchant, code="MUG-BLUE-001")
    for order_id, days_ago in ((ORIGINAL, 6), (REPLACEMENT, 2)):
        # Amazon shares no buyer e-mail: each order has a customer of its own, as the importer keeps them.
        customer = Customer.objects.create(
            merchant=merchant, email=f"order-{order_id}@email-not-shared.invalid"
        )
        row = Order.objects.create(
            merchant=merchant,
            plugin=seller,
            channel=seller.channels.get(),
            customer=customer,
            source_order_id=order_id,
            number=order_id,
            placed_at=timezone.now() - timedelta(days=days_ago),
            total=Decimal("24.90"),
        )
        OrderLine.objects.create(order=row, product=mug, sku=mug.code, quantity=2)
    return seller


def amazon_answers(httpserver):
    purchased = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expect_order(httpserver, amazon_order(ORIGINAL), items=[order_item("MUG-BLUE-001")])
    expect_order(
        httpserver,
        {
            **amazon_order(REPLACEMENT, purchased=purchased),
            "IsReplacementOrder": "true",
            "ReplacedOrderId": ORIGINAL,
        },
        items=[order_item("MUG-BLUE-001")],
    )


@pytest.mark.parametrize("typed", [REPLACEMENT, ORIGINAL], ids=["the replacement", "the original"])
def test_amazon_marking_a_replacement_order_names_both_orders_whichever_is_typed(
    merchant_client, twice, amazon_store, httpserver, typed
):
    amazon_answers(httpserver)

    html = start(merchant_client, twice, amazon_store, number=typed, step=5)

    assert step_statuses(twice, html)[5] == "failed"
    assert (
        f"The platform holds two orders: #{REPLACEMENT} is a replacement for #{ORIGINAL}, so each came in "
        "once, as an order of its own."
    ) in step_text(html, twice, 5)
    assert "fulfil the replacement as the platform asks" in step_text(html, twice, 5)
    asked = {request.path for request, _ in httpserver.log if request.path.startswith(ORDERS)}
    if typed == ORIGINAL:  # only the order that followed it can say it replaces it
        assert {f"{ORDERS}/{ORIGINAL}", f"{ORDERS}/{REPLACEMENT}"} <= asked
    else:  # the replacement says so itself
        assert f"{ORDERS}/{ORIGINAL}" not in asked


def test_when_amazon_refuses_the_plugin_the_platform_step_could_not_be_checked(
    merchant_client, twice, amazon_store, httpserver
):
    refused = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}
    httpserver.expect_request(f"{ORDERS}/{REPLACEMENT}").respond_with_json(refused, status=403)

    html = start(merchant_client, twice, amazon_store, number=REPLACEMENT, step=5)

    assert step_statuses(twice, html)[5] == "unknown"
    assert (
        f"Couldn't ask the platform about order #{REPLACEMENT}: it does not accept “Amazon – DE”'s "
        "authorization (see the step “Plugin authorized?”)."
    ) in step_text(html, twice, 5)
