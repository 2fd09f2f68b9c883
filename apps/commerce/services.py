"""Writes to a merchant's account that are not part of the import itself."""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.platforms.authorization import AuthorizationAnswer
from kitty_troubleshoot.said import said, said_n

from .models import AuthorizationState, Notification, Plugin, SyncRun

logger = logging.getLogger(__name__)


def plugin_authorization_finish(
    *,
    plugin: Plugin,
    params: dict[str, str],
    received: dict | None = None,
    callback_url: str = "",
    kept: dict | None = None,
) -> bool:
    """Finish the platform's authorization flow and keep what it returned; False when the merchant cancelled.

    Raises CallbackRejected (an answer not for this plugin) and PlatformError
    (the platform refused). The exchange with the platform runs outside a
    transaction: no row stays locked while a platform takes its time.
    """
    answer = AuthorizationAnswer(
        credentials=dict(plugin.credentials),
        params=params,
        connection=plugin.client().connection,
        received=received or {},
        callback_url=callback_url,
        kept=kept or {},
    )
    new_credentials = plugin.provider.flow.finish(answer)
    if new_credentials is None:
        return False
    plugin_credentials_renew(plugin=plugin, new_credentials=new_credentials)
    return True


@transaction.atomic
def plugin_credentials_renew(*, plugin: Plugin, new_credentials: dict) -> None:
    """Keep what an authorization flow returned; the plugin counts as authorized again."""
    plugin.credentials = {**plugin.credentials, **new_credentials}
    plugin.authorization_status = Plugin.Authorization.AUTHORIZED
    plugin.authorization_error = ""
    plugin.authorization_checked_at = timezone.now()
    plugin.save(
        update_fields=[
            "credentials",
            "authorization_status",
            "authorization_error",
            "authorization_checked_at",
        ]
    )
    Notification.objects.filter(
        plugin=plugin, kind=Notification.Kind.AUTHORIZATION, resolved_at__isnull=True
    ).update(
        resolved_at=plugin.authorization_checked_at,
        **Notification.resolution_fields(said("“%(plugin)s” was reauthorized.", plugin=plugin.name)),
    )


class AuthorizationRefused(Exception):
    """An authorization state that is unknown, expired, used, or someone else's; the message says which."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def authorization_state_start(*, plugin: Plugin, user, next_url: str, kept: dict | None = None) -> str:
    """A new opaque, single-use state for one Reauthorize of ``plugin`` by ``user``; returns the token.

    The token is random and says nothing about the plugin or the user; what it
    stands for is kept here, for ``REAUTHORIZE_TIMEOUT`` seconds.
    """
    now = timezone.now()
    # Housekeeping: states a day past their expiry are of no use to anyone.
    AuthorizationState.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    token = secrets.token_urlsafe(32)
    AuthorizationState.objects.create(
        token_hash=_token_hash(token),
        user=user,
        plugin=plugin,
        next_url=next_url,
        kept=kept or {},
        created_at=now,
        expires_at=now + timedelta(seconds=settings.REAUTHORIZE_TIMEOUT),
    )
    return token


def _usable_state(token: str, *, platform: str, now) -> AuthorizationState:
    state = (
        AuthorizationState.objects.select_for_update()
        .select_related("plugin")
        .filter(token_hash=_token_hash(token or ""))
        .first()
    )
    if state is None:
        raise AuthorizationRefused(said("This authorization is not one we started. Start Reauthorize again."))
    if state.plugin.platform != platform:
        # A state is good only at the door of the platform it was issued for (its plugin's):
        # another platform's callback or key POST must not finish or feed it, nor use it up.
        raise AuthorizationRefused(
            said(
                "This authorization was started for a %(platform)s plugin, and came back from another platform. "
                "Nothing changed: start Reauthorize again.",
                platform=state.plugin.provider.label,
            )
        )
    if state.used_at is not None:
        raise AuthorizationRefused(said("This authorization was already used. Start Reauthorize again."))
    if state.expires_at <= now:
        minutes = max(1, settings.REAUTHORIZE_TIMEOUT // 60)
        raise AuthorizationRefused(
            said_n(
                "This authorization has expired (it lasts %(count)s minute). Start Reauthorize again.",
                "This authorization has expired (it lasts %(count)s minutes). Start Reauthorize again.",
                minutes,
            )
        )
    return state


@transaction.atomic
def authorization_state_use(
    *, token: str, platform: str, user, needs_received_keys: bool = False
) -> AuthorizationState:
    """Use the state once, as the user who started it, coming back from its plugin's ``platform``;
    raises AuthorizationRefused otherwise.

    Someone else's attempt does not use it up: the merchant it belongs to can
    still finish.
    """
    now = timezone.now()
    state = _usable_state(token, platform=platform, now=now)
    if state.user_id != getattr(user, "pk", None):
        raise AuthorizationRefused(
            said(
                "This authorization was started by someone else. Sign in as that user, or start Reauthorize again."
            )
        )
    if needs_received_keys and state.received_at is None:
        raise AuthorizationRefused(
            said(
                "%(platform)s did not send us the new keys. Start Reauthorize again.",
                platform=state.plugin.provider.label,
            )
        )
    state.used_at = now
    state.save(update_fields=["used_at"])
    return state


@transaction.atomic
def authorization_state_receive(*, token: str, platform: str, credentials: dict) -> AuthorizationState:
    """Keep the credentials ``platform``'s server sent for this state, once, until the merchant returns.

    Only the platform the state was issued for may send them.

    Nothing about the plugin changes here: the sender is not signed in, so the
    keys take effect only when the user who started the flow comes back.
    """
    state = _usable_state(token, platform=platform, now=timezone.now())
    if state.received_at is not None:
        raise AuthorizationRefused(said("Keys for this authorization were already received."))
    state.received_credentials = credentials
    state.received_at = timezone.now()
    state.save(update_fields=["received_credentials", "received_at"])
    return state


# Past the hard limit a sync's worker has certainly been stopped; the grace
# covers clocks and the moment between the limit and the kill.
SYNC_RUN_GRACE = timedelta(seconds=5)


def sync_runs_end_abandoned() -> int:
    """End every SyncRun still running past the sync task's hard time limit as failed; returns how many.

    Such a run's worker died (killed, out of memory, the machine restarted)
    before it could record the end. Its lock went with it: the sync lock is
    held by the worker's database connection, which PostgreSQL closed.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.SYNC_TASK_TIME_LIMIT) - SYNC_RUN_GRACE
    message = said(
        "This sync stopped without finishing (its worker was stopped). Orders imported before "
        "that are kept; the next sync carries on."
    )
    ended = SyncRun.objects.filter(outcome=SyncRun.Outcome.RUNNING, started_at__lt=cutoff).update(
        outcome=SyncRun.Outcome.FAILED, finished_at=now, **SyncRun.said_values("message", message)
    )
    if ended:
        logger.warning("%s abandoned sync runs ended as failed", ended)
    return ended


