"""WooCommerce, through its REST API v3 with consumer key/secret."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

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
from apps.platforms.http import PlatformHTTP
from apps.platforms.throttle import Throttle, throttle_for
from kitty_troubleshoot.params import BodyRefused, json_body
from kitty_troubleshoot.said import said, said_n, said_p

API_PREFIX = "/wp-json/wc/v3/"

# WooCommerce has no rate limit of its own, but it runs on the merchant's
# (often small, shared) host: 5 requests/s with a burst of 10 is gentle there
# and still lists 500 orders a second at 100 per page.
RATE_PER_SECOND = 5.0
BURST = 10

PAGE_SIZE = 100  # the API's maximum per_page
# Searching by number matches ids, e-mails, addresses...; look this many
# pages deep for the exact number before calling it absent.
SEARCH_PAGES = 3
LIST_MAX_WAIT = 10.0
# A listing that has not ended after this many pages (a million orders) is
# paging in circles; no sync task lives long enough to fetch that many anyway.
MAX_PAGES = 10_000

_SHAPE_MESSAGE = said("WooCommerce sent this order in a shape we did not expect.")

_I, _N, _X = ImportOutcome.IMPORTABLE, ImportOutcome.NOT_YET, ImportOutcome.NEVER

# WooCommerce's order statuses, read whole (woocommerce.com "Order Statuses";
# the REST API's status enum). Statuses a plugin adds are unknown words: they
# keep the order out, shown with their own word.
STATUSES = StatusTable(
    "woocommerce",
    [
        StatusWord(
            "processing",
            "Payment received, stock reduced; the order awaits fulfillment.",
            OrderState.IMPORTABLE,
            _I,
        ),
        StatusWord(
            "completed", "Fulfilled and complete; no further action required.", OrderState.IMPORTABLE, _I
        ),
        StatusWord(
            "pending",
            "Order received, no payment made yet; it awaits the customer's action.",
            OrderState.PENDING_PAYMENT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer's payment"),
        ),
        StatusWord(
            "on-hold",
            "Awaiting payment confirmation (an offline or delayed payment, or an "
            "authorization not captured yet); stock is reduced.",
            OrderState.ON_HOLD,
            _N,
            said_p(
                "Step 6: the order is waiting for …",
                "you (or the payment gateway) to confirm the payment in WooCommerce",
            ),
        ),
        StatusWord(
            "checkout-draft",
            "A draft the block checkout keeps while the buyer is still in checkout.",
            OrderState.CHECKOUT,
            _N,
            said_p("Step 6: the order is waiting for …", "the buyer to finish checkout"),
        ),
        StatusWord(
            "cancelled",
            "Cancelled by the store or the customer; stock increased.",
            OrderState.CANCELLED,
            _X,
            said_p("Step 6: the order will not import: …", "it was cancelled in WooCommerce"),
        ),
        StatusWord(
            "refunded",
            "Refunded in full by the store.",
            OrderState.REFUNDED,
            _X,
            said_p("Step 6: the order will not import: …", "it was refunded in full"),
        ),
        StatusWord(
            "failed",
            "The payment failed or was declined (unpaid).",
            OrderState.FAILED,
            _X,
            said_p("Step 6: the order will not import: …", "the payment failed or was declined"),
        ),
        StatusWord(
            "trash",
            "The order was moved to the trash.",
            OrderState.CANCELLED,
            _X,
            said_p(
                "Step 6: the order will not import: …", "it was deleted (moved to the trash) in WooCommerce"
            ),
        ),
    ],
    unknown=lambda word, field: StatusWord(
        word,
        "A status added by a plugin on the store; what it means for payment is not known.",
        OrderState.ON_HOLD,
        ImportOutcome.NOT_YET,
        said_p(
            "Step 6: the order is waiting for …",
            "the order to move to “processing” or “completed” (its status was added by a plugin on the store)",
        ),
    ),
)

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def order_state(status: str) -> StatusWord:
    """The table entry for a WooCommerce status ("wc-" prefixed or not).

    Statuses added by plugins (e.g. "shipped") keep the order out: we cannot
    know whether they mean paid, and an unknown order must not be imported silently.
    """
    return STATUSES.read(status.strip().lower().removeprefix("wc-"))


def _parse_gmt(value: str) -> datetime:
    # date_created_gmt is a naive string in UTC, e.g. "2026-01-05T10:00:00".
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _line(item: dict[str, Any]) -> SourceOrderLine | None:
    quantity = int(item.get("quantity") or 0)
    if quantity <= 0:  # removed or refunded entirely: nothing left to import
        return None
    return SourceOrderLine(
        sku=text_or_empty(item.get("sku")), quantity=quantity, title=text_or_empty(item.get("name"))
    )


def source_order(order: dict[str, Any]) -> SourceOrder:
    """Normalize one WooCommerce order object (raises MalformedOrder on a bad shape).

    Values of the wrong kind are coerced rather than passed on: text fields
    become text (or empty), a total we cannot keep becomes None.
    """
    try:
        status = str(order.get("status") or "")
        # Fall back to the site-local date only if the GMT one is missing
        # (very old orders); it is then off by the site's UTC offset at most.
        created = order.get("date_created_gmt") or order["date_created"]
        billing = order.get("billing") or {}
        return SourceOrder(
            id=str(order["id"]),
            number=normalize_order_number(str(order.get("number") or order["id"])),
            placed_at=_parse_gmt(created),
            platform_status=status,
            **source_state(order_state(status)),
            lines=tuple(line for line in map(_line, order.get("line_items") or []) if line is not None),
            buyer=Buyer(
                email=text_or_empty(billing.get("email")),
                first_name=text_or_empty(billing.get("first_name")),
                last_name=text_or_empty(billing.get("last_name")),
                address_line1=text_or_empty(billing.get("address_1")),
                city=text_or_empty(billing.get("city")),
                postcode=text_or_empty(billing.get("postcode")),
                country=text_or_empty(billing.get("country")),
            ),
            currency=text_or_empty(order.get("currency")),
            total=parse_total(order.get("total")),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise MalformedOrder(_SHAPE_MESSAGE) from exc


def _listed_order(raw: Any) -> SourceOrder | UnreadableOrder:
    """One order of a listing: normalized, or marked unreadable so the others still import."""
    try:
        return source_order(raw)
    except MalformedOrder:
        raw = raw if isinstance(raw, dict) else {}
        order_id = text_or_empty(raw.get("id"))
        number = normalize_order_number(text_or_empty(raw.get("number"))) or order_id
        return UnreadableOrder(id=order_id, number=number, reason=_SHAPE_MESSAGE)


class WooCommerceClient(PlatformClient):
    """One WooCommerce site, via a REST API key with Read permission.

    Credentials: ``{"site_url": "https://shop.example", "consumer_key": "ck_…",
    "consumer_secret": "cs_…"}``.
    """

    key = "woocommerce"
    label = "WooCommerce"
    capabilities = Capabilities(backfill=True, manual_sync=True, history_days=None)
    credential_fields = ("site_url", "consumer_key", "consumer_secret")

    def get_order(self, number: str) -> SourceOrder | None:
        """The order whose ``number`` is exactly ``number``, or None."""
        wanted = normalize_order_number(number)
        if not wanted:
            return None
        with self._http() as http:
            for page in range(1, SEARCH_PAGES + 1):
                orders = self._orders_page(http, {"search": wanted, "per_page": PAGE_SIZE, "page": page})[0]
                for order in orders:
                    if not isinstance(order, dict):
                        continue
                    if normalize_order_number(str(order.get("number") or "")) == wanted:
                        return source_order(order)
                if len(orders) < PAGE_SIZE:
                    break
        return None

    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Orders created at or after ``since``, oldest first, 100 per request.

        Raises PaginationStuck when a page repeats the one before it (a site
        or cache that ignores ``page``) or after MAX_PAGES pages.
        """
        if since.tzinfo is None:  # callers should pass aware datetimes; naive means UTC here
            since = since.replace(tzinfo=UTC)
        since = since.astimezone(UTC)
        # `after` is strict, so ask from a second earlier and drop what is
        # before `since` ourselves; dates_are_gmt makes `after` mean UTC
        # rather than the site's local time.
        params: dict[str, Any] = {
            "after": (since - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "per_page": PAGE_SIZE,
            "orderby": "date",
            "order": "asc",
        }
        listed = 0
        previous_ids: set[str] = set()
        with self._http() as http:
            for page in range(1, MAX_PAGES + 1):
                orders, total_pages = self._orders_page(
                    http, {**params, "page": page}, max_wait=LIST_MAX_WAIT
                )
                ids = {str(raw.get("id")) for raw in orders if isinstance(raw, dict)}
                if ids and ids <= previous_ids:
                    raise PaginationStuck(
                        said_n(
                            "WooCommerce sent the same page of orders again (page %(page)s repeated "
                            "page %(previous)s), so we stopped after %(count)s order. A caching plugin "
                            "or proxy in front of the store may be ignoring the page number; exclude "
                            "/wp-json/ from caching.",
                            "WooCommerce sent the same page of orders again (page %(page)s repeated "
                            "page %(previous)s), so we stopped after %(count)s orders. A caching plugin "
                            "or proxy in front of the store may be ignoring the page number; exclude "
                            "/wp-json/ from caching.",
                            listed,
                            page=page,
                            previous=page - 1,
                        )
                    )
                previous_ids = ids
                for raw in orders:
                    order = _listed_order(raw)
                    if isinstance(order, UnreadableOrder) or order.placed_at >= since:
                        listed += 1
                        yield order
                if len(orders) < PAGE_SIZE or (total_pages is not None and page >= total_pages):
                    return
        raise PaginationStuck(
            said_n(
                "WooCommerce's order list did not end after %(pages)s pages, so we stopped after %(count)s order.",
                "WooCommerce's order list did not end after %(pages)s pages, so we stopped after %(count)s orders.",
                listed,
                pages=MAX_PAGES,
            )
        )

    def check_authorization(self) -> None:
        """List one order: the cheapest call that needs the key's Read permission."""
        with self._http() as http:
            self._orders_page(http, {"per_page": 1})

    # --- internals ---------------------------------------------------------

    @property
    def throttle(self) -> Throttle:
        return throttle_for(self.connection.bucket, rate=RATE_PER_SECOND, burst=BURST)

    def _http(self) -> PlatformHTTP:
        credentials = self.connection.credentials
        key = str(credentials.get("consumer_key") or "").strip()
        secret = str(credentials.get("consumer_secret") or "").strip()
        if not key or not secret:
            raise NotAuthorized(
                said(
                    "This WooCommerce plugin is missing its API key or secret. "
                    "Create a REST API key with Read access in WooCommerce and reconnect the plugin."
                )
            )
        return PlatformHTTP(
            self.connection,
            label=self.label,
            base_url=api_base(str(credentials.get("site_url") or "")),
            throttle=self.throttle,
            auth=(key, secret),
            unauthorized_message=said(
                "WooCommerce rejected the API key: it was revoked or regenerated, or the "
                "consumer key or secret is wrong. Reconnect the plugin with a current key."
            ),
            forbidden_message=said(
                "WooCommerce refused access: the API key does not have Read permission "
                "for orders. Give the key Read access and reconnect the plugin."
            ),
            secrets=[key, secret],
        )

    def _orders_page(
        self, http: PlatformHTTP, params: dict[str, Any], *, max_wait: float = 2.0
    ) -> tuple[list[dict[str, Any]], int | None]:
        response = http.request_json("GET", "orders", params=params, max_wait=max_wait)
        if not isinstance(response.data, list):
            raise PlatformUnavailable(said("WooCommerce sent an order list in a shape we did not expect."))
        try:
            total_pages: int | None = int(response.headers["X-WP-TotalPages"])
        except (KeyError, ValueError):
            total_pages = None
        return response.data, total_pages


def api_base(site_url: str) -> str:
    """The API root for a site address; https only, except for a local test server.

    Basic auth over plain http would send the consumer secret in the clear.
    """
    site_url = site_url.strip().rstrip("/")
    parts = urlsplit(site_url)
    local = parts.hostname in _LOCAL_HOSTS
    if not parts.hostname or parts.scheme not in {"https", "http"} or (parts.scheme == "http" and not local):
        raise NotAuthorized(
            said(
                "The WooCommerce site address in this plugin must start with https://. "
                "Correct it and reconnect the plugin."
            )
        )
    return f"{site_url}{API_PREFIX}"


# --- Reauthorize: the store's own /wc-auth/v1/authorize endpoint -------------

SCOPE = "read"
APP_NAME = "Commerce Kitty"


class WooCommerceAuthorization(AuthorizationFlow):
    """The merchant approves on their site; WooCommerce POSTs fresh REST API keys to our callback.

    The keys are only kept with the state: the sender is not signed in, so
    they take effect when the merchant who started the flow comes back
    (``success=1&user_id=<state>`` on the return address). Needs no app keys
    of ours, so it is always available.
    """

    def available(self) -> bool:
        return True

    def authorize_url(self, credentials: dict, start: AuthorizationStart) -> str:
        # api_base refuses anything but https (or a local test server).
        site = api_base(str(credentials.get("site_url") or "")).split("/wp-json/", 1)[0]
        query = urlencode(
            {
                "app_name": APP_NAME,
                "scope": SCOPE,
                "user_id": start.state,
                "return_url": start.return_url,
                "callback_url": start.callback_url,
            }
        )
        return f"{site}/wc-auth/v1/authorize?{query}"

    def callback_state(self, params: dict[str, str]) -> str:
        return params.get("user_id", "")

    def needs_received_credentials(self, params: dict[str, str]) -> bool:
        return params.get("success") == "1"

    def finish(self, answer: AuthorizationAnswer) -> dict | None:
        if answer.params.get("success") != "1":
            return None
        return dict(answer.received)

    def receive(self, body: bytes) -> tuple[str, dict]:
        try:
            payload = json_body(body)
        except BodyRefused as exc:
            raise CallbackRejected(exc.args[0] if exc.args else str(exc)) from None
        if not isinstance(payload, dict):
            raise CallbackRejected(said("Expected a JSON object."))
        key, secret = payload.get("consumer_key"), payload.get("consumer_secret")
        if not (
            isinstance(key, str)
            and key.startswith("ck_")
            and isinstance(secret, str)
            and secret.startswith("cs_")
        ):
            raise CallbackRejected(said("Missing consumer_key / consumer_secret."))
        return str(payload.get("user_id", "")), {"consumer_key": key, "consumer_secret": secret}


CLIENT = WooCommerceClient
AUTHORIZATION = WooCommerceAuthorization()
