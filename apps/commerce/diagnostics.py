"""The order-import checks behind "An Order Did Not Import": a dry run of the importer.

A diagnosis fetches the order from the platform once, judges it with the
importer's own ``import_verdict`` and the account as it is now, and each
step shows the rules it is about (``RULES_BY_CHECK``). So no step can pass
while its rule keeps the order out, and no check can disagree with the
importer. Registered into ``apps.checks`` at startup.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from apps.checks.base import ARRIVAL_KEY, Arrival, Check, CheckContext, Fix, InputError, Outcome
from apps.checks.base import Membership as CheckMembership
from apps.checks.registry import register, set_account_directory
from apps.checks.words import duration_words
from apps.platforms.base import (
    MalformedOrder,
    NotAuthorized,
    OrderNumberProblem,
    PlatformError,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from apps.platforms.registry import provider
from kitty_troubleshoot.celery import is_broker_error
from kitty_troubleshoot.params import int_param

from . import importing
from .importing import rules
from .importing.rules import NOT_FETCHED, ImportVerdict, RuleResult
from .models import Membership, Merchant, Notification, Order, Plugin, SyncRun
from .selectors import reauthorize_supported
from .services import SYNC_NOW_FOLLOW, plugin_sync_now_enqueue, plugin_sync_now_pending

NOTIFICATION_WINDOW = timedelta(days=30)
# A merchant is waiting: platform calls from a check give up well inside the
# check task's 20 s soft time limit, even with two calls in one diagnosis.
INTERACTIVE_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# "Sync historical orders" imports for this long while the merchant waits (the
# order in question comes first: orders are listed oldest first from just
# before it); a background sync carries on with the rest.
BACKFILL_INLINE_SECONDS = 8.0

logger = logging.getLogger(__name__)
# Step 4's history: earlier notifications of these kinds, each checked again now.
STEP_4_KINDS = (
    Notification.Kind.MISSING_PRODUCT,
    Notification.Kind.MISSING_CUSTOMER_FIELDS,
    Notification.Kind.RATE_LIMIT,
    Notification.Kind.UNREADABLE_ORDER,
)
# The check whose step explains an importer's notification (the inbox links to it).
CHECK_OF_NOTIFICATION = {
    **dict.fromkeys(STEP_4_KINDS, "plugin_errors"),
    Notification.Kind.AUTHORIZATION: "plugin_authorized",
    Notification.Kind.CHANNEL_CONFLICT: "plugin_on_one_channel",
}

# Which of the importer's rules each check (each step of the article) judges.
# Every rule belongs to exactly one check, so a blocking rule always fails a step.
RULES_BY_CHECK = {
    "import_orders_enabled": (rules.IMPORT_ORDERS_ON,),
    "plugin_on_one_channel": (rules.EXACTLY_ONE_CHANNEL,),
    "order_age": (rules.PLACED_AFTER_IMPORT_ENABLED,),
    "plugin_errors": (
        rules.NOT_RATE_LIMITED,
        rules.ORDER_READABLE,
        rules.SKUS_IN_CATALOG,
        rules.BUYER_COMPLETE,
    ),
    "plugin_authorized": (rules.AUTHORIZED,),
    "source_order_state": (rules.ORDER_FOUND, rules.IMPORTABLE_STATE),
}
CHECK_OF_RULE = {rule: key for key, owned in RULES_BY_CHECK.items() for rule in owned}


# --- Who may check what ---------------------------------------------------------


class CommerceAccounts:
    """The checks framework's view of Commerce Kitty accounts: plugins are the subjects."""

    def memberships_for(self, user) -> list[CheckMembership]:
        if not getattr(user, "is_authenticated", False):
            return []
        # The oldest membership first: the account a user works in until they choose another.
        rows = (
            Membership.objects.filter(user=user)
            .order_by("pk")
            .values_list("merchant_id", "role", "merchant__name")
        )
        return [_check_membership(*row) for row in rows]

    def membership_for(self, user, merchant_id: int | None = None) -> CheckMembership | None:
        if not getattr(user, "is_authenticated", False):
            return None
        rows = Membership.objects.filter(user=user)
        if merchant_id is not None:
            rows = rows.filter(merchant_id=merchant_id)
        row = rows.order_by("pk").values_list("merchant_id", "role", "merchant__name").first()
        return _check_membership(*row) if row is not None else None

    def subject_choices(self, merchant_id: int) -> list[tuple[int, str]]:
        return list(Plugin.objects.filter(merchant_id=merchant_id).order_by("name").values_list("pk", "name"))

    def subject_label(self, merchant_id: int, subject_id: int) -> str | None:
        found = self.subject_for(merchant_id, subject_id, "")
        return found[0] if found else None

    def subject_for(self, merchant_id: int, subject_id: int, typed: str) -> tuple[str, str] | None:
        found = (
            Plugin.objects.filter(merchant_id=merchant_id, pk=subject_id)
            .values_list("name", "platform")
            .first()
        )
        if found is None:
            return None
        name, platform = found
        if not typed:
            return name, typed
        try:
            return name, provider(platform).order_number(typed)
        except OrderNumberProblem as exc:
            raise InputError("order_number", str(exc)) from None

    def merchant_name_expression(self, merchant_id_field: str = "merchant_id"):
        """The merchant's name for a row that stores only its id, as a query expression (admin lists)."""
        return Subquery(Merchant.objects.filter(pk=OuterRef(merchant_id_field)).values("name")[:1])

    def merchant_ids_named(self, text: str) -> list[int]:
        return list(Merchant.objects.filter(name__icontains=text.strip()).values_list("pk", flat=True)[:500])

    def preview_account(self, editor, *, rebuild: bool = False) -> int:
        """The sandbox account ``editor``'s previews check, built the first time (or again, on ``rebuild``)."""
        from .demo import preview_sandbox_build

        with transaction.atomic():
            # One build at a time per editor: two preview tabs opened together share one sandbox.
            get_user_model().objects.select_for_update().filter(pk=editor.pk).values_list("pk").first()
            merchant_id = Merchant.objects.filter(preview_editor=editor).values_list("pk", flat=True).first()
            if merchant_id is None or rebuild:
                merchant_id = preview_sandbox_build(editor=editor).pk
        return merchant_id

    def preview_examples(self) -> list[tuple[str, str, str]]:
        """(order number, plugin, what is wrong with it) for each cause the sandbox reproduces."""
        from .demo import ORDERS, PLUGINS

        plugins = {p.store: p.name for p in PLUGINS}
        return [(o.number, plugins[o.store], o.what_is_wrong) for o in ORDERS]


