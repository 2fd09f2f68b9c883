"""Writes for support tickets: opening one (once per open order) and e-mailing it to support."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import date, timedelta
from functools import partial
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.models import Page, Revision

from apps.checks.models import Diagnosis
from apps.checks.registry import account_directory
from apps.checks.selectors.summary import diagnosis_summary
from kitty_troubleshoot.celery import is_broker_error
from kitty_troubleshoot.limits import Limit, LimitRefused
from kitty_troubleshoot.said import Said, english_lines, said, said_n
from kitty_troubleshoot.words import duration_words

from .emails import ticket_email
from .models import SupportTicket, new_reference
from .selectors import diagnosis_transcript, open_ticket_for, plugin_platform

logger = logging.getLogger(__name__)

# A clash of random references is rare (31^6 of them); a few fresh draws settle it.
REFERENCE_ATTEMPTS = 5


class TicketNotAllowed(LookupError):
    """The user is not a member of the diagnosis' merchant: answered as a 404."""


class TicketRefused(Exception):
    """No ticket now (too many in the last hour, or the limit cannot be counted); ``str()`` says why
    in the active language (``args[0]`` is the message)."""


def _ticket_limit() -> Limit:
    # Each ticket e-mails the support inbox: a flood of them buries every other merchant's.
    # Its own words go to the logs only; the merchant reads ``_ticket_refusal``.
    return Limit(
        name="support:tickets",
        allowed=settings.SUPPORT_TICKETS_PER_HOUR,
        window=60 * 60,
        too_many="{allowed} tickets in the last hour; the next in {wait}.",
        unavailable="The ticket limit cannot be counted.",
    )


def _ticket_refusal(refused: LimitRefused) -> Said:
    """Why no ticket was opened, as a message (the merchant reads it in their language)."""
    if refused.unavailable:
        return said(
            "We cannot take tickets for a moment. Your text is still here: send it again in a few "
            "minutes, or e-mail it to %(address)s.",
            address=settings.SUPPORT_EMAIL,
        )
    return said_n(
        "You have sent %(count)s ticket in the last hour. Your text is still here: "
        "send it in %(wait)s, or reply to its e-mail.",
        "You have sent %(count)s tickets in the last hour. Your text is still here: "
        "send it in %(wait)s, or reply to one of your open tickets' e-mails.",
        settings.SUPPORT_TICKETS_PER_HOUR,
        wait=duration_words(refused.retry_after or 0),
    )


def _article_revision(page: Page | None, revision_id: int | None) -> Revision | None:
    """The revision the merchant read if it is one of this article's, else the live one."""
    if page is None:
        return None
    if revision_id is not None:
        revision = Revision.page_revisions.filter(pk=revision_id, object_id=str(page.pk)).first()
        if revision is not None:
            return revision
    if page.live_revision_id:
        return Revision.objects.filter(pk=page.live_revision_id).first()
    return None


