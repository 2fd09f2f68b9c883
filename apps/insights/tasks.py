"""Scheduled counting of outcomes for the editors' report."""

from celery import shared_task

from .services import insights_aggregate_recent


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def aggregate_recent_outcomes() -> int:
    """Beat: count the last days' diagnoses into the daily tables the report reads."""
    return insights_aggregate_recent()