def _check_membership(merchant_id: int, role: str, merchant_name: str) -> CheckMembership:
    return CheckMembership(
        merchant_id=merchant_id,
        is_owner=role == Membership.Role.OWNER,
        role=role,
        merchant_name=merchant_name,
    )


set_account_directory(CommerceAccounts())


# --- One dry run per diagnosis task ------------------------------------------------


def _plugin(ctx: CheckContext) -> Plugin:
    """The plugin, read once per task: a fix clears what the task read (``ctx.shared``), and what a
    check records on it (a throttle met, the authorization seen) is set on this same object too."""

    def read() -> Plugin:
        # Its channels with it: the account's rules and the platform's verdict both ask for them.
        plugin = (
            Plugin.objects.filter(merchant_id=ctx.merchant_id, pk=ctx.subject_id)
            .prefetch_related("channels")
            .first()
        )
        if plugin is None:
            raise InputError("subject", "That plugin is no longer in your account. Choose another.")
        return plugin

    return ctx.memo(f"plugin:{ctx.subject_id}", read)


def _imported_order(ctx: CheckContext) -> Order | None:
    if not ctx.order_number:
        return None
    return (
        Order.objects.filter(merchant_id=ctx.merchant_id, plugin_id=ctx.subject_id, number=ctx.order_number)
        .select_related("channel")
        .first()
    )


def _imported_order_seen(ctx: CheckContext) -> Order | None:
    """The imported order as this task's checks first saw it (one query for every step that asks).

    Fixes read it afresh (``_imported_order``): a sync they run may import it.
    """
    return ctx.memo(f"imported:{ctx.subject_id}:{ctx.order_number}", lambda: _imported_order(ctx))


def account_verdict(ctx: CheckContext, plugin: Plugin) -> ImportVerdict:
    """The rules the account alone decides (Import Orders, channels), without asking the platform."""
    return ctx.memo(
        f"verdict:account:{plugin.pk}",
        lambda: importing.import_verdict(
            plugin,
            NOT_FETCHED,
            rules.AccountState.for_order(plugin, None),
            number=ctx.order_number,
            authorization=None,
        ),
    )


