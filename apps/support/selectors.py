"""Reads for support tickets: what a ticket is pre-filled with, and which tickets a user may see."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.registry import get_check
from apps.checks.selectors.runs import latest_runs
from apps.checks.selectors.steps import ALREADY_HERE_BLOCK
from apps.checks.transcript import run_entry
from kitty_troubleshoot.said import Moment, Said, said_p

from .models import SupportTicket

# A run's result as a transcript names it, by the English word tickets stored before they kept messages.
RESULT_WORDS = {
    "passed": said_p("a check's result", "passed"),
    "failed": said_p("a check's result", "failed"),
    "couldn't check": said_p("a check's result", "couldn't check"),
    "couldn't finish": said_p("a check's result", "couldn't finish"),
    "still checking": said_p("a check's result", "still checking"),
}
FIX_FIELDS = ("key", "choice", "by", "result", "at")


def _run_group(run: CheckRun) -> tuple:
    # A step is identified by its number; a run outside the numbered steps by its check.
    return ("step", run.step_number) if run.step_number is not None else ("check", run.check_key)


def _kept(value):
    """A value as a ticket keeps it: a message as it is (each reader reads it in their language), else text."""
    if isinstance(value, Said):
        return value
    if isinstance(value, Promise):  # a lazy translation has no message to keep: its English then
        with translation.override(settings.LANGUAGE_CODE):
            return str(value)
    return "" if value is None else str(value)


def _kept_entry(entry: dict[str, Any], run: CheckRun, fixes: list[dict]) -> dict[str, Any]:
    """A transcript entry whose words stay messages: the run's verdict, evidence and fixes as it stored them."""
    check = get_check(run.check_key)
    label = entry.get("status_label", "")
    return {
        **entry,
        "title": _kept(check.title if check is not None else run.check_key),
        "status_label": RESULT_WORDS.get(label, _kept(label)),
        "summary": _kept(run.summary),
        "evidence": [_kept(line) for line in run.evidence or []],
        "fixes_applied": [{k: _kept(fix.get(k, "")) for k in FIX_FIELDS} for fix in fixes],
    }


def diagnosis_transcript(diagnosis: Diagnosis) -> list[dict[str, Any]]:
    """The latest run of each step of this diagnosis, in step order, as JSON that keeps its messages.

    Fixes are gathered from every run of the step: a fix is applied by the run
    that re-checks after it, and a later re-run must not make it disappear.
    Verdicts, evidence and fixes' results stay messages (``SupportTicket.transcript``
    stores them as such), so each reader reads them in their own language.
    """
    now = timezone.now()
    latest: dict[tuple, CheckRun] = {}
    fixes: dict[tuple, list[dict]] = {}
    for run in diagnosis.runs.order_by("queued_at", "pk"):
        group = _run_group(run)
        latest[group] = run  # oldest first, so the last one wins
        fixes.setdefault(group, []).extend(f for f in run.fixes_applied or [] if isinstance(f, dict))
    # Runs outside the numbered steps (the "already imported?" look-up) come first.
    ordered = sorted(latest.items(), key=lambda item: (item[0][0] == "step", item[1].step_number or 0))
    return [
        _kept_entry(run_entry(run, fixes=fixes[group], now=now), run, fixes[group]) for group, run in ordered
    ]


def _moment(value):
    """An ISO time as stored in a transcript, as a moment read in the reader's locale (else as it is)."""
    if isinstance(value, Said) or not value:
        return value
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return value
    return Moment(moment)


