"""The importer: fetch a plugin's orders and write every one the rules allow.

It decides nothing itself: ``rules.import_verdict`` does, the same function
the diagnosis uses. An order the platform sent in a shape we cannot read, or
with data the database refuses, is skipped with a notification
(``order_unreadable``): one bad order never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.platforms.base import (
    MalformedOrder,
    NotAuthorized,
    PlatformError,
    PlatformUnavailable,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from kitty_troubleshoot.said import Said, said

from ..models import Channel, Customer, Notification, Order, OrderLine, Plugin, SyncRun
from ..signals import orders_imported
from ..wording import day_words
from .records import (
    notifications_record,
    notifications_resolve,
    plugin_authorization_record,
    plugin_rate_limit_record,
)
from .rules import (
    AccountState,
    ImportVerdict,
    RuleResult,
    authorization_refused,
    import_verdict,
    order_unreadable,
    platform_says,
    plugin_rule_results,
    rule_authorized,
    rule_not_rate_limited,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# What the plugin rules a sync must get past notify about (Import Orders off notifies nothing).
PLUGIN_NOTIFICATION_KINDS = (
    Notification.Kind.CHANNEL_CONFLICT,
    Notification.Kind.RATE_LIMIT,
    Notification.Kind.AUTHORIZATION,
)
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


# --- The importer -------------------------------------------------------------


def plugin_sync(
    *,
    plugin: Plugin,
    mode: str = SyncRun.Mode.MANUAL,
    backfill_since: datetime | None = None,
    resume_from: datetime | None = None,
    time_budget: float | None = None,
    timeout: httpx.Timeout | None = None,
    order_numbers: tuple[str, ...] = (),
) -> SyncRun:
    """Fetch the plugin's orders and import every one the rules allow.

    ``order_numbers`` are orders a merchant is looking for: each one the
    listing did not bring in is asked for by number and judged the same way
    (a paid order placed before the listing's window still imports).

    With ``time_budget`` (seconds) the sync stops fetching once it is spent
    and records in ``resume_from`` the placed date to carry on from (orders
    come oldest first), so a merchant's click never waits on a long history.
    ``resume_from`` carries on such a sync: it lists from there, judged by the
    same rules as the sync it continues. Only a sync that reached the end of
    the list moves ``last_synced_at``, so the next scheduled sync never
    starts past orders a stopped one did not reach.

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
        return _sync(
            run,
            plugin,
            now=now,
            backfill_since=backfill_since,
            resume_from=resume_from,
            deadline=deadline,
            timeout=timeout,
            order_numbers=order_numbers,
        )
    except Exception as exc:
        if run.outcome == SyncRun.Outcome.RUNNING:
            _finish_after_error(
                run,
                said(
                    "The sync stopped on an unexpected error (%(error)s); orders imported before it are kept, "
                    "and the next sync tries again.",
                    error=type(exc).__name__,
                ),
            )
        raise
    finally:
        if run.imported:  # also when it stopped on an error: what it imported is kept
            orders_imported.send(sender=Plugin, plugin=plugin, run=run)


def _sync(
    run: SyncRun,
    plugin: Plugin,
    *,
    now: datetime,
    backfill_since: datetime | None,
    resume_from: datetime | None,
    deadline: float | None,
    timeout: httpx.Timeout | None,
    order_numbers: tuple[str, ...] = (),
) -> SyncRun:
    channels = list(plugin.channels.all())
    state = AccountState.of(plugin, now=now, channels=channels)
    # The plugin rules the importer can answer without the platform come first:
    # a plugin that would import nothing costs the platform no request.
    for result in plugin_rule_results(plugin, state)[:3]:
        if result.passed:
            continue
        if result.rule == "not_rate_limited":
            return _finish(run, SyncRun.Outcome.RATE_LIMITED, result.message)
        if result.notification_kind:
            notifications_record(plugin, [("", result)], now=now)
        return _finish(run, SyncRun.Outcome.BLOCKED, result.message)

    client = plugin.client(timeout=timeout)
    if backfill_since is not None and not client.capabilities.backfill:
        return _finish(
            run,
            SyncRun.Outcome.BLOCKED,
            said("%(platform)s cannot list older orders.", platform=plugin.get_platform_display()),
        )
    try:
        auth = rule_authorized(plugin, client)
        plugin_authorization_record(plugin, auth, now=now)
        if not auth.passed:
            notifications_record(plugin, [("", auth)], now=now)
            return _finish(run, SyncRun.Outcome.NOT_AUTHORIZED, auth.message)
        plugin_results = plugin_rule_results(plugin, state, authorization=auth)
        run.since = resume_from or backfill_since or scheduled_sync_since(plugin)
        run.save(update_fields=["since"])
        orders = client.list_orders(run.since)
        if deadline is not None:
            orders = _until(orders, deadline, run)
        importing = _Importing(plugin, channels[0], state, plugin_results, backfill_since, order_numbers)
        _import_stream(run, importing, orders)
        _import_stream(run, importing, _asked_for(importing, client))
    except RateLimited as exc:
        plugin_rate_limit_record(plugin, exc, now=timezone.now())
        return _finish(run, SyncRun.Outcome.RATE_LIMITED, rule_not_rate_limited(plugin).message)
    except NotAuthorized as exc:
        auth = authorization_refused(plugin, exc)
        plugin_authorization_record(plugin, auth, now=timezone.now())
        notifications_record(plugin, [("", auth)], now=timezone.now())
        return _finish(run, SyncRun.Outcome.NOT_AUTHORIZED, auth.message)
    except PlatformUnavailable as exc:
        _finish(
            run,
            SyncRun.Outcome.FAILED,
            said("The platform did not answer: %(platform_says)s", platform_says=platform_says(exc)),
        )
        raise
    except PlatformError as exc:
        # An answer that asking again would not change (e.g. paging in circles).
        return _finish(
            run,
            SyncRun.Outcome.FAILED,
            said(
                "The platform's answer could not be used: %(platform_says)s", platform_says=platform_says(exc)
            ),
        )

    # Every plugin rule let this sync through: what the bell said of them is over.
    notifications_resolve(
        plugin,
        PLUGIN_NOTIFICATION_KINDS,
        how=said("A sync has gone through since."),
        order_number="",
        now=now,
    )
    if run.resume_from is None:
        Plugin.objects.filter(pk=plugin.pk).update(last_synced_at=now)
        plugin.last_synced_at = now
    counts = {"imported": run.imported, "already": run.already_imported, "not_imported": run.not_imported}
    if run.resume_from is not None:
        summary = said(
            "%(imported)s imported, %(already)s already here, %(not_imported)s not imported. Orders placed from "
            "%(day)s on continue in the background.",
            day=day_words(run.resume_from),
            **counts,
        )
        run.save(update_fields=["resume_from"])
    else:
        summary = said(
            "%(imported)s imported, %(already)s already here, %(not_imported)s not imported.", **counts
        )
    return _finish(run, SyncRun.Outcome.SUCCEEDED, summary)


def _asked_for(importing: _Importing, client) -> Iterator[ListedOrder]:
    """The orders a merchant asked for that the listing neither imported nor judged, fetched one by one."""
    numbers = importing.wanted
    imported = set(
        Order.objects.filter(plugin=importing.plugin, number__in=numbers).values_list("number", flat=True)
    )
    for number in numbers:
        if number in imported or number in importing.judged:
            continue
        try:
            order = client.get_order(number)
        except MalformedOrder as exc:
            # Skipped with a notification, as the listing skips such an order.
            order = UnreadableOrder(id="", number=number, reason=str(exc))
        if order is not None:
            yield order


def _until(orders: Iterator[ListedOrder], deadline: float, run: SyncRun) -> Iterator[ListedOrder]:
    """``orders`` until ``deadline`` (time.monotonic()); where it stopped goes in ``run.resume_from``."""
    for order in orders:
        yield order
        placed_at = getattr(order, "placed_at", None)
        # Never at the moment it started from: a sync that carries on from there would stop
        # at the same place again, forever, if more orders share it than one slice reaches.
        past_start = run.since is None or (placed_at is not None and placed_at > run.since)
        if placed_at is not None and past_start and time.monotonic() > deadline:
            # Orders come oldest first: from this one's moment on, a later sync finds the rest
            # (this one again too, then as already imported).
            run.resume_from = placed_at
            return


def scheduled_sync_since(plugin: Plugin) -> datetime:
    """How far back the plugin's next scheduled sync lists orders."""
    enabled_at = plugin.import_orders_enabled_at or timezone.now()
    if plugin.last_synced_at is None:
        return enabled_at
    return max(enabled_at, plugin.last_synced_at - SYNC_LOOKBACK)


def _finish(run: SyncRun, outcome: str, message: Said) -> SyncRun:
    run.outcome = outcome
    # The English text in its column; the message, read in each reader's language, beside it.
    for column, value in SyncRun.said_values("message", message).items():
        setattr(run, column, value)
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "outcome",
            "message",
            "said",
            "finished_at",
            "seen",
            "imported",
            "already_imported",
            "not_imported",
        ]
    )
    if run.said is not None:
        run.message = run.said  # as a loaded run reads it (``SyncRun.from_db``)
    return run


