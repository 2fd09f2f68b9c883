"""A start whose checks end in a moment answers with their results; one waiting on a slow store answers "Checking…".

apps/checks/services/ending.py: the task says in Redis when it has ended, and
the start waits a moment for that word, never for the platform itself.
"""

import threading

import pytest

from apps.checks.models import CheckRun
from apps.checks.services import ending
from apps.checks.services.ending import task_end_wait, task_ended
from apps.commerce.models import Plugin
from tests.checks.conftest import HTMX, start, status_of
from tests.checks.test_worker_flow import poll_until_done
from tests.conftest import service_missing, wait_for


@pytest.fixture
def real_workers(celery_worker, settings):
    if celery_worker is None:
        service_missing("this needs real Celery workers (set CELERY_BROKER_URL and DATABASE_URL)")
    # The longest wait there is: a busy machine's worker still ends these checks within it.
    settings.CHECK_START_WAIT_MS = 1500


@pytest.fixture
def with_redis(redis_url, settings):
    settings.REDIS_URL = redis_url
    settings.CHECK_START_WAIT_MS = 300
    settings.CHECK_START_WAITERS = 2


def test_check_every_step_answers_with_the_diagnosis_itself(client, live_demo, real_workers):
    eu = Plugin.objects.get(name__contains="EU store")

    answer = start(client, live_demo, eu, number="4001").content.decode()

    # The press's own answer, not a look after it: the cause named, every step's result in it.
    assert 'data-summary-status="done"' in answer
    assert "Step 4 keeps the order out: The platform is throttling" in answer
    assert "Checking…" not in answer
    assert 'hx-get="/checks/diagnoses/' not in answer  # nothing left to look at


def test_one_steps_click_answers_with_its_result(client, live_demo, real_workers):
    wholesale = Plugin.objects.get(name__contains="Wholesale")

    answer = start(client, live_demo, wholesale, step=2, number="3001").content.decode()

    assert status_of(answer) == "failed"
    assert "Web store, Wholesale portal" in answer


def test_a_start_on_a_store_that_hangs_answers_checking_without_waiting_for_the_store(
    client, live_demo, real_workers, hanging_shopify
):
    store, slow = hanging_shopify

    answer = start(client, live_demo, slow, number="1002").content.decode()

    assert 'data-summary-status="running"' in answer
    assert store.pages_served == 0  # answered while the store still holds the order lookup
    store.release()
    final, _ = poll_until_done(client, answer)
    assert 'data-summary-status="done"' in final


def test_a_task_that_ended_is_seen_by_the_start_waiting_for_it(with_redis, settings):
    task_ended("task-a")

    assert task_end_wait("task-a", queued_ahead=0)
    # The word is taken once: a second wait on the same task is not told again.
    settings.CHECK_START_WAIT_MS = 50
    assert not task_end_wait("task-a", queued_ahead=0)


def test_the_word_is_kept_under_the_deployments_key_prefix(with_redis, settings, redis_url):
    import redis

    settings.CACHE_KEY_PREFIX = "tenant-b"
    task_ended("task-b")

    client = redis.Redis.from_url(redis_url)
    assert client.llen("tenant-b:checks:ended:task-b") == 1
    assert 0 < client.ttl("tenant-b:checks:ended:task-b") <= ending.ENDED_KEEP_SECONDS


def test_no_wait_with_runs_queued_ahead_or_every_waiter_taken(with_redis, settings):
    settings.CHECK_START_WAITERS = 1
    task_ended("task-c")

    assert not task_end_wait("task-c", queued_ahead=3)  # a queue ahead: it would not end in a moment
    slots = ending._waiter_slots()
    assert slots.acquire(blocking=False)  # another request of this process is waiting
    try:
        assert not task_end_wait("task-c", queued_ahead=0)
    finally:
        slots.release()
    assert task_end_wait("task-c", queued_ahead=0)  # the word was there all along


def test_waiters_beyond_the_limit_are_answered_at_once(with_redis, settings):
    settings.CHECK_START_WAITERS = 1
    settings.CHECK_START_WAIT_MS = 1500
    waiting = threading.Thread(target=task_end_wait, args=("task-d",), kwargs={"queued_ahead": 0})
    waiting.start()
    try:
        slots = ending._waiter_slots()

        def taken() -> bool:
            if slots.acquire(blocking=False):
                slots.release()
                return False
            return True

        wait_for(taken, timeout=10)  # the first waiter holds the one slot; a second one is not let in
        assert not task_end_wait("task-e", queued_ahead=None)
    finally:
        task_ended("task-d")
        waiting.join()


def test_nothing_waits_without_redis_or_with_waiting_turned_off(settings):
    settings.REDIS_URL = ""
    settings.CHECK_START_WAIT_MS = 300
    task_ended("task-f")  # nowhere to say it: nothing happens
    assert not task_end_wait("task-f", queued_ahead=0)


def test_redis_unreachable_answers_the_start_at_once_in_words(client, page, tasks_held, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    settings.CHECK_START_WAIT_MS = 300
    assert client.login(username="merchant", password="kitty-merchant")
    main = Plugin.objects.get(name__contains="Main store")

    response = start(client, page, main, number="1001")

    assert response.status_code == 200
    assert 'data-summary-status="running"' in response.content.decode()
    assert CheckRun.objects.filter(status=CheckRun.State.QUEUED).exists()  # the runs wait for their worker


def test_without_javascript_a_quick_start_lands_on_the_results(client, live_demo, real_workers):
    eu = Plugin.objects.get(name__contains="EU store")

    response = start(client, live_demo, eu, number="4001", htmx=False)
    page = client.get(response["Location"]).content.decode()

    assert "Step 4 keeps the order out: The platform is throttling" in page
    assert 'http-equiv="refresh"' not in page  # nothing left to follow


def test_a_fix_answers_with_the_steps_checked_again_after_it(client, live_demo, real_workers):
    wholesale = Plugin.objects.get(name__contains="Wholesale")
    start(client, live_demo, wholesale, number="3001")  # every step, answered done
    run = CheckRun.objects.filter(check_key="plugin_on_one_channel").latest("queued_at")
    keep = wholesale.channels.get(code="wholesale")

    answer = client.post(
        f"/checks/runs/{run.uuid}/fix/", {"fix": "keep_only_channel", "choice": keep.pk}, **HTMX
    ).content.decode()

    # The fix's own answer: applied, every step checked again after it, nothing left to look at.
    assert 'data-summary-status="done"' in answer
    step_2 = live_demo.steps[1].id
    assert f'id="check-{step_2}" data-check-status="passed"' in answer
    assert "Fix applied" in answer
