"""A diagnosis's runs: the newest of each step, and how many runs wait in the queue ahead of some.

The one write a reader here makes is a read-through: a run found past its
deadline is ended as "couldn't finish" (``check_run_expire_if_overdue``)
before it is shown. The deadline is when a live task has certainly ended the
run, so the row only catches up with what the clock has decided; the update
is conditional (still in flight) and idempotent, like the housekeeping sweep
that would write the same later. Reading it through means a poll shows the
end (and stops polling) at the deadline rather than at the next sweep, and
every reader (ticket, admin, statistics) sees the run as the merchant did.
"""

from __future__ import annotations

from django.db import connection

from ..models import CheckRun, Diagnosis
from ..services.running import check_run_expire_if_overdue


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


def runs_as_now(runs: list[CheckRun]) -> list[CheckRun]:
    """The same runs read again, in the same order: e.g. after their task ended."""
    now = CheckRun.objects.in_bulk([run.pk for run in runs])
    return [now.get(run.pk, run) for run in runs]


def runs_queued_ahead(runs) -> int | None:
    """How many runs wait in the queue ahead of these, when every one of them is still queued; else None.

    None as soon as one of them has started or ended: from then on the
    answers come within moments.
    """
    runs = [run for run in runs if run is not None]
    if not runs or any(run.status != CheckRun.State.QUEUED for run in runs):
        return None
    first = min(run.queued_at for run in runs)
    return CheckRun.objects.filter(status=CheckRun.State.QUEUED, queued_at__lt=first).count()
