"""The one token client trading an authorization code, against each platform's documented answers and errors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from apps.platforms.base import NotAuthorized, PlatformUnavailable, RateLimited
from tests.platforms.token_endpoints import CODE, ENDPOINTS, KEYS, REFRESHING, VERIFIER

every_platform = pytest.mark.parametrize("name", list(ENDPOINTS))
with_refresh_tokens = pytest.mark.parametrize("name", REFRESHING)


def exchange(httpserver, make_connection, name: str, **connection):
    platform = ENDPOINTS[name]
    return platform.provider.exchange_code(
        CODE,
        keys=KEYS,
        connection=make_connection({}, **connection),
        token_url=httpserver.url_for(platform.path),
        redirect_uri=platform.redirect_uri,
        extra=platform.extra,
    )


def expect_token_request(httpserver, name: str):
    return httpserver.expect_request(ENDPOINTS[name].path, method="POST")


# --- What is sent and what is kept ------------------------------------------------------


@every_platform
def test_the_code_is_traded_as_the_platforms_docs_ask(httpserver, make_connection, name):
    platform = ENDPOINTS[name]
    expect_token_request(httpserver, name).respond_with_json(platform.code_answer)

    kept = exchange(httpserver, make_connection, name).credentials()

    request = httpserver.log[0][0]
    if platform.provider.encoding == "json":
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.get_data()) == platform.code_sent
    else:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert parse_qs(request.get_data(as_text=True)) == platform.code_sent
    basic = "Basic " + base64.b64encode(f"{KEYS.client_id}:{KEYS.client_secret}".encode()).decode()
    assert (request.headers.get("Authorization") == basic) is platform.basic_auth
    assert kept["access_token"] == platform.code_answer["access_token"]
    assert kept.get("refresh_token", "") == platform.code_answer.get("refresh_token", "")
    if platform.lifetime is None:
        assert "access_token_expires_at" not in kept  # nothing to renew, ever
    else:
        expires_at = datetime.fromisoformat(kept["access_token_expires_at"])
        assert abs(expires_at - (datetime.now(UTC) + platform.lifetime)) < timedelta(seconds=5)


@with_refresh_tokens
def test_an_answer_without_expires_in_lasts_as_long_as_the_docs_say(httpserver, make_connection, name):
    platform = ENDPOINTS[name]
    answer = {key: value for key, value in platform.code_answer.items() if key != "expires_in"}
    expect_token_request(httpserver, name).respond_with_json(answer)

    tokens = exchange(httpserver, make_connection, name)

    assert abs(tokens.expires_at - (datetime.now(UTC) + platform.lifetime)) < timedelta(seconds=5)


@with_refresh_tokens
def test_a_platform_that_renews_tokens_must_send_a_refresh_token(httpserver, make_connection, name):
    platform = ENDPOINTS[name]
    answer = {key: value for key, value in platform.code_answer.items() if key != "refresh_token"}
    expect_token_request(httpserver, name).respond_with_json(answer)

    with pytest.raises(NotAuthorized, match="did not return a refresh token. Start Reauthorize again"):
        exchange(httpserver, make_connection, name)


# --- How each refusal and failure reads ------------------------------------------------------


@every_platform
def test_a_code_the_platform_refuses_is_not_authorized_in_its_own_words(
    httpserver, make_connection, name, caplog
):
    caplog.set_level("DEBUG")
    status, body = ENDPOINTS[name].refusal
    expect_token_request(httpserver, name).respond_with_json(body, status=status)

    with pytest.raises(NotAuthorized) as caught:
        exchange(httpserver, make_connection, name)

    assert str(caught.value) == ENDPOINTS[name].provider.code_refused
    assert "Start Reauthorize again" in str(caught.value)
    for secret in (CODE, KEYS.client_secret, VERIFIER):
        assert secret not in str(caught.value)
        assert secret not in caplog.text


@every_platform
def test_app_keys_the_platform_refuses_are_our_fault_not_the_merchants(httpserver, make_connection, name):
    expect_token_request(httpserver, name).respond_with_json(
        {"error": "invalid_client", "error_description": "Client authentication failed"}, status=401
    )

    with pytest.raises(
        NotAuthorized, match="app keys. This is a configuration fault on our side; contact support"
    ):
        exchange(httpserver, make_connection, name)


@every_platform
def test_429_waits_as_long_as_retry_after_says(httpserver, make_connection, name):
    expect_token_request(httpserver, name).respond_with_json(
        {"error": "too_many_requests"}, status=429, headers={"Retry-After": "120"}
    )

    with pytest.raises(RateLimited, match="we will wait 2 minutes") as caught:
        exchange(httpserver, make_connection, name)

    assert caught.value.retry_after == 120
    assert len(httpserver.log) == 1  # two minutes is too long to sit out inside a click


@every_platform
def test_a_server_error_is_unavailable_for_now(httpserver, make_connection, name):
    expect_token_request(httpserver, name).respond_with_data("upstream failed", status=502)

    with pytest.raises(PlatformUnavailable, match=r"server error \(HTTP 502\)"):
        exchange(httpserver, make_connection, name)


@every_platform
def test_a_token_endpoint_slower_than_the_timeout_is_unavailable(
    httpserver, make_connection, name, slow_handler
):
    expect_token_request(httpserver, name).respond_with_handler(slow_handler)

    with pytest.raises(PlatformUnavailable, match="did not answer within 0.3 seconds"):
        exchange(httpserver, make_connection, name)


@every_platform
def test_a_200_that_is_not_json_is_unavailable(httpserver, make_connection, name):
    expect_token_request(httpserver, name).respond_with_data(
        "<html><body>Service temporarily unavailable</body></html>", content_type="text/html"
    )

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        exchange(httpserver, make_connection, name)


@every_platform
def test_a_200_without_an_access_token_is_unavailable(httpserver, make_connection, name):
    expect_token_request(httpserver, name).respond_with_json({"token_type": "bearer", "expires_in": 3600})

    with pytest.raises(PlatformUnavailable, match="sent a token answer we could not read"):
        exchange(httpserver, make_connection, name)


# --- One client ---------------------------------------------------------------------------------


def test_only_the_token_client_sends_grants_or_keeps_a_refresh_margin():
    platforms = Path(__file__).resolve().parents[2] / "apps" / "platforms"
    for module in platforms.glob("*.py"):
        if module.name == "oauth2.py":
            continue
        source = module.read_text(encoding="utf-8")
        assert '"grant_type"' not in source, f"{module.name} sends an OAuth grant of its own"
        assert "MARGIN =" not in source, f"{module.name} keeps a token margin of its own"
