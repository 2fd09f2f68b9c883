"""Shopify, through the GraphQL Admin API (REST is legacy since 2024-10)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from datetime import UTC, datetime
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
from apps.platforms.http import PlatformHTTP, parse_retry_after, redact
from apps.platforms.oauth2 import AppKeys, ClientAuth, Encoding, OAuth2Provider
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.params import same_secret
from kitty_troubleshoot.said import Said, said, said_n, said_p

# Pinned: Shopify changes fields between versions and retires a version a
# year after release. Move it forward deliberately, with the tests.
API_VERSION = "2025-07"

# Our own bucket counts *requests*, not query-cost points: the cost of a query
# is only known after Shopify answered. Points are paced from the
# throttleStatus Shopify returns with every answer (see _pace). 4 requests/s
# with a burst of 10 keeps a backfill moving while leaving most of the
# Standard plan's 100 points/s to the merchant's other apps.
RATE_PER_SECOND = 4.0
BURST = 10

# 20 orders x (30 lines + 5 fulfillment orders) keeps the *requested* cost (which Shopify checks
# before running a query, max 1000 points) well below the limit; orders with
# more lines fetch the rest separately.
ORDERS_PAGE_SIZE = 20
LINES_PER_ORDER = 30
# An order is split into a fulfillment order per location; a hold on any of
# them keeps it out. Five covers nearly every shop and keeps the cost in bounds.
FULFILLMENT_ORDERS_PER_ORDER = 5
MORE_LINES_PAGE_SIZE = 100

# How long a background listing may sit out our own pacing or a short
# Shopify block before giving up with RateLimited.
LIST_MAX_WAIT = 10.0

# A listing that has not ended after this many pages (a quarter of a million
# orders) is paging in circles; no sync task lives long enough to fetch that
# many anyway. Likewise for one order's lines (10,000 of them).
MAX_PAGES = 10_000
MAX_LINE_PAGES = 100

_SHAPE_MESSAGE = said("Shopify sent this order in a shape we did not expect.")

_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
# Order names are like "#1001" or "KT-1001"; anything else cannot be one and
# must not reach Shopify's search syntax.
_ORDER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

_ORDER_FIELDS = f"""
  id
  name
  createdAt
  cancelledAt
  displayFinancialStatus
  displayFulfillmentStatus
  risk {{ recommendation }}
  fulfillmentOrders(first: {FULFILLMENT_ORDERS_PER_ORDER}) {{
    nodes {{ status fulfillmentHolds {{ reason reasonNotes }} }}
  }}
  email
  currencyCode
  totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
  customer {{ firstName lastName }}
  shippingAddress {{ firstName lastName address1 city zip countryCodeV2 }}
  billingAddress {{ firstName lastName address1 city zip countryCodeV2 }}
  lineItems(first: {LINES_PER_ORDER}) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ sku title quantity currentQuantity }}
  }}
"""

ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String!) {{
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {_ORDER_FIELDS} }}
  }}
}}
"""

MORE_LINES_QUERY = f"""
query OrderLines($id: ID!, $after: String) {{
  order(id: $id) {{
    lineItems(first: {MORE_LINES_PAGE_SIZE}, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ sku title quantity currentQuantity }}
    }}
  }}
}}
"""

# Cheap (a few points) and it touches orders, so a token without the
# read_orders scope fails here rather than in the middle of an import.
AUTHORIZATION_QUERY = """
query Authorization {
  shop { name }
  orders(first: 1) { nodes { id } }
}
"""


def shop_domain(shop: str) -> str:
    """'my-shop', 'my-shop.myshopify.com' or 'https://my-shop.myshopify.com/' -> the domain.

    Raises NotAuthorized for anything that is not a myshopify.com address, so a
    mistyped (or malicious) value never sends the token to another host.
    """
    value = shop.strip().lower()
    value = re.sub(r"^https?://", "", value).split("/", 1)[0]
    if "." not in value:
        value = f"{value}.myshopify.com"
    if not _SHOP_DOMAIN.match(value):
        raise NotAuthorized(
            said(
                "The Shopify store address in this plugin is not a myshopify.com address. "
                "Reconnect the plugin from the Shopify store."
            )
        )
    return value


