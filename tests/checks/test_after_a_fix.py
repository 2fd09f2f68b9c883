"""After a fix, nothing the article shows is older than it: Step 7's last sync, the bell, incident notes."""

import re

import pytest

from apps.checks.models import CheckRun
from apps.commerce.models import Notification
from apps.follow.selectors import unread_count
from tests.checks.conftest import HTMX, plugin_named, start
from tests.html import text
from tests.incidents.factories import confirmed_incident

pytestmark = pytest.mark.django_db


def step_result(html: str, number: int, page) -> str:
    """The text of one step's widget in an answer (in place or out of band)."""
    block = page.steps[number - 1].id
    match = re.search(rf'<div class="check" id="check-{block}".*?(?=<div class="check" id=|\Z)', html, re.S)
    assert match, f"step {number} is not in the answer"
    return text(match.group(0))


def oob_bell(html: str) -> str:
    match = re.search(
        r'<a class="bell" id="notifications-bell"[^>]*hx-swap-oob="outerHTML"[^>]*>.*?</a>', html
    )
    assert match, "the answer does not carry the bell"
    return match.group(0)


def keep_only_wholesale_portal(client, page):
    wholesale = plugin_named("Wholesale")
    start(client, page, wholesale, number="3001")
    run = CheckRun.objects.filter(check_key="plugin_on_one_channel").latest("queued_at")
    keep = wholesale.channels.get(code="wholesale")
    fixed = client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_only_channel", "choice": keep.pk}, **HTMX
    )
    return wholesale, fixed.content.decode()


def test_step_7_no_longer_quotes_a_sync_stopped_by_what_the_fix_changed(merchant_client, page):
    wholesale = plugin_named("Wholesale")
    before = start(merchant_client, page, wholesale, number="3001").content.decode()
    assert "is on 2 channels" in step_result(before, 7, page)  # the blocked sync's words, still true then

    _, after = keep_only_wholesale_portal(merchant_client, page)

    step_7 = step_result(after, 7, page)
    assert "2 channels" not in step_7 and "(blocked)" not in step_7
    assert "What stopped it then no longer stands in the way" in step_7
    assert "nothing stands in its way, so a sync brings it in" in step_7


def test_step_7_still_quotes_a_blocked_sync_while_its_cause_stands(merchant_client, page):
    html = start(merchant_client, page, plugin_named("Wholesale"), step=7, number="3001").content.decode()

    assert "Last sync:" in step_result(html, 7, page)
    assert "(blocked)" in step_result(html, 7, page)


def test_the_fix_resolves_the_channel_conflict_and_its_answer_brings_the_bell(merchant_client, page):
    wholesale = plugin_named("Wholesale")
    before = unread_count(wholesale.merchant_id)

    _, after = keep_only_wholesale_portal(merchant_client, page)

    note = Notification.objects.get(plugin=wholesale, kind=Notification.Kind.CHANNEL_CONFLICT)
    assert note.resolved_at is not None and "is now only on Wholesale portal" in note.resolution
    assert unread_count(wholesale.merchant_id) == before - 1
    assert f"Notifications, {before - 1} unread" in oob_bell(after)


def test_only_the_answer_that_ends_the_checks_brings_the_bell_and_the_notes(
    merchant_client, page, tasks_held
):
    running = start(merchant_client, page, plugin_named("Wholesale"), number="3001").content.decode()

    assert 'data-summary-status="running"' in running
    assert 'id="notifications-bell"' not in running and 'id="incident-step-' not in running


def test_an_incident_note_arrives_with_the_checks_answer(merchant_client, page):
    gifts = plugin_named("Gift shop")
    confirmed_incident(
        platform=gifts.platform, wording="Many stores are refused — reauthorizing may not help yet."
    )

    html = start(merchant_client, page, gifts, number="5001").content.decode()

    note = re.search(
        r'<div class="step__incident" id="incident-step-5" hx-swap-oob="outerHTML">.*?</div>\s*</div>',
        html,
        re.S,
    )
    assert note and "Known problem: Many stores are refused" in text(note.group(0))
    others = re.findall(r'id="incident-step-(\d+)" hx-swap-oob="outerHTML">\s*</div>', html)
    assert "5" not in others and len(others) == 6  # every other step's place, emptied


def test_a_step_that_passes_shows_no_ongoing_incident_note(merchant_client, page):
    main = plugin_named("Main store")
    confirmed_incident(
        platform=main.platform, wording="Many stores are refused — reauthorizing may not help yet."
    )

    html = start(merchant_client, page, main, number="1006").content.decode()

    assert "may not help" not in html
    assert "may not help" not in merchant_client.get(page.url).content.decode()


def test_checking_a_throttled_plugin_does_not_count_as_the_importer_meeting_it_again(merchant_client, page):
    eu = plugin_named("EU store")
    note = Notification.objects.get(plugin=eu, kind=Notification.Kind.RATE_LIMIT)

    for _ in range(3):
        start(merchant_client, page, eu, number="4001")

    note.refresh_from_db()
    assert note.occurrences == 1
    assert Notification.objects.filter(plugin=eu).count() == 1
