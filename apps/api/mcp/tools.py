"""The MCP server's tools: what an AI support agent may ask of the help center, for one account.

Each tool is a thin door onto ``apps.api.operations``, the same operations the
JSON API calls: the same scoping to the token's account, the same limits, the
same run rows for the audit and the same answer objects (``apps.api.schemas``).
A tool answers with that object as structured content and a short text made of
the object's own sentences (a language model reads the text; a program, the
structure). A refusal (``Problem``) is a tool error carrying the problem's
detail; anything unexpected is a tool error saying only that the tool failed.

The tools are listed to every token: the list is the server's description, the
same for everyone, and each operation refuses what a token's scopes do not
allow, saying which scope is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from django.utils import translation
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from apps.api import operations
from apps.api.problems import Problem
from apps.api.schemas import ID_MAX
from apps.api.tokens import TokenAccess
from kitty_troubleshoot.said import said

from .bridge import SCOPE_KEY, RequestThread

# How long diagnose_order waits for the checks, in seconds: below gunicorn's worker timeout
# (30 s by default; a sync worker still busy then is killed), with room for starting them.
DIAGNOSE_WAIT_SECONDS = 20
DOOR = "mcp"
DEFAULT_ARTICLE = "order-did-not-import"

# The server's instructions and its tools' titles and descriptions stay English: they are read by
# the language model the agent runs on (which reads English best and answers the merchant in theirs),
# never shown to a merchant as they are, and an MCP client fetches them once, with no language asked.
# What a tool answers or refuses is a message, in the caller's language (Accept-Language).
INSTRUCTIONS = """\
Kitty Troubleshoot is Commerce Kitty's help center. Its troubleshooting articles have numbered \
steps, and most steps carry a check that looks at the merchant's own account and says passed, \
failed or couldn't check, with evidence and sometimes a fix. This server acts for one merchant \
account: the one the token was made in.

When a merchant says an order did not import: call list_plugins to find the plugin the order \
came through, then diagnose_order with its id and the order number. Quote the answer's cause \
and link rather than guessing. Apply a fix only after the merchant agreed to it, with \
apply_fix and confirm set to true. Use search_help and read_article for questions the checks \
do not answer."""

server = MCPServer(
    name="kitty-troubleshoot",
    title="Kitty Troubleshoot",
    instructions=INSTRUCTIONS,
    # Each request is answered on its own (stateless): nobody could listen for events.
    subscriptions=False,
)


@dataclass(frozen=True)
class McpCall:
    """One authenticated MCP request, as its tools see it (the view puts it in the ASGI scope)."""

    access: TokenAccess
    thread: RequestThread  # where the tools' database work runs: the request's own Django thread
    # The site as the caller reached it ("https://help.example.com"): the answers' links are absolute,
    # an agent having no page to resolve them against.
    base_url: str
    # The caller's language (Accept-Language, apps.api.middleware): a refusal's words are read in it on
    # the event loop's thread, where the request's active language is not.
    language: str = "en"


READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def start_app():
    """(the session manager's lifespan, its ASGI app): stateless, answering in JSON; see bridge.py.

    The SDK's own Host and Origin checks are off: Django has already refused a
    Host outside ALLOWED_HOSTS and the view an Origin other than the site's own.
    """
    server.streamable_http_app(
        json_response=True,
        stateless_http=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        max_request_body_size=256 * 1024,
    )
    manager = server.session_manager
    return manager.run(), manager.handle_request


# --- answering -----------------------------------------------------------------


def _call(ctx: Context) -> McpCall:
    """The request's authenticated call, put in the ASGI scope by the view."""
    return ctx.request_context.request.scope[SCOPE_KEY]


