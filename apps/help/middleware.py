"""Serve published help pages to anonymous readers from the cache."""

import time

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from apps.languages.selectors import reader_language

CACHE_VERSION_KEY = "help:pages:version"
CACHE_SECONDS = 60 * 60


def request_is_cacheable(request) -> bool:
    """A reader with no session and no pending messages sees exactly what everyone sees."""
    return (
        request.method in ("GET", "HEAD")
        and not request.GET
        and "sessionid" not in request.COOKIES
        and "messages" not in request.COOKIES
        and "csrftoken" not in request.COOKIES
    )


def is_help_path(path: str) -> bool:
    """/help/… in English, /de/help/… and /fr/help/… in the other languages."""
    language = translation.get_language_from_path(path)
    return path.removeprefix(f"/{language}" if language else "").startswith("/help/")


def reads_another_language(request) -> bool:
    """An English address asked for by a reader who wants another language: they may be sent to it."""
    return (
        translation.get_language_from_path(request.path_info) is None
        and reader_language(request) != settings.LANGUAGE_CODE
    )


def cache_key(request) -> str:
    # Not "help:page:…": entries are (version, response) now, never an older bare response.
    return f"help:page-entry:{request.get_host()}:{request.path}"


def _fresh_version() -> int:
    # Never a number an older entry could carry, even if the counter was lost.
    return time.time_ns()


def _current_version(known) -> int:
    if known is not None:
        return known
    cache.add(CACHE_VERSION_KEY, _fresh_version(), None)
    return cache.get(CACHE_VERSION_KEY)


def page_cache_version() -> int:
    """The help content's current version: what is cached under an older one is stale."""
    return _current_version(cache.get(CACHE_VERSION_KEY))


def invalidate_page_cache() -> None:
    """Forget every cached page: called whenever help content changes."""
    try:
        cache.incr(CACHE_VERSION_KEY)
    except ValueError:
        cache.set(CACHE_VERSION_KEY, _fresh_version(), None)


class AnonymousPageCacheMiddleware:
    """Each entry is (version, response); one round trip reads it with the current version.

    A page stored under an older version is stale (content changed since) and is
    rendered afresh, so bumping the version empties the whole cache at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (is_help_path(request.path) and request_is_cacheable(request)):
            return self.get_response(request)
        if reads_another_language(request):
            return self.get_response(request)
        key = cache_key(request)
        found = cache.get_many([CACHE_VERSION_KEY, key])
        version = _current_version(found.get(CACHE_VERSION_KEY))
        entry = found.get(key)
        if entry is not None and entry[0] == version:
            return front_may_keep(entry[1])
        response = self.get_response(request)
        if getattr(response, "help_page_cacheable", False) and response.status_code == 200:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            cache.set(key, (version, response), CACHE_SECONDS)
            return front_may_keep(response)
        return response


def front_may_keep(response):
    """Let the front (nginx) keep this page for everyone without a session, briefly.

    X-Accel-Expires is read by nginx and never sent on to readers. Only pages
    this middleware itself would serve from its cache carry it: the front
    stores nothing else (deploy/nginx/kitty.conf.template sets no default time).
    """
    seconds = settings.HELP_PAGE_FRONT_CACHE_SECONDS
    if seconds > 0:
        response["X-Accel-Expires"] = str(seconds)
    return response
