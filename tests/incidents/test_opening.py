"""When the beat task opens an incident, and when it must not."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from apps.incidents.models import Incident
from apps.incidents.services import incidents_evaluate
from apps.incidents.tasks import incidents_evaluate as incidents_evaluate_task
from tests.incidents.factories import CheckRunFactory, runs_on, stores

pytestmark = pytest.mark.django_db

FAILED, UNKNOWN, PASSED = "failed", "unknown", "passed"


def test_many_shopify_stores_failing_the_same_step_opens_one_incident():
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED, FAILED)  # 8 runs, 4 merchants all failing
    for plugin in stores("shopify", 2):
        runs_on(plugin, PASSED)

    result = incidents_evaluate()

    incident = Incident.objects.get()
    assert result.opened == [incident]
    assert (incident.check_key, incident.platform, incident.state) == ("plugin_authorized", "shopify", "open")
    assert (incident.failing_merchants, incident.merchants, incident.runs) == (4, 6, 10)
    assert incident.share == pytest.approx(4 / 6)
    assert incident.window_minutes == 30
    assert incident.wording.startswith("Shopify is refusing many stores' connections right now")


def test_stores_that_could_not_be_reached_get_the_cant_be_reached_wording():
    for plugin in stores("shopify", 5):
        runs_on(plugin, UNKNOWN, check_key="source_order_state")

    incidents_evaluate()

    assert Incident.objects.get().wording == (
        "Many Shopify stores can't be reached right now — this is on the platform's side; we'll update this note."
    )


def test_one_merchant_clicking_many_times_never_opens_an_incident():
    (plugin,) = stores("shopify", 1)
    runs_on(plugin, *[FAILED] * 40)
    for other in stores("shopify", 2):
        runs_on(other, PASSED)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_fewer_failing_merchants_than_the_minimum_never_open_an_incident():
    for plugin in stores("shopify", 2):  # the minimum is 3
        runs_on(plugin, *[FAILED] * 5)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_a_share_below_the_threshold_does_not_open_one():
    for plugin in stores("shopify", 3):
        runs_on(plugin, FAILED)
    for plugin in stores("shopify", 4):
        runs_on(plugin, PASSED)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_too_few_runs_in_all_do_not_open_one(settings):
    settings.INCIDENT_MIN_RUNS = 10
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_each_merchant_counts_by_their_latest_run():
    # They failed, then reauthorized and passed: not failing any more.
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED, FAILED, PASSED)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_failures_spread_over_platforms_are_not_one_platforms_incident():
    for platform in ("shopify", "woocommerce", "sandbox"):
        (plugin,) = stores(platform, 1)
        runs_on(plugin, FAILED, FAILED)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_runs_older_than_the_window_do_not_count():
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED, FAILED, ago=timedelta(minutes=45))

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_support_agents_read_only_rechecks_do_not_count():
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED, FAILED, read_only=True)

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_runs_still_in_flight_do_not_count():
    for plugin in stores("shopify", 4):
        (run,) = runs_on(plugin, FAILED)
        CheckRunFactory(diagnosis=run.diagnosis, status="running", finished_at=None)
        CheckRunFactory(diagnosis=run.diagnosis, status="queued", finished_at=None)

    incidents_evaluate()

    assert not Incident.objects.exists()  # 4 runs finished, 5 needed


def test_runs_our_own_workers_never_finished_do_not_count():
    # Ended as "couldn't finish" when their deadline passed: the queue's trouble, not the platform's.
    for plugin in stores("shopify", 4):
        for run in runs_on(plugin, UNKNOWN, UNKNOWN):
            run.task_seconds = None
            run.save()

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_steps_that_could_not_be_judged_because_the_order_does_not_exist_do_not_count():
    for plugin in stores("shopify", 4):
        for run in runs_on(plugin, UNKNOWN, UNKNOWN, check_key="order_age"):
            run.data = {"follows_from": "source_order_state"}
            run.save()

    incidents_evaluate()

    assert not Incident.objects.exists()


def test_beat_ticking_again_keeps_one_incident():
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED, FAILED)

    first = incidents_evaluate()
    second = incidents_evaluate()
    incidents_evaluate_task.delay()

    assert len(first.opened) == 1 and second.opened == []
    assert Incident.objects.count() == 1


def test_the_database_refuses_a_second_ongoing_incident_for_the_same_check_and_platform():
    for plugin in stores("shopify", 4):
        runs_on(plugin, FAILED, FAILED)
    incident = incidents_evaluate().opened[0]

    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            check_key=incident.check_key,
            platform=incident.platform,
            wording="again",
            window_minutes=30,
            share=1,
            runs=8,
            merchants=4,
            failing_merchants=4,
        )


def test_beat_runs_the_evaluation_every_few_minutes(settings):
    from kitty_troubleshoot.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-incidents"]

    assert entry["task"] in app.tasks
    assert entry["schedule"] <= settings.INCIDENT_WINDOW_MINUTES * 60
