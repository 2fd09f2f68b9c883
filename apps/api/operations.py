"""What the JSON API and the MCP server do, once for both doors: the same services the article's page calls.

Each operation takes the caller's ``TokenAccess`` (who, in which account,
with which scopes), enforces its scope, scopes every id to the token's
account (anyone else's is "not found", exactly as on the page), and answers
with the schemas of ``schemas.py`` built from the objects the page renders:
a run's words come from ``apps.checks.transcript.run_entry``, the summary's
from ``Summary.lines()``, the fixes from what the run offered. Refusals are
``Problem``\\ s. ``door`` ("api" or "mcp") is recorded with every call that
starts checks, applies a fix or changes a watch.
"""

from __future__ import annotations

import hashlib
import html
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.html import strip_tags

from apps.checks.base import InputError
from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.articles import article_from
from apps.checks.selectors.runs import latest_runs
from apps.checks.selectors.steps import ALREADY_HERE_BLOCK, StepTarget, StepWidget, step_targets, step_widgets
from apps.checks.selectors.summary import DiagnosisResults, diagnosis_results
from apps.checks.selectors.viewers import diagnosis_for_account
from apps.checks.services.fixes import fix_apply_request
from apps.checks.services.queueing import ChecksUnavailable
from apps.checks.services.start_limits import TooManyChecks
from apps.checks.services.starting import checks_start
from apps.checks.sets import set_of
from apps.checks.transcript import run_entry
from apps.checks.views import poll_delay
from apps.commerce.models import Plugin
from apps.follow.models import OrderWatch
from apps.follow.selectors import account_notifications, notification_links, watch_for_account
from apps.follow.services import WatchRefused, watch_start
from apps.follow.services import watch_cancel as _watch_cancel
from apps.help.middleware import CACHE_SECONDS, page_cache_version
from apps.help.models import HelpIndexPage, TroubleshootingPage
from apps.help.selectors import help_articles_for_index, search_hits, step_text
from kitty_troubleshoot.limits import LimitRefused
from kitty_troubleshoot.said import said

from . import schemas as s
from .problems import Conflict, Forbidden, Invalid, NotFound, TooMany, Unavailable, detail_of
from .tokens import Scope, TokenAccess, api_call_record

# Unavailable checks: a caller tries again after about this long (what the page advises too: a few minutes).
UNAVAILABLE_RETRY_SECONDS = 60
_STATUSES = {"idle", "running", "passed", "failed", "unknown"}


def site_url() -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def _absolute(path: str, base_url: str) -> str:
    return f"{(base_url or site_url()).rstrip('/')}{path}"


def _require(access: TokenAccess, scope: Scope) -> None:
    if not access.allows(scope):
        raise Forbidden(
            said(
                "This token does not have the “%(scope)s” scope. Make a token with it on your account's API tokens page.",
                scope=scope.value,
            )
        )


# --- Articles and search ------------------------------------------------------------------------


def _live_articles(language: str | None = None):
    """Published, public articles; in one language (its code, e.g. "de") when asked."""
    articles = TroubleshootingPage.objects.live().public().select_related("locale").order_by("path")
    if language is not None:
        articles = articles.filter(locale__language_code=language)
    return articles


def _article(ref: str) -> TroubleshootingPage:
    """The live, public article with this slug or id; NotFound for anything else."""
    ref = str(ref or "").strip()
    articles = _live_articles()
    page = articles.filter(pk=int(ref)).first() if ref.isascii() and ref.isdigit() and len(ref) < 19 else None
    if page is None:
        page = articles.filter(slug=ref).first()
    if page is None:
        raise NotFound(
            said("No published article has that slug or id. The list of articles names every one.")
        )
    return page


def _article_ref(page, base_url: str) -> s.ArticleRefOut:
    return s.ArticleRefOut(
        id=page.pk,
        slug=page.slug,
        title=page.title,
        language=page.locale.language_code,
        url=_absolute(page.url, base_url),
    )


def articles_list(*, language: str = "en", base_url: str = "") -> list[s.ArticleListOut]:
    """Every published troubleshooting article in ``language``, in the help center's order."""
    return [
        s.ArticleListOut(
            **_article_ref(page, base_url).model_dump(),
            summary=page.summary,
            checks=len(page.check_steps()),
        )
        for page in _live_articles(language)
    ]