def live_verdict(ctx: CheckContext, plugin: Plugin) -> ImportVerdict:
    """The importer's verdict on the order as the platform reports it now, fetched once per task.

    The platform is asked for the order first. An order it hands over in
    full also says it accepts the plugin's credentials: each client's
    authorization check is its cheapest call that needs access to orders,
    and reading an order needs the same, so that is one request instead of
    two. Without such an order (no number, none found, which a client may
    answer without asking for a number its platform cannot have, or one in
    a shape we cannot read) the platform is asked about the credentials
    too. What either call meets (throttling, no answer) becomes the rules'
    "couldn't check", never a pass.
    """

    def dry_run() -> ImportVerdict:
        client = plugin.client(timeout=INTERACTIVE_TIMEOUT)
        authorization, error = None, None
        order: SourceOrder | UnreadableOrder | None | object = NOT_FETCHED
        try:
            if ctx.order_number:
                try:
                    order = client.get_order(ctx.order_number)
                except MalformedOrder as exc:
                    # The platform answered, but this order is in a shape we cannot read: the
                    # importer skips such an order too (rule "order_readable").
                    order = UnreadableOrder(id="", number=ctx.order_number, reason=str(exc))
            if isinstance(order, SourceOrder):
                authorization = rules.authorization_accepted(plugin)
            else:
                authorization = importing.rule_authorized(plugin, client)
                if not authorization.passed:
                    order = NOT_FETCHED  # what the platform said of the order is not to be trusted then
        except NotAuthorized as exc:  # refused while asked for the order
            authorization, order = rules.authorization_refused(plugin, exc), NOT_FETCHED
        except MalformedOrder as exc:
            # The answer about the credentials was in a shape we cannot read either.
            order = UnreadableOrder(id="", number=ctx.order_number, reason=str(exc))
        except PlatformError as exc:
            # Met by either call. Without the credentials answered, "no such order" is not judged either.
            error, order = exc, NOT_FETCHED
            if isinstance(exc, RateLimited) and not ctx.read_only:
                # What the importer would record too: the next sync and the other steps wait it out.
                importing.plugin_rate_limit_record(plugin, exc, now=timezone.now(), attempt=False)
        if authorization is not None and not ctx.read_only:
            importing.plugin_authorization_record(plugin, authorization, now=timezone.now())
        return importing.import_verdict(
            plugin,
            order,
            rules.AccountState.for_order(plugin, None if order is NOT_FETCHED else order),
            number=ctx.order_number,
            authorization=authorization,
            error=error,
            placed_on_typed=ctx.placed_date,
        )

    return ctx.memo(f"verdict:live:{plugin.pk}:{ctx.order_number}", dry_run)


def _retry_data(verdict: ImportVerdict) -> dict:
    """When checking again can tell more: the end of the platform's throttling, when it said."""
    rate = verdict.result(rules.NOT_RATE_LIMITED)
    if rate is not None and rate.failed and rate.evidence.get("until"):
        return {"retry_at": rate.evidence["until"]}
    return {}


def step_outcome(verdict: ImportVerdict, check_key: str, **kwargs) -> Outcome:
    """What one step says of its rules: failed if any blocks, couldn't check if any is unknown."""
    owned = [r for r in verdict.results if r.rule in RULES_BY_CHECK[check_key]]
    failed = [r for r in owned if r.failed]
    unknown = [r for r in owned if r.unknown]
    evidence = list(kwargs.pop("evidence", ()))
    data = {"rules": {r.rule: r.status.value for r in owned}, **kwargs.pop("data", {})}
    if failed:
        arrival = rules.rules_arrival(failed)
        if arrival is not None:
            data[ARRIVAL_KEY] = arrival.value
        return Outcome.failed(
            failed[0].message, *[r.message for r in failed[1:]], *evidence, data=data, **kwargs
        )
    if unknown:
        data.update(_retry_data(verdict))
        causes = {r.evidence.get(rules.FOLLOWS_FROM) for r in unknown}
        if len(causes) == 1 and (cause := verdict.result(causes.pop() or "")) is not None and cause.failed:
            data["follows_from"] = CHECK_OF_RULE[cause.rule]
        # The first unknown rule says why; the others could not be judged for the same reason.
        return Outcome.unknown(unknown[0].message, *evidence, *_unknown_advice(verdict), data=data)
    return Outcome.passed(owned[0].message, *[r.message for r in owned[1:]], *evidence, data=data, **kwargs)


def _arrival_data(blockers) -> dict:
    """Whether the order may still arrive by itself though these rules keep it out now (none: a sync brings it)."""
    arrival = rules.rules_arrival(blockers) if blockers else Arrival.NOT_YET
    return {ARRIVAL_KEY: arrival.value} if arrival is not None else {}


