"""What the inbox shows: the account's notifications, each linked to the step that explains it."""

from __future__ import annotations

from dataclasses import dataclass

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
    return Notification.objects.filter(merchant_id=merchant_id, read=False).count()


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


@dataclass(frozen=True)
class ArticleStep:
    url: str
    number: int


def step_explaining(check_key: str) -> ArticleStep | None:
    """The first published article step that carries this check."""
    from apps.checks.selectors import step_targets
    from apps.help.models import TroubleshootingPage

    for page in TroubleshootingPage.objects.live().order_by("path"):
        for target in step_targets(page):
            if target.check_key == check_key:
                return ArticleStep(f"{page.url}#step-{target.step_number}", target.step_number)
    return None


def notification_link(note: Notification) -> str:
    """Where a notification is explained: what it recorded (a watch's diagnosis), else its step ("" if none)."""
    recorded = (note.evidence or {}).get("url") if isinstance(note.evidence, dict) else ""
    if recorded:
        return recorded
    check_key = CHECK_OF_NOTIFICATION.get(note.kind)
    step = step_explaining(check_key) if check_key else None
    return step.url if step else ""
