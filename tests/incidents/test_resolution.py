"""Incidents end by themselves when the failures fall back, with a margin so they do not flap."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.incidents.models import Incident
from apps.incidents.services import incident_confirm, incident_dismiss, incidents_evaluate
from tests.factories import UserFactory
from tests.incidents.factories import runs_on, stores

pytestmark = pytest.mark.django_db

FAILED, PASSED = "failed", "passed"


@pytest.fixture
def outage():
    """Four Shopify stores failing Step 5 for the last few minutes, and the incident that opened."""
    plugins = stores("shopify", 4)
    for plugin in plugins:
        runs_on(plugin, FAILED, FAILED, ago=timedelta(minutes=5))
    incident = incidents_evaluate().opened[0]
    incident_confirm(incident=incident, by=UserFactory())
    return plugins, incident


def test_the_incident_resolves_once_the_stores_pass_again(outage):
    plugins, incident = outage
    for plugin in [*plugins[:3], *stores("shopify", 1)]:
        runs_on(plugin, PASSED)  # 1 of 5 still failing: 20 %, under half the 50 % threshold

    result = incidents_evaluate()

    incident.refresh_from_db()
    assert result.resolved == [incident]
    assert incident.state == "resolved" and incident.resolved_at is not None
    assert incident.confirmed_at is not None  # it was shown, so the banner says it is over


def test_a_share_just_under_the_threshold_keeps_it_open(outage):
    plugins, incident = outage
    for plugin in stores("shopify", 3):
        runs_on(plugin, PASSED)  # 4 of 7 failing is above; add some passing stores
    runs_on(plugins[0], PASSED)  # 3 of 7 failing: 43 %, under 50 % but not under 25 %

    incidents_evaluate()

    incident.refresh_from_db()
    assert incident.state == "confirmed"
    assert incident.latest_share == pytest.approx(3 / 7)


def test_a_window_nobody_checked_in_does_not_claim_it_is_over(outage):
    _, incident = outage

    incidents_evaluate(now=timezone.now() + timedelta(hours=2))

    incident.refresh_from_db()
    assert incident.state == "confirmed"


def test_after_resolving_a_new_wave_opens_a_new_incident(outage):
    plugins, incident = outage
    for plugin in plugins:
        runs_on(plugin, PASSED)
    incidents_evaluate()

    later = timezone.now() + timedelta(hours=1)
    for plugin in plugins:
        runs_on(plugin, FAILED, FAILED, ago=timedelta(minutes=-59))  # a minute before ``later``
    result = incidents_evaluate(now=later)

    assert len(result.opened) == 1 and result.opened[0].pk != incident.pk
    assert list(Incident.objects.values_list("state", flat=True).order_by("opened_at")) == [
        "resolved",
        "open",
    ]


def test_a_dismissed_incident_is_not_opened_again_while_the_failures_go_on(outage):
    plugins, incident = outage
    incident_dismiss(incident=incident, by=UserFactory())
    newcomers = stores("shopify", 2)
    for plugin in newcomers:
        runs_on(plugin, FAILED)

    assert incidents_evaluate().opened == []

    for plugin in [*plugins, *newcomers]:
        runs_on(plugin, PASSED)
    incidents_evaluate()
    incident.refresh_from_db()
    assert incident.state == "dismissed" and incident.resolved_at is not None  # the episode ended
