"""The API tokens page: make a token (shown once), list them, revoke one after saying what that does."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.checks.accounts import in_another_account
from kitty_troubleshoot.decorators import login_required_htmx
from kitty_troubleshoot.params import int_param

from ..tokens import (
    ACTIVE_TOKENS_MAX,
    DEFAULT_EXPIRY_DAYS,
    EXPIRY_DAYS,
    NAME_MAX,
    SCOPE_WORDS,
    Scope,
    TokenAlreadyMade,
    TokenInvalid,
    expiry_clean,
    name_clean,
    scope_words,
    scopes_clean,
    token_create,
    token_revoke,
)
from .forms import TokenCreateForm
from .selectors import token_account, token_for_manager, token_lists

PAGE = "api/tokens.html"
# Where the example on the page points: the API's list of the account's plugins.
EXAMPLE_PATH = "/api/v1/plugins"


def _page(request, *, form: TokenCreateForm, created=None, status: int = 200):
    lists = token_lists(request.account, request.user)
    chosen = form.chosen_scopes()
    context = {
        "form": form,
        "lists": lists,
        "created": created,
        "scopes": [
            {
                "value": s.value,
                "words": SCOPE_WORDS[s],
                "always": s == Scope.READ,
                "checked": s.value in chosen,
            }
            for s in Scope
        ],
        "expiry_choices": EXPIRY_DAYS,
        "expiry_chosen": str(form["expires_in_days"].value() or DEFAULT_EXPIRY_DAYS),
        "name_max": NAME_MAX,
        "active_max": ACTIVE_TOKENS_MAX,
        # A new key each time the form is shown: the same form sent twice makes one token.
        "form_key": secrets.token_urlsafe(16),
    }
    return render(request, PAGE, context, status=status)


@never_cache  # the answer to a creation holds the token: no cache, shared or the browser's, may keep it
@login_required_htmx()
@require_http_methods(["GET", "POST"])
def tokens_page(request):
    if request.account is None:
        return render(request, PAGE, {"no_account": True}, status=404)
    if request.method == "GET":
        return _page(request, form=TokenCreateForm())
    form = TokenCreateForm(request.POST)
    form.is_valid()  # every field is optional here: the service's rules judge the values
    shown = int_param(request.POST.get("account"))
    if shown is not None and shown != request.account.merchant_id:
        # The form was filled in for another account, before a switch in another tab: make nothing.
        form.add_error(
            None,
            gettext(
                "You switched to “%(account)s” in another tab or window since this form was shown, so no token "
                "was made. Send it again if it is for this account."
            )
            % {"account": request.account.merchant_name},
        )
        return _page(request, form=form, status=409)
    asked = {
        "name": form.cleaned_data.get("name", ""),
        "scopes": form.cleaned_data.get("scopes", []),
        "expires_in_days": form.cleaned_expiry(),
    }
    # Each input judged on its own first, so the form says everything to correct at once.
    for rule, value in (
        (name_clean, asked["name"]),
        (scopes_clean, asked["scopes"]),
        (expiry_clean, asked["expires_in_days"]),
    ):
        try:
            rule(value)
        except TokenInvalid as exc:
            form.add_error(exc.field, str(exc))  # a message: in the reader's language
    if form.errors:
        return _page(request, form=form, status=400)
    try:
        token, raw = token_create(
            user=request.user,
            merchant_id=request.account.merchant_id,
            form_key=request.POST.get("form_key", ""),
            **asked,
        )
    except TokenAlreadyMade as exc:
        form.add_error(
            None,
            gettext(
                "“%(name)s” was already made from this form: it was sent again (a reload of the page that "
                "showed the token does that), and no second token was made. Its secret was shown once; if you "
                "did not copy it, revoke it below and make another."
            )
            % {"name": exc.token.name},
        )
        return _page(request, form=form, status=409)
    except TokenInvalid as exc:
        form.add_error(exc.field, str(exc))
        return _page(request, form=form, status=400)
    except LookupError:
        raise Http404(gettext("You are no longer a member of this account.")) from None
    # Rendered in the answer to the POST, never redirected: the secret goes nowhere but this page.
    created = {"token": token, "raw": raw, "example_url": request.build_absolute_uri(EXAMPLE_PATH)}
    return _page(request, form=TokenCreateForm(), created=created)


@never_cache
@login_required_htmx()
@require_http_methods(["GET", "POST"])
def token_revoke_view(request, pk: int):
    """GET asks to confirm (it works without JavaScript); POST revokes and goes back to the list."""
    token = token_for_manager(request.account, request.user, pk)
    if token is None:
        # One of the person's other accounts offers the switch; any other token is a plain 404.
        return in_another_account(request, token_account(pk))
    if request.method == "GET":
        context = {"token": token, "scopes": scope_words(token.scopes), "state": token.state()}
        return render(request, "api/token_revoke.html", context)
    names = {"name": token.name, "prefix": token.shown_prefix, "user": token.user.get_username()}
    own = token.user_id == request.user.pk
    if token_revoke(token=token):
        revoked = (
            gettext("Revoked “%(name)s” (%(prefix)s). Tools using it can no longer sign in.")
            if own
            else gettext("Revoked “%(name)s” of %(user)s (%(prefix)s). Tools using it can no longer sign in.")
        )
        messages.success(request, revoked % names)
    else:
        already = (
            gettext("“%(name)s” (%(prefix)s) was already revoked.")
            if own
            else gettext("“%(name)s” of %(user)s (%(prefix)s) was already revoked.")
        )
        messages.info(request, already % names)
    return HttpResponseRedirect(reverse("tokens:list"), status=303)
