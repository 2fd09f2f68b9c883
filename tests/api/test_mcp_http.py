"""/mcp/ at the HTTP level: what is refused before the MCP SDK sees a message."""

from __future__ import annotations

import pytest

from apps.api.tokens import token_create
from tests.factories import MembershipFactory

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
MCP_ACCEPT = "application/json, text/event-stream"


@pytest.fixture
def token(db) -> str:
    membership = MembershipFactory()
    _, raw = token_create(
        user=membership.user, merchant_id=membership.merchant_id, name="Bot", scopes=["read"]
    )
    return raw


def post(client, token: str = "", path: str = "/mcp/", **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(path, LIST_TOOLS, content_type="application/json", HTTP_ACCEPT=MCP_ACCEPT, **headers)


def test_without_a_token_the_answer_is_401_with_a_bearer_challenge(client, db):
    response = post(client)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="Kitty Troubleshoot"'
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Send a token: Authorization: Bearer kt_…"


def test_a_malformed_token_is_401(client, db):
    response = post(client, "kt_not-a-token")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert response.json()["detail"] == "That is not a Kitty Troubleshoot token."


@pytest.mark.parametrize("path", ["/mcp/", "/mcp"])
def test_a_good_token_lists_the_tools_in_json(client, token, path):
    response = post(client, token, path)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "private, no-store"
    assert "diagnose_order" in {tool["name"] for tool in response.json()["result"]["tools"]}


def test_a_page_of_another_site_cannot_drive_the_server(client, token):
    response = post(client, token, HTTP_ORIGIN="http://evil.example")

    assert response.status_code == 403
    assert response.json()["detail"] == "The MCP server does not answer pages of other sites."


def test_the_site_itself_may_call_it(client, token):
    assert post(client, token, HTTP_ORIGIN="http://testserver").status_code == 200


@pytest.mark.parametrize("method", ["get", "delete"])
def test_there_is_no_stream_to_open_or_session_to_end(client, db, method):
    response = getattr(client, method)("/mcp/", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response["Content-Type"] == "application/problem+json"


def test_a_tool_that_fails_unexpectedly_says_only_that(client, token, monkeypatch):
    def broken(access):
        raise RuntimeError("connection to db-primary-7 refused")

    monkeypatch.setattr("apps.api.operations.plugins_list", broken)
    message = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_plugins"}}

    response = client.post(
        "/mcp/",
        message,
        content_type="application/json",
        HTTP_ACCEPT=MCP_ACCEPT,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    result = response.json()["result"]
    assert response.status_code == 200 and result["isError"]
    assert result["content"][0]["text"] == "Error executing tool list_plugins"
    assert "db-primary" not in response.content.decode()
