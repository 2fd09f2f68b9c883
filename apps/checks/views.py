"""HTMX endpoints of the "Check this now" widget; each also works as a plain form POST."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from wagtail.models import Page

from kitty_troubleshoot.decorators import login_required_htmx
from kitty_troubleshoot.params import int_param

from .accounts import in_another_account
from .base import InputError
from .models import CheckRun, Diagnosis
from .registry import get_check
from .selectors.articles import article_from, live_article
from .selectors.panel import NOJS_CHECKING_PARAM, check_panel
from .selectors.previews import preview_article, preview_session_for_user, preview_url
from .selectors.runs import latest_runs, runs_as_now, runs_queued_ahead
from .selectors.steps import StepWidget, step_targets
from .selectors.viewers import (
    SESSION_KEY,
    diagnosis_for_account,
    diagnosis_for_viewer,
    diagnosis_merchant_id,
    run_for_viewer,
)
from .services.ending import start_end_wait
from .services.fixes import fix_apply_request
from .services.previews import preview_sandbox_reset
from .services.queueing import ChecksUnavailable
from .services.refusals import Refusal, refusal_keep, typed_fields
from .services.start_limits import TooManyChecks
from .services.starting import checks_start
from .sets import set_of

# Sent (as an htmx event on the page) when a response shows a check that has ended,
# so other parts of the article, such as the support ticket form, can catch up.
CHECKS_FINISHED_EVENT = "checks-finished"
# Polling starts fast and backs off: the n-th look waits this long (ms). Most checks end within
# half a second of the click, so the first looks are close together (a result at 310 ms is seen
# at 400, not 550); a check waiting on a slow platform is looked at once a second.
POLL_DELAYS_MS = [50, 100, 100, 150, 150, 250, 400, 650, 1000]


# While a diagnosis's runs all wait in the queue, the next look waits about as long as this per run
# ahead of them (at most the longest delay): fifty merchants pressing together do not look fifty
# times a second at checks that cannot have started. Two processes answer a run in a few ms each.
POLL_MS_PER_RUN_AHEAD = 3


# While a worker has a diagnosis's checks and none of them has ended for a while, they wait on a
# platform (a database check ends in milliseconds): the next look waits about as long as nothing has
# ended already, up to this. A diagnosis whose runs keep ending is looked at as often as before; one
# waiting seconds on a slow store is looked at after 0.4, 0.8, 1.6 s and then every 2 s.
POLL_QUIET_MAX_MS = 2000


def poll_delay(n: int, *, runs_ahead: int | None = None, quiet_ms: int | None = None) -> int:
    delay = POLL_DELAYS_MS[min(n, len(POLL_DELAYS_MS) - 1)]
    if runs_ahead:
        delay = max(delay, min(runs_ahead * POLL_MS_PER_RUN_AHEAD, POLL_DELAYS_MS[-1]))
    if quiet_ms:
        delay = max(delay, min(quiet_ms, POLL_QUIET_MAX_MS))
    return delay


def runs_quiet_ms(runs, now=None) -> int | None:
    """How long (ms) a worker has had these runs without one of them ending; None unless one has started.

    From the newest end, or start, among them: a look that finds a run ended
    just now sets it back to nothing. Runs that all still wait in the queue
    have no worker yet (``runs_queued_ahead`` paces those looks).
    """
    moments = [
        run.finished_at if run.finished else run.started_at
        for run in runs
        if run is not None and (run.finished or run.status == CheckRun.State.RUNNING)
    ]
    moments = [moment for moment in moments if moment is not None]
    if not moments:
        return None
    return max(0, int(((now or timezone.now()) - max(moments)).total_seconds() * 1000))


def _widget_response(request, page, widget: StepWidget, *, n: int = 0, status: int = 200):
    context = {"page": page, "widget": widget, "poll_delay": poll_delay(n), "next_n": n + 1}
    preview = getattr(page, "preview_session", None) is not None
    # In a preview the editor stands in for the sandbox account's owner.
    context["panel"] = {
        "is_owner": preview or bool(request.account and request.account.is_owner),
        "preview": preview,
    }
    # A finished run renders without the polling trigger, which ends the polling.
    return render(request, "checks/widget.html#widget", context, status=status)


def _get_run_for_account(request, run_uuid) -> CheckRun:
    """The run if it is of the user's own article preview, or the request's account's.

    Found by its id alone, so answering for a preview never reads the
    editor's own accounts. Anyone else's (even the user's other account's, or
    another editor's preview's) is a 404.
    """
    run = run_for_viewer(request.user, request.account, run_uuid)
    if run is None:
        raise Http404("No such check run.")
    return run


def _get_diagnosis_for_account(request, diagnosis_uuid) -> Diagnosis:
    """The diagnosis if it is of the user's own article preview, or the request's account's; else a 404."""
    diagnosis = diagnosis_for_viewer(request.user, request.account, diagnosis_uuid)
    if diagnosis is None:
        raise Http404("No such diagnosis.")
    return diagnosis


