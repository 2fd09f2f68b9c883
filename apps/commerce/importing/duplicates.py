"""How Commerce Kitty tells that two orders are one: the rules behind "An Order Imported Twice".

The importer never imports one platform order twice through one plugin (it is
unique per plugin and source order id), so a second copy of an order always
came from somewhere else. ``twin_kind`` is the one place that decides whether
two orders in Commerce Kitty are one:

  SAME_PLATFORM_ORDER  one platform order through two plugins of one store: the
                       same platform, source order id, number and placed moment
  MADE_BY_HAND         an order created by hand and an imported one: the same
                       number with the same buyer or items, or the same buyer
                       and items placed within HAND_WINDOW of each other
  PLATFORM_TWICE       two platform orders of one purchase, through one plugin:
                       the platform says one replaces the other, or the same
                       buyer and items placed within PLATFORM_WINDOW

An order that only shares the number (another store's order #1001, a
different buyer) is not a copy: numbers repeat across stores.

The rules, one per step of the article, each returning a ``RuleResult`` like
the importer's rules: passed (this cause is ruled out), failed (it is the
cause, with the evidence) or unknown (it could not be judged):

  pre  the order is in Commerce Kitty once          ``rule_in_commerce_kitty_once``
  1.   one importing connection per store            ``rule_store_connected_once``
  2.   (the plugin's authorization: the importer's own ``rules.rule_authorized``)
  3.   no Sync historical orders imported again what
       another connection of the store had imported  ``rule_history_imported_once``
  4.   the order was not also created by hand        ``rule_not_created_by_hand``
  5.   the platform holds the purchase once          ``rule_platform_holds_one_order``

What identifies a store across plugins. Each platform names a store in its own
credentials (a Shopify shop domain, a WooCommerce site address, a BigCommerce
store hash, an Etsy shop id, an Amazon selling partner id; eBay's tokens name
none), so the rules recognise one store by what two plugins imported: the same
platform order, i.e. the same source order id *and* number *and* placed moment
through plugins of one platform. Shopify, Amazon, eBay and Etsy ids are unique
across stores; WooCommerce and BigCommerce ids repeat from store to store,
which the number and placed moment rule out. The source order id, not the
number, is what the importer keys on: WooCommerce's sequential-number plugins
give new orders a number other than their id (WooCommerce Sequential Order
Numbers, readme: "the order number ... will be equal to the order ID" unless
filtered), so a number says nothing about the store, and a renumbered order is
never imported again.

The platforms' own documentation gives these ways for one purchase to become
two platform orders, which Commerce Kitty then imports once each (rule 5):
- Amazon: a replacement order is an order of its own, marked as such
  (Orders API v0 reference, Order: IsReplacementOrder, ReplacedOrderId;
  https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference).
- Shopify: a draft order re-creating a mistaken order becomes a new order when
  it is paid (Shopify Help Center, "Creating draft orders": "Manually re-create
  mistaken orders"; https://help.shopify.com/en/manual/orders/create-orders;
  Admin API draftOrderCreateFromOrder).
Ruled out against the docs, so not causes here: Shopify order edits change the
original order (orderEditCommit); eBay's order id changes from unpaid to paid
and Combined Invoice orders combine unpaid line items (Trading API AddOrder,
OrderIDArrayType), but only PAID orders are imported; an Etsy receipt is one
order whatever its transactions, and receipts are what is imported.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, Subquery

from kitty_troubleshoot.said import Said, said, said_n

from ..models import Order, OrderLine, Plugin, SyncRun
from ..wording import day_words, numbers_words, span_words
from .rules import RuleResult, RuleStatus

# An order created by hand is dated as the merchant typed it: a week either side still matches.
HAND_WINDOW = timedelta(days=7)
# A replacement or a re-created order follows its original within days.
PLATFORM_WINDOW = timedelta(days=14)
# How many orders the rules read at most for one question (a store imported twice may have thousands).
SHARED_ORDERS_READ = 5000
EXAMPLES = 3

# Rule keys.
IN_COMMERCE_KITTY_ONCE = "in_commerce_kitty_once"
STORE_CONNECTED_ONCE = "store_connected_once"
HISTORY_IMPORTED_ONCE = "history_imported_once"
NOT_CREATED_BY_HAND = "not_created_by_hand"
PLATFORM_HOLDS_ONE_ORDER = "platform_holds_one_order"


class TwinKind(enum.StrEnum):
    SAME_PLATFORM_ORDER = "same_platform_order"
    MADE_BY_HAND = "made_by_hand"
    PLATFORM_TWICE = "platform_twice"


class CameBy(enum.StrEnum):
    """How a copy came into Commerce Kitty."""

    HAND = "hand"  # the order wizard
    BACKFILL = "backfill"  # Sync historical orders
    SYNC = "sync"  # a scheduled or manual sync


@dataclass(frozen=True)
class OrderCopy:
    """One order in Commerce Kitty as the duplicate rules read it."""

    pk: int
    number: str
    source_order_id: str  # "" when created by hand
    plugin_id: int | None  # None when created by hand
    plugin_name: str
    platform: str
    placed_at: datetime
    arrived_at: datetime  # imported, or created by hand
    customer_id: int
    items: tuple[tuple[str, int], ...]  # (SKU, quantity), sorted
    came_by: CameBy

    @property
    def by_hand(self) -> bool:
        return self.plugin_id is None

    def same_buyer_and_items(self, other: OrderCopy) -> bool:
        return self.customer_id == other.customer_id and bool(self.items) and self.items == other.items


@dataclass(frozen=True)
class Match:
    """Why two orders are one: the kind of copy, what they match on, in words."""

    kind: TwinKind
    on: Said
    replacement: int | None = None  # the copy (pk) the platform marks as a replacement of the other


@dataclass(frozen=True)
class Twin:
    copy: OrderCopy
    match: Match

    @property
    def kind(self) -> TwinKind:
        return self.match.kind


def twin_kind(one: OrderCopy, other: OrderCopy, *, replaces: Mapping[str, str] | None = None) -> Match | None:
    """Whether ``one`` and ``other`` are one order, which kind of copy, and on what; None when they are not.

    ``replaces``: source order id → the source order id it replaces, as the platform said.
    """
    if one.pk == other.pk or (one.by_hand and other.by_hand):
        return None
    replaces = replaces or {}
    if one.by_hand or other.by_hand:
        hand, imported = (one, other) if one.by_hand else (other, one)
        if hand.number == imported.number and hand.customer_id == imported.customer_id:
            return Match(TwinKind.MADE_BY_HAND, said("the order number and the buyer"))
        if hand.number == imported.number and hand.items and hand.items == imported.items:
            return Match(TwinKind.MADE_BY_HAND, said("the order number and the items"))
        if abs(hand.placed_at - imported.placed_at) <= HAND_WINDOW and hand.same_buyer_and_items(imported):
            return Match(TwinKind.MADE_BY_HAND, said("the buyer and the items"))
        return None
    if one.platform != other.platform:
        return None
    if one.plugin_id != other.plugin_id:
        same = (
            one.source_order_id == other.source_order_id
            and one.number == other.number
            and one.placed_at == other.placed_at
        )
        return Match(TwinKind.SAME_PLATFORM_ORDER, said("the same platform order")) if same else None
    for replacement, original in ((one, other), (other, one)):
        if original.source_order_id and replaces.get(replacement.source_order_id) == original.source_order_id:
            return Match(TwinKind.PLATFORM_TWICE, said("the platform's word"), replacement=replacement.pk)
    if abs(one.placed_at - other.placed_at) <= PLATFORM_WINDOW and one.same_buyer_and_items(other):
        return Match(TwinKind.PLATFORM_TWICE, said("the buyer and the items"))
    return None


# --- Reading the account -------------------------------------------------------------


@dataclass(frozen=True)
class OrderCopies:
    """Every copy of one order in the account: the one asked about, its twins, and look-alikes that are not."""

    number: str
    anchor: OrderCopy | None  # the copy the merchant asked about (through their plugin, when it has one)
    twins: tuple[Twin, ...] = ()
    unrelated: tuple[OrderCopy, ...] = ()  # the same number, but another order

    @property
    def count(self) -> int:
        return (1 if self.anchor else 0) + len(self.twins)

    def of_kind(self, kind: TwinKind) -> list[Twin]:
        return [twin for twin in self.twins if twin.kind == kind]


def order_copies(
    merchant_id: int, number: str, *, plugin_id: int | None, replaces: Mapping[str, str] | None = None
) -> OrderCopies:
    """The copies of order #``number`` in the merchant's account, judged by ``twin_kind``.

    ``plugin_id``: the plugin the merchant expects it through (its copy is the
    one the others are compared with). ``replaces``: what the platform said of
    replacements (source order id → the id it replaces), so a replaced order
    is found whatever its buyer.
    """
    replaces = dict(replaces or {})
    seed = list(_copy_rows(Order.objects.filter(merchant_id=merchant_id, number=number))[:20])
    if not seed:
        return OrderCopies(number, None)
    anchor_row = next((r for r in seed if r["plugin_id"] == plugin_id and plugin_id), None)
    anchor_row = anchor_row or min(seed, key=lambda r: (r["imported_at"], r["pk"]))
    near = Q(placed_at__gte=anchor_row["placed_at"] - PLATFORM_WINDOW) & Q(
        placed_at__lte=anchor_row["placed_at"] + PLATFORM_WINDOW
    )
    related = Q(customer_id=anchor_row["customer_id"]) & near
    if anchor_row["source_order_id"]:
        related |= Q(source_order_id=anchor_row["source_order_id"])
    wanted_ids = {v for v in replaces.values() if v} | {
        k for k, v in replaces.items() if v == anchor_row["source_order_id"]
    }
    if wanted_ids and anchor_row["plugin_id"]:
        related |= Q(plugin_id=anchor_row["plugin_id"], source_order_id__in=wanted_ids)
    others = _copy_rows(
        Order.objects.filter(merchant_id=merchant_id).filter(related).exclude(pk__in=[r["pk"] for r in seed])
    )[:50]
    rows = seed + list(others)
    copies = _copies(rows)
    anchor = copies[anchor_row["pk"]]
    twins, unrelated = [], []
    for copy in copies.values():
        if copy.pk == anchor.pk:
            continue
        match = twin_kind(anchor, copy, replaces=replaces)
        if match is not None:
            twins.append(Twin(copy, match))
        elif copy.number == number:
            unrelated.append(copy)
    twins.sort(key=lambda t: (t.copy.arrived_at, t.copy.pk))
    return OrderCopies(number, anchor, tuple(twins), tuple(unrelated))


def _copy_rows(orders):
    return orders.values(
        "pk",
        "number",
        "source_order_id",
        "plugin_id",
        "plugin__name",
        "plugin__platform",
        "placed_at",
        "imported_at",
        "customer_id",
    ).order_by("imported_at", "pk")


def _copies(rows: list[dict]) -> dict[int, OrderCopy]:
    items: dict[int, Counter] = {}
    for order_id, sku, quantity in OrderLine.objects.filter(order_id__in=[r["pk"] for r in rows]).values_list(
        "order_id", "sku", "quantity"
    ):
        items.setdefault(order_id, Counter())[sku] += quantity
    windows = backfill_windows({r["plugin_id"] for r in rows if r["plugin_id"]})
    return {
        r["pk"]: OrderCopy(
            pk=r["pk"],
            number=r["number"],
            source_order_id=r["source_order_id"],
            plugin_id=r["plugin_id"],
            plugin_name=r["plugin__name"] or "",
            platform=r["plugin__platform"] or "",
            placed_at=r["placed_at"],
            arrived_at=r["imported_at"],
            customer_id=r["customer_id"],
            items=tuple(sorted(items.get(r["pk"], Counter()).items())),
            came_by=came_by(r["plugin_id"], r["imported_at"], windows),
        )
        for r in rows
    }


# Plugin id → its Sync historical orders runs, (started, finished; None while it runs).
Windows = dict[int, list[tuple[datetime, datetime | None]]]


def backfill_windows(plugin_ids: Iterable[int]) -> Windows:
    """When each plugin's Sync historical orders runs ran: the importer stamps what a run imports inside them."""
    windows: Windows = {}
    runs = SyncRun.objects.filter(plugin_id__in=list(plugin_ids), mode=SyncRun.Mode.BACKFILL).values_list(
        "plugin_id", "started_at", "finished_at"
    )
    for plugin_id, started, finished in runs:
        windows.setdefault(plugin_id, []).append((started, finished))
    return windows


