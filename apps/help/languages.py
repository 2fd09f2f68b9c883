"""The help center in each of its languages: a page's translations, and the reader's language.

English is the source and keeps its addresses (``/help/…``); German and French live under
``/de/help/…`` and ``/fr/help/…`` (Wagtail locales, translated with wagtail-localize). A help
address without a language prefix opens in the reader's language (``reader_language``: their
saved choice, the switcher's cookie, Accept-Language) where the page is translated into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_vary_headers
from wagtail.models import Page

from apps.languages.selectors import reader_language, supported_language


@dataclass(frozen=True)
class LanguageChoice:
    """One language the switcher offers: where the page is in it, and whether it is the page's own."""

    code: str
    name: str  # in the language itself ("Deutsch")
    url: str  # this page in that language, or "" where it has no translation
    current: bool


def page_language(page: Page | None) -> str:
    """The language a page is written in; the active language (English off the help center) otherwise."""
    if isinstance(page, Page):
        own = next((code for code, other in live_translations(page).items() if other.pk == page.pk), None)
        return own or page.locale.language_code
    return translation.get_language() or settings.LANGUAGE_CODE


def live_translations(page: Page) -> dict[str, Page]:
    """Language code → the page in that language (itself included), published only.

    Read once per page served: the redirect, ``<html lang>``, hreflang and the switcher all ask.
    """
    found = getattr(page, "_live_translations", None)
    if found is None:
        # Published is enough: the help center restricts no page's readers (.public() would cost a query).
        pages = page.get_translations(inclusive=True).live().select_related("locale")
        found = page._live_translations = {other.locale.language_code: other for other in pages}
    return found


def language_choices(page: Page | None, request=None) -> list[LanguageChoice]:
    """Every site language, each with this page's address in it (the switcher, hreflang alternates)."""
    own = page_language(page)
    found = live_translations(page) if isinstance(page, Page) else {}
    return [
        LanguageChoice(
            code=code,
            name=name,
            url=found[code].get_url(request) if code in found else "",
            current=code == own,
        )
        for code, name in settings.LANGUAGES
    ]


def _page_at(request, path: str) -> Page | None:
    """The help page a local address shows, in the address's language; None for anything else."""
    language = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            match = resolve(path)
        except Resolver404:
            return None
        if match.url_name != "wagtail_serve":
            return None
        wagtail_path = match.kwargs.get("path", match.args[0] if match.args else "")
        route = Page.route_for_request(request, wagtail_path)
    return route[0] if route else None


def address_in_language(request, next_url: str, language: str) -> str:
    """Where the switcher takes a reader who picks ``language`` on the page at ``next_url`` (a local address).

    The same help page in that language where it is translated, else the help center's home
    in that language; any other page of the site stays as it is (its words are the software's).
    """
    page = _page_at(request, urlsplit(next_url).path)
    if page is None:
        return next_url
    found = live_translations(page)
    if language in found:
        return found[language].get_url(request)
    from .models import HelpIndexPage

    home = HelpIndexPage.objects.live().public().filter(locale__language_code=language).first()
    return home.get_url(request) if home is not None else next_url


def language_of_address(request) -> str:
    """The language the address names (``/de/…``, ``/fr/…``); English for an address without a prefix."""
    return translation.get_language_from_path(request.path_info) or settings.LANGUAGE_CODE


def refuse_another_languages_page(request, page: Page) -> None:
    """Raise Http404 when the page found is not in the address's language.

    Wagtail routes ``/fr/help/…`` through the site root's French translation, and falls back to
    the English root where there is none (or it is not published): the English article would be
    served under a French address. A translation that does not exist is not found, never
    silently the source.
    """
    if page_language(page) != language_of_address(request):  # no query: the translations are read anyway
        raise Http404("This page is not published in the address's language.")


def language_redirect(request, page: Page):
    """A help address without a language prefix, asked for by a reader of another language: to the translation.

    None (serve the page as asked) for an address that names its language, a reader who wants
    the page's own language, or a page not translated into theirs.
    """
    if request.method not in ("GET", "HEAD") or translation.get_language_from_path(request.path_info):
        return None
    if len(live_translations(page)) < 2:
        return None  # nowhere else to go: the reader's language is not looked up
    wanted = supported_language(reader_language(request))
    if wanted is None or wanted == page_language(page):
        return None
    other = live_translations(page).get(wanted)
    if other is None:
        return None
    query = request.META.get("QUERY_STRING", "")
    response = HttpResponseRedirect(other.get_url(request) + (f"?{query}" if query else ""))
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response
