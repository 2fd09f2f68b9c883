"""Running checks in the task: claiming its runs, their deadlines, a fix applied first, and ending overdue runs."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone

from kitty_troubleshoot.said import said
from kitty_troubleshoot.waits import before_waiting

from ..base import CheckContext, InputError, Outcome
from ..models import CheckRun
from ..registry import get_check
from .queueing import task_time_limits

logger = logging.getLogger(__name__)

# A claimed run's deadline is the task's hard time limit plus this grace: a run
# whose worker died shows "couldn't finish" that soon after it started, not later.
RUN_DEADLINE_GRACE = timedelta(seconds=5)


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
    results = _Results()
    # Quick checks' results are written together; before a check waits on a platform, what is held is written.
    with before_waiting(results.write_before_waiting):
        try:
            for run_id in run_ids:  # in the order they were started: a fix first, then the checks after it
                if run_id in claimed:
                    results.add(claimed[run_id].pk, _execute(claimed[run_id], shared))
        finally:
            results.write()
    return len(claimed)


class _Results:
    """Finished runs' results not yet written: written together, each only if its run is still running.

    One statement for them all on PostgreSQL (an ``UPDATE … FROM (VALUES …)``),
    instead of one per run; a run ended meanwhile (as "couldn't finish", past
    its deadline) keeps that end, as each run's own update would have.
    """

    def __init__(self):
        self.held: list[tuple[int, dict]] = []

    def add(self, pk: int, fields: dict) -> None:
        self.held.append((pk, fields))

    def write_before_waiting(self) -> None:
        # Not inside a transaction a check opened: rolled back with it, the results would be lost.
        if not connection.in_atomic_block:
            self.write()

    def write(self) -> None:
        held, self.held = self.held, []
        groups: dict[tuple[str, ...], list[tuple[int, dict]]] = {}
        for pk, fields in held:
            groups.setdefault(tuple(fields), []).append((pk, fields))
        for rows in groups.values():
            if connection.vendor == "postgresql" and len(rows) > 1:
                _results_update(rows)
            else:
                for pk, fields in rows:
                    CheckRun.objects.filter(pk=pk, status=CheckRun.State.RUNNING).update(**fields)


def _results_update(rows: list[tuple[int, dict]]) -> None:
    """``rows`` (pk, the same fields each) in one UPDATE, where the run is still running (PostgreSQL)."""
    meta = CheckRun._meta
    fields = [meta.get_field(name) for name in rows[0][1]]
    quote = connection.ops.quote_name
    pk, status = meta.pk, meta.get_field("status")
    casts = [f"CAST(%s AS {pk.db_type(connection)})"] + [
        f"CAST(%s AS {field.db_type(connection)})" for field in fields
    ]
    params: list = []
    for row_pk, values in rows:
        params.append(row_pk)
        params.extend(field.get_db_prep_save(values[field.name], connection) for field in fields)
    columns = [quote(pk.column)] + [quote(field.column) for field in fields]
    sql = (
        f"UPDATE {quote(meta.db_table)} AS r SET "
        + ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
        + f" FROM (VALUES {', '.join(['(' + ', '.join(casts) + ')'] * len(rows))}) AS v({', '.join(columns)})"
        + f" WHERE r.{quote(pk.column)} = v.{quote(pk.column)} AND r.{quote(status.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, CheckRun.State.RUNNING.value])


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


def _execute(run: CheckRun, shared: dict) -> dict:
    """Run one claimed run's check (its fix first, if it asked for one); the fields its result is written to."""
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
            outcome = Outcome.unknown(
                said("This check no longer exists."), said("Ask support to update the article.")
            )
        else:
            check = check_class()
            missing = diagnosis.set.missing_for([run.check_key], ctx.inputs)
            if missing is not None:
                raise missing
            if run.fix_requested and diagnosis.read_only:
                fix_error = said("This diagnosis only looks; fixes are applied from the merchant's own.")
            elif run.fix_requested and not _fix_already_applied(run):
                fix_error = _fix_apply(check, ctx, run, applied)
                shared.clear()  # what was fetched before the fix is stale now
            outcome = check.run(ctx)
    except InputError as exc:
        outcome = Outcome.unknown(exc.message)
    except SoftTimeLimitExceeded:
        outcome = Outcome.unknown(said("This check took too long."), said("Try again in a minute."))
    except Exception:
        logger.exception("check %s failed (run %s)", run.check_key, run.uuid)
        outcome = Outcome.unknown(
            said("Something went wrong on our side while checking."),
            said("Try again; if it keeps happening, contact support."),
        )
    evidence = list(outcome.evidence)
    if fix_error:
        evidence.insert(0, said("The fix was not applied: %(why)s", why=fix_error))
    return {
        "status": outcome.status.value,
        **CheckRun.verdict_fields(outcome.summary, evidence),
        "data": outcome.data,
        "fixes_offered": [f.as_dict() for f in outcome.fixes],
        "fixes_applied": applied,
        "finished_at": timezone.now(),
        "task_seconds": time.perf_counter() - started,
    }


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
        return exc.message
    applied.append({**run.fix_requested, "result": note, "at": timezone.now().isoformat()})
    CheckRun.objects.filter(pk=run.pk, status=CheckRun.State.RUNNING).update(fixes_applied=applied)
    return ""


def _couldnt_finish() -> dict:
    return {
        "status": CheckRun.State.UNKNOWN,
        **CheckRun.verdict_fields(
            said("This check couldn't finish."), [said("It took longer than it should. Try again.")]
        ),
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
