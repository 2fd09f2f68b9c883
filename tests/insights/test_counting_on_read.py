"""The report counts what it has not counted yet: a site without beat (the demo) still sees its diagnoses."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.insights import services
from apps.insights.models import ArticleDay
from apps.insights.services import insights_aggregate_recent, outcomes_stale
from tests.factories import PluginFactory

from .conftest import diagnose

pytestmark = pytest.mark.django_db

URL = "/cms/reports/article-outcomes/"


def diagnoses_figure(page: str) -> str:
    return re.search(r'data-figure="diagnoses">([^<]*)<', page).group(1)


def test_diagnoses_never_counted_by_a_scheduler_are_in_the_report(editor_client, outcomes):
    assert not ArticleDay.objects.exists()  # no beat ran

    page = editor_client.get(URL).content.decode()

    assert diagnoses_figure(page) == "6"
    assert "Nobody ran a check" not in page
    assert "being counted" not in page


def test_a_diagnosis_after_the_last_count_is_counted_on_the_next_read(editor_client, outcomes, article):
    insights_aggregate_recent()
    assert not outcomes_stale()
    diagnose(article, outcomes["second"], timezone.now(), {}, plugin=PluginFactory(), order_number="4001")
    assert outcomes_stale()

    page = editor_client.get(URL).content.decode()

    assert diagnoses_figure(page) == "7"
    assert not outcomes_stale()


def test_fresh_figures_are_read_without_counting_again(editor_client, outcomes):
    insights_aggregate_recent()

    with mock.patch.object(services, "insights_aggregate_days") as count:
        page = editor_client.get(URL).content.decode()

    count.assert_not_called()
    assert diagnoses_figure(page) == "6"


def test_figures_counted_long_ago_are_counted_again(outcomes):
    insights_aggregate_recent()

    assert not outcomes_stale()
    assert outcomes_stale(now=timezone.now() + services.COUNTED_AT_MOST_AGO + timedelta(minutes=1))


def test_with_workers_the_read_asks_for_one_count_and_says_so(editor_client, outcomes):
    """Production: the count goes to the bulk queue once, however many editors look meanwhile."""
    with mock.patch("apps.insights.tasks.aggregate_recent_outcomes.delay") as delay:
        first = editor_client.get(URL).content.decode()
        second = editor_client.get(URL).content.decode()

    assert delay.call_count == 1
    for page in (first, second):
        assert "Newer diagnoses are being counted now" in page
    # The worker's count lets the next stale read ask again.
    insights_aggregate_recent()
    assert cache.get(services.COUNT_ASKED_KEY) is None
    assert "being counted" not in editor_client.get(URL).content.decode()


def test_a_broker_that_is_down_still_shows_the_report(editor_client, outcomes):
    with mock.patch("apps.insights.tasks.aggregate_recent_outcomes.delay", side_effect=OSError("no broker")):
        response = editor_client.get(URL)

    assert response.status_code == 200
    assert "Newer diagnoses are being counted now" in response.content.decode()