def backfill_of(plugin_id: int | None, arrived_at: datetime, windows: Windows) -> datetime | None:
    """When the Sync historical orders that imported an order at ``arrived_at`` started; None if none did."""
    for started, finished in windows.get(plugin_id or 0, ()):
        if started <= arrived_at and (finished is None or arrived_at <= finished):
            return started
    return None


def came_by(plugin_id: int | None, arrived_at: datetime, windows: Windows) -> CameBy:
    if plugin_id is None:
        return CameBy.HAND
    return CameBy.BACKFILL if backfill_of(plugin_id, arrived_at, windows) else CameBy.SYNC


@dataclass(frozen=True)
class SharedConnection:
    """Another plugin that imported some of the same platform orders as the one asked about: the same store."""

    plugin_id: int
    name: str
    import_orders: bool
    import_orders_enabled_at: datetime | None
    authorization: str
    shared: int  # orders imported through both (of the first SHARED_ORDERS_READ)
    examples: tuple[str, ...]  # a few of their numbers, oldest first
    first_shared_at: datetime
    # Of the shared orders, those whose later copy a Sync historical orders brought in:
    # (the plugin whose backfill it was, when that backfill started) → the orders' numbers.
    again_by_backfill: dict[tuple[int, datetime], list[str]] = field(default_factory=dict)


