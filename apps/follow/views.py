"""The notifications inbox, the e-mail settings, and starting or stopping a watch."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.checks.selectors.viewers import diagnosis_for_account
from apps.languages.selectors import language_of, supported_language
from kitty_troubleshoot.decorators import login_required_htmx

from . import selectors
from .emails import unsubscribe_user_id
from .services import (
    WatchRefused,
    email_preference_set,
    emails_wanted,
    watch_cancel,
    watch_for,
    watch_hours,
    watch_start,
)

WATCH_BOX = "follow/watch_box.html"
PAGE_SIZE = 30


@never_cache
@login_required_htmx()
def inbox(request):
    if request.account is None:
        return render(request, "follow/inbox.html", {"no_account": True}, status=404)
    merchant_id = request.account.merchant_id
    page = Paginator(selectors.account_notifications(merchant_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    entries = selectors.notification_links(page.object_list)
    return render(
        request,
        "follow/inbox.html",
        {"page": page, "entries": entries, "unread": selectors.unread_count(merchant_id)},
    )


@never_cache
@login_required_htmx()
def notification_open(request, pk: int):
    """Mark the notification read and go where it is explained."""
    note = selectors.notification_for_account(request.account, pk)
    if note is None:
        raise Http404(gettext("No such notification."))
    if not note.read:
        type(note).objects.filter(pk=note.pk).update(read=True)
    return HttpResponseRedirect(selectors.notification_link(note) or reverse("follow:inbox"))


@login_required_htmx()
@require_POST
def notification_read(request, pk: int):
    note = selectors.notification_for_account(request.account, pk)
    if note is None:
        raise Http404(gettext("No such notification."))
    type(note).objects.filter(pk=note.pk).update(read=True)
    return HttpResponseRedirect(reverse("follow:inbox"))


@login_required_htmx()
@require_POST
def notifications_read_all(request):
    if request.account is None:
        raise Http404(gettext("No account."))
    count = selectors.account_notifications(request.account.merchant_id).filter(read=False).update(read=True)
    messages.success(
        request,
        ngettext("Marked %(count)s notification as read.", "Marked %(count)s notifications as read.", count)
        % {"count": count},
    )
    return HttpResponseRedirect(reverse("follow:inbox"))


@never_cache
@login_required_htmx()
@require_http_methods(["GET", "POST"])
def email_settings(request):
    if request.method == "POST":
        wanted = request.POST.get("watch_emails") == "on"
        email_preference_set(user=request.user, watch_emails=wanted)
        messages.success(
            request,
            gettext("We will e-mail you what watched orders did.")
            if wanted
            else gettext("No more watch e-mails."),
        )
        return HttpResponseRedirect(reverse("follow:settings"))
    return render(
        request,
        "follow/settings.html",
        {"watch_emails": emails_wanted(request.user), "email": request.user.email},
    )


@csrf_exempt  # a mail client's one-click unsubscribe posts without a session; the signed token is the proof
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks (link scanners follow links); POST turns the e-mails off, from the page or the mail client."""
    user = get_user_model().objects.filter(pk=unsubscribe_user_id(token)).first()
    if user is None:
        return render(request, "follow/unsubscribe.html", {"invalid": True}, status=404)
    # In the language the e-mail was written in: the user's own, signed in or not.
    with translation.override(language_of(user)):
        if request.method == "POST":
            email_preference_set(user=user, watch_emails=False)
            return render(request, "follow/unsubscribe.html", {"done": True})
        return render(request, "follow/unsubscribe.html", {"token": token})


def _watch_box(request, diagnosis, *, error: str = "", note: str = ""):
    """The watch box as htmx swaps it in after a click, focus on what it now says.

    A refusal comes back as 200 too: htmx swaps no 4xx answer, and the page would
    say it could not reach the help center instead of why the watch was refused.
    """
    return render(
        request,
        WATCH_BOX,
        {
            "diagnosis": diagnosis,
            "watch": watch_for(diagnosis),
            "watch_hours": watch_hours(),
            "watch_error": error,
            "watch_note": note,
            # The button pressed is gone with the old box: htmx focuses the [autofocus] of the new one.
            "watch_swapped": True,
        },
    )


def _back_to_article(request, diagnosis):
    page = diagnosis.page
    return HttpResponseRedirect(f"{page.url}#diagnosis-summary" if page else reverse("follow:inbox"))


def form_language(request) -> str:
    """The language of the page the watch box was pressed on (the form says): what comes back speaks it."""
    return supported_language(request.POST.get("language")) or translation.get_language()


@login_required_htmx(anchor="diagnosis-summary")
@require_POST
def watch_start_view(request):
    with translation.override(form_language(request)):
        return _watch_start(request)


def _watch_start(request):
    diagnosis = diagnosis_for_account(request.account, request.POST.get("diagnosis", ""))
    if diagnosis is None:
        raise Http404(gettext("No such diagnosis."))
    try:
        watch, created = watch_start(user=request.user, diagnosis=diagnosis)
    except WatchRefused as exc:
        if request.htmx:
            return _watch_box(request, diagnosis, error=str(exc))
        messages.error(request, str(exc))
        return _back_to_article(request, diagnosis)
    note = "" if created else gettext("Someone in your account is already watching for this order.")
    if request.htmx:
        return _watch_box(request, diagnosis, note=note)
    messages.success(
        request,
        note or gettext("We will tell you when order #%(number)s arrives.") % {"number": watch.order_number},
    )
    return _back_to_article(request, diagnosis)


@login_required_htmx(anchor="diagnosis-summary")
@require_POST
def watch_cancel_view(request, watch_uuid):
    with translation.override(form_language(request)):
        return _watch_cancel(request, watch_uuid)


def _watch_cancel(request, watch_uuid):
    watch = selectors.watch_for_account(request.account, watch_uuid)
    if watch is None:
        raise Http404(gettext("No such watch."))
    watch_cancel(watch=watch)
    stopped = gettext("Stopped watching for order #%(number)s.") % {"number": watch.order_number}
    if request.htmx and watch.diagnosis is not None:
        return _watch_box(request, watch.diagnosis, note=stopped)
    messages.success(request, stopped)
    return HttpResponseRedirect(
        f"{watch.diagnosis.page.url}#diagnosis-summary"
        if watch.diagnosis and watch.diagnosis.page
        else reverse("follow:inbox")
    )