def _finish_after_error(run: SyncRun, message: Said) -> None:
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


@dataclass(frozen=True)
class _Importing:
    """What every batch of one sync is judged and written with."""

    plugin: Plugin
    channel: Channel
    state: AccountState
    plugin_results: list[RuleResult]
    backfill_since: datetime | None
    wanted: tuple[str, ...] = ()  # the orders a merchant is looking for
    judged: set[str] = field(default_factory=set)  # every order number this sync judged

    def verdict(self, order: ListedOrder) -> ImportVerdict:
        return import_verdict(
            self.plugin,
            order,
            self.state,
            plugin_results=self.plugin_results,
            backfill_since=self.backfill_since,
        )


@dataclass
class _BatchResult:
    imported: int = 0
    already: int = 0
    # Order number → the rules that kept it out (each with its message).
    blocked: dict[str, list[dict]] = field(default_factory=dict)
    # (order number, rule result) for the bell: only what a merchant can act on.
    failures: list[tuple[str, RuleResult]] = field(default_factory=list)

    def add(self, other: _BatchResult) -> None:
        self.imported += other.imported
        self.already += other.already
        self.blocked.update(other.blocked)
        self.failures.extend(other.failures)

    def block(self, number: str, results: list[RuleResult]) -> None:
        self.blocked[number] = [{"rule": r.rule, "message": r.message} for r in results]
        self.failures.extend((number, r) for r in results if r.notification_kind)


