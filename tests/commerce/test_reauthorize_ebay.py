"""Reauthorize for eBay: the seller's consent, and tokens kept encrypted and renewed by themselves."""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from apps.commerce.models import Plugin
from tests.factories import MembershipFactory, PluginFactory

pytestmark = pytest.mark.django_db
RU_NAME = "Commerce_Kitty-CommerceK-kitty-abcde"
REFRESH = "v^1.1#i^1#refresh-token-from-consent"


@pytest.fixture
def owner_client(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.merchant = membership.merchant
    return client


@pytest.fixture
def ebay_app(settings, httpserver):
    settings.EBAY_CLIENT_ID = "ebay-client-id"
    settings.EBAY_CLIENT_SECRET = "ebay-secret"
    settings.EBAY_RU_NAME = RU_NAME
    settings.EBAY_AUTH_URL = httpserver.url_for("").rstrip("/")


@pytest.fixture
def ebay_plugin(owner_client, httpserver):
    return PluginFactory(
        merchant=owner_client.merchant,
        platform="ebay",
        name="eBay shop",
        authorization_status="revoked",
        credentials={
            "access_token": "old",
            "refresh_token": "old-refresh",
            "base_url": httpserver.url_for("").rstrip("/"),
        },
    )


def raw_credentials(plugin: Plugin) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM commerce_plugin WHERE id = %s", [plugin.pk])
        return cursor.fetchone()[0]


def test_consent_trades_the_code_for_tokens_kept_encrypted(owner_client, ebay_app, ebay_plugin, httpserver):
    basic = "Basic " + base64.b64encode(b"ebay-client-id:ebay-secret").decode()
    httpserver.expect_request(
        "/identity/v1/oauth2/token",
        method="POST",
        headers={"Authorization": basic},
        data=f"grant_type=authorization_code&code=v%5E1.1%23code&redirect_uri={RU_NAME}",
    ).respond_with_json(
        {
            "access_token": "v^1.1#new-access",
            "expires_in": 7200,
            "refresh_token": REFRESH,
            "refresh_token_expires_in": 47304000,
            "token_type": "User Access Token",
        }
    )

    start = owner_client.get(
        f"/account/plugins/{ebay_plugin.pk}/reauthorize/?next=/help/order-did-not-import/%23step-5"
    )
    location = urlsplit(start.headers["Location"])
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert location.path == "/oauth2/authorize"
    assert (query["client_id"], query["redirect_uri"], query["response_type"]) == (
        "ebay-client-id",
        RU_NAME,
        "code",
    )
    assert query["scope"].endswith("/sell.fulfillment.readonly")

    back = owner_client.get(
        "/account/oauth/ebay/callback/", {"state": query["state"], "code": "v^1.1#code", "expires_in": "299"}
    )

    assert back.headers["Location"] == "/help/order-did-not-import/#step-5"
    ebay_plugin.refresh_from_db()
    assert ebay_plugin.authorization_status == Plugin.Authorization.AUTHORIZED
    assert (ebay_plugin.credentials["access_token"], ebay_plugin.credentials["refresh_token"]) == (
        "v^1.1#new-access",
        REFRESH,
    )
    assert REFRESH not in raw_credentials(ebay_plugin)


def test_a_declined_consent_changes_nothing(owner_client, ebay_app, ebay_plugin):
    start = owner_client.get(f"/account/plugins/{ebay_plugin.pk}/reauthorize/?next=/help/")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]

    back = owner_client.get("/account/oauth/ebay/callback/", {"state": state, "error": "access_denied"})

    assert back.headers["Location"] == "/help/"
    ebay_plugin.refresh_from_db()
    assert ebay_plugin.credentials["access_token"] == "old"


def test_a_callback_with_a_made_up_state_is_refused(owner_client, ebay_app, ebay_plugin):
    assert (
        owner_client.get("/account/oauth/ebay/callback/", {"state": "made-up", "code": "x"}).status_code
        == 400
    )


def test_without_app_keys_there_is_no_button(owner_client, ebay_plugin):
    assert owner_client.get(f"/account/plugins/{ebay_plugin.pk}/reauthorize/").status_code == 404


def test_a_token_the_client_refreshed_is_kept_with_the_plugin(ebay_app, ebay_plugin, httpserver):
    ebay_plugin.credentials = {
        **ebay_plugin.credentials,
        "access_token_expires_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
    }
    ebay_plugin.save()
    httpserver.expect_request("/identity/v1/oauth2/token", method="POST").respond_with_json(
        {"access_token": "v^1.1#refreshed", "expires_in": 7200}
    )
    httpserver.expect_request(
        "/sell/fulfillment/v1/order", headers={"Authorization": "Bearer v^1.1#refreshed"}
    ).respond_with_json({"total": 0, "limit": 1, "offset": 0, "orders": []})

    ebay_plugin.client().check_authorization()

    stored = Plugin.objects.get(pk=ebay_plugin.pk).credentials
    assert stored["access_token"] == "v^1.1#refreshed"
    assert stored["refresh_token"] == "old-refresh"
    assert "v^1.1#refreshed" not in raw_credentials(ebay_plugin)
