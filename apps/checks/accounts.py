"""The merchant account a request works in, worked out once per request.

``AccountMiddleware`` sets, for every request:

- ``request.account``: the account the signed-in user works in, an
  ``AccountAccess`` (``.merchant_id``, ``.role``, ``.is_owner``,
  ``.merchant_name``), or None (signed out, or a member of no account);
- ``request.accounts``: every account the user belongs to (empty when none).

A user in several accounts chooses one with the switcher (``account_switch``);
the choice is kept in the session and checked against the user's memberships
on every request, so a membership removed meanwhile falls back to the user's
default account (their oldest membership), or to none. Everything scoped to an
account (plugins, checks, fixes, tickets, Reauthorize) reads ``request.account``,
and an id from any other account is a 404, even for a member of that account.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from kitty_troubleshoot.decorators import login_required_htmx
from kitty_troubleshoot.params import int_param, safe_next
from kitty_troubleshoot.said import said

from .base import AccountAccess
from .registry import account_directory

SESSION_KEY = "account:merchant_id"
# Sent by htmx from every page of a signed-in user (templates/base.html): the account the page shows.
ACCOUNT_HEADER = "X-Kitty-Account"


def account_resolve(request) -> tuple[list[AccountAccess], AccountAccess | None]:
    """(every account of the request's user, the one they work in): the chosen one if still theirs."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return [], None
    accounts = account_directory().memberships_for(user)
    chosen = request.session.get(SESSION_KEY)
    account = next((a for a in accounts if a.merchant_id == chosen), None)
    if account is None:
        account = accounts[0] if accounts else None
        if chosen is not None:
            # The chosen account is no longer theirs: forget it rather than try it on every request.
            del request.session[SESSION_KEY]
    return accounts, account


class AccountMiddleware:
    """Sets ``request.account`` and ``request.accounts``; after the session, auth and messages middleware.

    A page tells htmx to send the account it shows (``ACCOUNT_HEADER``). When
    the user has switched accounts since (in another tab), acting on that page
    would be acting on the other account's ids: instead nothing is done and
    the page is loaded again, in the account now chosen, saying why.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.accounts, request.account = account_resolve(request)
        shown = request.headers.get(ACCOUNT_HEADER)
        if (
            shown is not None
            and request.headers.get("HX-Request") == "true"
            and request.user.is_authenticated
        ):
            current = request.account
            if current is None or shown != str(current.merchant_id):
                return _reload_in_current_account(request)
        return self.get_response(request)


def _reload_in_current_account(request) -> HttpResponse:
    current = request.account
    if current is None:
        messages.info(request, said("You are no longer a member of that account. Nothing was done."))
    else:
        messages.info(
            request,
            said(
                "You switched to “%(account)s” (in another tab or window), so this page now shows it. "
                "Nothing was done; try again if this is the account you meant.",
                account=current.merchant_name,
            ),
        )
    response = HttpResponse(status=200)
    response["HX-Refresh"] = "true"
    return response


def in_another_account(request, merchant_id: int | None) -> HttpResponse:
    """The 404 for something of another account; if that is one of the user's own, it offers the switch.

    Links in e-mails and notifications can be about any of the user's
    accounts: the switch (a POST) comes back to the link, in that account.
    Nothing is shown about an account the user is not a member of.
    """
    other = next((a for a in request.accounts if a.merchant_id == merchant_id), None)
    if other is None or request.account is None or other.merchant_id == request.account.merchant_id:
        raise Http404("Not in your account.")
    context = {"other": other, "next": request.get_full_path()}
    return render(request, "accounts/other_account.html", context, status=404)


@login_required_htmx()
@require_POST
def account_switch(request):
    """Work in another of the user's accounts from now on; back to ``next``.

    An account the user is not a member of is a 404 and changes nothing.
    """
    merchant_id = int_param(request.POST.get("account"))
    account = next((a for a in request.accounts if a.merchant_id == merchant_id), None)
    if account is None:
        raise Http404("No such account.")
    if request.account is None or request.account.merchant_id != account.merchant_id:
        request.session[SESSION_KEY] = account.merchant_id
        request.account = account
        messages.success(
            request, said("You are now working in “%(account)s”.", account=account.merchant_name)
        )
    # 303: the page is loaded again with a GET, in the account just chosen.
    return HttpResponseRedirect(safe_next(request, request.POST.get("next")), status=303)
