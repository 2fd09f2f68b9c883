"""Starting, running, fixing and expiring checks."""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.result import EagerResult
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from wagtail.models import Page

from kitty_troubleshoot.celery import is_broker_error

from .base import AccountAccess, CheckContext, InputError, Outcome
from .models import CheckRun, CheckStart, Diagnosis, PreviewSession
from .registry import account_directory, get_check
from .sets import set_of

logger = logging.getLogger(__name__)

# The task limits are Django's CELERY_TASK_SOFT_TIME_LIMIT / CELERY_TASK_TIME_LIMIT,
# read when a task is queued and sent with it, so the limit a worker enforces
# and the deadline a run is given come from the same number. A claimed run's
# deadline is the hard limit plus this grace: a run whose worker died shows
# "couldn't finish" that soon after it started, not later.
RUN_DEADLINE_GRACE = timedelta(seconds=5)
# The per-user start limits count what a person started in this sliding window.
START_LIMIT_WINDOW = timedelta(seconds=60)


def task_time_limits() -> tuple[int, int]:
    """(soft, hard) seconds a check task may run, as configured now."""
    return settings.CELERY_TASK_SOFT_TIME_LIMIT, settings.CELERY_TASK_TIME_LIMIT


def task_expires_seconds() -> int:
    """How long a queued check task may wait for a worker; older ones are dropped, never run late."""
    return settings.CHECK_TASK_EXPIRES


class ChecksUnavailable(Exception):
    """The broker did not take the task: checks cannot run right now."""


class TooManyChecks(Exception):
    """The user started more checks (or fixes) than allowed in a minute."""

    def __init__(self, message: str, *, wait_seconds: int):
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class StepTarget:
    """One step of an article that carries a check."""

    check_key: str
    block_id: str
    step_number: int | None


def diagnosis_for(
    *, account: AccountAccess | None, user, page, subject_id: int | None, values: dict[str, Any]
) -> Diagnosis:
    """The account's current diagnosis for these inputs (``values``, cleaned by the page's set), shared by its members for 12 hours.

    ``account`` is the one the user works in (``request.account``). Raises
    LookupError when the subject is not one of the account's (the caller turns
    that into a 404) and InputError when it is missing.
    """
    if account is None:
        raise InputError("subject", "Your user is not part of any Commerce Kitty account.")
    diagnosis = _diagnosis_get_or_create(
        merchant_id=account.merchant_id, user=user, page=page, subject_id=subject_id, values=values
    )
    diagnosis.page = page  # as this request loaded it: its live revision is what the runs record
    return diagnosis


def preview_diagnosis_for(
    *, session: PreviewSession, page, subject_id: int | None, values: dict[str, Any]
) -> Diagnosis:
    """The preview's current diagnosis for these inputs, on the editor's sandbox account.

    Whoever previews, and whatever accounts they are a member of, the
    subject must be one of the sandbox's: a real merchant's plugin is a
    LookupError (a 404), exactly as someone else's is on the help center.
    """
    return _diagnosis_get_or_create(
        merchant_id=account_directory().preview_account(session.user),
        user=session.user,
        page=page,
        subject_id=subject_id,
        values=values,
        preview_session=session,
    )


