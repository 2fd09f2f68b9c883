"""WSGI entry point, served by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kitty_troubleshoot.settings")

application = get_wsgi_application()


def broker_client_load() -> None:
    """Load the broker's client in this process as it starts, not inside the first merchant's click.

    A process's first check task builds Celery's registry of tasks, its
    producer pool (importing Kombu's Redis transport) and its result
    backend when first asked: 80-700 ms, paid by whoever clicks first on
    that gunicorn process (over a second on a busy machine). Nothing connects
    here: a broker that is down does not delay the start, and the first task
    connects as before.
    """
    from kitty_troubleshoot.celery import app

    if not app.conf.task_always_eager:
        app.finalize(auto=True)  # the registry of tasks, built when a task is first sent
        app.amqp.producer_pool  # noqa: B018 (the property builds the pool and imports the transport)
        app.backend  # noqa: B018 (looked up through the installed packages' entry points)


broker_client_load()
