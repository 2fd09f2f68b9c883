"""The JSON API, version 1 (``/api/v1/``): django-ninja routes over ``operations``, each a few lines.

django-ninja derives the OpenAPI 3 schema (``/api/v1/openapi.json``, with
interactive docs at ``/api/v1/docs``) from the typed code itself, so the schema
cannot drift from what the code does; it is Django all the way down (the same
middleware, ORM and settings), and it is well kept. Every refusal is an RFC
9457 problem document, declared in the schema beside each operation's answers.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Router, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from kitty_troubleshoot.params import BodyRefused, json_body
from kitty_troubleshoot.said import said

from . import operations as op
from . import schemas as s
from .problems import (
    PROBLEM_CONTENT_TYPE,
    Invalid,
    NotFound,
    Problem,
    Unauthorized,
    detail_of,
    problem_response,
)
from .tokens import TokenAccess, TokenRefused, token_authenticate

DOOR = "api"


class TokenAuth(HttpBearer):
    """``Authorization: Bearer kt_…``: a personal access token made on the account's API tokens page."""

    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization", "")
        if not header:
            raise Unauthorized(said("Send a token: Authorization: Bearer kt_…"))
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized(said("Send the token as Authorization: Bearer kt_…"))
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> TokenAccess:
        try:
            return token_authenticate(token)
        except TokenRefused as exc:
            raise Unauthorized(detail_of(exc), token_refused=True) from None


class LimitedJsonParser(Parser):
    """Request bodies through the one JSON reader: a size and a depth limit, said in words."""

    def parse_body(self, request: HttpRequest):
        try:
            return json_body(request.body)
        except BodyRefused as exc:
            raise Invalid(detail_of(exc)) from None


class KittyApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        # A refusal is a problem document (RFC 9457), and is declared as one.
        for path in schema["paths"].values():
            for operation in path.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        answer["content"] = {PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


api = KittyApi(
    title="Kitty Troubleshoot API",
    version="1",
    description=(
        "Run the help center's checks on your own Commerce Kitty account: the same diagnosis, "
        "verdicts and fixes as the articles' “Check this now”. Authenticate with a personal "
        "access token (Account → API tokens): `Authorization: Bearer kt_…`. Scopes: every token "
        "reads; `diagnose` starts checks and watches; `fix` applies fixes. Refusals are RFC 9457 "
        "problem documents."
    ),
    auth=TokenAuth(),
    parser=LimitedJsonParser(),
    urls_namespace="api-v1",
)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return problem_response(exc)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    # The schema's own words (pydantic's) are English in every language; the sentence around them is not.
    message = str(first.get("msg") or "")
    if where and message:
        detail = said(
            "The request does not match the API's schema at %(where)s: %(message)s",
            where=where,
            message=message,
        )
    elif message:
        detail = said("The request does not match the API's schema: %(message)s", message=message)
    else:
        detail = said("The request does not match the API's schema.")
    return problem_response(Invalid(detail, field=where[:64]))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(Unauthorized(said("Send a token: Authorization: Bearer kt_…")))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(NotFound(said("There is nothing at this address in the API.")))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, Problem):  # a body our parser refused, in its own words
        return problem_response(exc.__cause__)
    problem = Problem(detail_of(exc))
    problem.status = exc.status_code
    return problem_response(problem)


READ_ERRORS = {401: s.ProblemOut, 404: s.ProblemOut, 422: s.ProblemOut}
WRITE_ERRORS = {**READ_ERRORS, 403: s.ProblemOut, 409: s.ProblemOut, 429: s.ProblemOut, 503: s.ProblemOut}


ID = "$response.body#/id"
FIRST = "$response.body#/0"


def _to(operation: str, *, body: dict | None = None, **parameters: str) -> dict:
    """An OpenAPI link to ``operation``, its parameters (and body fields) taken from the answer."""
    link: dict = {"operationId": operation}
    if parameters:
        link["parameters"] = parameters
    if body:
        link["requestBody"] = body
    return link


def _links(**by_status: dict[str, dict]) -> dict:
    """The links of each 2xx answer (``s202=...``): what a client (and Schemathesis) can do next with it."""
    return {"responses": {int(status[1:]): {"links": links} for status, links in by_status.items()}}


