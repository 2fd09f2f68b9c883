"""Requests the database could not store or look up are answered before any view runs."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import Http404, QueryDict

from .said import said

# PostgreSQL text cannot hold NUL; a query with one is an error, not "no match".
UNSTORABLE = "\x00"


def _has_unstorable(query) -> bool:
    return any(
        UNSTORABLE in key or any(UNSTORABLE in value for value in values) for key, values in query.lists()
    )


class RefuseUnstorableInputMiddleware:
    """A path with NUL is a 404 (nothing is stored under it), a form value with NUL a 400,
    and a NUL in the query string is dropped.

    One place for every view, Wagtail's and Django admin's included, rather
    than a check in each lookup that someone will forget.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if UNSTORABLE in request.path_info:
            raise Http404("No such page.")
        if _has_unstorable(request.GET):
            # A query only looks things up: the character is dropped, as the help
            # search always did, so a link with one still finds what it can.
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(key.replace(UNSTORABLE, ""), [v.replace(UNSTORABLE, "") for v in values])
            cleaned._mutable = False
            request.GET = cleaned
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # A form value with NUL is refused as well. Views exempt from CSRF read
        # their own body (JSON callbacks); parsing it as a form here would use it up.
        if getattr(view_func, "csrf_exempt", False):
            return None
        if request.method == "POST" and _has_unstorable(request.POST):
            raise BadRequest(said("The form contains a character that cannot be stored (NUL)."))
        return None