# --- Shopify's order-state vocabulary, read whole ------------------------------------
# One table for every word Shopify uses about an order's state, by the field
# it comes in (Admin GraphQL API reference: Order.cancelledAt,
# OrderDisplayFinancialStatus, OrderRiskSummary.recommendation,
# OrderDisplayFulfillmentStatus, FulfillmentOrderStatus, FulfillmentHoldReason).
# Of the words one order carries, the most severe decides (never > not yet >
# importable), so a PAID order with a fraud hold is not yet importable.

CANCELLED = "cancelledAt"
FINANCIAL = "displayFinancialStatus"
RISK = "risk.recommendation"
FULFILLMENT = "displayFulfillmentStatus"
FULFILLMENT_ORDER = "fulfillmentOrders.status"
HOLD = "fulfillmentHolds.reason"

_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER
_HOLD_RELEASE = said_p("Step 6: the order is waiting for …", "you to release the fulfillment hold in Shopify")


def _word(field: str, word: str, meaning: str, state: OrderState, outcome: ImportOutcome, reason: str = ""):
    return StatusWord(word, meaning, state, outcome, reason, field)


STATUSES = StatusTable(
    "shopify",
    [
        _word(
            CANCELLED,
            "cancelled",
            "The order was cancelled (cancelledAt is set).",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled in Shopify"),
        ),
        # displayFinancialStatus
        _word(
            FINANCIAL,
            "PENDING",
            "Payment is pending: it is being processed, or a manual payment method "
            "(bank deposit, cash on delivery) is not marked paid yet.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer's payment"),
        ),
        _word(
            FINANCIAL,
            "AUTHORIZED",
            "The payment was authorized and can be captured.",
            OrderState.IMPORTABLE,
            _I,
        ),
        _word(
            FINANCIAL,
            "PARTIALLY_PAID",
            "Part of the total was paid.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the rest of the payment"),
        ),
        _word(FINANCIAL, "PAID", "The order was paid.", OrderState.IMPORTABLE, _I),
        # It was paid; what is left after the refund ships (lines carry currentQuantity).
        _word(
            FINANCIAL, "PARTIALLY_REFUNDED", "Part of the payment was refunded.", OrderState.IMPORTABLE, _I
        ),
        _word(
            FINANCIAL,
            "REFUNDED",
            "The whole payment was refunded.",
            OrderState.REFUNDED,
            _X,
            said_p("Step 6: the order will not import: …", "it was refunded in full"),
        ),
        _word(
            FINANCIAL,
            "VOIDED",
            "The authorized payment was voided: no money will be captured.",
            OrderState.FAILED,
            _X,
            said_p("Step 6: the order will not import: …", "the payment was voided"),
        ),
        _word(
            FINANCIAL,
            "EXPIRED",
            "The authorization expired before the payment was captured.",
            OrderState.FAILED,
            _X,
            said_p("Step 6: the order will not import: …", "the payment expired before it was captured"),
        ),
        _word(
            FINANCIAL,
            "",
            "No payment status yet (the field is null).",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer's payment"),
        ),
        # risk.recommendation (OrderRiskSummary)
        _word(RISK, "ACCEPT", "Fraud analysis recommends fulfilling the order.", OrderState.IMPORTABLE, _I),
        _word(RISK, "NONE", "There is no fraud recommendation.", OrderState.IMPORTABLE, _I),
        _word(RISK, "", "No risk assessment was returned.", OrderState.IMPORTABLE, _I),
        _word(
            RISK,
            "INVESTIGATE",
            "Fraud analysis recommends investigating the order before fulfilling it.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …",
                "you to review Shopify's fraud analysis and accept or cancel it",
            ),
        ),
        _word(
            RISK,
            "CANCEL",
            "Fraud analysis recommends cancelling the order.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …",
                "you to review Shopify's fraud analysis, which recommends cancelling it",
            ),
        ),
        # displayFulfillmentStatus: only ON_HOLD stands in the way; how far it shipped does not.
        *(
            _word(FULFILLMENT, word, meaning, OrderState.IMPORTABLE, _I)
            for word, meaning in (
                ("UNFULFILLED", "None of the items were fulfilled."),
                ("PARTIALLY_FULFILLED", "Some of the items were fulfilled."),
                ("FULFILLED", "All the items were fulfilled."),
                ("IN_PROGRESS", "A fulfillment request was sent, or items are marked in progress."),
                ("OPEN", "None of the items were fulfilled (replaced by UNFULFILLED)."),
                (
                    "PENDING_FULFILLMENT",
                    "A fulfillment request awaits the service's answer (replaced by IN_PROGRESS).",
                ),
                ("RESTOCKED", "All the items were restocked (replaced by UNFULFILLED)."),
                ("SCHEDULED", "The unfulfilled items are scheduled for fulfillment later."),
                ("REQUEST_DECLINED", "The fulfillment service declined some of the items."),
                ("", "No fulfillment status was returned."),
            )
        ),
        _word(
            FULFILLMENT,
            "ON_HOLD",
            "All the unfulfilled items are on hold.",
            OrderState.ON_HOLD,
            _N,
            _HOLD_RELEASE,
        ),
        # fulfillmentOrders.status: ON_HOLD says a hold without its reason (the holds say which).
        *(
            _word(FULFILLMENT_ORDER, word, meaning, OrderState.IMPORTABLE, _I)
            for word, meaning in (
                ("OPEN", "Ready for fulfillment."),
                ("IN_PROGRESS", "Being fulfilled."),
                ("SCHEDULED", "To be fulfilled at a later date."),
                ("INCOMPLETE", "The fulfillment service could not complete it."),
                ("CLOSED", "Fulfilled, or its remaining items were moved elsewhere."),
                ("CANCELLED", "Its items were cancelled or moved to another fulfillment order."),
            )
        ),
        _word(FULFILLMENT_ORDER, "ON_HOLD", "Fulfillment is on hold.", OrderState.ON_HOLD, _N, _HOLD_RELEASE),
        # fulfillmentHolds.reason (FulfillmentHoldReason): every hold keeps the order out until released.
        _word(
            HOLD,
            "AWAITING_PAYMENT",
            "Held because payment is pending.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "the payment Shopify is holding it for"),
        ),
        _word(
            HOLD,
            "AWAITING_RETURN_ITEMS",
            "Held until the returned items of an exchange arrive.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "the returned items of the exchange to arrive"),
        ),
        _word(
            HOLD,
            "HIGH_RISK_OF_FRAUD",
            "Held because of a high risk of fraud.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "you to review it and release Shopify's fraud hold"),
        ),
        _word(
            HOLD,
            "INCORRECT_ADDRESS",
            "Held because the address is incorrect.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …",
                "you to correct the address and release the hold in Shopify",
            ),
        ),
        _word(
            HOLD,
            "INVENTORY_OUT_OF_STOCK",
            "Held because inventory is out of stock.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …", "stock to arrive and the hold to be released in Shopify"
            ),
        ),
        _word(
            HOLD,
            "ONLINE_STORE_POST_PURCHASE_CROSS_SELL",
            "Held while the buyer sees a post-purchase offer.",
            OrderState.ON_HOLD,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer to answer a post-purchase offer"),
        ),
        _word(
            HOLD,
            "OTHER",
            "Held for another reason (see the hold's notes).",
            OrderState.ON_HOLD,
            _N,
            _HOLD_RELEASE,
        ),
        _word(
            HOLD,
            "UNKNOWN_DELIVERY_DATE",
            "Held because the delivery date is not known.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …",
                "a delivery date, and the hold to be released in Shopify",
            ),
        ),
    ],
    unknown=lambda word, field: StatusWord(
        word,
        f"A {field} value this version of Commerce Kitty does not know.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "you to check it in Shopify (its %(field)s “%(word)s” is one Commerce Kitty does not know yet)",
            field=field,
            word=word,
        ),
        field,
    ),
)


