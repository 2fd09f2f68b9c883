"""BigCommerce, through the V2 Orders API with an app's (or API account's) access token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

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
    ImportOutcome,
    MalformedOrder,
    NotAuthorized,
    OrderState,
    PaginationStuck,
    PlatformClient,
    PlatformUnavailable,
    SourceOrder,
    SourceOrderLine,
    StatusTable,
    StatusWord,
    UnreadableOrder,
    normalize_order_number,
    parse_total,
    source_state,
    text_or_empty,
)
from apps.platforms.http import PlatformHTTP, parse_retry_after
from apps.platforms.oauth2 import AppKeys, ClientAuth, Encoding, OAuth2Provider
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.said import Said, said, said_n, said_p

API_ORIGIN = "https://api.bigcommerce.com"

# BigCommerce's app install ("a modified version of the OAuth2 authorization
# code grant"): JSON with the app's keys in the body, and the scope and
# context the auth callback brought repeated. The answer is a permanent access
# token, good until the merchant uninstalls the app or accepts changed scopes
# (then a fresh install sends a new code): no expiry, no refresh token.
OAUTH = OAuth2Provider(
    label="BigCommerce",
    token_url="https://login.bigcommerce.com/oauth2/token",
    encoding=Encoding.JSON,
    client_auth=ClientAuth.BODY,
    lifetime=None,
    refreshes=False,
    code_refused=said("BigCommerce did not accept the installation. Start Reauthorize again."),
)

# BigCommerce's quota is per store, per 30-second window, and shared by every
# app the merchant installed (150 requests on Standard plans): 3 requests/s
# leaves room for the others. Each response says how many requests are left
# and when the window resets; we stop early when none are (see _pace).
RATE_PER_SECOND = 3.0
BURST = 10
# Without a reset hint, wait out one whole quota window.
QUOTA_WINDOW_SECONDS = 30.0

PAGE_SIZE = 250  # the API's maximum `limit`
LIST_MAX_WAIT = 10.0
# A listing that has not ended after this many pages (2.5 million orders) is
# paging in circles; likewise one order's products after MAX_LINE_PAGES.
MAX_PAGES = 10_000
MAX_LINE_PAGES = 100

_SHAPE_MESSAGE = said("BigCommerce sent this order in a shape we did not expect.")

_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER

# BigCommerce's order statuses by status_id, read whole (the Orders V2
# reference and "Understanding Order Statuses"); ``word`` is the id, the
# name is the start of the meaning. The order's own ``status`` text is shown,
# since a store may rename its statuses.
STATUSES = StatusTable(
    "bigcommerce",
    [
        StatusWord(
            "0",
            "Incomplete: the shopper reached the payment page but did not complete the transaction.",
            OrderState.CHECKOUT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer to complete checkout and pay"),
        ),
        StatusWord(
            "1",
            "Pending: the customer started checkout but did not complete it.",
            OrderState.CHECKOUT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer to complete checkout"),
        ),
        StatusWord(
            "7",
            "Awaiting Payment: checkout completed, payment not confirmed yet (authorized, not captured).",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the payment to be confirmed"),
        ),
        StatusWord(
            "12",
            "Manual Verification Required: on hold while something is confirmed by hand.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "you to verify it in BigCommerce"),
        ),
        StatusWord(
            "13",
            "Disputed: the customer opened a dispute over the payment, or the store marked "
            "the order fraudulent.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "the payment dispute to be resolved"),
        ),
        StatusWord(
            "11", "Awaiting Fulfillment: checkout completed and payment confirmed.", OrderState.IMPORTABLE, _I
        ),
        StatusWord(
            "9", "Awaiting Shipment: pulled and packaged, awaiting the carrier.", OrderState.IMPORTABLE, _I
        ),
        StatusWord(
            "8", "Awaiting Pickup: packaged, awaiting the customer's pickup.", OrderState.IMPORTABLE, _I
        ),
        StatusWord("2", "Shipped: shipped, receipt not confirmed.", OrderState.IMPORTABLE, _I),
        StatusWord("3", "Partially Shipped: only some items shipped.", OrderState.IMPORTABLE, _I),
        StatusWord(
            "10",
            "Completed: shipped or picked up and received, or a digital order paid for.",
            OrderState.IMPORTABLE,
            _I,
        ),
        # Paid, and part of it still ships: as Shopify's PARTIALLY_REFUNDED.
        StatusWord(
            "14", "Partially Refunded: the store refunded part of the order.", OrderState.IMPORTABLE, _I
        ),
        StatusWord(
            "5",
            "Cancelled: the store cancelled the order.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled in BigCommerce"),
        ),
        StatusWord(
            "6",
            "Declined: the store declined the order (e.g. no manual payment arrived).",
            OrderState.FAILED,
            _X,
            said_p("Step 6: the order will not import: …", "the order was declined in BigCommerce"),
        ),
        StatusWord(
            "4",
            "Refunded: the store refunded the order.",
            OrderState.REFUNDED,
            _X,
            said_p("Step 6: the order will not import: …", "it was refunded"),
        ),
    ],
    unknown=lambda word, field: StatusWord(
        word,
        "A status id this version of Commerce Kitty does not know.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "you to check it in BigCommerce (status id %(word)s is one Commerce Kitty does not know yet)",
            word=word,
        ),
    ),
)


def status_name(word: StatusWord) -> str:
    """BigCommerce's default name for a status: "Awaiting Payment"."""
    return word.meaning.split(":", 1)[0]


