"""What the API and the MCP server answer when they cannot do what was asked: RFC 9457 problem documents.

Every refusal is a ``Problem`` with a status, a short title and a detail in
words a person (or a language model) can act on. Title and detail are messages:
they are written in the caller's language (``Accept-Language``, English by
default: ``apps.api.middleware``) when the document is sent, while ``type``,
``status`` and ``field`` stay the same in every language, for programs. The JSON API sends it as
``application/problem+json``; the MCP server turns it into a tool error with
the same words. Nothing else reaches a caller: never a stack trace, never a 500.
"""

from __future__ import annotations

import json
import math

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are documented where the API's reference is: its interactive docs.
PROBLEM_TYPE_BASE = "/api/v1/docs#problem-"


class Problem(Exception):
    status = 400
    title = _("Bad request")
    slug = "bad-request"

    def __init__(self, detail: str, *, retry_after: float | None = None, field: str = ""):
        super().__init__(detail)
        self.detail = detail  # a message (said()), read in the active language when sent
        self.retry_after = retry_after
        self.field = field

    def as_dict(self) -> dict:
        body = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": str(self.title),
            "status": self.status,
            "detail": str(self.detail),
        }
        if self.field:
            body["field"] = self.field
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after_seconds
        return body

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.retry_after or 0))


class Unauthorized(Problem):
    status, title, slug = 401, _("Not signed in"), "unauthorized"

    def __init__(self, detail: str, *, token_refused: bool = False, **kwargs):
        super().__init__(detail, **kwargs)
        # A token was sent and cannot be used (RFC 6750: error="invalid_token"), rather than none sent.
        self.token_refused = token_refused


class Forbidden(Problem):
    status, title, slug = 403, _("Not allowed with this token"), "forbidden"


class NotFound(Problem):
    status, title, slug = 404, _("Not found"), "not-found"


class MethodNotAllowed(Problem):
    status, title, slug = 405, _("Method not allowed"), "method-not-allowed"


class Conflict(Problem):
    status, title, slug = 409, _("Not possible now"), "conflict"


class Invalid(Problem):
    status, title, slug = 422, _("Cannot use that input"), "invalid"


class TooMany(Problem):
    status, title, slug = 429, _("Too many requests"), "too-many"


class Unavailable(Problem):
    status, title, slug = 503, _("Unavailable right now"), "unavailable"


def detail_of(exc: Exception):
    """What a refusal raised elsewhere says, kept a message (``said()``) where it is one."""
    said = exc.args[0] if exc.args and isinstance(exc.args[0], str) else None
    return said if said is not None else str(exc)


def problem_response(problem: Problem) -> HttpResponse:
    """The problem as an HTTP answer, with ``Retry-After`` where waiting helps and a challenge on 401."""
    response = HttpResponse(
        json.dumps(problem.as_dict()), status=problem.status, content_type=PROBLEM_CONTENT_TYPE
    )
    if problem.retry_after is not None:
        response["Retry-After"] = str(problem.retry_after_seconds)
    if problem.status == 401:
        challenge = 'Bearer realm="Kitty Troubleshoot"'
        if getattr(problem, "token_refused", False):
            challenge += ', error="invalid_token"'
        response["WWW-Authenticate"] = challenge
    return response