def _text_upper(value: Any) -> str:
    return text_or_empty(value).strip().upper()


def order_words(order: dict[str, Any]) -> list[tuple[StatusWord, str]]:
    """Every table entry that applies to the order, each with how Step 6 names it, most decisive field first."""
    found: list[tuple[StatusWord, str]] = []
    if order.get("cancelledAt"):
        found.append((STATUSES.read("cancelled", CANCELLED), "cancelled"))
    financial = _text_upper(order.get("displayFinancialStatus"))
    found.append((STATUSES.read(financial, FINANCIAL), financial or "NO PAYMENT STATUS"))
    fulfillment_orders = ((order.get("fulfillmentOrders") or {}).get("nodes")) or []
    for fulfillment_order in fulfillment_orders:
        for hold in fulfillment_order.get("fulfillmentHolds") or []:
            reason = _text_upper((hold or {}).get("reason"))
            found.append((STATUSES.read(reason, HOLD), f"hold {reason or 'without a reason'}"))
    risk = _text_upper((order.get("risk") or {}).get("recommendation"))
    found.append((STATUSES.read(risk, RISK), f"risk {risk}"))
    for fulfillment_order in fulfillment_orders:
        status = _text_upper(fulfillment_order.get("status"))
        found.append((STATUSES.read(status, FULFILLMENT_ORDER), f"fulfillment order {status}"))
    fulfillment = _text_upper(order.get("displayFulfillmentStatus"))
    found.append((STATUSES.read(fulfillment, FULFILLMENT), f"fulfillment {fulfillment}"))
    return found


