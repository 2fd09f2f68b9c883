"""Reauthorize for BigCommerce: install the app again, or, without app keys, how to reconnect."""

from urllib.parse import urlsplit

import pytest
from django.contrib.messages import get_messages

from apps.checks.base import CheckContext
from apps.checks.registry import get_check
from apps.commerce.models import Plugin
from tests.factories import MembershipFactory, PluginFactory

pytestmark = pytest.mark.django_db
SECRET = "bc-app-secret"


@pytest.fixture
def owner_client(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.merchant = membership.merchant
    return client


@pytest.fixture
def bigcommerce_app(settings, httpserver):
    settings.BIGCOMMERCE_CLIENT_ID = "bc-client-id"
    settings.BIGCOMMERCE_CLIENT_SECRET = SECRET
    settings.BIGCOMMERCE_APP_ID = "4242"
    settings.BIGCOMMERCE_LOGIN_URL = httpserver.url_for("").rstrip("/")


@pytest.fixture
def bc_plugin(owner_client, httpserver):
    return PluginFactory(
        merchant=owner_client.merchant,
        platform="bigcommerce",
        name="Cat store",
        authorization_status="revoked",
        credentials={
            "store_hash": "abc123",
            "access_token": "old",
            "base_url": httpserver.url_for("").rstrip("/"),
        },
    )


def test_reauthorize_installs_the_app_again_and_keeps_the_new_token(
    owner_client, bigcommerce_app, bc_plugin, httpserver
):
    httpserver.expect_request(
        "/oauth2/token",
        method="POST",
        json={
            "client_id": "bc-client-id",
            "client_secret": SECRET,
            "code": "the-code",
            "scope": "store_v2_orders_read_only",
            "grant_type": "authorization_code",
            "redirect_uri": "http://testserver/account/oauth/bigcommerce/callback/",
            "context": "stores/abc123",
        },
    ).respond_with_json(
        {"access_token": "bc-new", "scope": "store_v2_orders_read_only", "context": "stores/abc123"}
    )

    start = owner_client.get(
        f"/account/plugins/{bc_plugin.pk}/reauthorize/?next=/help/order-did-not-import/%23step-5"
    )
    assert urlsplit(start.headers["Location"]).path == "/app/4242/install"

    back = owner_client.get(
        "/account/oauth/bigcommerce/callback/",
        {"code": "the-code", "scope": "store_v2_orders_read_only", "context": "stores/abc123"},
    )

    assert back.headers["Location"] == "/help/order-did-not-import/#step-5"
    bc_plugin.refresh_from_db()
    assert bc_plugin.credentials["access_token"] == "bc-new"
    assert bc_plugin.authorization_status == Plugin.Authorization.AUTHORIZED


def test_an_install_on_another_store_changes_nothing(owner_client, bigcommerce_app, bc_plugin):
    owner_client.get(f"/account/plugins/{bc_plugin.pk}/reauthorize/")

    back = owner_client.get(
        "/account/oauth/bigcommerce/callback/", {"code": "x", "scope": "s", "context": "stores/zzz999"}
    )

    assert back.status_code == 400
    assert "another BigCommerce store" in back.content.decode()
    bc_plugin.refresh_from_db()
    assert bc_plugin.credentials["access_token"] == "old"


def test_a_callback_nobody_started_is_refused(owner_client, bigcommerce_app, bc_plugin):
    back = owner_client.get(
        "/account/oauth/bigcommerce/callback/", {"code": "x", "scope": "s", "context": "stores/abc123"}
    )

    assert back.status_code == 400
    bc_plugin.refresh_from_db()
    assert bc_plugin.credentials["access_token"] == "old"


def test_the_state_is_used_once(owner_client, bigcommerce_app, bc_plugin, httpserver):
    httpserver.expect_request("/oauth2/token", method="POST").respond_with_json({"access_token": "bc-new"})
    owner_client.get(f"/account/plugins/{bc_plugin.pk}/reauthorize/")
    query = {"code": "x", "scope": "s", "context": "stores/abc123"}

    assert owner_client.get("/account/oauth/bigcommerce/callback/", query).status_code == 302
    assert owner_client.get("/account/oauth/bigcommerce/callback/", query).status_code == 400


def test_bigcommerce_refusing_the_code_says_so_and_changes_nothing(
    owner_client, bigcommerce_app, bc_plugin, httpserver
):
    httpserver.expect_request("/oauth2/token", method="POST").respond_with_json(
        {"error": "invalid_grant"}, status=401
    )
    owner_client.get(f"/account/plugins/{bc_plugin.pk}/reauthorize/?next=/help/")

    back = owner_client.get(
        "/account/oauth/bigcommerce/callback/", {"code": "x", "scope": "s", "context": "stores/abc123"}
    )

    assert back.headers["Location"] == "/help/"
    (message,) = get_messages(back.wsgi_request)
    assert "“Cat store” was not reauthorized: BigCommerce did not accept the installation" in str(message)
    bc_plugin.refresh_from_db()
    assert bc_plugin.credentials["access_token"] == "old"


def test_without_app_keys_step_five_explains_how_to_reconnect(owner_client, bc_plugin, httpserver):
    httpserver.expect_request("/stores/abc123/v2/orders/count").respond_with_json(
        [{"status": 401, "message": "You have not provided correct credentials."}], status=401
    )

    assert owner_client.get(f"/account/plugins/{bc_plugin.pk}/reauthorize/").status_code == 404
    outcome = get_check("plugin_authorized")().run(
        CheckContext(merchant_id=bc_plugin.merchant_id, user_id=None, subject_id=bc_plugin.pk)
    )

    assert outcome.status == "failed"
    assert outcome.fixes == ()
    assert "Settings → API → Store-level API accounts" in outcome.summary
