"""The checks of "An Order Did Not Import", one per step, each judging its rules of the dry run."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.checks.base import ARRIVAL_KEY, Arrival, Check, CheckContext, Fix, InputError, Outcome
from apps.checks.registry import register
from apps.platforms.base import PlatformError
from kitty_troubleshoot.celery import is_broker_error
from kitty_troubleshoot.params import int_param
from kitty_troubleshoot.said import Said, said, said_n
from kitty_troubleshoot.words import duration_words

from .. import importing
from ..importing import rules
from ..importing.rules import ImportVerdict, RuleResult, platform_says
from ..models import Notification, Plugin, SyncRun
from ..selectors import reauthorize_supported
from ..services import SYNC_NOW_FOLLOW, plugin_sync_now_enqueue, plugin_sync_now_pending
from ..wording import day_words, span_words
from . import dry_run
from .dry_run import (
    CHECK_OF_RULE,
    NOTIFICATION_WINDOW,
    STEP_4_KINDS,
    _already_imported,
    _arrival_data,
    _imported_order,
    _imported_order_seen,
    _plugin,
    _retry_data,
    _unknown_advice,
    account_verdict,
    live_verdict,
    order_number_of,
    placed_date_of,
    step_named,
    step_outcome,
)

logger = logging.getLogger(__name__)

# "Sync historical orders" imports for this long while the merchant waits (the
# order in question comes first: orders are listed oldest first from just
# before it); a background sync carries on with the rest.
BACKFILL_INLINE_SECONDS = 8.0

# --- The checks -------------------------------------------------------------------

# The article these checks were written for (its steps' numbers are in each check).
ARTICLE = "An Order Did Not Import"


@register
class OrderAlreadyImported(Check):
    key = "order_already_imported"
    title = said("Is the order already in Commerce Kitty?")
    description = said(
        "Looks the order up among the orders already imported; when it is there, the steps do not apply."
    )
    article = ARTICLE
    step = None
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        return _already_imported(ctx) or Outcome.failed(
            said("Order #%(number)s is not in Commerce Kitty yet.", number=order_number_of(ctx))
        )


@register
class ImportOrdersEnabled(Check):
    key = "import_orders_enabled"
    title = said("Import Orders on?")
    description = said("The plugin's Import Orders toggle, and since when it has been on.")
    article = ARTICLE
    step = 1
    fix_notes = (said("Turn on Import Orders (owners only)"),)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        outcome = step_outcome(account_verdict(ctx, plugin), self.key)
        if outcome.status != "failed":
            return outcome
        return Outcome.failed(
            outcome.summary,
            said("Orders placed from the moment it is turned on will import."),
            fixes=(
                Fix(
                    "turn_on_import_orders",
                    said("Turn on Import Orders"),
                    said("Turns on Import Orders for “%(plugin)s” and records when.", plugin=plugin.name),
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
            return said("Import Orders was already on for “%(plugin)s”.", plugin=plugin.name)
        plugin.import_orders = True
        plugin.save(update_fields=["import_orders"])
        return said("Turned on Import Orders for “%(plugin)s”.", plugin=plugin.name)


@register
class PluginOnOneChannel(Check):
    key = "plugin_on_one_channel"
    title = said("On exactly one channel?")
    description = said("The channels the plugin is on: an order imports only when it is on exactly one.")
    article = ARTICLE
    step = 2
    fix_notes = (said("Keep only the channel the merchant picks (owners only)"),)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        outcome = step_outcome(account_verdict(ctx, plugin), self.key)
        if outcome.status != "failed":
            return outcome
        channels = list(plugin.channels.order_by("name"))
        # Channel names are the merchant's own: listed as they are, with commas.
        evidence = (
            [said("Channels: %(channels)s.", channels=", ".join(c.name for c in channels))]
            if channels
            else []
        )
        fixes = ()
        if len(channels) > 1:
            fixes = (
                Fix(
                    "keep_only_channel",
                    said("Keep only this channel"),
                    said("Removes the plugin from every other channel."),
                    owner_only=True,
                    choices=tuple((str(c.pk), c.name) for c in channels),
                    choice_label=said("Channel to keep"),
                ),
            )
        return Outcome.failed(outcome.summary, *evidence, fixes=fixes, data=outcome.data)

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "keep_only_channel":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        keep = plugin.channels.filter(pk=pk).first() if (pk := int_param(choice)) else None
        if keep is None:
            raise InputError("fix", said("That channel is not one of this plugin's channels any more."))
        plugin.channels.set([keep])
        done = said("“%(plugin)s” is now only on %(channel)s.", plugin=plugin.name, channel=keep.name)
        importing.notifications_resolve(
            plugin, (Notification.Kind.CHANNEL_CONFLICT,), how=done, order_number="", now=timezone.now()
        )
        return done


@register
class OrderAge(Check):
    key = "order_age"
    title = said("Placed after Import Orders was turned on?")
    description = said(
        "The order's placed date (from the platform, or typed by the merchant) against the moment "
        "Import Orders was turned on: older orders never import on their own."
    )
    article = ARTICLE
    step = 3
    fix_notes = (
        said(
            "Sync historical orders since the order was placed (owners only, where the platform can backfill)"
        ),
        said("Create the order by hand (a link, where it cannot)"),
    )
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        order = _imported_order_seen(ctx)
        if order is not None:
            return Outcome.passed(
                said(
                    "Order #%(number)s is already in Commerce Kitty (imported %(moment)s).",
                    number=order.number,
                    moment=order.imported_at,
                )
            )
        verdict = live_verdict(ctx, plugin)
        placed = verdict.result(rules.PLACED_AFTER_IMPORT_ENABLED)
        fetched = verdict.result(rules.ORDER_FOUND)
        from_platform = fetched is not None and fetched.passed
        # Kept in the run's data as these English words (statistics and tests read them).
        source = "the platform" if from_platform else "the date you typed"
        if placed.unknown:
            advice = () if placed_date_of(ctx) else (said("Or type the date the order was placed above."),)
            return step_outcome(verdict, self.key, evidence=advice)
        data = {**placed.evidence, "placed_at_from": source}
        if placed.passed:
            return step_outcome(verdict, self.key, data=data)
        placed_at = datetime.fromisoformat(placed.evidence["placed_at"])
        capabilities = plugin.capabilities
        if from_platform:
            evidence = [said("Placed date from the platform.")]
        else:
            evidence = [said("Placed date from the date you typed.")]
        # The platform shows plugins only so much history: a backfill cannot reach further back.
        reachable = not capabilities.history_days or placed_at >= timezone.now() - timedelta(
            days=capabilities.history_days
        )
        if capabilities.history_days:
            words = {"platform": plugin.get_platform_display()}
            if reachable:
                line = said_n(
                    "%(platform)s shows only the last %(count)s day of orders to plugins.",
                    "%(platform)s shows only the last %(count)s days of orders to plugins.",
                    capabilities.history_days,
                    **words,
                )
            else:
                line = said_n(
                    "%(platform)s shows only the last %(count)s day of orders to plugins, so no sync can reach "
                    "this order; create it by hand.",
                    "%(platform)s shows only the last %(count)s days of orders to plugins, so no sync can reach "
                    "this order; create it by hand.",
                    capabilities.history_days,
                    **words,
                )
            evidence.append(line)
        # A backfill can only work when the account and the platform let the order through otherwise.
        clear = all(
            r.passed for r in verdict.results if r.rule in (*rules.PLUGIN_RULES, rules.ORDER_READABLE)
        )
        if not (capabilities.backfill and reachable):
            fixes = (_create_by_hand(),)
        elif plugin.import_orders and clear:
            fixes = (
                Fix(
                    "sync_historical_orders",
                    said("Sync historical orders"),
                    said(
                        "Imports %(plugin)s's orders placed since %(day)s.",
                        plugin=plugin.name,
                        day=day_words(placed_at),
                    ),
                    owner_only=True,
                ),
            )
        elif not plugin.import_orders:
            evidence.append(
                said(
                    "Turn on Import Orders first (the step %(step)s); then older orders can be synced.",
                    step=step_named("import_orders_enabled"),
                )
            )
            fixes = ()
        else:
            evidence.append(
                said("Older orders can be synced once the other steps that fail or couldn't be checked pass.")
            )
            fixes = ()
        return step_outcome(verdict, self.key, evidence=evidence, fixes=fixes, data=data)

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "sync_historical_orders":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        if _imported_order(ctx) is not None:
            return said("Order #%(number)s was already imported.", number=order_number_of(ctx))
        verdict = live_verdict(ctx, plugin)
        placed = verdict.result(rules.PLACED_AFTER_IMPORT_ENABLED)
        if placed.unknown:
            raise InputError("fix", said("Couldn't start the backfill: %(why)s", why=placed.message))
        placed_at = datetime.fromisoformat(placed.evidence["placed_at"])  # a typed day: its start
        since = placed_at - timedelta(hours=1)
        try:
            run = importing.plugin_sync(
                plugin=plugin,
                backfill_since=since,
                time_budget=BACKFILL_INLINE_SECONDS,
                timeout=dry_run.INTERACTIVE_TIMEOUT,
            )
        except PlatformError as exc:
            raise InputError(
                "fix",
                said("Couldn't finish the backfill: %(platform_says)s", platform_says=platform_says(exc)),
            ) from None
        except SoftTimeLimitExceeded:
            _backfill_continue(plugin, since)  # a slow platform ate the click's time: finish it later
            raise
        if run.outcome != SyncRun.Outcome.SUCCEEDED:
            raise InputError("fix", said("The backfill did not run: %(why)s", why=run.message))
        if run.resume_from is not None:
            _backfill_continue(plugin, run.resume_from)
        done = said(
            "Synced historical orders since %(day)s: %(result)s", day=day_words(placed_at), result=run.message
        )
        return _with_why_not_imported(ctx, run, done)


@register
class PluginErrors(Check):
    key = "plugin_errors"
    title = said("Plugin errors on this order?")
    description = said(
        "The order itself as the importer would judge it now (every SKU against the catalog, the "
        "buyer's details, the platform's throttling), with earlier error notifications as history."
    )
    article = ARTICLE
    step = 4
    needs = ("order_number",)

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
            .filter(order_number__in=["", order_number_of(ctx)])
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
    def _history_line(note: Notification, current: bool | None) -> Said:
        words = {"kind": note.kind_said, "moment": note.last_seen_at, "message": note.message}
        if current is True:
            return said("%(kind)s (noted %(moment)s, still so): %(message)s", **words)
        if current is False:
            return said("%(kind)s (noted %(moment)s, resolved since): %(message)s", **words)
        return said("%(kind)s (noted %(moment)s, couldn't be re-checked now): %(message)s", **words)

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
    title = said("Plugin authorized?")
    description = said("Asks the platform, live, whether it still accepts the plugin's credentials.")
    article = ARTICLE
    step = 5
    fix_notes = (said("Reauthorize (a link to the platform's authorization)"),)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        outcome = step_outcome(live_verdict(ctx, plugin), self.key)
        if outcome.status != "failed":
            return outcome
        url = reauthorize_url(plugin)
        summary = outcome.summary
        fixes = ()
        if url:
            fixes = (
                Fix(
                    "reauthorize",
                    said("Reauthorize"),
                    said("Runs the platform's authorization again."),
                    url=url,
                ),
            )
        else:
            summary = said(
                "%(verdict)s %(advice)s", verdict=summary, advice=plugin.provider.flow.reconnect_advice()
            )
        return Outcome.failed(
            summary,
            said("Reauthorize with the same platform account; another account creates a new connection."),
            fixes=fixes,
            data=outcome.data,
        )


@register
class SourceOrderState(Check):
    key = "source_order_state"
    title = said("Paid and confirmed on the platform?")
    description = said(
        "Finds the order on the source platform and shows its state in the platform's own words "
        "(paid, held, pending…)."
    )
    article = ARTICLE
    step = 6
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        verdict = live_verdict(ctx, plugin)
        found = verdict.result(rules.ORDER_FOUND)
        evidence = []
        if found.failed:
            evidence = [
                said("Check the number on the source platform, and that it came through this plugin's store.")
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
    title = said("Would a sync bring it in?")
    description = said("Whether the order is in Commerce Kitty now, and whether a sync would bring it in.")
    article = ARTICLE
    step = 7
    fix_notes = (
        said("Sync now, when nothing else stands in the way"),
        said("Create the order by hand (a link, where a sync cannot help)"),
    )
    needs = ("order_number",)

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        here = _already_imported(ctx)
        if here is not None:
            return here
        # While a Sync now waits on the bulk queue the platform is not asked: the sync will say.
        queued_at = plugin_sync_now_pending(plugin)
        if queued_at is not None:
            return Outcome.failed(
                said(
                    "Order #%(number)s is not in Commerce Kitty yet; the sync you asked for is queued "
                    "(since %(moment)s): this step is checked again when it has run.",
                    number=order_number_of(ctx),
                    moment=queued_at,
                ),
                data={"awaiting_until": (queued_at + SYNC_NOW_FOLLOW).isoformat()},
            )
        verdict = live_verdict(ctx, plugin)
        evidence = [_last_sync_line(plugin, verdict)]
        if verdict.blockers and all(b.rule == rules.NOT_RATE_LIMITED for b in verdict.blockers):
            # Only the platform's throttling stands in the way: Sync now will work once it ends.
            rate = verdict.blockers[0]
            return Outcome.failed(
                said(
                    "Order #%(number)s is not in Commerce Kitty, and a sync cannot bring it in while the "
                    "platform is throttling “%(plugin)s” until %(moment)s (%(wait)s from now).",
                    number=order_number_of(ctx),
                    plugin=plugin.name,
                    **_throttle_end(rate),
                ),
                *evidence,
                fixes=(
                    Fix(
                        "sync_now",
                        said("Sync now"),
                        said("Pulls %(plugin)s's recent orders now, then checks again.", plugin=plugin.name),
                        unavailable=said(
                            "Sync now works again once the platform stops throttling this plugin, at "
                            "%(moment)s (%(wait)s from now).",
                            **_throttle_end(rate),
                        ),
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
                said(
                    "Order #%(number)s is not in Commerce Kitty, and a sync would not bring it in: %(verdict)s",
                    number=order_number_of(ctx),
                    verdict=blocker.message,
                ),
                *evidence,
                data={
                    "see_check": CHECK_OF_RULE[blocker.rule],
                    "blocking_rule": blocker.rule,
                    **_arrival_data(verdict.blockers),
                },
            )
        if verdict.unknowns:
            return Outcome.unknown(
                said(
                    "Order #%(number)s is not in Commerce Kitty, and whether a sync would bring it in "
                    "couldn't be checked.",
                    number=order_number_of(ctx),
                ),
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
                    said(
                        "Order #%(number)s is not in Commerce Kitty yet; nothing stands in its way, and "
                        "%(platform)s does not support manual syncs: the next scheduled sync (within "
                        "%(interval)s) brings it in.",
                        number=order_number_of(ctx),
                        platform=platform,
                        interval=_scheduled_sync_interval(),
                    ),
                    *evidence,
                    data=_arrival_data(()),
                )
            return Outcome.failed(
                said(
                    "Order #%(number)s is not in Commerce Kitty, and no sync will bring it in: %(platform)s does "
                    "not support manual syncs, and scheduled syncs look back only to %(since)s, after it was "
                    "placed (%(placed)s). Create it by hand.",
                    number=order_number_of(ctx),
                    platform=platform,
                    since=since,
                    placed=placed_at,
                ),
                *evidence,
                fixes=(_create_by_hand(),),
            )
        return Outcome.failed(
            said(
                "Order #%(number)s is not in Commerce Kitty yet; nothing stands in its way, so a sync brings it in.",
                number=order_number_of(ctx),
            ),
            *evidence,
            fixes=(
                Fix(
                    "sync_now",
                    said("Sync now"),
                    said("Pulls %(plugin)s's recent orders now, then checks again.", plugin=plugin.name),
                ),
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
                plugin=plugin, order_number=order_number_of(ctx), recheck_by_user_id=ctx.user_id
            )
        except Exception as exc:
            if not is_broker_error(exc):
                raise
            raise InputError(
                "fix",
                said(
                    "Couldn't queue the sync: our sync service is not answering. Try again in a few minutes."
                ),
            ) from None
        if ran:  # tasks run in-process (the demo): the sync has already run
            last = plugin.sync_runs.order_by("-started_at").first()
            if last is None:
                raise InputError("fix", said("The sync did not run."))
            if last.outcome != SyncRun.Outcome.SUCCEEDED:
                raise InputError("fix", said("The sync did not run: %(why)s", why=last.message))
            done = said("Synced “%(plugin)s”: %(result)s", plugin=plugin.name, result=last.message)
            return _with_why_not_imported(ctx, last, done)
        return said(
            "Sync of “%(plugin)s” queued: this step is checked again when it has run.", plugin=plugin.name
        )


def _create_by_hand() -> Fix:
    return Fix("create_order_manually", said("Create the order by hand"), url=settings.ORDER_WIZARD_URL)


def _scheduled_sync_interval() -> Said:
    """How often scheduled syncs run, as beat is configured: "5 minutes"."""
    schedule = settings.CELERY_BEAT_SCHEDULE["sync-all-plugins"]["schedule"]
    seconds = schedule.total_seconds() if isinstance(schedule, timedelta) else float(schedule)
    return span_words(seconds)


def _throttle_end(rate: RuleResult) -> dict:
    """When the platform's throttling ends and how long until then, from a failed not-rate-limited rule."""
    until = datetime.fromisoformat(rate.evidence["until"])
    return {"moment": until, "wait": duration_words((until - timezone.now()).total_seconds())}