def _unknown_advice(verdict: ImportVerdict) -> list[str]:
    """What to do about a rule that could not be judged, from why it could not."""
    rate = verdict.result(rules.NOT_RATE_LIMITED)
    auth = verdict.result(rules.AUTHORIZED)
    if rate is not None and rate.failed:
        return [f"{rate.message} See Step 4; check again after that."]
    if auth is not None and auth.failed:
        return ["The platform does not accept the plugin's authorization: see Step 5 (Reauthorize)."]
    if (rate is not None and rate.unknown) or (auth is not None and auth.unknown):
        return ["The platform did not answer. Try again in a few minutes."]
    return []


def _already_imported(ctx: CheckContext) -> Outcome | None:
    """Passed, with where and when, if the order is in Commerce Kitty; None if it is not."""
    order = _imported_order_seen(ctx)
    if order is None:
        return None
    return Outcome.passed(
        f"Order #{order.number} is already in Commerce Kitty.",
        f"Imported {_when(order.imported_at)} into the channel {order.channel.name}.",
        data={"order_id": order.pk, "imported_at": order.imported_at.isoformat()},
    )


def _when(moment: datetime | None) -> str:
    return importing.when(moment)


# --- The checks -------------------------------------------------------------------

# The article these checks were written for (its steps' numbers are in each check).
ARTICLE = "An Order Did Not Import"


@register
class OrderAlreadyImported(Check):
    key = "order_already_imported"
    title = "Is the order already in Commerce Kitty?"
    description = (
        "Looks the order up among the orders already imported; when it is there, the steps do not apply."
    )
    article = ARTICLE
    step = None
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        return _already_imported(ctx) or Outcome.failed(
            f"Order #{ctx.order_number} is not in Commerce Kitty yet."
        )


@register
class ImportOrdersEnabled(Check):
    key = "import_orders_enabled"
    title = "Import Orders on?"
    description = "The plugin's Import Orders toggle, and since when it has been on."
    article = ARTICLE
    step = 1
    fix_notes = ("Turn on Import Orders (owners only)",)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        outcome = step_outcome(account_verdict(ctx, plugin), self.key)
        if outcome.status != "failed":
            return outcome
        return Outcome.failed(
            outcome.summary,
            "Orders placed from the moment it is turned on will import.",
            fixes=(
                Fix(
                    "turn_on_import_orders",
                    "Turn on Import Orders",
                    f"Turns on Import Orders for “{plugin.name}” and records when.",
                    owner_only=True,
                ),
            ),
            data=outcome.data,
        )

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "turn_on_import_orders":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        if plugin.import_orders:
            return f"Import Orders was already on for “{plugin.name}”."
        plugin.import_orders = True
        plugin.save(update_fields=["import_orders"])
        return f"Turned on Import Orders for “{plugin.name}”."


@register
class PluginOnOneChannel(Check):
    key = "plugin_on_one_channel"
    title = "On exactly one channel?"
    description = "The channels the plugin is on: an order imports only when it is on exactly one."
    article = ARTICLE
    step = 2
    fix_notes = ("Keep only the channel the merchant picks (owners only)",)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        outcome = step_outcome(account_verdict(ctx, plugin), self.key)
        if outcome.status != "failed":
            return outcome
        channels = list(plugin.channels.order_by("name"))
        evidence = [f"Channels: {', '.join(c.name for c in channels)}."] if channels else []
        fixes = ()
        if len(channels) > 1:
            fixes = (
                Fix(
                    "keep_only_channel",
                    "Keep only this channel",
                    "Removes the plugin from every other channel.",
                    owner_only=True,
                    choices=tuple((str(c.pk), c.name) for c in channels),
                    choice_label="Channel to keep",
                ),
            )
        return Outcome.failed(outcome.summary, *evidence, fixes=fixes, data=outcome.data)

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "keep_only_channel":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        keep = plugin.channels.filter(pk=pk).first() if (pk := int_param(choice)) else None
        if keep is None:
            raise InputError("fix", "That channel is not one of this plugin's channels any more.")
        plugin.channels.set([keep])
        done = f"“{plugin.name}” is now only on {keep.name}."
        importing.notifications_resolve(
            plugin, (Notification.Kind.CHANNEL_CONFLICT,), how=done, order_number="", now=timezone.now()
        )
        return done


