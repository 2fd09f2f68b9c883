"""The one interface every source platform speaks.

A *provider* is what a platform can do (key, label, capabilities, the
credentials it needs); a *client* is one merchant's connection to it, built
from a plugin's credentials. Commerce code only ever sees ``SourceOrder`` and
the typed errors below, never a platform's own payloads.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import ClassVar

import httpx


class OrderState(enum.StrEnum):
    """Where an order stands on its platform, in Commerce Kitty's terms."""

    IMPORTABLE = "importable"  # paid and confirmed
    PENDING_PAYMENT = "pending_payment"
    ON_HOLD = "on_hold"  # held for review or awaiting payment confirmation
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"
    CHECKOUT = "checkout"  # the buyer is still in checkout

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def may_still_import(self) -> bool:
        """Whether the order can become importable by itself (paid, confirmed, reviewed) without a new order."""
        return self in {OrderState.PENDING_PAYMENT, OrderState.ON_HOLD, OrderState.CHECKOUT}


STATE_LABELS = {
    OrderState.IMPORTABLE: "paid and confirmed",
    OrderState.PENDING_PAYMENT: "pending payment",
    OrderState.ON_HOLD: "on hold for review",
    OrderState.CANCELLED: "cancelled",
    OrderState.REFUNDED: "refunded",
    OrderState.FAILED: "payment failed",
    OrderState.CHECKOUT: "still in checkout",
}


@dataclass(frozen=True)
class Buyer:
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    address_line1: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""


@dataclass(frozen=True)
class SourceOrderLine:
    sku: str
    quantity: int = 1
    title: str = ""


@dataclass(frozen=True)
class SourceOrder:
    """An order as its platform reports it, normalized."""

    id: str  # the platform's stable id (Shopify gid, WooCommerce id, ...)
    number: str  # what the merchant sees, without a leading '#'
    placed_at: datetime  # timezone-aware
    state: OrderState
    platform_status: str  # the platform's own word(s), shown to merchants
    lines: tuple[SourceOrderLine, ...] = ()
    buyer: Buyer = field(default_factory=Buyer)
    currency: str = ""
    total: Decimal | None = None
    # When the state's label alone would mislead, what a merchant should read
    # instead, e.g. "the payment was voided" or "waiting for the rest of the payment".
    state_detail: str = ""
    # False when the platform withholds the buyer's e-mail and name from apps
    # like ours (Amazon, without a Restricted Data Token): their absence is
    # then expected, not a fault of the order.
    buyer_contact_shared: bool = True


@dataclass(frozen=True)
class UnreadableOrder:
    """An order the platform listed in a shape we cannot read.

    ``list_orders`` yields it in the order's place, so one malformed order
    does not stop the listing; the importer tells the merchant about it.
    ``reason`` is safe to show a merchant.
    """

    id: str
    number: str
    reason: str


@dataclass(frozen=True)
class Capabilities:
    backfill: bool = False  # can list orders older than the plugin
    manual_sync: bool = True  # a merchant may trigger a pull on demand
    history_days: int | None = None  # how far back the platform shows orders; None: no limit
    buyer_contact: bool = True  # the platform shares the buyer's e-mail and name with apps


@dataclass(frozen=True)
class Connection:
    """What a client needs to talk to one merchant's store."""

    bucket: str  # throttle bucket, one per plugin: "plugin:<id>"
    credentials: dict = field(repr=False)  # never in a traceback's locals or a log line
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(10.0, connect=3.0))
    # Called with the credential fields a client renewed on its own (a rotated
    # refresh token, a fresh access token), so the caller keeps them: a
    # platform that rotates refresh tokens accepts the old one no more.
    credentials_renewed: Callable[[dict], None] | None = field(default=None, repr=False, compare=False)


class PlatformError(Exception):
    """Base of the typed errors; ``str()`` is safe to show a merchant (no secrets)."""


class NotAuthorized(PlatformError):
    """The platform rejected the plugin's credentials (401/403)."""


class RateLimited(PlatformError):
    """The platform (or our own throttle) says wait ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = max(0.0, float(retry_after))

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.retry_after)


class PlatformUnavailable(PlatformError):
    """Timeouts, 5xx, malformed answers: transient, worth retrying later."""


class MalformedOrder(PlatformUnavailable):
    """One order came in a shape we cannot read; the rest of the answer may be fine."""


class OrderNumberProblem(ValueError):
    """What a merchant typed cannot be an order number on this platform; the message says what one looks like."""


class PaginationStuck(PlatformError):
    """The platform's paging did not move on (a repeated cursor or page, or no end in sight).

    Not transient: asking again walks into the same loop, so it is not retried.
    """


class PlatformClient(abc.ABC):
    """One merchant's connection to a platform."""

    key: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # Names of the credential fields, shown in forms; values are never shown.
    credential_fields: ClassVar[tuple[str, ...]]

    def __init__(self, connection: Connection):
        self.connection = connection

    @abc.abstractmethod
    def get_order(self, number: str) -> SourceOrder | None:
        """The order with this merchant-facing number, or None when the platform has none."""

    @abc.abstractmethod
    def list_orders(self, since: datetime) -> Iterator[SourceOrder | UnreadableOrder]:
        """Every order placed at or after ``since``, oldest first, fetched page by page.

        An order that cannot be read comes as an ``UnreadableOrder`` in its
        place; paging that does not move on raises ``PaginationStuck``.
        """

    @abc.abstractmethod
    def check_authorization(self) -> None:
        """Return quietly when the credentials work; raise NotAuthorized when they do not."""


def normalize_order_number(raw: str) -> str:
    """'#1001 ' and '1001' are the same order number."""
    return raw.strip().lstrip("#").strip()


def text_or_empty(value: object) -> str:
    """A platform's text field as text: a number becomes its digits, anything else (None, a list) is empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return ""


# Commerce Kitty keeps an order total in 12 digits, 2 of them after the point.
_TOTAL_LIMIT = Decimal(10) ** 10
_CENT = Decimal("0.01")


def parse_total(value: object) -> Decimal | None:
    """An order total to the cent, or None when it is missing, not a number, or too large to keep."""
    if value is None or isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or abs(amount) >= _TOTAL_LIMIT:
        return None
    amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return amount if abs(amount) < _TOTAL_LIMIT else None