# What a diagnosis' answer leads to: read it (until done), check a step again, apply a fix, watch its order.
DIAGNOSIS_NEXT = {
    "read": _to("diagnosis_read", diagnosis_id=ID),
    "check_again": _to("check_again", diagnosis_id=ID),
    "apply_fix": _to("fix_apply", diagnosis_id=ID),
    "watch": _to("watch_create", body={"diagnosis": ID}),
}
WATCH_NEXT = {"read": _to("watch_read", watch_id=ID), "cancel": _to("watch_cancel", watch_id=ID)}


class ArticlesQuery(s.Schema):
    language: Literal["en", "de", "fr"] = s.Field("en", description="The articles' language.")


articles = Router(tags=["Articles"])


@articles.get(
    "/articles",
    response={200: list[s.ArticleListOut], **READ_ERRORS},
    operation_id="articles_list",
    summary="List the articles",
    openapi_extra=_links(s200={"first": _to("article_read", ref=f"{FIRST}/slug")}),
)
def articles_list(request, query: Query[ArticlesQuery]):
    """Every published troubleshooting article in one language (English unless asked)."""
    return op.articles_list(language=query.language, base_url=_base(request))


@articles.get(
    "/articles/{ref}",
    response={200: s.ArticleOut, **READ_ERRORS},
    operation_id="article_read",
    summary="Read an article",
)
def article_read(request, ref: str):
    """One article by slug or id: its steps, which carry checks, and the inputs a diagnosis of it takes."""
    return op.article_read(ref[:255], base_url=_base(request))


class SearchQuery(s.Schema):
    q: str = s.Field(max_length=200, pattern=s.PLAIN, description="What the merchant is looking for.")
    limit: int = s.Field(10, ge=1, le=50)


@articles.get(
    "/search",
    response={200: list[s.SearchHitOut], **READ_ERRORS},
    operation_id="help_search",
    summary="Search the help center",
    openapi_extra=_links(s200={"best": _to("article_read", ref=f"{FIRST}/article/slug")}),
)
def help_search(request, query: Query[SearchQuery]):
    """The help center's search: the best matching articles, each pointing at its best step."""
    return op.help_search(query.q, query.limit, base_url=_base(request))


account = Router(tags=["Account"])


@account.get(
    "/plugins",
    response={200: list[s.PluginOut], **READ_ERRORS},
    operation_id="plugins_list",
    summary="List your plugins",
    openapi_extra=_links(s200={"diagnose": _to("diagnosis_start", body={"plugin_id": f"{FIRST}/id"})}),
)
def plugins_list(request):
    """The token's account's plugins: the `plugin_id` a diagnosis is run on."""
    return op.plugins_list(request.auth)


class NotificationsQuery(s.Schema):
    unread: bool = s.Field(False, description="Only what the bell counts: unread and still standing.")


@account.get(
    "/notifications",
    response={200: list[s.NotificationOut], **READ_ERRORS},
    operation_id="notifications_list",
    summary="List notifications",
)
def notifications_list(request, query: Query[NotificationsQuery]):
    """The account's notifications, as its inbox lists them, each with the article step that explains it."""
    return op.notifications_list(request.auth, unread_only=query.unread, base_url=_base(request))


diagnoses = Router(tags=["Diagnoses"])


@diagnoses.post(
    "/diagnoses",
    response={202: s.DiagnosisOut, **WRITE_ERRORS},
    operation_id="diagnosis_start",
    summary="Start a diagnosis",
    openapi_extra=_links(s202=DIAGNOSIS_NEXT),
)
def diagnosis_start(request, body: s.DiagnosisIn, response: HttpResponse):
    """Check every step of an article (or one `step`) for an order on one of your plugins. Needs `diagnose`.

    Answers at once with the checks running; read the diagnosis until `done`.
    """
    answer = op.diagnosis_start(
        request.auth,
        door=DOOR,
        article=body.article,
        plugin_id=body.plugin_id,
        inputs=body.inputs,
        step=body.step,
        base_url=_base(request),
    )
    response["Location"] = f"/api/v1/diagnoses/{answer.id}"
    return Status(202, answer)


@diagnoses.get(
    "/diagnoses",
    response={200: list[s.DiagnosisListOut], **READ_ERRORS},
    operation_id="diagnoses_list",
    summary="List recent diagnoses",
    openapi_extra=_links(s200={"latest": _to("diagnosis_read", diagnosis_id=f"{FIRST}/id")}),
)
def diagnoses_list(request):
    """The account's recent diagnoses, newest first (the page's and the API's alike)."""
    return op.diagnoses_list(request.auth, base_url=_base(request))


