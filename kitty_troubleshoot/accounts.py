"""The merchant account a request works in, worked out once per request.

``AccountMiddleware`` sets, for every request:

- ``request.account``: the account the signed-in user works in, a
  ``apps.checks.base.Membership`` (``.merchant_id``, ``.role``, ``.is_owner``,
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
from django.http import Http404, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.checks.base import Membership
from apps.checks.registry import account_directory

from .decorators import login_required_htmx

SESSION_KEY = "account:merchant_id"


def account_resolve(request) -> tuple[list[Membership], Membership | None]:
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
    """Sets ``request.account`` and ``request.accounts``; after the session and authentication middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.accounts, request.account = account_resolve(request)
        return self.get_response(request)


def _safe_next(request, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return "/help/"


@login_required_htmx()
@require_POST
def account_switch(request):
    """Work in another of the user's accounts from now on; back to ``next``.

    An account the user is not a member of is a 404 and changes nothing.
    """
    try:
        merchant_id = int(request.POST.get("account", ""))
    except ValueError:
        raise Http404("No such account.") from None
    account = next((a for a in request.accounts if a.merchant_id == merchant_id), None)
    if account is None:
        raise Http404("No such account.")
    if request.account is None or request.account.merchant_id != account.merchant_id:
        request.session[SESSION_KEY] = account.merchant_id
        request.account = account
        messages.success(request, f"You are now working in “{account.merchant_name}”.")
    # 303: the page is loaded again with a GET, in the account just chosen.
    return HttpResponseRedirect(_safe_next(request, request.POST.get("next")), status=303)