@register
class OrderAge(Check):
    key = "order_age"
    title = "Placed after Import Orders was turned on?"
    description = (
        "The order's placed date (from the platform, or typed by the merchant) against the moment "
        "Import Orders was turned on: older orders never import on their own."
    )
    article = ARTICLE
    step = 3
    fix_notes = (
        "Sync historical orders since the order was placed (owners only, where the platform can backfill)",
        "Create the order by hand (a link, where it cannot)",
    )
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        order = _imported_order_seen(ctx)
        if order is not None:
            return Outcome.passed(
                f"Order #{order.number} is already in Commerce Kitty (imported {_when(order.imported_at)})."
            )
        verdict = live_verdict(ctx, plugin)
        placed = verdict.result(rules.PLACED_AFTER_IMPORT_ENABLED)
        fetched = verdict.result(rules.ORDER_FOUND)
        source = "the platform" if fetched is not None and fetched.passed else "the date you typed"
        if placed.unknown:
            advice = () if ctx.placed_date else ("Or type the date the order was placed above.",)
            return step_outcome(verdict, self.key, evidence=advice)
        data = {**placed.evidence, "placed_at_from": source}
        if placed.passed:
            return step_outcome(verdict, self.key, data=data)
        placed_at = datetime.fromisoformat(placed.evidence["placed_at"])
        capabilities = plugin.capabilities
        evidence = [f"Placed date from {source}."]
        # The platform shows plugins only so much history: a backfill cannot reach further back.
        reachable = not capabilities.history_days or placed_at >= timezone.now() - timedelta(
            days=capabilities.history_days
        )
        if capabilities.history_days:
            evidence.append(
                f"{plugin.get_platform_display()} shows only the last {capabilities.history_days} days of orders to plugins"
                + ("." if reachable else ", so no sync can reach this order; create it by hand.")
            )
        # A backfill can only work when the account and the platform let the order through otherwise.
        clear = all(
            r.passed for r in verdict.results if r.rule in (*rules.PLUGIN_RULES, rules.ORDER_READABLE)
        )
        if not (capabilities.backfill and reachable):
            fixes = (Fix("create_order_manually", "Create the order by hand", url=settings.ORDER_WIZARD_URL),)
        elif plugin.import_orders and clear:
            fixes = (
                Fix(
                    "sync_historical_orders",
                    "Sync historical orders",
                    f"Imports {plugin.name}'s orders placed since {placed_at:%b %-d, %Y}.",
                    owner_only=True,
                ),
            )
        elif not plugin.import_orders:
            evidence.append("Turn on Import Orders (Step 1) first; then older orders can be synced.")
            fixes = ()
        else:
            evidence.append(
                "Older orders can be synced once the other steps that fail or couldn't be checked pass."
            )
            fixes = ()
        return step_outcome(verdict, self.key, evidence=evidence, fixes=fixes, data=data)

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "sync_historical_orders":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        if _imported_order(ctx) is not None:
            return f"Order #{ctx.order_number} was already imported."
        verdict = live_verdict(ctx, plugin)
        placed = verdict.result(rules.PLACED_AFTER_IMPORT_ENABLED)
        if placed.unknown:
            raise InputError("fix", f"Couldn't start the backfill: {placed.message}")
        placed_at = datetime.fromisoformat(placed.evidence["placed_at"])  # a typed day: its start
        since = placed_at - timedelta(hours=1)
        try:
            run = importing.plugin_sync(
                plugin=plugin,
                backfill_since=since,
                time_budget=BACKFILL_INLINE_SECONDS,
                timeout=INTERACTIVE_TIMEOUT,
            )
        except PlatformError as exc:
            raise InputError("fix", f"Couldn't finish the backfill: {exc}") from None
        except SoftTimeLimitExceeded:
            _backfill_continue(plugin, since)  # a slow platform ate the click's time: finish it later
            raise
        if run.outcome != SyncRun.Outcome.SUCCEEDED:
            raise InputError("fix", f"The backfill did not run: {run.message}")
        if run.resume_from is not None:
            _backfill_continue(plugin, run.resume_from)
        return f"Synced historical orders since {placed_at:%b %-d, %Y}: {run.message}{_why_not_imported(ctx, run)}"