def transcript_entries(transcript) -> list[dict[str, Any]]:
    """A stored transcript as it is read: each check's title as its check says it now, the result, the
    verdict, evidence and fixes in the reader's language (an older ticket's English text as it is).
    """
    entries = []
    for entry in transcript or []:
        if not isinstance(entry, dict):
            entries.append({"title": entry, "evidence": [], "fixes_applied": []})
            continue
        check = get_check(str(entry.get("check_key") or ""))
        label = entry.get("status_label") or entry.get("status") or ""
        entries.append(
            {
                **entry,
                "title": check.title if check is not None else entry.get("title", ""),
                "status_label": RESULT_WORDS.get(label, label),
                "evidence": [line for line in entry.get("evidence") or [] if line],
                "fixes_applied": [
                    {**fix, "at": _moment(fix.get("at"))}
                    for fix in entry.get("fixes_applied") or []
                    if isinstance(fix, dict)
                ],
                "checked_at": _moment(entry.get("checked_at")),
            }
        )
    return entries


def _placed_date_from_runs(diagnosis: Diagnosis) -> date | None:
    """The placed date the "order age" check learned from the platform, if it ran."""
    for data in (
        diagnosis.runs.filter(check_key="order_age").order_by("-queued_at").values_list("data", flat=True)
    ):
        raw = (data or {}).get("placed_at") if isinstance(data, dict) else None
        if not raw:
            continue
        try:
            moment = datetime.fromisoformat(str(raw))
        except ValueError:
            continue
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return moment.date()
    return None


def plugin_platform(merchant_id: int, plugin_id: int | None) -> str:
    """The plugin's platform as merchants see it ("Shopify"), "" when the plugin is gone."""
    # support reads commerce for this one fact; membership goes through the account directory.
    from apps.commerce.models import Plugin

    plugin = Plugin.objects.filter(merchant_id=merchant_id, pk=plugin_id).only("platform").first()
    return plugin.get_platform_display() if plugin is not None else ""


def ticket_initial(diagnosis: Diagnosis) -> dict[str, Any]:
    """The ticket form's pre-filled values for this diagnosis."""
    return {
        "order_number": diagnosis.reference,
        "platform": plugin_platform(diagnosis.merchant_id, diagnosis.subject_id),
        "plugin_label": diagnosis.subject_label,
        "placed_date": diagnosis.values().get("placed_date") or _placed_date_from_runs(diagnosis),
        # What goes with the ticket, listed on the form; "tried" is the merchant's own to write.
        "transcript": diagnosis_transcript(diagnosis),
    }


def open_ticket_for(merchant_id: int, plugin_id: int | None, order_number: str) -> SupportTicket | None:
    """The open ticket for this order, if the merchant already sent one."""
    if not order_number:
        return None
    return (
        SupportTicket.objects.filter(
            merchant_id=merchant_id,
            plugin_id=plugin_id,
            order_number=order_number,
            status=SupportTicket.Status.OPEN,
        )
        .order_by("created_at", "pk")
        .first()
    )


def ticket_form_context(diagnosis: Diagnosis | None) -> dict[str, Any]:
    """Everything ``support/ticket_form.html`` needs, for a diagnosis already scoped to the reader."""
    if diagnosis is None:
        return {"diagnosis": None, "ticket_initial": None, "existing_ticket": None}
    already_here = latest_runs(diagnosis).get(ALREADY_HERE_BLOCK)
    return {
        "diagnosis": diagnosis,
        # The order did import: the form stays folded away behind the reason.
        "already_imported": already_here if already_here and already_here.status == "passed" else None,
        "ticket_initial": ticket_initial(diagnosis),
        "existing_ticket": open_ticket_for(diagnosis.merchant_id, diagnosis.subject_id, diagnosis.reference),
    }


def ticket_for_account(account, reference: str) -> SupportTicket | None:
    """The ticket with this reference if it belongs to the account (``request.account``), else None."""
    if account is None:
        return None
    return SupportTicket.objects.filter(
        reference=reference.strip().upper(), merchant_id=account.merchant_id
    ).first()


def ticket_merchant_id(reference: str) -> int | None:
    """Whose ticket this is (the caller must not show it unless the user is a member of that account)."""
    return (
        SupportTicket.objects.filter(reference=reference.strip().upper())
        .values_list("merchant_id", flat=True)
        .first()
    )
