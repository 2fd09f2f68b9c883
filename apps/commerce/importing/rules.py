"""What decides whether an order imports: the one rule set, and the verdict built from it.

Each rule is a predicate that returns a ``RuleResult``: passed, failed, or
unknown (it could not be judged, e.g. the platform did not answer), with a
sentence a merchant understands and the evidence behind it.

``import_verdict`` applies every rule to one order *as the platform reports
it now* and the account as it is now, and returns all of them. The importer
(``sync.py``) decides with it; the diagnosis (``diagnostics``) shows it.
Nothing else decides, so a check can never disagree with the importer.

Plugin rules (the importer asks them once per sync, before fetching anything):
  1. Import Orders is on                      ``rule_import_orders_on``
  2. the plugin is on exactly one channel     ``rule_exactly_one_channel``
  3. the platform is not throttling us now    ``rule_not_rate_limited``
  4. the platform accepts the credentials     ``rule_authorized``
Order rules (for every order fetched):
  5. the platform has the order, in a form we can read
                                              ``rule_order_found`` / ``order_unreadable``
  6. placed at/after Import Orders was turned on, unless backfilling
                                              ``rule_placed_after_import_enabled``
  7. paid and confirmed on the platform       ``rule_importable_state``
  8. every line's SKU is in the catalog       ``rule_skus_in_catalog``
  9. the buyer data makes a customer          ``rule_buyer_complete``
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

from django.db.models import Q
from django.db.models.functions import Trim, Upper
from django.utils import timezone

from apps.checks.base import Arrival
from apps.platforms.base import (
    ImportOutcome,
    NotAuthorized,
    PlatformClient,
    PlatformError,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from kitty_troubleshoot.said import Said, said, said_n
from kitty_troubleshoot.words import duration_words

from ..models import Notification, Plugin, Product
from ..wording import day_words


class RuleStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"  # could not be judged: the message says why


# Rule keys, in the order the importer asks them.
IMPORT_ORDERS_ON = "import_orders_on"
EXACTLY_ONE_CHANNEL = "exactly_one_channel"
NOT_RATE_LIMITED = "not_rate_limited"
AUTHORIZED = "authorized"
ORDER_FOUND = "order_found"
ORDER_READABLE = "order_readable"
PLACED_AFTER_IMPORT_ENABLED = "placed_after_import_enabled"
IMPORTABLE_STATE = "importable_state"
SKUS_IN_CATALOG = "skus_in_catalog"
BUYER_COMPLETE = "buyer_complete"

# Evidence key of an unknown result that only follows from another rule's failure.
FOLLOWS_FROM = "follows_from"

PLUGIN_RULES = (IMPORT_ORDERS_ON, EXACTLY_ONE_CHANNEL, NOT_RATE_LIMITED, AUTHORIZED)
ORDER_RULES = (
    ORDER_FOUND,
    ORDER_READABLE,
    PLACED_AFTER_IMPORT_ENABLED,
    IMPORTABLE_STATE,
    SKUS_IN_CATALOG,
    BUYER_COMPLETE,
)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: RuleStatus
    message: Said  # one sentence for the merchant, read in their language (the English is its value)
    evidence: dict = field(default_factory=dict)
    # The bell notification a failure writes during an import, if any.
    notification_kind: str = ""

    @property
    def passed(self) -> bool:
        return self.status == RuleStatus.PASSED

    @property
    def failed(self) -> bool:
        return self.status == RuleStatus.FAILED

    @property
    def unknown(self) -> bool:
        return self.status == RuleStatus.UNKNOWN


def _passed(rule: str, message: Said, evidence: dict | None = None) -> RuleResult:
    return RuleResult(rule, RuleStatus.PASSED, message, evidence or {})


def _failed(rule: str, message: Said, evidence: dict | None = None, kind: str = "") -> RuleResult:
    return RuleResult(rule, RuleStatus.FAILED, message, evidence or {}, notification_kind=kind)


def _unknown(rule: str, message: Said, evidence: dict | None = None) -> RuleResult:
    return RuleResult(rule, RuleStatus.UNKNOWN, message, evidence or {})


def platform_says(exc: Exception):
    """What a platform's error says, as it was said: a message stays one, to be read in each reader's language."""
    said_first = exc.args[0] if exc.args and isinstance(exc.args[0], Said) else None
    return said_first if said_first is not None else str(exc)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def sku_fold(sku: str) -> str:
    """How a SKU reads to a person: letter case and surrounding spaces do not count."""
    return sku.strip().casefold()


@dataclass
class AccountState:
    """The account as the rules read it, taken once per sync or per diagnosis."""

    channels: tuple[str, ...]
    # SKU → product id. The importer reads the whole catalog once per sync; a
    # diagnosis only the products an order's SKUs could mean (``for_order``).
    catalog: Mapping[str, int]
    now: datetime

    @classmethod
    def of(
        cls, plugin: Plugin, *, now: datetime | None = None, channels: Iterable | None = None
    ) -> AccountState:
        """The whole account, as the importer uses it for a sync."""
        return cls(
            channels=_channel_names(plugin, channels),
            catalog=catalog_sku_map(plugin.merchant_id),
            now=now or timezone.now(),
        )

    @classmethod
    def for_order(
        cls, plugin: Plugin, order: SourceOrder | UnreadableOrder | None, *, now: datetime | None = None
    ) -> AccountState:
        """The account as far as one order needs it: its channels and the products its SKUs name."""
        return cls.for_skus(plugin, {line.sku for line in getattr(order, "lines", ())}, now=now)

    @classmethod
    def for_skus(cls, plugin: Plugin, skus: Iterable[str], *, now: datetime | None = None) -> AccountState:
        """The account as far as these SKUs need it: its channels and the products they could mean."""
        skus = {sku for sku in skus if sku}
        catalog: dict[str, int] = {}
        if skus:
            # The exact codes the importer matches, plus near misses for "did you mean".
            catalog = dict(
                Product.objects.filter(merchant_id=plugin.merchant_id)
                .annotate(folded=Upper(Trim("code")))
                .filter(Q(code__in=skus) | Q(folded__in={sku.strip().upper() for sku in skus}))
                .values_list("code", "id")
            )
        return cls(channels=_channel_names(plugin, None), catalog=catalog, now=now or timezone.now())

    @cached_property
    def catalog_folded(self) -> dict[str, str]:
        """Folded SKU → the catalog's own spelling, for "did you mean" (built on the first miss only)."""
        return {sku_fold(code): code for code in self.catalog}