def store_connections(plugin: Plugin) -> list[SharedConnection]:
    """The merchant's other plugins of the platform that imported any of ``plugin``'s platform orders.

    One query finds them (the same source order id, number and placed moment,
    through plugins of the same platform); a second reads the plugins.
    """
    mine = Order.objects.filter(
        plugin_id=plugin.pk,
        source_order_id=OuterRef("source_order_id"),
        number=OuterRef("number"),
        placed_at=OuterRef("placed_at"),
    )
    rows = list(
        Order.objects.filter(merchant_id=plugin.merchant_id, plugin__platform=plugin.platform)
        .exclude(plugin_id=plugin.pk)
        .exclude(plugin__isnull=True)
        .filter(Exists(mine))
        .annotate(mine_arrived=Subquery(mine.values("imported_at")[:1]))
        .order_by("placed_at", "pk")
        .values_list("plugin_id", "number", "imported_at", "mine_arrived")[:SHARED_ORDERS_READ]
    )
    if not rows:
        return []
    others = {p.pk: p for p in Plugin.objects.filter(pk__in={row[0] for row in rows})}
    windows = backfill_windows([plugin.pk, *others])
    found: dict[int, dict] = {}
    for other_id, number, other_arrived, mine_arrived in rows:
        entry = found.setdefault(other_id, {"numbers": [], "first": other_arrived, "again": {}})
        entry["numbers"].append(number)
        entry["first"] = min(entry["first"], other_arrived, mine_arrived)
        later_id, later_at = (
            (other_id, other_arrived) if other_arrived > mine_arrived else (plugin.pk, mine_arrived)
        )
        backfill = backfill_of(later_id, later_at, windows)
        if backfill is not None:
            entry["again"].setdefault((later_id, backfill), []).append(number)
    return [
        SharedConnection(
            plugin_id=other.pk,
            name=other.name,
            import_orders=other.import_orders,
            import_orders_enabled_at=other.import_orders_enabled_at,
            authorization=other.authorization_status,
            shared=len(found[other.pk]["numbers"]),
            examples=tuple(found[other.pk]["numbers"][:EXAMPLES]),
            first_shared_at=found[other.pk]["first"],
            again_by_backfill=found[other.pk]["again"],
        )
        for other in sorted(others.values(), key=lambda p: (p.created_at, p.pk))
    ]


