"""A Shopify store on a local server that answers each page of orders slowly.

Its own threaded server (pytest-httpserver's shared one answers one request
at a time), so several syncs can wait on it at once, as on a real slow store.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from apps.platforms.shopify import API_VERSION

GRAPHQL = f"/admin/api/{API_VERSION}/graphql.json"
PAGE_SIZE = 25
SKU = "MUG-BLUE-001"
_SINCE = re.compile(r"created_at:>='([^']+)'")


def _cost() -> dict:
    return {
        "cost": {
            "requestedQueryCost": 2,
            "actualQueryCost": 2,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1998, "restoreRate": 100},
        }
    }


def _node(number: int, created_at: datetime) -> dict:
    return {
        "id": f"gid://shopify/Order/{number}",
        "name": f"#{number}",
        "createdAt": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cancelledAt": None,
        "displayFinancialStatus": "PAID",
        "risk": {"recommendation": "ACCEPT"},
        "email": "ada@example.com",
        "currencyCode": "EUR",
        "totalPriceSet": {"shopMoney": {"amount": "24.90", "currencyCode": "EUR"}},
        "customer": {"firstName": "Ada", "lastName": "Lovelace"},
        "shippingAddress": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "address1": "1 Analytical Row",
            "city": "London",
            "zip": "N1 1AA",
            "countryCodeV2": "GB",
        },
        "billingAddress": None,
        "lineItems": {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": [{"sku": SKU, "title": "Blue mug", "quantity": 1, "currentQuantity": 1}],
        },
    }


class SlowShopifyStore:
    """``count`` paid orders, one a minute from ``first_placed_at``, oldest first, 25 a page.

    Each page of orders is answered after ``page_seconds`` (``release()``
    ends every wait at once); the authorization query is answered at once.
    ``pages_served`` counts the pages sent.
    """

    def __init__(self, *, count: int, first_placed_at: datetime, page_seconds: float):
        self.orders = [(1000 + n, first_placed_at + timedelta(minutes=n)) for n in range(count)]
        self.page_seconds = page_seconds
        self.pages_served = 0
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.server.expect_request(GRAPHQL, method="POST").respond_with_handler(self._answer)
        self.server.start()

    @property
    def base_url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def credentials(self) -> dict:
        return {"shop": "slow-store", "access_token": "shpat_slow", "base_url": self.base_url}

    def release(self) -> None:
        """Answer every page at once from now on."""
        self._released.set()

    def stop(self) -> None:
        self.release()
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def _answer(self, request: Request) -> Response:
        body = json.loads(request.data)
        variables = body.get("variables") or {}
        if "query" not in variables:  # the authorization query
            data = {"shop": {"name": "Slow store"}, "orders": {"nodes": []}}
            return self._json({"data": data, "extensions": _cost()})
        self._released.wait(self.page_seconds)
        since_match = _SINCE.search(variables["query"] or "")
        since = datetime.fromisoformat(since_match.group(1).replace("Z", "+00:00")) if since_match else None
        listed = [(n, at) for n, at in self.orders if since is None or at >= since]
        start = int(variables.get("after") or 0)
        page = listed[start : start + PAGE_SIZE]
        has_next = start + PAGE_SIZE < len(listed)
        with self._lock:
            self.pages_served += 1
        data = {
            "orders": {
                "pageInfo": {
                    "hasNextPage": has_next,
                    "endCursor": str(start + PAGE_SIZE) if has_next else None,
                },
                "nodes": [_node(n, at) for n, at in page],
            }
        }
        return self._json({"data": data, "extensions": _cost()})

    @staticmethod
    def _json(payload: dict) -> Response:
        return Response(json.dumps(payload), content_type="application/json")


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)
