"""The check set and checks of "An Order Imported Twice", one per step, each judging one rule of
``importing.duplicates``.

Step 2 (the plugin's authorization) is the first article's ``plugin_authorized``:
the cause is the same, so the set lets a step attach it and the article binds it
(``content/order-imported-twice.checks``).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.checks.base import ARRIVAL_KEY, Arrival, Check, CheckContext, Fix, InputError, Outcome
from apps.checks.registry import register
from apps.checks.sets import SummaryWords, TypedInput, register_set
from apps.platforms.base import NotAuthorized, PlatformError, RateLimited, SourceOrder
from kitty_troubleshoot.params import int_param
from kitty_troubleshoot.said import Said, said, said_p

from .. import importing
from ..importing import duplicates, rules
from ..importing.duplicates import OrderCopies, SharedConnection, TwinKind
from ..importing.rules import RuleResult
from ..models import Plugin
from ..order_inputs import clean_order_number
from ..wording import names_words
from .dry_run import INTERACTIVE_TIMEOUT, _plugin, order_number_of, step_named
from .order_import import OrderOnPlugin

ARTICLE = "An Order Imported Twice"

# The checks whose steps explain each kind of copy (named by title: articles number their steps their own way).
CHECKS_OF_KIND = {
    TwinKind.SAME_PLATFORM_ORDER: ("store_connected_twice", "history_imported_again"),
    TwinKind.MADE_BY_HAND: ("order_created_by_hand",),
    TwinKind.PLATFORM_TWICE: ("platform_has_two_orders",),
}


def _see(kind: TwinKind) -> Said:
    """ "see the step “…”", or "see the steps “…” and “…”", for one kind of copy."""
    names = [step_named(key) for key in CHECKS_OF_KIND[kind]]
    if len(names) == 1:
        return said("see the step %(step)s", step=names[0])
    listed = said("%(first)s and %(last)s", first=names[-2], last=names[-1])
    for name in reversed(names[:-2]):
        listed = said("%(first)s, %(rest)s", first=name, rest=listed)
    return said("see the steps %(steps)s", steps=listed)


# What a second copy is, by its kind, in the line that names it ("#7001, …: %(what)s (see the step …).").
KIND_WORDS = {
    TwinKind.SAME_PLATFORM_ORDER: said("the same platform order through another plugin"),
    TwinKind.MADE_BY_HAND: said("an order created by hand"),
    TwinKind.PLATFORM_TWICE: said("a second order on the platform"),
}
# How a plugin's last known authorization reads beside its name.
AUTHORIZATION_WORDS = {
    Plugin.Authorization.AUTHORIZED: said_p("a plugin's authorization, beside its name", "authorized"),
    Plugin.Authorization.REVOKED: said_p(
        "a plugin's authorization, beside its name", "lost its authorization"
    ),
    Plugin.Authorization.UNKNOWN: said_p(
        "a plugin's authorization, beside its name", "authorization not checked yet"
    ),
}


def _number(ctx: CheckContext) -> str:
    """The order number the merchant typed, as the plugin's platform writes it ("" when none was)."""
    return order_number_of(ctx)


def _copies(ctx: CheckContext, replaces: dict[str, str] | None = None) -> OrderCopies:
    """The copies of the merchant's order, read once per task (and again with what the platform said)."""
    number = _number(ctx)
    key = f"twice:copies:{ctx.subject_id}:{number}:{sorted((replaces or {}).items())}"
    return ctx.memo(
        key,
        lambda: duplicates.order_copies(ctx.merchant_id, number, plugin_id=ctx.subject_id, replaces=replaces),
    )


def _connections(ctx: CheckContext, plugin: Plugin) -> list[SharedConnection]:
    return ctx.memo(f"twice:connections:{plugin.pk}", lambda: duplicates.store_connections(plugin))


def _not_here(copies: OrderCopies) -> Outcome:
    """A step about the order's copies, for an order that is not in Commerce Kitty at all."""
    return Outcome.unknown(
        said(
            "Order #%(number)s is not in Commerce Kitty, so there is no second copy to look at.",
            number=copies.number,
        ),
        said("Check the number as Commerce Kitty shows it, and the plugin it came in through."),
        data={"copies": 0},
    )


def _outcome(result: RuleResult, *evidence: str, **kwargs) -> Outcome:
    """A rule's result as a step's outcome: its sentence first, then what to do."""
    data = {"rule": result.rule, **result.evidence, **kwargs.pop("data", {})}
    make = {"passed": Outcome.passed, "failed": Outcome.failed, "unknown": Outcome.unknown}[
        result.status.value
    ]
    return make(result.message, *evidence, data=data, **kwargs)


