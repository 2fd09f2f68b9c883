"""A dropped database connection (killed, restarted, failed over) neither loses a ticket nor sends it twice."""

import psycopg
import pytest
from django.core.mail import EmailMessage
from django.db import OperationalError, connection
from django.utils import timezone

from apps.support import views
from apps.support.models import SupportTicket
from apps.support.services import ticket_email_send
from apps.support.tasks import send_ticket_email, tickets_email_unsent
from tests.conftest import postgresql_required

from .test_views import HTMX, NEW_TICKET_URL, ticket_post


def kill_this_connection() -> None:
    """What an operator's pg_terminate_backend (or a PostgreSQL restart) does to our open connection."""
    pid = connection.connection.info.backend_pid
    s = connection.settings_dict
    with psycopg.connect(
        dbname=s["NAME"], user=s["USER"], host=s["HOST"] or None, port=s["PORT"] or None, autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_submit_whose_connection_is_killed_opens_the_ticket_once(owner_client, diagnosis, monkeypatch):
    postgresql_required()
    real = views.selectors.ticket_initial
    kills = []

    def killed_first(*args, **kwargs):
        if not kills:
            kills.append(1)
            kill_this_connection()
        return real(*args, **kwargs)

    monkeypatch.setattr(views.selectors, "ticket_initial", killed_first)

    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis), **HTMX)

    assert kills, "the connection was killed mid-submit"
    assert response.status_code == 200
    ticket = SupportTicket.objects.get()
    assert ticket.reference in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_email_whose_record_meets_a_killed_connection_goes_out_once(
    diagnosis, owner, mailoutbox, monkeypatch
):
    postgresql_required()
    monkeypatch.setattr("apps.support.services._ticket_email_enqueue", lambda ticket_id: None)
    ticket = SupportTicket.objects.create(
        merchant_id=diagnosis.merchant_id, user=owner, diagnosis=diagnosis, order_number="1042", tried="x"
    )
    real_send = EmailMessage.send

    def send_then_lose_the_database(self, *args, **kwargs):
        sent = real_send(self, *args, **kwargs)
        kill_this_connection()  # the mail server took it; the database answer is lost
        return sent

    monkeypatch.setattr(EmailMessage, "send", send_then_lose_the_database)

    assert ticket_email_send(ticket_id=ticket.pk) is True
    ticket.refresh_from_db()
    assert ticket.emailed_at is not None
    # A redelivered task and a later sweep find it sent.
    monkeypatch.setattr(EmailMessage, "send", real_send)
    assert ticket_email_send(ticket_id=ticket.pk) is False
    SupportTicket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timezone.timedelta(hours=1))
    assert tickets_email_unsent() == 0
    assert len(mailoutbox) == 1
    assert mailoutbox[0].extra_headers["Message-ID"].startswith(f"<ticket-{ticket.reference.lower()}@")


def test_a_send_that_could_not_be_recorded_is_retried_as_a_record_only(
    diagnosis, owner, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    ticket = SupportTicket.objects.create(
        merchant_id=diagnosis.merchant_id, user=owner, diagnosis=diagnosis, order_number="1042", tried="x"
    )

    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    retries = []
    monkeypatch.setattr("apps.support.services.ticket_email_sent_record", database_gone)
    monkeypatch.setattr(send_ticket_email, "retry", lambda **kw: retries.append(kw) or RuntimeError("retry"))
    with pytest.raises(RuntimeError):
        send_ticket_email.run(ticket.pk)
    assert len(mailoutbox) == 1
    monkeypatch.undo()

    # The retry records the send it was given; it never sends.
    send_ticket_email.run(**retries[0]["kwargs"])
    ticket.refresh_from_db()
    assert ticket.emailed_at is not None
    assert ticket_email_send(ticket_id=ticket.pk) is False
    assert len(mailoutbox) == 1


def test_a_submit_the_database_refuses_twice_keeps_the_text_and_says_so(owner_client, diagnosis, monkeypatch):
    def database_gone(**kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(views, "ticket_create", database_gone)

    response = owner_client.post(NEW_TICKET_URL, ticket_post(diagnosis, tried="Re-sent the order twice."))

    assert response.status_code == 503
    html = response.content.decode()
    assert "We could not save your ticket just now" in html
    assert "Re-sent the order twice." in html
    assert not SupportTicket.objects.exists()
