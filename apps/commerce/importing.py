"""Why an order does or does not import: the one rule set, and the importer that applies it.

Each rule is a predicate that returns a ``RuleResult`` with a sentence a
merchant understands and the evidence behind it. The importer applies the
rules and nothing else decides; the diagnostics in ``diagnostics.py`` call the
same functions, so a check can never disagree with the importer.

Plugin rules (checked once per sync, before anything is fetched):
  1. Import Orders is on                      ``rule_import_orders_on``
  2. the plugin is on exactly one channel     ``rule_exactly_one_channel``
  3. the platform accepts the credentials     ``rule_authorized``
  4. the platform is not throttling us now    ``rule_not_rate_limited``
Order rules (checked for every order fetched):
  5. placed at/after Import Orders was turned on, unless backfilling
                                              ``rule_placed_after_import_enabled``
  6. paid and confirmed on the platform       ``rule_importable_state``
  7. every line's SKU is in the catalog       ``rule_skus_in_catalog``
  8. the buyer data makes a customer          ``rule_buyer_complete``

An order the platform sent in a shape we cannot read, or with data the
database refuses, is skipped with a notification (``order_unreadable``):
one bad order never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from apps.platforms.base import (
    NotAuthorized,
    OrderState,
    PlatformClient,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)

from .models import Channel, Customer, Notification, Order, OrderLine, Plugin, Product, SyncRun

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# A scheduled sync looks this far behind its previous run, so an order that
# was pending payment then and is paid now is still picked up.
SYNC_LOOKBACK = timedelta(days=7)

# What one order's data can cause while it is checked or written: the
# database refusing a value (too long, out of range, a failed check) or code
# tripping over a value of a kind it did not expect. Anything else (a lost
# database connection, a time limit) is not that order's fault and stops the sync.
_ORDER_DATA_ERRORS = (
    DataError,
    IntegrityError,
    ArithmeticError,
    AttributeError,
    LookupError,
    TypeError,
    ValueError,
)


# What a platform client's list_orders yields.
ListedOrder = SourceOrder | UnreadableOrder


@dataclass(frozen=True)
class RuleResult:
    rule: str
    passed: bool
    message: str
    evidence: dict = field(default_factory=dict)
    # The bell notification a failure writes during an import, if any.
    notification_kind: str = ""


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%b %-d, %Y %H:%M %Z") if moment else "never"


# --- Plugin rules -----------------------------------------------------------


def rule_import_orders_on(plugin: Plugin) -> RuleResult:
    if plugin.import_orders:
        return RuleResult(
            "import_orders_on",
            True,
            f"Import Orders is on for “{plugin.name}” (since {_when(plugin.import_orders_enabled_at)}).",
            {"plugin": plugin.name, "enabled_at": _iso(plugin.import_orders_enabled_at)},
        )
    return RuleResult(
        "import_orders_on",
        False,
        f"Import Orders is off on “{plugin.name}”, so no orders from it are imported.",
        {"plugin": plugin.name},
    )


def rule_exactly_one_channel(plugin: Plugin, channels: Iterable[Channel] | None = None) -> RuleResult:
    names = sorted(c.name for c in (channels if channels is not None else plugin.channels.all()))
    evidence = {"plugin": plugin.name, "channels": names}
    if len(names) == 1:
        return RuleResult(
            "exactly_one_channel", True, f"“{plugin.name}” is on one channel: {names[0]}.", evidence
        )
    if not names:
        message = f"“{plugin.name}” is on no channel, so its orders have nowhere to go."
    else:
        message = (
            f"“{plugin.name}” is on {len(names)} channels ({', '.join(names)}); "
            "orders are not imported to avoid duplicates."
        )
    return RuleResult(
        "exactly_one_channel", False, message, evidence, notification_kind=Notification.Kind.CHANNEL_CONFLICT
    )


def rule_authorized(plugin: Plugin, client: PlatformClient) -> RuleResult:
    """Ask the platform, live. RateLimited and PlatformUnavailable propagate: that is not an answer."""
    try:
        client.check_authorization()
    except NotAuthorized as exc:
        return RuleResult(
            "authorized",
            False,
            f"The platform no longer accepts “{plugin.name}”'s authorization: {exc}",
            {"plugin": plugin.name, "platform_says": str(exc)},
            notification_kind=Notification.Kind.AUTHORIZATION,
        )
    return RuleResult("authorized", True, f"The platform accepts “{plugin.name}”'s authorization.")


def rule_not_rate_limited(plugin: Plugin, now: datetime | None = None) -> RuleResult:
    now = now or timezone.now()
    if plugin.is_rate_limited(now):
        until = plugin.rate_limited_until
        return RuleResult(
            "not_rate_limited",
            False,
            f"The platform is throttling “{plugin.name}” until {_when(until)}.",
            {"plugin": plugin.name, "until": _iso(until), "seconds_left": int((until - now).total_seconds())},
            notification_kind=Notification.Kind.RATE_LIMIT,
        )
    return RuleResult("not_rate_limited", True, f"The platform is not throttling “{plugin.name}” right now.")


# --- Order rules --------------------------------------------------------------


def rule_placed_after_import_enabled(
    plugin: Plugin, *, number: str, placed_at: datetime, backfill_since: datetime | None = None
) -> RuleResult:
    evidence = {"placed_at": _iso(placed_at), "import_enabled_at": _iso(plugin.import_orders_enabled_at)}
    if backfill_since is not None:
        ok = placed_at >= backfill_since
        evidence["backfill_since"] = _iso(backfill_since)
        where = "inside" if ok else "before the start of"
        message = f"Order #{number} was placed {_when(placed_at)}, {where} the backfill from {_when(backfill_since)}."
        return RuleResult("placed_after_import_enabled", ok, message, evidence)
    enabled_at = plugin.import_orders_enabled_at
    if enabled_at is not None and placed_at >= enabled_at:
        return RuleResult(
            "placed_after_import_enabled",
            True,
            f"Order #{number} was placed {_when(placed_at)}, after Import Orders was turned on ({_when(enabled_at)}).",
            evidence,
        )
    return RuleResult(
        "placed_after_import_enabled",
        False,
        f"Order #{number} was placed {_when(placed_at)}, before Import Orders was turned on "
        f"({_when(enabled_at)}); older orders are not imported automatically.",
        evidence,
    )


def rule_importable_state(order: SourceOrder) -> RuleResult:
    evidence = {"state": order.state.value, "platform_status": order.platform_status}
    if order.state == OrderState.IMPORTABLE:
        return RuleResult(
            "importable_state",
            True,
            f"Order #{order.number} is paid and confirmed on the platform ({order.platform_status}).",
            evidence,
        )
    return RuleResult(
        "importable_state",
        False,
        f"Order #{order.number} is {order.state.label} on the platform (“{order.platform_status}”); "
        "it imports once it is paid and confirmed.",
        evidence,
    )


def rule_skus_in_catalog(order: SourceOrder, catalog_skus: set[str] | dict[str, int]) -> RuleResult:
    missing = sorted(
        {line.sku or "(no SKU)" for line in order.lines if not line.sku or line.sku not in catalog_skus}
    )
    if not order.lines:
        return RuleResult(
            "skus_in_catalog",
            False,
            f"Order #{order.number} has no lines to import.",
            {"missing_skus": []},
            notification_kind=Notification.Kind.MISSING_PRODUCT,
        )
    if missing:
        listed = ", ".join(missing)
        return RuleResult(
            "skus_in_catalog",
            False,
            f"Order #{order.number} has SKU{'s' if len(missing) > 1 else ''} {listed} that your catalog does not have.",
            {"missing_skus": missing},
            notification_kind=Notification.Kind.MISSING_PRODUCT,
        )
    return RuleResult(
        "skus_in_catalog",
        True,
        f"Every SKU on order #{order.number} is in your catalog.",
        {"skus": sorted({line.sku for line in order.lines})},
    )


def rule_buyer_complete(order: SourceOrder) -> RuleResult:
    buyer = order.buyer
    empty = []
    if not buyer.email.strip() or "@" not in buyer.email:
        empty.append("email")
    if not (buyer.first_name.strip() or buyer.last_name.strip()):
        empty.append("name")
    if empty:
        return RuleResult(
            "buyer_complete",
            False,
            f"Order #{order.number}'s buyer has no {' or '.join(empty)}, so no customer record can be created.",
            {"empty_fields": empty},
            notification_kind=Notification.Kind.MISSING_CUSTOMER_FIELDS,
        )
    return RuleResult("buyer_complete", True, f"Order #{order.number}'s buyer details are complete.")


def order_unreadable(number: str, reason: str, evidence: dict | None = None) -> RuleResult:
    """The notification for an order that was skipped because it could not be read."""
    return RuleResult(
        "order_readable",
        False,
        f"Order #{number} could not be read: {reason} It was skipped so the other orders could "
        "import; contact support with this order number.",
        evidence or {},
        notification_kind=Notification.Kind.UNREADABLE_ORDER,
    )


def order_rule_results(
    plugin: Plugin,
    order: SourceOrder,
    *,
    catalog_skus: set[str] | dict[str, int],
    backfill_since: datetime | None = None,
) -> list[RuleResult]:
    """Every order rule, in order, passed or not."""
    return [
        rule_placed_after_import_enabled(
            plugin, number=order.number, placed_at=order.placed_at, backfill_since=backfill_since
        ),
        rule_importable_state(order),
        rule_skus_in_catalog(order, catalog_skus),
        rule_buyer_complete(order),
    ]


def order_import_blockers(
    plugin: Plugin,
    order: SourceOrder,
    *,
    catalog_skus: set[str] | dict[str, int],
    backfill_since: datetime | None = None,
) -> list[RuleResult]:
    """The order rules this order fails; empty means it imports."""
    return [
        r
        for r in order_rule_results(plugin, order, catalog_skus=catalog_skus, backfill_since=backfill_since)
        if not r.passed
    ]


def catalog_sku_map(merchant_id: int) -> dict[str, int]:
    """SKU → product id for one merchant, read once per sync."""
    return dict(Product.objects.filter(merchant_id=merchant_id).values_list("code", "id"))


# --- The importer -------------------------------------------------------------


def plugin_sync(
    *,
    plugin: Plugin,
    mode: str = SyncRun.Mode.MANUAL,
    backfill_since: datetime | None = None,
    time_budget: float | None = None,
    timeout: httpx.Timeout | None = None,
) -> SyncRun:
    """Fetch the plugin's orders and import every one the rules allow.

    With ``time_budget`` (seconds) the sync stops fetching once it is spent
    and records in ``resume_from`` the placed date to carry on from (orders
    come oldest first), so a merchant's click never waits on a long history.

    Idempotent: an order already imported for this plugin is never created
    again, even by two syncs at once. Every failing rule becomes a
    Notification; the SyncRun records what happened. An order that cannot be
    read is skipped with a notification. An unexpected error finishes the
    SyncRun as failed, never leaving it running, and is raised.
    """
    now = timezone.now()
    if backfill_since is not None:
        mode = SyncRun.Mode.BACKFILL
    run = SyncRun.objects.create(plugin=plugin, mode=mode, since=None, started_at=now)
    deadline = time.monotonic() + time_budget if time_budget is not None else None
    try:
        return _sync(run, plugin, now=now, backfill_since=backfill_since, deadline=deadline, timeout=timeout)
    except Exception as exc:
        if run.outcome == SyncRun.Outcome.RUNNING:
            _finish_after_error(
                run,
                f"The sync stopped on an unexpected error ({type(exc).__name__}); orders imported "
                "before it are kept, and the next sync tries again.",
            )
        raise


def _sync(
    run: SyncRun,
    plugin: Plugin,
    *,
    now: datetime,
    backfill_since: datetime | None,
    deadline: float | None,
    timeout: httpx.Timeout | None,
) -> SyncRun:
    channels = list(plugin.channels.all())

    for result in (rule_import_orders_on(plugin), rule_exactly_one_channel(plugin, channels)):
        if not result.passed:
            if result.notification_kind:
                notifications_record(plugin, [("", result)], now=now)
            return _finish(run, SyncRun.Outcome.BLOCKED, result.message)
    rate = rule_not_rate_limited(plugin, now)
    if not rate.passed:
        return _finish(run, SyncRun.Outcome.RATE_LIMITED, rate.message)

    client = plugin.client(timeout=timeout)
    if backfill_since is not None and not client.capabilities.backfill:
        return _finish(
            run, SyncRun.Outcome.BLOCKED, f"{plugin.get_platform_display()} cannot list older orders."
        )
    try:
        auth = rule_authorized(plugin, client)
        plugin_authorization_record(plugin, auth, now=now)
        if not auth.passed:
            notifications_record(plugin, [("", auth)], now=now)
            return _finish(run, SyncRun.Outcome.NOT_AUTHORIZED, auth.message)
        run.since = backfill_since or _scheduled_since(plugin)
        run.save(update_fields=["since"])
        orders = client.list_orders(run.since)
        if deadline is not None:
            orders = _until(orders, deadline, run)
        _import_stream(run, plugin, channels[0], orders, backfill_since=backfill_since)
    except RateLimited as exc:
        plugin_rate_limit_record(plugin, exc, now=timezone.now())
        return _finish(run, SyncRun.Outcome.RATE_LIMITED, rule_not_rate_limited(plugin).message)
    except NotAuthorized as exc:
        auth = RuleResult(
            "authorized",
            False,
            f"The platform no longer accepts “{plugin.name}”'s authorization: {exc}",
            {"platform_says": str(exc)},
            Notification.Kind.AUTHORIZATION,
        )
        plugin_authorization_record(plugin, auth, now=timezone.now())
        notifications_record(plugin, [("", auth)], now=timezone.now())
        return _finish(run, SyncRun.Outcome.NOT_AUTHORIZED, auth.message)
    except PlatformUnavailable as exc:
        _finish(run, SyncRun.Outcome.FAILED, f"The platform did not answer: {exc}")
        raise
    except PlatformError as exc:
        # An answer that asking again would not change (e.g. paging in circles).
        return _finish(run, SyncRun.Outcome.FAILED, str(exc))

    Plugin.objects.filter(pk=plugin.pk).update(last_synced_at=now)
    plugin.last_synced_at = now
    summary = (
        f"{run.imported} imported, {run.already_imported} already here, {run.not_imported} not imported."
    )
    if run.resume_from is not None:
        summary += f" Orders placed from {run.resume_from:%b %-d, %Y} on continue in the background."
        run.save(update_fields=["resume_from"])
    return _finish(run, SyncRun.Outcome.SUCCEEDED, summary)


def _until(orders: Iterator[ListedOrder], deadline: float, run: SyncRun) -> Iterator[ListedOrder]:
    """``orders`` until ``deadline`` (time.monotonic()); where it stopped goes in ``run.resume_from``."""
    for order in orders:
        yield order
        placed_at = getattr(order, "placed_at", None)
        if placed_at is not None and time.monotonic() > deadline:
            # Orders come oldest first: from this one's moment on, a later sync finds the rest
            # (this one again too, then as already imported).
            run.resume_from = placed_at
            return


def _scheduled_since(plugin: Plugin) -> datetime:
    enabled_at = plugin.import_orders_enabled_at or timezone.now()
    if plugin.last_synced_at is None:
        return enabled_at
    return max(enabled_at, plugin.last_synced_at - SYNC_LOOKBACK)


def _finish(run: SyncRun, outcome: str, message: str) -> SyncRun:
    run.outcome = outcome
    run.message = message[:500]
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "outcome",
            "message",
            "finished_at",
            "seen",
            "imported",
            "already_imported",
            "not_imported",
        ]
    )
    return run


def _finish_after_error(run: SyncRun, message: str) -> None:
    """Finish the run as failed while an error is on its way up; never mask that error."""
    try:
        _finish(run, SyncRun.Outcome.FAILED, message)
    except Exception:
        # E.g. the database connection is what broke: the original error matters more.
        logger.exception("could not record the failure of sync run %s", run.pk)


def _batches(orders: Iterator[ListedOrder], size: int) -> Iterator[list[ListedOrder]]:
    """``orders`` in lists of ``size``; when the source fails, what it sent first still comes out."""
    batch: list[ListedOrder] = []
    try:
        for order in orders:
            batch.append(order)
            if len(batch) == size:
                yield batch
                batch = []
    except Exception:
        # E.g. a rate limit or a paging loop on page 7: pages 1-6 are imported,
        # then the error is handled as usual.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def _import_stream(
    run: SyncRun,
    plugin: Plugin,
    channel: Channel,
    orders: Iterator[ListedOrder],
    *,
    backfill_since: datetime | None,
) -> None:
    catalog = catalog_sku_map(plugin.merchant_id)
    for batch in _batches(orders, BATCH_SIZE):
        # Duplicates within one page of results would break the bulk insert.
        unique = list({order.id: order for order in batch}.values())
        run.seen += len(batch)
        try:
            imported, already, blocked, failures = _import_batch(
                plugin, channel, unique, catalog, backfill_since
            )
        except _ORDER_DATA_ERRORS:
            # Either another process inserted some of these between our read
            # and our write (only possible where row locks are not, e.g.
            # SQLite), or one order holds a value the database refuses. Order
            # by order, the first are "already imported" and the second costs
            # only the order at fault.
            imported, already, blocked, failures = _import_one_by_one(
                plugin, channel, unique, catalog, backfill_since
            )
        run.imported += imported
        run.already_imported += already
        run.not_imported += blocked
        notifications_record(plugin, failures, now=timezone.now())
        run.save(update_fields=["seen", "imported", "already_imported", "not_imported", "since"])


def _import_one_by_one(plugin, channel, batch, catalog, backfill_since):
    """_import_batch for each order on its own: an order that fails is skipped with a notification."""
    imported = already = blocked = 0
    failures: list[tuple[str, RuleResult]] = []
    for order in batch:
        try:
            counts = _import_batch(plugin, channel, [order], catalog, backfill_since)
        except IntegrityError:
            # Perhaps a concurrent sync imported it meanwhile: a second pass
            # sees it as already imported. If not, the order is at fault.
            try:
                counts = _import_batch(plugin, channel, [order], catalog, backfill_since)
            except _ORDER_DATA_ERRORS as exc:
                counts = _unreadable(plugin, order, exc)
        except _ORDER_DATA_ERRORS as exc:
            counts = _unreadable(plugin, order, exc)
        imported += counts[0]
        already += counts[1]
        blocked += counts[2]
        failures.extend(counts[3])
    return imported, already, blocked, failures


def _unreadable(plugin, order, exc):
    # The exception's text may quote the order's data (a buyer's address in
    # a failing row): log and show its kind only.
    logger.warning(
        "plugin %s: order %s skipped, it could not be imported (%s)", plugin.pk, order.id, type(exc).__name__
    )
    result = order_unreadable(
        order.number,
        "some of its data is not in a form Commerce Kitty can store (a value of the wrong kind, "
        "too long, or out of range).",
        {"source_order_id": order.id, "error": type(exc).__name__},
    )
    return 0, 0, 1, [(order.number, result)]


def _import_batch(plugin, channel, batch, catalog, backfill_since):
    now = timezone.now()
    failures: list[tuple[str, RuleResult]] = []
    blocked = 0
    with transaction.atomic():
        # Serializes concurrent syncs of one plugin batch by batch (PostgreSQL);
        # the unique (plugin, source_order_id) constraint backs it up.
        Plugin.objects.select_for_update().filter(pk=plugin.pk).values_list("pk").first()
        existing = set(
            Order.objects.filter(plugin=plugin, source_order_id__in=[o.id for o in batch]).values_list(
                "source_order_id", flat=True
            )
        )
        to_import = []
        for order in batch:
            if order.id in existing:
                continue
            if isinstance(order, UnreadableOrder):
                failures.append(
                    (
                        order.number,
                        order_unreadable(order.number, order.reason, {"source_order_id": order.id}),
                    )
                )
                blocked += 1
                continue
            blockers = order_import_blockers(
                plugin, order, catalog_skus=catalog, backfill_since=backfill_since
            )
            # Only problems a merchant can act on become notifications: an
            # old or unpaid order is expected, not an error.
            failures.extend((order.number, b) for b in blockers if b.notification_kind)
            if blockers:
                blocked += 1
            else:
                to_import.append(order)
        if to_import:
            customers = _customers_for(plugin.merchant_id, to_import, now)
            created = Order.objects.bulk_create(
                [
                    Order(
                        merchant_id=plugin.merchant_id,
                        plugin=plugin,
                        channel=channel,
                        customer_id=customers[o.buyer.email.strip().lower()],
                        source_order_id=o.id,
                        number=o.number,
                        placed_at=o.placed_at,
                        imported_at=now,
                        platform_status=o.platform_status[:100],
                        currency=o.currency[:3],
                        total=o.total,
                    )
                    for o in to_import
                ]
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=row,
                        product_id=catalog[line.sku],
                        sku=line.sku,
                        quantity=line.quantity,
                        title=line.title[:200],
                    )
                    for row, source in zip(created, to_import, strict=True)
                    for line in source.lines
                ]
            )
    return len(to_import), len(existing), blocked, failures


def _customers_for(merchant_id: int, orders: list[SourceOrder], now: datetime) -> dict[str, int]:
    """Email → customer id, creating the customers not seen before (one query each way)."""
    buyers = {}
    for order in orders:
        buyers.setdefault(order.buyer.email.strip().lower(), order.buyer)
    known = dict(
        Customer.objects.filter(merchant_id=merchant_id, email__in=list(buyers)).values_list("email", "id")
    )
    missing = [email for email in buyers if email not in known]
    if missing:
        Customer.objects.bulk_create(
            [
                Customer(
                    merchant_id=merchant_id,
                    email=email,
                    first_name=buyers[email].first_name[:100],
                    last_name=buyers[email].last_name[:100],
                    address_line1=buyers[email].address_line1[:200],
                    city=buyers[email].city[:100],
                    postcode=buyers[email].postcode[:20],
                    country=buyers[email].country[:2],
                    created_at=now,
                )
                for email in missing
            ],
            ignore_conflicts=True,
        )
        known.update(
            Customer.objects.filter(merchant_id=merchant_id, email__in=missing).values_list("email", "id")
        )
    return known


# --- What the importer writes besides orders -----------------------------------


def notifications_record(plugin: Plugin, failures: list[tuple[str, RuleResult]], *, now: datetime) -> None:
    """One notification per (plugin, order, kind): a repeat counts up instead of piling up."""
    if not failures:
        return
    wanted = {
        (number[:64], result.notification_kind): result
        for number, result in failures
        if result.notification_kind
    }
    open_rows = {
        (n.order_number, n.kind): n
        for n in Notification.objects.filter(
            plugin=plugin,
            read=False,
            order_number__in={number for number, _ in wanted},
            kind__in={k for _, k in wanted},
        )
    }
    new, repeated = [], []
    for (number, kind), result in wanted.items():
        row = open_rows.get((number, kind))
        if row is None:
            new.append(
                Notification(
                    merchant_id=plugin.merchant_id,
                    plugin=plugin,
                    order_number=number,
                    kind=kind,
                    message=result.message[:500],
                    evidence=result.evidence,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        else:
            row.message, row.evidence, row.last_seen_at = result.message[:500], result.evidence, now
            row.occurrences += 1
            repeated.append(row)
    Notification.objects.bulk_create(new)
    Notification.objects.bulk_update(repeated, ["message", "evidence", "last_seen_at", "occurrences"])


def plugin_rate_limit_record(plugin: Plugin, exc: RateLimited, *, now: datetime) -> None:
    plugin.rate_limited_until = exc.until(now)
    Plugin.objects.filter(pk=plugin.pk).update(rate_limited_until=plugin.rate_limited_until)
    notifications_record(plugin, [("", rule_not_rate_limited(plugin, now))], now=now)


def plugin_authorization_record(plugin: Plugin, result: RuleResult, *, now: datetime) -> None:
    plugin.authorization_status = (
        Plugin.Authorization.AUTHORIZED if result.passed else Plugin.Authorization.REVOKED
    )
    plugin.authorization_error = "" if result.passed else result.evidence.get("platform_says", "")[:300]
    plugin.authorization_checked_at = now
    Plugin.objects.filter(pk=plugin.pk).update(
        authorization_status=plugin.authorization_status,
        authorization_error=plugin.authorization_error,
        authorization_checked_at=now,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