def _channel_names(plugin: Plugin, channels: Iterable | None) -> tuple[str, ...]:
    rows = channels if channels is not None else plugin.channels.all()
    return tuple(sorted(c.name for c in rows))


def catalog_sku_map(merchant_id: int) -> dict[str, int]:
    """SKU → product id for one merchant, read once per sync."""
    return dict(Product.objects.filter(merchant_id=merchant_id).values_list("code", "id"))


# --- Plugin rules -----------------------------------------------------------


def rule_import_orders_on(plugin: Plugin) -> RuleResult:
    if plugin.import_orders:
        enabled_at = plugin.import_orders_enabled_at
        return _passed(
            IMPORT_ORDERS_ON,
            said(
                "Import Orders is on for “%(plugin)s” (since %(moment)s).",
                plugin=plugin.name,
                moment=enabled_at,
            )
            if enabled_at
            else said("Import Orders is on for “%(plugin)s”.", plugin=plugin.name),
            {"plugin": plugin.name, "enabled_at": iso(enabled_at)},
        )
    return _failed(
        IMPORT_ORDERS_ON,
        said("Import Orders is off on “%(plugin)s”, so no orders from it are imported.", plugin=plugin.name),
        {"plugin": plugin.name},
    )


def rule_exactly_one_channel(plugin: Plugin, channels: Iterable | None = None) -> RuleResult:
    """``channels``: Channel rows or their names (an AccountState's); the plugin's own when omitted."""
    if channels is None:
        names = _channel_names(plugin, None)
    else:
        names = tuple(sorted(c if isinstance(c, str) else c.name for c in channels))
    evidence = {"plugin": plugin.name, "channels": list(names)}
    if len(names) == 1:
        return _passed(
            EXACTLY_ONE_CHANNEL,
            said("“%(plugin)s” is on one channel: %(channel)s.", plugin=plugin.name, channel=names[0]),
            evidence,
        )
    if not names:
        message = said("“%(plugin)s” is on no channel, so its orders have nowhere to go.", plugin=plugin.name)
    else:
        # Channel names are the merchant's own: listed as they are, with commas.
        message = said_n(
            "“%(plugin)s” is on %(count)s channel (%(channels)s); orders are not imported to avoid duplicates.",
            "“%(plugin)s” is on %(count)s channels (%(channels)s); orders are not imported to avoid duplicates.",
            len(names),
            plugin=plugin.name,
            channels=", ".join(names),
        )
    return _failed(EXACTLY_ONE_CHANNEL, message, evidence, Notification.Kind.CHANNEL_CONFLICT)


