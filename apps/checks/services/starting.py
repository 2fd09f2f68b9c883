"""Starting checks: the diagnosis for what a reader typed, a diagnosis run again, and the runs of a start."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone
from wagtail.models import Page

from kitty_troubleshoot.said import said

from ..base import AccountAccess, InputError
from ..models import CheckRun, CheckStart, Diagnosis, PreviewSession
from ..registry import account_directory, get_check
from ..selectors.runs import runs_as_now
from ..selectors.steps import StepTarget, before_step_one, every_step_targets
from ..sets import CheckSet, set_of
from .queueing import ChecksUnavailable, check_runs_enqueue, check_task_queue, task_expires_seconds
from .running import check_runs_execute
from .start_limits import TooManyChecks, start_limit_check, start_limit_enforce, start_limit_lock

logger = logging.getLogger(__name__)


@dataclass
class Start:
    """What a start began: the diagnosis it runs in, the runs (reused ones among them), whether the diagnosis is new."""

    diagnosis: Diagnosis
    runs: list[CheckRun]
    created: bool
    # Every run is this start's own (none joined one in flight): on a diagnosis that had runs before,
    # they are its latest of each step they check.
    fresh: bool = False


def checks_start(
    *,
    page,
    targets: list[StepTarget],
    user,
    subject_id: int | None,
    values: dict[str, Any],
    account: AccountAccess | None = None,
    preview: PreviewSession | None = None,
) -> Start:
    """Check ``targets`` (one step, or every step) of ``page`` for what was typed (``values``, cleaned by its set).

    The one start every door makes: the article's button, the JSON API and
    the MCP server. The set's check before Step 1 runs with it whenever the
    inputs name what the diagnosis is about. ``account`` is the account the
    user acts in; ``preview``, an editor's preview (its sandbox account).
    Raises InputError (a missing or bad input, said in its own words),
    LookupError (the subject is not one of the account's), TooManyChecks and
    ChecksUnavailable; a refused start leaves no diagnosis behind.
    """
    missing = set_of(page).missing_for([t.check_key for t in targets], values)
    if missing is not None:  # without what a check needs it could only say "couldn't check"
        raise missing
    if preview is not None:
        diagnosis = preview_diagnosis_for(session=preview, page=page, subject_id=subject_id, values=values)
    else:
        diagnosis = diagnosis_for(account=account, user=user, page=page, subject_id=subject_id, values=values)
    created = diagnosis.is_new
    before = timezone.now()
    try:
        runs = check_runs_start(
            diagnosis=diagnosis, user=user, targets=[*before_step_one(page, diagnosis.reference), *targets]
        )
    except (TooManyChecks, ChecksUnavailable):
        if created and not diagnosis.runs.exists():  # refused after all (a start at the same moment)
            diagnosis.delete()
        raise
    fresh = all(run.queued_at >= before for run in runs)  # a run in flight it joined was queued earlier
    return Start(diagnosis=diagnosis, runs=runs, created=created, fresh=fresh)


def diagnosis_for(
    *, account: AccountAccess | None, user, page, subject_id: int | None, values: dict[str, Any]
) -> Diagnosis:
    """The account's current diagnosis for these inputs (``values``, cleaned by the page's set), shared by its members for 12 hours.

    ``account`` is the one the user works in (``request.account``). Raises
    LookupError when the subject is not one of the account's (the caller turns
    that into a 404) and InputError when it is missing.
    """
    if account is None:
        raise InputError("subject", said("Your user is not part of any Commerce Kitty account."))
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
        diagnosis = _diagnosis_create(
            check_set,
            values,
            merchant_id=merchant_id,
            user=user,
            page_id=page_id,
            subject_id=subject_id,
            subject_label=label,
            preview_session=preview_session,
        )
        diagnosis.is_new = True
        return diagnosis
    diagnosis.inputs = stored  # what was typed now, even a detail cleared since (the date placed)
    diagnosis.updated_at = now
    diagnosis.unsaved_fields = ("inputs", "updated_at")  # saved with the start's runs, if it is not refused
    return diagnosis


def _diagnosis_create(check_set: type[CheckSet], values: dict[str, Any], **fields) -> Diagnosis:
    """A new diagnosis with ``check_set``'s inputs (cleaned ``values``): its set, reference and stored inputs."""
    return Diagnosis.objects.create(
        check_set=check_set.key,
        reference=check_set.reference_of(values),
        inputs=check_set.stored(values),
        **fields,
    )


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
    check_set = set_of(page)
    diagnosis = _diagnosis_create(
        check_set,
        check_set.loaded(inputs),
        merchant_id=merchant_id,
        user=user,
        page=page,
        subject_id=subject_id,
        subject_label=subject_label,
        read_only=read_only,
    )
    targets = every_step_targets(page, diagnosis.reference)
    runs = check_runs_start(
        diagnosis=diagnosis, user=user, targets=targets, count_towards_limit=False, enqueue=not inline
    )
    if inline:
        check_runs_execute([run.pk for run in runs])
    return diagnosis


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
                start_limit_lock(user)
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
                start_limit_enforce(user, kind=kind, now=now)
    except DatabaseError as exc:
        # E.g. the limit's row lock not granted in time: the start is refused in words, not a 500.
        logger.warning("checks could not be started: %s", exc.__class__.__name__)
        raise ChecksUnavailable(
            said("Checks are unavailable right now. Try again in a few minutes.")
        ) from exc
    if new_runs and enqueue:  # else the caller runs them itself (check_runs_execute), e.g. in a bulk task
        ran = check_runs_enqueue([r.pk for r in new_runs], queue=check_task_queue(new_runs), task_id=task_id)
        if ran:  # the task ran in this call (eagerly): the runs as it left them
            runs = runs_as_now(runs)
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
