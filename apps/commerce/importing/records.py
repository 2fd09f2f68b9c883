"""What the importer writes besides orders: notifications, and what it learned about the plugin."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from apps.platforms.base import RateLimited
from kitty_troubleshoot.said import Said

from ..models import Notification, Plugin
from .rules import RuleResult, rule_not_rate_limited


def notifications_record(plugin: Plugin, failures: list[tuple[str, RuleResult]], *, now: datetime) -> None:
    """One notification per (plugin, order, kind): a repeat counts up instead of piling up.

    Only import attempts (syncs) call this, so "seen N times" counts what the
    importer met, never how often a merchant checked. A repeat of something
    resolved since is a new notification.
    """
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
            resolved_at__isnull=True,
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
                    **Notification.message_fields(result.message),
                    evidence=result.evidence,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        else:
            for name, value in Notification.message_fields(result.message).items():
                setattr(row, name, value)
            row.evidence, row.last_seen_at = result.evidence, now
            row.occurrences += 1
            repeated.append(row)
    Notification.objects.bulk_create(new)
    Notification.objects.bulk_update(repeated, ["message", "said", "evidence", "last_seen_at", "occurrences"])


def notifications_resolve(
    plugin: Plugin,
    kinds: Iterable[str],
    *,
    how: Said,
    order_number: str | None = None,
    order_numbers: Iterable[str] | None = None,
    now: datetime,
) -> int:
    """Mark the plugin's notifications of ``kinds`` resolved, saying ``how`` (a message); returns how many.

    ``order_number``: only those about that order ("" for the plugin's own);
    ``order_numbers``: those about any of these orders; all of them when neither is given.
    """
    rows = Notification.objects.filter(plugin=plugin, kind__in=list(kinds), resolved_at__isnull=True)
    if order_number is not None:
        rows = rows.filter(order_number=order_number[:64])
    if order_numbers is not None:
        rows = rows.filter(order_number__in=[number[:64] for number in order_numbers])
    return rows.update(resolved_at=now, **Notification.resolution_fields(how))


def plugin_rate_limit_record(
    plugin: Plugin, exc: RateLimited, *, now: datetime, attempt: bool = True
) -> None:
    """The platform's throttling, kept on the plugin so syncs and checks wait it out.

    ``attempt``: met by an import attempt, which the bell counts; a merchant's check is not one.
    """
    plugin.rate_limited_until = exc.until(now)
    Plugin.objects.filter(pk=plugin.pk).update(rate_limited_until=plugin.rate_limited_until)
    if attempt:
        notifications_record(plugin, [("", rule_not_rate_limited(plugin, now))], now=now)


def plugin_authorization_record(plugin: Plugin, result: RuleResult, *, now: datetime) -> None:
    """What the platform said of the plugin's credentials; an unknown answer changes nothing."""
    if result.unknown:
        return
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