def _diagnosis_get_or_create(
    *,
    merchant_id: int,
    user,
    page,
    subject_id: int | None,
    values: dict[str, Any],
    preview_session: PreviewSession | None = None,
) -> Diagnosis:
    check_set = set_of(page)
    if subject_id is None:
        raise InputError("subject", check_set.subject_missing)
    subject = check_set.subject_for(merchant_id, subject_id, values)
    if subject is None:
        raise LookupError("no such subject in this account")
    label, values = subject
    stored = check_set.stored(values)
    reference = check_set.reference_of(values)
    page_id = page.pk if preview_session is None else preview_session.page_id
    now = timezone.now()
    diagnosis = (
        Diagnosis.objects.filter(
            merchant_id=merchant_id,
            read_only=False,
            preview_session=preview_session,
            page_id=page_id,
            check_set=check_set.key,
            subject_id=subject_id,
            reference=reference,
            updated_at__gte=now - timedelta(hours=12),
        )
        .order_by("-updated_at")
        .first()
    )
    if diagnosis is None:
        # Asked before the diagnosis is written: a refused start leaves none behind to file or watch.
        start_limit_check(user=user)
        diagnosis = Diagnosis.objects.create(
            merchant_id=merchant_id,
            user=user,
            page_id=page_id,
            check_set=check_set.key,
            subject_id=subject_id,
            subject_label=label,
            reference=reference,
            inputs=stored,
            preview_session=preview_session,
        )
        diagnosis.is_new = True
        return diagnosis
    diagnosis.inputs = stored  # what was typed now, even a detail cleared since (the date placed)
    diagnosis.updated_at = now
    diagnosis.unsaved_fields = ("inputs", "updated_at")  # saved with the start's runs, if it is not refused
    return diagnosis


def diagnosis_rerun(
    *,
    merchant_id: int,
    page,
    subject_id: int,
    subject_label: str,
    inputs: dict[str, Any],
    user,
    read_only: bool = False,
    inline: bool = False,
) -> Diagnosis:
    """Every step of ``page`` checked again, as a new diagnosis with these (stored) inputs of its set.

    The one way a diagnosis is run again, whoever asks: a watch at its
    deadline (``inline``: in the task that asks, by the watcher), a support
    agent's look at a ticket (``read_only``: the checks record nothing on
    the account and no fix can be applied), the API. It counts against
    nobody's start limit. Raises ChecksUnavailable when the checks cannot be
    queued (the diagnosis then shows them as couldn't check).
    """
    from .selectors import every_step_targets

    check_set = set_of(page)
    values = check_set.loaded(inputs)
    diagnosis = Diagnosis.objects.create(
        merchant_id=merchant_id,
        user=user,
        page=page,
        check_set=check_set.key,
        subject_id=subject_id,
        subject_label=subject_label,
        reference=check_set.reference_of(values),
        inputs=check_set.stored(values),
        read_only=read_only,
    )
    targets = every_step_targets(page, diagnosis.reference)
    runs = check_runs_start(
        diagnosis=diagnosis, user=user, targets=targets, count_towards_limit=False, enqueue=not inline
    )
    if inline:
        check_runs_execute([run.pk for run in runs])
    return diagnosis


def preview_session_record(*, user, page) -> PreviewSession:
    """Keep the draft ``user`` is previewing (its blocks as they are now), for the preview's checks."""
    body = page.body.get_prep_value()  # gives every block its id, as the preview renders them
    content_type = ContentType.objects.get_for_model(page)
    page_id = page.pk or None
    session = PreviewSession.objects.filter(user=user, page_id=page_id, content_type=content_type).first()
    if session is None:
        try:
            with transaction.atomic():
                return PreviewSession.objects.create(
                    user=user, page_id=page_id, content_type=content_type, title=page.title, body=body
                )
        except IntegrityError:  # the same preview, rendered twice at once
            session = PreviewSession.objects.get(user=user, page_id=page_id)
    if session.body != body or session.title != page.title:
        session.body, session.title, session.updated_at = body, page.title, timezone.now()
        session.save(update_fields=["body", "title", "updated_at"])
    return session


def preview_sandbox_reset(*, editor) -> int:
    """Build ``editor``'s sandbox account again, every cause staged anew, and forget its preview runs."""
    with transaction.atomic():
        Diagnosis.objects.filter(preview_session__user=editor).delete()
        return account_directory().preview_account(editor, rebuild=True)


def _start_limit_lock(user) -> None:
    # Serializes one user's starts so two concurrent ones cannot both slip under
    # the limit. NO KEY UPDATE does not conflict with the key-share locks that
    # inserting CheckRun rows takes on the same user row.
    get_user_model().objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk").first()


def _start_limit(kind: str) -> int:
    if kind == CheckStart.Kind.FIX:
        return settings.CHECK_FIXES_PER_MINUTE
    return settings.CHECK_STARTS_PER_MINUTE


