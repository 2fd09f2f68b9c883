"""The full HTMX flow against a real Celery worker on Redis (eager without a broker)."""

import re
import time

from apps.commerce.models import Plugin

HTMX = {"HTTP_HX_REQUEST": "true"}


def poll_until_done(client, html: str, *, timeout: float = 20) -> tuple[str, int]:
    """Follow the widget's own hx-get and delays, as htmx would; return the final HTML and poll count."""
    polls = 0
    deadline = time.monotonic() + timeout
    while match := re.search(
        r'hx-get="([^"]+)" hx-trigger="load(?:\[!document.hidden\])? delay:(\d+)ms', html
    ):
        assert time.monotonic() < deadline, "the check did not finish"
        time.sleep(int(match.group(2)) / 1000)
        html = client.get(match.group(1).replace("&amp;", "&"), **HTMX).content.decode()
        polls += 1
    return html, polls


def step_one_click(client, page, plugin, order_number: str = "1001") -> tuple[str, float]:
    """Press Step 1's Check this now and follow its polling as htmx would: (final HTML, seconds taken)."""
    started = time.monotonic()
    html = client.post(
        "/checks/start/",
        {"page": page.pk, "subject": plugin.pk, "order_number": order_number, "block_id": page.steps[0].id},
        **HTMX,
    ).content.decode()
    final, _polls = poll_until_done(client, html, timeout=10)
    return final, time.monotonic() - started


def test_check_runs_on_the_worker_and_the_widget_polls_to_the_result(client, live_demo):
    wholesale = Plugin.objects.get(name__contains="Wholesale")
    step_2 = live_demo.steps[1].id

    started = client.post(
        "/checks/start/",
        {"page": live_demo.pk, "subject": wholesale.pk, "order_number": "3001", "block_id": step_2},
        **HTMX,
    ).content.decode()
    final, _polls = poll_until_done(client, started)

    assert 'data-check-status="failed"' in final
    assert "Web store, Wholesale portal" in final


def test_check_every_step_on_the_worker_names_the_cause(client, live_demo):
    eu = Plugin.objects.get(name__contains="EU store")

    started = client.post(
        "/checks/start/", {"page": live_demo.pk, "subject": eu.pk, "order_number": "4001", "all": "1"}, **HTMX
    ).content.decode()
    final, _polls = poll_until_done(client, started)

    assert 'data-summary-status="done"' in final
    assert "Step 4 keeps the order out: The platform is throttling" in final and 'href="#step-4"' in final
