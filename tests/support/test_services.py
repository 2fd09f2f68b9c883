import re

import pytest
from django.db import IntegrityError, transaction

from apps.support import services
from apps.support.models import REFERENCE_ALPHABET, SupportTicket, new_reference
from apps.support.services import TicketNotAllowed, ticket_create, ticket_email_send

from .conftest import ORDER_NUMBER
from .factories import SupportTicketFactory

CLEANED = {"order_number": ORDER_NUMBER, "placed_date": None, "tried": "Everything.", "message": ""}


def test_references_are_short_and_unambiguous():
    references = {new_reference() for _ in range(200)}

    assert len(references) == 200
    for reference in references:
        assert re.fullmatch(rf"CK-[{REFERENCE_ALPHABET}]{{6}}", reference)
        assert not set(reference[3:]) & set("01ILO")


def test_the_database_refuses_a_second_open_ticket_for_the_same_order(plugin):
    SupportTicketFactory(plugin=plugin, order_number=ORDER_NUMBER)

    with pytest.raises(IntegrityError), transaction.atomic():
        SupportTicketFactory(plugin=plugin, order_number=ORDER_NUMBER)


def test_two_simultaneous_submits_open_one_ticket(diagnosis, owner, monkeypatch):
    # The other request's ticket commits between our look-up and our insert.
    first = SupportTicketFactory(
        merchant_id=diagnosis.merchant_id, plugin_id=diagnosis.subject_id, order_number=ORDER_NUMBER
    )
    lookups = iter([None])
    real_lookup = services.open_ticket_for
    monkeypatch.setattr(services, "open_ticket_for", lambda *args: next(lookups, None) or real_lookup(*args))

    ticket, created = ticket_create(diagnosis=diagnosis, user=owner, cleaned_data=CLEANED)

    assert (ticket, created) == (first, False)
    assert SupportTicket.objects.count() == 1


def test_a_clashing_reference_is_drawn_again(diagnosis, owner, monkeypatch):
    taken = SupportTicketFactory(order_number="other").reference
    draws = iter([taken, "CK-FRESH2"])
    monkeypatch.setattr(services, "new_reference", lambda: next(draws))

    ticket, created = ticket_create(diagnosis=diagnosis, user=owner, cleaned_data=CLEANED)

    assert created
    assert ticket.reference == "CK-FRESH2"


def test_a_user_of_another_merchant_cannot_open_a_ticket(diagnosis, outsider):
    with pytest.raises(TicketNotAllowed):
        ticket_create(diagnosis=diagnosis, user=outsider, cleaned_data=CLEANED)
    assert not SupportTicket.objects.exists()


def test_the_email_is_sent_after_commit_and_only_once(
    diagnosis, owner, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ticket, _ = ticket_create(diagnosis=diagnosis, user=owner, cleaned_data=CLEANED)
    assert mailoutbox == []  # nothing leaves before the ticket is committed

    for callback in callbacks:
        callback()
    ticket_email_send(ticket_id=ticket.pk)

    assert len(mailoutbox) == 1
    ticket.refresh_from_db()
    assert ticket.emailed_at is not None


def test_a_mail_server_that_refuses_leaves_the_ticket_unsent_but_saved(
    diagnosis, owner, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        ticket, created = ticket_create(diagnosis=diagnosis, user=owner, cleaned_data=CLEANED)

    ticket.refresh_from_db()
    assert created
    assert ticket.emailed_at is None
    assert mailoutbox == []


def test_a_user_without_an_email_address_gets_no_reply_to(
    diagnosis, owner, mailoutbox, django_capture_on_commit_callbacks
):
    owner.email = ""
    owner.save()

    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(diagnosis=diagnosis, user=owner, cleaned_data=CLEANED)

    assert mailoutbox[0].reply_to == []


def test_a_ticket_whose_email_failed_is_sent_by_the_next_sweep(
    diagnosis, owner, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.support.tasks import tickets_email_unsent

    monkeypatch.setattr(
        "apps.support.tasks.send_ticket_email.delay",
        lambda *a, **k: (_ for _ in ()).throw(ConnectionRefusedError("broker is down")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket, created = ticket_create(diagnosis=diagnosis, user=owner, cleaned_data=CLEANED)
    assert created and mailoutbox == []  # saved, not sent

    assert tickets_email_unsent() == 0  # too young: its own task may still come
    SupportTicket.objects.filter(pk=ticket.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tickets_email_unsent() == 1

    assert len(mailoutbox) == 1
    assert ticket.reference in mailoutbox[0].subject
    assert tickets_email_unsent() == 0  # and only once


def test_a_send_that_died_mid_way_is_sent_by_a_later_sweep(diagnosis, owner, mailoutbox, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from apps.support.tasks import tickets_email_unsent

    ticket = SupportTicketFactory(merchant_id=diagnosis.merchant_id)
    # A worker claimed the send, then its hard time limit killed it before the mail server answered.
    SupportTicket.objects.filter(pk=ticket.pk).update(
        created_at=timezone.now() - timedelta(minutes=30),
        email_claimed_at=timezone.now() - timedelta(minutes=1),
    )
    assert tickets_email_unsent() == 0  # the claim may still be live
    SupportTicket.objects.filter(pk=ticket.pk).update(email_claimed_at=timezone.now() - timedelta(minutes=10))

    assert tickets_email_unsent() == 1

    ticket.refresh_from_db()
    assert ticket.emailed_at is not None
    assert len(mailoutbox) == 1
