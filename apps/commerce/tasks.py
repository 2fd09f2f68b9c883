"""Celery tasks: they take ids, load the row and call one service."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings
from django.utils.dateparse import parse_datetime

from apps.platforms.base import PlatformUnavailable
from kitty_troubleshoot.said import said

from .importing import plugin_sync
from .locks import Lock, sync_lock
from .models import Plugin, SyncRun
from .services import plugin_sync_now_ended, sync_runs_end_abandoned

logger = logging.getLogger(__name__)

# Two syncs of one plugin at once are harmless (imports are idempotent) but
# wasteful of the platform's rate limit: the second one is skipped while the
# first holds the plugin's sync lock (locks.py).
# A backfill that finds another sync running tries again this often, this many times.
BACKFILL_RETRY_SECONDS = 60
BACKFILL_RETRIES = 15
# A sync whose lock could not be asked (the database did not answer) tries again this often.
LOCK_UNAVAILABLE_RETRY_SECONDS = 30
LOCK_UNAVAILABLE_RETRIES = 10


@shared_task(ignore_result=True)
def sync_all_plugins() -> int:
    """Beat, every 5 minutes: queue a scheduled sync for every plugin importing orders."""
    plugin_ids = list(Plugin.objects.filter(import_orders=True).values_list("pk", flat=True))
    for plugin_id in plugin_ids:
        sync_plugin.delay(plugin_id, SyncRun.Mode.SCHEDULED)
    return len(plugin_ids)


@shared_task(
    bind=True,
    ignore_result=True,
    # Only a platform that did not answer is worth another try; "not
    # authorized" or "rate limited" are answers, recorded by the importer.
    autoretry_for=(PlatformUnavailable,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=4,
    soft_time_limit=settings.SYNC_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.SYNC_TASK_TIME_LIMIT,
    acks_late=True,
    reject_on_worker_lost=True,
)
def sync_plugin(
    self,
    plugin_id: int,
    mode: str = SyncRun.Mode.MANUAL,
    backfill_since: str | None = None,
    resume_from: str | None = None,
    order_numbers: list[str] | None = None,
    recheck_by: int | None = None,
) -> None:
    """Sync a plugin for one slice, queueing the rest.

    ``order_numbers``: orders a merchant pressed Sync now for, looked up by
    number too. ``recheck_by``: the user whose diagnosis of the plugin is
    checked again once the sync has ended (Sync now from a step).
    """
    plugin = Plugin.objects.filter(pk=plugin_id).first()
    if plugin is None:
        logger.info("sync skipped: plugin %s no longer exists", plugin_id)
        return
    try:
        _sync_plugin(self, plugin, mode, backfill_since, resume_from, order_numbers, recheck_by)
    except Exception as exc:
        # A retry comes back to follow up; anything else ends here, and the step says so.
        retried = isinstance(exc, Retry) or (
            isinstance(exc, PlatformUnavailable) and self.request.retries < self.max_retries
        )
        if not retried:
            _sync_now_follow_up(plugin, recheck_by, is_eager=self.request.is_eager)
        raise


def _sync_plugin(self, plugin, mode, backfill_since, resume_from, order_numbers, recheck_by) -> None:
    plugin_id = plugin.pk
    since: datetime | None = parse_datetime(backfill_since) if backfill_since else None
    resume: datetime | None = parse_datetime(resume_from) if resume_from else None
    with sync_lock(plugin_id) as lock:
        if lock is Lock.UNAVAILABLE:
            # Not a reason to skip: the lock could not be asked, so nobody knows whether
            # another sync runs. Try again soon rather than run twice or never.
            logger.warning("sync of plugin %s waits: its lock could not be asked", plugin_id)
            if self.request.is_eager:
                return
            raise self.retry(countdown=LOCK_UNAVAILABLE_RETRY_SECONDS, max_retries=LOCK_UNAVAILABLE_RETRIES)
        if lock is Lock.REFUSED:
            # A continuation (resume) is the rest of a sync already under way: it waits too.
            if (since is not None or resume is not None) and not self.request.is_eager:
                # A backfill (often the rest of one a merchant started) must not be lost to a
                # scheduled sync holding the lock: scheduled syncs never reach that far back.
                logger.info("backfill of plugin %s waits: another sync is running", plugin_id)
                raise self.retry(countdown=BACKFILL_RETRY_SECONDS, max_retries=BACKFILL_RETRIES)
            logger.info("sync of plugin %s skipped: another sync is running", plugin_id)
            _sync_now_follow_up(plugin, recheck_by, is_eager=self.request.is_eager)
            return
        run = _sync_slice(
            plugin, mode=mode, backfill_since=since, resume_from=resume, order_numbers=order_numbers
        )
        logger.info("sync of plugin %s: %s (%s)", plugin_id, run.outcome, run.message)
    if run.resume_from is None:
        _sync_now_follow_up(plugin, recheck_by, is_eager=self.request.is_eager)
    _sync_continue(run, mode=mode, backfill_since=backfill_since, recheck_by=recheck_by)


def _sync_now_follow_up(plugin: Plugin, recheck_by: int | None, *, is_eager: bool) -> None:
    """A Sync now from a step has ended: the step stops saying "queued" and is checked again.

    Eagerly (the demo without a broker) the fix's own check, right after, shows the result.
    """
    if recheck_by is None:
        return
    plugin_sync_now_ended(plugin.pk)
    if is_eager:
        return
    from django.contrib.auth import get_user_model

    from apps.checks.services.fixes import diagnosis_recheck_after_fix

    user = get_user_model().objects.filter(pk=recheck_by).first()
    last = plugin.sync_runs.order_by("-started_at").first()
    if last is not None:
        note = said("Synced “%(plugin)s”: %(result)s", plugin=plugin.name, result=last.message)
    else:
        note = said("Synced “%(plugin)s”.", plugin=plugin.name)
    if user is not None:
        diagnosis_recheck_after_fix(
            user=user,
            merchant_id=plugin.merchant_id,
            subject_id=plugin.pk,
            check_key="manual_sync",
            note=note,
        )


# --- Bounded syncs: one slice per task, the rest queued as the next task -------


def _sync_slice(
    plugin: Plugin,
    *,
    mode: str,
    backfill_since: datetime | None,
    resume_from: datetime | None,
    order_numbers: list[str] | None = None,
) -> SyncRun:
    """At most SYNC_TASK_SLICE_SECONDS of fetching (plus the page under way), so a bulk worker is
    never held for minutes by one store; where it stopped is in ``run.resume_from``."""
    return plugin_sync(
        plugin=plugin,
        mode=mode,
        backfill_since=backfill_since,
        resume_from=resume_from,
        time_budget=settings.SYNC_TASK_SLICE_SECONDS,
        order_numbers=tuple(order_numbers or ()),
    )


def _sync_continue(run: SyncRun, *, mode: str, backfill_since: str | None, recheck_by: int | None) -> None:
    """Queue the rest of a sync that stopped at its slice's end, after its lock was released,
    so the next task is not turned away by the lock of the one that queued it."""
    if run.resume_from is None:
        return
    sync_plugin.delay(
        run.plugin_id,
        mode,
        backfill_since=backfill_since,
        resume_from=run.resume_from.isoformat(),
        recheck_by=recheck_by,
    )


@shared_task(ignore_result=True)
def end_abandoned_syncs() -> int:
    """Beat: SyncRuns left running past the sync's hard time limit end as failed."""
    return sync_runs_end_abandoned()
