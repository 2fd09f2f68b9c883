"""An article's steps that carry a check: what a start runs, and each step as its widget shows it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kitty_troubleshoot.said import said_p

from ..models import CheckRun
from ..registry import get_check
from ..sets import set_of


@dataclass(frozen=True)
class StepTarget:
    """One step of an article that carries a check."""

    check_key: str
    block_id: str
    step_number: int | None


# The set's check that runs before Step 1 ("is it already here?") is shown above Step 1, as this block.
ALREADY_HERE_BLOCK = "already-here"


def step_targets(page) -> list[StepTarget]:
    """The article's steps that carry a registered check, in order."""
    return [
        StepTarget(key, block_id, number)
        for block_id, number, key in page.check_steps()
        if get_check(key) is not None
    ]


def before_step_one(page, reference: str) -> list[StepTarget]:
    """The set's check that runs before Step 1 with every start that names what it is about ([] otherwise)."""
    key = set_of(page).before_step_one
    return [StepTarget(key, ALREADY_HERE_BLOCK, None)] if key and reference else []


def every_step_targets(page, reference: str) -> list[StepTarget]:
    """What "Check every step" runs: the set's check before Step 1, then each of the article's steps."""
    return [*before_step_one(page, reference), *step_targets(page)]


@dataclass
class StepWidget:
    block_id: str
    step_number: int | None
    check_key: str
    title: str
    run: CheckRun | None = None
    error: str = ""  # why the last press of its button started nothing
    # Check key → its step on the article, for a result that points at another step.
    steps_by_check: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def status_words(self) -> str:
        return {
            "idle": said_p("a step's status", "not checked"),
            "running": said_p("a step's status", "checking"),
            "passed": said_p("a step's status", "passed"),
            "failed": said_p("a step's status", "failed"),
            "unknown": said_p("a step's status", "couldn't check"),
        }.get(self.status, self.status)

    @property
    def see_step(self) -> int | None:
        """The step a result points at (e.g. Step 7's "a sync would not bring it in": see Step 4)."""
        data = self.run.data if self.run is not None and isinstance(self.run.data, dict) else {}
        step = self.steps_by_check.get(str(data.get("see_check", "")))
        return step if step != self.step_number else None

    @property
    def awaiting(self) -> bool:
        """A finished result that background work it started will supersede (a queued Sync now):
        the widget keeps polling for the step's next run until ``data["awaiting_until"]``."""
        data = self.run.data if self.run is not None and isinstance(self.run.data, dict) else {}
        until = parse_datetime(str(data.get("awaiting_until") or ""))
        return until is not None and timezone.now() < until

    @property
    def status(self) -> str:
        if self.run is None:
            return "idle"
        return "running" if self.run.in_flight else self.run.status


def step_widgets(page) -> dict[str, StepWidget]:
    """An empty widget for each of the article's steps that carries a check, by block id."""
    targets = step_targets(page)
    by_check = {t.check_key: t.step_number for t in targets}
    return {
        t.block_id: StepWidget(
            t.block_id, t.step_number, t.check_key, get_check(t.check_key).title, steps_by_check=by_check
        )
        for t in targets
    }
