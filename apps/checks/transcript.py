"""A check run as people read it in a transcript: the check's title, a status word, the summary,
the evidence and the fixes applied, as plain JSON-able data.

Support's tickets store these entries; the admin shows check runs, diagnoses and tickets
from them (``templates/admin/checks/transcript.html``), so every door says a run the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from kitty_troubleshoot.said import said, said_p

from .models import CheckRun
from .registry import get_check

STATUS_WORDS = {
    CheckRun.State.PASSED: said_p("a step's status", "passed"),
    CheckRun.State.FAILED: said_p("a step's status", "failed"),
    CheckRun.State.UNKNOWN: said_p("a step's status", "couldn't check"),
    CheckRun.State.QUEUED: said_p("a step's status", "still checking"),
    CheckRun.State.RUNNING: said_p("a step's status", "still checking"),
}


def check_title(check_key: str) -> str:
    check = get_check(check_key)
    return check.title if check is not None else check_key


def status_word(run: CheckRun, now: datetime | None = None) -> str:
    if run.is_overdue(now):
        return said_p("a step's status", "couldn't finish")
    return STATUS_WORDS.get(run.status, run.status)


def run_entry(
    run: CheckRun, *, fixes: list[dict] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """One run as a transcript entry; ``fixes``: those applied by every run of its step (default: its own)."""
    now = now or timezone.now()
    applied = (run.fixes_applied or []) if fixes is None else fixes
    return {
        "step_number": run.step_number,
        "check_key": run.check_key,
        "title": check_title(run.check_key),
        "status": "unknown" if run.is_overdue(now) else run.status,
        "status_label": status_word(run, now),
        "summary": run.summary,
        # Messages stay messages: each reader (the merchant, support, admin) reads them in their language.
        "evidence": [line for line in run.evidence or [] if isinstance(line, str)],
        "fixes_applied": [
            {
                "key": str(fix.get("key", "")),
                "choice": str(fix.get("choice", "")),
                "by": str(fix.get("by", "")),
                "result": fix.get("result") if isinstance(fix.get("result"), str) else "",
                "at": str(fix.get("at", "")),
            }
            for fix in applied
            if isinstance(fix, dict)
        ],
        "checked_at": (run.finished_at or run.queued_at).isoformat(),
    }


def entry_heading(entry: dict[str, Any]) -> str:
    """Like "Step 1 (Import Orders is on)"; a run outside the steps goes by its check's title."""
    if entry.get("step_number") is not None:
        return said("Step %(step)s (%(title)s)", step=entry["step_number"], title=entry.get("title", ""))
    return str(entry.get("title", ""))


def transcript_html(entries: list, *, empty: str = "") -> str:
    """Entries (stored on a ticket, or made by ``run_entry``) as the admin shows them, escaped."""
    from django.template.loader import render_to_string

    shown = [
        {**entry, "heading": entry_heading(entry)} if isinstance(entry, dict) else {"heading": str(entry)}
        for entry in entries or []
    ]
    return render_to_string(
        "admin/checks/transcript.html", {"entries": shown, "empty": empty or said("No check has run.")}
    )