async def _answer(ctx: Context, work: Callable[[McpCall], tuple[str, Any]]) -> CallToolResult:
    """Run ``work`` (database work) on the request's Django thread; its (text, data) as the tool's answer."""
    call = _call(ctx)
    try:
        text, data = await call.thread.run(work, call)
    except Problem as problem:
        with translation.override(call.language):
            return CallToolResult(
                content=[TextContent(type="text", text=str(problem.detail))],
                structured_content=problem.as_dict(),
                is_error=True,
            )
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _refusal(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _dump(model) -> dict:
    return model.model_dump(mode="json")


def _waited(call: McpCall, diagnosis):
    """The diagnosis once its checks have ended, or as it stands after DIAGNOSE_WAIT_SECONDS.

    The wait holds the web thread serving it: the front sends /mcp to a web
    process of its own (docker-compose.yml's web-api), so a waiting agent never
    holds a thread that serves a merchant's page.
    """
    if diagnosis.done:
        return diagnosis
    return operations.diagnosis_wait(
        call.access, diagnosis.id, seconds=DIAGNOSE_WAIT_SECONDS, base_url=call.base_url
    )


def _lines(*parts) -> str:
    return "\n".join(str(p) for p in parts if p not in (None, ""))


# --- texts: the answer objects' own sentences, laid out for a reader -------------


def diagnosis_text(d: dict) -> str:
    """A diagnosis as an agent reads it: the summary, the cause's step with its evidence and fixes."""
    summary = d["summary"]
    out = [f"Diagnosis {d['id']} of {d['about'] or 'the inputs given'} ({d['plugin']['name']})."]
    if not d["done"]:
        out.append(
            f"Not finished yet ({summary['finished']} of {summary['total']} checks done): "
            "call read_diagnosis with this id in a little while."
        )
    lines = summary["lines"]
    if not any(line["text"] == summary["headline"] for line in lines):
        out.append(summary["headline"])
    out.extend(line["text"] + (f" ({line['url']})" if line.get("url") else "") for line in lines)
    results = [r for r in [d.get("before_step_one"), *d["steps"]] if r]
    cause = next((r for r in results if r["step"] is not None and r["step"] == summary["cause_step"]), None)
    for result in results:
        if result["status"] in ("failed", "unknown") or result is cause:
            out.append(step_text(result))
    return _lines(*out)


def step_text(r: dict) -> str:
    name = f"Step {r['step']}: {r['title']}" if r["step"] is not None else r["title"]
    out = [f"{name} — {r['status_label']}. {r['verdict']}", f"  Link: {r['url']}"]
    out.extend(f"  Evidence: {e}" for e in r["evidence"])
    for fix in r["fixes"]:
        how = (
            f"apply_fix with fix={fix['key']!r}" + (f", step={r['step']}" if r["step"] is not None else "")
            if fix["kind"] == "apply"
            else f"a person opens {fix['url']}"
        )
        choices = ", ".join(f"{c['value']!r} ({c['label']})" for c in fix["choices"])
        out.append(
            f"  Fix on offer: {fix['label']} — {fix['description']} ({how}"
            + (f"; choice one of {choices}" if choices else "")
            + (
                f"; cannot be applied now: {fix['why_not']}"
                if not fix["can_apply"] and fix["why_not"]
                else ""
            )
            + ")"
        )
    return _lines(*out)


# --- tools -----------------------------------------------------------------------


@server.tool(title="Search the help center", annotations=READS)
async def search_help(
    query: Annotated[
        str,
        Field(min_length=1, max_length=200, description="Words to look for, as a merchant would say them."),
    ],
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=20, description="How many results at most.")] = 5,
) -> CallToolResult:
    """Search the help center's articles and their steps. Use it to find which article covers a
    merchant's problem, or a step's instructions, before quoting anything."""

    def work(call: McpCall):
        hits = [_dump(hit) for hit in operations.help_search(query, limit=limit, base_url=call.base_url)]
        if not hits:
            return f"Nothing in the help center matches {query!r}.", {"results": []}
        text = _lines(
            *(
                f"{h['article']['title']}"
                + (f", Step {h['step']}" if h["step"] else "")
                + f" — {h['url']}\n  {h['snippet']}"
                for h in hits
            )
        )
        return text, {"results": hits}

    return await _answer(ctx, work)


@server.tool(title="Read an article", annotations=READS)
async def read_article(
    article: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            description="The article's slug (e.g. 'order-did-not-import') or id, from search_help.",
        ),
    ],
    ctx: Context,
) -> CallToolResult:
    """Read one troubleshooting article: its numbered steps, which steps carry a check, and the
    inputs its checks need (for diagnose_order)."""

    def work(call: McpCall):
        a = _dump(operations.article_read(article, base_url=call.base_url))
        inputs = ", ".join(
            f"{i['name']} ({i['label']}{', optional' if i['optional'] else ''})"
            for i in a["check_set"]["inputs"]
        )
        text = _lines(
            f"{a['title']} — {a['url']}",
            a["summary"],
            f"Checks need: {a['check_set']['subject']} (plugin_id)" + (f", {inputs}" if inputs else ""),
            *(
                f"Step {s['number']}: {s['title']}"
                + (f" [check: {s['check']['title']}]" if s["check"] else "")
                + f" — {s['url']}\n  {s['text']}"
                for s in a["steps"]
            ),
        )
        return text, a

    return await _answer(ctx, work)


@server.tool(title="List the account's plugins", annotations=READS)
async def list_plugins(ctx: Context) -> CallToolResult:
    """List the plugins (connections to source platforms such as Shopify or the demo marketplace)
    of the merchant account this token acts for. diagnose_order needs one of their ids."""

    def work(call: McpCall):
        plugins = [_dump(p) for p in operations.plugins_list(call.access)]
        if not plugins:
            return "This account has no plugins.", {"plugins": []}
        text = _lines(
            *(
                f"{p['id']}: {p['name']} ({p['platform_name']}); Import Orders "
                f"{'on' if p['import_orders'] else 'off'}; authorization {p['authorization']}"
                for p in plugins
            )
        )
        return text, {"plugins": plugins}

    return await _answer(ctx, work)