# An article as JSON is kept as long as the help pages are: until any help content changes.
ARTICLE_CACHE_SECONDS = CACHE_SECONDS


def article_read(ref: str, *, base_url: str = "") -> s.ArticleOut:
    """One article with its steps (instructions as plain text), which steps carry checks, and its inputs.

    Kept in the cache under the help content's version, as the help pages are:
    every published change starts afresh.
    """
    named = hashlib.sha256(f"{base_url}\n{ref}".encode("utf-8", "surrogatepass")).hexdigest()
    key = f"api:article:{page_cache_version()}:{named}"
    answer = cache.get(key)
    if answer is None:
        answer = _article_read(ref, base_url=base_url)
        cache.set(key, answer, ARTICLE_CACHE_SECONDS)
    return answer


def _article_read(ref: str, *, base_url: str) -> s.ArticleOut:
    page = _article(ref)
    check_set = set_of(page)
    checks = {number: key for _, number, key in page.check_steps()}
    widgets = {w.step_number: w for w in step_widgets(page).values()}
    steps = []
    for number, block in enumerate(page.steps, start=1):
        widget = widgets.get(number)
        steps.append(
            s.StepOut(
                number=number,
                title=str(block.value.get("title") or ""),
                text=step_text(block),
                url=_absolute(f"{page.url}#step-{number}", base_url),
                check=s.CheckOut(key=checks[number], title=widget.title) if widget is not None else None,
            )
        )
    return s.ArticleOut(
        **_article_ref(page, base_url).model_dump(),
        summary=page.summary,
        check_set=s.CheckSetOut(
            key=check_set.key,
            title=check_set.title,
            subject=check_set.subject_label,
            inputs=[
                s.InputOut(
                    name=i.name,
                    label=i.label,
                    kind=i.kind if i.kind in ("text", "date") else "text",
                    optional=i.optional,
                    placeholder=i.placeholder,
                    identifies=i.identifies,
                )
                for i in check_set.inputs
            ],
        ),
        steps=steps,
    )


def _plain_snippet(snippet_html: str) -> str:
    return html.unescape(strip_tags(snippet_html))


def help_search(query: str, limit: int = 10, *, base_url: str = "") -> list[s.SearchHitOut]:
    """The help center's search, as its search page runs it: best matches first, each at its best step."""
    index = HelpIndexPage.objects.live().first()
    if index is None or not str(query or "").strip():
        return []
    articles = help_articles_for_index(index, query=str(query))[: max(1, min(int(limit), 50))]
    return [
        s.SearchHitOut(
            article=_article_ref(hit.article, base_url),
            step=hit.step_number,
            url=_absolute(f"{hit.article.url}{hit.anchor}", base_url),
            snippet=_plain_snippet(hit.snippet),
        )
        for hit in search_hits(articles, str(query), index=index)
    ]


# --- Plugins ------------------------------------------------------------------------------------


def _plugin_ref(plugin_id: int, name: str) -> s.PluginRefOut:
    return s.PluginRefOut(id=plugin_id, name=name)


def plugins_list(access: TokenAccess) -> list[s.PluginOut]:
    """The token's account's plugins: what a diagnosis' ``plugin_id`` names. Never their credentials."""
    plugins = Plugin.objects.filter(merchant_id=access.account.merchant_id).order_by("name", "pk")
    return [
        s.PluginOut(
            id=plugin.pk,
            name=plugin.name,
            platform=plugin.platform,
            platform_name=plugin.provider.label,
            import_orders=plugin.import_orders,
            authorization=plugin.get_authorization_status_display(),
            last_synced_at=plugin.last_synced_at,
        )
        for plugin in plugins
    ]


# --- Diagnoses ----------------------------------------------------------------------------------


def _diagnosis(access: TokenAccess, diagnosis_uuid) -> Diagnosis:
    diagnosis = diagnosis_for_account(access.account, str(diagnosis_uuid))
    if diagnosis is None:
        raise NotFound(said("There is no such diagnosis in this token's account."))
    return diagnosis


