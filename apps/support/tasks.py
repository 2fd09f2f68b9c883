"""E-mailing support tickets, off the merchant's request."""

from datetime import datetime, timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from .models import SupportTicket
from .services import TicketEmailUnrecorded, ticket_email_send, ticket_email_sent_record

# A sweep leaves alone tickets this young: their own task may still be on its way.
UNSENT_GRACE = timedelta(minutes=2)


@shared_task(bind=True, ignore_result=True, soft_time_limit=60, time_limit=90, max_retries=5)
def send_ticket_email(self, ticket_id: int, sent_claimed_at: str = "") -> bool:
    """Send the ticket's e-mail once; a retry after the send only records it (never sends again)."""
    if sent_claimed_at:
        try:
            ticket_email_sent_record(ticket_id=ticket_id, claimed_at=datetime.fromisoformat(sent_claimed_at))
        except DatabaseError as exc:
            raise self.retry(countdown=30) from exc
        return True
    try:
        return ticket_email_send(ticket_id=ticket_id)
    except TicketEmailUnrecorded as exc:
        raise self.retry(
            kwargs={"ticket_id": ticket_id, "sent_claimed_at": exc.claimed_at.isoformat()}, countdown=10
        ) from exc


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def tickets_email_unsent() -> int:
    """Beat: send the tickets whose e-mail failed (mail server or broker down); returns how many went."""
    unsent = SupportTicket.objects.filter(
        emailed_at__isnull=True, created_at__lt=timezone.now() - UNSENT_GRACE
    ).order_by("created_at")
    sent = 0
    for pk in list(unsent.values_list("pk", flat=True)[:200]):
        try:
            sent += ticket_email_send(ticket_id=pk)
        except TicketEmailUnrecorded as exc:  # sent: only the record is left to do, by a task of its own
            sent += 1
            send_ticket_email.apply_async(
                kwargs={"ticket_id": pk, "sent_claimed_at": exc.claimed_at.isoformat()}, countdown=10
            )
    return sent
