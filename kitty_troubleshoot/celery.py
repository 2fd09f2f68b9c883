"""The Celery application; its configuration is the CELERY_* part of settings."""

import ctypes
import os
import threading
from contextlib import contextmanager

from celery import Celery, signals
from celery.exceptions import SoftTimeLimitExceeded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kitty_troubleshoot.settings")

app = Celery("kitty_troubleshoot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_old_connections(task=None, **kwargs):
    """Around every task, what Django does around every request: honour CONN_MAX_AGE and health checks.

    Not for eager tasks: they run inside a request (or a test's transaction),
    whose connection is not theirs to close.
    """
    if task is not None and task.request.is_eager:
        return
    from django.db import close_old_connections as close

    close()


# Each lane of workers: the queues it serves, its pool, and the setting that sizes it (README, "Running workers").
WORKER_LANES = {
    "clicks": ("clicks", "threads", "CLICK_WORKER_THREADS"),
    "interactive": ("interactive,housekeeping", "threads", "INTERACTIVE_WORKER_THREADS"),
    "bulk": ("bulk", "prefork", "BULK_WORKER_PROCESSES"),
}


def worker_arguments(lane: str, *, concurrency: int | None = None) -> list[str]:
    """The ``celery worker`` arguments of one lane (``WORKER_LANES``), as every place starts it.

    "clicks" serves one person's click on one step (its check, or a fix it
    applies) in a process of its own: however many whole diagnoses the
    interactive worker is running, a click's check neither waits for one of
    their threads to end nor shares their interpreter lock. "interactive"
    serves "Check every step" and housekeeping. Both are pools of threads:
    a check waits on a platform or the database almost all the time, so a
    store that answers after 8 s (or not at all, until its timeout) holds one
    thread, not a process, and the merchants on healthy stores keep the
    rest. Threads enforce no Celery time limit: a check's soft limit is
    raised in its thread (``soft_time_limit_in_thread``), its platform calls
    and queries have timeouts of their own, and no sync runs there. The bulk
    worker keeps processes: a sync parses and imports pages of orders (CPU),
    and its time limits are enforced. ``./dev worker`` and docker-compose.yml
    spell the same arguments out (tests/test_compose.py holds them to this).
    ``concurrency``: threads or processes (default: the lane's setting).
    """
    try:
        queues, pool, setting = WORKER_LANES[lane]
    except KeyError:
        raise ValueError(f"no worker lane {lane!r}") from None
    if concurrency is None:
        from django.conf import settings

        concurrency = getattr(settings, setting)
    return ["-Q", queues, f"--pool={pool}", f"--concurrency={concurrency}"]


@contextmanager
def soft_time_limit_in_thread(seconds: float | None, *, is_eager: bool = False):
    """A task's soft time limit where Celery's pool cannot enforce one: a thread of the threads pool.

    Raises SoftTimeLimitExceeded in this thread once ``seconds`` have passed,
    as a prefork pool does with a signal: a blocking call (a platform's
    read, bounded by its own timeout) finishes first, then Python code sees
    the exception. Does nothing in the main thread (a prefork child, where
    Celery enforces the limit) or for an eager task (a web request's thread).
    """
    if not seconds or is_eager or threading.current_thread() is threading.main_thread():
        yield
        return
    target, lock, done = threading.get_ident(), threading.Lock(), threading.Event()

    def expire() -> None:
        with lock:
            if not done.is_set():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(target), ctypes.py_object(SoftTimeLimitExceeded)
                )

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            done.set()
        timer.cancel()


def is_broker_error(exc: Exception) -> bool:
    """Whether queueing a task failed because the broker cannot be reached."""
    from kombu.exceptions import OperationalError

    return isinstance(exc, OperationalError | ConnectionError | OSError)