# The plugin rules that stop a sync before it fetches anything, by the outcome they give it.
SYNC_STOPPED_BY = {
    SyncRun.Outcome.BLOCKED: (rules.IMPORT_ORDERS_ON, rules.EXACTLY_ONE_CHANNEL),
    SyncRun.Outcome.NOT_AUTHORIZED: (rules.AUTHORIZED,),
    SyncRun.Outcome.RATE_LIMITED: (rules.NOT_RATE_LIMITED,),
}


def _last_sync_line(plugin: Plugin, verdict: ImportVerdict) -> Said:
    """The plugin's last sync, judged with the account as it is now (``verdict``).

    A sync stopped by a rule that passes now (a fix since, e.g. Keep only
    this channel or Reauthorize) is not quoted: its words would name a state
    that is over.
    """
    last = plugin.sync_runs.order_by("-started_at").first()
    if last is None:
        return said("This plugin has not synced yet.")
    stopped_by = SYNC_STOPPED_BY.get(last.outcome, ())
    # A backfill is also blocked by a platform that cannot list older orders: no fix changes that.
    by_platform = last.mode == SyncRun.Mode.BACKFILL and not plugin.capabilities.backfill
    if stopped_by and not by_platform and all(_passes(verdict, rule) for rule in stopped_by):
        return said(
            "Last sync: %(moment)s. What stopped it then no longer stands in the way, "
            "so it does not hold back the next one.",
            moment=last.started_at,
        )
    return said(
        "Last sync: %(moment)s (%(outcome)s). %(result)s",
        moment=last.started_at,
        outcome=last.outcome_said,
        result=last.message,
    )


