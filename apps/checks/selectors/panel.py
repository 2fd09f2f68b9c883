"""The check panel an article shows a signed-in reader: the inputs, each step's latest run, the summary."""

from __future__ import annotations

import re
import time
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property

from kitty_troubleshoot.params import int_param

from ..base import InputError
from ..models import CheckRun, Diagnosis, PreviewSession
from ..registry import account_directory
from ..services.refusals import Refusal
from ..sets import CheckSet, TypedInput, set_of
from .previews import preview_token, preview_url
from .steps import StepWidget, step_widgets
from .summary import Summary, diagnosis_results, summary_of
from .viewers import session_diagnosis

# Without JavaScript the article follows running checks by loading itself again: the address
# names where the reader was (a step, or the inputs) and changes on every load, so each refresh
# is a real navigation rather than a jump to a #fragment of the page already shown.
NOJS_CHECKING_PARAM = "checking"
NOJS_REFRESH_SECONDS = 1  # a browser replaces the history entry for refreshes of 1 s or less
_NOJS_ANCHOR = re.compile(r"step-\d{1,3}|check-inputs|check-panel")


@dataclass
class CheckPanel:
    """Everything the article needs to render the checks for one signed-in user."""

    can_check: bool
    check_set: type[CheckSet]
    is_owner: bool = False
    # The account whose subjects (plugins) the inputs offer, read only when the inputs are shown:
    # the summary's polls never show them.
    subjects_of: int | None = None
    diagnosis: Diagnosis | None = None
    widgets: dict[str, StepWidget] = field(default_factory=dict)
    already_here: CheckRun | None = None
    refusal: Refusal | None = None
    # Set in an article's preview: the checks run on the editor's sandbox account.
    preview: PreviewSession | None = None
    preview_examples: list[tuple[str, str, str]] = field(default_factory=list)
    # Where the page loads itself again while checks run, for a browser without JavaScript ("": nothing runs).
    nojs_refresh_url: str = ""
    nojs_refresh_seconds: int = NOJS_REFRESH_SECONDS

    @cached_property
    def subjects(self) -> list[tuple[int, str]]:
        return self.check_set.subject_choices(self.subjects_of) if self.subjects_of is not None else []

    @property
    def preview_token(self) -> str:
        return preview_token(self.preview) if self.preview is not None else ""

    @property
    def selected_subject(self) -> int | None:
        typed = self._typed("subject")
        if typed is not None:
            return int_param(typed)
        if self.diagnosis is not None:
            return self.diagnosis.subject_id
        return self.subjects[0][0] if len(self.subjects) == 1 else None

    @property
    def fields(self) -> list[tuple[TypedInput, str]]:
        """Each of the set's inputs with its value to show: as typed in a refused start, else as last checked."""
        stored = self.diagnosis.inputs if self.diagnosis is not None else {}
        shown = []
        for typed_input in self.check_set.inputs:
            typed = self._typed(typed_input.name)
            shown.append(
                (typed_input, typed if typed is not None else str(stored.get(typed_input.name) or ""))
            )
        return shown

    @property
    def reference(self) -> str:
        return self.diagnosis.reference if self.diagnosis is not None else ""

    @property
    def summary(self) -> Summary:
        return summary_of(
            list(self.widgets.values()),
            already_here=self.already_here,
            reference=self.reference,
            check_set=self.check_set,
        )

    @property
    def results_stale(self) -> bool:
        """A refused start's inputs are not the diagnosis shown: its results are about another subject or thing."""
        if self.diagnosis is None or self.refusal is None or not self.refusal.typed:
            return False
        typed_subject = self._typed("subject") or ""
        ident = self.check_set.identifying()
        typed_reference = ""
        if ident is not None:
            typed_reference = self._typed(ident.name) or ""
            with suppress(InputError):  # not a valid one at all: certainly not the one shown
                typed_reference = ident.stored(ident.clean(typed_reference))
        return typed_subject != str(self.diagnosis.subject_id) or typed_reference != self.diagnosis.reference

    @property
    def shown_diagnosis(self) -> Diagnosis | None:
        """The diagnosis the summary and checklist speak for: none under a refusal about other inputs."""
        return None if self.results_stale else self.diagnosis

    @property
    def shown_summary(self) -> Summary | None:
        return None if self.results_stale else self.summary

    @property
    def summary_error(self) -> str:
        """A refusal of "Check every step", shown where its summary goes."""
        return self.refusal.message if self.refusal and not self.refusal.block_id else ""

    def _typed(self, name: str) -> str | None:
        return self.refusal.typed.get(name) if self.refusal and self.refusal.typed else None


