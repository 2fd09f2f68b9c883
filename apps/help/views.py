from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import connection
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from apps.languages.selectors import supported_language
from apps.languages.services import language_preference_set
from kitty_troubleshoot.params import safe_next

from .languages import address_in_language


@never_cache
def healthz(request):
    """For load balancers and compose: the process serves and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def baseline(request):
    """A static template and no queries: the floor bench/article_page.py measures against.

    Routed only when settings.BENCHMARK_VIEWS is on.
    """
    return render(request, "help/baseline.html")


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request):
    """GET asks to confirm; POST (CSRF-checked) signs out and returns to the help center."""
    if request.method == "POST":
        was_signed_in = request.user.is_authenticated
        logout(request)
        if was_signed_in:
            messages.info(request, gettext("You are signed out."))
        return redirect("/help/")
    return render(request, "registration/logout.html")


@csrf_exempt
@require_POST
def language_switch(request):
    """The language switcher: remember the language picked, and open this page in it.

    A signed-in user's choice is saved (CSRF-checked: it is theirs wherever they sign in).
    A signed-out reader's lives in the language cookie only; their pages are the cached
    pages everyone gets, so they carry no CSRF token, and another site posting here
    could do no more than pick the language of that reader's next page.
    """
    if request.user.is_authenticated:
        return _language_switch_signed_in(request)
    return _language_switch(request)


@csrf_protect
def _language_switch_signed_in(request):
    return _language_switch(request)


def _language_switch(request):
    language = supported_language(request.POST.get("language", ""))
    if language is None:
        return HttpResponseBadRequest(gettext("Pick one of the site's languages."))
    if request.user.is_authenticated:
        language_preference_set(user=request.user, language=language)
    response = redirect(address_in_language(request, safe_next(request, request.POST.get("next")), language))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