def _import_stream(run: SyncRun, importing: _Importing, orders: Iterator[ListedOrder]) -> None:
    for batch in _batches(orders, BATCH_SIZE):
        # Duplicates within one page of results would break the bulk insert.
        unique = list({order.id: order for order in batch}.values())
        run.seen += len(batch)
        try:
            result = _import_batch(importing, unique)
        except _ORDER_DATA_ERRORS:
            # Either another process inserted some of these between our read
            # and our write (only possible where row locks are not, e.g.
            # SQLite), or one order holds a value the database refuses. Order
            # by order, the first are "already imported" and the second costs
            # only the order at fault.
            result = _import_one_by_one(importing, unique)
        run.imported += result.imported
        run.already_imported += result.already
        run.not_imported += len(result.blocked)
        room = SyncRun.BLOCKED_ORDERS_KEPT - len(run.blocked_orders)
        for number, rules in list(result.blocked.items())[: max(0, room)]:
            run.blocked_orders[number] = rules
        for number in importing.wanted:  # the orders a merchant asked about are kept whatever the cap
            if number in result.blocked:
                run.blocked_orders[number] = result.blocked[number]
        importing.judged.update(order.number for order in unique)
        notifications_record(importing.plugin, result.failures, now=timezone.now())
        run.save(
            update_fields=["seen", "imported", "already_imported", "not_imported", "since", "blocked_orders"]
        )