@register
class PluginErrors(Check):
    key = "plugin_errors"
    title = "Plugin errors on this order?"
    description = (
        "The order itself as the importer would judge it now (every SKU against the catalog, the "
        "buyer's details, the platform's throttling), with earlier error notifications as history."
    )
    article = ARTICLE
    step = 4
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        verdict = live_verdict(ctx, plugin)
        history = self._history(plugin, ctx, verdict)
        outcome = step_outcome(verdict, self.key, evidence=[self._history_line(*entry) for entry in history])
        still = [note for note, current in history if current]
        if outcome.status == "unknown" and still:
            # The order could not be judged now, but what was recorded about it was verified to still hold.
            return Outcome.failed(still[0].message, *outcome.evidence, data=outcome.data)
        return outcome

    def _history(
        self, plugin: Plugin, ctx: CheckContext, verdict: ImportVerdict
    ) -> list[tuple[Notification, bool | None]]:
        """Earlier notifications for the plugin or the order, each re-verified now: (note, still stands)."""
        since = timezone.now() - NOTIFICATION_WINDOW
        notes = list(
            Notification.objects.filter(plugin=plugin, last_seen_at__gte=since, kind__in=STEP_4_KINDS)
            .filter(order_number__in=["", ctx.order_number])
            .order_by("kind", "-last_seen_at")
        )
        lines, seen = [], set()
        for note in notes:
            if note.kind in seen:
                continue
            seen.add(note.kind)
            lines.append((note, self._still_current(plugin, note, verdict)))
        return lines

    @staticmethod
    def _history_line(note: Notification, current: bool | None) -> str:
        state = {True: "still so", False: "resolved since", None: "couldn't be re-checked now"}[current]
        return f"{note.get_kind_display()} (noted {_when(note.last_seen_at)}, {state}): {note.message}"

    @staticmethod
    def _still_current(plugin: Plugin, note: Notification, verdict: ImportVerdict) -> bool | None:
        """Whether a recorded error still holds, or None when that cannot be told now.

        The live verdict answers where it judged the note's rule on this
        order; a missing product can also be looked up in the catalog with
        the importer's own matching. Anything else is not guessed.
        """
        rule = {
            Notification.Kind.MISSING_PRODUCT: rules.SKUS_IN_CATALOG,
            Notification.Kind.MISSING_CUSTOMER_FIELDS: rules.BUYER_COMPLETE,
            Notification.Kind.RATE_LIMIT: rules.NOT_RATE_LIMITED,
            Notification.Kind.UNREADABLE_ORDER: rules.ORDER_READABLE,
        }[note.kind]
        live = verdict.result(rule)
        if live is not None and not live.unknown and (note.order_number or rule == rules.NOT_RATE_LIMITED):
            return live.failed
        if note.kind == Notification.Kind.MISSING_PRODUCT:
            noted = [sku for sku in note.evidence.get("missing_skus", []) if sku != rules.NO_SKU]
            if noted and len(noted) == len(note.evidence.get("missing_skus", [])):
                return bool(rules.skus_missing(noted, rules.AccountState.for_skus(plugin, noted).catalog))
        return None


@register
class PluginAuthorized(Check):
    key = "plugin_authorized"
    title = "Plugin authorized?"
    description = "Asks the platform, live, whether it still accepts the plugin's credentials."
    article = ARTICLE
    step = 5
    fix_notes = ("Reauthorize (a link to the platform's authorization)",)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        outcome = step_outcome(live_verdict(ctx, plugin), self.key)
        if outcome.status != "failed":
            return outcome
        url = reauthorize_url(plugin)
        summary = outcome.summary
        fixes = ()
        if url:
            fixes = (Fix("reauthorize", "Reauthorize", "Runs the platform's authorization again.", url=url),)
        else:
            summary = f"{summary} {plugin.provider.flow.reconnect_advice()}"
        return Outcome.failed(
            summary,
            "Reauthorize with the same platform account; another account creates a new connection.",
            fixes=fixes,
            data=outcome.data,
        )


@register
class SourceOrderState(Check):
    key = "source_order_state"
    title = "Paid and confirmed on the platform?"
    description = "Finds the order on the source platform and shows its state in the platform's own words (paid, held, pending…)."
    article = ARTICLE
    step = 6
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        verdict = live_verdict(ctx, plugin)
        found = verdict.result(rules.ORDER_FOUND)
        evidence = []
        if found.failed:
            evidence = [
                "Check the number on the source platform, and that it came through this plugin's store."
            ]
        outcome = step_outcome(verdict, self.key, evidence=evidence)
        if outcome.status == "passed":
            # The order's state is what this step is about; that the platform has it goes without saying.
            state = verdict.result(rules.IMPORTABLE_STATE)
            return Outcome.passed(state.message, data={**outcome.data, **state.evidence})
        return outcome


