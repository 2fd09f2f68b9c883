"""What the API and the MCP server answer when they cannot do what was asked: RFC 9457 problem documents.

Every refusal is a ``Problem`` with a status, a short title and a detail in
words a person (or a language model) can act on. The JSON API sends it as
``application/problem+json``; the MCP server turns it into a tool error with
the same words. Nothing else reaches a caller: never a stack trace, never a 500.
"""

from __future__ import annotations

import json
import math

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are documented where the API's reference is: its interactive docs.
PROBLEM_TYPE_BASE = "/api/v1/docs#problem-"


class Problem(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, retry_after: float | None = None, field: str = ""):
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.field = field

    def as_dict(self) -> dict:
        body = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
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
    status, title, slug = 401, "Not signed in", "unauthorized"

    def __init__(self, detail: str, *, token_refused: bool = False, **kwargs):
        super().__init__(detail, **kwargs)
        # A token was sent and cannot be used (RFC 6750: error="invalid_token"), rather than none sent.
        self.token_refused = token_refused


class Forbidden(Problem):
    status, title, slug = 403, "Not allowed with this token", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(Problem):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class Conflict(Problem):
    status, title, slug = 409, "Not possible now", "conflict"


class Invalid(Problem):
    status, title, slug = 422, "Cannot use that input", "invalid"


class TooMany(Problem):
    status, title, slug = 429, "Too many requests", "too-many"


class Unavailable(Problem):
    status, title, slug = 503, "Unavailable right now", "unavailable"


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
