"""Etsy, through the Open API v3 shop receipts (an Etsy order is a receipt).

Every call carries the app's key (``x-api-key``) and the shop owner's OAuth
access token. Access tokens last an hour; the refresh token that renews them
*rotates*: each refresh returns a new one and the old one stops working. So
a client that refreshes hands the new tokens to
``Connection.credentials_renewed`` at once, for the caller to keep
(encrypted, with the plugin's other credentials); losing them means the
merchant has to reauthorize.

Etsy counts requests per app, per second and per 24 hours, and reports what
is left in ``x-remaining-this-second`` and ``x-remaining-today``; the plugin's
bucket is blocked when either reaches zero.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings

from apps.platforms import registry
from apps.platforms.authorization import (
    AuthorizationAnswer,
    AuthorizationFlow,
    AuthorizationStart,
    CallbackRejected,
)
from apps.platforms.base import (
    Buyer,
    Capabilities,
    Connection,
    ImportOutcome,
    MalformedOrder,
    NotAuthorized,
    OrderNumberProblem,
    OrderState,
    PaginationStuck,
    PlatformClient,
    PlatformUnavailable,
    SourceOrder,
    SourceOrderLine,
    StatusTable,
    StatusWord,
    UnreadableOrder,
    most_severe,
    normalize_order_number,
    parse_total,
    source_state,
    text_or_empty,
)
from apps.platforms.http import PlatformHTTP, parse_retry_after
from apps.platforms.oauth2 import AccessToken, AppKeys, ClientAuth, Encoding, OAuth2Provider
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.said import Said, said, said_n, said_p

LABEL = "Etsy"

API_URL = "https://api.etsy.com"
API_PREFIX = "/v3/application"
TOKEN_URL = "https://api.etsy.com/v3/public/oauth/token"
CONNECT_URL = "https://www.etsy.com/oauth/connect"

# Etsy's OAuth 2 with PKCE: a form naming the app by its keystring alone (the
# code verifier proves the exchange, no secret is sent). An access token
# lives an hour (expires_in 3600); the refresh token lives 90 days and
# rotates: each refresh returns a new one and the old one stops working.
# Reading receipts needs transactions_r; nothing else is asked for.
OAUTH = OAuth2Provider(
    label=LABEL,
    token_url=TOKEN_URL,
    encoding=Encoding.FORM,
    client_auth=ClientAuth.PUBLIC,
    lifetime=timedelta(hours=1),
    refreshes=True,
    scopes=("transactions_r",),
    code_refused=said(
        "Etsy did not accept the authorization (it may have expired). Start Reauthorize again."
    ),
    refresh_refused=said(
        "Etsy no longer accepts this plugin's authorization: the shop owner removed the app's "
        "access, or the authorization expired. Reauthorize the plugin."
    ),
    not_connected=said("This Etsy plugin has no authorization yet. Connect it from Etsy."),
)

# Etsy's default allowance is 10 requests/s for the whole app; one plugin
# takes at most half of it so a backfill never starves the others.
RATE_PER_SECOND = 5.0
BURST = 10
# Etsy's daily allowance is a sliding 24-hour window, so there is no moment
# it "resets": capacity comes back as the requests of 24 hours ago age out.
# A quarter of an hour is long enough not to ask in vain over and over, and
# a 429's own retry-after, when Etsy sends one, overrides it.
DAILY_QUOTA_PAUSE = 900.0

PAGE_SIZE = 100  # the largest `limit` Etsy accepts
LIST_MAX_WAIT = 10.0
# A listing that has not ended after this many pages (a million receipts)
# is paging in circles; no sync task lives long enough to fetch that many.
MAX_PAGES = 10_000

_SHAPE_MESSAGE = said("Etsy sent this order in a shape we did not expect.")


# --- Order numbers -------------------------------------------------------------------


def receipt_id(number: str) -> str | None:
    """The receipt id a merchant typed ('#2345678901', 'Order #2345678901'), or None when it cannot be one."""
    value = normalize_order_number(number)
    if value.lower().startswith("order"):
        value = normalize_order_number(value[5:])
    return value if value.isdigit() and len(value) <= 20 else None


def order_number_read(number: str) -> str:
    """The receipt id ``number`` means; raises OrderNumberProblem, saying what one looks like, when it cannot be one."""
    value = receipt_id(number)
    if value is None:
        raise OrderNumberProblem(
            said(
                "Etsy order numbers are digits only, like 2345678901: the number after “Order #” "
                "on the Orders & Shipping page."
            )
        )
    return value


# --- Reading Etsy's answers ---------------------------------------------------------------


_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER

STATUS = "status"
IS_PAID = "is_paid"

# Etsy's words for a receipt's state, read whole (Open API v3 ShopReceipt:
# ``status`` and ``is_paid``). Of the two, the more severe decides: an open
# receipt that is not paid waits for the payment.
STATUSES = StatusTable(
    "etsy",
    [
        StatusWord("paid", "The buyer paid.", OrderState.IMPORTABLE, _I, field=STATUS),
        StatusWord("completed", "Paid and shipped.", OrderState.IMPORTABLE, _I, field=STATUS),
        StatusWord("open", "Placed and not shipped yet.", OrderState.IMPORTABLE, _I, field=STATUS),
        # Paid, and part of it still ships: as Shopify's PARTIALLY_REFUNDED.
        StatusWord(
            "partially refunded", "Part of the payment was refunded.", OrderState.IMPORTABLE, _I, field=STATUS
        ),
        StatusWord(
            "payment processing",
            "The buyer's payment has not cleared yet.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "Etsy to finish processing the buyer's payment"),
            STATUS,
        ),
        StatusWord(
            "canceled",
            "The order was cancelled.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled on Etsy"),
            STATUS,
        ),
        StatusWord(
            "fully refunded",
            "The whole payment was refunded.",
            OrderState.REFUNDED,
            _X,
            said_p("Step 6: the order will not import: …", "it was refunded in full"),
            STATUS,
        ),
        StatusWord("true", "The receipt is paid.", OrderState.IMPORTABLE, _I, field=IS_PAID),
        StatusWord(
            "false",
            "The receipt is not paid yet.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer's payment"),
            IS_PAID,
        ),
    ],
    unknown=lambda word, field: StatusWord(
        word,
        "A receipt status this version of Commerce Kitty does not know.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "you to check it on Etsy (its status “%(word)s” is one Commerce Kitty does not know yet)",
            word=word,
        ),
        field,
    ),
)


def receipt_state(status: str, is_paid: bool) -> tuple[StatusWord, str]:
    """(the deciding table entry, Etsy's own words) for a receipt's status and is_paid.

    canceled and fully refunded never import, whatever was paid; a receipt
    that is not paid waits for the payment; "payment processing" waits for
    it to clear even when is_paid says true.
    """
    word = status.strip().lower()
    words = word or "no status"
    by_status = STATUSES.read(word, STATUS)
    by_payment = STATUSES.read("true" if is_paid else "false", IS_PAID)
    deciding = most_severe([by_status, by_payment])
    if not is_paid and by_status.outcome == ImportOutcome.IMPORTABLE:
        words = f"{words}, not paid"  # Etsy's fields as the merchant looks them up, quoted as data
    return deciding, words


def _money(value: Any) -> tuple[Decimal | None, str]:
    """Etsy's Money object ({amount, divisor, currency_code}) as (amount, currency)."""
    if not isinstance(value, dict):
        return None, ""
    currency = text_or_empty(value.get("currency_code"))
    amount, divisor = value.get("amount"), value.get("divisor")
    if (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or not isinstance(divisor, int)
        or divisor <= 0
    ):
        return None, currency
    try:
        return parse_total(Decimal(amount) / Decimal(divisor)), currency
    except InvalidOperation:
        return None, currency


def _line(transaction: Any) -> SourceOrderLine | None:
    if not isinstance(transaction, dict):
        raise TypeError("transaction")
    quantity = transaction.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int | str):
        raise TypeError("quantity")
    quantity = int(quantity)
    if quantity <= 0:
        return None
    return SourceOrderLine(
        sku=text_or_empty(transaction.get("sku")),
        quantity=quantity,
        title=text_or_empty(transaction.get("title")),
    )


