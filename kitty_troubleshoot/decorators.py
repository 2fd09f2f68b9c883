"""View decorators shared by the apps."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect


def login_required_htmx(anchor: str = ""):
    """Like ``login_required``, but an htmx request whose session ended sends the browser to sign in.

    Following the redirect inside htmx would swap the sign-in page into the
    part of the page that asked (two headers on one page, a form that posts
    to the wrong place). Instead the whole browser goes to sign in, and back
    to the page it was on (at ``anchor``) afterwards.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.is_authenticated:
                return view(request, *args, **kwargs)
            if request.htmx:
                back = (request.htmx.current_url_abs_path or "/").split("#")[0] + (
                    f"#{anchor}" if anchor else ""
                )
                return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?next={quote(back)}")
            return redirect_to_login(request.get_full_path())

        return wrapper

    return decorator