# --- The rules ------------------------------------------------------------------------
# Each outcome is one whole sentence with named placeholders (``said``): plugin names, order
# numbers and SKUs are values, never translated; moments are read in the reader's locale.


def _result(rule: str, status: RuleStatus, message: Said, evidence: dict | None = None) -> RuleResult:
    return RuleResult(rule, status, message, evidence or {})


def copy_words(copy: OrderCopy) -> Said:
    """Where one copy came from, as a merchant reads it: "#7001, imported through “Main store” by a sync Nov 2, …"."""
    if copy.by_hand:
        return said("#%(number)s, created by hand %(arrived)s", number=copy.number, arrived=copy.arrived_at)
    if copy.came_by == CameBy.BACKFILL:
        return said(
            "#%(number)s, imported through “%(plugin)s” by Sync historical orders %(arrived)s",
            number=copy.number,
            plugin=copy.plugin_name,
            arrived=copy.arrived_at,
        )
    return said(
        "#%(number)s, imported through “%(plugin)s” by a sync %(arrived)s",
        number=copy.number,
        plugin=copy.plugin_name,
        arrived=copy.arrived_at,
    )


def _where_words(copy: OrderCopy) -> Said:
    """How the one copy came in, for "Order #… is in Commerce Kitty once: …"."""
    if copy.by_hand:
        return said("created by hand %(arrived)s", arrived=copy.arrived_at)
    if copy.came_by == CameBy.BACKFILL:
        return said(
            "imported through “%(plugin)s” by Sync historical orders %(arrived)s",
            plugin=copy.plugin_name,
            arrived=copy.arrived_at,
        )
    return said(
        "imported through “%(plugin)s” by a sync %(arrived)s",
        plugin=copy.plugin_name,
        arrived=copy.arrived_at,
    )