@server.tool(
    title="Diagnose an order",
    description=(
        "Check every step of a troubleshooting article on the merchant's own account for one order, "
        'as the article\'s "Check every step" button does, and wait up to '
        f"{DIAGNOSE_WAIT_SECONDS} seconds for the result. Answers the verdict, the step that is the "
        "cause with its link, the evidence, and the fixes on offer. If the checks are not done in "
        "time, it says so and gives the diagnosis id to read later with read_diagnosis. Needs the "
        "token's diagnose scope."
    ),
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True),
)
async def diagnose_order(
    plugin_id: Annotated[
        int, Field(ge=1, le=ID_MAX, description="The plugin the order came through, from list_plugins.")
    ],
    order_number: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            description="The order number as the source platform shows it, e.g. '1004'.",
        ),
    ],
    ctx: Context,
    placed_date: Annotated[
        str, Field(max_length=10, description="The date the order was placed, YYYY-MM-DD, if known.")
    ] = "",
    article: Annotated[
        str,
        Field(
            min_length=1,
            max_length=255,
            description="Whose checks to run: the article's slug or id. 'order-did-not-import' for an order that never arrived.",
        ),
    ] = DEFAULT_ARTICLE,
) -> CallToolResult:
    """Start "Check every step" for one order and wait for its verdict (description above)."""

    def work(call: McpCall):
        inputs = {"order_number": order_number}
        if placed_date:
            inputs["placed_date"] = placed_date
        started = operations.diagnosis_start(
            call.access,
            door=DOOR,
            article=article,
            plugin_id=plugin_id,
            inputs=inputs,
            base_url=call.base_url,
        )
        d = _dump(_waited(call, started))
        return diagnosis_text(d), d

    return await _answer(ctx, work)


@server.tool(title="Read a diagnosis", annotations=READS)
async def read_diagnosis(
    diagnosis_id: Annotated[
        str, Field(min_length=1, max_length=64, description="The id diagnose_order answered with.")
    ],
    ctx: Context,
) -> CallToolResult:
    """Read a diagnosis started earlier (by diagnose_order, the JSON API or the merchant on the
    page): each step's result, the cause, the evidence and the fixes on offer."""

    def work(call: McpCall):
        d = _dump(operations.diagnosis_read(call.access, diagnosis_id, base_url=call.base_url))
        return diagnosis_text(d), d

    return await _answer(ctx, work)


@server.tool(
    title="Apply a fix",
    annotations=ToolAnnotations(
        read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
    ),
)
async def apply_fix(
    diagnosis_id: Annotated[
        str, Field(min_length=1, max_length=64, description="The diagnosis whose result offered the fix.")
    ],
    fix: Annotated[
        str, Field(min_length=1, max_length=64, description="The fix's key, as the diagnosis lists it.")
    ],
    ctx: Context,
    step: Annotated[
        int | None,
        Field(
            ge=1,
            le=999,
            description="The step whose result offered the fix; leave out for the check before Step 1.",
        ),
    ] = None,
    choice: Annotated[
        str, Field(max_length=200, description="For a fix with choices: the value chosen.")
    ] = "",
    confirm: Annotated[
        bool, Field(description="Set to true only after the merchant agreed to this change to their account.")
    ] = False,
) -> CallToolResult:
    """Apply a fix a diagnosis offers (e.g. turn Import Orders on), changing the merchant's
    account, then check that step again. Only with the merchant's agreement: without
    confirm=true nothing is changed. Needs the token's fix scope."""
    if not confirm:
        with translation.override(_call(ctx).language):
            return _refusal(
                str(
                    said(
                        "Nothing was changed. A fix changes the merchant's account: tell them what it does, "
                        "and call apply_fix again with confirm=true once they agree."
                    )
                )
            )

    def work(call: McpCall):
        applied = operations.fix_apply(
            call.access,
            door=DOOR,
            diagnosis_uuid=diagnosis_id,
            step=step,
            fix=fix,
            choice=choice,
            base_url=call.base_url,
        )
        # The fix is applied by the check that runs again, on a worker: what it changed is known then.
        d = _dump(_waited(call, applied))
        results = [r for r in [d.get("before_step_one"), *d["steps"]] if r and r["step"] == step]
        done = [f["result"] for r in results for f in r["fixes_applied"] if f["key"] == fix]
        changed = (
            f"Applied: {done[-1]}" if done else "The fix has been asked for; the step is being checked again."
        )
        return _lines(changed, diagnosis_text(d)), d

    return await _answer(ctx, work)


@server.tool(
    title="Watch an order",
    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False),
)
async def watch_order(
    diagnosis_id: Annotated[
        str, Field(min_length=1, max_length=64, description="A finished diagnosis of the missing order.")
    ],
    ctx: Context,
) -> CallToolResult:
    """Watch a missing order after a diagnosis: the merchant is told (on the site and by e-mail)
    when it arrives, or when it still has not by the deadline. Needs the token's diagnose scope."""

    def work(call: McpCall):
        watch, _ = operations.watch_create(call.access, door=DOOR, diagnosis_uuid=diagnosis_id)
        w = _dump(watch)
        return _lines(f"Watch {w['id']}: {w['state_label']}.", w["result"], f"Until {w['deadline']}."), w

    return await _answer(ctx, work)
