"""Amazon, through the Selling Partner API's Orders v0 operations.

An order is ``getOrder`` plus ``getOrderItems`` (the SKUs are on the items);
a listing is ``getOrders`` from ``CreatedAfter``, page by page with
``NextToken``. Every call carries a Login with Amazon (LWA) access token,
refreshed from the plugin's stored refresh token shortly before it expires
and kept, encrypted, with the plugin's credentials, so every process uses it.

Amazon limits each operation on its own (getOrder and getOrderItems 0.5
requests/s with a burst of 30, getOrders one a minute with a burst of 20),
so each operation has its own throttle bucket per plugin.

Without a Restricted Data Token Amazon shares neither the buyer's e-mail nor
their name, so orders say so (``buyer_contact_shared=False``) and the
importer does not hold that against them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
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
    parse_total,
    source_state,
    text_or_empty,
)
from apps.platforms.http import PlatformHTTP, parse_retry_after, redact
from apps.platforms.oauth2 import AccessToken, AppKeys, ClientAuth, Encoding, OAuth2Provider
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.said import Said, said, said_n, said_p

LABEL = "Amazon"

# Selling Partner API endpoints by selling region.
REGION_URLS = {
    "na": "https://sellingpartnerapi-na.amazon.com",
    "eu": "https://sellingpartnerapi-eu.amazon.com",
    "fe": "https://sellingpartnerapi-fe.amazon.com",
}
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
SELLER_CENTRAL_URL = "https://sellercentral.amazon.com"

# Login with Amazon's token endpoint: a form with the app's keys in the body.
# The code Seller Central sends back is traded for a refresh token (and a
# first access token); an LWA access token expires one hour after it is
# issued, and the refresh token, which does not rotate, renews it until the
# seller revokes the authorization.
OAUTH = OAuth2Provider(
    label=LABEL,
    token_url=LWA_TOKEN_URL,
    encoding=Encoding.FORM,
    client_auth=ClientAuth.BODY,
    lifetime=timedelta(hours=1),
    refreshes=True,
    code_refused=said(
        "Amazon did not accept the authorization (it may have expired). Start Reauthorize again."
    ),
    refresh_refused=said(
        "Amazon no longer accepts this plugin's authorization: the seller revoked it in Seller "
        "Central, or it expired. Reauthorize the plugin."
    ),
    not_connected=said("This Amazon plugin has no authorization yet. Authorize it from Seller Central."),
)

ORDERS_PATH = "/orders/v0/orders"

# Amazon's published usage plans: (requests per second, burst).
GET_ORDER = "getOrder"
GET_ORDERS = "getOrders"
GET_ORDER_ITEMS = "getOrderItems"
OPERATION_LIMITS = {
    GET_ORDER: (0.5, 30),
    GET_ORDERS: (0.0167, 20),
    GET_ORDER_ITEMS: (0.5, 30),
}

PAGE_SIZE = 100  # getOrders' MaxResultsPerPage maximum
# How long a background listing may sit out pacing before giving up with
# RateLimited; getOrderItems' pace (2 s per order after the burst) fits.
LIST_MAX_WAIT = 10.0
# A listing that has not ended after this many pages (a million orders) is
# paging in circles; likewise one order's items after this many pages.
MAX_PAGES = 10_000
MAX_ITEM_PAGES = 100
# getOrders refuses a CreatedAfter later than two minutes before now.
CREATED_AFTER_LAG = timedelta(minutes=2)
# Orders older than two years are not returned (JP, AU and SG keep more).
HISTORY_DAYS = 730

_SHAPE_MESSAGE = said("Amazon sent this order in a shape we did not expect.")

ORDER_NUMBER_EXAMPLE = "123-1234567-1234567"
_ORDER_NUMBER = re.compile(r"^\d{3}-\d{7}-\d{7}$")

_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER

# Amazon's OrderStatus values, read whole (Orders API v0 reference).
STATUSES = StatusTable(
    "amazon",
    [
        StatusWord(
            "Pending",
            "Placed, payment not yet authorized; not ready for shipment.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "Amazon to authorize the buyer's payment"),
        ),
        StatusWord(
            "PendingAvailability",
            "A pre-order: placed, payment not authorized, the release date in the future.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p(
                "Step 6: the order is waiting for …",
                "the item's release, when Amazon authorizes the buyer's payment",
            ),
        ),
        StatusWord(
            "Unshipped",
            "Payment authorized; ready for shipment, nothing shipped yet.",
            OrderState.IMPORTABLE,
            _I,
        ),
        StatusWord("PartiallyShipped", "One or more items shipped, not all.", OrderState.IMPORTABLE, _I),
        StatusWord("Shipped", "Every item shipped.", OrderState.IMPORTABLE, _I),
        StatusWord(
            "InvoiceUnconfirmed",
            "Every item shipped; the seller has not confirmed the invoice to Amazon yet.",
            OrderState.IMPORTABLE,
            _I,
        ),
        StatusWord(
            "Canceled",
            "The order was cancelled.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled on Amazon"),
        ),
        # A Multi-Channel Fulfillment order Amazon cannot fulfil: not a sale, nothing a payment would fix.
        StatusWord(
            "Unfulfillable",
            "The order cannot be fulfilled (Multi-Channel Fulfillment orders only).",
            OrderState.FAILED,
            _X,
            said_p(
                "Step 6: the order will not import: …",
                "Amazon cannot fulfil it (a Multi-Channel Fulfillment order)",
            ),
        ),
    ],
    unknown=lambda word, field: StatusWord(
        word,
        "An OrderStatus this version of Commerce Kitty does not know.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "you to check it in Seller Central (its status “%(word)s” is one Commerce Kitty does not know yet)",
            word=word,
        ),
    ),
)

# --- Order numbers ---------------------------------------------------------------


def amazon_order_id(number: str) -> str | None:
    """The Amazon order id a merchant typed, in its 3-7-7 form, or None when it cannot be one.

    Spaces, a leading '#' and dashes typed as spaces are forgiven, and 17
    digits typed without dashes are read as 3-7-7.
    """
    value = re.sub(r"\s+", "-", number.strip().lstrip("#").strip())
    if value.isdigit() and len(value) == 17:
        value = f"{value[:3]}-{value[3:10]}-{value[10:]}"
    return value if _ORDER_NUMBER.match(value) else None


def order_number_read(number: str) -> str:
    """The Amazon order id ``number`` means, in its 3-7-7 form.

    Raises OrderNumberProblem, saying what an Amazon order id looks like, when it cannot be one.
    """
    order_id = amazon_order_id(number)
    if order_id is None:
        raise OrderNumberProblem(
            said(
                "Amazon order numbers look like %(example)s: 3, 7 and 7 digits with dashes between. "
                "Copy it from Seller Central's Manage Orders page.",
                example=ORDER_NUMBER_EXAMPLE,
            )
        )
    return order_id


# --- Reading Amazon's answers ----------------------------------------------------


def order_state(status: str) -> StatusWord:
    """The table entry for an Amazon OrderStatus; one Amazon adds later keeps the order out, never imported silently."""
    return STATUSES.read(status.strip())


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _line(item: dict[str, Any]) -> SourceOrderLine | None:
    quantity = item.get("QuantityOrdered")
    if isinstance(quantity, bool) or not isinstance(quantity, int | str):
        raise TypeError("QuantityOrdered")
    quantity = int(quantity)
    if quantity <= 0:  # a cancelled item: nothing to import
        return None
    return SourceOrderLine(
        sku=text_or_empty(item.get("SellerSKU")), quantity=quantity, title=text_or_empty(item.get("Title"))
    )


def _buyer(order: dict[str, Any]) -> tuple[Buyer, bool]:
    """The buyer as far as Amazon shares it, and whether it shared the e-mail (only with a Restricted Data Token)."""
    info = order.get("BuyerInfo") or {}
    address = order.get("ShippingAddress") or {}
    if not isinstance(info, dict) or not isinstance(address, dict):
        raise TypeError("BuyerInfo or ShippingAddress")
    email = text_or_empty(info.get("BuyerEmail"))
    name = text_or_empty(info.get("BuyerName")) or text_or_empty(address.get("Name"))
    first, _, last = name.strip().rpartition(" ")
    if not first:
        first, last = last, ""
    buyer = Buyer(
        email=email,
        first_name=first,
        last_name=last,
        address_line1=text_or_empty(address.get("AddressLine1")),
        city=text_or_empty(address.get("City")),
        postcode=text_or_empty(address.get("PostalCode")),
        country=text_or_empty(address.get("CountryCode")),
    )
    return buyer, bool(email)


def _replaced_order_id(order: dict[str, Any]) -> str:
    """The order a replacement order replaces ("" for any other order).

    Orders API v0 reference, Order: ``IsReplacementOrder`` ("When true, this is a
    replacement order") and ``ReplacedOrderId`` ("Returned only if IsReplacementOrder = true").
    The flag has been seen as the text "true"/"false" as well as a boolean.
    """
    flag = order.get("IsReplacementOrder")
    if flag is not True and text_or_empty(flag).strip().lower() != "true":
        return ""
    return text_or_empty(order.get("ReplacedOrderId")).strip()


def source_order(order: Any, items: Any) -> SourceOrder:
    """Normalize a getOrder payload and its getOrderItems ``OrderItems`` (MalformedOrder on a bad shape).

    Values of the wrong kind are coerced rather than passed on: text fields
    become text (or empty), a total we cannot keep becomes None.
    """
    try:
        if not isinstance(order, dict) or not isinstance(items, list):
            raise TypeError("order or items")
        order_id = order["AmazonOrderId"]
        placed = order["PurchaseDate"]
        status = order["OrderStatus"]
        if not isinstance(order_id, str) or not isinstance(placed, str) or not isinstance(status, str):
            raise TypeError("AmazonOrderId, PurchaseDate or OrderStatus")
        total = order.get("OrderTotal") or {}
        if not isinstance(total, dict):
            raise TypeError("OrderTotal")
        buyer, shared = _buyer(order)
        lines = []
        for item in items:
            if not isinstance(item, dict):
                raise TypeError("OrderItem")
            line = _line(item)
            if line is not None:
                lines.append(line)
        return SourceOrder(
            id=order_id,
            number=order_id,
            placed_at=_parse_datetime(placed),
            platform_status=status,
            **source_state(order_state(status)),
            lines=tuple(lines),
            buyer=buyer,
            currency=text_or_empty(total.get("CurrencyCode")),
            total=parse_total(total.get("Amount")),
            buyer_contact_shared=shared,
            replaces=_replaced_order_id(order),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise MalformedOrder(_SHAPE_MESSAGE) from exc


def _payload(data: Any, unexpected: Said) -> dict[str, Any]:
    """The answer's payload; PlatformUnavailable with ``unexpected`` when it has none we can read."""
    payload = data.get("payload") if isinstance(data, dict) else None
    if not isinstance(payload, dict):
        raise PlatformUnavailable(unexpected)
    return payload


_ORDER_UNEXPECTED = said("Amazon sent the order in a shape we did not expect.")
_LIST_UNEXPECTED = said("Amazon sent an order list in a shape we did not expect.")
_ITEMS_UNEXPECTED = said("Amazon sent an order's items in a shape we did not expect.")


def _amazon_error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return text_or_empty(first.get("message"))[:200]


def _retry_after(response: httpx.Response) -> float | None:
    """A 429's wait: Retry-After when given, else one request's worth of the operation's rate."""
    wait = parse_retry_after(response.headers.get("Retry-After"))
    if wait is not None:
        return wait
    try:
        rate = float(response.headers.get("x-amzn-RateLimit-Limit", ""))
    except ValueError:
        return None
    return 1.0 / rate if rate > 0 and rate == rate else None


class _OrderNotFound(Exception):
    """getOrder answered 404: Amazon has no such order for this seller."""


class _AmazonHTTP(PlatformHTTP):
    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code == 404:
            raise _OrderNotFound
        if response.status_code == 400:
            detail = redact(_amazon_error_message(response), self.secrets)
            if not detail:
                raise PlatformUnavailable(said("Amazon refused the request (HTTP 400)."))
            # Amazon's own words, quoted as they came (in English).
            raise PlatformUnavailable(
                said("Amazon refused the request (HTTP 400): %(detail)s.", detail=detail)
            )
        super()._raise_for_status(response)


# --- The seller's authorization (Login with Amazon) ----------------------------------


def authorize_url(
    *,
    application_id: str,
    state: str,
    redirect_uri: str = "",
    seller_central_url: str = SELLER_CENTRAL_URL,
    draft: bool = False,
) -> str:
    """Seller Central's consent page for our app (the website authorization workflow).

    Amazon sends the seller back to ``redirect_uri`` (or the app's registered
    one) with ``spapi_oauth_code``, ``state`` and ``selling_partner_id``.
    ``draft``: the app is not yet published, which Amazon calls version beta.
    ``seller_central_url`` is the seller's own region's Seller Central.
    """
    query = {"application_id": application_id, "state": state}
    if redirect_uri:
        query["redirect_uri"] = redirect_uri
    if draft:
        query["version"] = "beta"
    return f"{seller_central_url.rstrip('/')}/apps/authorize/consent?{urlencode(query)}"


# --- The client -----------------------------------------------------------------------


class AmazonClient(PlatformClient):
    """One Amazon seller account, through the Orders API v0.

    Credentials: ``{"region": "na" | "eu" | "fe", "marketplace_ids": "ATVPDKIKX0DER,…"
    (or a list), "refresh_token": "Atzr|…"}``, and the access token it renews
    (``"access_token"``, ``"access_token_expires_at"``), kept with the plugin
    through ``Connection.credentials_renewed``. The LWA app keys come from
    settings (``AMAZON_LWA_CLIENT_ID``, ``AMAZON_LWA_CLIENT_SECRET``) unless the
    plugin carries its own (``lwa_client_id``, ``lwa_client_secret``: a
    seller's private app). ``"base_url"`` and ``"token_url"`` point at a local
    server in tests; they are not form fields.
    """

    key = "amazon"
    label = LABEL
    capabilities = Capabilities(
        backfill=True, manual_sync=True, history_days=HISTORY_DAYS, buyer_contact=False
    )
    credential_fields = ("region", "marketplace_ids", "refresh_token")

    def get_order(self, number: str) -> SourceOrder | None:
        """The order with this Amazon order id and its items, or None (also when ``number`` cannot be an id)."""
        order_id = amazon_order_id(number)
        if order_id is None:
            return None
        with self._session() as session:
            try:
                data = session.request(GET_ORDER, f"{ORDERS_PATH}/{order_id}")
            except _OrderNotFound:
                return None
            order = _payload(data, _ORDER_UNEXPECTED)
            return source_order(order, self._items(session, order_id, max_wait=2.0))

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Orders created at or after ``since``, oldest first within each page of up to 100.

        Raises PaginationStuck when Amazon hands back a NextToken it gave
        before, or a page of the orders it just sent, or after MAX_PAGES pages.
        """
        if since.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
            since = since.replace(tzinfo=UTC)
        since = since.astimezone(UTC)
        created_after = min(since, datetime.now(UTC) - CREATED_AFTER_LAG)
        marketplaces = self._marketplace_ids()
        params: dict[str, Any] = {
            "MarketplaceIds": marketplaces,
            "CreatedAfter": created_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "MaxResultsPerPage": PAGE_SIZE,
        }
        listed = 0
        tokens: set[str] = set()
        previous_ids: set[str] = set()
        with self._session() as session:
            for _page in range(MAX_PAGES):
                payload = _payload(
                    session.request(GET_ORDERS, ORDERS_PATH, params, LIST_MAX_WAIT), _LIST_UNEXPECTED
                )
                orders = payload.get("Orders")
                if not isinstance(orders, list):
                    raise PlatformUnavailable(_LIST_UNEXPECTED)
                ids = {str(raw.get("AmazonOrderId")) for raw in orders if isinstance(raw, dict)}
                if ids and ids <= previous_ids:
                    raise PaginationStuck(
                        said_n(
                            "Amazon sent the same page of orders again, so we stopped after %(count)s order."
                            " This is a fault on Amazon's side; contact support if it lasts.",
                            "Amazon sent the same page of orders again, so we stopped after %(count)s orders."
                            " This is a fault on Amazon's side; contact support if it lasts.",
                            listed,
                        )
                    )
                previous_ids = ids
                for raw in sorted(orders, key=_purchase_date):
                    if _placed_before(raw, since):
                        continue  # asked from earlier than `since` (see CREATED_AFTER_LAG); no items needed
                    listed += 1
                    yield self._listed_order(session, raw)
                token = text_or_empty(payload.get("NextToken"))
                if not token:
                    return
                if token in tokens:
                    raise PaginationStuck(
                        said_n(
                            "Amazon kept paging from the same place, so we stopped after %(count)s order."
                            " This is a fault on Amazon's side; contact support if it lasts.",
                            "Amazon kept paging from the same place, so we stopped after %(count)s orders."
                            " This is a fault on Amazon's side; contact support if it lasts.",
                            listed,
                        )
                    )
                tokens.add(token)
                params = {"MarketplaceIds": marketplaces, "NextToken": token}
        raise PaginationStuck(
            said_n(
                "Amazon did not end its order list after %(pages)s pages, so we stopped after %(count)s order."
                " This is a fault on Amazon's side; contact support if it lasts.",
                "Amazon did not end its order list after %(pages)s pages, so we stopped after %(count)s orders."
                " This is a fault on Amazon's side; contact support if it lasts.",
                listed,
                pages=MAX_PAGES,
            )
        )

    def check_authorization(self) -> None:
        """Refresh the access token and list orders of the last day: both need a valid seller authorization.

        getOrders is the operation with the smallest budget, but one call in
        its burst of 20 is the only way to learn whether the app may read orders.
        """
        since = datetime.now(UTC) - timedelta(days=1)
        params = {
            "MarketplaceIds": self._marketplace_ids(),
            "CreatedAfter": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "MaxResultsPerPage": 1,
        }
        with self._session() as session:
            _payload(session.request(GET_ORDERS, ORDERS_PATH, params), _LIST_UNEXPECTED)

    def operation_throttle(self, operation: str) -> Throttle:
        """The plugin's bucket for one SP-API operation, paced to Amazon's published rate for it."""
        rate, burst = OPERATION_LIMITS[operation]
        return throttle_for(f"{self.connection.bucket}:{operation}", rate=rate, burst=burst)

    # --- internals ---------------------------------------------------------

    def _session(self) -> _Session:
        return _Session(self)

    def _marketplace_ids(self) -> str:
        raw = self.connection.credentials.get("marketplace_ids") or ""
        ids = raw if isinstance(raw, list | tuple) else str(raw).split(",")
        ids = [str(value).strip() for value in ids if str(value).strip()]
        if not ids:
            raise NotAuthorized(
                said(
                    "This Amazon plugin does not say which marketplaces it sells in. Reconnect it from Seller Central."
                )
            )
        return ",".join(ids)

    def _base_url(self) -> str:
        credentials = self.connection.credentials
        override = str(credentials.get("base_url") or "").rstrip("/")
        if override:
            return override
        region = str(credentials.get("region") or "").strip().lower()
        if region not in REGION_URLS:
            raise NotAuthorized(
                said(
                    "This Amazon plugin does not say which region its seller account is in "
                    "(North America, Europe or Far East). Reconnect it from Seller Central."
                )
            )
        return REGION_URLS[region]

    def _app_keys(self) -> AppKeys | None:
        """The plugin's own LWA keys, else the app's from settings; None when neither is complete."""
        credentials = self.connection.credentials
        client_id = str(
            credentials.get("lwa_client_id") or getattr(settings, "AMAZON_LWA_CLIENT_ID", "") or ""
        )
        client_secret = str(
            credentials.get("lwa_client_secret") or getattr(settings, "AMAZON_LWA_CLIENT_SECRET", "") or ""
        )
        return AppKeys(client_id, client_secret) if client_id and client_secret else None

    def access_token(self) -> AccessToken:
        """The access token for one client call (renewed from the refresh token when it nears its expiry)."""
        credentials = self.connection.credentials
        token_url = str(credentials.get("token_url") or getattr(settings, "AMAZON_LWA_TOKEN_URL", "") or "")
        return AccessToken(OAUTH, self.connection, keys=self._app_keys(), token_url=token_url)

    def _http(self, operation: str, token: str) -> PlatformHTTP:
        return _AmazonHTTP(
            self.connection,
            label=self.label,
            base_url=self._base_url(),
            throttle=self.operation_throttle(operation),
            headers={"x-amz-access-token": token},
            unauthorized_message=said(
                "Amazon rejected the access token for this plugin. Reauthorize the plugin from Seller Central."
            ),
            forbidden_message=said(
                "Amazon refused access: the seller's authorization was revoked or has expired, or our app "
                "lacks the role to read orders. Reauthorize the plugin from Seller Central."
            ),
            retry_after_hook=_retry_after,
            secrets=[token, str(self.connection.credentials.get("refresh_token") or "")],
        )

    def _items(self, session: _Session, order_id: str, *, max_wait: float) -> list[Any]:
        """Every OrderItem of one order, following NextToken."""
        path = f"{ORDERS_PATH}/{order_id}/orderItems"
        items: list[Any] = []
        params: dict[str, Any] | None = None
        tokens: set[str] = set()
        for _page in range(MAX_ITEM_PAGES):
            try:
                data = session.request(GET_ORDER_ITEMS, path, params, max_wait)
            except _OrderNotFound:
                raise PlatformUnavailable(
                    said("Amazon listed an order but then had no items for it.")
                ) from None
            payload = _payload(data, _ITEMS_UNEXPECTED)
            page = payload.get("OrderItems")
            if not isinstance(page, list):
                raise MalformedOrder(_SHAPE_MESSAGE)
            items.extend(page)
            token = text_or_empty(payload.get("NextToken"))
            if not token:
                return items
            if token in tokens:
                raise PaginationStuck(
                    said(
                        "Amazon kept paging through one order's items from the same place."
                        " This is a fault on Amazon's side; contact support if it lasts."
                    )
                )
            tokens.add(token)
            params = {"NextToken": token}
        raise PaginationStuck(
            said(
                "Amazon did not end one order's items after %(pages)s pages."
                " This is a fault on Amazon's side; contact support if it lasts.",
                pages=MAX_ITEM_PAGES,
            )
        )

    def _listed_order(self, session: _Session, raw: Any) -> SourceOrder | UnreadableOrder:
        """One order of a listing with its items: normalized, or marked unreadable so the others still import."""
        order_id = text_or_empty(raw.get("AmazonOrderId")) if isinstance(raw, dict) else ""
        try:
            if amazon_order_id(order_id) is None:
                raise MalformedOrder(_SHAPE_MESSAGE)
            return source_order(raw, self._items(session, order_id, max_wait=LIST_MAX_WAIT))
        except MalformedOrder:
            return UnreadableOrder(id=order_id, number=order_id, reason=_SHAPE_MESSAGE)


class _Session:
    """One client call's connections: its access token and a pooled HTTP client per operation.

    A request Amazon refuses as not authorized with a token that was stored
    (not issued during this call) is sent once more with a refreshed token:
    Amazon may have revoked the stored one before it would have expired.
    """

    def __init__(self, client: AmazonClient):
        self.client = client
        self.token = client.access_token()
        self._stack = ExitStack()
        self._http: dict[str, tuple[str, PlatformHTTP]] = {}

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def request(
        self, operation: str, path: str, params: dict[str, Any] | None = None, max_wait: float = 2.0
    ) -> Any:
        def send(token: str) -> Any:
            return (
                self._connection(operation, token)
                .request_json("GET", path, params=params, max_wait=max_wait)
                .data
            )

        return self.token.call(send)

    def _connection(self, operation: str, token: str) -> PlatformHTTP:
        kept = self._http.get(operation)
        if kept is None or kept[0] != token:
            http = self._stack.enter_context(self.client._http(operation, token))
            self._http[operation] = (token, http)
            return http
        return kept[1]


def _placed_before(raw: Any, since: datetime) -> bool:
    try:
        return _parse_datetime(_purchase_date(raw)) < since
    except ValueError:
        return False  # unreadable: listed as such, not dropped


def _purchase_date(raw: Any) -> str:
    value = raw.get("PurchaseDate") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else ""


class AmazonAuthorization(AuthorizationFlow):
    """Seller Central's website authorization: the seller approves our app and Amazon sends back a
    code (``spapi_oauth_code``), traded with Login with Amazon for a refresh token kept encrypted.

    Configured by ``AMAZON_SPAPI_APPLICATION_ID``, ``AMAZON_LWA_CLIENT_ID`` and
    ``AMAZON_LWA_CLIENT_SECRET``.
    """

    def available(self) -> bool:
        return (
            bool(settings.AMAZON_SPAPI_APPLICATION_ID)
            and registry.provider(AmazonClient.key).app_keys_configured()
        )

    def reconnect_advice(self) -> Said:
        return said(
            "Reconnect it from Configuration → Plugins, signing in to Seller Central with the same "
            "seller account."
        )

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        return authorize_url(
            application_id=settings.AMAZON_SPAPI_APPLICATION_ID,
            state=start.state,
            redirect_uri=start.callback_url,
            seller_central_url=settings.AMAZON_SELLER_CENTRAL_URL,
            draft=settings.AMAZON_SPAPI_DRAFT,
        )

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        code = answer.params.get("spapi_oauth_code", "")
        if not code:  # the seller declined: Amazon sends them back without a code
            return None
        seller = answer.params.get("selling_partner_id", "")
        known = str(answer.credentials.get("selling_partner_id") or "")
        if known and seller and seller != known:
            raise CallbackRejected(
                said(
                    "This authorization is for another Amazon seller account than this plugin's. "
                    "Sign in to Seller Central with the plugin's account and start Reauthorize again."
                )
            )
        tokens = OAUTH.exchange_code(
            code,
            keys=AppKeys(settings.AMAZON_LWA_CLIENT_ID, settings.AMAZON_LWA_CLIENT_SECRET),
            connection=answer.connection,
            token_url=settings.AMAZON_LWA_TOKEN_URL,
            redirect_uri=answer.callback_url,
        )
        return {**tokens.credentials(), **({"selling_partner_id": seller} if seller else {})}


AUTHORIZATION = AmazonAuthorization()


# Amazon's own word for each state, for the demo marketplace to imitate (the first status with it).
DEMO_STATUSES = STATUSES.demo_words()
