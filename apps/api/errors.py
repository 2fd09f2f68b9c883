"""Django's error pages, answered as problem documents under the API's and the MCP server's addresses.

Some refusals happen before the API's own handlers can run (a path with NUL
refused by middleware, a request Django itself rejects): a client of the API
still gets JSON it can read, never an HTML page.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.views import defaults

from kitty_troubleshoot.said import said

from .problems import NotFound, Problem, problem_response

API_PREFIXES = ("/api/", "/mcp")


def _for_api(request) -> bool:
    return request.path_info.startswith(API_PREFIXES)


def not_found(request, exception=None):
    if _for_api(request):
        return problem_response(NotFound(said("There is nothing at this address in the API.")))
    return defaults.page_not_found(request, exception)


def bad_request(request, exception=None):
    if _for_api(request):
        return problem_response(Problem(said("The request could not be read.")))
    return defaults.bad_request(request, exception)


def server_error(request):
    if _for_api(request):
        problem = Problem(said("Something went wrong on our side. Try again in a few minutes."))
        problem.status, problem.title, problem.slug = 500, _("Server error"), "server-error"
        return problem_response(problem)
    return defaults.server_error(request)
