"""A step waiting on a queued Sync now keeps looking for its next result, however it reached the page."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from apps.checks.models import CheckRun
from apps.checks.selectors.steps import StepWidget


def _widget(data: dict, status: str = "failed") -> StepWidget:
    run = CheckRun(check_key="manual_sync", block_id="b7", step_number=7, status=status, data=data)
    return StepWidget("b7", 7, "manual_sync", "Would a sync bring it in?", run=run)


def _rendered(widget: StepWidget, *, oob: bool) -> str:
    return render_to_string("checks/widget.html#widget", {"widget": widget, "oob": oob})


def test_a_step_awaiting_a_queued_sync_polls_even_when_the_summary_brought_it_out_of_band():
    until = (timezone.now() + timedelta(minutes=10)).isoformat()
    awaiting = _widget({"awaiting_until": until})

    # The summary's last answer swaps every step in out of band; nothing else would poll this one.
    assert "hx-get=" in _rendered(awaiting, oob=True)
    assert "hx-get=" in _rendered(awaiting, oob=False)


def test_a_finished_step_that_awaits_nothing_does_not_poll():
    past = (timezone.now() - timedelta(seconds=1)).isoformat()

    assert "hx-get=" not in _rendered(_widget({"awaiting_until": past}), oob=True)
    assert "hx-get=" not in _rendered(_widget({}), oob=False)


def test_a_running_summary_polls_even_when_a_steps_answer_brought_it_out_of_band():
    """A step's poll answered after "Check every step" carries the running summary out of band: it
    replaces the summary that was polling, so it must poll itself or nothing ever says "done"."""
    from types import SimpleNamespace
    from uuid import uuid4

    running = SimpleNamespace(
        state="running", total=7, lines=[SimpleNamespace(text="Checking… 0 of 7 steps done.")]
    )
    diagnosis = SimpleNamespace(uuid=uuid4(), subject_id=1, reference="1006", preview_session_id=None)

    for oob in (True, False):
        html = render_to_string(
            "checks/widget.html#summary", {"summary": running, "diagnosis": diagnosis, "oob": oob}
        )
        assert f"/checks/diagnoses/{diagnosis.uuid}/summary/" in html
        assert "hx-get=" in html