@register
class OrderImportedTwice(Check):
    key = "order_imported_twice"
    title = said("In Commerce Kitty more than once?")
    description = said(
        "Finds every copy of the order in Commerce Kitty: through each plugin, created by hand, or a "
        "second order the platform holds for the same purchase."
    )
    article = ARTICLE
    step = None
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        copies = _copies(ctx)
        result = duplicates.rule_in_commerce_kitty_once(copies)
        if copies.anchor is None:
            # Nothing in Commerce Kitty to have come in twice: the steps have no copy to judge.
            return _outcome(
                result,
                said("Check the number as Commerce Kitty shows it, and the plugin it came in through."),
                data={ARRIVAL_KEY: Arrival.ABSENT.value},
            )
        lines = []
        if copies.twins:
            lines.append(said("%(copy)s.", copy=duplicates.copy_words(copies.anchor)))
            lines += [
                said(
                    "%(copy)s: %(what)s (%(see)s).",
                    copy=duplicates.copy_words(t.copy),
                    what=KIND_WORDS[t.kind],
                    see=_see(t.kind),
                )
                for t in copies.twins
            ]
        lines += [
            said(
                "%(copy)s: another order with the same number (another store or buyer), not a copy.",
                copy=duplicates.copy_words(copy),
            )
            for copy in copies.unrelated
        ]
        return _outcome(result, *lines)


@register
class StoreConnectedTwice(Check):
    key = "store_connected_twice"
    title = said("Store connected through two plugins?")
    description = said(
        "Looks for another plugin that imported the same platform orders as this one (the same store, "
        "connected twice) and whether both still import orders."
    )
    article = ARTICLE
    step = 1
    fix_notes = (
        said(
            "Keep one connection importing: Import Orders off on the others, the owner picks which (owners only)"
        ),
    )

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        connections = _connections(ctx, plugin)
        result = duplicates.rule_store_connected_once(plugin, connections)
        came_in_twice = self._came_in_through(ctx)
        if not result.failed:
            # Fixed from now on; the copies that came in before stay until the merchant cancels one.
            before = (
                [
                    said(
                        "Order #%(number)s came in through %(plugins)s before only one connection imported: "
                        "cancel the copy you do not keep; orders from now on come in once.",
                        **came_in_twice,
                    )
                ]
                if came_in_twice
                else []
            )
            return _outcome(result, *before, *duplicates.store_once_notes(connections))
        evidence = (
            [said("Order #%(number)s came in through %(plugins)s.", **came_in_twice)] if came_in_twice else []
        )
        importing_now = [plugin, *self._importing(plugin, connections)]
        evidence += [
            said(
                "“%(plugin)s” imports orders since %(moment)s; %(authorization)s.",
                plugin=p.name,
                moment=p.import_orders_enabled_at,
                authorization=AUTHORIZATION_WORDS[p.authorization_status],
            )
            for p in importing_now
        ]
        evidence.append(
            said(
                "Keep one of them importing and turn Import Orders off on the other; no order is deleted. "
                "Keep the one that is authorized, or reauthorize it (the step %(step)s).",
                step=step_named("plugin_authorized"),
            )
        )
        fix = Fix(
            "keep_one_connection",
            said("Keep one connection importing"),
            said(
                "Turns Import Orders off on the other plugins connected to this store. Their orders stay in "
                "Commerce Kitty."
            ),
            owner_only=True,
            choices=tuple((str(p.pk), self._choice_label(p)) for p in importing_now),
            choice_label=said("Connection to keep"),
        )
        return _outcome(result, *evidence, fixes=(fix,))

    @staticmethod
    def _came_in_through(ctx: CheckContext) -> dict:
        """The typed order and the plugins it came in through, when it did through two connections; else {}."""
        if not _number(ctx):
            return {}
        copies = _copies(ctx)
        through = [t.copy.plugin_name for t in copies.of_kind(TwinKind.SAME_PLATFORM_ORDER)]
        if copies.anchor is None or not through:
            return {}
        return {"number": copies.number, "plugins": names_words([copies.anchor.plugin_name, *through])}

    @staticmethod
    def _importing(plugin: Plugin, connections: list[SharedConnection]) -> list[Plugin]:
        ids = [c.plugin_id for c in connections if c.import_orders]
        rows = Plugin.objects.filter(merchant_id=plugin.merchant_id, pk__in=ids, import_orders=True)
        return sorted(rows, key=lambda p: ids.index(p.pk))

    @staticmethod
    def _choice_label(plugin: Plugin) -> Said:
        return said(
            "%(plugin)s: %(authorization)s",
            plugin=plugin.name,
            authorization=AUTHORIZATION_WORDS[plugin.authorization_status],
        )

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "keep_one_connection":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        # Read afresh, not from this task's memo: another fix may have turned a connection off since.
        group = [plugin, *self._importing(plugin, duplicates.store_connections(plugin))]
        keep = next((p for p in group if p.pk == int_param(choice) and p.import_orders), None)
        if keep is None:
            raise InputError(
                "fix", said("That plugin does not import orders from this store any more. Check again.")
            )
        turned_off = []
        for other in group:
            if other.pk != keep.pk and other.import_orders:
                other.import_orders = False
                other.save(update_fields=["import_orders"])
                turned_off.append(other.name)
        if not turned_off:
            return said("Only “%(plugin)s” imports orders from its store already.", plugin=keep.name)
        return said(
            "“%(plugin)s” keeps importing orders from its store; Import Orders is off on %(others)s. "
            "No order was deleted.",
            plugin=keep.name,
            others=names_words(turned_off),
        )