def start_limit_check(*, user, kind: str = CheckStart.Kind.CHECK, now=None) -> None:
    """Raise TooManyChecks when ``user`` has used up the starts of ``kind`` the window allows.

    Asked before anything of a start is written (its diagnosis among them),
    so a refused start leaves nothing behind. The wait it says is when the
    oldest counted start leaves the window: a refused start is not counted,
    so the wait only shrinks while the person waits.
    """
    now = now or timezone.now()
    since = now - START_LIMIT_WINDOW
    recent = CheckStart.objects.filter(user=user, kind=kind, started_at__gt=since)
    limit = max(1, _start_limit(kind))
    started = list(recent.order_by("-started_at").values_list("started_at", flat=True)[:limit])
    if len(started) < limit:
        return
    # The start that must leave the window for one more to fit: the limit-th newest.
    frees_at = started[limit - 1] + START_LIMIT_WINDOW
    wait = max(1, math.ceil((frees_at - now).total_seconds()))
    if kind == CheckStart.Kind.FIX:
        message = f"You have applied a lot of fixes in the last minute. Wait {wait} seconds, then try again."
    else:
        message = f"You have started a lot of checks in the last minute. Wait {wait} seconds, then try again."
    raise TooManyChecks(message, wait_seconds=wait)


def _start_limit_enforce(user, *, kind: str, now) -> None:
    """Count this start against the user's limit of ``kind``, or refuse it (TooManyChecks).

    Called inside the transaction that adds the start's runs, after the
    user's row is locked (raising rolls the runs back): a sliding window with
    no clock-minute reset. One start is one count, whatever it runs:
    "Check every step" is one, one step's "Check this now" is one, and a fix
    counts against the fixes' own limit. A start that only joins runs already
    in flight is not counted. The counts live in the database, the store no
    check starts without, so the limit never fails open.
    """
    start_limit_check(user=user, kind=kind, now=now)
    # Starts that left the window count for nothing any more.
    CheckStart.objects.filter(user=user, started_at__lte=now - START_LIMIT_WINDOW).delete()
    CheckStart.objects.create(user=user, kind=kind, started_at=now)


