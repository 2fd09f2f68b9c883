"""The language the JSON API and the MCP server answer in: the caller's ``Accept-Language``, else English."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

from apps.languages.selectors import supported_language

from .errors import API_PREFIXES


def caller_language(request) -> str:
    """The first of the site's languages the caller's Accept-Language names; English without one.

    Only the header: a program sends no language cookie, and the address names no language
    (``/api/v1/…`` is one API for everyone).
    """
    header = request.headers.get("Accept-Language", "")
    for code, _weight in translation.trans_real.parse_accept_lang_header(header):
        if code == "*":
            break
        found = supported_language(code)
        if found is not None:
            return found
    return settings.LANGUAGE_CODE


class ApiLanguageMiddleware:
    """Under /api/ and /mcp: problems' titles and details, and messages, in the caller's language.

    Before ReaderLanguageMiddleware (apps/languages), which leaves a request marked
    ``language_fixed`` as it is: a program's language is its header's alone, never a
    signed-in user's saved choice or a cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIXES):
            return self.get_response(request)
        language = caller_language(request)
        with translation.override(language, deactivate=True):
            request.LANGUAGE_CODE = language
            request.language_fixed = True
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Accept-Language",))
        return response