def order_state(order: dict[str, Any]) -> tuple[StatusWord, str]:
    """(the table entry, BigCommerce's word) for an order's ``status_id``.

    A status id BigCommerce adds later keeps the order out, shown with its
    own word: an unknown state is never imported silently.
    """
    raw = order.get("status_id")
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise MalformedOrder(_SHAPE_MESSAGE)
    status_id = int(raw)
    entry = STATUSES.read(str(status_id))
    known = STATUSES.get(str(status_id))
    word = text_or_empty(order.get("status"))
    return entry, word or (status_name(known) if known else f"status {status_id}")


def _parse_date(value: Any) -> datetime:
    """``date_created`` is RFC 2822 ("Tue, 05 Jan 2026 10:00:00 +0000")."""
    if not isinstance(value, str):
        raise MalformedOrder(_SHAPE_MESSAGE)
    parsed = parsedate_to_datetime(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _line(item: Any) -> SourceOrderLine | None:
    if not isinstance(item, dict):
        raise MalformedOrder(_SHAPE_MESSAGE)
    quantity = int(item.get("quantity") or 0) - int(item.get("quantity_refunded") or 0)
    if quantity <= 0:  # refunded entirely: nothing left to import
        return None
    return SourceOrderLine(
        sku=text_or_empty(item.get("sku")), quantity=quantity, title=text_or_empty(item.get("name"))
    )


def source_order(order: Any, products: list[Any]) -> SourceOrder:
    """Normalize one V2 order object and its products (raises MalformedOrder on a bad shape)."""
    try:
        if not isinstance(order, dict) or not isinstance(products, list):
            raise MalformedOrder(_SHAPE_MESSAGE)
        status, word = order_state(order)
        order_id = order["id"]
        if isinstance(order_id, bool) or not isinstance(order_id, int | str) or not str(order_id).strip():
            raise MalformedOrder(_SHAPE_MESSAGE)
        billing = order.get("billing_address") or {}
        if not isinstance(billing, dict):
            raise MalformedOrder(_SHAPE_MESSAGE)
        return SourceOrder(
            id=str(order_id),
            number=normalize_order_number(str(order_id)),
            placed_at=_parse_date(order.get("date_created")),
            platform_status=word,
            **source_state(status),
            lines=tuple(line for line in map(_line, products) if line is not None),
            buyer=Buyer(
                email=text_or_empty(billing.get("email")),
                first_name=text_or_empty(billing.get("first_name")),
                last_name=text_or_empty(billing.get("last_name")),
                address_line1=text_or_empty(billing.get("street_1")),
                city=text_or_empty(billing.get("city")),
                postcode=text_or_empty(billing.get("zip")),
                country=text_or_empty(billing.get("country_iso2")),
            ),
            currency=text_or_empty(order.get("currency_code")),
            total=parse_total(order.get("total_inc_tax")),
        )
    except MalformedOrder:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError) as exc:
        raise MalformedOrder(_SHAPE_MESSAGE) from exc


def _listed_id(raw: Any) -> str:
    return text_or_empty(raw.get("id")) if isinstance(raw, dict) else ""


