"""The inline result and its polling: what a step says, how soon it looks again, and how it stops."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.checks.services.running import check_runs_execute
from tests.checks.conftest import HTMX, plugin_named, start, status_of
from tests.html import text

pytestmark = pytest.mark.django_db


def test_step_4_shows_an_earlier_unreadable_order_as_history_it_could_not_re_check(merchant_client, page):
    """The importer once could not read #1099; the platform no longer has it, so nothing is re-judged."""
    from apps.commerce import importing
    from apps.commerce.models import Notification

    main = plugin_named("Main store")
    result = importing.order_unreadable("1099", "its placed date is missing.")
    importing.notifications_record(main, [("1099", result)], now=timezone.now())

    response = start(merchant_client, page, main, step=4, number="1099").content.decode()

    html = text(response)
    # A stale note is not a verdict: the step says it couldn't check, and shows the note as history.
    assert status_of(response) == "unknown"
    assert "Order could not be read (noted " in html
    assert "couldn't be re-checked now): Order #1099 could not be read: its placed date is missing." in html
    assert Notification.objects.get(order_number="1099").get_kind_display() == "Order could not be read"


def test_step_6_names_the_platform_word_and_a_wrong_number(merchant_client, page):
    main = plugin_named("Main store")

    pending = text(start(merchant_client, page, main, step=6, number="#1006").content.decode())
    missing = text(start(merchant_client, page, main, step=6, number="NOPE-1").content.decode())

    assert "not ready to import yet (“awaiting payment”): it is waiting for the buyer's payment" in pending
    assert "The platform has no order #NOPE-1" in missing


def test_rate_limited_platform_is_couldnt_check_not_failed(merchant_client, page):
    html = start(merchant_client, page, plugin_named("EU store"), step=6, number="4001").content.decode()

    assert status_of(html) == "unknown"
    assert "the platform is throttling the plugin" in text(html)


def test_running_widget_polls_fast_then_backs_off(merchant_client, page, tasks_held):
    html = start(merchant_client, page, plugin_named("Main store"), step=1).content.decode()
    run = CheckRun.objects.get(check_key="import_orders_enabled")

    assert f'hx-get="/checks/runs/{run.uuid}/?n=1"' in html
    assert "delay:50ms" in html
    soon = merchant_client.get(f"/checks/runs/{run.uuid}/?n=2", **HTMX).content.decode()
    later = merchant_client.get(f"/checks/runs/{run.uuid}/?n=8", **HTMX).content.decode()
    assert "delay:100ms" in soon  # most checks end within half a second: the first looks are close
    assert "delay:1000ms" in later

    check_runs_execute([run.pk])
    final = merchant_client.get(f"/checks/runs/{run.uuid}/?n=7", **HTMX).content.decode()
    assert status_of(final) == "passed"
    assert "hx-get" not in final.split("<button")[0]  # the final answer stops the polling


def test_the_answer_that_ends_a_check_tells_the_page_so(merchant_client, page, tasks_held):
    # The "Still missing?" section listens for this event to show the ticket form.
    running = start(merchant_client, page, plugin_named("Main store"), step=1, number="1006")
    run = CheckRun.objects.get(check_key="import_orders_enabled")
    assert "HX-Trigger" not in running

    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    final = merchant_client.get(f"/checks/runs/{run.uuid}/?n=1", **HTMX)
    assert "checks-finished" in final["HX-Trigger"]


def test_run_left_running_past_its_deadline_shows_couldnt_finish_with_try_again(
    merchant_client, page, tasks_held
):
    # A worker killed mid-check leaves its run "running": nobody will finish it.
    start(merchant_client, page, plugin_named("Main store"), step=1)
    run = CheckRun.objects.get()
    CheckRun.objects.filter(pk=run.pk).update(
        status="running", deadline=timezone.now() - timedelta(seconds=1)
    )

    html = merchant_client.get(f"/checks/runs/{run.uuid}/?n=3", **HTMX).content.decode()

    assert status_of(html) == "unknown"
    assert "This check couldn't finish." in text(html)
    assert ">Check again</button>" in html