@register
class ManualSync(Check):
    key = "manual_sync"
    title = "Would a sync bring it in?"
    description = "Whether the order is in Commerce Kitty now, and whether a sync would bring it in."
    article = ARTICLE
    step = 7
    fix_notes = (
        "Sync now, when nothing else stands in the way",
        "Create the order by hand (a link, where a sync cannot help)",
    )
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        here = _already_imported(ctx)
        if here is not None:
            return here
        # While a Sync now waits on the bulk queue the platform is not asked: the sync will say.
        queued_at = plugin_sync_now_pending(plugin)
        if queued_at is not None:
            return Outcome.failed(
                f"Order #{ctx.order_number} is not in Commerce Kitty yet; the sync you asked for is queued "
                f"(since {_when(queued_at)}): this step is checked again when it has run.",
                data={"awaiting_until": (queued_at + SYNC_NOW_FOLLOW).isoformat()},
            )
        verdict = live_verdict(ctx, plugin)
        evidence = [_last_sync_line(plugin, verdict)]
        if verdict.blockers and all(b.rule == rules.NOT_RATE_LIMITED for b in verdict.blockers):
            # Only the platform's throttling stands in the way: Sync now will work once it ends.
            rate = verdict.blockers[0]
            return Outcome.failed(
                f"Order #{ctx.order_number} is not in Commerce Kitty, and a sync cannot bring it in "
                f"while {rate.message[0].lower()}{rate.message[1:]}",
                *evidence,
                fixes=(
                    Fix(
                        "sync_now",
                        "Sync now",
                        f"Pulls {plugin.name}'s recent orders now, then checks again.",
                        unavailable=f"Sync now works again once the platform stops throttling this plugin, "
                        f"{_throttle_end_words(rate)}.",
                    ),
                ),
                data={
                    "see_check": CHECK_OF_RULE[rate.rule],
                    "blocking_rule": rate.rule,
                    ARRIVAL_KEY: Arrival.NOT_YET.value,
                    **_retry_data(verdict),
                },
            )
        if verdict.blockers:
            blocker = verdict.blockers[0]
            return Outcome.failed(
                f"Order #{ctx.order_number} is not in Commerce Kitty, and a sync would not bring it in: "
                f"{blocker.message}",
                *evidence,
                data={
                    "see_check": CHECK_OF_RULE[blocker.rule],
                    "blocking_rule": blocker.rule,
                    **_arrival_data(verdict.blockers),
                },
            )
        if verdict.unknowns:
            return Outcome.unknown(
                f"Order #{ctx.order_number} is not in Commerce Kitty, and whether a sync would bring it in "
                "couldn't be checked.",
                *_unknown_advice(verdict),
                *evidence,
                data=_retry_data(verdict),
            )
        if not plugin.capabilities.manual_sync:
            platform = plugin.get_platform_display()
            placed_at = datetime.fromisoformat(
                verdict.result(rules.PLACED_AFTER_IMPORT_ENABLED).evidence["placed_at"]
            )
            since = importing.scheduled_sync_since(plugin)
            if placed_at >= since:
                return Outcome.failed(
                    f"Order #{ctx.order_number} is not in Commerce Kitty yet; nothing stands in its way, and "
                    f"{platform} does not support manual syncs: the next scheduled sync (within "
                    f"{_scheduled_sync_interval()}) brings it in.",
                    *evidence,
                    data=_arrival_data(()),
                )
            return Outcome.failed(
                f"Order #{ctx.order_number} is not in Commerce Kitty, and no sync will bring it in: "
                f"{platform} does not support manual syncs, and scheduled syncs look back only to "
                f"{_when(since)}, after it was placed ({_when(placed_at)}). Create it by hand.",
                *evidence,
                fixes=(
                    Fix("create_order_manually", "Create the order by hand", url=settings.ORDER_WIZARD_URL),
                ),
            )
        return Outcome.failed(
            f"Order #{ctx.order_number} is not in Commerce Kitty yet; nothing stands in its way, "
            "so a sync brings it in.",
            *evidence,
            fixes=(
                Fix("sync_now", "Sync now", f"Pulls {plugin.name}'s recent orders now, then checks again."),
            ),
            data=_arrival_data(()),
        )

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "sync_now":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        # Queued where syncs run: a slow store's sync never holds the lane that answers clicks.
        try:
            ran = plugin_sync_now_enqueue(
                plugin=plugin, order_number=ctx.order_number, recheck_by_user_id=ctx.user_id
            )
        except Exception as exc:
            if not is_broker_error(exc):
                raise
            raise InputError(
                "fix",
                "Couldn't queue the sync: our sync service is not answering. Try again in a few minutes.",
            ) from None
        if ran:  # tasks run in-process (the demo): the sync has already run
            last = plugin.sync_runs.order_by("-started_at").first()
            if last is None or last.outcome != SyncRun.Outcome.SUCCEEDED:
                raise InputError("fix", f"The sync did not run: {last.message if last else ''}")
            return f"Synced “{plugin.name}”: {last.message}{_why_not_imported(ctx, last)}"
        return f"Sync of “{plugin.name}” queued: this step is checked again when it has run."


