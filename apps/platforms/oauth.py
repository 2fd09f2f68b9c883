"""Starting (and finishing) each platform's own authorization flow: what "Reauthorize" runs.

Shopify: the OAuth authorization-code grant. The merchant approves on their
store's admin; Shopify redirects back with a code (and an HMAC of the query
signed with our app secret) that we exchange for a new access token.

WooCommerce: the store's ``/wc-auth/v1/authorize`` endpoint. The merchant
approves on their site; WooCommerce POSTs fresh REST API keys to our
callback URL (which must be HTTPS), then sends the merchant back.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from .base import Connection, NotAuthorized
from .http import PlatformHTTP
from .shopify import shop_domain
from .throttle import throttle_for
from .woocommerce import api_base

SHOPIFY_SCOPES = ("read_orders", "read_all_orders", "read_products", "read_customers")
WOOCOMMERCE_SCOPE = "read"


def shopify_admin_base(credentials: dict) -> str:
    """The store's admin origin; a ``base_url`` credential stands in for a local test store."""
    override = str(credentials.get("base_url") or "").rstrip("/")
    return override or f"https://{shop_domain(str(credentials.get('shop') or ''))}"


def shopify_authorize_url(credentials: dict, *, client_id: str, redirect_uri: str, state: str) -> str:
    query = urlencode(
        {
            "client_id": client_id,
            "scope": ",".join(SHOPIFY_SCOPES),
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{shopify_admin_base(credentials)}/admin/oauth/authorize?{query}"


def shopify_callback_is_genuine(query: dict[str, str], *, client_secret: str) -> bool:
    """Shopify signs the callback's query string (all parameters but ``hmac``, sorted) with the app secret."""
    received = query.get("hmac", "")
    message = "&".join(f"{key}={value}" for key, value in sorted(query.items()) if key != "hmac")
    expected = hmac.new(client_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return bool(received) and hmac.compare_digest(received, expected)


def shopify_exchange_code(
    credentials: dict, *, client_id: str, client_secret: str, code: str, connection: Connection
) -> str:
    """Trade the callback's code for an access token; NotAuthorized when Shopify refuses it."""
    with PlatformHTTP(
        connection,
        label="Shopify",
        base_url=shopify_admin_base(credentials),
        throttle=throttle_for(connection.bucket, rate=4, burst=10),
        unauthorized_message="Shopify did not accept the authorization. Start Reauthorize again.",
        secrets=(client_secret, code),
    ) as http:
        answer = http.request_json(
            "POST",
            "/admin/oauth/access_token",
            json={"client_id": client_id, "client_secret": client_secret, "code": code},
        ).data
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise NotAuthorized("Shopify did not return an access token. Start Reauthorize again.")
    return token


def woocommerce_authorize_url(
    credentials: dict, *, app_name: str, user_id: str, return_url: str, callback_url: str
) -> str:
    # api_base refuses anything but https (or a local test server).
    site = api_base(str(credentials.get("site_url") or "")).split("/wp-json/", 1)[0]
    query = urlencode(
        {
            "app_name": app_name,
            "scope": WOOCOMMERCE_SCOPE,
            "user_id": user_id,
            "return_url": return_url,
            "callback_url": callback_url,
        }
    )
    return f"{site}/wc-auth/v1/authorize?{query}"