class WaitQuery(s.Schema):
    wait: float = s.Field(
        0, ge=0, le=20, description="Seconds to wait for every check to end before answering (at most 20)."
    )


@diagnoses.get(
    "/diagnoses/{diagnosis_id}",
    response={200: s.DiagnosisOut, **READ_ERRORS},
    operation_id="diagnosis_read",
    summary="Read a diagnosis",
    openapi_extra=_links(s200=DIAGNOSIS_NEXT),
)
def diagnosis_read(request, diagnosis_id: UUID, query: Query[WaitQuery]):
    """A diagnosis as the article shows it: each step's status, verdict, evidence and fixes, and the summary."""
    if query.wait:
        return op.diagnosis_wait(request.auth, diagnosis_id, seconds=query.wait, base_url=_base(request))
    return op.diagnosis_read(request.auth, diagnosis_id, base_url=_base(request))


@diagnoses.post(
    "/diagnoses/{diagnosis_id}/checks",
    response={202: s.DiagnosisOut, **WRITE_ERRORS},
    operation_id="check_again",
    summary="Check one step again",
    openapi_extra=_links(s202=DIAGNOSIS_NEXT),
)
def check_again(request, diagnosis_id: UUID, body: s.CheckIn):
    """Check one step of a diagnosis again, with its inputs. Needs `diagnose`."""
    return Status(
        202,
        op.check_again(
            request.auth, door=DOOR, diagnosis_uuid=diagnosis_id, step=body.step, base_url=_base(request)
        ),
    )


@diagnoses.post(
    "/diagnoses/{diagnosis_id}/fixes",
    response={202: s.DiagnosisOut, **WRITE_ERRORS},
    operation_id="fix_apply",
    summary="Apply a fix",
    openapi_extra=_links(s202=DIAGNOSIS_NEXT),
)
def fix_apply(request, diagnosis_id: UUID, body: s.FixIn):
    """Apply a fix a step's result offers (`fixes[].kind == "apply"`); every step shown is checked again. Needs `fix`."""
    return Status(
        202,
        op.fix_apply(
            request.auth,
            door=DOOR,
            diagnosis_uuid=diagnosis_id,
            step=body.step,
            fix=body.fix,
            choice=body.choice,
            base_url=_base(request),
        ),
    )


watches = Router(tags=["Watches"])


@watches.post(
    "/watches",
    response={200: s.WatchOut, 201: s.WatchOut, **WRITE_ERRORS},
    operation_id="watch_create",
    summary="Watch a missing order",
    openapi_extra=_links(s200=WATCH_NEXT, s201=WATCH_NEXT),
)
def watch_create(request, body: s.WatchIn, response: HttpResponse):
    """Tell me when it arrives: watch a diagnosed missing order. 200 when the account already watches it."""
    watch, created = op.watch_create(request.auth, door=DOOR, diagnosis_uuid=body.diagnosis)
    response["Location"] = f"/api/v1/watches/{watch.id}"
    return Status(201 if created else 200, watch)


@watches.get(
    "/watches",
    response={200: list[s.WatchOut], **READ_ERRORS},
    operation_id="watches_list",
    summary="List watches",
    openapi_extra=_links(s200={"latest": _to("watch_read", watch_id=f"{FIRST}/id")}),
)
def watches_list(request):
    """The account's watches, newest first."""
    return op.watches_list(request.auth)


@watches.get(
    "/watches/{watch_id}",
    response={200: s.WatchOut, **READ_ERRORS},
    operation_id="watch_read",
    summary="Read a watch",
    openapi_extra=_links(s200={"cancel": _to("watch_cancel", watch_id=ID)}),
)
def watch_read(request, watch_id: UUID):
    return op._watch_out(op.watch_read(request.auth, watch_id))


@watches.delete(
    "/watches/{watch_id}",
    response={200: s.WatchOut, **WRITE_ERRORS},
    operation_id="watch_cancel",
    summary="Stop watching",
)
def watch_cancel(request, watch_id: UUID):
    """Stop watching. Needs `diagnose`."""
    return op.watch_cancel(request.auth, door=DOOR, watch_uuid=watch_id)


api.add_router("", articles)
api.add_router("", account)
api.add_router("", diagnoses)
api.add_router("", watches)