def ticket_create(
    *,
    diagnosis: Diagnosis,
    user,
    cleaned_data: dict[str, Any],
    page_revision_id: int | None = None,
    language: str = "",
) -> tuple[SupportTicket, bool]:
    """Open a ticket for this diagnosis and e-mail it to support once the transaction commits.

    Returns ``(ticket, True)``, or ``(the open ticket, False)`` when the
    merchant already has an open ticket for the same plugin and order: a second
    one is never created, not even by two simultaneous submits (the database's
    conditional unique constraint decides the race). Raises TicketNotAllowed
    when the user is not a member of the diagnosis' merchant, and TicketRefused
    when the user has opened too many tickets in the last hour.

    ``language`` is the merchant's (``settings.LANGUAGES``); the ticket records it, and keeps the
    checks' verdicts and evidence as messages, read by each reader in their own language.
    """
    if account_directory().membership_for(user, merchant_id=diagnosis.merchant_id) is None:
        raise TicketNotAllowed(said("This diagnosis is not one of your account's."))

    order_number: str = cleaned_data["order_number"]
    plugin_id = diagnosis.subject_id
    existing = open_ticket_for(diagnosis.merchant_id, plugin_id, order_number)
    if existing is not None:
        return existing, False

    try:  # only a ticket that would be new is counted: sending the same one again is not
        _ticket_limit().hit(getattr(user, "pk", None))
    except LimitRefused as exc:
        raise TicketRefused(_ticket_refusal(exc)) from None

    placed_date: date | None = cleaned_data.get("placed_date")
    summary = diagnosis_summary(diagnosis, page=diagnosis.page.specific if diagnosis.page else None)
    verdict = [line.text for line in summary.lines()]
    fields = {
        "merchant_id": diagnosis.merchant_id,
        "user": user,
        "diagnosis": diagnosis,
        "page_id": diagnosis.page_id,
        "page_revision": _article_revision(diagnosis.page, page_revision_id),
        "order_number": order_number,
        "platform": plugin_platform(diagnosis.merchant_id, plugin_id),
        "plugin_label": diagnosis.subject_label,
        "plugin_id": plugin_id,
        "placed_date": placed_date,
        "tried": cleaned_data.get("tried", ""),
        "message": cleaned_data.get("message", ""),
        "language": language,
        "transcript": diagnosis_transcript(diagnosis),
        # In English for searching, and as messages for reading.
        "verdict": english_lines(verdict),
        "verdict_said": verdict,
        "created_at": timezone.now(),
    }
    for _attempt in range(REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                ticket = SupportTicket.objects.create(reference=new_reference(), **fields)
        except IntegrityError:
            # Either someone opened the same ticket a moment ago, or the reference clashed.
            existing = open_ticket_for(diagnosis.merchant_id, plugin_id, order_number)
            if existing is not None:
                return existing, False
            continue
        transaction.on_commit(partial(_ticket_email_enqueue, ticket.pk))
        return ticket, True
    raise RuntimeError("Could not draw a free ticket reference.")


SUPPORT_AGENTS_GROUP = "Support agents"
# What an agent needs in Django admin: tickets (to open, close and re-check them) and diagnoses,
# and which API token (a merchant's bot or script) started which of them.
AGENT_PERMISSIONS = (
    ("support", "view_supportticket"),
    ("support", "change_supportticket"),
    ("checks", "view_diagnosis"),
    ("checks", "view_checkrun"),
    ("api", "view_apitoken"),
    ("api", "view_apicall"),
)


def support_agents_group_ensure() -> Group:
    """The group that answers tickets in Django admin: tickets, diagnoses and API calls, nothing else."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_AGENTS_GROUP)
    for app_label, codename in AGENT_PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return group


class RecheckNotPossible(Exception):
    """A ticket's diagnosis cannot be run again now; the message says why."""


def ticket_recheck(*, ticket: SupportTicket, agent) -> Diagnosis:
    """Run every step again for the ticket's plugin and order, as a read-only diagnosis by ``agent``.

    It shows what the account looks like now, beside what the merchant saw:
    the checks look and record nothing on the account, no fix can be applied
    from it, and it is never the merchant's own diagnosis on the article.
    Raises RecheckNotPossible (plugin gone, no article, checks unavailable).
    """
    from apps.checks.selectors.steps import step_targets
    from apps.checks.services.queueing import ChecksUnavailable
    from apps.checks.services.starting import diagnosis_rerun

    label = (
        account_directory().subject_label(ticket.merchant_id, ticket.plugin_id) if ticket.plugin_id else None
    )
    if label is None:
        raise RecheckNotPossible(said("The ticket's plugin is no longer in the merchant's account."))
    page = ticket.page.specific if ticket.page and ticket.page.live else None
    if page is None or not hasattr(page, "body"):
        raise RecheckNotPossible(said("The article the ticket came from is no longer published."))
    if not ticket.order_number or not step_targets(page):
        raise RecheckNotPossible(said("The article has no steps with checks any more."))
    try:
        diagnosis = diagnosis_rerun(
            merchant_id=ticket.merchant_id,
            page=page,
            subject_id=ticket.plugin_id,
            subject_label=label,
            # The order as the ticket names it: the merchant may have corrected the number on the form.
            inputs={
                "order_number": ticket.order_number,
                "placed_date": ticket.placed_date.isoformat() if ticket.placed_date else "",
            },
            user=agent,
            read_only=True,
        )
    except ChecksUnavailable as exc:
        raise RecheckNotPossible(str(exc)) from None
    ticket.rechecks.add(diagnosis)
    return diagnosis


# A claim older than this belongs to a send that died (the task's hard limit is far shorter).
EMAIL_CLAIM = timedelta(minutes=5)


def _ticket_email_enqueue(ticket_id: int) -> None:
    """Send the e-mail from a worker: a slow mail server must not hold up the merchant."""
    from .tasks import send_ticket_email

    try:
        send_ticket_email.delay(ticket_id)
    except Exception as exc:  # the broker is down: the beat sweep sends it later
        if settings.CELERY_TASK_ALWAYS_EAGER and not is_broker_error(exc):
            raise
        logger.warning("support ticket %s e-mail not queued: %s", ticket_id, exc.__class__.__name__)


# A lost database connection is opened again this many times (a second apart) before giving up.
DB_ATTEMPTS = 4


class TicketEmailUnrecorded(Exception):
    """The e-mail went, but the database could not be told: record ``claimed_at``'s send later, never send again."""

    def __init__(self, ticket_id: int, claimed_at):
        super().__init__(f"ticket {ticket_id}: e-mail sent, not yet recorded")
        self.ticket_id = ticket_id
        self.claimed_at = claimed_at


def _reconnecting(write, *, what: str):
    """``write()``, opening the database connection afresh when it dropped (killed, restarted, failed over).

    Only for single statements that are safe to repeat (each below is a
    conditional update that matches nothing the second time round).
    """
    for attempt in range(1, DB_ATTEMPTS + 1):
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if attempt == DB_ATTEMPTS or connection.in_atomic_block:
                raise
            logger.warning("%s: database connection lost (%s), trying again", what, exc.__class__.__name__)
            connection.close()
            time.sleep(attempt * 0.5)
    raise AssertionError("unreachable")


def _connection_reset() -> None:
    # The next query opens a new connection (a transaction, as under a test, keeps its own).
    if not connection.in_atomic_block:
        connection.close()


def ticket_email_send(*, ticket_id: int) -> bool:
    """E-mail the ticket to support; returns whether this call sent it.

    The send is claimed with a conditional update (a lease), so a repeated
    call sends nothing while another is sending or once it was sent. A mail
    server that refuses releases the claim; a worker killed mid-send leaves a
    claim that goes stale after EMAIL_CLAIM, and the sweep sends again.
    ``emailed_at`` is only set once the mail server took the message.

    A database connection that drops is opened again around the claim and the
    record: the claim is idempotent (it carries its own time, so a claim whose
    answer was lost is recognised as ours), and once the message is sent the
    record is retried, then left to ``ticket_email_sent_record`` (raises
    TicketEmailUnrecorded): a sent message is never sent again for a lost answer.
    """
    now = timezone.now()
    claimable = Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM)
    claimed = _reconnecting(
        lambda: (
            SupportTicket.objects.filter(pk=ticket_id, emailed_at__isnull=True)
            .filter(claimable | Q(email_claimed_at=now))
            .update(email_claimed_at=now)
        ),
        what=f"support ticket {ticket_id} e-mail claim",
    )
    if not claimed:
        return False
    try:
        ticket = SupportTicket.objects.select_related("user", "page").get(pk=ticket_id)
        message = ticket_email(ticket)
    except (OperationalError, InterfaceError):
        # Nothing sent: give the claim back so the next try need not wait for it to go stale.
        _connection_reset()
        _release_claim(ticket_id, now)
        raise
    try:
        message.send()
    except Exception as exc:
        _release_claim(ticket_id, now)
        if isinstance(exc, SoftTimeLimitExceeded):
            raise  # the task is out of time: stop here, the sweep carries on later
        logger.exception("support ticket %s could not be e-mailed", ticket.reference)
        return False
    try:
        ticket_email_sent_record(ticket_id=ticket_id, claimed_at=now)
    except (OperationalError, InterfaceError) as exc:
        raise TicketEmailUnrecorded(ticket_id, now) from exc
    return True


def ticket_email_sent_record(*, ticket_id: int, claimed_at) -> None:
    """Record that the send claimed at ``claimed_at`` reached the mail server (repeatable)."""
    _reconnecting(
        lambda: SupportTicket.objects.filter(
            pk=ticket_id, email_claimed_at=claimed_at, emailed_at__isnull=True
        ).update(emailed_at=timezone.now()),
        what=f"support ticket {ticket_id} e-mail record",
    )


def _release_claim(ticket_id: int, claimed_at) -> None:
    # Failing that, the claim goes stale after EMAIL_CLAIM and the sweep sends it then.
    with contextlib.suppress(OperationalError, InterfaceError):
        _reconnecting(
            lambda: SupportTicket.objects.filter(pk=ticket_id, email_claimed_at=claimed_at).update(
                email_claimed_at=None
            ),
            what=f"support ticket {ticket_id} e-mail claim release",
        )
