"""The order-import checks behind "An Order Did Not Import", built on the importer's rule set.

Each check asks the same predicates ``importing.py`` applies, so a check can
never disagree with the importer. Registered into ``apps.checks`` at startup.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, time, timedelta

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.checks.base import Check, CheckContext, Fix, InputError, Outcome
from apps.checks.base import Membership as CheckMembership
from apps.checks.registry import register, set_account_directory
from apps.platforms.base import NotAuthorized, PlatformError, RateLimited, SourceOrder

from . import importing
from .models import Membership, Notification, Order, Plugin, SyncRun
from .selectors import reauthorize_supported

NOTIFICATION_WINDOW = timedelta(days=30)
# A merchant is waiting: platform calls from a check give up well inside the
# check task's 20 s soft time limit, even with two calls in one diagnosis.
INTERACTIVE_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# "Sync historical orders" imports for this long while the merchant waits (the
# order in question comes first: orders are listed oldest first from just
# before it); a background sync carries on with the rest.
BACKFILL_INLINE_SECONDS = 8.0

logger = logging.getLogger(__name__)
# Step 4 is about these; authorization and channel conflicts have steps of their own.
STEP_4_KINDS = (
    Notification.Kind.MISSING_PRODUCT,
    Notification.Kind.MISSING_CUSTOMER_FIELDS,
    Notification.Kind.RATE_LIMIT,
    Notification.Kind.UNREADABLE_ORDER,
)


# --- Who may check what ---------------------------------------------------------


class CommerceAccounts:
    """The checks framework's view of Commerce Kitty accounts: plugins are the subjects."""

    def membership_for(self, user) -> CheckMembership | None:
        if not getattr(user, "is_authenticated", False):
            return None
        row = Membership.objects.filter(user=user).order_by("pk").values_list("merchant_id", "role").first()
        if row is None:
            return None
        return CheckMembership(merchant_id=row[0], is_owner=row[1] == Membership.Role.OWNER)

    def subject_choices(self, merchant_id: int) -> list[tuple[int, str]]:
        return list(Plugin.objects.filter(merchant_id=merchant_id).order_by("name").values_list("pk", "name"))

    def subject_label(self, merchant_id: int, subject_id: int) -> str | None:
        return (
            Plugin.objects.filter(merchant_id=merchant_id, pk=subject_id)
            .values_list("name", flat=True)
            .first()
        )


set_account_directory(CommerceAccounts())


# --- Shared lookups (once per diagnosis task) -------------------------------------


def _plugin(ctx: CheckContext) -> Plugin:
    # Re-read every time: a fix earlier in the same task may have changed it.
    plugin = Plugin.objects.filter(merchant_id=ctx.merchant_id, pk=ctx.subject_id).first()
    if plugin is None:
        raise InputError("subject", "That plugin is no longer in your account. Choose another.")
    return plugin


def _imported_order(ctx: CheckContext) -> Order | None:
    if not ctx.order_number:
        return None
    return (
        Order.objects.filter(merchant_id=ctx.merchant_id, plugin_id=ctx.subject_id, number=ctx.order_number)
        .select_related("channel")
        .first()
    )


def _source_order(ctx: CheckContext, plugin: Plugin) -> SourceOrder | None:
    """The order as the platform reports it, fetched once per diagnosis task."""
    return ctx.memo(
        f"source_order:{plugin.pk}:{ctx.order_number}",
        lambda: plugin.client(timeout=INTERACTIVE_TIMEOUT).get_order(ctx.order_number),
    )


def _couldnt_ask(plugin: Plugin, exc: PlatformError, *, what: str) -> Outcome:
    if isinstance(exc, NotAuthorized):
        return Outcome.unknown(
            f"Couldn't {what}: the platform does not accept “{plugin.name}”'s authorization.",
            "See Step 5 (Check the plugin authorization).",
        )
    if isinstance(exc, RateLimited):
        return Outcome.unknown(
            f"Couldn't {what}: the platform is rate limiting “{plugin.name}”.",
            f"Try again in {max(1, round(exc.retry_after / 60))} minute(s).",
        )
    return Outcome.unknown(
        f"Couldn't {what}: the platform did not answer.", str(exc), "Try again in a few minutes."
    )