def order_state(order: dict[str, Any]) -> tuple[StatusWord, str]:
    """(the deciding table entry, Shopify's own words for the order's state).

    The most severe entry decides; the words name the payment status and
    whatever else keeps the order out (a hold, a risk review, a cancellation),
    one of each, so the merchant sees the word to look for in Shopify.
    """
    found = order_words(order)
    deciding = most_severe(word for word, _said in found)
    financial = [said for word, said in found if word.field == FINANCIAL]
    standing = [
        said
        for word, said in found
        if word.field not in (FINANCIAL, CANCELLED) and word.outcome != ImportOutcome.IMPORTABLE
    ]
    cancelled = [said for word, said in found if word.field == CANCELLED]
    return deciding, ", ".join(dict.fromkeys([*financial, *standing, *cancelled]))


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _line(node: dict[str, Any]) -> SourceOrderLine | None:
    quantity = node.get("currentQuantity")
    if quantity is None:
        quantity = node.get("quantity") or 0
    quantity = int(quantity)
    if quantity <= 0:  # refunded or removed entirely: nothing left to import
        return None
    return SourceOrderLine(
        sku=text_or_empty(node.get("sku")), quantity=quantity, title=text_or_empty(node.get("title"))
    )


def _buyer(order: dict[str, Any]) -> Buyer:
    address = order.get("shippingAddress") or order.get("billingAddress") or {}
    customer = order.get("customer") or {}
    return Buyer(
        email=text_or_empty(order.get("email")),
        first_name=text_or_empty(customer.get("firstName")) or text_or_empty(address.get("firstName")),
        last_name=text_or_empty(customer.get("lastName")) or text_or_empty(address.get("lastName")),
        address_line1=text_or_empty(address.get("address1")),
        city=text_or_empty(address.get("city")),
        postcode=text_or_empty(address.get("zip")),
        country=text_or_empty(address.get("countryCodeV2")),
    )


