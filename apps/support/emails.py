"""The e-mail that takes a ticket to the support inbox, in support's language (``SUPPORT_LANGUAGE``)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from .models import SupportTicket
from .selectors import transcript_entries


def _one_line(text: str, limit: int = 80) -> str:
    # A header must be one line; labels come from the database and are not ours to trust.
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ticket_email_subject(ticket: SupportTicket) -> str:
    """The subject, in the active language."""
    values = {"reference": ticket.reference, "number": ticket.order_number}
    if ticket.plugin_label:
        return gettext("[%(reference)s] Order #%(number)s did not import via %(plugin)s") % {
            **values,
            "plugin": _one_line(ticket.plugin_label, 60),
        }
    return gettext("[%(reference)s] Order #%(number)s did not import") % values


def ticket_message_id(ticket: SupportTicket) -> str:
    """The same Message-ID however often the ticket is sent: an inbox shows a resend once.

    (Only a worker killed between the mail server's answer and our record of
    it can send twice; mail systems and help desks drop a repeated Message-ID.)
    """
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "localhost"
    return f"<ticket-{ticket.reference.lower()}@{domain}>"


def ticket_email(ticket: SupportTicket) -> EmailMessage:
    """The message for the support inbox: the ticket, the merchant's words and the transcript.

    Written in support's language (``SUPPORT_LANGUAGE``) whatever language the merchant
    sent it in: the checks' verdicts and evidence are messages, read in it too.
    """
    with translation.override(settings.SUPPORT_LANGUAGE):
        return _ticket_email(ticket)


def _ticket_email(ticket: SupportTicket) -> EmailMessage:
    user = ticket.user
    reply_to = [user.email] if user is not None and user.email else None
    base_url = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    page_url = ticket.page.url if ticket.page_id else None  # None for an unpublished page
    body = render_to_string(
        "support/email/ticket.txt",
        {
            "ticket": ticket,
            "user": user,
            "entries": transcript_entries(ticket.transcript),
            "language_name": _language_name(ticket.language),
            "admin_url": base_url + reverse("admin:support_supportticket_change", args=[ticket.pk]),
            "article_url": base_url + page_url if page_url else "",
        },
    )
    return EmailMessage(
        subject=ticket_email_subject(ticket),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[settings.SUPPORT_EMAIL],
        reply_to=reply_to,
        headers={"Message-ID": ticket_message_id(ticket)},
    )


def _language_name(code: str) -> str:
    """A language's name in the active language ("German"), "" for none."""
    if not code:
        return ""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code
