"""The check task on the broker: its time limits and expiry, its lane, and queueing it."""

from __future__ import annotations

import logging

from celery.result import EagerResult
from django.conf import settings
from django.utils import timezone

from kitty_troubleshoot.celery import is_broker_error
from kitty_troubleshoot.said import said

from ..models import CheckRun

logger = logging.getLogger(__name__)


# The task limits are Django's CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT,
# read when a task is queued and sent with it, so the limit a worker enforces
# and the deadline a run is given (see ``running``) come from the same number.
def task_time_limits() -> tuple[int, int]:
    """(soft, hard) seconds a check task may run, as configured now."""
    return settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT


def task_expires_seconds() -> int:
    """How long a queued check task may wait for a worker; older ones are dropped, never run late."""
    return settings.CHECK_TASK_EXPIRES


class ChecksUnavailable(Exception):
    """The broker did not take the task: checks cannot run right now."""


# The lane a check task is sent to (README, "Running workers"). A person waiting on one step's answer
# (or a fix) is served by a worker of its own: a burst of whole diagnoses on the interactive worker
# neither holds the thread a click would take nor slows its check down by sharing an interpreter.
CLICKS_QUEUE = "clicks"
DIAGNOSES_QUEUE = "interactive"


def check_task_queue(runs: list[CheckRun]) -> str:
    """One step (with its "already here?") or a fix goes to the clicks lane; a task checking more steps to interactive."""
    steps = {run.block_id for run in runs if run.step_number is not None}  # not "already here?"
    if len(steps) <= 1 or any(run.fix_requested for run in runs):
        return CLICKS_QUEUE
    return DIAGNOSES_QUEUE


def check_runs_enqueue(run_ids: list[int], *, task_id: str, queue: str = CLICKS_QUEUE) -> bool:
    """Queue the check task ``task_id`` (the runs carry it) on ``queue`` with the configured time limits and expiry.

    Returns whether the task has already run, in this call: eagerly, as in the demo without a broker.
    """
    from ..tasks import run_checks

    soft_limit, hard_limit = task_time_limits()
    try:
        result = run_checks.apply_async(
            (run_ids,),
            task_id=task_id,
            expires=task_expires_seconds(),
            soft_time_limit=soft_limit,
            time_limit=hard_limit,
            queue=queue,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        )
    except Exception as exc:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) and not is_broker_error(exc):
            raise
        logger.warning("checks could not be queued: %s", exc.__class__.__name__)
        CheckRun.objects.filter(pk__in=run_ids, status=CheckRun.State.QUEUED).update(
            status=CheckRun.State.UNKNOWN,
            **CheckRun.verdict_fields(
                said("Checks are unavailable right now."),
                [said("Our check service is not answering. Try again in a few minutes.")],
            ),
            finished_at=timezone.now(),
        )
        raise ChecksUnavailable(
            said("Checks are unavailable right now. Try again in a few minutes.")
        ) from exc
    return isinstance(result, EagerResult)
