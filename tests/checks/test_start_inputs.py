"""Starting a check: what the merchant typed is cleaned, or refused in plain words before anything runs."""

import re

import pytest

from apps.checks.models import CheckRun, Diagnosis
from apps.commerce.models import Plugin
from tests.checks.conftest import HTMX, plugin_named, start, status_of
from tests.factories import PluginFactory
from tests.html import text

pytestmark = pytest.mark.django_db


def test_no_plugin_chosen_is_a_clear_message(merchant_client, page):
    html = start(merchant_client, page, None, step=1).content.decode()

    assert "Choose the plugin the order should import through." in text(html)


def test_a_step_that_needs_the_order_number_is_refused_before_it_runs(merchant_client, page):
    html = start(merchant_client, page, plugin_named("Main store"), step=6).content.decode()

    assert status_of(html) == "idle"
    assert "Type the missing order's number (as the source platform shows it)." in text(html)
    assert re.search(r'id="check-order-number"[^>]*aria-invalid="true" autofocus', html)
    assert not CheckRun.objects.exists()


@pytest.mark.parametrize(
    "number,message",
    [
        ("1001; DROP TABLE", "only letters, digits"),
        ("x" * 65, "at most 64 characters"),
        ("<script>alert(1)</script>", "only letters, digits"),
        ("#", "Type the order number after the #."),
    ],
)
def test_garbage_order_numbers_get_a_clear_inline_message(merchant_client, page, number, message):
    response = start(merchant_client, page, plugin_named("Main store"), step=6, number=number)

    assert response.status_code == 200
    assert message in text(response.content.decode())
    assert not CheckRun.objects.exists()


def test_order_number_is_trimmed_and_hash_ignored(merchant_client, page):
    start(merchant_client, page, plugin_named("Main store"), step=6, number="  #1006 ")

    assert CheckRun.objects.filter(check_key="source_order_state").get().inputs["order_number"] == "1006"


def _platform_plugin(platform: str, name: str) -> Plugin:
    main = plugin_named("Main store")
    return PluginFactory(merchant=main.merchant, platform=platform, name=name, credentials={})


@pytest.mark.parametrize(
    "platform,typed,message",
    [
        ("amazon", "1004", "Amazon order numbers look like 123-1234567-1234567"),
        ("amazon", "902-3159896", "Amazon order numbers look like 123-1234567-1234567"),
        ("etsy", "KT-1001", "Etsy order numbers are digits only, like 2345678901"),
    ],
)
def test_a_number_the_platform_cannot_have_is_refused_in_its_words_before_anything_runs(
    merchant_client, page, platform, typed, message
):
    plugin = _platform_plugin(platform, f"{platform} shop")

    for htmx in (True, False):
        response = start(merchant_client, page, plugin, number=typed, htmx=htmx)
        html = (merchant_client.get(page.url) if not htmx else response).content.decode()

        assert message in text(html)
        assert re.search(r'id="check-order-number"[^>]*aria-invalid="true"', html)
        assert f'value="{typed}"' in html  # what was typed stays, to be corrected
    assert not CheckRun.objects.exists()
    assert not Diagnosis.objects.exists()


def test_an_amazon_order_id_typed_without_dashes_is_checked_as_amazon_writes_it(
    merchant_client, page, tasks_held
):
    plugin = _platform_plugin("amazon", "Amazon EU")

    start(merchant_client, page, plugin, step=6, number="90231598961390916")

    run = CheckRun.objects.get(check_key="source_order_state")
    assert run.inputs["order_number"] == "902-3159896-1390916"
    assert run.diagnosis.reference == "902-3159896-1390916"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0001-01-01", "too long ago"),
        ("2024-W01-1", "YYYY-MM-DD"),
        ("20240101", "YYYY-MM-DD"),
        ("2024-02-30", "YYYY-MM-DD"),
        ("2999-01-01", "cannot be in the future"),
    ],
)
def test_garbage_placed_dates_get_a_clear_inline_message(merchant_client, page, typed, message):
    html = start(
        merchant_client, page, plugin_named("Main store"), step=3, number="1003", placed_date=typed
    ).content.decode()

    assert message in text(html)
    assert not CheckRun.objects.filter(check_key="order_age").exists()


def test_a_cleared_placed_date_is_forgotten(merchant_client, page):
    main = plugin_named("Main store")
    start(merchant_client, page, main, step=3, number="1003", placed_date="2020-01-01")

    start(merchant_client, page, main, step=3, number="1003", placed_date="")

    latest = CheckRun.objects.filter(check_key="order_age").latest("queued_at")
    assert latest.inputs["placed_date"] == ""
    assert 'value="2020-01-01"' not in merchant_client.get(page.url).content.decode()


@pytest.mark.parametrize("page_value", ["", "abc", "999999", "help-index"])
def test_start_for_a_page_that_is_not_an_article_is_a_404(merchant_client, page, page_value):
    if page_value == "help-index":
        page_value = page.get_parent().pk

    response = merchant_client.post(
        "/checks/start/", {"page": page_value, "subject": plugin_named("Main store").pk, "all": "1"}, **HTMX
    )

    assert response.status_code == 404