def source_order(receipt: Any) -> SourceOrder:
    """Normalize one receipt (raises MalformedOrder on a bad shape).

    Values of the wrong kind are coerced rather than passed on: text fields
    become text (or empty), a total we cannot keep becomes None. Etsy sends
    ``buyer_email`` as null when it does not share it with the app.
    """
    try:
        if not isinstance(receipt, dict):
            raise TypeError("receipt")
        number = receipt["receipt_id"]
        created = receipt.get("created_timestamp", receipt.get("create_timestamp"))
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise TypeError("receipt_id")
        if isinstance(created, bool) or not isinstance(created, int | float):
            raise TypeError("created_timestamp")
        is_paid = receipt.get("is_paid")
        if not isinstance(is_paid, bool):
            raise TypeError("is_paid")
        status, platform_status = receipt_state(text_or_empty(receipt.get("status")), is_paid)
        transactions = receipt.get("transactions") or []
        if not isinstance(transactions, list):
            raise TypeError("transactions")
        total, currency = _money(receipt.get("grandtotal"))
        email = receipt.get("buyer_email")
        first, _, last = text_or_empty(receipt.get("name")).strip().rpartition(" ")
        if not first:
            first, last = last, ""
        return SourceOrder(
            id=str(number),
            number=str(number),
            placed_at=datetime.fromtimestamp(created, UTC),
            platform_status=platform_status,
            **source_state(status),
            lines=tuple(line for line in map(_line, transactions) if line is not None),
            buyer=Buyer(
                email=text_or_empty(email),
                first_name=first,
                last_name=last,
                address_line1=text_or_empty(receipt.get("first_line")),
                city=text_or_empty(receipt.get("city")),
                postcode=text_or_empty(receipt.get("zip")),
                country=text_or_empty(receipt.get("country_iso")),
            ),
            currency=currency,
            total=total,
            buyer_contact_shared=email is not None,
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise MalformedOrder(_SHAPE_MESSAGE) from exc


def _listed_order(raw: Any) -> SourceOrder | UnreadableOrder:
    """One receipt of a listing: normalized, or marked unreadable so the others still import."""
    try:
        return source_order(raw)
    except MalformedOrder:
        order_id = text_or_empty(raw.get("receipt_id")) if isinstance(raw, dict) else ""
        return UnreadableOrder(id=order_id, number=order_id, reason=_SHAPE_MESSAGE)


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    try:
        return int(headers.get(name, ""))
    except ValueError:
        return None


def _quota_wait(headers: httpx.Headers) -> float | None:
    """Seconds until Etsy's allowance has room again, from its x-remaining-* headers; None: room now."""
    if _header_int(headers, "x-remaining-today") == 0:
        return DAILY_QUOTA_PAUSE
    if _header_int(headers, "x-remaining-this-second") == 0:
        return 1.0
    return None


def _retry_after(response: httpx.Response) -> float | None:
    """A 429's wait: retry-after when Etsy sends it, else what the x-remaining-* headers say."""
    wait = parse_retry_after(response.headers.get("retry-after"))
    return wait if wait is not None else _quota_wait(response.headers)


class _NotFound(Exception):
    """Etsy answered 404: no such receipt, shop or user."""


class _TokenRejected(NotAuthorized):
    """Etsy answered 401: the access token itself is expired or revoked (a 403 is a missing scope)."""


class _EtsyHTTP(PlatformHTTP):
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = super()._send(method, path, **kwargs)
        if 200 <= response.status_code < 300:
            # Spent the allowance: everyone sharing the bucket holds off now,
            # rather than each learning it from a 429.
            wait = _quota_wait(response.headers)
            if wait is not None:
                self.throttle.block_for(wait)
        return response

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code == 404:
            raise _NotFound
        if response.status_code == 401:
            raise _TokenRejected(self.unauthorized_message)
        super()._raise_for_status(response)


# --- The shop owner's authorization (OAuth 2 with PKCE) -----------------------------------


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, code_challenge) pair, S256 (RFC 7636).

    Keep the verifier with the authorization state; send the challenge in
    the authorization URL and the verifier with the code exchange.
    """
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    return verifier, code_challenge(verifier)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    *,
    keystring: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    scopes: tuple[str, ...] = OAUTH.scopes,
    connect_url: str = CONNECT_URL,
) -> str:
    """Etsy's consent page; Etsy sends the shop owner back to ``redirect_uri`` with ``code`` and ``state``."""
    query = urlencode(
        {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "client_id": keystring,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{connect_url}?{query}"


def user_of_token(access_token: str) -> str:
    """The shop owner's user id: Etsy prefixes its access tokens with it (``<user_id>.<token>``)."""
    return access_token.split(".", 1)[0] if "." in access_token else ""


def shop_of_user(
    credentials: dict[str, Any],
    *,
    keystring: str,
    shared_secret: str,
    connection: Connection,
    base_url: str = API_URL,
) -> dict[str, str]:
    """The shop the authorizing user owns, from the credentials the code exchange brought: ``{"shop_id", "shop_name"}``.

    NotAuthorized when the account has no shop: only a shop owner's
    authorization can read its orders.
    """
    token = str(credentials.get("access_token") or "")
    user_id = str(credentials.get("user_id") or "")
    if not token or not user_id.isdigit():
        raise NotAuthorized(
            said("Etsy's authorization did not say which account approved it. Start Reauthorize again.")
        )
    with _EtsyHTTP(
        connection,
        label=LABEL,
        base_url=base_url.rstrip("/"),
        throttle=throttle_for(connection.bucket, rate=RATE_PER_SECOND, burst=BURST),
        headers={
            "x-api-key": f"{keystring}:{shared_secret}" if shared_secret else keystring,
            "Authorization": f"Bearer {token}",
        },
        secrets=[token, shared_secret],
    ) as http:
        try:
            shop = http.request_json("GET", f"{API_PREFIX}/users/{user_id}/shops").data
        except _NotFound:
            shop = None
    shop_id = shop.get("shop_id") if isinstance(shop, dict) else None
    if isinstance(shop_id, bool) or not isinstance(shop_id, int):
        raise NotAuthorized(
            said(
                "The Etsy account that approved the connection has no shop. Sign in to Etsy as the shop's owner "
                "and start Reauthorize again."
            )
        )
    return {"shop_id": str(shop_id), "shop_name": text_or_empty(shop.get("shop_name"))}


# --- The client ------------------------------------------------------------------------------


class EtsyClient(PlatformClient):
    """One Etsy shop, via its owner's OAuth authorization.

    Credentials: ``{"shop_id": "12345678", "access_token": "…", "refresh_token": "…",
    "access_token_expires_at": ISO 8601}``. The app's keystring and
    shared secret come from settings (``ETSY_KEYSTRING``, ``ETSY_SHARED_SECRET``)
    unless the plugin carries its own (``keystring``, ``shared_secret``).
    ``"base_url"`` and ``"token_url"`` point at a local server in tests.
    Renewed tokens are handed to ``Connection.credentials_renewed`` the moment
    Etsy issues them: the refresh token they replace is spent.
    """

    key = "etsy"
    label = LABEL
    capabilities = Capabilities(backfill=True, manual_sync=True, history_days=None)
    credential_fields = ("shop_id", "access_token", "refresh_token")

    def get_order(self, number: str) -> SourceOrder | None:
        """The receipt with this number, or None (also when ``number`` cannot be one)."""
        wanted = receipt_id(number)
        if wanted is None:
            return None
        try:
            data = self._get(f"{self._shop_path()}/receipts/{wanted}")
        except _NotFound:
            return None
        return source_order(data)

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Receipts created at or after ``since``, oldest first, 100 per request.

        Raises PaginationStuck when a page repeats the one before it or after MAX_PAGES pages.
        """
        if since.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
            since = since.replace(tzinfo=UTC)
        params: dict[str, Any] = {
            "min_created": int(since.timestamp()),
            "limit": PAGE_SIZE,
            "sort_on": "created",
            "sort_order": "asc",
        }
        path = f"{self._shop_path()}/receipts"
        listed = 0
        previous_ids: set[str] = set()
        for page in range(MAX_PAGES):
            data = self._shop_get(path, {**params, "offset": page * PAGE_SIZE}, max_wait=LIST_MAX_WAIT)
            results = data.get("results") if isinstance(data, dict) else None
            if not isinstance(results, list):
                raise PlatformUnavailable(said("Etsy sent an order list in a shape we did not expect."))
            ids = {str(raw.get("receipt_id")) for raw in results if isinstance(raw, dict)}
            if ids and ids <= previous_ids:
                raise PaginationStuck(
                    said_n(
                        "Etsy sent the same page of orders again, so we stopped after %(count)s order. "
                        "This is a fault on Etsy's side; contact support if it lasts.",
                        "Etsy sent the same page of orders again, so we stopped after %(count)s orders. "
                        "This is a fault on Etsy's side; contact support if it lasts.",
                        listed,
                    )
                )
            previous_ids = ids
            for raw in results:
                order = _listed_order(raw)
                if isinstance(order, UnreadableOrder) or order.placed_at >= since:
                    listed += 1
                    yield order
            count = data.get("count")
            if len(results) < PAGE_SIZE or (isinstance(count, int) and (page + 1) * PAGE_SIZE >= count):
                return
        raise PaginationStuck(
            said_n(
                "Etsy's order list did not end after %(pages)s pages, so we stopped after %(count)s order.",
                "Etsy's order list did not end after %(pages)s pages, so we stopped after %(count)s orders.",
                listed,
                pages=MAX_PAGES,
            )
        )

    def check_authorization(self) -> None:
        """List one receipt: the cheapest call that needs the transactions_r scope."""
        self._shop_get(f"{self._shop_path()}/receipts", {"limit": 1})

    @property
    def throttle(self) -> Throttle:
        return throttle_for(self.connection.bucket, rate=RATE_PER_SECOND, burst=BURST)

    # --- internals ---------------------------------------------------------

    def _shop_path(self) -> str:
        shop_id = text_or_empty(self.connection.credentials.get("shop_id")).strip()
        if not shop_id.isdigit():
            raise NotAuthorized(
                said("This Etsy plugin does not say which shop it is for. Reconnect it from Etsy.")
            )
        return f"{API_PREFIX}/shops/{shop_id}"

    def _app_keys(self) -> tuple[str, str]:
        keystring = str(
            self.connection.credentials.get("keystring") or getattr(settings, "ETSY_KEYSTRING", "") or ""
        )
        shared = str(
            self.connection.credentials.get("shared_secret")
            or getattr(settings, "ETSY_SHARED_SECRET", "")
            or ""
        )
        if not keystring:
            raise NotAuthorized(
                said(
                    "Commerce Kitty's Etsy app key is not configured, so no Etsy plugin can connect. Contact support."
                )
            )
        return keystring, shared

    def _http(self, token: str) -> PlatformHTTP:
        keystring, shared = self._app_keys()
        base_url = str(self.connection.credentials.get("base_url") or API_URL).rstrip("/")
        return _EtsyHTTP(
            self.connection,
            label=self.label,
            base_url=base_url,
            throttle=self.throttle,
            headers={
                "x-api-key": f"{keystring}:{shared}" if shared else keystring,
                "Authorization": f"Bearer {token}",
            },
            unauthorized_message=said(
                "Etsy rejected the plugin's access token: the shop owner removed the app's access, "
                "or the authorization expired. Reauthorize the plugin."
            ),
            forbidden_message=said(
                "Etsy refused access: the authorization lacks the permission to read orders "
                "(transactions_r), or it is for another shop. Reauthorize the plugin."
            ),
            retry_after_hook=_retry_after,
            secrets=[token, shared, str(self.connection.credentials.get("refresh_token") or "")],
        )

    def _shop_get(self, path: str, params: dict[str, Any] | None = None, *, max_wait: float = 2.0) -> Any:
        """GET a path under the shop, where 404 means the shop itself is gone or not this account's."""
        try:
            return self._get(path, params, max_wait=max_wait)
        except _NotFound:
            raise NotAuthorized(
                said(
                    "Etsy has no shop with this plugin's shop id: the shop was closed, or the plugin is "
                    "connected to another Etsy account. Reconnect the plugin from the shop's owner account."
                )
            ) from None

    def _get(self, path: str, params: dict[str, Any] | None = None, *, max_wait: float = 2.0) -> Any:
        """GET ``path`` with a live access token; one Etsy turns down (401) that was not just issued
        is renewed once and the call sent again."""
        credentials = self.connection.credentials
        keystring, _shared = self._app_keys()
        token_url = str(credentials.get("token_url") or getattr(settings, "ETSY_TOKEN_URL", "") or "")
        token = AccessToken(OAUTH, self.connection, keys=AppKeys(keystring), token_url=token_url)

        def send(access_token: str) -> Any:
            with self._http(access_token) as http:
                return http.request_json("GET", path, params=params, max_wait=max_wait).data

        return token.call(send, rejected=_TokenRejected)


class EtsyAuthorization(AuthorizationFlow):
    """Etsy's OAuth 2 consent with PKCE: the verifier waits, encrypted, with the single-use state;
    the code it brings back is traded for tokens, and the shop must be the plugin's.

    Configured by ``ETSY_KEYSTRING`` (and ``ETSY_SHARED_SECRET`` for the API calls).
    """

    def available(self) -> bool:
        return registry.provider(EtsyClient.key).app_keys_configured()

    def reconnect_advice(self) -> Said:
        return said("Reconnect it from Configuration → Plugins, signing in to Etsy as the shop's owner.")

    def begin(self, credentials: dict) -> dict:
        verifier, _challenge = pkce_pair()
        return {"code_verifier": verifier}

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        return authorize_url(
            keystring=settings.ETSY_KEYSTRING,
            redirect_uri=start.callback_url,
            state=start.state,
            code_challenge=code_challenge(start.kept["code_verifier"]),
            connect_url=settings.ETSY_CONNECT_URL,
        )

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        code = answer.params.get("code", "")
        if not code:  # the owner declined (error=access_denied)
            return None
        if not answer.kept.get("code_verifier"):
            raise CallbackRejected(said("This authorization was not started here. Start Reauthorize again."))
        tokens = OAUTH.exchange_code(
            code,
            keys=AppKeys(settings.ETSY_KEYSTRING),
            connection=answer.connection,
            token_url=settings.ETSY_TOKEN_URL,
            redirect_uri=answer.callback_url,
            extra={"code_verifier": answer.kept["code_verifier"]},
        ).credentials()
        tokens["user_id"] = user_of_token(tokens["access_token"])
        shop = shop_of_user(
            tokens,
            keystring=settings.ETSY_KEYSTRING,
            shared_secret=settings.ETSY_SHARED_SECRET,
            connection=answer.connection,
        )
        known = str(answer.credentials.get("shop_id") or "")
        if known and str(shop["shop_id"]) != known:
            raise CallbackRejected(
                said(
                    "That Etsy account owns the shop “%(shop)s”, not this plugin's. Sign in as "
                    "the owner of the plugin's shop and start Reauthorize again.",
                    shop=shop["shop_name"],
                )
            )
        return {**tokens, "shop_id": str(shop["shop_id"])}


AUTHORIZATION = EtsyAuthorization()


# Each state's Etsy words, read through receipt_state so the demo never says otherwise.
DEMO_STATUSES: dict[OrderState, StatusWord] = {}
for _status, _paid in (("paid", True), ("open", False), ("canceled", False), ("fully refunded", True)):
    _deciding, _words = receipt_state(_status, _paid)
    DEMO_STATUSES.setdefault(_deciding.state, replace(_deciding, word=_words))