def _page_of(diagnosis: Diagnosis):
    page = article_from(diagnosis.page)
    if page is None or not page.live:
        raise NotFound(said("The article of this diagnosis is no longer published."))
    return page


def _fix_out(fix: dict, *, access: TokenAccess, run: CheckRun, base_url: str) -> s.FixOut:
    """A fix a run offered, as the page offers it to this caller: applicable, a link, or why not."""
    url = str(fix.get("url") or "")
    why_not = ""
    if not url:
        if run.diagnosis.read_only:
            why_not = "This diagnosis was run by support to look only; no fix can be applied from it."
        elif fix.get("owner_only") and not access.account.is_owner:
            why_not = f"Only an owner of this account can {str(fix.get('label', '')).lower()}."
        elif fix.get("unavailable"):
            why_not = str(fix["unavailable"])
        elif not access.allows(Scope.FIX):
            why_not = "This token does not have the “fix” scope."
    else:
        why_not = "A person opens this link in a browser; it cannot be applied through the API."
    return s.FixOut(
        key=str(fix.get("key", "")),
        label=str(fix.get("label", "")),
        description=str(fix.get("description", "")),
        kind="link" if url else "apply",
        url=_absolute(url, base_url) if url.startswith("/") else (url or None),
        choices=[s.ChoiceOut(value=str(v), label=str(label)) for v, label in fix.get("choices") or []],
        choice_label=str(fix.get("choice_label") or "Choose one"),
        can_apply=not why_not,
        why_not=why_not,
    )


def _step_result(
    widget: StepWidget | None, run: CheckRun | None, *, access: TokenAccess, page, base_url: str
) -> s.StepResultOut:
    number = widget.step_number if widget is not None else None
    anchor = f"#step-{number}" if number else "#check-inputs"
    base = s.StepResultOut(
        step=number,
        title=widget.title if widget is not None else "",
        check_key=widget.check_key if widget is not None else (run.check_key if run else ""),
        status="idle",
        status_label="not checked",
        verdict="",
        evidence=[],
        see_step=None,
        fixes=[],
        fixes_applied=[],
        checked_at=None,
        url=_absolute(f"{page.url}{anchor}", base_url),
    )
    if run is None:
        return base
    entry = run_entry(run)
    finished = not run.in_flight and entry["status"] != CheckRun.State.RUNNING
    status = "running" if run.in_flight else entry["status"]
    return base.model_copy(
        update={
            "title": base.title or entry["title"],
            "status": status if status in _STATUSES else "unknown",
            "status_label": entry["status_label"],
            "verdict": run.summary if finished else "",
            "evidence": entry["evidence"] if finished else [],
            "see_step": widget.see_step if widget is not None else None,
            "fixes": [
                _fix_out(fix, access=access, run=run, base_url=base_url)
                for fix in (run.fixes_offered or [])
                if finished and isinstance(fix, dict)
            ],
            "fixes_applied": [
                s.AppliedFixOut(key=f["key"], result=f["result"], by=f["by"], at=f["at"])
                for f in entry["fixes_applied"]
            ],
            "checked_at": run.finished_at if finished else None,
        }
    )


def _diagnosis_out(
    access: TokenAccess, diagnosis: Diagnosis, page, results: DiagnosisResults, *, base_url: str
) -> s.DiagnosisOut:
    summary = results.summary
    cause = summary.cause if summary.state == "cause" else None
    lines = [
        s.SummaryLineOut(
            text=line.text,
            step=line.step,
            url=_absolute(f"{page.url}{line.href}", base_url) if line.href else None,
        )
        for line in summary.lines()
    ]
    refusal = summary.watch_refusal
    return s.DiagnosisOut(
        id=diagnosis.uuid,
        about=diagnosis.about,
        article=_article_ref(page, base_url),
        plugin=_plugin_ref(diagnosis.subject_id, diagnosis.subject_label),
        inputs={str(k): str(v or "") for k, v in (diagnosis.inputs or {}).items()},
        created_at=diagnosis.created_at,
        updated_at=diagnosis.updated_at,
        done=summary.done,
        summary=s.SummaryOut(
            state=summary.state,
            tone=summary.tone,
            done=summary.done,
            headline=summary.headline,
            lines=lines,
            cause_step=cause.step_number if cause is not None else None,
            passed=summary.passed,
            finished=summary.finished,
            total=summary.total,
            retry_at=summary.retry_at,
            watch=s.WatchOfferOut(possible=not refusal, why_not=refusal),
        ),
        before_step_one=(
            _step_result(None, results.already_here, access=access, page=page, base_url=base_url)
            if results.already_here is not None
            else None
        ),
        steps=[
            _step_result(widget, widget.run, access=access, page=page, base_url=base_url)
            for widget in results.widgets.values()
        ],
    )


