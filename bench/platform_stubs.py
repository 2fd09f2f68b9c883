"""Stand-ins for the source platforms' order APIs on 127.0.0.1, for ``import_orders.py``.

A plain module, imported by the script next to it (as ``stack.py`` is). Each
stub is a real HTTP server (``ThreadingHTTPServer``, HTTP/1.1 with keep-alive,
as the platforms serve) in a thread of the bench's own process, never the
importer's, answering the requests its platform's client in ``apps/platforms``
sends, in the platform's documented shape:

- Shopify: GraphQL Admin API ``POST /admin/api/<version>/graphql.json``, the
  ``shop`` query and ``orders(first:, after:)`` with opaque cursors, at most
  250 a page.
- WooCommerce: ``GET /wp-json/wc/v3/orders`` with HTTP Basic, ``page`` and
  ``per_page`` (at most 100), ``X-WP-Total`` and ``X-WP-TotalPages``.
- BigCommerce: ``GET /stores/<hash>/v2/orders`` (at most 250 a page, 204 past
  the last), ``…/orders/count`` and ``…/orders/<id>/products``.
- eBay: ``GET /sell/fulfillment/v1/order`` by ``offset`` (at most 200 a page),
  newest first as eBay lists them, and the token endpoint
  ``POST /identity/v1/oauth2/token``.
- Amazon: ``GET /orders/v0/orders`` (``MaxResultsPerPage`` at most 100, then
  ``NextToken``), ``…/orders/<id>/orderItems``, and Login with Amazon's
  ``POST /auth/o2/token``. No buyer e-mail or name: Amazon shares them only
  with a Restricted Data Token.
- Etsy: ``GET /v3/application/shops/<id>/receipts`` by ``offset`` (at most 100
  a page) and ``POST /v3/public/oauth/token``, whose refresh tokens rotate.

A client asking for more than the platform's largest page gets that largest
page. The stubs check the credentials each platform checks (a wrong token is
answered as the platform answers it) but ignore the date filters: every order
is placed after the plugin's Import Orders was turned on, so none would be
left out. Orders are generated deterministically from their index (2 lines
by default, SKUs of the merchant's catalog, a paid or otherwise importable
status of the platform's own words) and rendered to JSON once, before the
import starts; a page is those bytes joined, kept after its first request, so
the stub never holds the importer up.

Where a client paces itself from what the platform reports, the stub reports
a generous, never-draining allowance, so what is measured is our own
throttle and the importer, as in production, not a platform's limit:
Shopify's ``throttleStatus`` says 20,000 points available of 20,000 restoring
at 1,000/s (a Plus store that never drains), BigCommerce's
``X-Rate-Limit-Requests-Left`` 9,999 of a 10,000-request window, Etsy's
``x-remaining-this-second`` and ``x-remaining-today`` 149 and 99,999. No stub
ever answers 429.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"
# Every order is this far in the past (and later ones 10 s apart), inside
# every platform's history window (Shopify shows 60 days, eBay 90).
DAYS_AGO = 20
UNIT_PRICE_CENTS = 1245

Answer = tuple[int, dict[str, str], bytes]


def _json(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _token(prefix: str, offset: int) -> str:
    """An opaque paging token (cursor, NextToken) that stands for ``offset``."""
    return base64.urlsafe_b64encode(f"{prefix}:{offset}".encode()).decode().rstrip("=")


def _offset(prefix: str, token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        name, _, value = text.partition(":")
        return int(value) if name == prefix else None
    except (ValueError, UnicodeDecodeError):
        return None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# --- The orders ------------------------------------------------------------------


@dataclass(frozen=True)
class BenchOrder:
    """One order as every platform holds it; each stub renders it in its platform's shape."""

    index: int
    placed_at: datetime
    lines: tuple[tuple[str, int], ...]  # (SKU, quantity)
    email: str
    first_name: str
    last_name: str

    @property
    def number(self) -> int:
        return 100000 + self.index

    @property
    def total(self) -> str:
        cents = sum(quantity for _sku, quantity in self.lines) * UNIT_PRICE_CENTS
        return f"{cents // 100}.{cents % 100:02d}"

    def pick(self, choices: tuple):
        """One of ``choices`` by the order's index: every importable status of a platform occurs."""
        return choices[self.index % len(choices)]


