"""Opening a support ticket from "Still missing?", and its confirmation page."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from apps.checks.accounts import in_another_account
from apps.checks.selectors.articles import live_article
from apps.checks.selectors.viewers import diagnosis_for_account, session_diagnosis
from apps.languages.selectors import language_preference_of, reader_language, supported_language
from kitty_troubleshoot.decorators import login_required_htmx

from . import selectors
from .forms import SupportTicketForm, parse_uuid
from .services import TicketNotAllowed, TicketRefused, ticket_create

logger = logging.getLogger(__name__)

FORM_PARTIAL = "support/ticket_form.html#ticket_form"
SENT_PARTIAL = "support/ticket_form.html#ticket_sent"
NEWER_PARTIAL = "support/ticket_form.html#ticket_newer"
NOT_SAVED = _(
    "We could not save your ticket just now: our database did not answer. Your text is still here; "
    "send it again in a minute."
)
NO_DIAGNOSIS = _(
    "We could not tell which checks this ticket is about. Go back to the article, "
    "choose your plugin and order number, run the checks, and send the ticket from there."
)


def form_language(request) -> str:
    """The language of the article the form was sent from (the form says): its answers are swapped
    into that page, so they speak its language."""
    return supported_language(request.POST.get("language")) or translation.get_language()


def merchant_language(request) -> str:
    """The language a ticket is written in: the merchant's saved choice, else the article's they sent
    it from (the form says which), else what their browser asks for.
    """
    return (
        language_preference_of(request.user)
        or supported_language(request.POST.get("language"))
        or reader_language(request)
    )


def _render_form(request, context: dict, *, status: int):
    if request.htmx:
        # htmx does not swap a 4xx answer by default: errors come back as 200. On the
        # article, the form keeps following the checks (see ticket_form_view).
        diagnosis = context.get("diagnosis")
        return render(request, FORM_PARTIAL, {**context, "page": diagnosis.page if diagnosis else None})
    return render(request, "support/ticket_form_page.html", context, status=status)


@never_cache
@login_required_htmx(anchor="still-missing")
@require_POST
def ticket_create_view(request):
    """Send the diagnosis to support as a ticket (one per open order).

    A database connection that drops mid-submit (killed, restarted, failed
    over) is opened afresh and the submit tried once more: opening a ticket is
    idempotent, so a first try that did save is found, not saved twice. When
    the second try fails too, the form comes back with the merchant's text and
    a sentence saying so, never a server error.
    """
    with translation.override(form_language(request)):
        return _ticket_create_retrying(request)


def _ticket_create_retrying(request):
    started = timezone.now()
    try:
        return _ticket_create(request, started=started)
    except (OperationalError, InterfaceError) as exc:
        logger.warning(
            "support ticket submit met a lost database connection, trying again: %s", exc.__class__.__name__
        )
        _connection_reset()  # the next query opens a fresh connection
    try:
        return _ticket_create(request, started=started)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("support ticket submit failed twice on the database: %s", exc.__class__.__name__)
        _connection_reset()
    return _render_not_saved(request)


def _connection_reset() -> None:
    # A dropped connection is closed so the next query opens a new one (inside a
    # transaction, as under a test, it cannot be: the transaction owns it).
    if not connection.in_atomic_block:
        connection.close()


def _render_not_saved(request):
    form = SupportTicketForm(request.POST)  # its cleaning reads only the POST, not the database
    form.add_error(None, NOT_SAVED)
    try:
        diagnosis = diagnosis_for_account(request.account, parse_uuid(request.POST.get("diagnosis")))
        initial = selectors.ticket_initial(diagnosis) if diagnosis else None
        context = {"diagnosis": diagnosis, "ticket_initial": initial, "existing_ticket": None, "form": form}
        return _render_form(request, context, status=503)
    except (OperationalError, InterfaceError):
        _connection_reset()
        # Without the database the form cannot be drawn again; htmx leaves the typed form in place.
        return HttpResponse(str(NOT_SAVED), status=503, content_type="text/plain; charset=utf-8")


def _ticket_create(request, *, started):
    diagnosis_uuid = parse_uuid(request.POST.get("diagnosis"))
    if diagnosis_uuid is None:
        context = {"diagnosis": None, "ticket_initial": None, "existing_ticket": None, "error": NO_DIAGNOSIS}
        return _render_form(request, context, status=400)
    diagnosis = diagnosis_for_account(request.account, diagnosis_uuid)
    if diagnosis is None:  # another account's, even one of the user's own others
        raise Http404(gettext("No such diagnosis in your account."))
    initial = selectors.ticket_initial(diagnosis)
    form = SupportTicketForm(request.POST, initial=initial)
    if not form.is_valid():
        context = {"diagnosis": diagnosis, "ticket_initial": initial, "existing_ticket": None, "form": form}
        return _render_form(request, context, status=400)
    try:
        ticket, created = ticket_create(
            diagnosis=diagnosis,
            user=request.user,
            cleaned_data=form.cleaned_data,
            page_revision_id=form.cleaned_data["page_revision"],
            language=merchant_language(request),
        )
    except TicketNotAllowed:
        raise Http404(gettext("No such diagnosis in your account.")) from None
    except TicketRefused as exc:
        form.add_error(None, str(exc))
        context = {"diagnosis": diagnosis, "ticket_initial": initial, "existing_ticket": None, "form": form}
        return _render_form(request, context, status=429)
    if not created and ticket.user_id == request.user.pk and ticket.created_at >= started:
        created = True  # this very submit saved it before its connection dropped
    if request.htmx:
        return render(request, SENT_PARTIAL, {"ticket": ticket, "created": created, "page": diagnosis.page})
    if not created:
        messages.info(
            request,
            gettext(
                "You already have an open ticket for order #%(number)s: %(reference)s. "
                "We did not open a second one."
            )
            % {"number": ticket.order_number, "reference": ticket.reference},
        )
    # 303: the browser follows with a GET, so a reload does not post the ticket again.
    return HttpResponseRedirect(reverse("support:ticket_detail", args=[ticket.reference]), status=303)


@never_cache
@login_required_htmx(anchor="still-missing")
@require_GET
def ticket_form_view(request):
    """The "Still missing?" form for the article's current diagnosis, refreshed as checks finish.

    The article's ticket section asks for it whenever a check ends, so the form
    appears (or follows a new order number) without reloading the page.
    """
    page = live_article(request.GET.get("page"))
    if not request.htmx:
        return HttpResponseRedirect(f"{page.url}#still-missing")
    # Swapped into the article: in the article's language.
    with translation.override(supported_language(page.locale.language_code) or translation.get_language()):
        return _ticket_form(request, page)


def _ticket_form(request, page):
    diagnosis = session_diagnosis(request, page)
    shown = request.GET.get("shown", "")
    if request.GET.get("edited") and shown:
        # The merchant has typed into the form: never replace it under their hands.
        if diagnosis is None or str(diagnosis.uuid) == shown:
            return HttpResponse(status=204)
        response = render(request, NEWER_PARTIAL, {"diagnosis": diagnosis, "page": page})
        response["HX-Reswap"] = "none"  # only the note, swapped out of band
        return response
    context = {**selectors.ticket_form_context(diagnosis), "page": page}
    return render(request, FORM_PARTIAL, context)


@never_cache
@login_required_htmx()
@require_GET
def ticket_detail(request, reference: str):
    """The ticket as it was sent, in the account it was opened from."""
    ticket = selectors.ticket_for_account(request.account, reference)
    if ticket is None:  # a link about another of the user's accounts offers to switch to it
        return in_another_account(request, selectors.ticket_merchant_id(reference))
    entries = selectors.transcript_entries(ticket.transcript)
    return render(request, "support/ticket_detail.html", {"ticket": ticket, "entries": entries})