def check_panel(
    request,
    page,
    *,
    diagnosis: Diagnosis | None = None,
    runs: list[CheckRun] | None = None,
    refusal: Refusal | None = None,
) -> CheckPanel:
    """The panel for the request's account; ``diagnosis`` (already scoped to it) overrides the session's.

    ``runs``: every run ``diagnosis`` has, when the caller holds them (it has
    just created both); otherwise each step's latest is read. ``refusal``: a
    start refused without JavaScript, which the article's own load takes out
    of the session (``refusal_pop``) and the panel shows in its step or summary.

    In an article's preview (Wagtail's, or a page a preview's check answers
    for) the panel is the editor's sandbox account's, whatever account the
    request is in.
    """
    user = request.user
    check_set = set_of(page)
    if not user.is_authenticated:
        return CheckPanel(can_check=False, check_set=check_set)
    session = getattr(page, "preview_session", None)
    if session is None and diagnosis is not None and diagnosis.preview_session_id:
        session = diagnosis.preview_session
    if session is not None:
        return _preview_panel(request, page, session, diagnosis=diagnosis, runs=runs, refusal=refusal)
    account = getattr(request, "account", None)
    if account is None:
        return CheckPanel(can_check=False, check_set=check_set)
    panel = CheckPanel(
        can_check=True,
        check_set=check_set,
        is_owner=account.is_owner,
        subjects_of=account.merchant_id,
    )
    panel.diagnosis = diagnosis or session_diagnosis(request, page, merchant_id=account.merchant_id)
    return _panel_fill(request, page, panel, article=diagnosis is None, refusal=refusal, runs=runs)


def _preview_panel(
    request,
    page,
    session: PreviewSession,
    *,
    diagnosis: Diagnosis | None,
    runs: list[CheckRun] | None,
    refusal: Refusal | None,
) -> CheckPanel:
    directory = account_directory()
    merchant_id = directory.preview_account(session.user)
    panel = CheckPanel(
        can_check=True,
        check_set=set_of(page),
        is_owner=True,  # the editor stands in for the sandbox account's owner
        subjects_of=merchant_id,
        preview=session,
        preview_examples=directory.preview_examples(),
    )
    panel.diagnosis = (
        diagnosis or session.diagnoses.filter(merchant_id=merchant_id).order_by("-updated_at").first()
    )
    return _panel_fill(request, page, panel, article=diagnosis is None, refusal=refusal, runs=runs)


def _panel_fill(
    request, page, panel: CheckPanel, *, article: bool, refusal: Refusal | None, runs: list[CheckRun] | None
) -> CheckPanel:
    """The article's steps, each with its latest run in the panel's diagnosis (and the refusal, in its step).

    ``article``: the panel is for the article itself (not one of its parts
    answering a poll), which may follow its running checks without JavaScript.
    """
    if panel.diagnosis is not None:
        results = diagnosis_results(page, panel.diagnosis, known=runs)
        panel.widgets, panel.already_here = results.widgets, results.already_here
    else:
        panel.widgets = step_widgets(page)
    if refusal is not None:  # the article itself, loaded again after a refused start without JavaScript
        panel.refusal = refusal
        if refusal.block_id in panel.widgets:
            panel.widgets[refusal.block_id].error = refusal.message
    if article:
        panel.nojs_refresh_url = _nojs_refresh_url(request, panel)
    return panel


def _nojs_refresh_url(request, panel: CheckPanel) -> str:
    """The address the article loads itself again at, without JavaScript, while its checks run ("" when none runs)."""
    runs = [w.run for w in panel.widgets.values()] + [panel.already_here]
    if not any(run is not None and run.in_flight for run in runs):
        return ""
    anchor = request.GET.get(NOJS_CHECKING_PARAM, "")
    if not _NOJS_ANCHOR.fullmatch(anchor):
        anchor = "check-panel"
    path = preview_url(panel.preview) if panel.preview is not None else request.path
    return f"{path}?{NOJS_CHECKING_PARAM}={anchor}&t={time.time_ns() // 1_000_000}#{anchor}"