def _utc_query_time(when: datetime) -> str:
    if when.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyClient(PlatformClient):
    """One Shopify store, via a custom app's Admin API access token.

    Credentials: ``{"shop": "my-shop" | "my-shop.myshopify.com", "access_token": "shpat_…"}``.
    ``"base_url"`` (e.g. ``"http://127.0.0.1:8001"``) replaces
    ``https://<shop>`` for tests against a local server; it is not a form field.
    """

    key = "shopify"
    label = "Shopify"
    # Without the read_all_orders scope Shopify shows only the last 60 days.
    capabilities = Capabilities(backfill=True, manual_sync=True, history_days=60)
    credential_fields = ("shop", "access_token")

    def get_order(self, number: str) -> SourceOrder | None:
        """The order whose name is ``#<number>`` (or ``<number>`` for prefixed names), or None."""
        wanted = normalize_order_number(number)
        if not _ORDER_NAME.match(wanted):
            return None
        name = f"#{wanted}" if wanted.isdigit() else wanted
        with self._http() as http:
            data = self._graphql(http, ORDERS_QUERY, {"first": 1, "after": None, "query": f"name:{name}"})
            for node in _orders_connection(data)["nodes"]:
                if normalize_order_number(node.get("name") or "") == wanted:
                    return self._source_order(http, node, max_wait=2.0)
        return None

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Orders created at or after ``since``, oldest first, 20 per request.

        Raises PaginationStuck when Shopify hands back a cursor it gave
        before, or a page of the orders it just sent, or after MAX_PAGES pages.
        """
        variables: dict[str, Any] = {
            "first": ORDERS_PAGE_SIZE,
            "after": None,
            "query": f"created_at:>='{_utc_query_time(since)}'",
        }
        listed = 0
        cursors: set[str] = set()
        previous_ids: set[str] = set()
        with self._http() as http:
            for _page in range(MAX_PAGES):
                data = self._graphql(http, ORDERS_QUERY, variables, max_wait=LIST_MAX_WAIT)
                connection = _orders_connection(data)
                ids = {str(node.get("id")) for node in connection["nodes"] if isinstance(node, dict)}
                if ids and ids <= previous_ids:
                    raise PaginationStuck(
                        said_n(
                            "Shopify sent the same page of orders again, so we stopped after %(count)s order."
                            " This is a fault on Shopify's side; contact support if it lasts.",
                            "Shopify sent the same page of orders again, so we stopped after %(count)s orders."
                            " This is a fault on Shopify's side; contact support if it lasts.",
                            listed,
                        )
                    )
                previous_ids = ids
                for node in connection["nodes"]:
                    listed += 1
                    yield self._listed_order(http, node)
                page_info = connection.get("pageInfo") or {}
                cursor = text_or_empty(page_info.get("endCursor"))
                if not page_info.get("hasNextPage") or not cursor:
                    return
                if cursor in cursors:
                    raise PaginationStuck(
                        said_n(
                            "Shopify kept paging from the same place, so we stopped after %(count)s order."
                            " This is a fault on Shopify's side; contact support if it lasts.",
                            "Shopify kept paging from the same place, so we stopped after %(count)s orders."
                            " This is a fault on Shopify's side; contact support if it lasts.",
                            listed,
                        )
                    )
                cursors.add(cursor)
                variables = {**variables, "after": cursor}
        raise PaginationStuck(
            said_n(
                "Shopify did not end its order list after %(pages)s pages, so we stopped after %(count)s order."
                " This is a fault on Shopify's side; contact support if it lasts.",
                "Shopify did not end its order list after %(pages)s pages, so we stopped after %(count)s orders."
                " This is a fault on Shopify's side; contact support if it lasts.",
                listed,
                pages=MAX_PAGES,
            )
        )

    def check_authorization(self) -> None:
        """Run a query of a few points that needs the read_orders scope."""
        with self._http() as http:
            self._graphql(http, AUTHORIZATION_QUERY, {})

    # --- internals ---------------------------------------------------------

    @property
    def throttle(self) -> Throttle:
        return throttle_for(self.connection.bucket, rate=RATE_PER_SECOND, burst=BURST)

    def _http(self) -> PlatformHTTP:
        credentials = self.connection.credentials
        token = str(credentials.get("access_token") or "").strip()
        if not token:
            raise NotAuthorized(
                said("This Shopify plugin has no access token. Reconnect it from the Shopify store.")
            )
        base_url = str(credentials.get("base_url") or "").rstrip("/")
        if not base_url:
            base_url = f"https://{shop_domain(str(credentials.get('shop') or ''))}"
        return PlatformHTTP(
            self.connection,
            label=self.label,
            base_url=f"{base_url}/admin/api/{API_VERSION}/",
            throttle=self.throttle,
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            unauthorized_message=said(
                "Shopify rejected the access token: it was revoked, the app was uninstalled, "
                "or the token is wrong. Reauthorize the plugin."
            ),
            forbidden_message=said(
                "Shopify refused access: the app is missing a permission (access scope) we "
                "need, such as read_orders. Reauthorize the plugin and approve every scope."
            ),
            retry_after_hook=_retry_after_from_429,
            throttled_body_hook=_throttled_body_wait,
            secrets=[token],
        )

    def _graphql(
        self,
        http: PlatformHTTP,
        query: str,
        variables: dict[str, Any],
        *,
        max_wait: float = 2.0,
    ) -> dict[str, Any]:
        response = http.request_json(
            "POST", "graphql.json", json={"query": query, "variables": variables}, max_wait=max_wait
        )
        body = response.data
        if not isinstance(body, dict):
            raise PlatformUnavailable(said("Shopify sent an answer we could not read (not an object)."))
        errors = body.get("errors")
        if errors:
            self._raise_for_graphql_errors(http, errors)
        self._pace(http, body)
        data = body.get("data")
        if not isinstance(data, dict):
            raise PlatformUnavailable(said("Shopify sent an answer without data."))
        return data

    def _raise_for_graphql_errors(self, http: PlatformHTTP, errors: Any) -> None:
        # THROTTLED never gets here: request_json waits it out or raises
        # RateLimited (see _throttled_body_wait).
        if not isinstance(errors, list):
            # A top-level string is how Shopify reports auth problems on some paths.
            raise PlatformUnavailable(said("Shopify reported an error it did not explain."))
        codes = _error_codes(errors)
        if "ACCESS_DENIED" in codes:
            # GraphQL's way of saying 403: the token lacks an access scope.
            raise NotAuthorized(http.forbidden_message)
        first = errors[0] if isinstance(errors[0], dict) else {}
        detail = str(first.get("message") or "")[:200]
        if not detail:
            raise PlatformUnavailable(said("Shopify reported an error: no details"))
        # Shopify's own words, quoted as they came (in English).
        raise PlatformUnavailable(
            said("Shopify reported an error: %(detail)s", detail=redact(detail, http.secrets))
        )

    def _pace(self, http: PlatformHTTP, body: dict[str, Any]) -> None:
        """Wait out Shopify's point bucket before it would throttle the next request.

        If fewer points remain than this query asked for, an identical next
        query would be THROTTLED; block the bucket until enough have been
        restored, so every process sharing it slows down together.
        """
        cost = ((body.get("extensions") or {}).get("cost")) or {}
        status = cost.get("throttleStatus") or {}
        try:
            requested = float(cost.get("requestedQueryCost") or 0)
            available = float(status["currentlyAvailable"])
            restore_rate = float(status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return
        if restore_rate > 0 and available < requested:
            http.throttle.block_for((requested - available) / restore_rate)

    def _listed_order(self, http: PlatformHTTP, node: Any) -> SourceOrder | UnreadableOrder:
        """One order of a listing: normalized, or marked unreadable so the others still import."""
        try:
            return self._source_order(http, node, max_wait=LIST_MAX_WAIT)
        except MalformedOrder:
            node = node if isinstance(node, dict) else {}
            order_id = text_or_empty(node.get("id"))
            number = normalize_order_number(text_or_empty(node.get("name"))) or order_id
            return UnreadableOrder(id=order_id, number=number, reason=_SHAPE_MESSAGE)

    def _source_order(self, http: PlatformHTTP, node: dict[str, Any], *, max_wait: float) -> SourceOrder:
        """Normalize one order node, fetching the lines beyond the first page (MalformedOrder on a bad shape).

        Values of the wrong kind are coerced rather than passed on: text
        fields become text (or empty), a total we cannot keep becomes None.
        """
        try:
            nodes = list(node["lineItems"]["nodes"])
            page_info = node["lineItems"].get("pageInfo") or {}
            if page_info.get("hasNextPage"):
                nodes.extend(self._more_lines(http, node["id"], page_info["endCursor"], max_wait))
            status, platform_status = order_state(node)
            money = ((node.get("totalPriceSet") or {}).get("shopMoney")) or {}
            return SourceOrder(
                id=str(node["id"]),
                number=normalize_order_number(node["name"]),
                placed_at=_parse_datetime(node["createdAt"]),
                platform_status=platform_status,
                **source_state(status),
                lines=tuple(line for line in map(_line, nodes) if line is not None),
                buyer=_buyer(node),
                currency=text_or_empty(money.get("currencyCode")) or text_or_empty(node.get("currencyCode")),
                total=parse_total(money.get("amount")),
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise MalformedOrder(_SHAPE_MESSAGE) from exc

    def _more_lines(
        self, http: PlatformHTTP, order_id: str, cursor: str, max_wait: float
    ) -> Iterator[dict[str, Any]]:
        after: str | None = cursor
        cursors = {cursor}
        for _page in range(MAX_LINE_PAGES):
            data = self._graphql(http, MORE_LINES_QUERY, {"id": order_id, "after": after}, max_wait=max_wait)
            items = ((data.get("order") or {}).get("lineItems")) or {}
            yield from items.get("nodes") or []
            page_info = items.get("pageInfo") or {}
            after = page_info.get("endCursor") if page_info.get("hasNextPage") else None
            if not after:
                return
            if after in cursors:
                raise PaginationStuck(
                    said(
                        "Shopify kept paging through one order's lines from the same place. This is a fault on Shopify's side; contact support if it lasts."
                    )
                )
            cursors.add(after)
        raise PaginationStuck(
            said(
                "Shopify did not end one order's lines after %(pages)s pages. This is a fault on Shopify's side; contact support if it lasts.",
                pages=MAX_LINE_PAGES,
            )
        )


def _orders_connection(data: dict[str, Any]) -> dict[str, Any]:
    connection = data.get("orders")
    if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
        raise PlatformUnavailable(said("Shopify sent an order list in a shape we did not expect."))
    return connection


def _throttled_wait(body: Any) -> float | None:
    """Seconds until Shopify's bucket holds enough points for the throttled query."""
    if not isinstance(body, dict):
        return None
    cost = ((body.get("extensions") or {}).get("cost")) or {}
    status = cost.get("throttleStatus") or {}
    try:
        requested = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable") or 0)
        restore_rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return None
    if restore_rate <= 0:
        return None
    # At least a second: the bucket refills continuously, but asking again
    # within milliseconds only earns another THROTTLED.
    return max(1.0, (requested - available) / restore_rate)