def _not_in(number: str) -> Said:
    return said(
        "Order #%(number)s is not in Commerce Kitty, so it was not imported twice; if it should be there, "
        "see “An Order Did Not Import”.",
        number=number,
    )


def rule_in_commerce_kitty_once(copies: OrderCopies) -> RuleResult:
    """Passed when the order is in Commerce Kitty once; failed with every copy when more (or with none)."""
    if copies.anchor is None:
        # Not "once": there is nothing in Commerce Kitty to have come in, once or twice.
        return _result(IN_COMMERCE_KITTY_ONCE, RuleStatus.FAILED, _not_in(copies.number), {"copies": 0})
    evidence = {
        "copies": copies.count,
        "orders": [copies.anchor.pk, *(t.copy.pk for t in copies.twins)],
        "kinds": sorted({t.kind.value for t in copies.twins}),
    }
    if not copies.twins:
        message = said(
            "Order #%(number)s is in Commerce Kitty once: %(where)s.",
            number=copies.number,
            where=_where_words(copies.anchor),
        )
        return _result(IN_COMMERCE_KITTY_ONCE, RuleStatus.PASSED, message, evidence)
    message = said_n(
        "Order #%(number)s is in Commerce Kitty %(count)s time.",
        "Order #%(number)s is in Commerce Kitty %(count)s times.",
        copies.count,
        number=copies.number,
    )
    return _result(IN_COMMERCE_KITTY_ONCE, RuleStatus.FAILED, message, evidence)


def rule_store_connected_once(plugin: Plugin, connections: list[SharedConnection]) -> RuleResult:
    """Failed when this plugin and another that imported some of the same platform orders both import orders."""
    importing = [c for c in connections if c.import_orders]
    evidence = {
        "plugin": plugin.name,
        "connections": [
            {"plugin_id": c.plugin_id, "plugin": c.name, "import_orders": c.import_orders, "shared": c.shared}
            for c in connections
        ],
    }
    if plugin.import_orders and importing:
        other = importing[0]
        evidence["importing"] = [plugin.pk, *(c.plugin_id for c in importing)]
        message = said_n(
            "“%(plugin)s” and “%(other)s” both import orders from the same store: %(count)s order came in "
            "through both, for example #%(example)s.",
            "“%(plugin)s” and “%(other)s” both import orders from the same store: %(count)s orders came in "
            "through both, for example #%(example)s.",
            other.shared,
            plugin=plugin.name,
            other=other.name,
            example=numbers_words(other.examples),
        )
        return _result(STORE_CONNECTED_ONCE, RuleStatus.FAILED, message, evidence)
    if not connections:
        message = said(
            "No other plugin has imported any of the orders “%(plugin)s” imported, so no second connection to "
            "its store imports them.",
            plugin=plugin.name,
        )
    elif plugin.import_orders:
        message = said(
            "“%(plugin)s” is the only plugin that imports orders from its store.", plugin=plugin.name
        )
    elif importing:  # the plugin asked about is the one switched off: the other imports for the store
        message = said(
            "“%(plugin)s” is the only plugin that imports orders from its store.", plugin=importing[0].name
        )
    else:
        message = said(
            "Neither “%(plugin)s” nor another plugin that imported the same orders imports orders now.",
            plugin=plugin.name,
        )
    return _result(STORE_CONNECTED_ONCE, RuleStatus.PASSED, message, evidence)


