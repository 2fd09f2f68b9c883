"""Following watched orders, off any request."""

from smtplib import SMTPException

from celery import shared_task

from .services import watch_email_send, watches_follow


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def follow_watches(plugin_id: int | None = None) -> int:
    """After a plugin's sync imported orders (``plugin_id``), and every minute from beat (all watches)."""
    return watches_follow(plugin_id=plugin_id)


@shared_task(
    ignore_result=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def send_watch_email(watch_id: int) -> bool:
    return watch_email_send(watch_id=watch_id)