def _error_codes(errors: list[Any]) -> set[str]:
    return {
        str(((error or {}).get("extensions") or {}).get("code") or "").upper()
        for error in errors
        if isinstance(error, dict)
    }


def _throttled_body_wait(body: Any) -> float | None:
    """A THROTTLED answer with HTTP 200: seconds to wait before asking again; None otherwise.

    A THROTTLED 429 is read by _retry_after_from_429.
    """
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or "THROTTLED" not in _error_codes(errors):
        return None
    return _throttled_wait(body) or 1.0


def _retry_after_from_429(response: httpx.Response) -> float | None:
    """A 429 from the GraphQL endpoint: prefer the body's throttleStatus, then Retry-After."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return _throttled_wait(body) or parse_retry_after(response.headers.get("Retry-After"))


# --- Reauthorize: the OAuth authorization-code grant --------------------------

# Shopify's authorization code grant for an offline access token: JSON with
# the app's keys in the body, and, in Shopify's own way, no grant_type. We ask
# for the default non-expiring offline token (no ``expiring=1``): it is
# permanent until the store uninstalls the app, so the answer carries neither
# an expiry nor a refresh token, and there is nothing to refresh.
# The fulfillment-order scopes let Step 6 read an order's fulfillment holds (a fraud hold, say).
OAUTH = OAuth2Provider(
    label="Shopify",
    token_url="",  # https://{shop}.myshopify.com/admin/oauth/access_token: each store's own
    encoding=Encoding.JSON,
    client_auth=ClientAuth.BODY,
    lifetime=None,
    refreshes=False,
    names_code_grant=False,
    scopes=(
        "read_orders",
        "read_all_orders",
        "read_products",
        "read_customers",
        "read_merchant_managed_fulfillment_orders",
        "read_assigned_fulfillment_orders",
        "read_third_party_fulfillment_orders",
    ),
    scope_separator=",",
    code_refused=said("Shopify did not accept the authorization. Start Reauthorize again."),
)


def admin_base(credentials: dict) -> str:
    """The store's admin origin; a ``base_url`` credential stands in for a local test store."""
    override = str(credentials.get("base_url") or "").rstrip("/")
    return override or f"https://{shop_domain(str(credentials.get('shop') or ''))}"


