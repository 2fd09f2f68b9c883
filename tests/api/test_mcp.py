"""An AI agent's view of /mcp/: the SDK's own client against the running site, its checks on a real worker."""

from __future__ import annotations

import time
from io import StringIO

import anyio
import httpx2
import pytest
from django.core.management import call_command
from mcp import ClientSession
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from apps.api.models import ApiCall
from apps.api.tokens import token_create, token_revoke
from apps.commerce.demo import DEMO_MERCHANT, SECOND_DEMO_MERCHANT
from apps.commerce.models import Merchant, Plugin
from tests.conftest import wagtail_tree_ensure

TOOLS = {
    "search_help",
    "read_article",
    "list_plugins",
    "diagnose_order",
    "read_diagnosis",
    "apply_fix",
    "watch_order",
}


@pytest.fixture
def demo_site(live_server):
    """The demo account and article as ./dev demo leaves them, served by a live server; its /mcp/ URL."""
    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    return live_server.url + "/mcp/"


def token_for(merchant_name: str, *scopes: str) -> str:
    """A new token of the demo merchant user in ``merchant_name``'s account; its secret."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="merchant")
    merchant = Merchant.objects.get(name=merchant_name, preview_editor=None)
    _, raw = token_create(user=user, merchant_id=merchant.pk, name="Support bot", scopes=scopes)
    return raw


def agent(url: str, token: str, conversation, *, era: str = "legacy"):
    """Run ``conversation(session)`` as an MCP client of ``url`` with ``token``; what it returns.

    ``era``: "legacy" opens with the initialize handshake (ClientSession), "auto" lets the
    SDK's Client probe for the 2026 protocol, where each request stands alone.
    """

    async def run():
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60)) as http:
            transport = streamable_http_client(url, http_client=http)
            if era == "auto":
                async with Client(transport, mode="auto") as client:
                    return await conversation(client)
            async with transport as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return await conversation(session)

    return anyio.run(run)


def call(url, token, tool: str, era: str = "legacy", **arguments):
    return agent(url, token, lambda session: session.call_tool(tool, arguments), era=era)


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content)


def plugin_id(name_part: str) -> int:
    return Plugin.objects.get(
        merchant__name=DEMO_MERCHANT, merchant__preview_editor=None, name__contains=name_part
    ).pk


@pytest.mark.parametrize("era", ["legacy", "auto"])
def test_agent_diagnoses_order_1004_and_is_told_step_4_the_missing_sku(demo_site, celery_worker, era):
    token = token_for(DEMO_MERCHANT, "diagnose")

    async def conversation(session):
        tools = (await session.list_tools()).tools
        plugins = await session.call_tool("list_plugins", {})
        main = next(p for p in plugins.structured_content["plugins"] if "Main store" in p["name"])
        diagnosis = await session.call_tool(
            "diagnose_order", {"plugin_id": main["id"], "order_number": "1004"}
        )
        return tools, diagnosis

    tools, diagnosis = agent(demo_site, token, conversation, era=era)

    assert {tool.name for tool in tools} == TOOLS
    assert all(len(tool.description) > 60 for tool in tools if tool.name in TOOLS)
    assert not diagnosis.is_error, text_of(diagnosis)
    d = diagnosis.structured_content
    assert d["done"] and d["summary"]["cause_step"] == 4
    cause = next(step for step in d["steps"] if step["step"] == 4)
    assert cause["status"] == "failed"
    assert cause["url"] == f"{demo_site.removesuffix('/mcp/')}/help/order-did-not-import/#step-4"
    words = text_of(diagnosis)
    assert "Step 4" in words and "MUG-RED-404" in words and cause["url"] in words
    # Audited like the page's runs, with the token that asked.
    assert ApiCall.objects.filter(door="mcp", action="diagnosis.start", token__name="Support bot").exists()


def test_checks_run_inline_without_a_broker(demo_site):
    """The zero-setup demo (./dev demo): no worker, the checks run inside the request."""
    token = token_for(DEMO_MERCHANT, "diagnose")

    result = call(demo_site, token, "diagnose_order", plugin_id=plugin_id("Main store"), order_number="1004")

    assert not result.is_error, text_of(result)
    assert result.structured_content["summary"]["cause_step"] == 4
    assert "MUG-RED-404" in text_of(result)


def test_a_diagnosis_not_done_in_time_says_so_and_gives_its_id(demo_site, monkeypatch):
    """The checks are queued but no worker takes them, and the agent's wait is over at once."""
    monkeypatch.setattr("apps.api.mcp.tools.DIAGNOSE_WAIT_SECONDS", 0)
    monkeypatch.setattr(
        "apps.checks.tasks.run_checks.apply_async", lambda *a, **k: type("R", (), {"id": "t"})()
    )
    token = token_for(DEMO_MERCHANT, "diagnose")

    started = time.monotonic()
    result = call(demo_site, token, "diagnose_order", plugin_id=plugin_id("Main store"), order_number="1004")

    assert time.monotonic() - started < 10
    assert not result.is_error, text_of(result)
    d = result.structured_content
    assert not d["done"] and d["summary"]["cause_step"] is None
    assert "Not finished yet" in text_of(result)
    assert "call read_diagnosis with this id" in text_of(result) and d["id"] in text_of(result)