@register
class HistoryImportedAgain(Check):
    key = "history_imported_again"
    title = said("History imported again by a plugin added again?")
    description = said(
        "Looks for a Sync historical orders that imported orders another plugin of the same store had "
        "already imported (a plugin removed and added again)."
    )
    article = ARTICLE
    step = 3

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        connections = _connections(ctx, plugin)
        copies = _copies(ctx) if _number(ctx) else None
        if copies is not None and copies.anchor is None:
            return _not_here(copies)
        result = duplicates.rule_history_imported_once(plugin, connections, copies)
        if not result.failed:
            found = duplicates.history_again(plugin, connections) if copies is not None else None
            return _outcome(result, *([found[0]] if found else []))
        evidence = [
            said(
                "Keep one copy of each of these orders, the older one: it carries what happened to the order "
                "since. Cancel the copies Sync historical orders brought in."
            ),
            said(
                "Next time a plugin loses its connection, reauthorize it (the step %(step)s) instead of adding "
                "it again.",
                step=step_named("plugin_authorized"),
            ),
        ]
        if plugin.import_orders and any(c.import_orders for c in connections):
            evidence.insert(
                0,
                said(
                    "Both plugins still import orders, so new orders come in twice too: see the step %(step)s.",
                    step=step_named("store_connected_twice"),
                ),
            )
        return _outcome(result, *evidence)


@register
class OrderCreatedByHand(Check):
    key = "order_created_by_hand"
    title = said("Also created by hand?")
    description = said(
        "Looks for an order created by hand (the order wizard) that an import later brought in from the "
        "platform, or the other way round."
    )
    article = ARTICLE
    step = 4
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        copies = _copies(ctx)
        if copies.anchor is None:
            return _not_here(copies)
        result = duplicates.rule_not_created_by_hand(copies)
        if not result.failed:
            return _outcome(result)
        return _outcome(
            result,
            said("They match on %(matched_on)s.", matched_on=result.evidence["matched_on"]),
            said(
                "Keep the imported order: it stays tied to the platform's order. Cancel the one created by hand."
            ),
            said(
                "An order that did not import comes in by itself once what kept it out is fixed, or with Sync "
                "historical orders: create one by hand only when neither can bring it."
            ),
        )