def _import_one_by_one(importing: _Importing, batch: list[ListedOrder]) -> _BatchResult:
    """_import_batch for each order on its own: an order that fails is skipped with a notification."""
    total = _BatchResult()
    for order in batch:
        try:
            result = _import_batch(importing, [order])
        except IntegrityError:
            # Perhaps a concurrent sync imported it meanwhile: a second pass
            # sees it as already imported. If not, the order is at fault.
            try:
                result = _import_batch(importing, [order])
            except _ORDER_DATA_ERRORS as exc:
                result = _unreadable(importing.plugin, order, exc)
        except _ORDER_DATA_ERRORS as exc:
            result = _unreadable(importing.plugin, order, exc)
        total.add(result)
    return total


def _unreadable(plugin: Plugin, order: ListedOrder, exc: Exception) -> _BatchResult:
    # The exception's text may quote the order's data (a buyer's address in
    # a failing row): log and show its kind only.
    logger.warning(
        "plugin %s: order %s skipped, it could not be imported (%s)", plugin.pk, order.id, type(exc).__name__
    )
    result = _BatchResult()
    result.block(
        order.number,
        [
            order_unreadable(
                order.number,
                "some of its data is not in a form Commerce Kitty can store (a value of the wrong kind, "
                "too long, or out of range).",
                {"source_order_id": order.id, "error": type(exc).__name__},
            )
        ],
    )
    return result


def _import_batch(importing: _Importing, batch: list[ListedOrder]) -> _BatchResult:
    plugin, catalog = importing.plugin, importing.state.catalog
    now = timezone.now()
    result = _BatchResult()
    with transaction.atomic():
        # Serializes concurrent syncs of one plugin batch by batch (PostgreSQL);
        # the unique (plugin, source_order_id) constraint backs it up.
        Plugin.objects.select_for_update().filter(pk=plugin.pk).values_list("pk").first()
        existing = set(
            Order.objects.filter(plugin=plugin, source_order_id__in=[o.id for o in batch]).values_list(
                "source_order_id", flat=True
            )
        )
        result.already = len(existing)
        to_import = []
        for order in batch:
            if order.id in existing:
                continue
            verdict = importing.verdict(order)
            if verdict.would_import:
                to_import.append(order)
            else:
                # Only problems a merchant can act on become notifications
                # (``block``): an old or unpaid order is expected, not an error.
                result.block(order.number, verdict.blockers or verdict.unknowns)
        if to_import:
            customers = _customers_for(plugin.merchant_id, to_import, now)
            created = Order.objects.bulk_create(
                [
                    Order(
                        merchant_id=plugin.merchant_id,
                        plugin=plugin,
                        channel=importing.channel,
                        customer_id=customers[customer_email(o)],
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
            # The order is in now: what the bell said kept it out is over, whichever sync brought it.
            notifications_resolve(
                plugin,
                Notification.Kind.values,
                how=said("The order has been imported since."),
                order_numbers=[o.number for o in to_import],
                now=now,
            )
    result.imported = len(to_import)
    return result


def customer_email(order: SourceOrder) -> str:
    """The e-mail an order's customer is kept under.

    When the platform withholds the buyer's e-mail, each order gets a
    customer of its own under an address in the reserved ``.invalid`` domain
    (it can never receive mail), rather than every such buyer sharing one
    customer with an empty address.
    """
    email = order.buyer.email.strip().lower()
    if email or order.buyer_contact_shared:
        return email
    return f"order-{slugify(order.id)[:180]}@email-not-shared.invalid"


def _customers_for(merchant_id: int, orders: list[SourceOrder], now: datetime) -> dict[str, int]:
    """Email → customer id, creating the customers not seen before (one query each way)."""
    buyers = {}
    for order in orders:
        buyers.setdefault(customer_email(order), order.buyer)
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