def check_runs_start(
    *,
    diagnosis: Diagnosis,
    user,
    targets: list[StepTarget],
    fix_requested: dict | None = None,
    fix_applied: dict | None = None,
    count_towards_limit: bool = True,
    enqueue: bool = True,
) -> list[CheckRun]:
    """Queue one run per target (reusing identical runs already in flight) and one task for them all.

    Runs of one start share a task, so what they fetch (the source order) is
    fetched once. Raises TooManyChecks, and ChecksUnavailable when the broker
    refuses the task (the runs are then finished as "couldn't check").
    """
    now = timezone.now()
    inputs = {"subject_id": diagnosis.subject_id, **diagnosis.inputs}
    runs, new_runs = [], []
    # The task's id is the runs' from the start: a redelivered task takes over exactly these runs.
    task_id = str(uuid.uuid4()) if enqueue else ""
    # A preview checks a draft, not the revision readers see: its runs record no revision.
    revision_id = None if diagnosis.preview_session_id else _live_revision_id(diagnosis)
    try:
        with transaction.atomic():
            if count_towards_limit:
                _start_limit_lock(user)
            # One look for the runs of this diagnosis already in flight with these inputs (the newest per step).
            in_flight: dict[tuple[str, str], CheckRun] = {}
            if not (fix_requested or fix_applied or diagnosis.is_new):
                for run in CheckRun.objects.filter(
                    diagnosis=diagnosis, inputs=inputs, status__in=CheckRun.IN_FLIGHT, deadline__gt=now
                ).order_by("queued_at", "pk"):
                    in_flight[(run.check_key, run.block_id)] = run
            for target in targets:
                if get_check(target.check_key) is None:
                    continue
                reused = in_flight.get((target.check_key, target.block_id))
                if reused is not None:
                    runs.append(reused)
                    continue
                run = CheckRun(
                    diagnosis=diagnosis,
                    merchant_id=diagnosis.merchant_id,
                    user=user,
                    page_id=diagnosis.page_id,
                    page_revision_id=revision_id,
                    block_id=target.block_id,
                    step_number=target.step_number,
                    check_key=target.check_key,
                    inputs=inputs,
                    # A fix is applied by the first run of the task; the others check again after it.
                    fix_requested=(fix_requested or {}) if target is targets[0] else {},
                    # A fix applied elsewhere (e.g. Reauthorize on the platform) is said on the step it fixed.
                    fixes_applied=[fix_applied] if fix_applied and target is targets[0] else [],
                    queued_at=now,
                    task_id=task_id,
                    # Until a worker claims it: a task nobody picked up by then is dropped by the broker.
                    deadline=now + timedelta(seconds=task_expires_seconds()),
                )
                runs.append(run)
                new_runs.append(run)
            CheckRun.objects.bulk_create(new_runs)
            if diagnosis.unsaved_fields:
                diagnosis.save(update_fields=diagnosis.unsaved_fields)
                diagnosis.unsaved_fields = ()
            diagnosis.is_new = False  # it has runs now: a later start on it looks for them
            if count_towards_limit and new_runs:
                kind = CheckStart.Kind.FIX if fix_requested else CheckStart.Kind.CHECK
                _start_limit_enforce(user, kind=kind, now=now)
    except DatabaseError as exc:
        # E.g. the limit's row lock not granted in time: the start is refused in words, not a 500.
        logger.warning("checks could not be started: %s", exc.__class__.__name__)
        raise ChecksUnavailable("Checks are unavailable right now. Try again in a few minutes.") from exc
    if new_runs and enqueue:  # else the caller runs them itself (check_runs_execute), e.g. in a bulk task
        ran = check_runs_enqueue(
            [r.pk for r in new_runs], priority=check_task_priority(new_runs), task_id=task_id
        )
        if ran:  # the task ran in this call (eagerly): the runs as it left them
            fresh = CheckRun.objects.in_bulk([r.pk for r in new_runs])
            runs = [fresh.get(r.pk, r) for r in runs]
    return runs


def _live_revision_id(diagnosis: Diagnosis) -> int | None:
    """The revision of the article a reader sees now, recorded on each run so outcomes compare by edit.

    Read from the article the request already loaded, when the diagnosis carries it.
    """
    if diagnosis.page_id is None:
        return None
    if Diagnosis.page.is_cached(diagnosis):
        return diagnosis.page.live_revision_id
    return Page.objects.filter(pk=diagnosis.page_id).values_list("live_revision_id", flat=True).first()


# Broker priorities (Redis: 0 is served first). A person waiting on one step's answer (or a fix) is
# served before the eight runs of someone's "Check every step": shortest job first, so one click does
# not wait behind a burst of whole diagnoses, and a diagnosis waits at most a click's length longer.
CHECK_PRIORITY_ONE_STEP = 0
CHECK_PRIORITY_EVERY_STEP = 6


def check_task_priority(runs: list[CheckRun]) -> int:
    """One step (with its "already here?") or a fix first; a task checking more steps after them."""
    steps = {run.block_id for run in runs if run.step_number is not None}  # not "already here?"
    if len(steps) <= 1 or any(run.fix_requested for run in runs):
        return CHECK_PRIORITY_ONE_STEP
    return CHECK_PRIORITY_EVERY_STEP


def check_runs_enqueue(run_ids: list[int], *, task_id: str, priority: int = CHECK_PRIORITY_ONE_STEP) -> bool:
    """Queue the check task ``task_id`` (the runs carry it) with the configured time limits, expiry and ``priority``.

    Returns whether the task has already run, in this call: eagerly, as in the demo without a broker.
    """
    from .tasks import run_checks

    soft_limit, hard_limit = task_time_limits()
    try:
        result = run_checks.apply_async(
            (run_ids,),
            task_id=task_id,
            expires=task_expires_seconds(),
            soft_time_limit=soft_limit,
            time_limit=hard_limit,
            priority=priority,
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        )
    except Exception as exc:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) and not is_broker_error(exc):
            raise
        logger.warning("checks could not be queued: %s", exc.__class__.__name__)
        CheckRun.objects.filter(pk__in=run_ids, status=CheckRun.State.QUEUED).update(
            status=CheckRun.State.UNKNOWN,
            summary="Checks are unavailable right now.",
            evidence=["Our check service is not answering. Try again in a few minutes."],
            finished_at=timezone.now(),
        )
        raise ChecksUnavailable("Checks are unavailable right now. Try again in a few minutes.") from exc
    return isinstance(result, EagerResult)


