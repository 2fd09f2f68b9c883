"""The Celery application; its configuration is the CELERY_* part of settings."""

import os

from celery import Celery, signals

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


def is_broker_error(exc: Exception) -> bool:
    """Whether queueing a task failed because the broker cannot be reached."""
    from kombu.exceptions import OperationalError

    return isinstance(exc, OperationalError | ConnectionError | OSError)
