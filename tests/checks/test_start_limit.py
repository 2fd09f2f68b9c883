"""The per-user start limits: a sliding 60-second window over what a person started."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.checks.models import CheckRun, CheckStart, Diagnosis
from tests.checks.conftest import HTMX, plugin_named, start, status_of
from tests.html import text

pytestmark = pytest.mark.django_db
REFUSED = "You have started a lot of checks in the last minute"
FIXES_REFUSED = "You have applied a lot of fixes in the last minute"


@pytest.fixture
def page(demo):
    from wagtail.models import Page

    return Page.objects.get(slug="order-did-not-import").specific


def age_all_starts(seconds: int) -> None:
    """Every start counted so far was made ``seconds`` ago."""
    CheckStart.objects.update(started_at=timezone.now() - timedelta(seconds=seconds))


def wait_said(html: str) -> int:
    return int(re.search(r"Wait (\d+) seconds?", text(html)).group(1))


def test_the_limit_is_read_from_settings_when_a_check_starts(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 3
    for _ in range(3):
        assert REFUSED not in text(start(merchant_client, page, main, step=1).content.decode())

    refused = text(start(merchant_client, page, main, step=1).content.decode())

    assert REFUSED in refused
    assert CheckRun.objects.count() == 3
    settings.CHECK_STARTS_PER_MINUTE = 4
    assert REFUSED not in text(start(merchant_client, page, main, step=1).content.decode())


def test_a_merchant_can_run_ten_diagnoses_a_minute_and_click_steps_besides(merchant_client, page):
    main = plugin_named("Main store")
    for number in range(1001, 1011):
        answer = text(start(merchant_client, page, main, number=str(number)).content.decode())
        assert REFUSED not in answer, number

    for step in range(1, 8):  # and then each step on its own
        assert REFUSED not in text(
            start(merchant_client, page, main, step=step, number="1006").content.decode()
        )


def test_check_every_step_is_one_start_whatever_it_runs(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 2
    start(merchant_client, page, main, number="1001")
    assert CheckRun.objects.count() == 8  # seven steps and "is it already here?"
    assert REFUSED not in text(start(merchant_client, page, main, number="1002").content.decode())
    runs = CheckRun.objects.count()

    refused = text(start(merchant_client, page, main, number="1003").content.decode())

    assert REFUSED in refused
    assert CheckRun.objects.count() == runs  # nothing of the refused start is queued


def test_the_window_slides_instead_of_resetting_at_the_minute(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 5
    for _ in range(5):
        start(merchant_client, page, main, step=1)
    # Started 50 s ago: a new clock minute may have begun, the window has not moved past them.
    age_all_starts(50)

    refused = start(merchant_client, page, main, step=1).content.decode()

    assert REFUSED in text(refused)
    assert wait_said(refused) in (10, 11)
    age_all_starts(61)
    assert REFUSED not in text(start(merchant_client, page, main, step=1).content.decode())


def test_the_wait_said_is_when_the_oldest_start_leaves_and_never_grows(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 4
    for number in ("1001", "1002", "1003", "1004"):
        start(merchant_client, page, main, number=number)

    def starts_made(seconds_ago: tuple[int, ...], *, later_by: int) -> None:
        now = timezone.now()
        for row, ago in zip(CheckStart.objects.order_by("pk"), seconds_ago, strict=True):
            row.started_at = now - timedelta(seconds=ago + later_by)
            row.save(update_fields=["started_at"])

    waits = []
    for later_by in (0, 2, 3):  # the merchant waits and asks again
        starts_made((56, 50, 40, 30), later_by=later_by)
        waits.append(wait_said(start(merchant_client, page, main, number="1005").content.decode()))

    assert waits[0] in (4, 5)
    assert waits == sorted(waits, reverse=True) and waits[-1] in (1, 2)
    assert CheckStart.objects.count() == 4  # the refused starts were not counted
    starts_made((56, 50, 40, 30), later_by=5)  # the oldest has left the window
    assert REFUSED not in text(start(merchant_client, page, main, number="1005").content.decode())


def test_joining_an_identical_check_in_flight_does_not_count(merchant_client, page, settings, tasks_held):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 2
    first = start(merchant_client, page, main, step=1).content.decode()

    again = start(merchant_client, page, main, step=1).content.decode()

    assert status_of(first) == status_of(again) == "running"
    assert REFUSED not in text(again)
    assert CheckRun.objects.count() == 1
    assert REFUSED not in text(start(merchant_client, page, main, step=2).content.decode())
    assert REFUSED not in text(start(merchant_client, page, main, step=2).content.decode())  # joins again
    assert REFUSED in text(start(merchant_client, page, main, step=1, number="1001").content.decode())


def _channel_fix(merchant_client, page, *, htmx=True):
    """Step 2 of the Wholesale plugin, checked: it offers to keep one channel."""
    wholesale = plugin_named("Wholesale")
    start(merchant_client, page, wholesale, step=2, number="3001")
    run = CheckRun.objects.filter(check_key__contains="channel").latest("queued_at")
    fix = run.fixes_offered[0]
    return run, {"fix": fix["key"], "choice": str(fix["choices"][0][0]) if fix.get("choices") else ""}


def test_fixes_are_not_refused_by_the_check_limit_and_have_their_own(merchant_client, page, settings):
    settings.CHECK_STARTS_PER_MINUTE = 1
    settings.CHECK_FIXES_PER_MINUTE = 2
    run, data = _channel_fix(merchant_client, page)
    assert REFUSED in text(start(merchant_client, page, plugin_named("Main store"), step=1).content.decode())

    answers = []
    for _ in range(3):
        answers.append(
            text(merchant_client.post(f"/checks/runs/{run.uuid}/fix/", data, **HTMX).content.decode())
        )

    assert [FIXES_REFUSED in answer for answer in answers] == [False, False, True]
    assert REFUSED not in answers[0]


def test_a_refused_start_writes_no_diagnosis_and_leaves_the_shown_one(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 1
    start(merchant_client, page, main, number="1006")
    shown = Diagnosis.objects.get()

    refused = start(merchant_client, page, main, number="1001", htmx=False)

    assert refused.status_code == 302
    assert list(Diagnosis.objects.all()) == [shown]
    article = merchant_client.get(page.url).content.decode()
    assert REFUSED in text(article)
    # The results on the page are #1006's: not offered as the refused order's, with nothing to watch or file.
    assert 'data-summary-status="done"' not in article
    assert "checklist__row" not in article
    assert article.count("check__result--") == article.count("is-stale") > 0
    assert "about another order or plugin than the one above" in text(article)


def test_a_refused_diagnosis_clears_the_checklist_it_stood_under(merchant_client, page, settings):
    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 1
    start(merchant_client, page, main, number="1006")

    refused = start(merchant_client, page, main, number="1001").content.decode()

    assert REFUSED in text(refused)
    assert re.search(
        r'<div id="diagnosis-checklist" class="checklist" hx-swap-oob="outerHTML">\s*</div>', refused
    )


def test_the_limit_is_per_user(merchant_client, page, settings):
    from apps.commerce.models import Membership
    from tests.factories import UserFactory

    main = plugin_named("Main store")
    settings.CHECK_STARTS_PER_MINUTE = 2
    for _ in range(3):
        start(merchant_client, page, main, step=1)
    teammate = Client()
    staff = UserFactory(username="teammate")
    Membership.objects.create(user=staff, merchant=main.merchant, role=Membership.Role.STAFF)
    teammate.force_login(staff)

    assert REFUSED not in text(start(teammate, page, main, step=2).content.decode())


def test_the_limit_holds_while_the_cache_is_down(merchant_client, page, settings):
    # Nothing listens on port 1: the cache degrades to a no-op, the limit must not.
    settings.CACHES = {
        "default": {
            "BACKEND": "kitty_troubleshoot.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.CHECK_STARTS_PER_MINUTE = 3
    main = plugin_named("Main store")
    answers = [text(start(merchant_client, page, main, step=1).content.decode()) for _ in range(6)]

    assert [REFUSED in answer for answer in answers] == [False, False, False, True, True, True]


def test_starting_too_many_checks_is_refused_kindly(merchant_client, page, settings):
    main = plugin_named("Main store")
    for _ in range(settings.CHECK_STARTS_PER_MINUTE):
        start(merchant_client, page, main, step=1)

    refused = start(merchant_client, page, main, step=1).content.decode()

    assert "You have started a lot of checks in the last minute" in text(refused)
