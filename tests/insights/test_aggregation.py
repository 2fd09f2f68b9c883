"""The daily count the report reads: the same verdicts merchants saw, per revision."""

import pytest

from apps.insights.models import ArticleDay, StepDay
from apps.insights.services import insights_aggregate_day, insights_aggregate_recent

pytestmark = pytest.mark.django_db


def article_day(outcomes, revision):
    return ArticleDay.objects.get(revision_id=outcomes[revision])


def step_day(outcomes, revision, number):
    return StepDay.objects.get(revision_id=outcomes[revision], step_number=number)


def test_each_diagnosis_is_counted_by_how_it_ended(outcomes):
    insights_aggregate_recent()

    first = article_day(outcomes, "first")
    assert (first.day, first.diagnoses, first.with_cause, first.incomplete, first.all_passed) == (
        outcomes["yesterday"], 3, 1, 1, 1,
    )  # fmt: skip
    assert first.tickets == 1
    second = article_day(outcomes, "second")
    assert (second.day, second.diagnoses, second.with_cause, second.all_passed, second.already_here) == (
        outcomes["today"], 3, 1, 1, 1,
    )  # fmt: skip
    assert second.tickets == 0


def test_support_re_checks_are_not_a_readers_outcome(outcomes):
    insights_aggregate_recent()

    assert sum(ArticleDay.objects.values_list("diagnoses", flat=True)) == 6
    assert step_day(outcomes, "second", 1).cause == 0


def test_the_most_likely_cause_is_the_step_the_merchant_was_shown(outcomes):
    insights_aggregate_recent()

    assert step_day(outcomes, "first", 1).cause == 1
    # Step 3 failed after Step 2 couldn't be checked: no cause was named, as on the article.
    assert step_day(outcomes, "first", 3).failed == 1
    assert step_day(outcomes, "first", 3).cause == 0
    assert step_day(outcomes, "second", 3).cause == 1


def test_couldnt_check_keeps_the_reason_without_the_order_or_time(outcomes):
    insights_aggregate_recent()

    step = step_day(outcomes, "first", 2)
    assert step.unknown == 1
    assert step.unknown_reasons == {"The platform did not answer about order … at …": 1}


def test_fixes_are_counted_offered_applied_and_followed_by_the_import(outcomes):
    insights_aggregate_recent()

    step = step_day(outcomes, "second", 3)
    assert step.fixes == {
        "backfill": {"label": "Import orders since a date", "offered": 2, "applied": 1, "imported": 1}
    }
    assert article_day(outcomes, "second").order_arrived == 1
    assert article_day(outcomes, "second").fixed == 1


def test_counting_a_day_again_gives_the_same_figures(outcomes):
    insights_aggregate_day(outcomes["yesterday"])
    before = list(ArticleDay.objects.values("revision_id", "diagnoses", "with_cause", "tickets"))

    insights_aggregate_day(outcomes["yesterday"])

    assert list(ArticleDay.objects.values("revision_id", "diagnoses", "with_cause", "tickets")) == before
    assert StepDay.objects.filter(day=outcomes["yesterday"]).count() == 7


def test_the_beat_task_counts_the_recent_days(outcomes, settings):
    from apps.insights.tasks import aggregate_recent_outcomes

    assert "apps.insights.tasks.aggregate_recent_outcomes" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert aggregate_recent_outcomes.delay().get() == 6