def store_once_notes(connections: list[SharedConnection]) -> list[Said]:
    """What a passed store rule adds: the connections that imported the same orders before they were turned off."""
    return [
        said_n(
            "“%(other)s” imported %(count)s order of the same (for example #%(example)s), but Import Orders is "
            "off on it now.",
            "“%(other)s” imported %(count)s orders of the same (for example #%(example)s), but Import Orders is "
            "off on it now.",
            c.shared,
            other=c.name,
            example=numbers_words(c.examples),
        )
        for c in connections
        if not c.import_orders
    ]


def rule_history_imported_once(
    plugin: Plugin, connections: list[SharedConnection], copies: OrderCopies | None = None
) -> RuleResult:
    """Failed when a Sync historical orders imported again what another connection of the store had imported.

    With ``copies`` (an order asked about) it judges that order: failed only
    when its own second copy came in that way. Without, the plugin's store.
    """
    if copies is not None and copies.anchor is not None:
        for twin in copies.of_kind(TwinKind.SAME_PLATFORM_ORDER):
            first, second = sorted([copies.anchor, twin.copy], key=lambda c: (c.arrived_at, c.pk))
            if second.came_by == CameBy.BACKFILL:
                message = said(
                    "Order #%(number)s came in twice: “%(earlier)s” imported it %(first)s, and “%(later)s”'s "
                    "Sync historical orders imported it again %(second)s.",
                    number=copies.number,
                    earlier=first.plugin_name,
                    first=first.arrived_at,
                    later=second.plugin_name,
                    second=second.arrived_at,
                )
                return _result(
                    HISTORY_IMPORTED_ONCE, RuleStatus.FAILED, message, {"orders": [first.pk, second.pk]}
                )
        message = said(
            "Order #%(number)s did not come in again through a Sync historical orders.", number=copies.number
        )
        return _result(HISTORY_IMPORTED_ONCE, RuleStatus.PASSED, message)
    found = history_again(plugin, connections)
    if found is None:
        message = said(
            "No Sync historical orders through “%(plugin)s” or another plugin of its store brought in orders "
            "that were in Commerce Kitty already.",
            plugin=plugin.name,
        )
        return _result(HISTORY_IMPORTED_ONCE, RuleStatus.PASSED, message)
    return _result(HISTORY_IMPORTED_ONCE, RuleStatus.FAILED, *found)


def history_again(plugin: Plugin, connections: list[SharedConnection]) -> tuple[Said, dict] | None:
    """The largest Sync historical orders that imported again what another connection had, in words; None if none."""
    names = {plugin.pk: plugin.name, **{c.plugin_id: c.name for c in connections}}
    again = [
        (later_id, started, numbers, connection)
        for connection in connections
        for (later_id, started), numbers in connection.again_by_backfill.items()
    ]
    if not again:
        return None
    later_id, started, numbers, connection = max(again, key=lambda entry: len(entry[2]))
    message = said_n(
        "“%(later)s”'s Sync historical orders of %(day)s imported %(count)s order again that “%(earlier)s” had "
        "imported already, for example #%(example)s.",
        "“%(later)s”'s Sync historical orders of %(day)s imported %(count)s orders again that “%(earlier)s” had "
        "imported already, for example #%(example)s.",
        len(numbers),
        later=names[later_id],
        day=day_words(started),
        earlier=connection.name if later_id == plugin.pk else plugin.name,
        example=numbers_words(numbers[:EXAMPLES]),
    )
    evidence = {
        "backfills": [
            {"plugin": names[plugin_id], "started_at": at.isoformat(), "orders": len(found)}
            for plugin_id, at, found, _ in again
        ]
    }
    return message, evidence


