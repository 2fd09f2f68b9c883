"""Fixes: one a run offered, asked for on its step, and the re-check after a fix applied elsewhere."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from kitty_troubleshoot.said import said

from ..base import InputError
from ..models import CheckRun, Diagnosis
from ..registry import account_directory
from ..selectors.runs import latest_runs
from ..selectors.steps import StepTarget, before_step_one, step_targets
from .queueing import ChecksUnavailable
from .starting import check_runs_start


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
            "fix", said("This diagnosis was run by support to look only; no fix can be applied from it.")
        )
    offered = {f["key"]: f for f in run.fixes_offered}
    fix = offered.get(fix_key)
    if fix is None or fix.get("url"):
        raise InputError(
            "fix", said("That fix is not offered for this result any more. Run the check again.")
        )
    if fix.get("unavailable"):
        raise InputError("fix", fix["unavailable"])
    # In a preview the editor stands in for the sandbox account's owner; otherwise
    # the user's role in the run's own account (the one the caller scoped the run to).
    is_owner = run.diagnosis.preview_session_id is not None or _is_owner_of(user, run.merchant_id)
    if fix.get("owner_only") and not is_owner:
        raise InputError(
            "fix", said("Only an owner of this account can apply this fix. Ask an owner to do it.")
        )
    choices = {str(value) for value, _ in fix.get("choices") or []}
    if choices and choice not in choices:
        raise InputError("fix", said("Choose one of the options first."))
    request = {"key": fix_key, "choice": choice, "by": user.get_username(), "from_run": str(run.uuid)}
    others = [t for t in rechecks if t.block_id != run.block_id]
    new_run, *_ = check_runs_start(
        diagnosis=run.diagnosis,
        user=user,
        targets=[StepTarget(run.check_key, run.block_id, run.step_number), *others],
        fix_requested=request,
    )
    return new_run


def fix_apply_request(*, run: CheckRun, user, page, fix_key: str, choice: str = "") -> CheckRun:
    """Ask for a fix ``run`` offered on ``page``; every step the diagnosis shows is checked again after it.

    What the article's fix button and the API's fix call do (see ``check_fix_request``).
    """
    runs = latest_runs(run.diagnosis)
    # What every step shown said before the fix may no longer hold.
    rechecks = [t for t in step_targets(page) if t.block_id in runs]
    rechecks += [t for t in before_step_one(page, run.diagnosis.reference) if t.block_id in runs]
    return check_fix_request(run=run, user=user, fix_key=fix_key, choice=choice, rechecks=rechecks)


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
