"""The Celery task behind every "Check this now"."""

from celery import shared_task

from .services import TASK_SOFT_TIME_LIMIT, TASK_TIME_LIMIT, check_runs_execute, check_runs_expire_overdue


@shared_task(
    bind=True,
    ignore_result=True,
    soft_time_limit=TASK_SOFT_TIME_LIMIT,
    time_limit=TASK_TIME_LIMIT,
    acks_late=True,
)
def run_checks(self, run_ids: list[int]) -> int:
    """Run the queued checks ``run_ids`` in order, sharing what they fetch.

    Safe to deliver twice: each run is claimed with a conditional update, and
    a run past its deadline (an expired task delivered late) is skipped.
    """
    return check_runs_execute(run_ids, task_id=self.request.id or "")


@shared_task(ignore_result=True)
def expire_overdue_runs() -> int:
    """Beat: finish abandoned runs as "couldn't finish", so the audit shows no run running forever."""
    return check_runs_expire_overdue()