def authorization_refused(plugin: Plugin, exc: NotAuthorized) -> RuleResult:
    """The platform turned the plugin's credentials down, whichever call it said so to."""
    return _failed(
        AUTHORIZED,
        said(
            "The platform no longer accepts “%(plugin)s”'s authorization: %(platform_says)s",
            plugin=plugin.name,
            platform_says=platform_says(exc),
        ),
        {"plugin": plugin.name, "platform_says": str(exc)},
        Notification.Kind.AUTHORIZATION,
    )


def authorization_accepted(plugin: Plugin) -> RuleResult:
    """The platform answered a call that needs the plugin's authorization to read orders."""
    return _passed(AUTHORIZED, said("The platform accepts “%(plugin)s”'s authorization.", plugin=plugin.name))


def rule_authorized(plugin: Plugin, client: PlatformClient) -> RuleResult:
    """Ask the platform, live. RateLimited and PlatformUnavailable propagate: that is not an answer."""
    try:
        client.check_authorization()
    except NotAuthorized as exc:
        return authorization_refused(plugin, exc)
    return authorization_accepted(plugin)


def rule_not_rate_limited(
    plugin: Plugin, now: datetime | None = None, *, met: RateLimited | None = None
) -> RuleResult:
    """Throttled as recorded on the plugin, or as the platform said just now (``met``)."""
    now = now or timezone.now()
    until = plugin.rate_limited_until if plugin.is_rate_limited(now) else None
    if met is not None:
        until = max(filter(None, (until, met.until(now))))
    if until is not None:
        return _failed(
            NOT_RATE_LIMITED,
            said(
                "The platform is throttling “%(plugin)s” until %(moment)s (%(wait)s from now).",
                plugin=plugin.name,
                moment=until,
                wait=duration_words((until - now).total_seconds()),
            ),
            {"plugin": plugin.name, "until": iso(until), "seconds_left": int((until - now).total_seconds())},
            Notification.Kind.RATE_LIMIT,
        )
    return _passed(
        NOT_RATE_LIMITED, said("The platform is not throttling “%(plugin)s” right now.", plugin=plugin.name)
    )


# --- Order rules --------------------------------------------------------------


def rule_order_found(plugin: Plugin, number: str, order: SourceOrder | UnreadableOrder | None) -> RuleResult:
    if order is None:
        return _failed(
            ORDER_FOUND,
            said(
                "The platform has no order #%(number)s for “%(plugin)s”.", number=number, plugin=plugin.name
            ),
            {"number": number},
        )
    return _passed(
        ORDER_FOUND,
        said("The platform has order #%(number)s.", number=order.number),
        {"source_order_id": order.id},
    )


