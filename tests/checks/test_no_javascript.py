"""Without JavaScript the widget is a form: it posts, comes back to its step, and reloads until it ends."""

import re

import pytest

from apps.checks.models import CheckRun
from apps.checks.services.running import check_runs_execute
from tests.checks.conftest import plugin_named, start
from tests.html import text

pytestmark = pytest.mark.django_db


def test_without_javascript_the_button_posts_and_comes_back_to_the_step(merchant_client, page):
    response = start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001", htmx=False)

    assert response.status_code == 302
    assert response.headers["Location"] == f"{page.url}?checking=step-2#step-2"
    html = merchant_client.get(response.headers["Location"]).content.decode()
    assert 'data-check-status="failed"' in html
    assert "is on 2 channels" in html
    assert 'value="3001"' in html  # the inputs are remembered


def test_without_javascript_errors_come_back_as_a_message(merchant_client, page):
    response = start(
        merchant_client, page, plugin_named("Main store"), step=6, number="bad number!", htmx=False
    )

    assert response.status_code == 302
    html = merchant_client.get(page.url).content.decode()
    assert "An order number has only letters, digits" in html


def test_without_javascript_a_refusal_shows_in_its_step_with_what_was_typed(merchant_client, page):
    start(merchant_client, page, plugin_named("Outlet"), step=6, number="bad number!", htmx=False)

    html = merchant_client.get(page.url).content.decode()

    step_6 = html[html.index('id="step-6"') : html.index('id="step-7"')]
    assert "An order number has only letters, digits" in text(step_6)
    assert 'value="bad number!"' in html  # nothing to type again
    assert re.search(r'id="check-order-number"[^>]*aria-invalid="true"', html)
    assert f'<option value="{plugin_named("Outlet").pk}" selected>' in html
    again = merchant_client.get(page.url).content.decode()
    assert "An order number has only letters, digits" not in again  # said once


def test_without_javascript_check_every_step_shows_the_summary_on_the_page(merchant_client, page):
    response = start(merchant_client, page, plugin_named("Outlet"), number="2001", htmx=False)

    assert response.headers["Location"] == f"{page.url}?checking=check-inputs#check-inputs"
    html = merchant_client.get(response.headers["Location"]).content.decode()
    assert "Most likely cause:" in html and 'href="#step-1"' in html
    assert html.count('data-check-status="idle"') == 0


def nojs_refresh(html: str) -> tuple[int, str] | None:
    """The (delay, address) a browser without JavaScript refreshes the article to, if any."""
    match = re.search(r'<noscript><meta http-equiv="refresh" content="(\d+); url=([^"]+)"></noscript>', html)
    return (int(match.group(1)), match.group(2).replace("&amp;", "&")) if match else None


def test_without_javascript_a_running_check_reloads_the_article_at_a_new_address_until_it_ends(
    merchant_client, page, tasks_held
):

    response = start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001", htmx=False)
    running = merchant_client.get(response.headers["Location"]).content.decode()
    again = merchant_client.get(nojs_refresh(running)[1]).content.decode()

    delay, address = nojs_refresh(running)
    # A refresh to the address shown plus a #fragment only scrolls: each one must be a new address.
    assert delay <= 1
    assert address.startswith(f"{page.url}?checking=step-2&") and address.endswith("#step-2")
    assert address != response.headers["Location"] and nojs_refresh(again)[1] != address
    assert 'data-check-status="running"' in again
    assert again.count("<noscript><meta") == 1  # one refresh for the page, not one per step
    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    final = merchant_client.get(nojs_refresh(again)[1]).content.decode()
    assert 'data-check-status="failed"' in final and nojs_refresh(final) is None
    assert not re.search(r'id="check-button-[^"]+"[^>]*disabled', final)


def test_without_javascript_a_fix_comes_back_to_its_step_and_follows_the_check_again(
    merchant_client, page, tasks_held
):

    start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001", htmx=False)
    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    run = CheckRun.objects.filter(step_number=2).get()
    fix = run.fixes_offered[0]

    response = merchant_client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": fix["key"], "choice": str(fix["choices"][0][0])}
    )

    assert response.headers["Location"] == f"{page.url}?checking=step-2#step-2"
    delay, address = nojs_refresh(merchant_client.get(response.headers["Location"]).content.decode())
    assert address.endswith("#step-2") and "checking=step-2&" in address
