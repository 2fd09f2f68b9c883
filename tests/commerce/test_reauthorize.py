"""Reauthorize runs each platform's own authorization flow and keeps the new credentials."""

import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from apps.commerce.models import Notification, Plugin
from tests.factories import MembershipFactory, PluginFactory, UserFactory

pytestmark = pytest.mark.django_db
SECRET = "shpss_app_secret"


@pytest.fixture
def owner_client(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.merchant = membership.merchant
    return client


@pytest.fixture
def shopify_app(settings):
    settings.SHOPIFY_CLIENT_ID = "app-client-id"
    settings.SHOPIFY_CLIENT_SECRET = SECRET


def signed(query: dict) -> dict:
    message = "&".join(f"{k}={v}" for k, v in sorted(query.items()))
    return {**query, "hmac": hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()}


def test_shopify_reauthorize_trades_the_code_for_a_new_token(owner_client, shopify_app, httpserver):
    plugin = PluginFactory(
        merchant=owner_client.merchant,
        platform="shopify",
        authorization_status="revoked",
        credentials={"shop": "kitty", "access_token": "old", "base_url": httpserver.url_for("").rstrip("/")},
    )
    Notification.objects.create(merchant=plugin.merchant, plugin=plugin, kind="authorization", message="lost")
    httpserver.expect_request(
        "/admin/oauth/access_token",
        method="POST",
        json={"client_id": "app-client-id", "client_secret": SECRET, "code": "the-code"},
    ).respond_with_json({"access_token": "shpat_new", "scope": "read_orders"})

    start = owner_client.get(
        f"/account/plugins/{plugin.pk}/reauthorize/?next=/help/order-did-not-import/%23step-5"
    )
    location = urlsplit(start.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path == "/admin/oauth/authorize"
    assert query["client_id"] == "app-client-id"
    assert "read_all_orders" in query["scope"]
    assert query["redirect_uri"].endswith("/account/oauth/shopify/callback/")

    back = owner_client.get(
        "/account/oauth/shopify/callback/",
        signed(
            {"code": "the-code", "shop": "kitty.myshopify.com", "state": query["state"], "timestamp": "1"}
        ),
    )

    assert back.headers["Location"] == "/help/order-did-not-import/#step-5"
    plugin.refresh_from_db()
    assert plugin.credentials["access_token"] == "shpat_new"
    assert plugin.authorization_status == "authorized"
    assert not Notification.objects.filter(read=False).exists()


def test_shopify_callback_with_a_forged_signature_changes_nothing(owner_client, shopify_app):
    plugin = PluginFactory(
        merchant=owner_client.merchant,
        platform="shopify",
        credentials={"shop": "kitty", "access_token": "old"},
    )
    state = parse_qs(
        urlsplit(owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/").headers["Location"]).query
    )["state"][0]

    response = owner_client.get(
        "/account/oauth/shopify/callback/",
        {"code": "x", "state": state, "hmac": "0" * 64, "shop": "kitty.myshopify.com"},
    )

    assert response.status_code == 400
    assert "did not come from Shopify" in response.content.decode()
    plugin.refresh_from_db()
    assert plugin.credentials["access_token"] == "old"


def test_someone_elses_state_is_refused(owner_client, shopify_app):
    plugin = PluginFactory(
        merchant=owner_client.merchant,
        platform="shopify",
        credentials={"shop": "kitty", "access_token": "old"},
    )
    state = parse_qs(
        urlsplit(owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/").headers["Location"]).query
    )["state"][0]
    villain = Client()
    villain.force_login(UserFactory(username="villain"))

    response = villain.get("/account/oauth/shopify/callback/", signed({"code": "x", "state": state}))

    assert response.status_code == 400


def test_shopify_without_app_keys_offers_no_reauthorize(owner_client):
    plugin = PluginFactory(
        merchant=owner_client.merchant, platform="shopify", credentials={"shop": "kitty", "access_token": "t"}
    )

    assert owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/").status_code == 404


def test_woocommerce_reauthorize_receives_new_keys(owner_client):
    plugin = PluginFactory(
        merchant=owner_client.merchant,
        platform="woocommerce",
        credentials={
            "site_url": "https://shop.example",
            "consumer_key": "ck_old",
            "consumer_secret": "cs_old",
        },
    )

    start = owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/?next=/help/")
    location = urlsplit(start.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == "https://shop.example/wc-auth/v1/authorize"
    )
    assert query["scope"] == "read"
    assert query["callback_url"].endswith("/account/oauth/woocommerce/callback/")

    # WooCommerce's server posts the keys: no session, no CSRF token.
    site = Client(enforce_csrf_checks=True)
    response = site.post(
        "/account/oauth/woocommerce/callback/",
        json.dumps(
            {
                "key_id": 7,
                "user_id": query["user_id"],
                "consumer_key": "ck_new",
                "consumer_secret": "cs_new",
                "key_permissions": "read",
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 200
    plugin.refresh_from_db()
    assert (plugin.credentials["consumer_key"], plugin.credentials["consumer_secret"]) == ("ck_new", "cs_new")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"user_id": "forged", "consumer_key": "ck_x", "consumer_secret": "cs_x"}).encode(),
    ],
)
def test_woocommerce_callback_garbage_is_a_400_and_changes_nothing(body):
    plugin = PluginFactory(
        platform="woocommerce", credentials={"site_url": "https://shop.example", "consumer_key": "ck_old"}
    )

    response = Client().post("/account/oauth/woocommerce/callback/", body, content_type="application/json")

    assert response.status_code == 400
    assert Plugin.objects.get(pk=plugin.pk).credentials["consumer_key"] == "ck_old"


def test_someone_elses_plugin_cannot_be_reauthorized(owner_client):
    stranger = PluginFactory()

    assert owner_client.get(f"/account/plugins/{stranger.pk}/reauthorize/").status_code == 404
    assert owner_client.get(f"/account/plugins/{stranger.pk}/demo-authorize/").status_code == 404


def test_demo_consent_for_a_store_that_no_longer_exists_says_so(owner_client):
    plugin = PluginFactory(merchant=owner_client.merchant, name="Gift shop")
    plugin.authorization_status = Plugin.Authorization.REVOKED
    plugin.save()
    plugin.credentials = {**plugin.credentials, "store": "deleted-store"}
    plugin.save()

    response = owner_client.post(
        f"/account/plugins/{plugin.pk}/demo-authorize/",
        {"allow": "1", "next": "/help/order-did-not-import/#step-5"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/help/order-did-not-import/#step-5"
    (message,) = get_messages(response.wsgi_request)
    assert "connected to a demo store that no longer exists" in str(message)
    plugin.refresh_from_db()
    assert plugin.authorization_status == Plugin.Authorization.REVOKED
