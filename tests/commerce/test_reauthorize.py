"""Reauthorize runs each platform's own authorization flow and keeps the new credentials."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from apps.commerce.models import AuthorizationState, Notification, Plugin
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
    assert not Notification.objects.filter(resolved_at__isnull=True).exists()


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
    # WooCommerce then sends the merchant back to us.
    assert query["return_url"].endswith("/account/oauth/woocommerce/return/")
    back = owner_client.get(urlsplit(query["return_url"]).path, {"success": "1", "user_id": query["user_id"]})

    assert back.headers["Location"] == "/help/"
    plugin.refresh_from_db()
    assert (plugin.credentials["consumer_key"], plugin.credentials["consumer_secret"]) == ("ck_new", "cs_new")
    assert plugin.authorization_status == "authorized"


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


# --- The state is opaque, single-use, short-lived and bound to its user -------------------------


@pytest.fixture
def woo_plugin(owner_client):
    return PluginFactory(
        merchant=owner_client.merchant,
        platform="woocommerce",
        authorization_status="revoked",
        credentials={
            "site_url": "https://shop.example",
            "consumer_key": "ck_old",
            "consumer_secret": "cs_old",
        },
    )


def woo_state(client, plugin) -> str:
    location = client.get(f"/account/plugins/{plugin.pk}/reauthorize/?next=/help/").headers["Location"]
    return parse_qs(urlsplit(location).query)["user_id"][0]


def woo_posts_keys(state: str, key: str = "ck_new", secret: str = "cs_new"):
    body = {"user_id": state, "consumer_key": key, "consumer_secret": secret, "key_permissions": "read"}
    return Client(enforce_csrf_checks=True).post(
        "/account/oauth/woocommerce/callback/", json.dumps(body), content_type="application/json"
    )


def assert_unchanged(plugin):
    plugin.refresh_from_db()
    assert (plugin.credentials["consumer_key"], plugin.credentials["consumer_secret"]) == ("ck_old", "cs_old")
    assert plugin.authorization_status == "revoked"


def test_the_state_shows_no_plugin_or_user_id(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)

    assert len(state) >= 40
    decoded = base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))
    for readable in (state, decoded.decode("latin-1")):
        assert "plugin" not in readable and "user" not in readable
    assert AuthorizationState.objects.get().token_hash != state  # a database reader cannot use it either


def test_an_anonymous_post_of_keys_changes_nothing_until_the_merchant_returns(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)

    assert woo_posts_keys(state, "ck_made_up", "cs_made_up").status_code == 200

    assert_unchanged(woo_plugin)


def test_a_replayed_woocommerce_post_is_refused(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)
    assert woo_posts_keys(state).status_code == 200

    replay = woo_posts_keys(state, "ck_villain", "cs_villain")

    assert replay.status_code == 400
    assert "already received" in replay.content.decode()
    owner_client.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})
    woo_plugin.refresh_from_db()
    assert woo_plugin.credentials["consumer_key"] == "ck_new"


def test_a_used_state_cannot_be_used_again(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)
    woo_posts_keys(state)
    owner_client.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})
    woo_plugin.refresh_from_db()
    woo_plugin.credentials = {**woo_plugin.credentials, "consumer_key": "ck_old", "consumer_secret": "cs_old"}
    woo_plugin.authorization_status = "revoked"
    woo_plugin.save()

    again = owner_client.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})
    late_post = woo_posts_keys(state, "ck_villain", "cs_villain")

    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert late_post.status_code == 400
    assert_unchanged(woo_plugin)


def test_another_user_cannot_finish_the_merchants_authorization(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)
    woo_posts_keys(state)
    villain = Client()
    villain.force_login(MembershipFactory(merchant=owner_client.merchant).user)  # even a teammate

    response = villain.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})

    assert response.status_code == 400
    assert "started by someone else" in response.content.decode()
    assert_unchanged(woo_plugin)
    # The merchant who started it can still finish.
    owner_client.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})
    woo_plugin.refresh_from_db()
    assert woo_plugin.credentials["consumer_key"] == "ck_new"


def test_an_anonymous_return_is_sent_to_sign_in_and_changes_nothing(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)
    woo_posts_keys(state)

    response = Client().get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")
    assert_unchanged(woo_plugin)


def test_an_expired_state_is_refused(owner_client, woo_plugin, settings):
    settings.REAUTHORIZE_TIMEOUT = 300
    state = woo_state(owner_client, woo_plugin)
    AuthorizationState.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    post = woo_posts_keys(state)
    back = owner_client.get("/account/oauth/woocommerce/return/", {"success": "1", "user_id": state})

    assert post.status_code == 400
    assert "expired (it lasts 5 minutes)" in post.content.decode()
    assert back.status_code == 400
    assert_unchanged(woo_plugin)


def test_the_state_expires_after_the_configured_minutes(owner_client, woo_plugin, settings):
    settings.REAUTHORIZE_TIMEOUT = 120
    woo_state(owner_client, woo_plugin)

    state = AuthorizationState.objects.get()

    assert (state.expires_at - state.created_at) == timedelta(seconds=120)


def test_a_cancelled_woocommerce_authorization_changes_nothing(owner_client, woo_plugin):
    state = woo_state(owner_client, woo_plugin)

    response = owner_client.get("/account/oauth/woocommerce/return/", {"success": "0", "user_id": state})

    assert response.status_code == 302
    assert "cancelled" in str(next(iter(get_messages(response.wsgi_request))))
    assert_unchanged(woo_plugin)


def test_an_old_signed_state_is_refused(owner_client, woo_plugin):
    from django.core import signing

    forged = signing.dumps(
        {"plugin": woo_plugin.pk, "user": 1, "next": "/help/"}, salt="commerce.reauthorize"
    )

    assert woo_posts_keys(forged).status_code == 400
    assert_unchanged(woo_plugin)


def test_a_shopify_state_is_single_use(owner_client, shopify_app, httpserver):
    plugin = PluginFactory(
        merchant=owner_client.merchant,
        platform="shopify",
        credentials={"shop": "kitty", "access_token": "old", "base_url": httpserver.url_for("").rstrip("/")},
    )
    httpserver.expect_request("/admin/oauth/access_token", method="POST").respond_with_json(
        {"access_token": "shpat_new"}
    )
    state = parse_qs(
        urlsplit(owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/").headers["Location"]).query
    )["state"][0]
    owner_client.get("/account/oauth/shopify/callback/", signed({"code": "c1", "state": state}))
    Plugin.objects.filter(pk=plugin.pk).update(credentials={**plugin.credentials, "access_token": "old"})

    replay = owner_client.get("/account/oauth/shopify/callback/", signed({"code": "c2", "state": state}))

    assert replay.status_code == 400
    assert "already used" in replay.content.decode()
    assert Plugin.objects.get(pk=plugin.pk).credentials["access_token"] == "old"


def test_a_shopify_state_of_another_user_is_refused_and_stays_usable(owner_client, shopify_app, httpserver):
    plugin = PluginFactory(
        merchant=owner_client.merchant,
        platform="shopify",
        authorization_status="revoked",
        credentials={"shop": "kitty", "access_token": "old", "base_url": httpserver.url_for("").rstrip("/")},
    )
    httpserver.expect_request("/admin/oauth/access_token", method="POST").respond_with_json(
        {"access_token": "shpat_new"}
    )
    state = parse_qs(
        urlsplit(owner_client.get(f"/account/plugins/{plugin.pk}/reauthorize/").headers["Location"]).query
    )["state"][0]
    villain = Client()
    villain.force_login(UserFactory(username="villain"))

    refused = villain.get("/account/oauth/shopify/callback/", signed({"code": "x", "state": state}))

    assert refused.status_code == 400
    assert "started by someone else" in refused.content.decode()
    plugin.refresh_from_db()
    assert (plugin.credentials["access_token"], plugin.authorization_status) == ("old", "revoked")
    owner_client.get("/account/oauth/shopify/callback/", signed({"code": "x", "state": state}))
    plugin.refresh_from_db()
    assert plugin.credentials["access_token"] == "shpat_new"


def test_a_state_is_accepted_only_at_the_platform_that_issued_it(owner_client, shopify_app, woo_plugin):
    shopify = PluginFactory(
        merchant=owner_client.merchant,
        platform="shopify",
        authorization_status="revoked",
        credentials={"shop": "kitty", "access_token": "old"},
    )
    location = owner_client.get(f"/account/plugins/{shopify.pk}/reauthorize/?next=/help/").headers["Location"]
    shopify_state = parse_qs(urlsplit(location).query)["state"][0]

    # WooCommerce's key POST carrying Shopify's state: refused, and nothing kept for the state.
    posted = woo_posts_keys(shopify_state, "ck_villain", "cs_villain")
    assert posted.status_code == 400
    assert "started for a Shopify plugin" in posted.content.decode()
    assert AuthorizationState.objects.get(plugin=shopify).received_at is None

    # WooCommerce's state coming back through Shopify's callback: refused and not used up.
    woo = woo_state(owner_client, woo_plugin)
    returned = owner_client.get(
        "/account/oauth/shopify/callback/", signed({"code": "x", "shop": "kitty.myshopify.com", "state": woo})
    )
    assert returned.status_code == 400
    assert "started for a WooCommerce plugin" in returned.content.decode()
    assert AuthorizationState.objects.get(plugin=woo_plugin).used_at is None
    assert_unchanged(woo_plugin)
