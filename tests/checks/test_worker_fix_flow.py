"""A fix on a real Celery worker: the htmx answers that follow it bring every line up to date."""

import re
import time

from apps.checks.models import CheckRun
from apps.commerce.models import Notification, Plugin
from apps.follow.selectors import unread_count
from tests.checks.test_worker_flow import HTMX, poll_until_done
from tests.html import text


def answers_until_done(client, html: str, *, timeout: float = 30) -> list[str]:
    """Every answer htmx would swap in, following the summary's own polling until it stops."""
    answers = [html]
    deadline = time.monotonic() + timeout
    while match := re.search(r'hx-get="([^"]+)" hx-trigger="load delay:(\d+)ms', answers[-1]):
        assert time.monotonic() < deadline, "the checks did not finish"
        time.sleep(int(match.group(2)) / 1000)
        answers.append(client.get(match.group(1).replace("&amp;", "&"), **HTMX).content.decode())
    return answers


def test_keep_only_this_channel_on_the_worker_brings_step_7_and_the_bell_up_to_date(client, live_demo):
    wholesale = Plugin.objects.get(name__contains="Wholesale")
    started = client.post(
        "/checks/start/",
        {"page": live_demo.pk, "subject": wholesale.pk, "order_number": "3001", "all": "1"},
        **HTMX,
    ).content.decode()
    poll_until_done(client, started)
    before = unread_count(wholesale.merchant_id)
    run = CheckRun.objects.filter(check_key="plugin_on_one_channel").latest("queued_at")
    keep = wholesale.channels.get(code="wholesale")

    fixed = client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_only_channel", "choice": keep.pk}, **HTMX
    )
    answers = answers_until_done(client, fixed.content.decode())

    final = answers[-1]
    assert 'data-summary-status="done"' in final
    assert f'aria-label="Notifications, {before - 1} unread"' in final and 'hx-swap-oob="outerHTML"' in final
    assert 'id="incident-step-7" hx-swap-oob="outerHTML"' in final
    step_7 = live_demo.steps[6].id
    last_7 = [a for a in answers if f'id="check-{step_7}" data-check-status="failed"' in a][-1]
    assert "no longer stands in the way" in text(last_7) and "2 channels" not in text(last_7)
    assert Notification.objects.get(plugin=wholesale, kind="channel_conflict").resolved_at is not None