def _article_of(run_or_diagnosis) -> Page:
    """The article a run or diagnosis answers for: the previewed draft for a preview's."""
    diagnosis = getattr(run_or_diagnosis, "diagnosis", run_or_diagnosis)
    if diagnosis.preview_session_id is not None:
        return preview_article(diagnosis.preview_session)
    page = article_from(run_or_diagnosis.page)
    if page is None:
        raise Http404("The article of this check no longer exists.")
    return page


def _poll_count(request) -> int:
    """How many times the widget has polled (the ``n`` it sends), for the backoff."""
    return int_param(request.GET.get("n"), default=0)


def _back_to(page, anchor: str, *, checking: bool = False) -> HttpResponseRedirect:
    """Back to the article at ``anchor``; ``checking``: a start without JavaScript, followed there until it ends.

    The article then refreshes itself while the checks run, to an address
    that changes each time (see ``nojs_refresh_url``): a refresh to the same
    address with a #fragment only scrolls, it never loads the page again.
    """
    session = getattr(page, "preview_session", None)
    url = preview_url(session) if session is not None else page.url
    query = f"?{NOJS_CHECKING_PARAM}={anchor}" if checking else ""
    return HttpResponseRedirect(f"{url}{query}#{anchor}")


@login_required_htmx(anchor="check-panel")
@require_POST
def check_start(request, every_step: bool = False):
    """Start one step's check, or every step's ("check every step"), for the inputs typed above.

    Every step's is asked for at its own address (``every_step``) or, from a
    page rendered before it had one, with ``all=1``.

    From an article's preview (the form carries its signed token) the steps
    are the previewed draft's, and the account is the editor's sandbox.
    """
    preview = None
    if request.POST.get("preview"):
        preview = preview_session_for_user(request.user, request.POST["preview"])
        page = preview_article(preview)
    else:
        page = live_article(request.POST.get("page"))
    targets = step_targets(page)
    run_all = every_step or request.POST.get("all") == "1"
    block_id = request.POST.get("block_id", "")
    if not run_all:
        targets = [t for t in targets if t.block_id == block_id]
        if not targets:
            raise Http404("That step has no check.")
    anchor = "check-inputs" if run_all else f"step-{targets[0].step_number}"
    widget = (
        StepWidget(targets[0].block_id, targets[0].step_number, targets[0].check_key, "") if targets else None
    )

    try:
        subject = request.POST.get("subject", "").strip()
        subject_id = int(subject) if subject else None
    except ValueError:
        raise Http404("No such plugin.") from None
    try:
        start = checks_start(
            page=page,
            targets=targets,
            user=request.user,
            subject_id=subject_id,
            values=set_of(page).clean(request.POST),
            account=request.account,
            preview=preview,
        )
    except LookupError:
        raise Http404("No such plugin.") from None
    except InputError as exc:
        return _refuse(request, page, widget, run_all, anchor, str(exc), field=exc.field, typed=True)
    except (TooManyChecks, ChecksUnavailable) as exc:
        return _refuse(request, page, widget, run_all, anchor, str(exc), typed=True)
    diagnosis = start.diagnosis
    # The article shows this diagnosis from now on (a preview shows its own latest); the
    # session is written only when that changes, not on every check again.
    session_key = SESSION_KEY.format(page_id=page.pk)
    if preview is None and request.session.get(session_key) != str(diagnosis.uuid):
        request.session[session_key] = str(diagnosis.uuid)

    # Most checks end in a moment: the answer carries their results rather than "Checking…" and a look.
    ended, queued_ahead = start_end_wait(start.runs)
    if not request.htmx:
        return _back_to(page, anchor, checking=True)
    # A diagnosis this request created has no runs but these, and every step's newest run is this
    # start's when it ran every step afresh: they are shown without reading every step's back
    # (only these, once their task has ended). Otherwise the panel reads each step's newest.
    runs = None
    if start.created or (run_all and start.fresh):
        runs = runs_as_now(start.runs) if ended else start.runs
    if run_all:
        return _summary_response(request, page, diagnosis, n=0, runs=runs, queued_ahead=queued_ahead)
    shown = request.POST.get("shown", "")
    return _panel_widget_response(
        request, page, diagnosis, targets[-1].block_id, others=shown != str(diagnosis.uuid), runs=runs
    )


def _typed(request, page) -> dict[str, str]:
    """The panel's fields as they were posted (cut short), to show them again with a refusal."""
    return {name: request.POST.get(name, "")[:100] for name in typed_fields(set_of(page))}