def _read(access: TokenAccess, diagnosis: Diagnosis, *, base_url: str, known=None) -> s.DiagnosisOut:
    page = _page_of(diagnosis)
    return _diagnosis_out(
        access, diagnosis, page, diagnosis_results(page, diagnosis, known=known), base_url=base_url
    )


def _refused(exc: Exception):
    """A service's refusal as the problem a caller gets."""
    if isinstance(exc, TooManyChecks):
        return TooMany(detail_of(exc), retry_after=exc.wait_seconds)
    if isinstance(exc, ChecksUnavailable):
        return Unavailable(detail_of(exc), retry_after=UNAVAILABLE_RETRY_SECONDS)
    if isinstance(exc, LimitRefused):
        return TooMany(detail_of(exc), retry_after=exc.retry_after or UNAVAILABLE_RETRY_SECONDS)
    if isinstance(exc, InputError):
        return Invalid(detail_of(exc), field=exc.field)
    raise TypeError(exc)


def diagnosis_start(
    access: TokenAccess,
    *,
    door: str,
    article: str,
    plugin_id: int,
    inputs: dict[str, str],
    step: int | None = None,
    base_url: str = "",
) -> s.DiagnosisOut:
    """Check every step of ``article`` (or one ``step``) for these inputs on one of the account's plugins.

    As the article's "Check every step" (or a step's "Check this now"): the
    same diagnosis a teammate's page shares, the same start limit (the
    token's user's), the same runs. Answers at once, the checks running.
    """
    _require(access, Scope.DIAGNOSE)
    page = _article(article)
    check_set = set_of(page)
    targets = step_targets(page)
    if step is not None:
        targets = [t for t in targets if t.step_number == step]
        if not targets:
            raise Invalid(
                said("Step %(step)s of “%(title)s” has no check.", step=step, title=page.title), field="step"
            )
    if not targets:
        raise Conflict(said("“%(title)s” has no step with a check.", title=page.title))
    known = {i.name for i in check_set.inputs}
    unknown = sorted(set(inputs) - known)
    if unknown:
        # The names are the API's own words (values, never translated), listed as code is.
        raise Invalid(
            said(
                "“%(title)s” takes no input named %(unknown)s. Its inputs: %(known)s.",
                title=page.title,
                unknown=", ".join(map(repr, unknown)),
                known=", ".join(sorted(known)) or "-",
            )
            if known
            else said(
                "“%(title)s” takes no input named %(unknown)s. It takes no inputs.",
                title=page.title,
                unknown=", ".join(map(repr, unknown)),
            ),
            field=unknown[0][:64],
        )
    try:
        values = check_set.clean({name: str(value) for name, value in inputs.items()})
        start = checks_start(
            page=page,
            targets=targets,
            user=access.user,
            subject_id=plugin_id,
            values=values,
            account=access.account,
        )
    except LookupError:
        raise NotFound(
            said("There is no such plugin in this token's account. The list of your plugins gives their ids.")
        ) from None
    except (InputError, TooManyChecks, ChecksUnavailable) as exc:
        raise _refused(exc) from None
    diagnosis = start.diagnosis
    api_call_record(
        access,
        door=door,
        action="check.start" if step is not None else "diagnosis.start",
        diagnosis=diagnosis,
        runs=start.runs,
        outcome=f"{len(start.runs)} checks for {diagnosis.about or diagnosis.subject_label}",
    )
    return _diagnosis_out(
        access,
        diagnosis,
        page,
        diagnosis_results(page, diagnosis, known=start.runs if start.created else None),
        base_url=base_url,
    )