def order_unreadable(number: str, reason: str, evidence: dict | None = None) -> RuleResult:
    """An order that was skipped because it could not be read."""
    return _failed(
        ORDER_READABLE,
        said(
            "Order #%(number)s could not be read: %(reason)s It was skipped so the other orders could "
            "import; contact support with this order number.",
            number=number,
            reason=reason,
        ),
        evidence or {},
        Notification.Kind.UNREADABLE_ORDER,
    )


def rule_placed_after_import_enabled(
    plugin: Plugin, *, number: str, placed_at: datetime, backfill_since: datetime | None = None
) -> RuleResult:
    evidence = {"placed_at": iso(placed_at), "import_enabled_at": iso(plugin.import_orders_enabled_at)}
    if backfill_since is not None:
        ok = placed_at >= backfill_since
        evidence["backfill_since"] = iso(backfill_since)
        words = {"number": number, "placed": placed_at, "since": backfill_since}
        if ok:
            message = said(
                "Order #%(number)s was placed %(placed)s, inside the backfill from %(since)s.", **words
            )
        else:
            message = said(
                "Order #%(number)s was placed %(placed)s, before the start of the backfill from %(since)s.",
                **words,
            )
        return RuleResult(
            PLACED_AFTER_IMPORT_ENABLED, RuleStatus.PASSED if ok else RuleStatus.FAILED, message, evidence
        )
    enabled_at = plugin.import_orders_enabled_at
    if enabled_at is None:
        return _failed(
            PLACED_AFTER_IMPORT_ENABLED,
            said(
                "Order #%(number)s was placed %(placed)s, and Import Orders has never been turned on for "
                "“%(plugin)s”; orders placed before it is turned on are not imported automatically.",
                number=number,
                placed=placed_at,
                plugin=plugin.name,
            ),
            evidence,
        )
    if placed_at >= enabled_at:
        return _passed(
            PLACED_AFTER_IMPORT_ENABLED,
            said(
                "Order #%(number)s was placed %(placed)s, after Import Orders was turned on (%(enabled)s).",
                number=number,
                placed=placed_at,
                enabled=enabled_at,
            ),
            evidence,
        )
    return _failed(
        PLACED_AFTER_IMPORT_ENABLED,
        said(
            "Order #%(number)s was placed %(placed)s, before Import Orders was turned on (%(enabled)s); "
            "older orders are not imported automatically.",
            number=number,
            placed=placed_at,
            enabled=enabled_at,
        ),
        evidence,
    )


