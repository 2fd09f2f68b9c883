"""The one interface every source platform speaks.

A *provider* is what a platform can do (key, label, capabilities, the
credentials it needs); a *client* is one merchant's connection to it, built
from a plugin's credentials. Commerce code only ever sees ``SourceOrder`` and
the typed errors below, never a platform's own payloads.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import ClassVar

import httpx

from kitty_troubleshoot.said import Said, said_p


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
    def label(self) -> Said:
        return STATE_LABELS[self]

    @property
    def may_still_import(self) -> bool:
        """What a state usually means, for an order built without its platform's table (tests, fixtures).

        A provider never relies on it: each reads its platform's words
        through a ``StatusTable``, whose outcome decides.
        """
        return STATE_OUTCOMES[self] == ImportOutcome.NOT_YET


class ImportOutcome(enum.StrEnum):
    """What an order's state on its platform means for the import, the only question Step 6 answers."""

    IMPORTABLE = "importable"
    NOT_YET = "not_yet"  # it may import by itself later: the entry says what it waits for
    NEVER = "never"  # cancelled, refunded, failed, deleted: it will not import whatever happens next

    @property
    def severity(self) -> int:
        """Of several words that apply to one order, the most severe decides."""
        return {ImportOutcome.IMPORTABLE: 0, ImportOutcome.NOT_YET: 1, ImportOutcome.NEVER: 2}[self]


STATE_LABELS = {
    OrderState.IMPORTABLE: said_p("an order's state", "paid and confirmed"),
    OrderState.PENDING_PAYMENT: said_p("an order's state", "pending payment"),
    OrderState.ON_HOLD: said_p("an order's state", "on hold for review"),
    OrderState.CANCELLED: said_p("an order's state", "cancelled"),
    OrderState.REFUNDED: said_p("an order's state", "refunded"),
    OrderState.FAILED: said_p("an order's state", "payment failed"),
    OrderState.CHECKOUT: said_p("an order's state", "still in checkout"),
}


# The outcome, and what Step 6 says, for an order built with a state alone.
STATE_OUTCOMES = {
    OrderState.IMPORTABLE: ImportOutcome.IMPORTABLE,
    OrderState.PENDING_PAYMENT: ImportOutcome.NOT_YET,
    OrderState.ON_HOLD: ImportOutcome.NOT_YET,
    OrderState.CHECKOUT: ImportOutcome.NOT_YET,
    OrderState.CANCELLED: ImportOutcome.NEVER,
    OrderState.REFUNDED: ImportOutcome.NEVER,
    OrderState.FAILED: ImportOutcome.NEVER,
}
# What an order waits for, and why one will never import, are messages that complete Step 6's
# sentences ("Order #… is waiting for %(reason)s, …" and "Order #… will not import: %(reason)s …"):
# each is translated under the context naming its sentence, to fit there in every language
# (German: "wartet auf …" takes an accusative phrase; French: "attend …" a phrase or a "que" clause).
STATE_REASONS = {
    OrderState.IMPORTABLE: "",
    OrderState.PENDING_PAYMENT: said_p("Step 6: the order is waiting for …", "the buyer's payment"),
    OrderState.ON_HOLD: said_p("Step 6: the order is waiting for …", "you to review it on the platform"),
    OrderState.CHECKOUT: said_p("Step 6: the order is waiting for …", "the buyer to finish checkout"),
    OrderState.CANCELLED: said_p("Step 6: the order will not import: …", "it was cancelled on the platform"),
    OrderState.REFUNDED: said_p("Step 6: the order will not import: …", "it was refunded in full"),
    OrderState.FAILED: said_p("Step 6: the order will not import: …", "the payment failed"),
}


@dataclass(frozen=True)
class StatusWord:
    """One word of a platform's documented order-state vocabulary, and what it means for the import.

    ``reason`` completes Step 6's sentence: for NOT_YET what the order waits
    for ("the buyer's payment"), for NEVER what happened ("the payment was
    voided"); a message (``said_p`` under the context of its sentence, see
    STATE_REASONS), so the merchant reads it in their language. ``meaning``
    is the platform documentation's, for whoever maintains the table, and stays
    English. ``field`` names the part of the order the word comes from, for
    platforms that say it in several (Shopify's payment, risk and holds).
    """

    word: str
    meaning: str  # what the platform's documentation says it means
    state: OrderState
    outcome: ImportOutcome
    reason: Said | str = ""
    field: str = ""

    def __post_init__(self) -> None:
        if (self.outcome == ImportOutcome.IMPORTABLE) != (self.state == OrderState.IMPORTABLE):
            raise ValueError(f"{self.word}: only an importable word has the importable state")
        if self.outcome != ImportOutcome.IMPORTABLE and not self.reason:
            raise ValueError(f"{self.word}: a word that keeps an order out says why (reason)")