def check_runs_execute(run_ids: list[int], *, task_id: str = "", time_limit: float | None = None) -> int:
    """Claim the runs and run each of them in order (the Celery task's body); returns how many ran.

    Queued runs are claimed together with a conditional update, so a
    duplicated task finds nothing left to do. Runs this same task
    (``task_id``) already claimed are taken over: the broker redelivers a
    task whose worker died, and its runs are finished by the new delivery
    rather than left to time out. Either way a claimed run's deadline becomes
    the task's hard ``time_limit`` (default: the configured one) plus a grace
    from now, the moment by which a live task has certainly ended it. A
    queued run past its deadline (a task delivered late) is finished as
    "couldn't finish".
    """
    limit = timedelta(seconds=time_limit or task_time_limits()[1]) + RUN_DEADLINE_GRACE
    now = timezone.now()
    deadline = now + limit
    mine = CheckRun.objects.filter(pk__in=run_ids)
    fresh = mine.filter(status=CheckRun.State.QUEUED, deadline__gt=now).update(
        status=CheckRun.State.RUNNING, started_at=now, deadline=deadline, task_id=task_id or ""
    )
    # The first delivery claims every run: nothing left to take over or to end as late.
    if fresh < len(set(run_ids)):
        _claim_leftovers(mine, task_id=task_id, now=now, limit=limit, deadline=deadline)
    claimed = {
        run.pk: run
        for run in mine.filter(
            status=CheckRun.State.RUNNING, task_id=task_id or "", deadline=deadline
        ).select_related("diagnosis")
    }
    shared: dict = {}
    for run_id in run_ids:  # in the order they were started: a fix first, then the checks after it
        if run_id in claimed:
            _execute(claimed[run_id], shared)
    return len(claimed)


def _claim_leftovers(mine, *, task_id: str, now, limit: timedelta, deadline) -> None:
    """Take over the runs this task claimed in an earlier delivery; end those delivered too late."""
    if task_id:
        # Taken over at most until twice the limit after it first started, so a
        # run that kills its worker every time cannot be redelivered forever.
        taken_over = mine.filter(
            status=CheckRun.State.RUNNING,
            task_id=task_id,
            deadline__gt=now,
            started_at__gt=now - limit,
            started_at__lt=now,
        ).update(deadline=deadline)
        if taken_over:
            logger.info("%s check run(s) taken over by their redelivered task %s", taken_over, task_id)
    mine.filter(status=CheckRun.State.QUEUED, deadline__lte=now).update(**_couldnt_finish())


