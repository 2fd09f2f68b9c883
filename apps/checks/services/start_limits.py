"""The per-user start limits: how many checks, and how many fixes, one person may start in a minute."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from kitty_troubleshoot.said import said_n

from ..models import CheckStart

# The per-user start limits count what a person started in this sliding window.
START_LIMIT_WINDOW = timedelta(seconds=60)


class TooManyChecks(Exception):
    """The user started more checks (or fixes) than allowed in a minute."""

    def __init__(self, message: str, *, wait_seconds: int):
        super().__init__(message)
        self.wait_seconds = wait_seconds


def start_limit_lock(user) -> None:
    # Serializes one user's starts so two concurrent ones cannot both slip under
    # the limit. NO KEY UPDATE does not conflict with the key-share locks that
    # inserting CheckRun rows takes on the same user row.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()


def _start_limit(kind: str) -> int:
    if kind == CheckStart.Kind.FIX:
        return settings.CHECK_FIXES_PER_MINUTE
    return settings.CHECK_STARTS_PER_MINUTE


def start_limit_check(*, user, kind: str = CheckStart.Kind.CHECK, now=None) -> None:
    """Raise TooManyChecks when ``user`` has used up the starts of ``kind`` the window allows.

    Asked before anything of a start is written (its diagnosis among them),
    so a refused start leaves nothing behind. The wait it says is when the
    oldest counted start leaves the window: a refused start is not counted,
    so the wait only shrinks while the person waits.
    """
    now = now or timezone.now()
    since = now - START_LIMIT_WINDOW
    recent = CheckStart.objects.filter(user=user, kind=kind, started_at__gt=since)
    limit = max(1, _start_limit(kind))
    started = list(recent.order_by("-started_at").values_list("started_at", flat=True)[:limit])
    if len(started) < limit:
        return
    # The start that must leave the window for one more to fit: the limit-th newest.
    frees_at = started[limit - 1] + START_LIMIT_WINDOW
    wait = max(1, math.ceil((frees_at - now).total_seconds()))
    if kind == CheckStart.Kind.FIX:
        message = said_n(
            "You have applied a lot of fixes in the last minute. Wait %(count)s second, then try again.",
            "You have applied a lot of fixes in the last minute. Wait %(count)s seconds, then try again.",
            wait,
        )
    else:
        message = said_n(
            "You have started a lot of checks in the last minute. Wait %(count)s second, then try again.",
            "You have started a lot of checks in the last minute. Wait %(count)s seconds, then try again.",
            wait,
        )
    raise TooManyChecks(message, wait_seconds=wait)


def start_limit_enforce(user, *, kind: str, now) -> None:
    """Count this start against the user's limit of ``kind``, or refuse it (TooManyChecks).

    Called inside the transaction that adds the start's runs, after the
    user's row is locked (raising rolls the runs back): a sliding window with
    no clock-minute reset. One start is one count, whatever it runs:
    "Check every step" is one, one step's "Check this now" is one, and a fix
    counts against the fixes' own limit. A start that only joins runs already
    in flight is not counted. The counts live in the database, the store no
    check starts without, so the limit never fails open.
    """
    start_limit_check(user=user, kind=kind, now=now)
    # Starts that left the window count for nothing any more.
    CheckStart.objects.filter(user=user, started_at__lte=now - START_LIMIT_WINDOW).delete()
    CheckStart.objects.create(user=user, kind=kind, started_at=now)