def typed_day_span(day: date) -> tuple[datetime, datetime]:
    """The first moment of a typed day and the first of the next, in the site's time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def rule_placed_on_typed_day(
    plugin: Plugin, *, number: str, day: date, backfill_since: datetime | None = None
) -> RuleResult:
    """The placed-date rule when only the day is known (the merchant typed it): the whole day must pass.

    A day that ends before the line (Import Orders turned on, or a backfill's
    start) fails; one that starts at or after it passes; one the line falls
    inside cannot be judged without the time of day.
    """
    start, end = typed_day_span(day)
    line = backfill_since if backfill_since is not None else plugin.import_orders_enabled_at
    typed = said("%(day)s (the date you typed)", day=day_words(day))
    evidence = {
        "placed_at": iso(start),
        "placed_on": day.isoformat(),
        "import_enabled_at": iso(plugin.import_orders_enabled_at),
    }
    if backfill_since is not None:
        evidence["backfill_since"] = iso(backfill_since)
    if line is None:
        return _failed(
            PLACED_AFTER_IMPORT_ENABLED,
            said(
                "Order #%(number)s was placed on %(day)s, and Import Orders has never been turned on for "
                "“%(plugin)s”; orders placed before it is turned on are not imported automatically.",
                number=number,
                day=typed,
                plugin=plugin.name,
            ),
            evidence,
        )
    # The same three sentences about the backfill's start or about Import Orders: whole sentences each.
    words = {"number": number, "day": typed, "line": line}
    if start >= line:
        if backfill_since is not None:
            message = said(
                "Order #%(number)s was placed on %(day)s, after the backfill from %(line)s.", **words
            )
        else:
            message = said(
                "Order #%(number)s was placed on %(day)s, after Import Orders was turned on (%(line)s).",
                **words,
            )
        return _passed(PLACED_AFTER_IMPORT_ENABLED, message, evidence)
    if end <= line:
        if backfill_since is not None:
            message = said(
                "Order #%(number)s was placed on %(day)s, before the backfill from %(line)s; older orders are "
                "not imported automatically.",
                **words,
            )
        else:
            message = said(
                "Order #%(number)s was placed on %(day)s, before Import Orders was turned on (%(line)s); "
                "older orders are not imported automatically.",
                **words,
            )
        return _failed(PLACED_AFTER_IMPORT_ENABLED, message, evidence)
    if backfill_since is not None:
        message = said(
            "Order #%(number)s was placed on %(day)s, the same day the backfill from %(line)s: whether it was "
            "before or after depends on the time of day, which only the platform's record of the order shows.",
            **words,
        )
    else:
        message = said(
            "Order #%(number)s was placed on %(day)s, the same day Import Orders was turned on (%(line)s): "
            "whether it was before or after depends on the time of day, which only the platform's record of "
            "the order shows.",
            **words,
        )
    return _unknown(PLACED_AFTER_IMPORT_ENABLED, message, evidence)


def rule_importable_state(order: SourceOrder) -> RuleResult:
    """Whether the platform's state lets the order import, in the words of its outcome.

    The outcome comes from the platform's table entry (``SourceOrder.outcome``):
    importable passes; not yet says what the order waits for; never says it
    will not import and what the merchant can still do. Evidence ``outcome``
    is what a diagnosis reads to decide whether the order may be watched.
    The platform's status is its own word (data, as the platform writes it);
    the reason is the platform table's, a message when that table says it as one.
    """
    evidence = {
        "state": order.state.value,
        "platform_status": order.platform_status,
        "outcome": order.outcome.value,
    }
    words = {"number": order.number, "status": order.platform_status, "reason": order.state_detail}
    if order.outcome == ImportOutcome.IMPORTABLE:
        return _passed(
            IMPORTABLE_STATE,
            said("Order #%(number)s is paid and confirmed on the platform (%(status)s).", **words),
            evidence,
        )
    evidence["detail"] = order.state_detail
    if order.outcome == ImportOutcome.NOT_YET:
        message = said(
            "Order #%(number)s is not ready to import yet (“%(status)s”): it is waiting for %(reason)s, "
            "and imports with the first sync after that.",
            **words,
        )
    else:
        message = said(
            "Order #%(number)s will not import: %(reason)s (“%(status)s”). If it is still wanted, "
            "create it by hand in Commerce Kitty.",
            **words,
        )
    return _failed(IMPORTABLE_STATE, message, evidence)


def rules_arrival(results: Iterable[RuleResult]) -> Arrival | None:
    """Whether an order kept out by these failed rules may still arrive by itself; None: someone must act.

    Its state on the platform decides when it will never import (NEVER) or
    may later (NOT_YET); a platform without the order has nothing to send
    (ABSENT); a throttle ends by itself (NOT_YET). Any other failed rule needs
    the merchant (Import Orders off, a missing SKU...): None.
    """
    found: set[Arrival | None] = set()
    for result in results:
        if not result.failed:
            continue
        if result.rule == IMPORTABLE_STATE:
            found.add(Arrival(result.evidence["outcome"]))
        elif result.rule == ORDER_FOUND:
            found.add(Arrival.ABSENT)
        elif result.rule == NOT_RATE_LIMITED:
            found.add(Arrival.NOT_YET)
        else:
            found.add(None)
    for decisive in (Arrival.NEVER, Arrival.ABSENT, None):
        if decisive in found:
            return decisive
    return Arrival.NOT_YET if found else None


NO_SKU = "(no SKU)"


def skus_missing(skus: Iterable[str], catalog: Mapping[str, int]) -> list[str]:
    """The SKUs the importer finds no product for (exact match), sorted; a line without one is NO_SKU."""
    return sorted({sku or NO_SKU for sku in skus if not sku or sku not in catalog})


def rule_skus_in_catalog(order: SourceOrder, catalog: Mapping[str, int] | AccountState) -> RuleResult:
    """Every line's SKU, exactly as the importer matches it; a near miss (case, spaces) is named."""
    state = catalog if isinstance(catalog, AccountState) else None
    skus = state.catalog if state is not None else catalog
    if not order.lines:
        return _failed(
            SKUS_IN_CATALOG,
            said("Order #%(number)s has no lines to import.", number=order.number),
            {"missing_skus": []},
            Notification.Kind.MISSING_PRODUCT,
        )
    missing = skus_missing([line.sku for line in order.lines], skus)
    if not missing:
        return _passed(
            SKUS_IN_CATALOG,
            said("Every SKU on order #%(number)s is in your catalog.", number=order.number),
            {"skus": sorted({line.sku for line in order.lines})},
        )
    folded = state.catalog_folded if state is not None else {sku_fold(code): code for code in skus}
    near = {sku: folded[sku_fold(sku)] for sku in missing if sku_fold(sku) in folded}
    # SKUs are the merchant's codes: listed as they are, with commas.
    words = {"number": order.number, "skus": ", ".join(missing)}
    if near:
        message = said_n(
            "Order #%(number)s has SKU %(skus)s that your catalog does not have. Did you mean a product that "
            "differs only in letter case or spaces? %(hints)s.",
            "Order #%(number)s has SKUs %(skus)s that your catalog does not have. Did you mean a product that "
            "differs only in letter case or spaces? %(hints)s.",
            len(missing),
            hints=_near_words(near),
            **words,
        )
    else:
        message = said_n(
            "Order #%(number)s has SKU %(skus)s that your catalog does not have.",
            "Order #%(number)s has SKUs %(skus)s that your catalog does not have.",
            len(missing),
            **words,
        )
    return _failed(
        SKUS_IN_CATALOG,
        message,
        {"missing_skus": missing, **({"near_matches": near} if near else {})},
        Notification.Kind.MISSING_PRODUCT,
    )