def _scheduled_sync_interval() -> str:
    """How often scheduled syncs run, as beat is configured: "about 5 minutes"."""
    schedule = settings.CELERY_BEAT_SCHEDULE["sync-all-plugins"]["schedule"]
    seconds = schedule.total_seconds() if isinstance(schedule, timedelta) else float(schedule)
    return duration_words(seconds).removeprefix("about ")


def _throttle_end_words(rate: RuleResult) -> str:
    """ "at 14:05 UTC, about 24 hours from now", from a failed not-rate-limited rule."""
    until = datetime.fromisoformat(rate.evidence["until"])
    wait = duration_words((until - timezone.now()).total_seconds())
    return f"at {timezone.localtime(until):%H:%M %Z} on {timezone.localtime(until):%b %-d} ({wait} from now)"


# The plugin rules that stop a sync before it fetches anything, by the outcome they give it.
SYNC_STOPPED_BY = {
    SyncRun.Outcome.BLOCKED: (rules.IMPORT_ORDERS_ON, rules.EXACTLY_ONE_CHANNEL),
    SyncRun.Outcome.NOT_AUTHORIZED: (rules.AUTHORIZED,),
    SyncRun.Outcome.RATE_LIMITED: (rules.NOT_RATE_LIMITED,),
}


def _last_sync_line(plugin: Plugin, verdict: ImportVerdict) -> str:
    """The plugin's last sync, judged with the account as it is now (``verdict``).

    A sync stopped by a rule that passes now (a fix since, e.g. Keep only
    this channel or Reauthorize) is not quoted: its words would name a state
    that is over.
    """
    last = plugin.sync_runs.order_by("-started_at").first()
    if last is None:
        return "This plugin has not synced yet."
    stopped_by = SYNC_STOPPED_BY.get(last.outcome, ())
    # A backfill is also blocked by a platform that cannot list older orders: no fix changes that.
    by_platform = last.mode == SyncRun.Mode.BACKFILL and not plugin.capabilities.backfill
    if stopped_by and not by_platform and all(_passes(verdict, rule) for rule in stopped_by):
        return (
            f"Last sync: {_when(last.started_at)}. What stopped it then no longer stands in the way, "
            "so it does not hold back the next one."
        )
    return f"Last sync: {_when(last.started_at)} ({last.get_outcome_display().lower()}). {last.message}"


def _passes(verdict: ImportVerdict, rule: str) -> bool:
    result = verdict.result(rule)
    return result is not None and result.passed


def _why_not_imported(ctx: CheckContext, run: SyncRun) -> str:
    """After a sync: why the merchant's order is still not in, in the blocking rule's words ("" if it is)."""
    if not ctx.order_number or _imported_order(ctx) is not None:
        return ""
    blocked = run.blocked_orders.get(ctx.order_number)
    if blocked:
        return f" Order #{ctx.order_number} did not import: {blocked[0]['message']}"
    return f" The sync did not see order #{ctx.order_number}; the steps above say why."


def _backfill_continue(plugin: Plugin, since: datetime) -> None:
    """The rest of a backfill the check's click could not wait for, as a background sync."""
    from .tasks import sync_plugin

    try:
        sync_plugin.delay(plugin.pk, mode=SyncRun.Mode.BACKFILL, backfill_since=since.isoformat())
    except Exception:
        logger.exception("plugin %s: the rest of the backfill could not be queued", plugin.pk)


def reauthorize_url(plugin: Plugin) -> str:
    """Where "Reauthorize" starts this plugin's platform authorization ("" if it cannot start here)."""
    return reverse("commerce:reauthorize", args=[plugin.pk]) if reauthorize_supported(plugin) else ""