def _passes(verdict: ImportVerdict, rule: str) -> bool:
    result = verdict.result(rule)
    return result is not None and result.passed


def _with_why_not_imported(ctx: CheckContext, run: SyncRun, done: Said) -> Said:
    """What a sync did, and after it why the merchant's order is still not in, in the blocking rule's words."""
    number = order_number_of(ctx)
    if not number or _imported_order(ctx) is not None:
        return done
    blocked = run.blocked_orders.get(number)
    if blocked:
        return said(
            "%(done)s Order #%(number)s did not import: %(why)s",
            done=done,
            number=number,
            why=blocked[0]["message"],
        )
    return said(
        "%(done)s The sync did not see order #%(number)s; the steps above say why.", done=done, number=number
    )


def _backfill_continue(plugin: Plugin, since: datetime) -> None:
    """The rest of a backfill the check's click could not wait for, as a background sync."""
    from ..tasks import sync_plugin

    try:
        sync_plugin.delay(plugin.pk, mode=SyncRun.Mode.BACKFILL, backfill_since=since.isoformat())
    except Exception:
        logger.exception("plugin %s: the rest of the backfill could not be queued", plugin.pk)


def reauthorize_url(plugin: Plugin) -> str:
    """Where "Reauthorize" starts this plugin's platform authorization ("" if it cannot start here)."""
    return reverse("commerce:reauthorize", args=[plugin.pk]) if reauthorize_supported(plugin) else ""