def _execute(run: CheckRun, shared: dict) -> None:
    started = time.perf_counter()
    check_class = get_check(run.check_key)
    diagnosis = run.diagnosis
    # The inputs the run was started with: a teammate's later start may change the shared diagnosis.
    inputs = run.inputs or {}
    ctx = CheckContext(
        merchant_id=run.merchant_id,
        user_id=run.user_id,
        subject_id=inputs.get("subject_id", diagnosis.subject_id),
        inputs=diagnosis.set.loaded({**diagnosis.inputs, **inputs}),
        shared=shared,
        read_only=diagnosis.read_only,
    )
    applied = list(run.fixes_applied)
    fix_error = ""
    try:
        if check_class is None:
            outcome = Outcome.unknown("This check no longer exists.", "Ask support to update the article.")
        else:
            check = check_class()
            missing = diagnosis.set.missing_for([run.check_key], ctx.inputs)
            if missing is not None:
                raise missing
            if run.fix_requested and diagnosis.read_only:
                fix_error = "this diagnosis only looks; fixes are applied from the merchant's own."
            elif run.fix_requested and not _fix_already_applied(run):
                fix_error = _fix_apply(check, ctx, run, applied)
                shared.clear()  # what was fetched before the fix is stale now
            outcome = check.run(ctx)
    except InputError as exc:
        outcome = Outcome.unknown(str(exc))
    except SoftTimeLimitExceeded:
        outcome = Outcome.unknown("This check took too long.", "Try again in a minute.")
    except Exception:
        logger.exception("check %s failed (run %s)", run.check_key, run.uuid)
        outcome = Outcome.unknown(
            "Something went wrong on our side while checking.",
            "Try again; if it keeps happening, contact support.",
        )
    evidence = list(outcome.evidence)
    if fix_error:
        evidence.insert(0, f"The fix was not applied: {fix_error}")
    CheckRun.objects.filter(pk=run.pk, status=CheckRun.State.RUNNING).update(
        status=outcome.status.value,
        summary=outcome.summary[:500],
        evidence=evidence,
        data=outcome.data,
        fixes_offered=[f.as_dict() for f in outcome.fixes],
        fixes_applied=applied,
        finished_at=timezone.now(),
        task_seconds=time.perf_counter() - started,
    )


def _fix_already_applied(run: CheckRun) -> bool:
    # A run taken over from a task whose worker died may have applied its fix already.
    return any(
        a.get("from_run") == run.fix_requested.get("from_run")
        and a.get("key") == run.fix_requested.get("key")
        for a in run.fixes_applied
    )


def _fix_apply(check, ctx: CheckContext, run: CheckRun, applied: list) -> str:
    """Apply the fix the run asked for; return why it could not be, or "".

    An applied fix is recorded at once, so it stays on the run (and in the
    ticket's transcript) even if the check after it fails or times out. A fix
    that cannot be applied does not hide the check: the check still runs.
    """
    try:
        note = check.apply_fix(ctx, run.fix_requested["key"], run.fix_requested.get("choice", ""))
    except InputError as exc:
        return str(exc)
    applied.append({**run.fix_requested, "result": note, "at": timezone.now().isoformat()})
    CheckRun.objects.filter(pk=run.pk, status=CheckRun.State.RUNNING).update(fixes_applied=applied)
    return ""


def _couldnt_finish() -> dict:
    return {
        "status": CheckRun.State.UNKNOWN,
        "summary": "This check couldn't finish.",
        "evidence": ["It took longer than it should. Try again."],
        "finished_at": timezone.now(),
    }


def check_run_expire_if_overdue(run: CheckRun) -> CheckRun:
    """A run past its deadline (its worker died, the queue was lost) becomes "couldn't finish"."""
    if run.is_overdue():
        CheckRun.objects.filter(pk=run.pk, status__in=CheckRun.IN_FLIGHT).update(**_couldnt_finish())
        run.refresh_from_db()
    return run


def check_runs_expire_overdue() -> int:
    """Every run past its deadline becomes "couldn't finish"; returns how many."""
    return CheckRun.objects.filter(status__in=CheckRun.IN_FLIGHT, deadline__lt=timezone.now()).update(
        **_couldnt_finish()
    )