def callback_is_genuine(query: dict[str, str], *, client_secret: str) -> bool:
    """Shopify signs the callback's query string (all parameters but ``hmac``, sorted) with the app secret."""
    received = query.get("hmac", "")
    message = "&".join(f"{key}={value}" for key, value in sorted(query.items()) if key != "hmac")
    expected = hmac.new(client_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return same_secret(received, expected)


class ShopifyAuthorization(AuthorizationFlow):
    """The merchant approves on their store's admin; Shopify redirects back with a signed code.

    Configured by ``SHOPIFY_CLIENT_ID`` and ``SHOPIFY_CLIENT_SECRET`` (the app's API key and secret).
    """

    def available(self) -> bool:
        return registry.provider(ShopifyClient.key).app_keys_configured()

    def reconnect_advice(self) -> Said:
        return said(
            "Reconnect it from Configuration → Plugins, pasting a new Admin API access token "
            "from the store's custom app (Shopify admin → Settings → Apps and sales channels → Develop apps)."
        )

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        query = urlencode(
            {
                "client_id": settings.SHOPIFY_CLIENT_ID,
                "scope": OAUTH.scope,
                "redirect_uri": start.callback_url,
                "state": start.state,
            }
        )
        return f"{admin_base(credentials)}/admin/oauth/authorize?{query}"

    def verify_callback(self, params: dict[str, str]) -> None:
        # The signature first: a forged request must not use up the merchant's state.
        secret = settings.SHOPIFY_CLIENT_SECRET
        if not secret or not callback_is_genuine(params, client_secret=secret):
            raise CallbackRejected(
                said("This authorization did not come from Shopify. Start Reauthorize again.")
            )

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        return OAUTH.exchange_code(
            answer.params.get("code", ""),
            keys=AppKeys(settings.SHOPIFY_CLIENT_ID, settings.SHOPIFY_CLIENT_SECRET),
            connection=answer.connection,
            token_url=f"{admin_base(answer.credentials)}/admin/oauth/access_token",
        ).credentials()


CLIENT = ShopifyClient
AUTHORIZATION = ShopifyAuthorization()
