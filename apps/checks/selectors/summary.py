"""The verdict of a diagnosis, worded in one place: the article, the ticket, admin and the editors' statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from kitty_troubleshoot.said import Moment, Said, said, said_n
from kitty_troubleshoot.words import duration_words

from ..base import ARRIVAL_KEY, Arrival, Status
from ..models import CheckRun, Diagnosis
from ..sets import CheckSet, set_of
from .runs import latest_runs
from .steps import ALREADY_HERE_BLOCK, StepWidget, step_targets, step_widgets


@dataclass(frozen=True)
class SummaryLine:
    """One sentence of the summary; ``step`` is the step it is about, linked where it is shown."""

    text: str
    step: int | None = None
    anchor: str = ""  # a place on the article other than a step

    @property
    def href(self) -> str:
        return f"#step-{self.step}" if self.step is not None else (f"#{self.anchor}" if self.anchor else "")


@dataclass
class Summary:
    """The verdict of a diagnosis, from its steps' latest runs: the one place it is worded.

    The article (with and without JavaScript), the support ticket and Django
    admin all show these sentences, so the same runs read the same everywhere.
    """

    steps: list[StepWidget]
    already_here: CheckRun | None = None
    reference: str = ""  # what the diagnosis is about (the set's identifying input), "" if not typed
    check_set: type[CheckSet] | None = None  # whose words the summary speaks; the first registered if None

    def __post_init__(self):
        if self.check_set is None:
            self.check_set = set_of(None)

    def _say(self, template: str, **values) -> Said:
        return self.check_set.say(template, reference=self.reference, **values)

    @property
    def ran(self) -> list[StepWidget]:
        return [w for w in self.steps if w.run is not None]

    @property
    def total(self) -> int:
        return len(self.ran)

    @property
    def finished(self) -> int:
        return sum(1 for w in self.ran if not w.run.in_flight)

    @property
    def done(self) -> bool:
        return self.finished == self.total

    def _with(self, status: str) -> list[StepWidget]:
        ended = [w for w in self.ran if not w.run.in_flight and w.run.status == status]
        return sorted(ended, key=lambda w: w.step_number or 0)

    @property
    def passed(self) -> int:
        return len(self._with(Status.PASSED))

    @property
    def unknown_steps(self) -> list[StepWidget]:
        return self._with(Status.UNKNOWN)

    @property
    def first_failing(self) -> StepWidget | None:
        failing = self._with(Status.FAILED)
        return failing[0] if failing else None

    def _failed_step_it_follows(self, widget: StepWidget) -> StepWidget | None:
        """The failed step an unknown step could not be judged because of (e.g. no such order), if any."""
        data = widget.run.data if isinstance(widget.run.data, dict) else {}
        key = data.get("follows_from")
        return next((w for w in self._with(Status.FAILED) if key and w.check_key == key), None)

    @property
    def cause(self) -> StepWidget | None:
        """The most likely cause: the first step that failed, if no step before it couldn't be checked.

        A step that couldn't be checked only because a later one failed (the
        platform has no such order: there is nothing to judge) does not count.
        """
        first = self.first_failing
        if first is None:
            return None
        if any(
            (w.step_number or 0) < (first.step_number or 0) and self._failed_step_it_follows(w) is None
            for w in self.unknown_steps
        ):
            return None
        return first

    @property
    def state(self) -> str:
        """idle, running, already_here, nothing_here, cause, incomplete or passed."""
        if not self.total:
            return "idle"
        if not self.done:
            return "running"
        if self.already_here is not None and self.already_here.status == Status.PASSED:
            return "already_here"
        if self.nothing_here:
            return "nothing_here"
        if self.cause is not None:
            return "cause"
        if self.unknown_steps or self.first_failing is not None:
            return "incomplete"
        return "passed"

    @property
    def nothing_here(self) -> bool:
        """The check before Step 1 found nothing to diagnose (``Arrival.ABSENT``: no such thing where it looked).

        E.g. an order said to have come in twice that is not in Commerce Kitty
        at all: the steps, which look at its copies, have nothing to judge.
        """
        run = self.already_here
        if run is None or run.in_flight or run.status != Status.FAILED:
            return False
        data = run.data if isinstance(run.data, dict) else {}
        return data.get(ARRIVAL_KEY) == Arrival.ABSENT.value

    @property
    def watch_refusal(self) -> str:
        """Why the diagnosis' order may not be watched ("tell me when it arrives"); "" when it may.

        The one decision the summary's button and the watch service both use.
        Watching is for an order that may still arrive by itself: every step
        that failed says so (``Arrival.NOT_YET`` in its data: a payment, a
        review, a throttle's end or a sync it waits for), and no step found it
        will never come (cancelled, refunded, failed) or is not on the platform
        at all (a mistyped number, or an order of another plugin's store).
        """
        words = self.check_set.words
        if not words.watch_needs_reference:
            return said("There is nothing here that arrives by itself to watch for.")
        if not self.reference:
            return self._say(words.watch_needs_reference)
        state = self.state
        if state in ("idle", "running"):
            return self._say(words.watch_wait)
        if state == "already_here":
            return self._say(words.already_here)
        if state == "nothing_here":
            return self._say(words.watch_absent)
        ended = [w for w in self.ran if not w.run.in_flight]
        for widget in sorted(ended, key=lambda w: w.step_number or 0):
            arrival = self._arrival(widget)
            if arrival == Arrival.NEVER:
                return self._say(words.watch_never, verdict=widget.run.summary)
            if arrival == Arrival.ABSENT:
                return self._say(words.watch_absent)
        for widget in self._with(Status.FAILED):
            if self._arrival(widget) != Arrival.NOT_YET:
                return self._say(words.watch_blocked, step=widget.step_number, verdict=widget.run.summary)
        return ""

    @property
    def about(self) -> str:
        """What the diagnosis is about, in its set's words ("order #1004")."""
        return self.check_set.about(self.reference)

    @property
    def watchable(self) -> bool:
        """Whether the set's subject is something that may arrive by itself (a watch makes sense at all)."""
        return bool(self.check_set.words.watch_needs_reference)

    @property
    def may_watch(self) -> bool:
        return not self.watch_refusal

    @staticmethod
    def _arrival(widget: StepWidget) -> Arrival | None:
        data = widget.run.data if isinstance(widget.run.data, dict) else {}
        try:
            return Arrival(data.get(ARRIVAL_KEY))
        except ValueError:
            return None

    @property
    def retry_at(self) -> datetime | None:
        """When checking again can tell more (the end of a platform's throttling), if a step said."""
        moments = []
        for widget in [*self.unknown_steps, *self._with(Status.FAILED)]:
            data = widget.run.data if isinstance(widget.run.data, dict) else {}
            try:
                moments.append(datetime.fromisoformat(str(data["retry_at"])))
            except (KeyError, ValueError):
                continue
        return max(moments) if moments else None

    def lines(self) -> list[SummaryLine]:
        """The headline first, then what a person needs to act on it."""
        state = self.state
        if state == "idle":
            return []
        if state == "running":
            return [
                SummaryLine(
                    said_n(
                        "Checking… %(finished)s of %(count)s step done.",
                        "Checking… %(finished)s of %(count)s steps done.",
                        self.total,
                        finished=self.finished,
                    )
                )
            ]
        if state == "already_here":
            return [SummaryLine(self._say(self.check_set.words.already_here))]
        if state == "nothing_here":
            run = self.already_here
            return [SummaryLine(run.summary), *(SummaryLine(line) for line in run.evidence)]
        unknown = self.unknown_steps
        counts = self._counts(unknown)
        if state == "cause":
            cause = self.cause
            lines = [
                SummaryLine(
                    said(
                        "Most likely cause: Step %(step)s. %(verdict)s",
                        step=cause.step_number,
                        verdict=cause.run.summary,
                    ),
                    cause.step_number,
                )
            ]
            lines.append(SummaryLine(counts))
            lines += [self._unknown_line(w) for w in unknown]
            return lines
        if state == "incomplete":
            lines = []
            failing = self.first_failing
            if failing is not None:
                lines.append(
                    SummaryLine(
                        self._say(
                            self.check_set.words.keeps_out,
                            step=failing.step_number,
                            verdict=failing.run.summary,
                        ),
                        failing.step_number,
                    )
                )
            steps = _steps_words(unknown)
            if failing is not None:
                incomplete = said(
                    "The diagnosis is incomplete: %(steps)s couldn't be checked, so an earlier step may be a cause too.",
                    steps=steps,
                )
            else:
                incomplete = said("The diagnosis is incomplete: %(steps)s couldn't be checked.", steps=steps)
            lines.append(SummaryLine(incomplete))
            lines += [self._unknown_line(w) for w in unknown]
            lines.append(
                SummaryLine(said("%(counts)s %(advice)s", counts=counts, advice=self.retry_advice()))
            )
            return lines
        return [
            SummaryLine(said_n("%(count)s step passed.", "All %(count)s steps passed.", self.total)),
            SummaryLine(self._say(self.check_set.words.all_passed_then), anchor="still-missing"),
        ]

    def _counts(self, unknown: list[StepWidget]) -> Said:
        if not unknown:
            return said_n(
                "%(passed)s of %(count)s step passed.",
                "%(passed)s of %(count)s steps passed.",
                self.total,
                passed=self.passed,
            )
        return said_n(
            "%(passed)s of %(count)s step passed, %(unknown)s couldn't be checked.",
            "%(passed)s of %(count)s steps passed, %(unknown)s couldn't be checked.",
            self.total,
            passed=self.passed,
            unknown=len(unknown),
        )

    def retry_advice(self) -> Said:
        retry_at = self.retry_at
        if retry_at is not None and retry_at > timezone.now():
            wait = duration_words((retry_at - timezone.now()).total_seconds())
            return said(
                "Check again after %(moment)s (%(wait)s from now).", moment=Moment(retry_at), wait=wait
            )
        return said("Check again in a few minutes.")

    def _unknown_line(self, widget: StepWidget) -> SummaryLine:
        failed = self._failed_step_it_follows(widget)
        if failed is not None:
            return SummaryLine(
                said(
                    "Step %(step)s can be checked once Step %(cause)s is resolved.",
                    step=widget.step_number,
                    cause=failed.step_number,
                ),
                widget.step_number,
            )
        return SummaryLine(
            said(
                "Step %(step)s couldn't be checked: %(verdict)s",
                step=widget.step_number,
                verdict=widget.run.summary,
            ),
            widget.step_number,
        )

    @property
    def tone(self) -> str:
        """How the headline reads at a glance: passed, failed or unknown."""
        if self.state == "nothing_here":
            return "unknown"
        if self.state == "incomplete":
            return "unknown" if self.first_failing is None else "failed"
        return "failed" if self.state == "cause" else "passed"

    @property
    def headline(self) -> str:
        lines = self.lines()
        return lines[0].text if lines else ""

    def as_text(self) -> str:
        """The summary as plain text, one sentence a line, in the active language."""
        return "\n".join(str(line.text) for line in self.lines())


def _steps_words(widgets: list[StepWidget]) -> Said:
    numbers = [str(w.step_number) for w in widgets]
    if len(numbers) == 1:
        return said("Step %(step)s", step=numbers[0])
    # A list of numbers ("2, 4"): digits and commas read the same in every language the site speaks.
    return said("Steps %(steps)s and %(last)s", steps=", ".join(numbers[:-1]), last=numbers[-1])


def summary_of(
    widgets: list[StepWidget],
    *,
    already_here: CheckRun | None = None,
    reference: str = "",
    check_set: type[CheckSet] | None = None,
) -> Summary:
    return Summary(list(widgets), already_here=already_here, reference=reference, check_set=check_set)


def diagnosis_summary(diagnosis: Diagnosis, *, page=None) -> Summary:
    """The summary of a diagnosis from its runs alone (for the ticket and admin, where no panel is built).

    Steps are numbered as when they ran; with ``page`` the article's current steps are used.
    """
    return summary_of_runs(
        latest_runs(diagnosis), reference=diagnosis.reference, check_set=diagnosis.set, page=page
    )


def summary_of_runs(
    runs: dict[str, CheckRun], *, reference: str = "", check_set: type[CheckSet] | None = None, page=None
) -> Summary:
    """The summary of a diagnosis given its latest run of each step, by block id.

    For readers that load many diagnoses' runs at once (the editors' outcome
    statistics), so they reach the same verdict the merchant was shown.
    """
    runs = dict(runs)
    already_here = runs.pop(ALREADY_HERE_BLOCK, None)
    if page is not None:
        widgets = [
            StepWidget(t.block_id, t.step_number, t.check_key, "", run=runs.get(t.block_id))
            for t in step_targets(page)
        ]
    else:
        widgets = [
            StepWidget(run.block_id, run.step_number, run.check_key, "", run=run)
            for run in runs.values()
            if run.step_number is not None
        ]
    return summary_of(widgets, already_here=already_here, reference=reference, check_set=check_set)


@dataclass
class DiagnosisResults:
    """An article's steps, each with its latest run in one diagnosis, the check before Step 1, and the summary."""

    widgets: dict[str, StepWidget]
    already_here: CheckRun | None
    summary: Summary


def diagnosis_results(page, diagnosis: Diagnosis, *, known: list[CheckRun] | None = None) -> DiagnosisResults:
    """Each step of ``page`` as the diagnosis left it: what the article's panel, the API and the MCP server show.

    ``known``: every run the diagnosis has, when the caller holds them (see ``latest_runs``).
    """
    widgets = step_widgets(page)
    latest = latest_runs(diagnosis, known=known)
    for block_id, widget in widgets.items():
        widget.run = latest.get(block_id)
    already_here = latest.get(ALREADY_HERE_BLOCK)
    summary = summary_of(
        list(widgets.values()),
        already_here=already_here,
        reference=diagnosis.reference,
        check_set=set_of(page),
    )
    return DiagnosisResults(widgets=widgets, already_here=already_here, summary=summary)
