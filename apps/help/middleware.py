"""Serve published help pages to anonymous readers from the cache."""

from django.core.cache import cache

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


def cache_key(request) -> str:
    version = cache.get_or_set(CACHE_VERSION_KEY, 1, None)
    return f"help:page:{version}:{request.get_host()}:{request.path}"


def invalidate_page_cache() -> None:
    """Forget every cached page: called whenever help content changes."""
    try:
        cache.incr(CACHE_VERSION_KEY)
    except ValueError:
        cache.set(CACHE_VERSION_KEY, 2, None)


class AnonymousPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (request.path.startswith("/help/") and request_is_cacheable(request)):
            return self.get_response(request)
        key = cache_key(request)
        response = cache.get(key)
        if response is not None:
            return response
        response = self.get_response(request)
        if getattr(response, "help_page_cacheable", False) and response.status_code == 200:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            cache.set(key, response, CACHE_SECONDS)
        return response