class StatusTable:
    """A platform's whole order-state vocabulary: one ``StatusWord`` per (field, word).

    The one place a platform's words are judged; the client reads the
    order's words through it, the demo marketplace imitates it, and a test
    walks every entry through the client and Step 6's rule.
    """

    def __init__(
        self, platform: str, words: Iterable[StatusWord], *, unknown: Callable[[str, str], StatusWord]
    ):
        self.platform = platform
        self.words = tuple(words)
        self._by_key = {(w.field, self._key(w.word)): w for w in self.words}
        if len(self._by_key) != len(self.words):
            raise ValueError(f"{platform}: a word is in its table twice")
        self._unknown = unknown

    @staticmethod
    def _key(word: str) -> str:
        return word.strip().casefold()

    def __iter__(self) -> Iterator[StatusWord]:
        return iter(self.words)

    def get(self, word: str, field: str = "") -> StatusWord | None:
        return self._by_key.get((field, self._key(word)))

    def read(self, word: str, field: str = "") -> StatusWord:
        """The entry for ``word`` in ``field``.

        A word the platform added after this table was written comes from
        ``unknown(word, field)``: it keeps the order out, shown with its own
        word, so nothing unknown is imported silently.
        """
        return self.get(word, field) or self._unknown(word, field)

    def in_field(self, field: str) -> tuple[StatusWord, ...]:
        return tuple(w for w in self.words if w.field == field)

    def demo_words(self) -> dict[OrderState, StatusWord]:
        """Each state's first word, for the demo marketplace to imitate the platform."""
        words: dict[OrderState, StatusWord] = {}
        for word in self.words:
            words.setdefault(word.state, word)
        return words


def most_severe(words: Iterable[StatusWord]) -> StatusWord:
    """Of the words that apply to one order, the one that decides: never over not yet over importable;
    among equals, the first."""
    return max(words, key=lambda w: w.outcome.severity)  # max keeps the first of equals


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
    # What Step 6 says after "waiting for" (not yet) or "will not import:"
    # (never), from the platform's table entry, e.g. "the rest of the payment"
    # or "the payment was voided"; filled from the state when a caller gives none.
    state_detail: str = ""
    # Whether it imports now, may by itself later, or never: from the
    # platform's table entry; filled from the state when a caller gives none.
    outcome: ImportOutcome | None = None
    # False when the platform withholds the buyer's e-mail and name from apps
    # like ours (Amazon, without a Restricted Data Token): their absence is
    # then expected, not a fault of the order.
    buyer_contact_shared: bool = True
    # The platform's id of the order this one replaces, when the platform says it is a
    # replacement (Amazon's IsReplacementOrder / ReplacedOrderId): two real orders, one purchase.
    replaces: str = ""

    def __post_init__(self) -> None:
        if self.outcome is None:
            object.__setattr__(self, "outcome", STATE_OUTCOMES[self.state])
        if not self.state_detail:
            object.__setattr__(self, "state_detail", STATE_REASONS[self.state])

    @property
    def may_still_import(self) -> bool:
        """Whether the order may import by itself later (paid, reviewed, the request settled)."""
        return self.outcome == ImportOutcome.NOT_YET


def source_state(word: StatusWord) -> dict:
    """A SourceOrder's state fields from its table entry: ``SourceOrder(..., **source_state(word))``."""
    return {"state": word.state, "outcome": word.outcome, "state_detail": word.reason}


@dataclass(frozen=True)
class UnreadableOrder:
    """An order the platform listed in a shape we cannot read.

    ``list_orders`` yields it in the order's place, so one malformed order
    does not stop the listing; the importer tells the merchant about it.
    ``reason`` is safe to show a merchant: a whole sentence, a message (``said``).
    """

    id: str
    number: str
    reason: Said | str


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
    """Base of the typed errors; ``str()`` is safe to show a merchant (no secrets).

    Raised with a message (``said``) as its one argument: ``str(exc)`` reads it
    in the active language, ``exc.message`` keeps the message itself, to store or
    to place in another sentence, read later in the reader's language.
    """

    @property
    def message(self) -> Said | str:
        return self.args[0] if self.args else ""


class NotAuthorized(PlatformError):
    """The platform rejected the plugin's credentials (401/403)."""


class RateLimited(PlatformError):
    """The platform (or our own throttle) says wait ``retry_after`` seconds."""

    def __init__(self, message: Said | str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = max(0.0, float(retry_after))

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.retry_after)


class PlatformUnavailable(PlatformError):
    """Timeouts, 5xx, malformed answers: transient, worth retrying later."""


class PlatformSlow(PlatformUnavailable):
    """The store timed out again and again just now, so it is left alone for a moment (``breaker.py``).

    ``retry_after``: seconds until it is asked again.
    """

    def __init__(self, message: Said | str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = max(0.0, float(retry_after))


class MalformedOrder(PlatformUnavailable):
    """One order came in a shape we cannot read; the rest of the answer may be fine."""


class OrderNumberProblem(ValueError):
    """What a merchant typed cannot be an order number on this platform; the message says what one looks like.

    Its one argument is a message (``said``), ``exc.message`` as for PlatformError.
    """

    @property
    def message(self) -> Said | str:
        return self.args[0] if self.args else ""


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