def _refuse(
    request, page, widget, run_all: bool, anchor: str, message: str, *, field: str = "", typed: bool = False
):
    """An input or capacity problem, said where it happened: in the step (or the summary).

    Without JavaScript the article is loaded again: the refusal waits in the
    session for it, with what was typed (``typed``) so nothing has to be typed twice.
    """
    if not request.htmx:
        refusal = Refusal(
            block_id="" if run_all or widget is None else widget.block_id,
            message=message,
            field_name=field,
            typed=_typed(request, page) if typed else {},
        )
        refusal_keep(request, page, refusal)
        return _back_to(page, anchor)
    if run_all or widget is None:
        response = render(
            request, "checks/widget.html#summary", {"page": page, "error": message, "summary": None}
        )
        # The checklist goes with the summary it stood under: nothing is left to be read as the new order's.
        response.content += render(
            request, "checks/widget.html#checklist", {"oob": True, "summary": None}
        ).content
    else:
        check = get_check(widget.check_key)
        widget.title = check.title if check is not None else widget.check_key
        widget.error = message
        response = _widget_response(request, page, widget)
    if field:
        # The field at fault is marked invalid and takes the focus, as it does without JavaScript.
        panel = check_panel(request, page)
        panel.refusal = Refusal(
            block_id="" if run_all or widget is None else widget.block_id,
            message=message,
            field_name=field,
            typed=_typed(request, page),
        )
        response.content += render(
            request, "checks/panel.html#inputs_oob", {"page": page, "panel": panel}
        ).content
    return response


def _panel_widget_response(
    request,
    page,
    diagnosis,
    block_id: str,
    n: int = 0,
    *,
    others: bool = False,
    runs: list[CheckRun] | None = None,
):
    """One step's widget, with the summary, checklist and banner out of band.

    ``others``: the page was showing another diagnosis (another order or
    plugin), so every other step is sent too, for these inputs: a summary
    never sits above results about something else. ``runs``: see ``check_panel``.
    """
    panel = check_panel(request, page, diagnosis=diagnosis, runs=runs)
    widget = panel.widgets.get(block_id)
    if widget is None:
        raise Http404("That step has no check.")
    response = _widget_response(request, page, widget, n=n)
    others_sent = [w for w in panel.widgets.values() if w.block_id != block_id] if others else []
    # The summary's looks (while anything runs) name what the page has without them, so they do not
    # send it again: this step, which looks for its own result while it runs, and what this answer
    # carries final. A step's result swapped a second time under the person would drop what they had
    # started, e.g. the channel picked for its fix.
    carried = {str(w.step_number) for w in others_sent} | {ALREADY_HERE_STEP}
    shown = {str(widget.step_number)} | (_final_steps(panel) & carried)
    context = {
        "page": page,
        "panel": panel,
        "diagnosis": diagnosis,
        "summary": panel.summary,
        "already_here": panel.already_here,
        "widgets": others_sent,
        "poll_shown": _shown_value(shown),
    }
    response.content += render(request, "checks/widget.html#summary_oob", context).content
    if widget.run is not None and not widget.run.in_flight:
        trigger_client_event(response, CHECKS_FINISHED_EVENT)
    return response


@login_required_htmx(anchor="check-panel")
@require_GET
def check_run_poll(request, run_uuid):
    """The widget for one run: polled while it runs; the page itself without JavaScript."""
    run = _get_run_for_account(request, run_uuid)
    page = _article_of(run)
    if not request.htmx:
        return _back_to(page, f"step-{run.step_number}" if run.step_number else "check-inputs", checking=True)
    return _panel_widget_response(request, page, run.diagnosis, run.block_id, n=_poll_count(request))


@login_required_htmx(anchor="check-panel")
@require_POST
def check_run_fix(request, run_uuid):
    """Apply a fix the run offered, then check again (one task: fix, then check)."""
    run = _get_run_for_account(request, run_uuid)
    page = _article_of(run)
    anchor = f"step-{run.step_number}"
    try:
        fixing = fix_apply_request(
            run=run,
            user=request.user,
            page=page,
            fix_key=request.POST.get("fix", ""),
            choice=request.POST.get("choice", ""),
        )
    except (InputError, TooManyChecks, ChecksUnavailable) as exc:
        # Show the step as it is now (a double click's second answer must not stop the first's polling).
        latest = latest_runs(run.diagnosis).get(run.block_id, run)
        widget = StepWidget(run.block_id, run.step_number, run.check_key, "", run=latest)
        return _refuse(request, page, widget, False, anchor, str(exc))
    # As a start: a fix and the checks after it that end in a moment are answered with their results.
    start_end_wait([fixing])
    if not request.htmx:
        return _back_to(page, anchor, checking=True)
    # The summary follows every step as they are checked again, the fixed one among them.
    response = _summary_response(request, page, run.diagnosis, n=0)
    return reswap(retarget(response, "#diagnosis-summary"), "outerHTML")


