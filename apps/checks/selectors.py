"""What the article shows a signed-in merchant: the inputs, each step's latest run, the summary."""

from __future__ import annotations

import re
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property

from django.core import signing
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from wagtail.models import Page, get_page_models

from kitty_troubleshoot.params import int_param
from kitty_troubleshoot.words import duration_words, when

from .base import ARRIVAL_KEY, AccountAccess, Arrival, InputError, Status
from .models import CheckRun, Diagnosis, PreviewSession
from .registry import account_directory, get_check
from .services import StepTarget, check_run_expire_if_overdue, latest_runs
from .sets import CheckSet, TypedInput, set_of

SESSION_KEY = "checks:diagnosis:{page_id}"
REFUSAL_KEY = "checks:refusal:{page_id}"
# Without JavaScript the article follows running checks by loading itself again: the address
# names where the reader was (a step, or the inputs) and changes on every load, so each refresh
# is a real navigation rather than a jump to a #fragment of the page already shown.
NOJS_CHECKING_PARAM = "checking"
NOJS_REFRESH_SECONDS = 1  # a browser replaces the history entry for refreshes of 1 s or less
_NOJS_ANCHOR = re.compile(r"step-\d{1,3}|check-inputs|check-panel")


def typed_fields(check_set: type[CheckSet]) -> tuple[str, ...]:
    """The panel's fields: shown again as typed when a start is refused without JavaScript."""
    return ("subject", *(i.name for i in check_set.inputs))


@dataclass
class Refusal:
    """Why a check did not start, for the article page loaded again without JavaScript."""

    block_id: str  # the step whose button was pressed; "" for "Check every step"
    message: str
    field_name: str = ""  # the input at fault, if one is
    typed: dict = field(default_factory=dict)  # the subject and the set's inputs, as they were posted


def refusal_keep(request, page, refusal: Refusal) -> None:
    request.session[REFUSAL_KEY.format(page_id=page.pk)] = {
        "block_id": refusal.block_id,
        "message": refusal.message,
        "field": refusal.field_name,
        "typed": refusal.typed,
    }


def _refusal_pop(request, page) -> Refusal | None:
    data = request.session.pop(REFUSAL_KEY.format(page_id=page.pk), None)
    if not isinstance(data, dict):
        return None
    return Refusal(
        block_id=str(data.get("block_id", "")),
        message=str(data.get("message", "")),
        field_name=str(data.get("field", "")),
        typed={k: str(v) for k, v in (data.get("typed") or {}).items() if k in typed_fields(set_of(page))},
    )


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
            "idle": "not checked",
            "running": "checking",
            "passed": "passed",
            "failed": "failed",
            "unknown": "couldn't check",
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


# Each page's own type, by id, once seen: Wagtail never changes a page's type, so later
# lookups read the page's own row in one query instead of the base page, then its type's.
_page_types: dict[int, type[Page]] = {}


def live_article(page_id) -> Page:
    """The live article (a page with steps) with this id; a 404 for anything else."""
    pk = int_param(str(page_id or ""))
    try:
        if pk is None:
            raise ValueError(page_id)
        page_type = _page_types.get(pk)
        page = page_type.objects.live().filter(pk=pk).first() if page_type is not None else None
        if page is None:  # not seen yet, or no longer that (or any) live page: asked in full
            page = Page.objects.live().get(pk=pk).specific
            _page_types[pk] = type(page)
    except (TypeError, ValueError, OverflowError, Page.DoesNotExist):
        raise Http404("No such article.") from None
    if not hasattr(page, "check_steps"):  # a page without steps (e.g. the help center's home)
        raise Http404("No such article.")
    return page


@cache
def _article_types() -> tuple[str, ...]:
    """How a base page reaches each page type with steps (a ``body``): the reverse one-to-one's name."""
    return tuple(
        model._meta.model_name
        for model in get_page_models()
        if Page in model._meta.parents and hasattr(model, "check_steps")
    )


def with_article(queryset, field: str = "page"):
    """``queryset`` reading the article its rows point at (``field``) as its own page type, in the same query."""
    return queryset.select_related(*(f"{field}__{name}" for name in _article_types()))


def article_from(page: Page | None) -> Page | None:
    """The page as its own type: read already when it came through :func:`with_article`, else asked for."""
    if page is None:
        return None
    for name in _article_types():
        if getattr(type(page), name).is_cached(page):
            try:
                return getattr(page, name)
            except ObjectDoesNotExist:  # read with it, and not of this type
                continue
    return page.specific


def session_diagnosis(request, page, *, merchant_id: int | None = None) -> Diagnosis | None:
    """The diagnosis this reader last started on the article, if it is the request's account's."""
    uuid = request.session.get(SESSION_KEY.format(page_id=page.pk))
    if not uuid:
        return None
    if merchant_id is None:
        account = getattr(request, "account", None)
        if account is None:
            return None
        merchant_id = account.merchant_id
    return Diagnosis.objects.filter(uuid=uuid, merchant_id=merchant_id, preview_session=None).first()