def diagnosis_read(access: TokenAccess, diagnosis_uuid, *, base_url: str = "") -> s.DiagnosisOut:
    """A diagnosis of the token's account as the article shows it now: each step's result and the summary."""
    return _read(access, _diagnosis(access, diagnosis_uuid), base_url=base_url)


def diagnosis_wait(
    access: TokenAccess, diagnosis_uuid, *, seconds: float, base_url: str = "", sleep=time.sleep
) -> s.DiagnosisOut:
    """The diagnosis once every check has ended, or as it stands after ``seconds``.

    It is looked at as the page's summary looks at it, close together at first and
    then backing off: an answer comes as soon after the last check as on the page.
    """
    diagnosis = _diagnosis(access, diagnosis_uuid)
    deadline = time.monotonic() + max(0.0, seconds)
    looks = 0
    while True:
        answer = _read(access, diagnosis, base_url=base_url)
        if answer.done or time.monotonic() >= deadline:
            return answer
        sleep(min(poll_delay(looks) / 1000, max(0.0, deadline - time.monotonic())))
        looks += 1


def diagnoses_list(access: TokenAccess, *, base_url: str = "", limit: int = 50) -> list[s.DiagnosisListOut]:
    """The account's recent diagnoses (started on the page or through a token), newest first."""
    rows = Diagnosis.objects.filter(
        merchant_id=access.account.merchant_id, read_only=False, preview_session=None
    ).select_related("page")[: max(1, min(limit, 100))]
    return [
        s.DiagnosisListOut(
            id=d.uuid,
            about=d.about,
            article=_article_ref(d.page, base_url) if d.page is not None else None,
            plugin=_plugin_ref(d.subject_id, d.subject_label),
            updated_at=d.updated_at,
        )
        for d in rows
    ]


def _latest_run(diagnosis: Diagnosis, page, step: int | None) -> tuple[StepTarget | None, CheckRun | None]:
    runs = latest_runs(diagnosis)
    if step is None:
        return None, runs.get(ALREADY_HERE_BLOCK)
    target = next((t for t in step_targets(page) if t.step_number == step), None)
    return target, (runs.get(target.block_id) if target is not None else None)


def check_again(
    access: TokenAccess, *, door: str, diagnosis_uuid, step: int, base_url: str = ""
) -> s.DiagnosisOut:
    """Check one step of a diagnosis again with its inputs, as the step's "Check again" button does."""
    _require(access, Scope.DIAGNOSE)
    diagnosis = _diagnosis(access, diagnosis_uuid)
    page = _page_of(diagnosis)
    target, _ = _latest_run(diagnosis, page, step)
    if target is None:
        # The diagnosis is there (a 404 would say it is not): it is the step asked for that cannot be used.
        raise Invalid(
            said("Step %(step)s of “%(title)s” has no check.", step=step, title=page.title), field="step"
        )
    try:
        start = checks_start(
            page=page,
            targets=[target],
            user=access.user,
            subject_id=diagnosis.subject_id,
            values=diagnosis.values(),
            account=access.account,
        )
    except LookupError:
        raise NotFound(said("The plugin of this diagnosis is no longer in this token's account.")) from None
    except (InputError, TooManyChecks, ChecksUnavailable) as exc:
        raise _refused(exc) from None
    api_call_record(
        access,
        door=door,
        action="check.start",
        diagnosis=start.diagnosis,
        runs=start.runs,
        outcome=f"Step {step}",
    )
    return _read(access, start.diagnosis, base_url=base_url)