def check_fix_request(
    *, run: CheckRun, user, fix_key: str, choice: str = "", rechecks: list[StepTarget] = ()
) -> CheckRun:
    """Ask for one of the fixes a finished run offered; the re-check applies it first.

    ``rechecks`` are the other steps to check again in the same task, after
    the fix: what they said before it may no longer hold.
    Raises InputError (not offered, owners only, a choice not on offer, not
    possible right now) and the errors of ``check_runs_start``.
    """
    if run.diagnosis.read_only:
        raise InputError(
            "fix", "This diagnosis was run by support to look only; no fix can be applied from it."
        )
    offered = {f["key"]: f for f in run.fixes_offered}
    fix = offered.get(fix_key)
    if fix is None or fix.get("url"):
        raise InputError("fix", "That fix is not offered for this result any more. Run the check again.")
    if fix.get("unavailable"):
        raise InputError("fix", fix["unavailable"])
    # In a preview the editor stands in for the sandbox account's owner; otherwise
    # the user's role in the run's own account (the one the caller scoped the run to).
    is_owner = run.diagnosis.preview_session_id is not None or _is_owner_of(user, run.merchant_id)
    if fix.get("owner_only") and not is_owner:
        raise InputError("fix", "Only an owner of this account can apply this fix. Ask an owner to do it.")
    choices = {str(value) for value, _ in fix.get("choices") or []}
    if choices and choice not in choices:
        raise InputError("fix", "Choose one of the options first.")
    request = {"key": fix_key, "choice": choice, "by": user.get_username(), "from_run": str(run.uuid)}
    others = [t for t in rechecks if t.block_id != run.block_id]
    new_run, *_ = check_runs_start(
        diagnosis=run.diagnosis,
        user=user,
        targets=[StepTarget(run.check_key, run.block_id, run.step_number), *others],
        fix_requested=request,
    )
    return new_run


def _is_owner_of(user, merchant_id: int) -> bool:
    membership = account_directory().membership_for(user, merchant_id=merchant_id)
    return bool(membership and membership.is_owner)


def diagnosis_recheck_after_fix(
    *, user, merchant_id: int, subject_id: int, check_key: str, note: str
) -> Diagnosis | None:
    """After a fix applied outside the article (e.g. Reauthorize on the platform), check again.

    The latest diagnosis of this subject that ran ``check_key``, in the
    account ``merchant_id`` (of which the user must be a member), gets that step checked again, with ``note`` shown on it as the fix
    applied, and every other step it showed checked again after it. Returns
    the diagnosis, or None when there is none (or checks cannot start now).
    """
    membership = account_directory().membership_for(user, merchant_id=merchant_id)
    if membership is None:
        return None
    diagnosis = (
        Diagnosis.objects.filter(
            merchant_id=membership.merchant_id,
            read_only=False,
            preview_session=None,
            subject_id=subject_id,
            updated_at__gte=timezone.now() - timedelta(hours=12),
            runs__check_key=check_key,
        )
        .order_by("-updated_at")
        .first()
    )
    if diagnosis is None:
        return None
    runs = latest_runs(diagnosis)
    fixed = next((run for run in runs.values() if run.check_key == check_key), None)
    if fixed is None:
        return None
    targets = [StepTarget(run.check_key, run.block_id, run.step_number) for run in runs.values()]
    targets.sort(key=lambda t: t.block_id != fixed.block_id)  # the fixed step first
    applied = {"key": "outside", "by": user.get_username(), "result": note, "at": timezone.now().isoformat()}
    try:
        check_runs_start(
            diagnosis=diagnosis, user=user, targets=targets, fix_applied=applied, count_towards_limit=False
        )
    except ChecksUnavailable:
        return None
    return diagnosis


def latest_runs(diagnosis: Diagnosis, *, known: list[CheckRun] | None = None) -> dict[str, CheckRun]:
    """The newest run of each step in this diagnosis, by block id.

    One row per step on PostgreSQL (DISTINCT ON); elsewhere (the demo's
    SQLite) the diagnosis's runs, newest first per step. Not a window
    function: compiling one cost each poll more than running the query.
    ``known``: every run the diagnosis has, already in hand (a diagnosis and
    its first runs just created), so none is read.
    """
    if known is not None:
        newest_first = sorted(known, key=lambda run: (run.queued_at, run.pk or 0), reverse=True)
    else:
        newest_first = diagnosis.runs.order_by("block_id", "-queued_at", "-pk")
        if connection.features.can_distinct_on_fields:
            newest_first = newest_first.distinct("block_id")
    runs: dict[str, CheckRun] = {}
    for run in newest_first:
        if run.block_id in runs:
            continue
        run.diagnosis = diagnosis  # the results say which plugin they are about, without a query each
        runs[run.block_id] = check_run_expire_if_overdue(run)
    return runs
