"""eBay, through the Sell Fulfillment API with a seller's OAuth user token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings

from apps.platforms import registry
from apps.platforms.authorization import AuthorizationAnswer, AuthorizationFlow, AuthorizationStart
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
from apps.platforms.http import DEFAULT_RETRY_AFTER, PlatformHTTP, parse_retry_after
from apps.platforms.oauth2 import AccessToken, AppKeys, ClientAuth, Encoding, OAuth2Provider
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.said import Said, said, said_n, said_p

ORDERS_PATH = "/sell/fulfillment/v1/order"
TOKEN_PATH = "/identity/v1/oauth2/token"

# eBay's OAuth (the authorization code grant and the refresh token request):
# a form with the app's keys in HTTP Basic; a user access token lives two
# hours (expires_in 7200) and is renewed with the refresh token, which lives
# 18 months and does not rotate; the refresh request names the scopes again.
OAUTH = OAuth2Provider(
    label="eBay",
    token_url=f"https://api.ebay.com{TOKEN_PATH}",
    encoding=Encoding.FORM,
    client_auth=ClientAuth.BASIC,
    lifetime=timedelta(hours=2),
    refreshes=True,
    scopes=("https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly",),
    scope_on_refresh=True,
    code_refused=said("eBay did not accept the authorization. Start Reauthorize again."),
    refresh_refused=said(
        "eBay no longer accepts this plugin's refresh token (it expired after 18 months, or the "
        "seller revoked the app's access). Reauthorize the plugin."
    ),
    not_connected=said("This eBay plugin has no access token. Reauthorize the plugin."),
)

# eBay counts calls per day (100,000 for getOrders); per second it is
# generous. 5 requests/s with a burst of 10 still lists 1,000 orders a second.
RATE_PER_SECOND = 5.0
BURST = 10

PAGE_SIZE = 200  # getOrders' largest `limit`
LIST_MAX_WAIT = 10.0
# A listing that has not ended after this many pages is paging in circles.
MAX_PAGES = 5_000

INVALID_TOKEN_ERROR = 1001
RATE_LIMIT_ERROR = 2001

_SHAPE_MESSAGE = said("eBay sent this order in a shape we did not expect.")
# Order ids are like "12-34567-89012" (older ones "123456789012-1234567890").
_ORDER_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z-]{0,39}$")

_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER

PAYMENT = "orderPaymentStatus"
CANCEL = "cancelStatus.cancelState"
CANCEL_REQUEST = "cancelRequests.cancelRequestState"
FULFILLMENT = "orderFulfillmentStatus"

# eBay's words for an order's state, read whole (Sell Fulfillment API:
# OrderPaymentStatusEnum, CancelStateEnum, CancelRequestStateEnum,
# OrderFulfillmentStatus). Of the words one order carries the most severe
# decides. Only orders whose checkout is complete are returned at all.
STATUSES = StatusTable(
    "ebay",
    [
        StatusWord("PAID", "The buyer's payment was made.", OrderState.IMPORTABLE, _I, field=PAYMENT),
        # Paid, and part of it still ships: as Shopify's PARTIALLY_REFUNDED.
        StatusWord(
            "PARTIALLY_REFUNDED",
            "Part of the payment was refunded.",
            OrderState.IMPORTABLE,
            _I,
            field=PAYMENT,
        ),
        StatusWord(
            "PENDING",
            "The buyer's payment is in process but not complete.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "eBay to finish processing the buyer's payment"),
            PAYMENT,
        ),
        StatusWord(
            "FAILED",
            "The buyer's payment failed.",
            OrderState.FAILED,
            _X,
            said_p("Step 6: the order will not import: …", "the buyer's payment failed"),
            PAYMENT,
        ),
        StatusWord(
            "FULLY_REFUNDED",
            "The whole payment was refunded.",
            OrderState.REFUNDED,
            _X,
            said_p("Step 6: the order will not import: …", "it was refunded in full"),
            PAYMENT,
        ),
        StatusWord(
            "NONE_REQUESTED", "No cancellation was requested.", OrderState.IMPORTABLE, _I, field=CANCEL
        ),
        StatusWord("", "No cancellation status was returned.", OrderState.IMPORTABLE, _I, field=CANCEL),
        StatusWord(
            "IN_PROGRESS",
            "A cancellation was requested and is not settled yet.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …", "you to accept or decline the buyer's cancel request"
            ),
            CANCEL,
        ),
        StatusWord(
            "CANCELED",
            "The order was cancelled.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled on eBay"),
            CANCEL,
        ),
        StatusWord(
            "REQUESTED",
            "The buyer asked to cancel; the seller has not accepted or rejected it yet.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …", "you to accept or decline the buyer's cancel request"
            ),
            CANCEL_REQUEST,
        ),
        StatusWord(
            "REJECTED",
            "The seller rejected the buyer's cancel request.",
            OrderState.IMPORTABLE,
            _I,
            field=CANCEL_REQUEST,
        ),
        StatusWord(
            "COMPLETED",
            "The cancel request was processed and the order cancelled.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled on eBay at the buyer's request"),
            CANCEL_REQUEST,
        ),
        # How far it shipped decides nothing: a paid order imports however far it has gone.
        StatusWord("NOT_STARTED", "No item has shipped yet.", OrderState.IMPORTABLE, _I, field=FULFILLMENT),
        StatusWord("IN_PROGRESS", "Some items have shipped.", OrderState.IMPORTABLE, _I, field=FULFILLMENT),
        StatusWord("FULFILLED", "Every item has shipped.", OrderState.IMPORTABLE, _I, field=FULFILLMENT),
        StatusWord("", "No fulfillment status was returned.", OrderState.IMPORTABLE, _I, field=FULFILLMENT),
    ],
    unknown=lambda word, field: StatusWord(
        word,
        f"An {field} value this version of Commerce Kitty does not know.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "you to check it on eBay (its %(field)s “%(word)s” is one Commerce Kitty does not know yet)",
            field=field,
            word=word,
        ),
        field,
    ),
)


def order_state(order: dict[str, Any]) -> tuple[StatusWord, str]:
    """(the deciding table entry, eBay's words) from the payment, cancellation and fulfillment status.

    The most severe word decides: a cancellation over a payment, a pending
    cancel request (cancelState IN_PROGRESS, or a request still REQUESTED)
    over PAID: the order waits for the seller's answer, paid as it is.
    """
    payment = text_or_empty(order.get("orderPaymentStatus")).upper()
    fulfillment = text_or_empty(order.get("orderFulfillmentStatus")).upper()
    cancel_status = order.get("cancelStatus") or {}
    if not isinstance(cancel_status, dict):
        raise MalformedOrder(_SHAPE_MESSAGE)
    requests = cancel_status.get("cancelRequests") or []
    if not isinstance(requests, list):
        raise MalformedOrder(_SHAPE_MESSAGE)
    cancel = text_or_empty(cancel_status.get("cancelState")).upper()
    found = [(STATUSES.read(payment, PAYMENT), payment or "NO PAYMENT STATUS")]
    found.append((STATUSES.read(fulfillment, FULFILLMENT), fulfillment))
    found.append(
        (STATUSES.read(cancel, CANCEL), {"CANCELED": "CANCELED"}.get(cancel, "cancellation requested"))
    )
    for request in requests:
        state = text_or_empty((request or {}).get("cancelRequestState")).upper()
        found.append((STATUSES.read(state, CANCEL_REQUEST), f"cancel request {state}"))
    deciding = most_severe(word for word, _said in found)
    words = [found[0][1]] + ([fulfillment] if fulfillment else [])
    words += [said for word, said in found[2:] if word.outcome != ImportOutcome.IMPORTABLE]
    return deciding, ", ".join(dict.fromkeys(words))


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise MalformedOrder(_SHAPE_MESSAGE)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _line(item: Any) -> SourceOrderLine | None:
    if not isinstance(item, dict):
        raise MalformedOrder(_SHAPE_MESSAGE)
    quantity = int(item.get("quantity") or 0)
    if quantity <= 0:
        return None
    return SourceOrderLine(
        sku=text_or_empty(item.get("sku")), quantity=quantity, title=text_or_empty(item.get("title"))
    )


def _dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedOrder(_SHAPE_MESSAGE)
    return value


def _buyer(order: dict[str, Any]) -> Buyer:
    instructions = order.get("fulfillmentStartInstructions") or []
    if not isinstance(instructions, list):
        raise MalformedOrder(_SHAPE_MESSAGE)
    first = _dict(instructions[0]) if instructions else {}
    ship_to = _dict(_dict(first.get("shippingStep")).get("shipTo"))
    registered = _dict(_dict(order.get("buyer")).get("buyerRegistrationAddress"))
    person = ship_to or registered
    address = _dict(person.get("contactAddress"))
    first_name, _, last_name = text_or_empty(person.get("fullName")).strip().partition(" ")
    return Buyer(
        email=text_or_empty(ship_to.get("email")) or text_or_empty(registered.get("email")),
        first_name=first_name,
        last_name=last_name.strip(),
        address_line1=text_or_empty(address.get("addressLine1")),
        city=text_or_empty(address.get("city")),
        postcode=text_or_empty(address.get("postalCode")),
        country=text_or_empty(address.get("countryCode")),
    )


def source_order(order: Any) -> SourceOrder:
    """Normalize one Fulfillment API order (raises MalformedOrder on a bad shape)."""
    try:
        if not isinstance(order, dict):
            raise MalformedOrder(_SHAPE_MESSAGE)
        order_id = order["orderId"]
        if not isinstance(order_id, str) or not order_id.strip():
            raise MalformedOrder(_SHAPE_MESSAGE)
        status, words = order_state(order)
        lines = order.get("lineItems") or []
        if not isinstance(lines, list):
            raise MalformedOrder(_SHAPE_MESSAGE)
        total = _dict(_dict(order.get("pricingSummary")).get("total"))
        return SourceOrder(
            id=order_id,
            number=normalize_order_number(order_id),
            placed_at=_parse_datetime(order.get("creationDate")),
            platform_status=words,
            **source_state(status),
            lines=tuple(line for line in map(_line, lines) if line is not None),
            buyer=_buyer(order),
            currency=text_or_empty(total.get("currency")),
            total=parse_total(total.get("value")),
        )
    except MalformedOrder:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError) as exc:
        raise MalformedOrder(_SHAPE_MESSAGE) from exc


def _listed_order(raw: Any) -> SourceOrder | UnreadableOrder:
    try:
        return source_order(raw)
    except MalformedOrder:
        order_id = text_or_empty(raw.get("orderId")) if isinstance(raw, dict) else ""
        return UnreadableOrder(id=order_id, number=order_id, reason=_SHAPE_MESSAGE)


def _filter_time(when: datetime) -> str:
    if when.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _api_origin(credentials: dict) -> str:
    return str(credentials.get("base_url") or "").rstrip("/") or settings.EBAY_API_URL.rstrip("/")


def _token_url(credentials: dict) -> str:
    return f"{_api_origin(credentials)}{TOKEN_PATH}"


def _app_keys() -> AppKeys | None:
    """The app's keys, when all of eBay's app settings are set (else nothing is refreshed)."""
    if not registry.provider(EbayClient.key).app_keys_configured():
        return None
    return AppKeys(settings.EBAY_CLIENT_ID, settings.EBAY_CLIENT_SECRET)


class EbayClient(PlatformClient):
    """One eBay seller account.

    Credentials: ``{"access_token": "v^1.1#…", "access_token_expires_at": ISO 8601,
    "refresh_token": "v^1.1#…"}``. An access token lasts two hours; with a
    refresh token and the app's keys (EBAY_CLIENT_ID, EBAY_CLIENT_SECRET) it
    is renewed before it runs out, and the new one is kept with the plugin.
    ``"base_url"`` replaces https://api.ebay.com for tests against a local server.
    """

    key = "ebay"
    label = "eBay"
    # Without a creationdate filter eBay shows the last 90 days; we keep to them.
    capabilities = Capabilities(backfill=True, manual_sync=True, history_days=90)
    credential_fields = ("access_token", "refresh_token")

    def get_order(self, number: str) -> SourceOrder | None:
        """The order with this order id (what Seller Hub shows as the order number), or None."""
        wanted = normalize_order_number(number)
        if not _ORDER_ID.match(wanted):
            return None
        response = self._request("GET", f"{ORDERS_PATH}/{wanted}", accept_statuses=(404,))
        if response.status_code == 404:
            return None
        return source_order(response.data)

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Orders created at or after ``since``, oldest first, read 200 a page by offset.

        eBay lists newest first and offers no other order, so the whole window
        is read before the first order is handed out; memory holds normalized
        orders only. Raises PaginationStuck when a page repeats the one before
        it or after MAX_PAGES pages.
        """
        params: dict[str, Any] = {"filter": f"creationdate:[{_filter_time(since)}..]", "limit": PAGE_SIZE}
        orders: list[SourceOrder] = []
        unreadable: list[UnreadableOrder] = []
        previous_ids: set[str] = set()
        offset = 0
        for _page in range(MAX_PAGES):
            page = self._request(
                "GET", ORDERS_PATH, params={**params, "offset": offset}, max_wait=LIST_MAX_WAIT
            ).data
            if not isinstance(page, dict) or not isinstance(page.get("orders", []), list):
                raise PlatformUnavailable(said("eBay sent an order list in a shape we did not expect."))
            raw_orders = page.get("orders") or []
            ids = {text_or_empty(raw.get("orderId")) for raw in raw_orders if isinstance(raw, dict)} - {""}
            if ids and ids <= previous_ids:
                raise PaginationStuck(
                    said_n(
                        "eBay sent the same page of orders again (at offset %(offset)s), so we stopped after "
                        "%(count)s order. This is a fault on eBay's side; contact support if it lasts.",
                        "eBay sent the same page of orders again (at offset %(offset)s), so we stopped after "
                        "%(count)s orders. This is a fault on eBay's side; contact support if it lasts.",
                        len(orders) + len(unreadable),
                        offset=offset,
                    )
                )
            previous_ids = ids
            for raw in raw_orders:
                order = _listed_order(raw)
                if isinstance(order, UnreadableOrder):
                    unreadable.append(order)
                elif order.placed_at >= since:
                    orders.append(order)
            offset += len(raw_orders)
            total = page.get("total")
            if len(raw_orders) < PAGE_SIZE or (isinstance(total, int) and offset >= total):
                orders.sort(key=lambda order: (order.placed_at, order.id))
                yield from orders
                yield from unreadable
                return
        raise PaginationStuck(said("eBay's order list did not end after %(pages)s pages.", pages=MAX_PAGES))

    def check_authorization(self) -> None:
        """List one order of the last day: a cheap call that needs the fulfillment scope."""
        since = datetime.now(UTC) - timedelta(days=1)
        self._request(
            "GET", ORDERS_PATH, params={"filter": f"creationdate:[{_filter_time(since)}..]", "limit": 1}
        )

    # --- internals ---------------------------------------------------------

    @property
    def throttle(self) -> Throttle:
        return throttle_for(self.connection.bucket, rate=RATE_PER_SECOND, burst=BURST)

    def _request(self, method: str, path: str, **kwargs: Any):
        """One API call with a live access token (renewed within the margin, or once when eBay
        turns it down with a 401 or errorId 1001)."""
        credentials = self.connection.credentials
        token = AccessToken(OAUTH, self.connection, keys=_app_keys(), token_url=_token_url(credentials))

        def send(access_token: str):
            with self._http(access_token) as http:
                return http.request_json(method, path, **kwargs)

        return token.call(send, rejected=_InvalidToken)

    def _http(self, token: str) -> PlatformHTTP:
        credentials = self.connection.credentials
        return _EbayHTTP(
            self.connection,
            label=self.label,
            base_url=_api_origin(credentials),
            throttle=self.throttle,
            headers={"Authorization": f"Bearer {token}"},
            unauthorized_message=said(
                "eBay rejected the access token (errorId 1001: invalid access token): it expired, "
                "or the seller revoked the app's access. Reauthorize the plugin."
            ),
            forbidden_message=said(
                "eBay refused access: the token lacks the sell.fulfillment scope. "
                "Reauthorize the plugin and grant every permission it asks for."
            ),
            secrets=[token, str(credentials.get("refresh_token") or "")],
        )


def _error_ids(response: httpx.Response) -> set[int]:
    """The ``errors[].errorId`` of an eBay error body (empty when there is none)."""
    try:
        body = response.json()
    except ValueError:
        return set()
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return set()
    return {
        error["errorId"]
        for error in errors
        if isinstance(error, dict)
        and isinstance(error.get("errorId"), int)
        and not isinstance(error.get("errorId"), bool)
    }


class _InvalidToken(NotAuthorized):
    """eBay turned the access token down (a 401, or errorId 1001): a refresh may cure it, a 403 cannot."""


class _EbayHTTP(PlatformHTTP):
    """eBay says what went wrong in ``errors[].errorId`` as well as the status:
    1001 (invalid access token) is not authorized, whatever the status; 2001
    (too many requests) is a rate limit, usually without Retry-After."""

    def _platform_wait(self, response: httpx.Response) -> float | None:
        wait = super()._platform_wait(response)
        if wait is None and response.status_code >= 400 and RATE_LIMIT_ERROR in _error_ids(response):
            return parse_retry_after(response.headers.get("Retry-After")) or DEFAULT_RETRY_AFTER
        return wait

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code == 401 or (
            response.status_code >= 400 and INVALID_TOKEN_ERROR in _error_ids(response)
        ):
            raise _InvalidToken(self.unauthorized_message)
        super()._raise_for_status(response)


# --- Reauthorize: eBay's consent page -----------------------------------------


class EbayAuthorization(AuthorizationFlow):
    """The seller signs in to eBay and grants access; eBay redirects to the RuName's accepted URL
    with a code, traded for an access token and a refresh token (kept encrypted with the plugin).

    Configured by ``EBAY_CLIENT_ID``, ``EBAY_CLIENT_SECRET`` and ``EBAY_RU_NAME``.
    """

    def available(self) -> bool:
        return registry.provider(EbayClient.key).app_keys_configured()

    def reconnect_advice(self) -> Said:
        return said(
            "Reconnect it from Configuration → Plugins, signing in to eBay with the same seller account."
        )

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        query = urlencode(
            {
                "client_id": settings.EBAY_CLIENT_ID,
                "redirect_uri": settings.EBAY_RU_NAME,
                "response_type": "code",
                "scope": OAUTH.scope,
                "state": start.state,
            }
        )
        return f"{settings.EBAY_AUTH_URL.rstrip('/')}/oauth2/authorize?{query}"

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        code = answer.params.get("code", "")
        if not code:  # declined: eBay sends the seller back without a code
            return None
        # eBay's redirect_uri is the RuName that named the accepted URL, not the URL itself.
        return OAUTH.exchange_code(
            code,
            keys=AppKeys(settings.EBAY_CLIENT_ID, settings.EBAY_CLIENT_SECRET),
            connection=answer.connection,
            token_url=_token_url(answer.credentials),
            redirect_uri=settings.EBAY_RU_NAME,
        ).credentials()


def _demo_statuses() -> dict[OrderState, StatusWord]:
    """Each state's first eBay word, with eBay's words as order_state says them, so the demo never says otherwise."""
    statuses: dict[OrderState, StatusWord] = {}
    for entry in STATUSES:
        sample: dict[str, Any] = {"orderPaymentStatus": "PAID", "orderFulfillmentStatus": "NOT_STARTED"}
        if entry.field == PAYMENT:
            sample["orderPaymentStatus"] = entry.word
        elif entry.field == CANCEL:
            sample["cancelStatus"] = {"cancelState": entry.word}
        else:
            continue
        deciding, words = order_state(sample)
        statuses.setdefault(deciding.state, replace(deciding, word=words))
    return statuses


DEMO_STATUSES = _demo_statuses()
CLIENT = EbayClient
AUTHORIZATION = EbayAuthorization()