def step_targets(page) -> list[StepTarget]:
    """The article's steps that carry a registered check, in order."""
    return [
        StepTarget(key, block_id, number)
        for block_id, number, key in page.check_steps()
        if get_check(key) is not None
    ]


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


def diagnosis_for_viewer(user, account: AccountAccess | None, diagnosis_uuid) -> Diagnosis | None:
    """The diagnosis with this id, if it is of ``user``'s own article preview or of ``account``; else None.

    Read in one query by its id alone, with its article and preview session:
    the query names no account, so answering for a preview never reads the
    editor's own. Whose it is is then decided on the row: a preview's belongs
    to its editor (while they may still preview), any other to its account.
    Anyone else's (another account's, another editor's preview's), a
    read-only one or a malformed id is None.
    """
    try:
        diagnosis = (
            with_article(Diagnosis.objects.filter(uuid=diagnosis_uuid, read_only=False))
            .select_related("preview_session")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None
    return diagnosis if diagnosis is not None and _seen_by(diagnosis, user, account) else None


def _seen_by(diagnosis: Diagnosis, user, account: AccountAccess | None) -> bool:
    if diagnosis.preview_session_id is not None:
        # Permissions asked last: a merchant's look at their own account's costs no lookup of them.
        return (
            getattr(user, "is_authenticated", False)
            and diagnosis.preview_session.user_id == user.pk
            and may_preview(user)
        )
    return account is not None and diagnosis.merchant_id == account.merchant_id


def diagnosis_for_account(account: AccountAccess | None, diagnosis_uuid) -> Diagnosis | None:
    """The account's own diagnosis with this id; None for anyone else's, a preview's or a malformed id."""
    return diagnosis_for_viewer(None, account, diagnosis_uuid) if account is not None else None


def diagnosis_merchant_id(diagnosis_uuid) -> int | None:
    """Whose diagnosis this is (the caller must not show it unless the user is a member of that account)."""
    try:
        return (
            Diagnosis.objects.filter(uuid=diagnosis_uuid, read_only=False, preview_session=None)
            .values_list("merchant_id", flat=True)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def run_for_viewer(user, account: AccountAccess | None, run_uuid) -> CheckRun | None:
    """The check run with this id (expired if overdue), if ``user``'s preview's or ``account``'s; else None.

    One query by its id alone, with its diagnosis and article; whose it is is
    decided as for :func:`diagnosis_for_viewer`.
    """
    try:
        run = (
            with_article(CheckRun.objects.filter(uuid=run_uuid))
            .select_related("diagnosis", "diagnosis__preview_session")
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None
    if run is None or not _seen_by(run.diagnosis, user, account):
        return None
    return check_run_expire_if_overdue(run)


# --- Previews: the draft's checks, run on a sandbox account -----------------------

PREVIEW_TOKEN_SALT = "checks.preview"
PREVIEW_TOKEN_MAX_AGE = 12 * 60 * 60  # a preview left open overnight asks to be opened again


def may_preview(user) -> bool:
    """Editors (anyone who may use Wagtail's admin, where previews are) may check in a preview."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("wagtailadmin.access_admin"))


def preview_token(session: PreviewSession) -> str:
    """What the preview's forms send to name the preview session; signed, for its editor only."""
    return signing.dumps({"s": str(session.uuid), "u": session.user_id}, salt=PREVIEW_TOKEN_SALT)


def preview_session_for_user(user, token: str) -> PreviewSession:
    """The preview session a token names, if it is this user's and still fresh; otherwise a 404."""
    try:
        data = signing.loads(token, salt=PREVIEW_TOKEN_SALT, max_age=PREVIEW_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This preview has expired: open the preview again.") from None
    if not isinstance(data, dict) or data.get("u") != user.pk or not may_preview(user):
        raise Http404("No such preview.")
    try:
        session = (
            PreviewSession.objects.select_related("content_type")
            .filter(uuid=data.get("s"), user=user)
            .first()
        )
    except (ValueError, ValidationError):
        session = None
    if session is None:
        raise Http404("No such preview.")
    return session


def preview_article(session: PreviewSession):
    """The draft the preview shows, as a page, knowing it is a preview (views send the reader back to it)."""
    page = session.article()
    page.preview_session = session
    return page


def preview_url(session: PreviewSession) -> str:
    """Where a preview is shown again, for a form posted without JavaScript."""
    if session.page_id:
        return reverse("wagtailadmin_pages:preview_on_edit", args=[session.page_id])
    return reverse("wagtailadmin_home")


def check_panel(
    request, page, *, diagnosis: Diagnosis | None = None, runs: list[CheckRun] | None = None
) -> CheckPanel:
    """The panel for the request's account; ``diagnosis`` (already scoped to it) overrides the session's.

    ``runs``: every run ``diagnosis`` has, when the caller holds them (it has
    just created both); otherwise each step's latest is read.

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
        return _preview_panel(request, page, session, diagnosis=diagnosis, runs=runs)
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
    return _panel_fill(request, page, panel, refusal=diagnosis is None, runs=runs)


def _preview_panel(
    request, page, session: PreviewSession, *, diagnosis: Diagnosis | None, runs: list[CheckRun] | None
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
    return _panel_fill(request, page, panel, refusal=diagnosis is None, runs=runs)


def _panel_fill(
    request, page, panel: CheckPanel, *, refusal: bool, runs: list[CheckRun] | None
) -> CheckPanel:
    """The article's steps, each with its latest run in the panel's diagnosis (and a refusal kept for it)."""
    panel.widgets = step_widgets(page)
    if refusal:  # the article itself, loaded again after a refused start without JavaScript
        panel.refusal = _refusal_pop(request, page)
        if panel.refusal is not None and panel.refusal.block_id in panel.widgets:
            panel.widgets[panel.refusal.block_id].error = panel.refusal.message
    if panel.diagnosis is not None:
        latest = latest_runs(panel.diagnosis, known=runs)
        for block_id, widget in panel.widgets.items():
            widget.run = latest.get(block_id)
        panel.already_here = latest.get(ALREADY_HERE_BLOCK)
    if refusal:
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


# The set's check that runs before Step 1 ("is it already here?") is shown above Step 1, as this block.
ALREADY_HERE_BLOCK = "already-here"


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


def before_step_one(page, reference: str) -> list[StepTarget]:
    """The set's check that runs before Step 1 with every start that names what it is about ([] otherwise)."""
    key = set_of(page).before_step_one
    return [StepTarget(key, ALREADY_HERE_BLOCK, None)] if key and reference else []


def every_step_targets(page, reference: str) -> list[StepTarget]:
    """What "Check every step" runs: the set's check before Step 1, then each of the article's steps."""
    return [*before_step_one(page, reference), *step_targets(page)]


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

    def _say(self, template: str, **values) -> str:
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
        """idle, running, already_here, cause, incomplete or passed."""
        if not self.total:
            return "idle"
        if not self.done:
            return "running"
        if self.already_here is not None and self.already_here.status == Status.PASSED:
            return "already_here"
        if self.cause is not None:
            return "cause"
        if self.unknown_steps or self.first_failing is not None:
            return "incomplete"
        return "passed"

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
            return "There is nothing here that arrives by itself to watch for."
        if not self.reference:
            return words.watch_needs_reference
        state = self.state
        if state in ("idle", "running"):
            return self._say(words.watch_wait)
        if state == "already_here":
            return self._say(words.already_here)
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
            return [SummaryLine(f"Checking… {self.finished} of {self.total} steps done.")]
        if state == "already_here":
            return [SummaryLine(self._say(self.check_set.words.already_here))]
        unknown = self.unknown_steps
        counts = f"{self.passed} of {self.total} steps passed"
        if unknown:
            counts += f", {len(unknown)} couldn't be checked"
        if state == "cause":
            cause = self.cause
            lines = [
                SummaryLine(
                    f"Most likely cause: Step {cause.step_number}. {cause.run.summary}", cause.step_number
                )
            ]
            lines.append(SummaryLine(f"{counts}."))
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
            lines.append(
                SummaryLine(
                    f"The diagnosis is incomplete: {_steps_words(unknown)} couldn't be checked"
                    + (", so an earlier step may be a cause too." if failing is not None else ".")
                )
            )
            lines += [self._unknown_line(w) for w in unknown]
            lines.append(SummaryLine(f"{counts}. {self.retry_advice()}"))
            return lines
        return [
            SummaryLine(f"All {self.total} steps passed."),
            SummaryLine(self.check_set.words.all_passed_then, anchor="still-missing"),
        ]

    def retry_advice(self) -> str:
        retry_at = self.retry_at
        if retry_at is not None and retry_at > timezone.now():
            wait = duration_words((retry_at - timezone.now()).total_seconds())
            return f"Check again after {when(retry_at)} ({wait} from now)."
        return "Check again in a few minutes."

    def _unknown_line(self, widget: StepWidget) -> SummaryLine:
        failed = self._failed_step_it_follows(widget)
        if failed is not None:
            return SummaryLine(
                f"Step {widget.step_number} can be checked once Step {failed.step_number} is resolved.",
                widget.step_number,
            )
        return SummaryLine(
            f"Step {widget.step_number} couldn't be checked: {widget.run.summary}", widget.step_number
        )

    @property
    def tone(self) -> str:
        """How the headline reads at a glance: passed, failed or unknown."""
        if self.state == "incomplete":
            return "unknown" if self.first_failing is None else "failed"
        return "failed" if self.state == "cause" else "passed"

    @property
    def headline(self) -> str:
        lines = self.lines()
        return lines[0].text if lines else ""

    def as_text(self) -> str:
        return "\n".join(line.text for line in self.lines())


def _steps_words(widgets: list[StepWidget]) -> str:
    numbers = [str(w.step_number) for w in widgets]
    if len(numbers) == 1:
        return f"Step {numbers[0]}"
    return f"Steps {', '.join(numbers[:-1])} and {numbers[-1]}"


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
