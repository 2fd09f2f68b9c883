"""The diagnosis is a dry run of the importer on the live order: cases staged as merchants meet them."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.commerce.models import Order, Product
from apps.platforms.models import SandboxStore
from apps.support.models import SupportTicket
from tests.checks.conftest import plugin_named
from tests.factories import ProductFactory, fresh_order, store_of
from tests.html import text

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def start(client, page, plugin, number, *, step=None, htmx=True, placed_date=""):
    data = {"page": page.pk, "subject": plugin.pk, "order_number": number, "placed_date": placed_date}
    if step is None:
        data["all"] = "1"
    else:
        data["block_id"] = page.steps[step - 1].id
    return client.post("/checks/start/", data, **(HTMX if htmx else {})).content.decode()


def step_html(html: str, number: int, page) -> str:
    """The widget of step ``number`` in a response or a page."""
    block_id = page.steps[number - 1].id
    begin = html.index(f'id="check-{block_id}"')
    end = html.find('<div class="check" id="check-', begin + 10)
    return html[begin : end if end != -1 else len(html)]


def statuses(html: str, page) -> dict[int, str]:
    return {
        n: re.search(r'data-check-status="([a-z-]+)"', step_html(html, n, page)).group(1) for n in range(1, 8)
    }


def summary_lines(html: str) -> list[str]:
    block = re.search(r'<div id="diagnosis-summary".*?</div>', html, re.S).group(0)
    return [
        text(p) for p in re.findall(r"<p class=\"(?:summary__verdict[^\"]*|muted)\">(.*?)</p>", block, re.S)
    ]


def test_a_fresh_order_with_an_unknown_sku_fails_step_4_naming_it_on_the_first_try(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main, lines=[{"sku": "TEAPOT-9", "quantity": 1, "title": "Teapot"}])

    html = start(merchant_client, page, main, "1010")

    step_4 = text(step_html(html, 4, page))
    assert statuses(html, page) == {
        1: "passed",
        2: "passed",
        3: "passed",
        4: "failed",
        5: "passed",
        6: "passed",
        7: "failed",
    }
    assert "Order #1010 has SKU TEAPOT-9 that your catalog does not have." in step_4
    assert summary_lines(html)[0] == (
        "Most likely cause: Step 4. Order #1010 has SKU TEAPOT-9 that your catalog does not have."
    )
    step_7 = step_html(html, 7, page)
    assert "a sync would not bring it in: Order #1010 has SKU TEAPOT-9" in text(step_7)
    assert "Sync now" not in step_7  # a fix that cannot work is not offered


def test_a_sku_differing_only_in_letter_case_says_which_product_was_meant(merchant_client, page):
    main = plugin_named("Main store")
    ProductFactory(merchant=main.merchant, code="TEAPOT-9")
    fresh_order(main, lines=[{"sku": "teapot-9", "quantity": 1, "title": "Teapot"}])

    step_4 = text(step_html(start(merchant_client, page, main, "1010", step=4), 4, page))

    assert "Order #1010 has SKU teapot-9 that your catalog does not have." in step_4
    assert "“teapot-9” is not “TEAPOT-9”" in step_4


def test_a_platform_throttling_now_fails_step_4_and_says_the_diagnosis_is_incomplete(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main)
    SandboxStore.objects.filter(pk=store_of(main).pk).update(
        throttled_until=timezone.now() + timedelta(hours=2)
    )
    assert main.rate_limited_until is None  # no sync has met the throttle yet

    html = start(merchant_client, page, main, "1010")

    assert statuses(html, page) == {
        1: "passed",
        2: "passed",
        3: "unknown",
        4: "failed",
        5: "unknown",
        6: "unknown",
        7: "failed",
    }
    assert "The platform is throttling “Demo Marketplace – Main store” until" in text(
        step_html(html, 4, page)
    )
    lines = summary_lines(html)
    assert lines[0].startswith("Step 4 keeps the order out: The platform is throttling")
    assert (
        lines[1]
        == "The diagnosis is incomplete: Steps 3, 5 and 6 couldn't be checked, so an earlier step may be a cause too."
    )
    assert re.search(r"Check again after .* \(about 2 hours from now\)\.", lines[-1])
    assert not any(line.startswith("Most likely cause") for line in lines)
    step_7 = step_html(html, 7, page)
    # Sync now cannot work while the platform throttles: shown disabled, with when it will.
    assert re.search(r'<button type="button" class="button" disabled [^>]*>Sync now</button>', step_7)
    assert "Sync now works again once the platform stops throttling this plugin, at " in text(step_7)
    assert "(about 2 hours from now)" in text(step_7)
    assert 'action="/checks/runs/' not in step_7
    assert ">Check again</button>" in html


def test_an_order_already_imported_reads_the_same_without_javascript(merchant_client, page):
    main = plugin_named("Main store")

    with_htmx = summary_lines(start(merchant_client, page, main, "1001"))
    start(merchant_client, page, main, "1001", htmx=False)
    without = summary_lines(merchant_client.get(page.url).content.decode())

    assert with_htmx == without == ["Order #1001 is already in Commerce Kitty."]


def test_sync_now_says_which_rule_kept_the_order_out(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main, lines=[{"sku": "TEAPOT-9", "quantity": 1, "title": "Teapot"}])
    teapot = ProductFactory(merchant=main.merchant, code="TEAPOT-9")
    step_7 = step_html(start(merchant_client, page, main, "1010", step=7), 7, page)
    assert "Sync now" in step_7
    teapot.delete()  # the catalog changes before the merchant presses Sync now
    run = CheckRun.objects.filter(check_key="manual_sync").latest("queued_at")

    after = text(
        merchant_client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "sync_now"}, **HTMX).content.decode()
    )

    assert (
        "Order #1010 did not import: Order #1010 has SKU TEAPOT-9 that your catalog does not have." in after
    )
    assert "a sync would not bring it in" in after
    assert 'href="#step-4"' in merchant_client.get(page.url).content.decode()


def test_sync_now_imports_a_paid_order_the_listing_window_does_not_reach(merchant_client, page):
    main = plugin_named("Main store")
    # Placed 20 days ago (after Import Orders), pending then, paid now: a scheduled sync looks back 7 days.
    fresh_order(main, placed_at=timezone.now() - timedelta(days=20))
    step_7 = step_html(start(merchant_client, page, main, "1010", step=7), 7, page)
    assert "nothing stands in its way" in text(step_7)
    run = CheckRun.objects.filter(check_key="manual_sync").latest("queued_at")

    after = text(
        merchant_client.post(f"/checks/runs/{run.uuid}/fix/", {"fix": "sync_now"}, **HTMX).content.decode()
    )

    assert Order.objects.filter(plugin=main, number="1010").exists()
    assert "Order #1010 is already in Commerce Kitty." in after


def test_the_same_runs_read_the_same_on_the_page_the_ticket_and_admin(
    merchant_client, page, django_user_model
):
    main = plugin_named("Main store")
    html = start(merchant_client, page, main, "1007")
    lines = summary_lines(html)
    assert lines[0].startswith("Most likely cause: Step 6.")

    reloaded = summary_lines(merchant_client.get(page.url).content.decode())
    diagnosis = Diagnosis.objects.get(reference="1007")
    merchant_client.post(
        "/support/tickets/new/",
        {
            "diagnosis": str(diagnosis.uuid),
            "page_revision": str(page.live_revision_id),
            "order_number": "1007",
            "tried": "Everything.",
        },
        **HTMX,
    )
    ticket = SupportTicket.objects.get(order_number="1007")
    admin = Client()
    admin.force_login(django_user_model.objects.get(username="admin"))
    admin_html = admin.get(f"/django-admin/checks/diagnosis/{diagnosis.pk}/change/").content.decode()
    ticket_page = merchant_client.get(f"/support/tickets/{ticket.reference}/").content.decode()

    assert reloaded == lines
    assert ticket.verdict.splitlines() == lines
    for line in lines:
        assert line in unescape(admin_html)
        assert line in unescape(ticket_page)


def test_a_product_created_since_a_notification_resolves_step_4(merchant_client, page):
    main = plugin_named("Main store")
    assert not Product.objects.filter(code="MUG-RED-404").exists()
    ProductFactory(merchant=main.merchant, code="MUG-RED-404")

    step_4 = text(step_html(start(merchant_client, page, main, "1004", step=4), 4, page))

    assert "Every SKU on order #1004 is in your catalog." in step_4
    assert "resolved since" in step_4


def test_an_order_the_platform_does_not_have_names_step_6_as_the_cause(merchant_client, page):
    main = plugin_named("Main store")

    html = start(merchant_client, page, main, "77777")

    assert statuses(html, page)[6] == "failed"
    lines = summary_lines(html)
    # Nothing else can be judged without the order: that is not an incomplete diagnosis.
    assert lines[0] == (
        "Most likely cause: Step 6. The platform has no order #77777 for “Demo Marketplace – Main store”."
    )
    assert "Step 3 can be checked once Step 6 is resolved." in lines
    assert "Step 4 can be checked once Step 6 is resolved." in lines
    assert not any("incomplete" in line for line in lines)


def test_a_typed_day_is_judged_as_the_whole_day_when_the_platform_cannot_be_asked(merchant_client, page):
    main = plugin_named("Main store")
    SandboxStore.objects.filter(pk=store_of(main).pk).update(
        throttled_until=timezone.now() + timedelta(hours=2)
    )
    enabled_at = timezone.localtime(main.import_orders_enabled_at)

    on_the_day = start(merchant_client, page, main, "1010", step=3, placed_date=f"{enabled_at:%Y-%m-%d}")
    before = start(
        merchant_client, page, main, "1011", step=3, placed_date=f"{enabled_at - timedelta(days=1):%Y-%m-%d}"
    )
    after = start(
        merchant_client, page, main, "1012", step=3, placed_date=f"{enabled_at + timedelta(days=1):%Y-%m-%d}"
    )

    # The day Import Orders was turned on: the order may be from before or after that moment.
    assert statuses(on_the_day, page)[3] == "unknown"
    assert "depends on the time of day" in text(step_html(on_the_day, 3, page))
    assert statuses(before, page)[3] == "failed"
    assert "(the date you typed), before Import Orders was turned on" in text(step_html(before, 3, page))
    assert statuses(after, page)[3] == "passed"


def test_no_backfill_is_offered_for_an_order_older_than_the_platform_shows(merchant_client, page):
    main = plugin_named("Main store")
    SandboxStore.objects.filter(pk=store_of(main).pk).update(history_days=60)
    typed = timezone.localdate() - timedelta(days=90)

    step_3 = step_html(
        start(merchant_client, page, main, "31337", step=3, placed_date=f"{typed:%Y-%m-%d}"), 3, page
    )

    assert "shows only the last 60 days of orders to plugins, so no sync can reach this order" in text(step_3)
    assert "Sync historical orders" not in step_3
    assert "Create the order by hand" in step_3


def test_a_throttle_met_during_the_diagnosis_is_recorded_for_the_next_sync(merchant_client, page):
    main = plugin_named("Main store")
    fresh_order(main)
    SandboxStore.objects.filter(pk=store_of(main).pk).update(
        throttled_until=timezone.now() + timedelta(hours=2)
    )

    start(merchant_client, page, main, "1010", step=5)

    main.refresh_from_db()
    assert main.rate_limited_until is not None
    assert main.rate_limited_until > timezone.now() + timedelta(minutes=100)


def test_without_manual_syncs_step_7_says_whether_a_scheduled_sync_reaches_the_order(merchant_client, page):
    main = plugin_named("Main store")
    SandboxStore.objects.filter(pk=store_of(main).pk).update(supports_manual_sync=False)
    fresh_order(main, number="1010")
    # Paid, placed after Import Orders was turned on, but long before the last scheduled sync's window.
    fresh_order(main, number="1011", placed_at=main.import_orders_enabled_at + timedelta(hours=1))
    type(main).objects.filter(pk=main.pk).update(last_synced_at=timezone.now())

    soon = text(step_html(start(merchant_client, page, main, "1010", step=7), 7, page))
    never = step_html(start(merchant_client, page, main, "1011", step=7), 7, page)

    assert "the next scheduled sync (within 5 minutes) brings it in" in soon
    assert "no sync will bring it in" in text(never)
    assert "scheduled syncs look back only to" in text(never)
    assert "Create the order by hand" in never
