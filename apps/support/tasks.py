"""E-mailing support tickets, off the merchant's request."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .models import SupportTicket
from .services import ticket_email_send

# A sweep leaves alone tickets this young: their own task may still be on its way.
UNSENT_GRACE = timedelta(minutes=2)


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def send_ticket_email(ticket_id: int) -> bool:
    return ticket_email_send(ticket_id=ticket_id)


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def tickets_email_unsent() -> int:
    """Beat: send the tickets whose e-mail failed (mail server or broker down); returns how many went."""
    unsent = SupportTicket.objects.filter(
        emailed_at__isnull=True, created_at__lt=timezone.now() - UNSENT_GRACE
    ).order_by("created_at")
    return sum(ticket_email_send(ticket_id=pk) for pk in unsent.values_list("pk", flat=True)[:200])