def bench_orders(count: int, lines: int, skus: list[str]) -> list[BenchOrder]:
    """``count`` orders, oldest first, 10 s apart from midnight UTC ``DAYS_AGO`` days ago."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS_AGO)
    return [
        BenchOrder(
            index=n,
            placed_at=start + timedelta(seconds=n * 10),
            lines=tuple((skus[(n * lines + i) % len(skus)], 1 + i) for i in range(lines)),
            email=f"buyer{n % 3000}@example.com",  # repeat buyers, as in real life
            first_name="Bench",
            last_name=f"Buyer {n}",
        )
        for n in range(count)
    ]


ADDRESS = {"line1": "1 Bench Street", "city": "Portland", "postcode": "97201", "country": "US"}


# --- The server ------------------------------------------------------------------


class PlatformStub:
    """One platform's API over ``orders``; subclasses answer its requests.

    ``credentials(url)`` is what the plugin must hold to reach it, ``requests``
    counts the requests served by kind, ``environment`` the settings the
    client needs besides (the app's keys, for eBay).
    """

    key = ""
    environment: Mapping[str, str] = {}

    def __init__(self, orders: list[BenchOrder]):
        self.orders = orders
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._pages: dict[tuple, bytes] = {}
        self._fragments = [_json(self.render(order)) for order in orders]
        self.server: ThreadingHTTPServer | None = None

    # What a subclass provides.

    def render(self, order: BenchOrder) -> dict:
        raise NotImplementedError

    def credentials(self, url: str) -> dict:
        raise NotImplementedError

    def answer(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> Answer:
        raise NotImplementedError

    # Shared helpers.

    def count(self, kind: str) -> None:
        with self._lock:
            self.requests[kind] += 1

    def joined(self, key: tuple, start: int, stop: int, wrap: Callable[[bytes], bytes]) -> bytes:
        """The page of orders ``start:stop`` as ``wrap(b"o1,o2,…")``, rendered on its first request only."""
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = wrap(b",".join(self._fragments[start:stop]))
        return page

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{HOST}:{self.server.server_address[1]}"

    def start(self) -> PlatformStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the platforms serve
            # Headers and body leave as two writes: with Nagle's algorithm the body waits for the
            # client's delayed ACK, 40 ms a response, which no platform's server adds.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = _form(parts.query)
                try:
                    status, headers, payload = stub.answer(
                        self.command, parts.path, query, self.headers, body
                    )
                except Exception as exc:  # a bug in the stub must show, not hang the client
                    status, headers, payload = 500, {}, _json({"stub_error": repr(exc)})
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers.items():
                    self.send_header(name, value)
                if status not in (204, 304):
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if status not in (204, 304):
                    self.wfile.write(payload)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name=f"stub-{self.key}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _answer(status: int, data: object, headers: dict[str, str] | None = None) -> Answer:
    return status, headers or {}, _json(data)


def _not_found() -> Answer:
    return _answer(404, {"error": "not found"})


def _form(encoded: str) -> dict[str, str]:
    """A query string's or form body's fields, the first value of each."""
    return {name: values[0] for name, values in parse_qs(encoded).items()}


def _refresh_refused(
    form: dict[str, str],
    *,
    client_ok: bool,
    refresh_token: str,
    client_error: str = "",
    grant_error: str = "",
) -> Answer | None:
    """A token endpoint's OAuth error for a refresh (RFC 6749 5.2), in the platform's words; None: granted."""
    if not client_ok:
        return _answer(
            401, {"error": "invalid_client", **({"error_description": client_error} if client_error else {})}
        )
    if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != refresh_token:
        return _answer(
            400, {"error": "invalid_grant", **({"error_description": grant_error} if grant_error else {})}
        )
    return None


# --- Shopify ---------------------------------------------------------------------


class ShopifyStub(PlatformStub):
    key = "shopify"
    TOKEN = "shpat_bench0123456789abcdef"
    MAX_PAGE = 250
    PATH = "/admin/api/2025-07/graphql.json"
    # A Plus store whose bucket never drains: see the module's docstring.
    THROTTLE_STATUS = {"maximumAvailable": 20000.0, "currentlyAvailable": 20000, "restoreRate": 1000.0}

    def credentials(self, url: str) -> dict:
        return {"shop": "bench-store", "access_token": self.TOKEN, "base_url": url}

    def render(self, order: BenchOrder) -> dict:
        address = {
            "firstName": order.first_name,
            "lastName": order.last_name,
            "address1": ADDRESS["line1"],
            "city": ADDRESS["city"],
            "zip": ADDRESS["postcode"],
            "countryCodeV2": ADDRESS["country"],
        }
        return {
            "id": f"gid://shopify/Order/{5000000000 + order.index}",
            "name": f"#{order.number}",
            "createdAt": order.placed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cancelledAt": None,
            "displayFinancialStatus": order.pick(("PAID", "AUTHORIZED")),
            "risk": {"recommendation": order.pick(("NONE", "ACCEPT"))},
            "email": order.email,
            "currencyCode": "USD",
            "totalPriceSet": {"shopMoney": {"amount": order.total, "currencyCode": "USD"}},
            "customer": {"firstName": order.first_name, "lastName": order.last_name},
            "shippingAddress": address,
            "billingAddress": address,
            "lineItems": {
                "pageInfo": {"hasNextPage": False, "endCursor": None},
                "nodes": [
                    {"sku": sku, "title": "Item", "quantity": quantity, "currentQuantity": quantity}
                    for sku, quantity in order.lines
                ],
            },
        }

    def _extensions(self, requested: int, actual: int) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.THROTTLE_STATUS,
            }
        }

    def answer(self, method, path, query, headers, body) -> Answer:
        if method != "POST" or path != self.PATH:
            return _not_found()
        if headers.get("X-Shopify-Access-Token") != self.TOKEN:
            self.count("refused")
            return _answer(
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            )
        request = json.loads(body or b"{}")
        text, variables = request.get("query") or "", request.get("variables") or {}
        if "shop {" in text:
            self.count("authorization")
            nodes = [{"id": self.render(self.orders[0])["id"]}] if self.orders else []
            data = {"shop": {"name": "Bench store"}, "orders": {"nodes": nodes}}
            return _answer(200, {"data": data, "extensions": self._extensions(3, 3)})
        if "orders(" not in text:
            return _answer(200, {"errors": [{"message": "The bench stub answers orders queries only."}]})
        self.count("orders page")
        size = min(max(1, _int(str(variables.get("first")), 50)), self.MAX_PAGE)
        after = variables.get("after")
        start = 0 if not after else _offset("shopify", str(after))
        if start is None:
            return _answer(200, {"errors": [{"message": "Invalid cursor for current pagination sort."}]})
        stop = min(start + size, len(self.orders))
        has_next = stop < len(self.orders)
        page_info = _json(
            {"hasNextPage": has_next, "endCursor": _token("shopify", stop) if stop > start else None}
        )
        # Shopify's cost model, roughly: the connection, then per order its objects and lines.
        lines = len(self.orders[0].lines) if self.orders else 0
        extensions = _json(self._extensions(2 + size * 38, 2 + (stop - start) * (8 + lines)))
        prefix = b'{"data":{"orders":{"pageInfo":' + page_info + b',"nodes":['
        suffix = b']}},"extensions":' + extensions + b"}"
        return (
            200,
            {},
            self.joined(("orders", start, size), start, stop, lambda nodes: prefix + nodes + suffix),
        )


# --- WooCommerce -----------------------------------------------------------------


class WooCommerceStub(PlatformStub):
    key = "woocommerce"
    KEY = "ck_bench0123456789abcdef0123456789abcdef01"
    SECRET = "cs_bench0123456789abcdef0123456789abcdef01"
    MAX_PAGE = 100
    PATH = "/wp-json/wc/v3/orders"

    def credentials(self, url: str) -> dict:
        return {"site_url": url, "consumer_key": self.KEY, "consumer_secret": self.SECRET}

    def render(self, order: BenchOrder) -> dict:
        created = order.placed_at.strftime("%Y-%m-%dT%H:%M:%S")
        return {
            "id": 70000 + order.index,
            "number": str(order.number),
            "status": order.pick(("processing", "completed")),
            "currency": "USD",
            "total": order.total,
            "date_created": created,  # the site runs on UTC
            "date_created_gmt": created,
            "date_paid": created,
            "date_paid_gmt": created,
            "billing": {
                "first_name": order.first_name,
                "last_name": order.last_name,
                "email": order.email,
                "address_1": ADDRESS["line1"],
                "city": ADDRESS["city"],
                "postcode": ADDRESS["postcode"],
                "country": ADDRESS["country"],
            },
            "line_items": [
                {"id": order.index * 10 + i, "name": "Item", "sku": sku, "quantity": quantity}
                for i, (sku, quantity) in enumerate(order.lines)
            ],
        }

    def answer(self, method, path, query, headers, body) -> Answer:
        if method != "GET" or path != self.PATH:
            return _not_found()
        expected = "Basic " + base64.b64encode(f"{self.KEY}:{self.SECRET}".encode()).decode()
        if headers.get("Authorization") != expected:
            self.count("refused")
            return _answer(
                401,
                {
                    "code": "woocommerce_rest_authentication_error",
                    "message": "Consumer key is invalid.",
                    "data": {"status": 401},
                },
            )
        size = min(max(1, _int(query.get("per_page"), 10)), self.MAX_PAGE)
        page = max(1, _int(query.get("page"), 1))
        self.count("orders page" if size > 1 else "authorization")
        start = min((page - 1) * size, len(self.orders))
        stop = min(start + size, len(self.orders))
        total_pages = -(-len(self.orders) // size)
        headers_out = {"X-WP-Total": str(len(self.orders)), "X-WP-TotalPages": str(total_pages)}
        return (
            200,
            headers_out,
            self.joined(("orders", start, size), start, stop, lambda rows: b"[" + rows + b"]"),
        )


# --- BigCommerce -----------------------------------------------------------------


class BigCommerceStub(PlatformStub):
    key = "bigcommerce"
    TOKEN = "bc-bench-token-0123456789abcdef"
    STORE_HASH = "bench1"
    MAX_PAGE = 250
    # A generous window that never runs out: see the module's docstring.
    QUOTA = {
        "X-Rate-Limit-Time-Window-Ms": "30000",
        "X-Rate-Limit-Time-Reset-Ms": "15000",
        "X-Rate-Limit-Requests-Quota": "10000",
        "X-Rate-Limit-Requests-Left": "9999",
    }
    STATUSES = ((11, "Awaiting Fulfillment"), (9, "Awaiting Shipment"), (2, "Shipped"), (10, "Completed"))

    def __init__(self, orders: list[BenchOrder]):
        super().__init__(orders)
        self._products = {
            str(self._id(order)): _json(
                [
                    {
                        "id": self._id(order) * 10 + i,
                        "order_id": self._id(order),
                        "product_id": 100 + i,
                        "name": "Item",
                        "sku": sku,
                        "type": "physical",
                        "quantity": quantity,
                        "quantity_refunded": 0,
                        "price_inc_tax": f"{UNIT_PRICE_CENTS / 100:.4f}",
                    }
                    for i, (sku, quantity) in enumerate(order.lines)
                ]
            )
            for order in orders
        }

    @staticmethod
    def _id(order: BenchOrder) -> int:
        return order.number

    def credentials(self, url: str) -> dict:
        return {"store_hash": self.STORE_HASH, "access_token": self.TOKEN, "base_url": url}

    def render(self, order: BenchOrder) -> dict:
        status_id, status = order.pick(self.STATUSES)
        order_id = self._id(order)
        return {
            "id": order_id,
            "customer_id": 0,
            "date_created": format_datetime(order.placed_at),  # RFC 2822, "+0000"
            "status_id": status_id,
            "status": status,
            "currency_code": "USD",
            "total_inc_tax": f"{order.total}00",
            "billing_address": {
                "first_name": order.first_name,
                "last_name": order.last_name,
                "street_1": ADDRESS["line1"],
                "city": ADDRESS["city"],
                "zip": ADDRESS["postcode"],
                "country": "United States",
                "country_iso2": ADDRESS["country"],
                "email": order.email,
            },
            "products": {
                "url": f"https://api.bigcommerce.com/stores/{self.STORE_HASH}/v2/orders/{order_id}/products",
                "resource": f"/orders/{order_id}/products",
            },
        }

    def answer(self, method, path, query, headers, body) -> Answer:
        prefix = f"/stores/{self.STORE_HASH}/v2/orders"
        if method != "GET" or not path.startswith(prefix):
            return _not_found()
        if headers.get("X-Auth-Token") != self.TOKEN:
            self.count("refused")
            return _answer(401, [{"status": 401, "message": "You have not provided correct credentials."}])
        rest = path[len(prefix) :].strip("/")
        if rest == "count":
            self.count("authorization")
            return 200, self.QUOTA, _json({"count": len(self.orders), "statuses": []})
        if rest.endswith("/products"):
            self.count("order products")
            products = self._products.get(rest.split("/", 1)[0])
            if products is None:
                return (
                    404,
                    self.QUOTA,
                    _json([{"status": 404, "message": "The requested resource was not found."}]),
                )
            return (200, self.QUOTA, products) if _int(query.get("page"), 1) == 1 else (204, self.QUOTA, b"")
        if rest:
            return _not_found()
        self.count("orders page")
        size = min(max(1, _int(query.get("limit"), 50)), self.MAX_PAGE)
        start = (max(1, _int(query.get("page"), 1)) - 1) * size
        if start >= len(self.orders):
            return 204, self.QUOTA, b""  # BigCommerce's "no more orders"
        stop = min(start + size, len(self.orders))
        return (
            200,
            self.QUOTA,
            self.joined(("orders", start, size), start, stop, lambda rows: b"[" + rows + b"]"),
        )


# --- eBay ------------------------------------------------------------------------


class EbayStub(PlatformStub):
    key = "ebay"
    CLIENT_ID = "bench-ebay-client-id"
    CLIENT_SECRET = "bench-ebay-client-secret"
    REFRESH_TOKEN = "v^1.1#i^1#bench-refresh-token"
    STALE_TOKEN = "v^1.1#i^1#bench-stale-access-token"
    FRESH_TOKEN = "v^1.1#i^1#bench-fresh-access-token"
    MAX_PAGE = 200
    ORDERS = "/sell/fulfillment/v1/order"
    TOKEN_PATH = "/identity/v1/oauth2/token"
    # The app's keys, which the client reads from settings to refresh a token.
    environment = {
        "EBAY_CLIENT_ID": CLIENT_ID,
        "EBAY_CLIENT_SECRET": CLIENT_SECRET,
        "EBAY_RU_NAME": "Bench-Bench-Bench-abcde",
    }

    def __init__(self, orders: list[BenchOrder]):
        super().__init__(orders)
        # eBay lists newest first.
        self._fragments.reverse()

    def credentials(self, url: str) -> dict:
        # A token that expired an hour ago, as a scheduled sync usually finds it (eBay's last 2 hours):
        # the client renews it first, from the stub's token endpoint.
        expired = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        return {
            "access_token": self.STALE_TOKEN,
            "access_token_expires_at": expired,
            "refresh_token": self.REFRESH_TOKEN,
            "base_url": url,
        }

    def render(self, order: BenchOrder) -> dict:
        full_name = f"{order.first_name} {order.last_name}"
        return {
            "orderId": f"{10 + order.index % 90:02d}-{order.index:05d}-{(order.index * 7919) % 100000:05d}",
            "legacyOrderId": f"{110000000000 + order.index}-{2000000000 + order.index}",
            "creationDate": order.placed_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "lastModifiedDate": order.placed_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "orderFulfillmentStatus": order.pick(("NOT_STARTED", "IN_PROGRESS", "FULFILLED")),
            "orderPaymentStatus": "PAID",
            "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
            "buyer": {
                "username": f"bench_buyer_{order.index % 3000}",
                "buyerRegistrationAddress": {"fullName": full_name, "email": order.email},
            },
            "pricingSummary": {"total": {"value": order.total, "currency": "USD"}},
            "fulfillmentStartInstructions": [
                {
                    "shippingStep": {
                        "shipTo": {
                            "fullName": full_name,
                            "email": order.email,
                            "contactAddress": {
                                "addressLine1": ADDRESS["line1"],
                                "city": ADDRESS["city"],
                                "postalCode": ADDRESS["postcode"],
                                "countryCode": ADDRESS["country"],
                            },
                        }
                    }
                }
            ],
            "lineItems": [
                {"lineItemId": str(order.index * 10 + i), "sku": sku, "title": "Item", "quantity": quantity}
                for i, (sku, quantity) in enumerate(order.lines)
            ],
        }

    def answer(self, method, path, query, headers, body) -> Answer:
        if method == "POST" and path == self.TOKEN_PATH:
            self.count("token")
            app = "Basic " + base64.b64encode(f"{self.CLIENT_ID}:{self.CLIENT_SECRET}".encode()).decode()
            refused = _refresh_refused(
                _form(body.decode()),
                client_ok=headers.get("Authorization") == app,
                refresh_token=self.REFRESH_TOKEN,
                client_error="client authentication failed",
                grant_error="the provided authorization grant is invalid",
            )
            if refused:
                return refused
            return _answer(
                200, {"access_token": self.FRESH_TOKEN, "expires_in": 7200, "token_type": "User Access Token"}
            )
        if method != "GET" or path != self.ORDERS:
            return _not_found()
        if headers.get("Authorization") != f"Bearer {self.FRESH_TOKEN}":
            self.count("refused")
            error = {
                "errorId": 1001,
                "domain": "OAuth",
                "category": "REQUEST",
                "message": "Invalid access token",
            }
            return _answer(401, {"errors": [error]})
        size = min(max(1, _int(query.get("limit"), 50)), self.MAX_PAGE)
        start = min(max(0, _int(query.get("offset"), 0)), len(self.orders))
        self.count("orders page" if size > 1 else "authorization")
        stop = min(start + size, len(self.orders))
        head = {
            "href": f"{self.ORDERS}?limit={size}&offset={start}",
            "total": len(self.orders),
            "limit": size,
            "offset": start,
        }
        if stop < len(self.orders):
            head["next"] = f"{self.ORDERS}?limit={size}&offset={stop}"
        prefix = _json(head)[:-1] + b',"orders":['
        return 200, {}, self.joined(("orders", start, size), start, stop, lambda rows: prefix + rows + b"]}")


# --- Amazon ----------------------------------------------------------------------


class AmazonStub(PlatformStub):
    key = "amazon"
    CLIENT_ID = "amzn1.application-oa2-client.bench0123456789"
    CLIENT_SECRET = "amzn1.oa2-cs.v1.bench-secret"
    REFRESH_TOKEN = "Atzr|IwEBI-bench-refresh-token"
    ACCESS_TOKEN = "Atza|IwEBI-bench-access-token"
    MARKETPLACE = "ATVPDKIKX0DER"
    MAX_PAGE = 100
    ORDERS = "/orders/v0/orders"
    TOKEN_PATH = "/auth/o2/token"
    STATUSES = ("Unshipped", "PartiallyShipped", "Shipped")
    # Amazon's published rates, which it reports on every answer.
    RATE_ORDERS = {"x-amzn-RateLimit-Limit": "0.0167"}
    RATE_ITEMS = {"x-amzn-RateLimit-Limit": "0.5"}

    def __init__(self, orders: list[BenchOrder]):
        super().__init__(orders)
        self._items = {
            self._id(order): _json(
                {
                    "payload": {
                        "AmazonOrderId": self._id(order),
                        "OrderItems": [
                            {
                                "ASIN": f"B0BENCH{i:03d}",
                                "SellerSKU": sku,
                                "OrderItemId": f"{60000000000000 + order.index * 10 + i}",
                                "Title": "Item",
                                "QuantityOrdered": quantity,
                                "QuantityShipped": 0,
                                "ItemPrice": {
                                    "CurrencyCode": "USD",
                                    "Amount": f"{quantity * UNIT_PRICE_CENTS / 100:.2f}",
                                },
                            }
                            for i, (sku, quantity) in enumerate(order.lines)
                        ],
                    }
                }
            )
            for order in orders
        }

    @staticmethod
    def _id(order: BenchOrder) -> str:
        return f"{111 + order.index % 800:03d}-{order.index:07d}-{(order.index * 7919) % 10_000_000:07d}"

    def credentials(self, url: str) -> dict:
        return {
            "region": "na",
            "marketplace_ids": self.MARKETPLACE,
            "refresh_token": self.REFRESH_TOKEN,
            "lwa_client_id": self.CLIENT_ID,
            "lwa_client_secret": self.CLIENT_SECRET,
            "base_url": url,
            "token_url": f"{url}{self.TOKEN_PATH}",
        }

    def render(self, order: BenchOrder) -> dict:
        placed = order.placed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        # No BuyerInfo e-mail or name, no ShippingAddress name: those need a Restricted Data Token.
        return {
            "AmazonOrderId": self._id(order),
            "PurchaseDate": placed,
            "LastUpdateDate": placed,
            "OrderStatus": order.pick(self.STATUSES),
            "FulfillmentChannel": "MFN",
            "SalesChannel": "Amazon.com",
            "OrderTotal": {"CurrencyCode": "USD", "Amount": order.total},
            "NumberOfItemsShipped": 0,
            "NumberOfItemsUnshipped": sum(quantity for _sku, quantity in order.lines),
            "MarketplaceId": self.MARKETPLACE,
            "ShippingAddress": {
                "City": ADDRESS["city"],
                "StateOrRegion": "OR",
                "PostalCode": ADDRESS["postcode"],
                "CountryCode": ADDRESS["country"],
            },
            "BuyerInfo": {},
        }

    def answer(self, method, path, query, headers, body) -> Answer:
        if method == "POST" and path == self.TOKEN_PATH:
            self.count("token")
            form = _form(body.decode())
            refused = _refresh_refused(
                form,
                client_ok=form.get("client_id") == self.CLIENT_ID
                and form.get("client_secret") == self.CLIENT_SECRET,
                refresh_token=self.REFRESH_TOKEN,
                client_error="Client authentication failed",
                grant_error="The request has an invalid grant parameter",
            )
            if refused:
                return refused
            answer = {
                "access_token": self.ACCESS_TOKEN,
                "refresh_token": self.REFRESH_TOKEN,
                "token_type": "bearer",
                "expires_in": 3600,
            }
            return _answer(200, answer)
        if method != "GET" or not path.startswith(self.ORDERS):
            return _not_found()
        if headers.get("x-amz-access-token") != self.ACCESS_TOKEN:
            self.count("refused")
            error = {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "",
            }
            return _answer(403, {"errors": [error]})
        rest = path[len(self.ORDERS) :].strip("/")
        if rest.endswith("/orderItems"):
            self.count("order items")
            items = self._items.get(rest.split("/", 1)[0])
            if items is None:
                error = {"code": "NotFound", "message": "Order not found", "details": ""}
                return 404, self.RATE_ITEMS, _json({"errors": [error]})
            return 200, self.RATE_ITEMS, items
        if rest:
            return _not_found()
        if "NextToken" in query:
            start = _offset("amazon", query["NextToken"])
            if start is None:
                error = {"code": "InvalidInput", "message": "Invalid NextToken", "details": ""}
                return 400, self.RATE_ORDERS, _json({"errors": [error]})
            size = self.MAX_PAGE  # the first page's size, kept in the real NextToken
        else:
            start, size = 0, min(max(1, _int(query.get("MaxResultsPerPage"), 100)), self.MAX_PAGE)
        self.count("orders page" if size > 1 else "authorization")
        stop = min(start + size, len(self.orders))
        tail = {"CreatedBefore": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if stop < len(self.orders):
            tail["NextToken"] = _token("amazon", stop)
        suffix = b"]," + _json(tail)[1:] + b"}"
        page = self.joined(
            ("orders", start, size), start, stop, lambda rows: b'{"payload":{"Orders":[' + rows
        )
        return 200, self.RATE_ORDERS, page + suffix


# --- Etsy ------------------------------------------------------------------------


class EtsyStub(PlatformStub):
    key = "etsy"
    KEYSTRING = "benchkeystring0123456789"
    SHARED_SECRET = "bench-shared-secret"
    USER_ID = "12345678"
    SHOP_ID = "23456789"
    MAX_PAGE = 100
    TOKEN_PATH = "/v3/public/oauth/token"
    # A generous allowance that never runs out: see the module's docstring.
    QUOTA = {
        "x-limit-per-second": "150",
        "x-remaining-this-second": "149",
        "x-limit-per-day": "100000",
        "x-remaining-today": "99999",
    }

    def __init__(self, orders: list[BenchOrder]):
        super().__init__(orders)
        self._token_lock = threading.Lock()
        self._refresh_token = f"{self.USER_ID}.bench-refresh-0"
        self._access_token = ""
        self._issued = 0

    def credentials(self, url: str) -> dict:
        # Expired, as an hourly token usually is when a sync starts: the client refreshes it,
        # and the refresh token rotates.
        return {
            "shop_id": self.SHOP_ID,
            "access_token": f"{self.USER_ID}.bench-expired-access",
            "refresh_token": self._refresh_token,
            "access_token_expires_at": 0,
            "keystring": self.KEYSTRING,
            "shared_secret": self.SHARED_SECRET,
            "base_url": url,
            "token_url": f"{url}{self.TOKEN_PATH}",
        }

    def render(self, order: BenchOrder) -> dict:
        created = int(order.placed_at.timestamp())
        receipt_id = 3000000000 + order.index
        return {
            "receipt_id": receipt_id,
            "receipt_type": 0,
            "seller_user_id": int(self.USER_ID),
            "seller_email": "shop@example.com",
            "buyer_user_id": 80000000 + order.index % 3000,
            "buyer_email": order.email,
            "name": f"{order.first_name} {order.last_name}",
            "first_line": ADDRESS["line1"],
            "second_line": None,
            "city": ADDRESS["city"],
            "state": "OR",
            "zip": ADDRESS["postcode"],
            "country_iso": ADDRESS["country"],
            "status": order.pick(("paid", "completed")),
            "payment_method": "cc",
            "is_paid": True,
            "is_shipped": False,
            "create_timestamp": created,
            "created_timestamp": created,
            "update_timestamp": created,
            "updated_timestamp": created,
            "grandtotal": {
                "amount": int(order.total.replace(".", "")),
                "divisor": 100,
                "currency_code": "USD",
            },
            "transactions": [
                {
                    "transaction_id": 4000000000 + order.index * 10 + i,
                    "title": "Item",
                    "quantity": quantity,
                    "sku": sku,
                    "receipt_id": receipt_id,
                    "price": {"amount": UNIT_PRICE_CENTS, "divisor": 100, "currency_code": "USD"},
                }
                for i, (sku, quantity) in enumerate(order.lines)
            ],
        }

    def answer(self, method, path, query, headers, body) -> Answer:
        if method == "POST" and path == self.TOKEN_PATH:
            self.count("token")
            form = _form(body.decode())
            with self._token_lock:
                refused = _refresh_refused(
                    form,
                    client_ok=form.get("client_id") == self.KEYSTRING,
                    refresh_token=self._refresh_token,
                    grant_error="Invalid refresh token",
                )
                if refused:
                    return refused
                # Refresh tokens rotate: the one just used is spent.
                self._issued += 1
                self._access_token = f"{self.USER_ID}.bench-access-{self._issued}"
                self._refresh_token = f"{self.USER_ID}.bench-refresh-{self._issued}"
                answer = {
                    "access_token": self._access_token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "refresh_token": self._refresh_token,
                }
            return _answer(200, answer)
        receipts = f"/v3/application/shops/{self.SHOP_ID}/receipts"
        if method != "GET" or path != receipts:
            return _not_found()
        token_ok = self._access_token and headers.get("Authorization") == f"Bearer {self._access_token}"
        if not token_ok or headers.get("x-api-key") != f"{self.KEYSTRING}:{self.SHARED_SECRET}":
            self.count("refused")
            return _answer(401, {"error": "invalid_token"})
        size = min(max(1, _int(query.get("limit"), 25)), self.MAX_PAGE)
        start = min(max(0, _int(query.get("offset"), 0)), len(self.orders))
        self.count("orders page" if size > 1 else "authorization")
        stop = min(start + size, len(self.orders))
        prefix = b'{"count":' + str(len(self.orders)).encode() + b',"results":['
        return (
            200,
            self.QUOTA,
            self.joined(("orders", start, size), start, stop, lambda rows: prefix + rows + b"]}"),
        )


STUBS: dict[str, type[PlatformStub]] = {
    stub.key: stub for stub in (ShopifyStub, WooCommerceStub, BigCommerceStub, EbayStub, AmazonStub, EtsyStub)
}


def environment() -> dict[str, str]:
    """The settings every stub's client needs besides its plugin's credentials (the app keys of eBay)."""
    merged: dict[str, str] = {}
    for stub in STUBS.values():
        merged.update(stub.environment)
    return merged
