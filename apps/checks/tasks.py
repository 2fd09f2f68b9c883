"""The Celery task behind every "Check this now"."""

from celery import shared_task

from kitty_troubleshoot.celery import soft_time_limit_in_thread

from .services.ending import task_ended
from .services.running import check_runs_execute, check_runs_expire_overdue


# The time limits come with each task (services.queueing.check_runs_enqueue sends the configured
# ones), so a run's deadline and the limit its worker enforces always agree.
@shared_task(bind=True, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_checks(self, run_ids: list[int]) -> int:
    """Run the checks ``run_ids`` in order, sharing what they fetch.

    Safe to deliver twice: a queued run is claimed with a conditional update,
    a run this task claimed before its worker died is taken over, and a run
    past its deadline (an expired task delivered late) is skipped.
    """
    hard_limit, soft_limit = self.request.timelimit or (None, None)
    # The interactive worker is a threads pool, which enforces no time limit of its own.
    try:
        with soft_time_limit_in_thread(soft_limit, is_eager=self.request.is_eager):
            return check_runs_execute(run_ids, task_id=self.request.id or "", time_limit=hard_limit)
    finally:
        if not self.request.is_eager:  # a start may be waiting to answer with the results
            task_ended(self.request.id or "")


@shared_task(ignore_result=True)
def expire_overdue_runs() -> int:
    """Beat: finish abandoned runs as "couldn't finish", so the audit shows no run running forever."""
    return check_runs_expire_overdue()
