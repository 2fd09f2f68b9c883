"""Sign-in throttling (django-axes): who is locked out, by which address, and what they are told."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render

from .said import said_n


class SignInThrottleBackend(AxesStandaloneBackend):
    """Axes' lockout check, for sign-ins that come with a request.

    ``authenticate()`` without a request only happens outside HTTP (the test
    client's ``login()``, the shell, management commands), where nobody can
    guess passwords through us; axes would raise there, so it steps aside.
    Every sign-in form here (ours, Wagtail's, Django admin's) passes the request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request) -> str | None:
    """The address a sign-in came from, seen through ``SIGN_IN_TRUSTED_PROXIES`` proxies.

    Behind a proxy every request arrives from the proxy's address; each trusted
    proxy appends the address it received from to X-Forwarded-For, so the entry
    that many places from the right is the client's. Entries further left are
    whatever the client sent and are not believed.
    """
    proxies = settings.SIGN_IN_TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR")
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) < proxies:
        return forwarded[0] if forwarded else remote
    return forwarded[-proxies]


def lockout_minutes(request=None) -> int:
    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page again, saying why it refuses and for how long (HTTP 429)."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    minutes = lockout_minutes(request)
    message = said_n(
        "Too many failed sign-ins for this account or from this address. "
        "Sign-in is locked for %(count)s minute; try again after that.",
        "Too many failed sign-ins for this account or from this address. "
        "Sign-in is locked for %(count)s minutes; try again after that.",
        minutes,
    )
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message, "next": request.POST.get("next", "")},
        status=429,
    )
