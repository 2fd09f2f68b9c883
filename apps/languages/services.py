"""Saving the language a person chose."""

from __future__ import annotations

from django.utils import timezone

from .models import LanguagePreference
from .selectors import supported_language


def language_preference_set(*, user, language: str) -> str:
    """Save ``language`` as the user's choice; the language saved (one of settings.LANGUAGES).

    Raises ValueError for a language the site does not have.
    """
    chosen = supported_language(language)
    if chosen is None:
        raise ValueError(f"{language!r} is not one of the site's languages")
    LanguagePreference.objects.update_or_create(
        user=user, defaults={"language": chosen, "updated_at": timezone.now()}
    )
    return chosen
