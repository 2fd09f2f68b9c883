"""/mcp/: the MCP server's one endpoint, a POST per message (streamable HTTP, stateless, JSON answers)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from apps.api.problems import Forbidden, MethodNotAllowed, Problem, Unavailable, problem_response
from apps.api.rest import TokenAuth
from kitty_troubleshoot.said import said

from .bridge import SCOPE_KEY, LoopThread, RequestThread, asgi_scope
from .tools import DIAGNOSE_WAIT_SECONDS, McpCall, start_app

# The longest an MCP request may take: diagnose_order's wait and the start before it.
REQUEST_SECONDS = DIAGNOSE_WAIT_SECONDS + 5
# Answer headers that describe the connection between the SDK and us, not our answer.
_NOT_COPIED = {"content-length", "connection", "transfer-encoding", "keep-alive"}

mcp_loop = LoopThread(start_app, name="mcp-event-loop")


@csrf_exempt
def mcp_endpoint(request):
    """Authenticate the token, then let the MCP SDK answer the message, with the token's access.

    Only POST: there is no session to resume and no stream to open (GET), nor to end (DELETE).
    """
    if request.method != "POST":
        response = problem_response(
            MethodNotAllowed(
                said("The MCP server takes one JSON-RPC message per POST; it opens no event stream.")
            )
        )
        response["Allow"] = "POST"
        return response
    try:
        access = TokenAuth()(request)  # as the JSON API reads the token, refusing in the same words
    except Problem as problem:
        return problem_response(problem)
    # A browser page elsewhere must not drive the server (DNS rebinding): an Origin, when sent,
    # is the site's own. Django has already refused a Host outside ALLOWED_HOSTS.
    origin = request.headers.get("Origin")
    if origin and origin != f"{request.scheme}://{request.get_host()}":
        return problem_response(Forbidden(said("The MCP server does not answer pages of other sites.")))

    call = McpCall(
        access=access,
        thread=RequestThread(),
        base_url=request.build_absolute_uri("/").rstrip("/"),
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    answer = mcp_loop.call(asgi_scope(request, extra={SCOPE_KEY: call}), request.body)
    try:
        answered = call.thread.serve_until(answer, timeout=REQUEST_SECONDS)
    except TimeoutError:
        return problem_response(
            Unavailable(said("The MCP server took too long to answer. Try again in a minute."))
        )
    response = HttpResponse(bytes(answered.body), status=answered.status)
    for name, value in answered.headers:
        if name.lower() not in _NOT_COPIED:
            response[name] = value
    response["Cache-Control"] = "private, no-store"
    return response
