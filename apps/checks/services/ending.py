"""A check task says when it has ended, so the start that queued it can answer with the results.

Most checks end within a tenth of a second of their start. Answered at once,
a start shows "Checking…" and the page looks again a moment later: a whole
request more (session, user, account, the diagnosis, its runs) for every
diagnosis, only to learn it is done. Instead, a start whose task has nothing
queued ahead of it waits a moment (``CHECK_START_WAIT_MS``) for the task to
say it ended, and answers with the results themselves; a task that takes
longer (a slow platform) is answered as before, "Checking…", and looked at.

The task pushes one item onto a list of its own in Redis as it ends; the
start waits on that list (BLPOP), so waiting costs no CPU. At most
``CHECK_START_WAITERS`` requests of one process wait at a time, so a burst of
starts never holds every thread of the web process waiting: the others are
answered at once, as without this. Without Redis (the demo runs checks
inline) nothing waits, and nothing fails for Redis being unreachable: the
start is answered at once.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings

from ..models import CheckRun
from ..selectors.runs import runs_queued_ahead

logger = logging.getLogger(__name__)

# How long the task's word is kept for a start that has not begun waiting yet.
ENDED_KEEP_SECONDS = 30

_waiters_lock = threading.Lock()
_waiters: dict[int, threading.BoundedSemaphore | None] = {}


def _ended_key(task_id: str) -> str:
    return f"{settings.CACHE_KEY_PREFIX}:checks:ended:{task_id}"


def _client():
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    from apps.platforms.throttle import redis_client

    return redis_client(url)


def task_ended(task_id: str) -> None:
    """Tell a start waiting on ``task_id`` that its runs have ended (called by the task, last)."""
    client = _client()
    if client is None or not task_id:
        return
    key = _ended_key(task_id)
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.rpush(key, 1)
            pipe.expire(key, ENDED_KEEP_SECONDS)
            pipe.execute()
    except Exception as exc:  # the start then answers "Checking…" and looks, as without this
        logger.warning("could not say that check task %s ended: %s", task_id, exc.__class__.__name__)


def _waiter_slots() -> threading.BoundedSemaphore | None:
    """This process' places for waiting starts (None: ``CHECK_START_WAITERS`` is 0)."""
    count = max(0, int(getattr(settings, "CHECK_START_WAITERS", 0)))
    with _waiters_lock:
        slots = _waiters.get(count)
        if slots is None:
            slots = _waiters[count] = threading.BoundedSemaphore(count) if count else None
        return slots


def task_end_wait(task_id: str, *, queued_ahead: int | None) -> bool:
    """Wait a moment for the task ``task_id`` to end; whether it did.

    Does not wait when runs are queued ahead of the task (``queued_ahead``:
    ``runs_queued_ahead`` of its runs; it would not end in a moment), when
    this process already has ``CHECK_START_WAITERS`` requests waiting, or
    without Redis.
    """
    wait_ms = int(getattr(settings, "CHECK_START_WAIT_MS", 0))
    if not task_id or wait_ms <= 0 or queued_ahead:
        return False
    client = _client()
    slots = _waiter_slots()
    if client is None or slots is None or not slots.acquire(blocking=False):
        return False
    try:
        # Under the client's socket timeout (2 s), so a long wait is never mistaken for Redis gone.
        return client.blpop([_ended_key(task_id)], timeout=min(wait_ms, 1500) / 1000) is not None
    except Exception as exc:
        logger.warning("could not wait for check task %s: %s", task_id, exc.__class__.__name__)
        return False
    finally:
        slots.release()


def start_end_wait(runs: list[CheckRun]) -> tuple[bool, int | None]:
    """Wait a moment for one start's runs: (whether their task ended meanwhile, how many runs were queued ahead).

    The count is ``runs_queued_ahead``'s (None once they have left the
    queue), for the answer's next look when they have not ended. Waits only
    for runs that are all still queued and all in one task, i.e. none joined
    a run another start had in flight.
    """
    task_ids = {run.task_id for run in runs}
    ahead = runs_queued_ahead(runs)
    if len(task_ids) != 1 or any(run.status != CheckRun.State.QUEUED for run in runs):
        return False, ahead
    return task_end_wait(task_ids.pop(), queued_ahead=ahead), ahead
