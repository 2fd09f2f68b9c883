"""“Check every step” and its summary: its own address, polls that carry only what changed, and the end."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.services.running import check_runs_execute
from tests.checks.conftest import HTMX, plugin_named, start
from tests.factories import PluginFactory
from tests.html import text

pytestmark = pytest.mark.django_db


def test_check_every_step_posts_to_an_address_of_its_own(merchant_client, page, tasks_held):
    article = merchant_client.get(page.url).content.decode()
    data = {"page": page.pk, "subject": plugin_named("Main store").pk, "order_number": "1001"}

    html = merchant_client.post("/checks/start/every-step/", data, **HTMX).content.decode()

    assert re.search(r'id="check-every-step"[^>]*hx-post="/checks/start/every-step/"', article, re.S)
    assert 'id="diagnosis-summary"' in html
    assert CheckRun.objects.count() == 8  # "already here?" and the seven steps, with no all=1


def _summary_poll_delay(html: str) -> int:
    return int(re.search(r'id="diagnosis-summary"[^>]*hx-trigger="load delay:(\d+)ms', html, re.S).group(1))


def test_while_its_checks_wait_behind_others_the_summary_looks_again_later(merchant_client, page, tasks_held):
    other = PluginFactory()
    waiting = Diagnosis.objects.create(
        merchant_id=other.merchant_id, page_id=page.pk, subject_id=other.pk, subject_label=other.name
    )
    earlier = timezone.now() - timedelta(seconds=1)
    CheckRun.objects.bulk_create(
        CheckRun(
            diagnosis=waiting,
            merchant_id=other.merchant_id,
            block_id=f"block-{n}",
            check_key="import_orders_on",
            queued_at=earlier,
            deadline=earlier + timedelta(minutes=1),
        )
        for n in range(200)
    )
    main = plugin_named("Main store")

    first = start(merchant_client, page, main, number="1001").content.decode()
    assert "Checking" in text(first)
    assert _summary_poll_delay(first) == 600  # 200 runs ahead, 3 ms each

    CheckRun.objects.filter(diagnosis__subject_id=main.pk).update(status=CheckRun.State.RUNNING)
    poll = re.search(r'id="diagnosis-summary"[^>]*hx-get="([^"]+)"', first, re.S).group(1)
    again = merchant_client.get(unescape(poll), **HTMX).content.decode()
    assert _summary_poll_delay(again) == 100  # its checks started: the next answer is moments away


def test_a_summary_waiting_on_a_slow_platform_looks_again_less_often(merchant_client, page, tasks_held):
    first = start(merchant_client, page, plugin_named("Main store"), number="1001", all="1").content.decode()
    poll = unescape(re.search(r'id="diagnosis-summary"[^>]*hx-get="([^"]+)"', first, re.S).group(1))
    runs = CheckRun.objects.filter(diagnosis__subject_id=plugin_named("Main store").pk)
    now = timezone.now()
    # The worker has them: one ended a moment ago, the others run on.
    runs.update(status=CheckRun.State.RUNNING, started_at=now - timedelta(seconds=3))
    ended = runs.first()
    runs.filter(pk=ended.pk).update(
        status=CheckRun.State.PASSED, finished_at=now - timedelta(milliseconds=10)
    )
    assert _summary_poll_delay(merchant_client.get(poll, **HTMX).content.decode()) == 100  # as before

    # Nothing has ended for 0.7 s, then for 3 s: the next look waits about as long, at most 2 s.
    runs.filter(pk=ended.pk).update(finished_at=now - timedelta(milliseconds=700))
    assert 700 <= _summary_poll_delay(merchant_client.get(poll, **HTMX).content.decode()) < 1000
    runs.filter(pk=ended.pk).update(finished_at=now - timedelta(seconds=3))
    assert _summary_poll_delay(merchant_client.get(poll, **HTMX).content.decode()) == 2000


def test_every_step_summary_tells_the_page_only_when_done(merchant_client, page, tasks_held):
    running = start(merchant_client, page, plugin_named("Main store"), number="1006", all="1")
    assert "HX-Trigger" not in running

    check_runs_execute(list(CheckRun.objects.values_list("pk", flat=True)))
    diagnosis = CheckRun.objects.first().diagnosis
    done = merchant_client.get(f"/checks/diagnoses/{diagnosis.uuid}/summary/?n=1", **HTMX)
    assert 'data-summary-status="done"' in done.content.decode()
    assert "checks-finished" in done["HX-Trigger"]


def test_every_step_polls_carry_only_the_steps_that_ended_since_the_last_look(
    merchant_client, page, tasks_held
):
    first = start(merchant_client, page, plugin_named("Main store"), number="1006").content.decode()
    assert first.count('hx-swap-oob="outerHTML"') >= 7  # every step, each "Checking…"
    diagnosis = CheckRun.objects.first().diagnosis
    url = f"/checks/diagnoses/{diagnosis.uuid}/summary/"

    def look(answer: str, n: int) -> str:
        shown = re.search(r"[?&]shown=([0-9.]*)", unescape(answer)).group(1)
        return merchant_client.get(url, {"n": n, "shown": shown}, **HTMX).content.decode()

    quiet = look(first, 1)
    # Nothing ended: no step, no checklist is sent again, only the summary with its next look.
    assert 'class="check" id="check-' not in quiet
    assert 'id="diagnosis-checklist"' not in quiet
    assert "Checking… 0 of 7 steps done." in text(quiet)

    step_1 = CheckRun.objects.get(check_key="import_orders_enabled")
    check_runs_execute([step_1.pk])
    later = look(quiet, 2)
    assert later.count('class="check" id="check-') == 1
    assert f'id="check-{step_1.block_id}"' in later
    assert 'id="diagnosis-checklist"' in later

    again = look(later, 3)  # step 1 is on the page now: it is not sent a second time
    assert 'class="check" id="check-' not in again


@pytest.mark.parametrize("shown", ["abc", "١.٢", "1..2", "1." * 200])
def test_a_garbled_shown_list_is_answered_with_every_step_never_an_error(
    merchant_client, page, tasks_held, shown
):
    start(merchant_client, page, plugin_named("Main store"), number="1006")
    diagnosis = CheckRun.objects.first().diagnosis

    answer = merchant_client.get(
        f"/checks/diagnoses/{diagnosis.uuid}/summary/", {"n": 1, "shown": shown}, **HTMX
    )

    assert answer.status_code == 200
    assert answer.content.decode().count('class="check" id="check-') == 7  # read as a first look: every step


def test_the_summarys_looks_leave_a_step_to_its_own_look(merchant_client, page, tasks_held):
    first = start(merchant_client, page, plugin_named("Wholesale"), step=2, number="3001").content.decode()
    assert first.count('class="check" id="check-') == 7  # the page showed nothing about this order yet
    step_2 = CheckRun.objects.get(check_key="plugin_on_one_channel")
    # The step looks for its own result; the summary looks too, while anything runs.
    assert re.search(rf'id="check-{step_2.block_id}"[^>]*hx-get="/checks/runs/{step_2.uuid}/', first, re.S)
    summary_look = unescape(re.search(r'id="diagnosis-summary"[^>]*hx-get="([^"]+)"', first, re.S).group(1))
    assert re.search(r"[?&]shown=2(&|$)", summary_look)

    check_runs_execute([step_2.pk])
    own = merchant_client.get(f"/checks/runs/{step_2.uuid}/?n=1", **HTMX).content.decode()
    late = merchant_client.get(summary_look, **HTMX).content.decode()  # a look already on its way

    assert 'data-check-status="failed"' in own and "Keep only this channel" in own
    # The result arrives once: not swapped again under the merchant picking the channel to keep.
    assert f'id="check-{step_2.block_id}"' not in late
    assert 'data-summary-status="done"' in late