def outlet_diagnosis(url: str, token: str) -> dict:
    """Order 2001, whose cause is Step 1 (Import Orders is off on the Outlet plugin), with its fix on offer."""
    result = call(url, token, "diagnose_order", plugin_id=plugin_id("Outlet"), order_number="2001")
    assert not result.is_error, text_of(result)
    d = result.structured_content
    assert d["summary"]["cause_step"] == 1
    return d


def step_one_fix(d: dict) -> str:
    return next(step for step in d["steps"] if step["step"] == 1)["fixes"][0]["key"]


def test_a_token_without_the_fix_scope_cannot_apply_a_fix(demo_site, celery_worker):
    token = token_for(DEMO_MERCHANT, "diagnose")
    d = outlet_diagnosis(demo_site, token)

    result = call(
        demo_site, token, "apply_fix", diagnosis_id=d["id"], step=1, fix=step_one_fix(d), confirm=True
    )

    assert result.is_error
    assert "“fix” scope" in text_of(result)
    assert not Plugin.objects.get(pk=plugin_id("Outlet")).import_orders
    assert not ApiCall.objects.filter(action="fix.apply").exists()


def test_apply_fix_changes_nothing_until_confirmed_then_says_what_changed(demo_site, celery_worker):
    token = token_for(DEMO_MERCHANT, "diagnose", "fix")
    d = outlet_diagnosis(demo_site, token)
    fix = step_one_fix(d)

    unconfirmed = call(demo_site, token, "apply_fix", diagnosis_id=d["id"], step=1, fix=fix)

    assert unconfirmed.is_error
    assert "Nothing was changed" in text_of(unconfirmed) and "confirm=true" in text_of(unconfirmed)
    assert not Plugin.objects.get(pk=plugin_id("Outlet")).import_orders

    confirmed = call(demo_site, token, "apply_fix", diagnosis_id=d["id"], step=1, fix=fix, confirm=True)

    assert not confirmed.is_error, text_of(confirmed)
    assert text_of(confirmed).startswith("Applied: ")
    assert Plugin.objects.get(pk=plugin_id("Outlet")).import_orders
    step_one = next(step for step in confirmed.structured_content["steps"] if step["step"] == 1)
    assert step_one["status"] == "passed"
    assert ApiCall.objects.filter(door="mcp", action="fix.apply").count() == 1


def test_another_accounts_diagnosis_is_not_found(demo_site, celery_worker):
    """Even the same person's token, made in their other account, finds nothing of this one."""
    d = outlet_diagnosis(demo_site, token_for(DEMO_MERCHANT, "diagnose", "fix"))
    elsewhere = token_for(SECOND_DEMO_MERCHANT, "diagnose", "fix")

    for tool, arguments in [
        ("read_diagnosis", {"diagnosis_id": d["id"]}),
        ("apply_fix", {"diagnosis_id": d["id"], "step": 1, "fix": step_one_fix(d), "confirm": True}),
        ("watch_order", {"diagnosis_id": d["id"]}),
        ("diagnose_order", {"plugin_id": plugin_id("Outlet"), "order_number": "2001"}),
    ]:
        result = call(demo_site, elsewhere, tool, **arguments)
        assert result.is_error, tool
        assert "no such" in text_of(result), text_of(result)
        assert "Outlet" not in text_of(result) and "2001" not in text_of(result)
    assert not Plugin.objects.get(pk=plugin_id("Outlet")).import_orders


def test_a_revoked_token_is_refused_before_any_tool(demo_site):
    from apps.api.models import ApiToken

    token = token_for(DEMO_MERCHANT, "diagnose")
    token_revoke(token=ApiToken.objects.get())
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}

    response = httpx2.post(demo_site, json=initialize, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "That token has been revoked."


def test_every_tool_with_another_accounts_token_shows_nothing_of_this_account(demo_site, celery_worker):
    """Each tool the server lists, called with the other account's token and this account's ids.

    A tool added later without a line here fails the test: none is left unopened.
    """
    d = outlet_diagnosis(demo_site, token_for(DEMO_MERCHANT, "diagnose", "fix"))
    elsewhere = token_for(SECOND_DEMO_MERCHANT, "diagnose", "fix")
    mine = set(
        Plugin.objects.filter(merchant__name=DEMO_MERCHANT, merchant__preview_editor=None).values_list(
            "name", flat=True
        )
    )
    calls = {
        "search_help": {"query": "authorization"},
        "read_article": {"article": "order-did-not-import"},
        "list_plugins": {},
        "diagnose_order": {"plugin_id": plugin_id("Outlet"), "order_number": "2001"},
        "read_diagnosis": {"diagnosis_id": d["id"]},
        "apply_fix": {"diagnosis_id": d["id"], "step": 1, "fix": step_one_fix(d), "confirm": True},
        "watch_order": {"diagnosis_id": d["id"]},
    }
    listed = agent(demo_site, elsewhere, lambda session: session.list_tools())
    assert {tool.name for tool in listed.tools} == set(calls)

    for tool, arguments in calls.items():
        result = call(demo_site, elsewhere, tool, **arguments)
        said = text_of(result) + str(result.structured_content or "")
        assert d["id"] not in said, tool
        assert "2001" not in said, tool
        assert not any(name in said for name in mine), (tool, said[:300])
    assert not Plugin.objects.get(pk=plugin_id("Outlet")).import_orders
    assert not ApiCall.objects.filter(
        token__merchant_id__in=Merchant.objects.filter(name=SECOND_DEMO_MERCHANT).values("pk")
    ).exists()
