"""Which language a person reads in."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from .models import LanguagePreference


def supported_language(code: str | None) -> str | None:
    """``code`` as one of settings.LANGUAGES ("de-AT" → "de"), or None when none fits."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def language_preference_of(user) -> str | None:
    """The language a signed-in user chose in the switcher; None if they never chose one."""
    if user is None or not user.is_authenticated:
        return None
    saved = LanguagePreference.objects.filter(user=user).values_list("language", flat=True).first()
    return supported_language(saved)


def reader_language(request) -> str:
    """The language a reader wants when the address names none.

    Their saved choice when signed in, else the choice the switcher left in the language cookie
    (signed out), else the browser's Accept-Language, else English.
    """
    return (
        language_preference_of(getattr(request, "user", None))
        or supported_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        or supported_language(translation.get_language_from_request(request, check_path=False))
        or settings.LANGUAGE_CODE
    )


def language_of(user) -> str:
    """The language to write to ``user`` in (e-mails, notifications): their saved choice, else English."""
    return language_preference_of(user) or settings.LANGUAGE_CODE