@login_required_htmx(anchor="check-panel")
@require_GET
def diagnosis_summary(request, diagnosis_uuid):
    diagnosis = _get_diagnosis_for_account(request, diagnosis_uuid)
    page = _article_of(diagnosis)
    if not request.htmx:
        return _back_to(page, "check-inputs", checking=True)
    return _summary_response(request, page, diagnosis, n=_poll_count(request), shown=_poll_shown(request))


# The steps whose final result the page already has, as the summary's look sends them back: "1.2.5"
# (step numbers; 0 is the check before Step 1).
_SHOWN = re.compile(r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){0,99})?")  # ASCII digits only, as the page writes them
ALREADY_HERE_STEP = "0"


def _poll_shown(request) -> set[str] | None:
    """The steps a look at the summary has already shown final (None: a look that names none, e.g. an old page's)."""
    value = request.GET.get("shown")
    if value is None or not _SHOWN.fullmatch(value):
        return None
    return set(value.split(".")) if value else set()


def _final_steps(panel) -> set[str]:
    """The steps (and the check before Step 1) whose result has ended, as a look's ``shown`` names them."""
    final = {str(w.step_number) for w in panel.widgets.values() if w.run is not None and w.run.finished}
    if panel.already_here is not None and panel.already_here.finished:
        final.add(ALREADY_HERE_STEP)
    return final


def _shown_value(steps: set[str]) -> str:
    return ".".join(sorted(steps, key=int))


def _summary_response(
    request,
    page,
    diagnosis,
    *,
    n: int,
    shown: set[str] | None = None,
    runs: list[CheckRun] | None = None,
    queued_ahead: int | None = -1,
):
    """The summary (most likely cause, how many passed) plus the steps' widgets, swapped out of band.

    The first answer carries every step (all "Checking…"); each later one only
    the steps that ended since the page last had them (``shown``: the steps it
    has final, which each answer's next look names), so a screen reader hears
    each result once and a look at a diagnosis still waiting on a slow
    platform sends, and renders, only the summary. ``runs``: see ``check_panel``;
    ``queued_ahead``: ``runs_queued_ahead`` of them, when the caller has counted (-1: not counted).
    """
    panel = check_panel(request, page, diagnosis=diagnosis, runs=runs)
    widgets = list(panel.widgets.values())
    summary = panel.summary
    runs = [w.run for w in widgets] + [panel.already_here]
    final = _final_steps(panel)
    changed, news = widgets, True
    if shown is not None:
        changed = [w for w in widgets if str(w.step_number) in final - shown]
        news = bool(final - shown) or summary.done
    context = {
        "page": page,
        "panel": panel,
        "diagnosis": diagnosis,
        "summary": summary,
        "widgets": changed,
        "news": news,  # anything the page does not have yet: else only the summary's next look is sent
        "already_here": panel.already_here,
        "poll_delay": poll_delay(n)
        if summary.done
        else poll_delay(
            n,
            runs_ahead=runs_queued_ahead(runs) if queued_ahead == -1 else queued_ahead,
            quiet_ms=runs_quiet_ms(runs),
        ),
        "next_n": n + 1,
        "poll_shown": _shown_value(final),
    }
    response = render(request, "checks/widget.html#summary_with_steps", context)
    if summary.done:
        trigger_client_event(response, CHECKS_FINISHED_EVENT)
    return response


# Where "open this diagnosis" may land on the article: a step, or the ticket form.
_OPEN_TARGET = re.compile(r"step-\d{1,3}|still-missing")


@login_required_htmx(anchor="check-panel")
@require_GET
def diagnosis_open(request, diagnosis_uuid):
    """Make this diagnosis the one the article shows, and go to a step or the ticket form.

    Links in e-mails and notifications use it: the article then shows that
    diagnosis' results and prefills the ticket form from it.
    """
    diagnosis = diagnosis_for_account(request.account, diagnosis_uuid)
    if diagnosis is None:  # a link about another of the user's accounts offers to switch to it
        return in_another_account(request, diagnosis_merchant_id(diagnosis_uuid))
    if diagnosis.page is None or not diagnosis.page.live:
        raise Http404("That article is no longer published.")
    request.session[SESSION_KEY.format(page_id=diagnosis.page_id)] = str(diagnosis.uuid)
    target = request.GET.get("to", "")
    fragment = f"#{target}" if _OPEN_TARGET.fullmatch(target) else "#check-panel"
    return HttpResponseRedirect(diagnosis.page.url + fragment)


@login_required_htmx(anchor="check-panel")
@require_POST
def preview_sandbox_reset_view(request):
    """Start the preview's sandbox account over: every cause staged again, fixes undone."""
    session = preview_session_for_user(request.user, request.POST.get("preview", ""))
    preview_sandbox_reset(editor=session.user)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return _back_to(preview_article(session), "check-panel")
