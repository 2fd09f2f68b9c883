"""Watching a missing order until it arrives, and telling the merchant once."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.checks.models import Diagnosis
from apps.checks.selectors.summary import diagnosis_summary
from apps.checks.services.starting import diagnosis_rerun
from apps.commerce.models import Notification, Order, Plugin
from kitty_troubleshoot.limits import Limit, LimitRefused
from kitty_troubleshoot.said import Said, english_lines, said, said_n
from kitty_troubleshoot.words import duration_words

from .emails import watch_email
from .models import EmailPreference, OrderWatch

logger = logging.getLogger(__name__)

# A claim older than this belongs to a send that died (the e-mail task's hard limit is far shorter).
EMAIL_CLAIM = timedelta(minutes=5)
# An ended watch whose e-mail has not gone after this long is sent again by the beat sweep.
EMAIL_GRACE = timedelta(minutes=2)


class WatchRefused(Exception):
    """The order cannot be watched; ``args[0]`` says why, as a message (``str()``: in the active language)."""


def watch_hours() -> int:
    return settings.ORDER_WATCH_HOURS


def _watch_limit() -> Limit:
    # Each watch looks again after every sync of its plugin and ends with an e-mail.
    # Its own words go to the logs only; the merchant reads ``_watch_limit_refusal``.
    return Limit(
        name="follow:watches",
        allowed=settings.ORDER_WATCHES_PER_HOUR,
        window=60 * 60,
        too_many="{allowed} watches in the last hour; the next in {wait}.",
        unavailable="The watch limit cannot be counted.",
    )


def _watch_limit_refusal(refused: LimitRefused) -> Said:
    if refused.unavailable:
        return said("We cannot start watching orders for a moment. Try again in a few minutes.")
    return said_n(
        "You have started %(count)s watch in the last hour. Try again in %(wait)s.",
        "You have started %(count)s watches in the last hour. Try again in %(wait)s.",
        settings.ORDER_WATCHES_PER_HOUR,
        wait=duration_words(refused.retry_after or 0),
    )


def watch_for(diagnosis: Diagnosis | None) -> OrderWatch | None:
    """The account's open watch on this diagnosis' plugin and order, if any."""
    if diagnosis is None or not diagnosis.reference:
        return None
    return OrderWatch.objects.filter(
        merchant_id=diagnosis.merchant_id,
        plugin_id=diagnosis.subject_id,
        order_number=diagnosis.reference,
        state=OrderWatch.State.WATCHING,
    ).first()


def watch_start(*, user, diagnosis: Diagnosis) -> tuple[OrderWatch, bool]:
    """Watch the diagnosis' order (``diagnosis`` already scoped to the user's account).

    Returns ``(watch, True)``, or the account's open watch and False: one
    watch per account, plugin and order, even under two simultaneous presses.
    Raises WatchRefused, saying why, when there is nothing to wait for: the
    order is here, will never arrive, is not on the platform, or needs the
    merchant first (the diagnosis' ``Summary.watch_refusal``); or when the
    user has started too many watches in the last hour.
    """
    if not diagnosis.reference:
        raise WatchRefused(said("Type the missing order's number and check it first."))
    plugin = Plugin.objects.filter(pk=diagnosis.subject_id, merchant_id=diagnosis.merchant_id).first()
    if plugin is None:
        raise WatchRefused(said("That plugin is no longer in your account."))
    if Order.objects.filter(plugin=plugin, number=diagnosis.reference).exists():
        raise WatchRefused(
            said("Order #%(number)s is already in Commerce Kitty.", number=diagnosis.reference)
        )
    existing = watch_for(diagnosis)
    if existing is not None:
        return existing, False
    refusal = diagnosis_summary(diagnosis).watch_refusal
    if refusal:
        raise WatchRefused(refusal)
    try:  # only a watch that would be new is counted
        _watch_limit().hit(getattr(user, "pk", None))
    except LimitRefused as exc:
        raise WatchRefused(_watch_limit_refusal(exc)) from None
    now = timezone.now()
    try:
        with transaction.atomic():
            watch = OrderWatch.objects.create(
                merchant_id=diagnosis.merchant_id,
                plugin=plugin,
                order_number=diagnosis.reference,
                user=user,
                diagnosis=diagnosis,
                created_at=now,
                deadline=now + timedelta(hours=watch_hours()),
            )
    except IntegrityError:  # someone in the account pressed it a moment ago
        existing = watch_for(diagnosis)
        if existing is None:
            raise
        return existing, False
    return watch, True


def watch_cancel(*, watch: OrderWatch) -> bool:
    """Stop watching (``watch`` already scoped to the user's account); False if it had already ended."""
    return bool(
        OrderWatch.objects.filter(pk=watch.pk, state=OrderWatch.State.WATCHING).update(
            state=OrderWatch.State.CANCELLED, ended_at=timezone.now()
        )
    )


# --- Following the syncs ------------------------------------------------------------


def watches_follow_soon(sender=None, *, plugin, **kwargs) -> None:
    """After a sync imported orders: look at the plugin's watches once the import is committed."""
    transaction.on_commit(partial(_follow_enqueue, plugin.pk))


def _follow_enqueue(plugin_id: int) -> None:
    from .tasks import follow_watches

    try:
        follow_watches.delay(plugin_id)
    except Exception:  # the broker is down: the beat sweep looks again within a minute
        logger.warning("watches of plugin %s: the follow-up could not be queued", plugin_id, exc_info=True)


def watches_follow(*, plugin_id: int | None = None) -> int:
    """End every open watch whose order arrived or whose deadline passed; returns how many ended.

    Safe to run twice at once, or again after a crash: each watch is taken
    under a row lock and ended in the same transaction that records what it
    found, and its e-mail goes once (``watch_email_send``).
    """
    watching = OrderWatch.objects.filter(state=OrderWatch.State.WATCHING)
    if plugin_id is not None:
        watching = watching.filter(plugin_id=plugin_id)
    ended = sum(_watch_follow(pk) for pk in watching.values_list("pk", flat=True))
    for pk in _unsent_email_ids():
        _email_enqueue(pk)
    return ended


def _watch_follow(pk: int) -> bool:
    with transaction.atomic():
        rows = OrderWatch.objects.filter(pk=pk, state=OrderWatch.State.WATCHING)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        watch = rows.select_related("plugin", "merchant", "diagnosis__page", "user").first()
        if watch is None:  # ended meanwhile, or another sweep has it
            return False
        order = (
            Order.objects.filter(plugin=watch.plugin, number=watch.order_number)
            .select_related("channel")
            .first()
        )
        if order is not None:
            _watch_end_arrived(watch, order)
        elif timezone.now() >= watch.deadline:
            _watch_end_still_missing(watch)
        else:
            return False
        transaction.on_commit(partial(_email_enqueue, watch.pk))
    return True


def _watch_end_arrived(watch: OrderWatch, order: Order) -> None:
    watch.order = order
    _watch_said(
        watch,
        [
            said(
                "Order #%(number)s arrived in Commerce Kitty: imported %(when)s into the channel "
                "%(channel)s, through “%(plugin)s”.",
                number=order.number,
                when=order.imported_at or timezone.now(),
                channel=order.channel.name,
                plugin=watch.plugin.name,
            )
        ],
    )
    _watch_end(watch, OrderWatch.State.ARRIVED, Notification.Kind.ORDER_ARRIVED, url="")


def _watch_end_still_missing(watch: OrderWatch) -> None:
    """Run the diagnosis once more, here and now, and say what still stands in the way."""
    diagnosis = _diagnosis_again(watch)
    waited = duration_words((watch.deadline - watch.created_at).total_seconds())
    if diagnosis is None:
        _watch_said(
            watch,
            [
                said(
                    "Order #%(number)s is still not in Commerce Kitty, %(waited)s after you asked to be "
                    "told. The article it was checked on is no longer published, so it could not be "
                    "checked again: open a support ticket.",
                    number=watch.order_number,
                    waited=waited,
                )
            ],
        )
        _watch_end(watch, OrderWatch.State.STILL_MISSING, Notification.Kind.ORDER_STILL_MISSING, url="")
        return
    headline = said(
        "Order #%(number)s is still not in Commerce Kitty, %(waited)s after you asked to be told.",
        number=watch.order_number,
        waited=waited,
    )
    watch.recheck = diagnosis
    summary = diagnosis_summary(diagnosis, page=diagnosis.page.specific)
    _watch_said(watch, [headline, *(line.text for line in summary.lines())])
    step = summary.cause or (summary.unknown_steps[0] if summary.unknown_steps else None)
    url = diagnosis_link(diagnosis, f"step-{step.step_number}" if step else "still-missing")
    _watch_end(watch, OrderWatch.State.STILL_MISSING, Notification.Kind.ORDER_STILL_MISSING, url=url)


def _diagnosis_again(watch: OrderWatch) -> Diagnosis | None:
    """Every step checked again for the watched order, in this task, as a diagnosis of the watcher's."""
    page = watch.diagnosis.page.specific if watch.diagnosis and watch.diagnosis.page else None
    if page is None or not page.live or not hasattr(page, "body"):
        return None
    return diagnosis_rerun(
        merchant_id=watch.merchant_id,
        page=page,
        subject_id=watch.plugin_id,
        subject_label=watch.plugin.name,
        inputs=watch.diagnosis.inputs,
        user=watch.user,
        inline=True,
    )


def diagnosis_link(diagnosis: Diagnosis, to: str) -> str:
    """Where a notification or e-mail sends the merchant: the article showing this diagnosis, at ``to``."""
    return reverse("checks:open", args=[diagnosis.uuid]) + f"?to={to}"


def _watch_said(watch: OrderWatch, lines: list) -> None:
    """What the watch tells the merchant: its sentences as messages, and their English for ``result``."""
    watch.said = lines
    watch.result = english_lines(lines)


def notification_message(lines: list):
    """The watch's sentences as the one message a notification says (each sentence a value of the next)."""
    message = lines[0]
    for line in lines[1:]:
        message = said("%(said)s %(then)s", said=message, then=line)
    return message


def _watch_end(watch: OrderWatch, state: str, kind: str, *, url: str) -> None:
    now = timezone.now()
    fields = Notification.message_fields(notification_message(watch.said))
    evidence = {"url": url, "watch": str(watch.uuid)}
    watch.notification = Notification.objects.create(
        merchant_id=watch.merchant_id,
        plugin=watch.plugin,
        order_number=watch.order_number,
        kind=kind,
        evidence=evidence,
        created_at=now,
        last_seen_at=now,
        **fields,
    )
    watch.state, watch.ended_at = state, now
    watch.save(update_fields=["state", "ended_at", "order", "recheck", "result", "said", "notification"])


# --- The e-mail -------------------------------------------------------------------


def _unsent_email_ids() -> list[int]:
    return list(
        OrderWatch.objects.filter(
            state__in=(OrderWatch.State.ARRIVED, OrderWatch.State.STILL_MISSING),
            emailed_at__isnull=True,
            email_skipped=False,
            ended_at__lt=timezone.now() - EMAIL_GRACE,
        ).values_list("pk", flat=True)[:200]
    )


def _email_enqueue(watch_id: int) -> None:
    from .tasks import send_watch_email

    try:
        send_watch_email.delay(watch_id)
    except Exception:  # the beat sweep sends it later
        logger.warning("watch %s: the e-mail could not be queued", watch_id, exc_info=True)


def emails_wanted(user) -> bool:
    preference = EmailPreference.objects.filter(user=user).first()
    return preference is None or preference.watch_emails


def watch_email_send(*, watch_id: int) -> bool:
    """Send the watch's one e-mail; True if this call sent it. Delivered twice, it sends once."""
    now = timezone.now()
    claimed = (
        OrderWatch.objects.filter(pk=watch_id, emailed_at__isnull=True, email_skipped=False)
        .exclude(state=OrderWatch.State.WATCHING)
        .exclude(email_claimed_at__gt=now - EMAIL_CLAIM)
        .update(email_claimed_at=now)
    )
    if not claimed:
        return False
    watch = OrderWatch.objects.select_related("user", "plugin", "order__channel", "recheck").get(pk=watch_id)
    if not watch.user.email or not emails_wanted(watch.user):
        OrderWatch.objects.filter(pk=watch_id).update(email_skipped=True)
        return False
    try:
        watch_email(watch).send()
    except Exception:
        OrderWatch.objects.filter(pk=watch_id).update(email_claimed_at=None)  # the next try may send it
        raise
    OrderWatch.objects.filter(pk=watch_id).update(emailed_at=timezone.now())
    return True


def email_preference_set(*, user, watch_emails: bool) -> None:
    EmailPreference.objects.update_or_create(
        user=user, defaults={"watch_emails": watch_emails, "updated_at": timezone.now()}
    )
