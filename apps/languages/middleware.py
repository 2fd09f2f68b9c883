"""The language of an answer whose address names none: the page it goes into, else the reader's.

The help center's addresses name their language (/help/… English, /de/help/…,
/fr/help/…; Django's LocaleMiddleware reads it). Every other address (the
inbox, the tokens page, sign in, the checks' htmx answers) is one address in
every language, so this middleware, after the user is known, picks for it:

- an htmx request is answered in the language of the page it is swapped into
  (htmx sends that page's address as ``HX-Current-URL``): a German article's
  "Check this now" answers in German, an English one's in English;
- any other request in the reader's language (``reader_language``: their saved
  choice, the switcher's cookie, Accept-Language).

A request an earlier middleware marked ``language_fixed`` (the API's, by its
caller's Accept-Language alone) is left as it is.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from .selectors import reader_language

# The help center's addresses without a prefix are its English pages.
HELP_PREFIX = "/help/"


def address_language(path: str) -> str | None:
    """The language an address of this site is in by itself: its prefix, English for /help/…; else None."""
    named = translation.get_language_from_path(path)
    if named:
        return named
    return settings.LANGUAGE_CODE if path.startswith(HELP_PREFIX) else None


def _path_of(url: str) -> str:
    """The path of an address a client sent ("" for one that is no address at all: never a 500)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


class ReaderLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if address_language(request.path_info) is not None or getattr(request, "language_fixed", False):
            return self.get_response(request)
        language = None
        current = request.headers.get("HX-Current-URL")
        if current and request.headers.get("HX-Request"):
            language = address_language(_path_of(current))
        language = language or reader_language(request)
        with translation.override(language, deactivate=True):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language", "Cookie", "HX-Current-URL"))
        response.headers.setdefault("Content-Language", language)
        return response