def _near_words(near: dict[str, str]):
    """ "“mug-red-404” is not “MUG-RED-404”", one such per near miss, separated by semicolons."""
    hints = [said("“%(sku)s” is not “%(code)s”", sku=sku, code=code) for sku, code in near.items()]
    words = hints[-1]
    for hint in reversed(hints[:-1]):
        words = said("%(first)s; %(rest)s", first=hint, rest=words)
    return words


def rule_buyer_complete(order: SourceOrder) -> RuleResult:
    buyer = order.buyer
    if not order.buyer_contact_shared:
        # Amazon, for one, shares neither without a Restricted Data Token: the
        # merchant cannot fix that, so it never stops an import.
        return _passed(
            BUYER_COMPLETE,
            said(
                "Order #%(number)s's platform does not share the buyer's e-mail or name; "
                "the customer is created from what it does share.",
                number=order.number,
            ),
            {"buyer_contact_shared": False},
        )
    empty = []
    if not buyer.email.strip() or "@" not in buyer.email:
        empty.append("email")
    if not (buyer.first_name.strip() or buyer.last_name.strip()):
        empty.append("name")
    if empty:
        if empty == ["email", "name"]:
            message = said(
                "Order #%(number)s's buyer has no email or name, so no customer record can be created.",
                number=order.number,
            )
        elif empty == ["email"]:
            message = said(
                "Order #%(number)s's buyer has no email, so no customer record can be created.",
                number=order.number,
            )
        else:
            message = said(
                "Order #%(number)s's buyer has no name, so no customer record can be created.",
                number=order.number,
            )
        return _failed(
            BUYER_COMPLETE,
            message,
            {"empty_fields": empty},
            Notification.Kind.MISSING_CUSTOMER_FIELDS,
        )
    return _passed(
        BUYER_COMPLETE, said("Order #%(number)s's buyer details are complete.", number=order.number)
    )


