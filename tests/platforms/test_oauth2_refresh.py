"""Access tokens renewed by the one token client: the margin, a refused refresh, and what is kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection as db

from apps.commerce.importing.rules import rule_authorized
from apps.commerce.models import Plugin
from apps.platforms.base import Connection, NotAuthorized, PlatformUnavailable, RateLimited
from apps.platforms.oauth2 import REFRESH_MARGIN, AccessToken
from tests.factories import PluginFactory
from tests.platforms.token_endpoints import ENDPOINTS, KEYS, NEW_TOKEN, REFRESH_TOKEN, REFRESHING, RU_NAME

STORED_TOKEN = "stored-access-token"
every_platform = pytest.mark.parametrize("name", REFRESHING)


def in_(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


@pytest.fixture
def kept() -> list[dict]:
    """What the token client handed over to be kept with the plugin."""
    return []


@pytest.fixture
def token_for(httpserver, bucket, kept) -> Callable[..., AccessToken]:
    def token_for(name: str, **stored) -> AccessToken:
        credentials = {"access_token": STORED_TOKEN, "refresh_token": REFRESH_TOKEN, **stored}
        connection = Connection(bucket=bucket, credentials=credentials, credentials_renewed=kept.append)
        url = httpserver.url_for(ENDPOINTS[name].path)
        return AccessToken(ENDPOINTS[name].provider, connection, keys=KEYS, token_url=url)

    return token_for


def token_requests(httpserver) -> list:
    return [request for request, _response in httpserver.log]


# --- The margin ---------------------------------------------------------------------------------


@every_platform
def test_a_token_inside_the_margin_is_refreshed_before_it_is_sent(httpserver, token_for, kept, name):
    platform = ENDPOINTS[name]
    httpserver.expect_request(platform.path, method="POST").respond_with_json(platform.refresh_answer)
    token = token_for(name, access_token_expires_at=in_(REFRESH_MARGIN - timedelta(minutes=1)))
    sent = []

    token.call(sent.append)
    token.call(sent.append)

    assert sent == [NEW_TOKEN, NEW_TOKEN]  # the old token never reaches the platform
    (refresh,) = token_requests(httpserver)
    assert parse_qs(refresh.get_data(as_text=True)) == platform.refresh_sent
    (renewed,) = kept
    assert renewed["access_token"] == NEW_TOKEN
    lifetime = datetime.fromisoformat(renewed["access_token_expires_at"]) - datetime.now(UTC)
    assert abs(lifetime - timedelta(seconds=platform.refresh_answer["expires_in"])) < timedelta(seconds=5)
    assert renewed.get("refresh_token", REFRESH_TOKEN) == platform.refresh_answer.get(
        "refresh_token", REFRESH_TOKEN
    )


@every_platform
def test_a_token_outside_the_margin_is_sent_as_it_is(httpserver, token_for, kept, name):
    token = token_for(name, access_token_expires_at=in_(REFRESH_MARGIN + timedelta(minutes=1)))
    sent = []

    token.call(sent.append)

    assert sent == [STORED_TOKEN]
    assert token_requests(httpserver) == [] and kept == []


def test_an_expiry_stored_as_seconds_since_the_epoch_is_still_read(httpserver, token_for):
    httpserver.expect_request(ENDPOINTS["etsy"].path, method="POST").respond_with_json(
        ENDPOINTS["etsy"].refresh_answer
    )
    later = (datetime.now(UTC) + timedelta(hours=1)).timestamp()
    sent = []

    token_for("etsy", access_token_expires_at=later).call(sent.append)
    token_for("etsy", access_token_expires_at=later - 3600).call(sent.append)

    assert sent == [STORED_TOKEN, NEW_TOKEN]


def test_a_token_issued_for_less_than_the_margin_serves_the_call_it_was_issued_for(httpserver, token_for):
    httpserver.expect_request(ENDPOINTS["amazon"].path, method="POST").respond_with_json(
        {"access_token": NEW_TOKEN, "token_type": "bearer", "expires_in": 60}
    )
    token = token_for("amazon", access_token="")
    sent = []

    token.call(sent.append)
    token.call(sent.append)

    assert sent == [NEW_TOKEN, NEW_TOKEN]
    assert len(token_requests(httpserver)) == 1


# --- A token the platform turns down ------------------------------------------------------------


def refused_once(sent: list) -> Callable[[str], None]:
    def send(token: str) -> None:
        sent.append(token)
        if len(sent) == 1:
            raise NotAuthorized("The platform rejected the access token.")

    return send


def test_a_stored_token_the_platform_turns_down_is_renewed_once_and_sent_again(httpserver, token_for):
    httpserver.expect_request(ENDPOINTS["ebay"].path, method="POST").respond_with_json(
        ENDPOINTS["ebay"].refresh_answer
    )
    sent = []

    token_for("ebay").call(refused_once(sent))

    assert sent == [STORED_TOKEN, NEW_TOKEN]


def test_a_token_turned_down_right_after_it_was_issued_is_not_renewed_again(httpserver, token_for):
    httpserver.expect_request(ENDPOINTS["ebay"].path, method="POST").respond_with_json(
        ENDPOINTS["ebay"].refresh_answer
    )
    sent = []

    with pytest.raises(NotAuthorized, match="rejected the access token"):
        token_for("ebay", access_token="").call(refused_once(sent))

    assert sent == [NEW_TOKEN]
    assert len(token_requests(httpserver)) == 1


# --- A refresh that fails --------------------------------------------------------------------------


@every_platform
def test_429_on_a_refresh_waits_as_long_as_retry_after_says(httpserver, token_for, kept, name):
    httpserver.expect_request(ENDPOINTS[name].path, method="POST").respond_with_json(
        {"error": "too_many_requests"}, status=429, headers={"Retry-After": "90"}
    )
    sent = []

    with pytest.raises(RateLimited) as caught:
        token_for(name, access_token="").call(sent.append)

    assert caught.value.retry_after == 90
    assert sent == [] and kept == []


@every_platform
def test_a_refresh_answered_with_a_200_that_is_not_json_is_unavailable_and_keeps_nothing(
    httpserver, token_for, kept, name
):
    httpserver.expect_request(ENDPOINTS[name].path, method="POST").respond_with_data(
        "<html>maintenance</html>", content_type="text/html"
    )
    sent = []

    with pytest.raises(PlatformUnavailable, match="not valid JSON"):
        token_for(name, access_token_expires_at=in_(-timedelta(seconds=1))).call(sent.append)

    assert sent == [] and kept == []


def test_while_a_refresh_fails_a_token_inside_the_margin_still_serves_until_it_expires(
    httpserver, token_for, kept
):
    httpserver.expect_request(ENDPOINTS["etsy"].path, method="POST").respond_with_data("busy", status=503)
    sent = []

    token_for("etsy", access_token_expires_at=in_(timedelta(minutes=1))).call(sent.append)

    assert sent == [STORED_TOKEN] and kept == []
    assert len(token_requests(httpserver)) == 1  # it was tried, and will be on the next call


# --- Through a plugin ----------------------------------------------------------------------------


def plugin_credentials(name: str, server: str, settings) -> dict:
    """A plugin whose access token ran out, with its refresh token and whatever else the platform needs."""
    expired = {"access_token": "expired-access-token", "access_token_expires_at": in_(-timedelta(minutes=1))}
    common = {**expired, "refresh_token": REFRESH_TOKEN, "base_url": server}
    if name == "ebay":
        settings.EBAY_CLIENT_ID, settings.EBAY_CLIENT_SECRET = KEYS.client_id, KEYS.client_secret
        settings.EBAY_RU_NAME = RU_NAME
        return common
    token_url = f"{server}{ENDPOINTS[name].path}"
    if name == "amazon":
        return {
            **common,
            "region": "eu",
            "marketplace_ids": "A1PA6795UKMFR9",
            "lwa_client_id": KEYS.client_id,
            "lwa_client_secret": KEYS.client_secret,
            "token_url": token_url,
        }
    return {**common, "shop_id": "23456789", "keystring": KEYS.client_id, "token_url": token_url}


@pytest.mark.django_db
@every_platform
def test_a_refresh_token_the_platform_refuses_reads_as_not_authorized_in_a_merchants_words(
    httpserver, settings, name, caplog
):
    caplog.set_level("DEBUG")
    httpserver.expect_request(ENDPOINTS[name].path, method="POST").respond_with_json(
        {"error": "invalid_grant", "error_description": "The provided refresh token is invalid or revoked"},
        status=400,
    )
    credentials = plugin_credentials(name, httpserver.url_for("").rstrip("/"), settings)
    plugin = PluginFactory(platform=name, name="Cat shop", credentials=credentials)

    result = rule_authorized(plugin, plugin.client())

    assert result.failed
    assert result.message == (
        f"The platform no longer accepts “Cat shop”'s authorization: {ENDPOINTS[name].provider.refresh_refused}"
    )
    assert "Reauthorize the plugin" in result.message
    for jargon in ("invalid_grant", "400", REFRESH_TOKEN, KEYS.client_secret):
        assert jargon not in result.message
    assert REFRESH_TOKEN not in caplog.text and KEYS.client_secret not in caplog.text
    assert len(httpserver.log) == 1  # the platform's API was not asked with a token known to be dead
    assert Plugin.objects.get(pk=plugin.pk).credentials == credentials


@pytest.mark.django_db
def test_a_renewed_amazon_token_is_kept_with_the_plugin_encrypted_and_used_by_the_next_client(
    httpserver, settings
):
    server = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(ENDPOINTS["amazon"].path, method="POST").respond_with_json(
        ENDPOINTS["amazon"].refresh_answer
    )
    httpserver.expect_request(
        "/orders/v0/orders", headers={"x-amz-access-token": NEW_TOKEN}
    ).respond_with_json({"payload": {"Orders": []}})
    plugin = PluginFactory(platform="amazon", credentials=plugin_credentials("amazon", server, settings))

    plugin.client().check_authorization()
    Plugin.objects.get(pk=plugin.pk).client().check_authorization()

    stored = Plugin.objects.get(pk=plugin.pk).credentials
    assert stored["access_token"] == NEW_TOKEN
    assert [request.path for request, _ in httpserver.log].count(ENDPOINTS["amazon"].path) == 1
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM commerce_plugin WHERE id = %s", [plugin.pk])
        assert NEW_TOKEN not in str(cursor.fetchone()[0])
