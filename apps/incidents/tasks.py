"""Beat: notice when many stores fail the same step on one platform."""

from celery import shared_task

from .services import incidents_evaluate as evaluate


@shared_task(ignore_result=True)
def incidents_evaluate() -> int:
    """Open and resolve incidents from the recent check runs; returns how many changed."""
    result = evaluate()
    return len(result.opened) + len(result.resolved)