class BigCommerceClient(PlatformClient):
    """One BigCommerce store.

    Credentials: ``{"store_hash": "abc123", "access_token": "…"}`` (an app's
    token, or an API account's with Orders read-only). ``"base_url"``
    replaces ``https://api.bigcommerce.com`` for tests against a local server.
    """

    key = "bigcommerce"
    label = "BigCommerce"
    capabilities = Capabilities(backfill=True, manual_sync=True, history_days=None)
    credential_fields = ("store_hash", "access_token")

    def get_order(self, number: str) -> SourceOrder | None:
        """The order with this id (BigCommerce's order number is its id), or None."""
        wanted = normalize_order_number(number)
        if not wanted.isdigit() or len(wanted) > 18:
            return None
        with self._http() as http:
            response = http.request_json("GET", f"orders/{wanted}", accept_statuses=(404,))
            _pace(http, response.headers)
            if response.status_code == 404 or response.data is None:
                return None
            source_order(response.data, [])  # an order we cannot read is not worth its products
            return source_order(response.data, self._products(http, response.data, max_wait=2.0))

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Orders created at or after ``since``, oldest first, 250 per request, each with its products.

        Raises PaginationStuck when a page repeats orders of the page before
        (a cache ignoring ``page``) or after MAX_PAGES pages.
        """
        if since.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
            since = since.replace(tzinfo=UTC)
        since = since.astimezone(UTC)
        params = {
            "min_date_created": format_datetime(since.replace(microsecond=0), usegmt=True),
            "sort": "date_created:asc",
            "limit": PAGE_SIZE,
        }
        listed = 0
        previous_ids: set[str] = set()
        with self._http() as http:
            for page in range(1, MAX_PAGES + 1):
                orders = self._orders_page(http, {**params, "page": page})
                ids = {_listed_id(raw) for raw in orders} - {""}
                if ids and ids <= previous_ids:
                    raise PaginationStuck(
                        said_n(
                            "BigCommerce sent the same page of orders again (page %(page)s repeated page "
                            "%(previous)s), so we stopped after %(count)s order. This is a fault on "
                            "BigCommerce's side or a proxy's; contact support if it lasts.",
                            "BigCommerce sent the same page of orders again (page %(page)s repeated page "
                            "%(previous)s), so we stopped after %(count)s orders. This is a fault on "
                            "BigCommerce's side or a proxy's; contact support if it lasts.",
                            listed,
                            page=page,
                            previous=page - 1,
                        )
                    )
                previous_ids = ids
                for raw in orders:
                    order = self._listed_order(http, raw)
                    if isinstance(order, UnreadableOrder) or order.placed_at >= since:
                        listed += 1
                        yield order
                if len(orders) < PAGE_SIZE:
                    return
        raise PaginationStuck(
            said_n(
                "BigCommerce's order list did not end after %(pages)s pages, so we stopped after %(count)s order.",
                "BigCommerce's order list did not end after %(pages)s pages, so we stopped after %(count)s orders.",
                listed,
                pages=MAX_PAGES,
            )
        )

    def check_authorization(self) -> None:
        """Count the store's orders: the cheapest call that needs the Orders scope."""
        with self._http() as http:
            self._get(http, "orders/count", {}, max_wait=2.0)

    # --- internals ---------------------------------------------------------

    @property
    def throttle(self) -> Throttle:
        return throttle_for(self.connection.bucket, rate=RATE_PER_SECOND, burst=BURST)

    def _http(self) -> PlatformHTTP:
        credentials = self.connection.credentials
        token = str(credentials.get("access_token") or "").strip()
        store_hash = str(credentials.get("store_hash") or "").strip()
        if not token or not store_hash.isalnum():
            raise NotAuthorized(
                said(
                    "This BigCommerce plugin is missing its store hash or access token. "
                    "Reconnect it from Configuration → Plugins."
                )
            )
        origin = str(credentials.get("base_url") or "").rstrip("/") or API_ORIGIN
        return PlatformHTTP(
            self.connection,
            label=self.label,
            base_url=f"{origin}/stores/{store_hash}/v2/",
            throttle=self.throttle,
            headers={"X-Auth-Token": token},
            unauthorized_message=said(
                "BigCommerce rejected the access token: the app was uninstalled, the API account "
                "was deleted, or the token is wrong. Reauthorize the plugin."
            ),
            forbidden_message=said(
                "BigCommerce refused access: the token lacks the Orders (read-only) scope. "
                "Reauthorize the plugin and approve every scope it asks for."
            ),
            retry_after_hook=_retry_after_from_429,
            secrets=[token],
        )

    def _get(self, http: PlatformHTTP, path: str, params: dict[str, Any], *, max_wait: float) -> Any:
        response = http.request_json("GET", path, params=params, max_wait=max_wait)
        _pace(http, response.headers)
        return response.data

    def _orders_page(self, http: PlatformHTTP, params: dict[str, Any]) -> list[Any]:
        data = self._get(http, "orders", params, max_wait=LIST_MAX_WAIT)
        if data is None:  # 204 No Content: no (more) orders
            return []
        if not isinstance(data, list):
            raise PlatformUnavailable(said("BigCommerce sent an order list in a shape we did not expect."))
        return data

    def _products(self, http: PlatformHTTP, order: Any, *, max_wait: float) -> list[Any]:
        order_id = _listed_id(order)
        if not order_id.isdigit():
            raise MalformedOrder(_SHAPE_MESSAGE)
        products: list[Any] = []
        previous_ids: set[str] = set()
        for page in range(1, MAX_LINE_PAGES + 1):
            data = self._get(
                http, f"orders/{order_id}/products", {"page": page, "limit": PAGE_SIZE}, max_wait=max_wait
            )
            if data is None:
                return products
            if not isinstance(data, list):
                raise MalformedOrder(_SHAPE_MESSAGE)
            ids = {_listed_id(item) for item in data} - {""}
            if ids and ids <= previous_ids:
                raise PaginationStuck(said("BigCommerce sent the same page of an order's products again."))
            previous_ids = ids
            products.extend(data)
            if len(data) < PAGE_SIZE:
                return products
        raise PaginationStuck(
            said("BigCommerce did not end one order's products after %(pages)s pages.", pages=MAX_LINE_PAGES)
        )

    def _listed_order(self, http: PlatformHTTP, raw: Any) -> SourceOrder | UnreadableOrder:
        """One order of a listing: normalized, or marked unreadable so the others still import."""
        try:
            source_order(raw, [])  # an order we cannot read is not worth its products
            return source_order(raw, self._products(http, raw, max_wait=LIST_MAX_WAIT))
        except MalformedOrder:
            order_id = _listed_id(raw)
            return UnreadableOrder(id=order_id, number=order_id, reason=_SHAPE_MESSAGE)


