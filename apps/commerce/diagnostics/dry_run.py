"""One dry run of the importer per diagnosis task: the verdict every step reads its rules from."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from django.utils import timezone

from apps.checks.base import ARRIVAL_KEY, Arrival, CheckContext, InputError, Outcome
from apps.checks.registry import get_check
from apps.platforms.base import (
    MalformedOrder,
    NotAuthorized,
    PlatformError,
    RateLimited,
    SourceOrder,
    UnreadableOrder,
)
from kitty_troubleshoot.said import Said, said, said_p

from .. import importing
from ..importing import rules
from ..importing.rules import NOT_FETCHED, ImportVerdict
from ..models import Notification, Order, Plugin

NOTIFICATION_WINDOW = timedelta(days=30)
# A merchant is waiting: platform calls from a check give up well inside the
# check task's 20 s soft time limit, even with two calls in one diagnosis.
INTERACTIVE_TIMEOUT = httpx.Timeout(5.0, connect=2.0)

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


def order_number_of(ctx: CheckContext) -> str:
    """The order number the diagnosis is about, as its plugin's platform writes it ("" when none was typed)."""
    return ctx.inputs.get("order_number") or ""


def placed_date_of(ctx: CheckContext) -> date | None:
    """The date the merchant says the order was placed, if they typed one."""
    return ctx.inputs.get("placed_date") or None


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
            raise InputError("subject", said("That plugin is no longer in your account. Choose another."))
        return plugin

    return ctx.memo(f"plugin:{ctx.subject_id}", read)


def _imported_order(ctx: CheckContext) -> Order | None:
    if not order_number_of(ctx):
        return None
    return (
        Order.objects.filter(
            merchant_id=ctx.merchant_id, plugin_id=ctx.subject_id, number=order_number_of(ctx)
        )
        .select_related("channel")
        .first()
    )


def _imported_order_seen(ctx: CheckContext) -> Order | None:
    """The imported order as this task's checks first saw it (one query for every step that asks).

    Fixes read it afresh (``_imported_order``): a sync they run may import it.
    """
    return ctx.memo(f"imported:{ctx.subject_id}:{order_number_of(ctx)}", lambda: _imported_order(ctx))


def account_verdict(ctx: CheckContext, plugin: Plugin) -> ImportVerdict:
    """The rules the account alone decides (Import Orders, channels), without asking the platform."""
    return ctx.memo(
        f"verdict:account:{plugin.pk}",
        lambda: importing.import_verdict(
            plugin,
            NOT_FETCHED,
            rules.AccountState.for_order(plugin, None),
            number=order_number_of(ctx),
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
            if order_number_of(ctx):
                try:
                    order = client.get_order(order_number_of(ctx))
                except MalformedOrder as exc:
                    # The platform answered, but this order is in a shape we cannot read: the
                    # importer skips such an order too (rule "order_readable").
                    order = UnreadableOrder(id="", number=order_number_of(ctx), reason=str(exc))
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
            order = UnreadableOrder(id="", number=order_number_of(ctx), reason=str(exc))
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
            number=order_number_of(ctx),
            authorization=authorization,
            error=error,
            placed_on_typed=placed_date_of(ctx),
        )

    return ctx.memo(f"verdict:live:{plugin.pk}:{order_number_of(ctx)}", dry_run)


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


def step_named(check_key: str) -> Said | str:
    """A step by its check's title, quoted: articles number their steps differently, so evidence never says "Step 4"."""
    check = get_check(check_key)
    if check is None:
        return ""
    return said_p("a step named by its check's title", "“%(title)s”", title=check.title)


def _unknown_advice(verdict: ImportVerdict) -> list[Said]:
    """What to do about a rule that could not be judged, from why it could not."""
    rate = verdict.result(rules.NOT_RATE_LIMITED)
    auth = verdict.result(rules.AUTHORIZED)
    if rate is not None and rate.failed:
        return [
            said(
                "%(verdict)s See the step %(step)s; check again after that.",
                verdict=rate.message,
                step=step_named("plugin_errors"),
            )
        ]
    if auth is not None and auth.failed:
        return [
            said(
                "The platform does not accept the plugin's authorization: see the step %(step)s (Reauthorize).",
                step=step_named("plugin_authorized"),
            )
        ]
    if (rate is not None and rate.unknown) or (auth is not None and auth.unknown):
        return [said("The platform did not answer. Try again in a few minutes.")]
    return []


def _already_imported(ctx: CheckContext) -> Outcome | None:
    """Passed, with where and when, if the order is in Commerce Kitty; None if it is not."""
    order = _imported_order_seen(ctx)
    if order is None:
        return None
    return Outcome.passed(
        said("Order #%(number)s is already in Commerce Kitty.", number=order.number),
        said(
            "Imported %(moment)s into the channel %(channel)s.",
            moment=order.imported_at,
            channel=order.channel.name,
        ),
        data={"order_id": order.pk, "imported_at": order.imported_at.isoformat()},
    )