def rule_not_created_by_hand(copies: OrderCopies) -> RuleResult:
    """Failed when one copy was created by hand and another imported: which came first, and how they match."""
    anchor = copies.anchor
    pairs = [(anchor, twin) for twin in copies.of_kind(TwinKind.MADE_BY_HAND)] if anchor else []
    if not pairs:
        message = said("No order created by hand matches order #%(number)s.", number=copies.number)
        return _result(NOT_CREATED_BY_HAND, RuleStatus.PASSED, message)
    anchor, twin = pairs[0]
    hand, imported = (anchor, twin.copy) if anchor.by_hand else (twin.copy, anchor)
    evidence = {
        "by_hand": hand.pk,
        "imported": imported.pk,
        "matched_on": twin.match.on,
        "came_by": imported.came_by.value,
    }
    details = {
        "number": copies.number,
        "plugin": imported.plugin_name,
        "created": hand.arrived_at,
        "imported": imported.arrived_at,
    }
    if hand.arrived_at > imported.arrived_at:
        message = said(
            "Order #%(number)s was imported through “%(plugin)s” %(imported)s, and created by hand again "
            "%(created)s.",
            **details,
        )
    elif imported.came_by == CameBy.BACKFILL:
        message = said(
            "Order #%(number)s was created by hand %(created)s, and Sync historical orders through “%(plugin)s” "
            "imported it from the platform %(imported)s.",
            **details,
        )
    else:
        message = said(
            "Order #%(number)s was created by hand %(created)s, and a sync through “%(plugin)s” imported it from "
            "the platform %(imported)s.",
            **details,
        )
    return _result(NOT_CREATED_BY_HAND, RuleStatus.FAILED, message, evidence)


def rule_platform_holds_one_order(copies: OrderCopies) -> RuleResult:
    """Failed when the platform holds two orders of one purchase, both imported through the same plugin."""
    anchor = copies.anchor
    if anchor is None:
        return _result(PLATFORM_HOLDS_ONE_ORDER, RuleStatus.UNKNOWN, _not_in(copies.number))
    twins = copies.of_kind(TwinKind.PLATFORM_TWICE)
    if not twins:
        message = said_n(
            "The platform holds order #%(number)s once, and no other order of the same buyer and items came in "
            "through “%(plugin)s” within %(count)s day of it.",
            "The platform holds order #%(number)s once, and no other order of the same buyer and items came in "
            "through “%(plugin)s” within %(count)s days of it.",
            PLATFORM_WINDOW.days,
            number=copies.number,
            plugin=anchor.plugin_name,
        )
        return _result(PLATFORM_HOLDS_ONE_ORDER, RuleStatus.PASSED, message)
    twin = twins[0]
    first, second = sorted([anchor, twin.copy], key=lambda c: (c.placed_at, c.pk))
    evidence = {"orders": [first.number, second.number], "matched_on": twin.match.on}
    if twin.match.replacement is not None:
        replacement, original = (first, second) if first.pk == twin.match.replacement else (second, first)
        message = said(
            "The platform holds two orders: #%(replacement)s is a replacement for #%(original)s, so each came in "
            "once, as an order of its own.",
            replacement=replacement.number,
            original=original.number,
        )
        evidence["replacement"] = replacement.number
    else:
        message = said(
            "The platform holds two orders for the same buyer and items, placed %(gap)s apart: #%(first)s and "
            "#%(second)s. Each came in once, as an order of its own.",
            gap=span_words((second.placed_at - first.placed_at).total_seconds()),
            first=first.number,
            second=second.number,
        )
    return _result(PLATFORM_HOLDS_ONE_ORDER, RuleStatus.FAILED, message, evidence)


def possible_replacements(copies: OrderCopies, *, limit: int = 3) -> list[OrderCopy]:
    """Orders of the same plugin and items placed after the one asked about: which platform may call a replacement.

    A replacement's buyer is not always shared (Amazon withholds it), so only
    the platform can say; these are the few worth asking it about.
    """
    anchor = copies.anchor
    if anchor is None or anchor.by_hand:
        return []
    rows = list(
        _copy_rows(
            Order.objects.filter(
                plugin_id=anchor.plugin_id,
                placed_at__gt=anchor.placed_at,
                placed_at__lte=anchor.placed_at + PLATFORM_WINDOW,
            )
        ).order_by("placed_at", "pk")[:20]
    )
    known = {t.copy.pk for t in copies.twins}
    return [copy for copy in _copies(rows).values() if copy.items == anchor.items and copy.pk not in known][
        :limit
    ]