# --- Sync now, from a step: queued where syncs run, followed by the step -------

# A Sync now pressed on a step waits this long at most for the bulk queue; the
# step says "queued" meanwhile and stops waiting for it after that.
SYNC_NOW_FOLLOW = timedelta(minutes=10)


def _sync_now_key(plugin_id: int) -> str:
    return f"sync-now:{plugin_id}"


def plugin_sync_now_enqueue(*, plugin: Plugin, order_number: str, recheck_by_user_id: int | None) -> bool:
    """Queue a manual sync of ``plugin`` on the bulk queue (where syncs run, never on a click's lane).

    The sync looks for ``order_number`` too; when it ends it checks the
    merchant's diagnosis of this plugin again as ``recheck_by_user_id``, so
    the step that pressed it shows its result. Until then
    ``plugin_sync_now_pending`` says since when it waits. Returns True when
    the sync has already run (tasks run in-process: the demo, no broker).
    Raises what the broker raises when it cannot take the task.
    """
    from celery.result import EagerResult
    from django.core.cache import cache

    from .tasks import sync_plugin

    # Marked before it is queued: the sync (eager in the demo) may end before apply_async returns.
    cache.set(_sync_now_key(plugin.pk), timezone.now().isoformat(), SYNC_NOW_FOLLOW.total_seconds())
    try:
        result = sync_plugin.apply_async(
            (plugin.pk, SyncRun.Mode.MANUAL),
            {"order_numbers": [order_number] if order_number else [], "recheck_by": recheck_by_user_id},
        )
    except Exception:
        cache.delete(_sync_now_key(plugin.pk))
        raise
    return isinstance(result, EagerResult)


def plugin_sync_now_pending(plugin: Plugin):
    """When a Sync now of this plugin was queued, while it has not ended (None otherwise)."""
    from django.core.cache import cache
    from django.utils.dateparse import parse_datetime

    queued_at = cache.get(_sync_now_key(plugin.pk))
    return parse_datetime(queued_at) if queued_at else None


def plugin_sync_now_ended(plugin_id: int) -> None:
    from django.core.cache import cache

    cache.delete(_sync_now_key(plugin_id))