def _already_imported(ctx: CheckContext) -> Outcome | None:
    """Passed, with where and when, if the order is in Commerce Kitty; None if it is not."""
    order = _imported_order(ctx)
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


@register
class OrderAlreadyImported(Check):
    key = "order_already_imported"
    title = "Is the order already in Commerce Kitty?"
    description = "Looks the order up among the imported orders; when it is there, the rest is moot."
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        return _already_imported(ctx) or Outcome.failed(
            f"Order #{ctx.order_number} is not in Commerce Kitty yet."
        )


@register
class ImportOrdersEnabled(Check):
    key = "import_orders_enabled"
    title = "Import Orders is on"
    description = "Step 1: the plugin's Import Orders toggle; the fix turns it on (owners only)."

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        result = importing.rule_import_orders_on(plugin)
        if result.passed:
            return Outcome.passed(result.message, data=result.evidence)
        return Outcome.failed(
            result.message,
            "Orders placed from the moment it is turned on will import.",
            fixes=(
                Fix(
                    "turn_on_import_orders",
                    "Turn on Import Orders",
                    f"Turns on Import Orders for “{plugin.name}” and records when.",
                    owner_only=True,
                ),
            ),
            data=result.evidence,
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
    title = "The plugin is on exactly one channel"
    description = "Step 2: names the plugin's channels; the fix keeps the one the merchant picks."

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        channels = list(plugin.channels.order_by("name"))
        result = importing.rule_exactly_one_channel(plugin, channels)
        if result.passed:
            return Outcome.passed(result.message, data=result.evidence)
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
        return Outcome.failed(result.message, *evidence, fixes=fixes, data=result.evidence)

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "keep_only_channel":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        keep = plugin.channels.filter(pk=choice).first() if choice.isdigit() else None
        if keep is None:
            raise InputError("fix", "That channel is not one of this plugin's channels any more.")
        plugin.channels.set([keep])
        return f"“{plugin.name}” is now only on {keep.name}."


@register
class OrderAge(Check):
    key = "order_age"
    title = "The order is newer than the plugin"
    description = (
        "Step 3: the order's placed date (from the platform, or typed by the merchant) against the "
        "moment Import Orders was turned on; the fix backfills where the platform can."
    )
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        order = _imported_order(ctx)
        if order is not None:
            return Outcome.passed(
                f"Order #{order.number} is already in Commerce Kitty (imported {_when(order.imported_at)})."
            )
        placed_at, source = None, "the platform"
        try:
            source_order = _source_order(ctx, plugin)
            placed_at = source_order.placed_at if source_order else None
        except PlatformError as exc:
            if ctx.placed_date is None:
                outcome = _couldnt_ask(plugin, exc, what="ask the platform when the order was placed")
                return Outcome.unknown(
                    outcome.summary, *outcome.evidence, "Or type the date the order was placed above."
                )
        if placed_at is None and ctx.placed_date is not None:
            placed_at = timezone.make_aware(datetime.combine(ctx.placed_date, time(23, 59, 59)))
            source = "the date you typed"
        if placed_at is None:
            return Outcome.unknown(
                f"The platform has no order #{ctx.order_number}, so its age is unknown.",
                "Check the number (Step 6), or type the date the order was placed above.",
            )
        result = importing.rule_placed_after_import_enabled(
            plugin, number=ctx.order_number, placed_at=placed_at
        )
        data = {**result.evidence, "placed_at_from": source}
        if result.passed:
            return Outcome.passed(result.message, data=data)
        capabilities = plugin.capabilities
        evidence = [f"Placed date from {source}."]
        if capabilities.history_days:
            evidence.append(
                f"{plugin.get_platform_display()} shows only the last {capabilities.history_days} days of orders to plugins."
            )
        if capabilities.backfill:
            fixes = (
                Fix(
                    "sync_historical_orders",
                    "Sync historical orders",
                    f"Imports {plugin.name}'s orders placed since {placed_at:%b %-d, %Y}.",
                    owner_only=True,
                ),
            )
        else:
            fixes = (Fix("create_order_manually", "Create the order by hand", url=settings.ORDER_WIZARD_URL),)
        return Outcome.failed(result.message, *evidence, fixes=fixes, data=data)

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "sync_historical_orders":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        if _imported_order(ctx) is not None:
            return f"Order #{ctx.order_number} was already imported."
        try:
            source_order = _source_order(ctx, plugin)
        except PlatformError as exc:
            raise InputError("fix", f"Couldn't start the backfill: {exc}") from None
        placed_at = source_order.placed_at if source_order else None
        if placed_at is None and ctx.placed_date:
            placed_at = timezone.make_aware(datetime.combine(ctx.placed_date, time.min))
        if placed_at is None:
            raise InputError("fix", "The order's placed date is unknown, so the backfill has no start.")
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
        except Exception as exc:
            if exc.__class__.__name__ == "SoftTimeLimitExceeded":
                _backfill_continue(plugin, since)  # a slow platform ate the click's time: finish it later
            raise
        if run.resume_from is not None:
            _backfill_continue(plugin, run.resume_from)
        return f"Synced historical orders since {placed_at:%b %-d, %Y}: {run.message}"


@register
class PluginErrors(Check):
    key = "plugin_errors"
    title = "No open plugin errors"
    description = (
        "Step 4: recent error notifications for the plugin or the order, grouped by kind, each "
        "re-checked now (is the SKU in the catalog yet? is the throttle over?)."
    )

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        since = timezone.now() - NOTIFICATION_WINDOW
        notes = list(
            Notification.objects.filter(plugin=plugin, last_seen_at__gte=since, kind__in=STEP_4_KINDS)
            .filter(order_number__in=["", ctx.order_number] if ctx.order_number else [""])
            .order_by("kind", "-last_seen_at")
        )
        # A throttle the plugin records now counts even if no notification was written.
        still, resolved = [], []
        by_kind = defaultdict(list)
        for note in notes:
            by_kind[note.kind].append(note)
        for kind, group in by_kind.items():
            current = self._still_current(plugin, kind, group, ctx)
            (still if current else resolved).append((kind, group, current))
        rate = importing.rule_not_rate_limited(plugin)
        if not rate.passed and Notification.Kind.RATE_LIMIT not in by_kind:
            still.append((Notification.Kind.RATE_LIMIT, [], rate.message))
        evidence = [f"{Notification.Kind(kind).label}: {detail}" for kind, _group, detail in still] + [
            f"{Notification.Kind(kind).label} (resolved since): {group[0].message}"
            for kind, group, _ in resolved
        ]
        if still:
            kind, _group, detail = still[0]
            return Outcome.failed(
                f"{len(still)} plugin error{'s' if len(still) > 1 else ''} still stand{'s' if len(still) == 1 else ''} in the way.",
                *evidence,
                data={"open_kinds": [k for k, _, _ in still]},
            )
        if resolved:
            return Outcome.passed("Earlier plugin errors are resolved now.", *evidence)
        subject = f"“{plugin.name}” or order #{ctx.order_number}" if ctx.order_number else f"“{plugin.name}”"
        return Outcome.passed(f"No error notifications for {subject} in the last 30 days.")

    def _still_current(self, plugin: Plugin, kind: str, group: list[Notification], ctx: CheckContext) -> str:
        """Re-verify a kind of error now; return what still stands, or "" when it is resolved."""
        if kind == Notification.Kind.MISSING_PRODUCT:
            catalog = importing.catalog_sku_map(plugin.merchant_id)
            missing = sorted(
                {sku for n in group for sku in n.evidence.get("missing_skus", []) if sku not in catalog}
            )
            return (
                f"SKU {', '.join(missing)} is still not in your catalog; import or create the product."
                if missing
                else ""
            )
        if kind == Notification.Kind.RATE_LIMIT:
            rate = importing.rule_not_rate_limited(plugin)
            return "" if rate.passed else rate.message
        if kind == Notification.Kind.MISSING_CUSTOMER_FIELDS:
            try:
                source_order = _source_order(ctx, plugin) if ctx.order_number else None
            except PlatformError:
                source_order = None
            if source_order is not None:
                result = importing.rule_buyer_complete(source_order)
                return "" if result.passed else f"{result.message} Support can help complete the buyer data."
            return group[0].message
        if kind == Notification.Kind.UNREADABLE_ORDER and ctx.order_number and _imported_order(ctx):
            return ""  # it imported since (e.g. the platform's data was corrected)
        return group[0].message


@register
class PluginAuthorized(Check):
    key = "plugin_authorized"
    title = "The plugin is authorized"
    description = "Step 5: asks the platform, live, whether it accepts the plugin's credentials; the fix is Reauthorize."

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        try:
            result = ctx.memo(
                f"authorized:{plugin.pk}",
                lambda: importing.rule_authorized(plugin, plugin.client(timeout=INTERACTIVE_TIMEOUT)),
            )
        except PlatformError as exc:
            return _couldnt_ask(plugin, exc, what="ask the platform")
        importing.plugin_authorization_record(plugin, result, now=timezone.now())
        if result.passed:
            return Outcome.passed(result.message)
        url = reauthorize_url(plugin)
        if url:
            fixes = (Fix("reauthorize", "Reauthorize", "Runs the platform's authorization again.", url=url),)
        else:
            fixes = ()
            result = replace(result, message=f"{result.message} Reconnect it from Configuration → Plugins.")
        return Outcome.failed(
            result.message,
            "Reauthorize with the same platform account; another account creates a new connection.",
            fixes=fixes,
        )


@register
class SourceOrderState(Check):
    key = "source_order_state"
    title = "The order is paid and confirmed on the platform"
    description = (
        "Step 6: finds the order on the source platform and shows its state in the platform's own word."
    )
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        try:
            source_order = _source_order(ctx, plugin)
        except PlatformError as exc:
            return _couldnt_ask(plugin, exc, what="look the order up on the platform")
        if source_order is None:
            return Outcome.failed(
                f"The platform has no order #{ctx.order_number} for “{plugin.name}”.",
                "Check the number on the source platform, and that it came through this plugin's store.",
            )
        result = importing.rule_importable_state(source_order)
        status = Outcome.passed if result.passed else Outcome.failed
        return status(result.message, data=result.evidence)


@register
class ManualSync(Check):
    key = "manual_sync"
    title = "A fresh sync brings the order in"
    description = "Step 7: is the order in Commerce Kitty now? The fix runs a manual sync, then checks again."
    needs_order_number = True

    def run(self, ctx: CheckContext) -> Outcome:
        plugin = _plugin(ctx)
        here = _already_imported(ctx)
        if here is not None:
            return here
        last = plugin.sync_runs.order_by("-started_at").first()
        evidence = [
            f"Last sync: {_when(last.started_at)}, {last.message}"
            if last
            else "This plugin has not synced yet."
        ]
        if not plugin.capabilities.manual_sync:
            return Outcome.failed(
                f"Order #{ctx.order_number} is not in Commerce Kitty, and {plugin.get_platform_display()} "
                "does not support manual syncs.",
                *evidence,
            )
        return Outcome.failed(
            f"Order #{ctx.order_number} is not in Commerce Kitty yet.",
            *evidence,
            fixes=(
                Fix("sync_now", "Sync now", f"Pulls {plugin.name}'s recent orders now, then checks again."),
            ),
        )

    def apply_fix(self, ctx: CheckContext, fix_key: str, choice: str = "") -> str:
        if fix_key != "sync_now":
            return super().apply_fix(ctx, fix_key, choice)
        plugin = _plugin(ctx)
        try:
            run = importing.plugin_sync(plugin=plugin, mode="manual")
        except PlatformError as exc:
            raise InputError("fix", f"Couldn't sync now: {exc}") from None
        return f"Synced “{plugin.name}”: {run.message}"


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
