"""The one e-mail a watch sends: plain text and HTML from templates, with a one-click unsubscribe.

Written in the watcher's own language (their saved choice), whoever's sync or which worker ended it.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from apps.languages.selectors import language_of

UNSUBSCRIBE_SALT = "follow.unsubscribe"


def unsubscribe_token(user) -> str:
    """A token naming the user, for the e-mail's unsubscribe link (no sign-in needed to use it)."""
    return signing.dumps({"user": user.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_user_id(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT)["user"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def watch_email(watch) -> EmailMultiAlternatives:
    """The watch's e-mail to the user who asked for it, in their language."""
    with translation.override(language_of(watch.user)):
        return _watch_email(watch)


def _watch_email(watch) -> EmailMultiAlternatives:
    base_url = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    evidence = watch.notification.evidence if watch.notification else {}
    unsubscribe_url = base_url + reverse("follow:unsubscribe", args=[unsubscribe_token(watch.user)])
    context = {
        "watch": watch,
        "arrived": watch.state == watch.State.ARRIVED,
        "lines": watch.result_lines,
        "language": translation.get_language(),
        "step_url": base_url + evidence["url"] if evidence.get("url") else "",
        "ticket_url": base_url + reverse("checks:open", args=[watch.recheck.uuid]) + "?to=still-missing"
        if watch.recheck_id
        else "",
        "inbox_url": base_url + reverse("follow:inbox"),
        "settings_url": base_url + reverse("follow:settings"),
        "unsubscribe_url": unsubscribe_url,
    }
    if context["arrived"]:
        subject = gettext("Order #%(number)s arrived in Commerce Kitty")
    else:
        subject = gettext("Order #%(number)s is still not in Commerce Kitty")
    subject %= {"number": watch.order_number}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("follow/email/watch.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[watch.user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("follow/email/watch.html", context), "text/html")
    return message