@register
class PlatformHasTwoOrders(Check):
    key = "platform_has_two_orders"
    title = said("Two orders on the platform?")
    description = said(
        "Asks the platform about the order (is it a replacement of another?) and looks for a second order "
        "of the same buyer and items through the same plugin."
    )
    article = ARTICLE
    step = 5
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        copies = _copies(ctx)
        anchor = copies.anchor
        if anchor is None:
            return _not_here(copies)
        if anchor.by_hand:
            return Outcome.passed(
                said(
                    "Order #%(number)s in Commerce Kitty was created by hand: the platform did not send it "
                    "(see the step %(step)s).",
                    number=copies.number,
                    step=step_named(OrderCreatedByHand.key),
                )
            )
        plugin = Plugin.objects.filter(merchant_id=ctx.merchant_id, pk=anchor.plugin_id).first()
        try:
            replaces, live = self._replacements(ctx, plugin, copies)
        except RateLimited as exc:
            if not ctx.read_only:
                importing.plugin_rate_limit_record(plugin, exc, now=timezone.now(), attempt=False)
            rate = rules.rule_not_rate_limited(plugin, met=exc)
            return Outcome.unknown(
                said(
                    "Couldn't ask the platform about order #%(number)s: %(verdict)s",
                    number=copies.number,
                    verdict=rate.message,
                ),
                data={"retry_at": rate.evidence.get("until")},
            )
        except NotAuthorized as exc:
            if not ctx.read_only:
                refused = rules.authorization_refused(plugin, exc)
                importing.plugin_authorization_record(plugin, refused, now=timezone.now())
            return Outcome.unknown(
                said(
                    "Couldn't ask the platform about order #%(number)s: it does not accept “%(plugin)s”'s "
                    "authorization (see the step %(step)s).",
                    number=copies.number,
                    plugin=plugin.name,
                    step=step_named("plugin_authorized"),
                )
            )
        except PlatformError as exc:
            return Outcome.unknown(
                said(
                    "Couldn't ask the platform about order #%(number)s: it did not answer (%(platform_says)s).",
                    number=copies.number,
                    platform_says=rules.platform_says(exc),
                ),
                said("Try again in a few minutes."),
            )
        if replaces:
            copies = _copies(ctx, replaces)
        result = duplicates.rule_platform_holds_one_order(copies)
        evidence = []
        if live is None:
            evidence.append(
                said(
                    "The platform no longer shows order #%(number)s through “%(plugin)s”.",
                    number=copies.number,
                    plugin=plugin.name,
                )
            )
        if result.failed and "replacement" in result.evidence:
            evidence.append(
                said(
                    "A replacement is a real order on the platform, shipped to the buyer at no charge: keep both "
                    "in Commerce Kitty and fulfil the replacement as the platform asks."
                )
            )
        elif result.failed:
            evidence.append(
                said(
                    "Open both on the platform. If one re-creates the other (for example a draft order "
                    "re-creating a mistaken order), cancel the one you do not want there and in Commerce "
                    "Kitty. If the buyer really ordered twice, keep both."
                )
            )
        return _outcome(result, *evidence)

    @staticmethod
    def _replacements(
        ctx: CheckContext, plugin: Plugin, copies: OrderCopies
    ) -> tuple[dict[str, str], SourceOrder | None]:
        """What the platform says of the order and of the few that may replace it (one fetch each per task)."""

        def fetch() -> tuple[dict[str, str], SourceOrder | None]:
            client = plugin.client(timeout=INTERACTIVE_TIMEOUT)
            live = client.get_order(copies.anchor.number)
            replaces = {live.id: live.replaces} if live is not None and live.replaces else {}
            for candidate in duplicates.possible_replacements(copies):
                other = client.get_order(candidate.number)
                if other is not None and other.replaces:
                    replaces[other.id] = other.replaces
            return replaces, live

        return ctx.memo(f"twice:platform:{plugin.pk}:{copies.number}", fetch)


# --- The article's check set -----------------------------------------------------------

ORDER_NUMBER = TypedInput(
    "order_number",
    said("Order number"),
    clean_order_number,
    placeholder=said("e.g. #1001"),
    missing=said("Type the number of the order you see twice (as Commerce Kitty shows it)."),
    identifies=True,
)


@register_set
class OrderImportedTwiceSet(OrderOnPlugin):
    """An order seen twice, looked at through the plugin it came in through; nothing to watch for."""

    key = "order-imported-twice"
    title = ARTICLE
    inputs = (ORDER_NUMBER,)
    subject_missing = said("Choose the plugin the order came in through.")
    before_step_one = OrderImportedTwice.key
    check_keys = (
        StoreConnectedTwice.key,
        "plugin_authorized",
        HistoryImportedAgain.key,
        OrderCreatedByHand.key,
        PlatformHasTwoOrders.key,
    )
    words = SummaryWords(
        about=gettext_noop("order #%(reference)s"),
        already_here=gettext_noop(
            "Order #%(reference)s is in Commerce Kitty once: there is no second copy to explain."
        ),
        already_here_then=gettext_noop(
            "So the steps below do not apply. If you see two orders, check the other one's number too."
        ),
        keeps_out=gettext_noop("Step %(step)s explains the second copy: %(verdict)s"),
        all_passed_then=gettext_noop(
            "If you still see the order twice, open a support ticket: it will carry this diagnosis."
        ),
    )