def fix_apply(
    access: TokenAccess,
    *,
    door: str,
    diagnosis_uuid,
    step: int | None,
    fix: str,
    choice: str = "",
    base_url: str = "",
) -> s.DiagnosisOut:
    """Apply a fix a step's latest result offers, then every step shown is checked again (as on the page)."""
    _require(access, Scope.FIX)
    diagnosis = _diagnosis(access, diagnosis_uuid)
    page = _page_of(diagnosis)
    _, run = _latest_run(diagnosis, page, step)
    where = f"Step {step}" if step is not None else "The check before Step 1"  # the audit log's words
    if run is None:
        raise Conflict(
            said("Step %(step)s has no result in this diagnosis; a fix is offered with a result.", step=step)
            if step is not None
            else said(
                "The check before Step 1 has no result in this diagnosis; a fix is offered with a result."
            )
        )
    if run.in_flight:
        raise Conflict(
            said("Step %(step)s is still being checked. Apply a fix once its result is in.", step=step)
            if step is not None
            else said("The check before Step 1 is still being checked. Apply a fix once its result is in.")
        )
    try:
        new_run = fix_apply_request(run=run, user=access.user, page=page, fix_key=fix, choice=choice)
    except InputError as exc:
        raise Conflict(detail_of(exc), field=exc.field) from None
    except (TooManyChecks, ChecksUnavailable) as exc:
        raise _refused(exc) from None
    api_call_record(
        access,
        door=door,
        action="fix.apply",
        diagnosis=diagnosis,
        runs=[new_run],
        outcome=f"{fix} on {where}" + (f" ({choice})" if choice else ""),
    )
    return _read(access, diagnosis, base_url=base_url)


# --- Watches and notifications -------------------------------------------------------------------


def _watch_out(watch) -> s.WatchOut:
    return s.WatchOut(
        id=watch.uuid,
        order_number=watch.order_number,
        plugin=_plugin_ref(watch.plugin_id, watch.plugin.name),
        state=watch.state,
        state_label=watch.get_state_display(),
        created_at=watch.created_at,
        deadline=watch.deadline,
        ended_at=watch.ended_at,
        result=watch.result,
        diagnosis=watch.diagnosis.uuid if watch.diagnosis is not None else None,
    )


def watch_create(access: TokenAccess, *, door: str, diagnosis_uuid) -> tuple[s.WatchOut, bool]:
    """Watch a diagnosis' missing order ("tell me when it arrives"); (the watch, whether it is new)."""
    _require(access, Scope.DIAGNOSE)
    diagnosis = _diagnosis(access, diagnosis_uuid)
    try:
        watch, created = watch_start(user=access.user, diagnosis=diagnosis)
    except WatchRefused as exc:
        raise Conflict(detail_of(exc)) from None
    except LimitRefused as exc:
        raise _refused(exc) from None
    if created:
        api_call_record(access, door=door, action="watch.create", diagnosis=diagnosis, outcome=str(watch))
    return _watch_out(watch), created


def watches_list(access: TokenAccess) -> list[s.WatchOut]:
    watches = (
        OrderWatch.objects.filter(merchant_id=access.account.merchant_id)
        .select_related("plugin", "diagnosis")
        .order_by("-created_at")[:100]
    )
    return [_watch_out(w) for w in watches]


def watch_read(access: TokenAccess, watch_uuid):
    watch = watch_for_account(access.account, str(watch_uuid))
    if watch is None:
        raise NotFound(said("There is no such watch in this token's account."))
    return watch


def watch_cancel(access: TokenAccess, *, door: str, watch_uuid) -> s.WatchOut:
    """Stop watching (a watch that already ended is left as it ended)."""
    _require(access, Scope.DIAGNOSE)
    watch = watch_read(access, watch_uuid)
    if _watch_cancel(watch=watch):
        api_call_record(
            access, door=door, action="watch.cancel", diagnosis=watch.diagnosis, outcome=str(watch)
        )
    watch.refresh_from_db()
    return _watch_out(watch)


def notifications_list(
    access: TokenAccess, *, unread_only: bool = False, base_url: str = ""
) -> list[s.NotificationOut]:
    """The account's notifications, as its inbox lists them, each with the step that explains it."""
    notes = account_notifications(access.account.merchant_id)
    if unread_only:
        notes = notes.filter(read=False, resolved_at__isnull=True)
    out = []
    for note, link in notification_links(list(notes[:100])):
        out.append(
            s.NotificationOut(
                id=note.pk,
                kind=note.kind,
                kind_label=note.get_kind_display(),
                message=note.message,
                order_number=note.order_number,
                plugin=_plugin_ref(note.plugin_id, note.plugin.name) if note.plugin is not None else None,
                occurrences=note.occurrences,
                created_at=note.created_at,
                last_seen_at=note.last_seen_at,
                read=note.read,
                resolved_at=note.resolved_at,
                resolution=note.resolution,
                url=_absolute(link, base_url) if link.startswith("/") else (link or None),
            )
        )
    return out