def _reset_seconds(headers: httpx.Headers) -> float | None:
    try:
        milliseconds = float(headers["X-Rate-Limit-Time-Reset-Ms"])
    except (KeyError, ValueError):
        return None
    if milliseconds != milliseconds or milliseconds < 0:  # NaN, or nonsense
        return None
    return milliseconds / 1000


def _retry_after_from_429(response: httpx.Response) -> float | None:
    """BigCommerce says when its quota window resets; else Retry-After; else a whole window."""
    for wait in (_reset_seconds(response.headers), parse_retry_after(response.headers.get("Retry-After"))):
        if wait is not None:
            return wait
    return QUOTA_WINDOW_SECONDS


def _pace(http: PlatformHTTP, headers: httpx.Headers) -> None:
    """No requests left in this window: hold the bucket off until it resets, rather than earn a 429."""
    left = headers.get("X-Rate-Limit-Requests-Left")
    if left is not None and left.strip() == "0":
        wait = _reset_seconds(headers)
        if wait:
            http.throttle.block_for(wait)


# --- Reauthorize: install the app again ----------------------------------------


class BigCommerceAuthorization(AuthorizationFlow):
    """The merchant installs (or re-installs) our app on their store; BigCommerce calls the app's
    Auth Callback URL with a code, the granted scopes and ``context=stores/<hash>``.

    BigCommerce's install carries no state of ours, so the state is kept in
    the merchant's session, and the answer is used only when it is for the
    plugin's own store. Configured by ``BIGCOMMERCE_CLIENT_ID``,
    ``BIGCOMMERCE_CLIENT_SECRET`` and ``BIGCOMMERCE_APP_ID``.
    """

    state_in_session = True

    def available(self) -> bool:
        return registry.provider(BigCommerceClient.key).app_keys_configured()

    def reconnect_advice(self) -> Said:
        return said(
            "Reconnect it from Configuration → Plugins with a new access token: in BigCommerce, "
            "Settings → API → Store-level API accounts, create one with Orders read-only."
        )

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        login = settings.BIGCOMMERCE_LOGIN_URL.rstrip("/")
        return f"{login}/app/{settings.BIGCOMMERCE_APP_ID}/install"

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        if answer.params.get("error"):
            return None
        store_hash = answer.params.get("context", "").removeprefix("stores/")
        if store_hash != str(answer.credentials.get("store_hash") or ""):
            raise CallbackRejected(
                said(
                    "This installation is for another BigCommerce store than the plugin's. "
                    "Sign in to the plugin's store and start Reauthorize again."
                )
            )
        return OAUTH.exchange_code(
            answer.params.get("code", ""),
            keys=AppKeys(settings.BIGCOMMERCE_CLIENT_ID, settings.BIGCOMMERCE_CLIENT_SECRET),
            connection=answer.connection,
            token_url=f"{settings.BIGCOMMERCE_LOGIN_URL.rstrip('/')}/oauth2/token",
            redirect_uri=answer.callback_url,
            extra={"scope": answer.params.get("scope", ""), "context": answer.params.get("context", "")},
        ).credentials()


# Each state's first status, for the demo marketplace to imitate (by its name, as a store shows it).
DEMO_STATUSES = {
    state: replace(word, word=status_name(word)) for state, word in STATUSES.demo_words().items()
}

CLIENT = BigCommerceClient
AUTHORIZATION = BigCommerceAuthorization()
