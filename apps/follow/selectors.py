"""What the inbox shows: the account's notifications, each linked to the step that explains it."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.commerce.diagnostics import CHECK_OF_NOTIFICATION
from apps.commerce.models import Notification

from .models import OrderWatch


def account_notifications(merchant_id: int) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(merchant_id=merchant_id)
        .select_related("plugin")
        .order_by("-last_seen_at", "-pk")
    )


def unread_count(merchant_id: int) -> int:
    """What the bell counts: unread notifications of what still stands (a resolved one asks nothing)."""
    return Notification.objects.filter(merchant_id=merchant_id, read=False, resolved_at__isnull=True).count()


def notification_for_account(account, pk: int) -> Notification | None:
    """The account's notification ``pk`` (``account`` is ``request.account``); None for anyone else's."""
    if account is None:
        return None
    return Notification.objects.filter(merchant_id=account.merchant_id, pk=pk).first()


def watch_for_account(account, watch_uuid) -> OrderWatch | None:
    if account is None:
        return None
    try:
        return OrderWatch.objects.filter(merchant_id=account.merchant_id, uuid=watch_uuid).first()
    except (ValueError, TypeError):
        return None


def steps_explaining() -> dict[str, str]:
    """Check key → the first published article step that carries it (its URL), read once for a page of notes."""
    from apps.checks.selectors.steps import step_targets
    from apps.help.models import TroubleshootingPage

    links: dict[str, str] = {}
    for page in TroubleshootingPage.objects.live().order_by("path"):
        for target in step_targets(page):
            links.setdefault(target.check_key, f"{page.url}#step-{target.step_number}")
    return links


def notification_links(notes) -> list[tuple[Notification, str]]:
    """Each notification with where it is explained ("" if nowhere), the articles read once for all."""
    steps: dict[str, str] | None = None
    linked = []
    for note in notes:
        recorded = (note.evidence or {}).get("url") if isinstance(note.evidence, dict) else ""
        if not recorded and steps is None:
            steps = steps_explaining()
        linked.append((note, recorded or (steps or {}).get(CHECK_OF_NOTIFICATION.get(note.kind, ""), "")))
    return linked


def notification_link(note: Notification) -> str:
    """Where a notification is explained: what it recorded (a watch's diagnosis), else its step ("" if none)."""
    return notification_links([note])[0][1]