# --- The verdict --------------------------------------------------------------


@dataclass(frozen=True)
class ImportVerdict:
    """Every rule's result for one order: it imports when every one passed."""

    results: tuple[RuleResult, ...]

    @property
    def would_import(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def blockers(self) -> list[RuleResult]:
        return [r for r in self.results if r.failed]

    @property
    def unknowns(self) -> list[RuleResult]:
        return [r for r in self.results if r.unknown]

    def result(self, rule: str) -> RuleResult | None:
        return next((r for r in self.results if r.rule == rule), None)


class _NotFetched:
    """The order was not asked for (no order number, or the platform did not answer)."""

    def __repr__(self) -> str:
        return "NOT_FETCHED"


NOT_FETCHED = _NotFetched()


def plugin_rule_results(
    plugin: Plugin,
    state: AccountState,
    *,
    authorization: RuleResult | None = None,
    error: PlatformError | None = None,
) -> list[RuleResult]:
    """The plugin rules. ``authorization``: the platform's answer when asked; ``error``: what asking met."""
    results = [rule_import_orders_on(plugin), rule_exactly_one_channel(plugin, state.channels)]
    met = error if isinstance(error, RateLimited) else None
    rate = rule_not_rate_limited(plugin, state.now, met=met)
    heard = authorization is not None or (error is None or isinstance(error, NotAuthorized))
    if rate.passed and not heard:
        rate = _unknown(
            NOT_RATE_LIMITED,
            said(
                "Couldn't ask whether the platform is throttling “%(plugin)s”: it did not answer.",
                plugin=plugin.name,
            ),
            {"platform_says": str(error)},
        )
    results.append(rate)
    if isinstance(error, NotAuthorized):
        authorization = authorization_refused(plugin, error)
    if authorization is None:
        if error is None:
            authorization = _unknown(
                AUTHORIZED,
                said(
                    "The platform was not asked whether it accepts “%(plugin)s”'s authorization.",
                    plugin=plugin.name,
                ),
            )
        elif met:
            authorization = _unknown(
                AUTHORIZED,
                said(
                    "Couldn't ask the platform whether it accepts “%(plugin)s”'s authorization: it is throttling "
                    "the plugin.",
                    plugin=plugin.name,
                ),
                {"platform_says": str(error)},
            )
        else:
            authorization = _unknown(
                AUTHORIZED,
                said(
                    "Couldn't ask the platform whether it accepts “%(plugin)s”'s authorization: it did not answer.",
                    plugin=plugin.name,
                ),
                {"platform_says": str(error)},
            )
    results.append(authorization)
    return results


def order_rule_results(
    plugin: Plugin,
    order: SourceOrder | UnreadableOrder | None | _NotFetched,
    state: AccountState,
    *,
    number: str = "",
    backfill_since: datetime | None = None,
    placed_on_typed: date | None = None,
    why_not_fetched: Said | str = "",
) -> list[RuleResult]:
    """The order rules, each passed, failed, or unknown when there is no order to judge."""
    number = getattr(order, "number", "") or number
    # An order the platform does not have leaves nothing else to judge: the rules
    # left unknown follow from that one failure, they are not a cause of their own.
    consequence = {FOLLOWS_FROM: ORDER_FOUND} if order is None else None
    if order is NOT_FETCHED or order is None or isinstance(order, UnreadableOrder):
        if order is NOT_FETCHED:
            why = why_not_fetched or said("the order was not looked up")
            results = [
                _unknown(
                    ORDER_FOUND,
                    said(
                        "Couldn't look order #%(number)s up on the platform: %(why)s.", number=number, why=why
                    ),
                )
            ]
        elif order is None:
            results = [rule_order_found(plugin, number, None)]
        else:
            results = [
                rule_order_found(plugin, number, order),
                order_unreadable(order.number, order.reason, {"source_order_id": order.id}),
            ]
        if placed_on_typed is not None:
            results.append(
                rule_placed_on_typed_day(
                    plugin, number=number, day=placed_on_typed, backfill_since=backfill_since
                )
            )
        else:
            why = why_not_fetched or said("the order was not looked up")
            if order is None:
                why = said("the platform has no such order")
            elif isinstance(order, UnreadableOrder):
                why = said("the platform's answer could not be read")
            results.append(
                _unknown(
                    PLACED_AFTER_IMPORT_ENABLED,
                    said("When order #%(number)s was placed is unknown: %(why)s.", number=number, why=why),
                    consequence,
                )
            )
        unjudged = (IMPORTABLE_STATE, SKUS_IN_CATALOG, BUYER_COMPLETE)
        if not isinstance(order, UnreadableOrder):
            unjudged = (ORDER_READABLE, *unjudged)
        results += [
            _unknown(
                rule,
                said("Order #%(number)s could not be judged: the platform did not show it.", number=number),
                consequence,
            )
            for rule in unjudged
        ]
        return results
    return [
        rule_order_found(plugin, number, order),
        _passed(
            ORDER_READABLE,
            said("Order #%(number)s is in a form Commerce Kitty can read.", number=order.number),
        ),
        rule_placed_after_import_enabled(
            plugin, number=order.number, placed_at=order.placed_at, backfill_since=backfill_since
        ),
        rule_importable_state(order),
        rule_skus_in_catalog(order, state),
        rule_buyer_complete(order),
    ]


def import_verdict(
    plugin: Plugin,
    order: SourceOrder | UnreadableOrder | None | _NotFetched,
    state: AccountState,
    *,
    number: str = "",
    authorization: RuleResult | None = None,
    error: PlatformError | None = None,
    backfill_since: datetime | None = None,
    placed_on_typed: date | None = None,
    plugin_results: list[RuleResult] | None = None,
) -> ImportVerdict:
    """What the importer does with ``order`` (as the platform reports it now) and the account as it is.

    ``order`` is the platform's answer: an order, an unreadable one, None
    (the platform has no such order) or NOT_FETCHED (it was not asked, or
    ``error`` is what asking met). ``authorization`` is the platform's
    answer to "do you accept these credentials?" when it was asked.
    ``plugin_results`` lets the importer pass the plugin rules it already
    asked once for the whole sync. Pure: reads only what it is given.
    """
    if plugin_results is None:
        plugin_results = plugin_rule_results(plugin, state, authorization=authorization, error=error)
    why: Said | str = ""
    if isinstance(error, RateLimited):
        why = said("the platform is throttling the plugin")
    elif isinstance(error, NotAuthorized):
        why = said("the platform does not accept the plugin's authorization")
    elif error is not None:
        why = said("the platform did not answer (%(platform_says)s)", platform_says=platform_says(error))
    elif authorization is not None and authorization.failed:
        why = said("the platform does not accept the plugin's authorization")
    return ImportVerdict(
        (
            *plugin_results,
            *order_rule_results(
                plugin,
                order,
                state,
                number=number,
                backfill_since=backfill_since,
                placed_on_typed=placed_on_typed,
                why_not_fetched=why,
            ),
        )
    )
