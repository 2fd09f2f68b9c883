"""Each OAuth platform's token endpoint as its docs describe it: what we must send, what it answers.

One table for the tests of the one token client (``apps/platforms/oauth2.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from apps.platforms import amazon, bigcommerce, ebay, etsy, shopify
from apps.platforms.oauth2 import AppKeys, OAuth2Provider

KEYS = AppKeys("app-client-id", "app-client-secret-42")
CODE = "c0de-from-the-consent-page"
CALLBACK = "https://help.example/account/oauth/x/callback/"
RU_NAME = "Commerce_Kitty-CommerceK-kitty-abcde"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REFRESH_TOKEN = "the-plugins-refresh-token-5ecret"
NEW_TOKEN = "access-token-issued-just-now"


def form(**fields: str) -> dict[str, list[str]]:
    """A form body as ``parse_qs`` reads it."""
    return {name: [value] for name, value in fields.items()}


@dataclass(frozen=True)
class Endpoint:
    provider: OAuth2Provider
    path: str
    code_answer: dict  # a successful code exchange
    code_sent: dict  # the code exchange's body (JSON, or a form as parse_qs reads it)
    basic_auth: bool  # the app's keys go in HTTP Basic rather than the body
    lifetime: timedelta | None  # how long an access token lives; None: it does not expire
    refusal: tuple[int, dict]  # how the endpoint turns an authorization code down
    redirect_uri: str | None = None
    extra: dict = field(default_factory=dict)
    refresh_answer: dict = field(default_factory=dict)  # a successful refresh; {}: there is no refresh grant
    refresh_sent: dict = field(default_factory=dict)


def _refresh_answer(expires_in: int, **more: str) -> dict:
    return {"access_token": NEW_TOKEN, "expires_in": expires_in, **more}


_INVALID_GRANT = "invalid_grant"

ENDPOINTS = {
    # Offline access token, non-expiring: the answer is the token and its scopes.
    "shopify": Endpoint(
        shopify.OAUTH,
        "/admin/oauth/access_token",
        {"access_token": "shpat_f0e1d2c3b4", "scope": "read_orders,read_all_orders"},
        {"client_id": KEYS.client_id, "client_secret": KEYS.client_secret, "code": CODE},
        basic_auth=False,
        lifetime=None,
        refusal=(
            400,
            {
                "error": "invalid_request",
                "error_description": "The authorization code was not found or was already used",
            },
        ),
    ),
    # A permanent token, with the store's context and the installing user.
    "bigcommerce": Endpoint(
        bigcommerce.OAUTH,
        "/oauth2/token",
        {
            "access_token": "bc-permanent-token-7x",
            "scope": "store_v2_orders_read_only",
            "user": {"id": 24654, "username": "merchant@example.com", "email": "merchant@example.com"},
            "owner": {"id": 24654, "username": "merchant@example.com", "email": "merchant@example.com"},
            "context": "stores/abc123",
            "account_uuid": "12345678-90ab-cdef-1234-567890abcdef",
        },
        {
            "client_id": KEYS.client_id,
            "client_secret": KEYS.client_secret,
            "code": CODE,
            "scope": "store_v2_orders_read_only",
            "grant_type": "authorization_code",
            "redirect_uri": CALLBACK,
            "context": "stores/abc123",
        },
        basic_auth=False,
        lifetime=None,
        refusal=(401, {"error": _INVALID_GRANT}),
        redirect_uri=CALLBACK,
        extra={"scope": "store_v2_orders_read_only", "context": "stores/abc123"},
    ),
    # A two-hour user token and an 18-month refresh token that does not rotate; the
    # code's redirect_uri is the RuName, and a refresh names the scopes again.
    "ebay": Endpoint(
        ebay.OAUTH,
        "/identity/v1/oauth2/token",
        {
            "access_token": "v^1.1#i^1#access-from-code",
            "expires_in": 7200,
            "refresh_token": "v^1.1#i^1#refresh-from-code",
            "refresh_token_expires_in": 47304000,
            "token_type": "User Access Token",
        },
        form(grant_type="authorization_code", code=CODE, redirect_uri=RU_NAME),
        basic_auth=True,
        lifetime=timedelta(hours=2),
        refusal=(
            400,
            {
                "error": _INVALID_GRANT,
                "error_description": "the provided authorization grant code is invalid or was issued to another client",
            },
        ),
        redirect_uri=RU_NAME,
        refresh_answer=_refresh_answer(7200, token_type="User Access Token"),
        refresh_sent=form(
            grant_type="refresh_token",
            refresh_token=REFRESH_TOKEN,
            scope="https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",
        ),
    ),
    # Login with Amazon: an hour's access token and the long-lived refresh token, keys in the body.
    "amazon": Endpoint(
        amazon.OAUTH,
        "/auth/o2/token",
        {
            "access_token": "Atza|IwEBIA-from-code",
            "refresh_token": "Atzr|IwEBIJ-from-code",
            "token_type": "bearer",
            "expires_in": 3600,
        },
        form(
            grant_type="authorization_code",
            code=CODE,
            redirect_uri=CALLBACK,
            client_id=KEYS.client_id,
            client_secret=KEYS.client_secret,
        ),
        basic_auth=False,
        lifetime=timedelta(hours=1),
        refusal=(
            400,
            {"error": _INVALID_GRANT, "error_description": "The request has an invalid grant parameter"},
        ),
        redirect_uri=CALLBACK,
        refresh_answer=_refresh_answer(3600, refresh_token=REFRESH_TOKEN, token_type="bearer"),
        refresh_sent=form(
            grant_type="refresh_token",
            refresh_token=REFRESH_TOKEN,
            client_id=KEYS.client_id,
            client_secret=KEYS.client_secret,
        ),
    ),
    # PKCE: the keystring alone and the verifier; an hour's token, and a refresh
    # token that rotates (each refresh brings the one to use next).
    "etsy": Endpoint(
        etsy.OAUTH,
        "/v3/public/oauth/token",
        {
            "access_token": "12345678.access-from-code",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": "12345678.refresh-from-code",
        },
        form(
            grant_type="authorization_code",
            client_id=KEYS.client_id,
            redirect_uri=CALLBACK,
            code=CODE,
            code_verifier=VERIFIER,
        ),
        basic_auth=False,
        lifetime=timedelta(hours=1),
        refusal=(400, {"error": _INVALID_GRANT, "error_description": "code has expired"}),
        redirect_uri=CALLBACK,
        extra={"code_verifier": VERIFIER},
        refresh_answer=_refresh_answer(3600, refresh_token="the-next-refresh-token", token_type="Bearer"),
        refresh_sent=form(grant_type="refresh_token", client_id=KEYS.client_id, refresh_token=REFRESH_TOKEN),
    ),
}
REFRESHING = [name for name, endpoint in ENDPOINTS.items() if endpoint.refresh_answer]
