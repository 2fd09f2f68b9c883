"""The editors' outcome report (Wagtail admin), and readers' votes and search clicks."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlparse

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import get_language_info, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin.views.reports import ReportView

from apps.help.languages import page_language
from apps.help.models import TroubleshootingPage
from kitty_troubleshoot.params import int_param
from kitty_troubleshoot.signin import client_address

from . import charts, services, tasks
from .models import SearchLog
from .selectors import (
    DEFAULT_PERIOD,
    PERIODS,
    article_report,
    report_articles,
    report_period,
    searches_without_clicks,
    searches_without_results,
)
from .services import VoteRefused, voter_key

OUTCOMES_PERMISSION = "insights.view_outcomes"
logger = logging.getLogger(__name__)


def _language_choices() -> list[tuple[str, str]]:
    """Every language of the site, named in the editor's language, after "All languages"."""
    return [("", _("All languages"))] + [
        (code, get_language_info(code)["name_translated"]) for code, _name in settings.LANGUAGES
    ]


class ReportFilterForm(forms.Form):
    article = forms.TypedChoiceField(label=_("Article"), coerce=int, required=False)
    days = forms.TypedChoiceField(
        label=_("Period"), coerce=int, choices=list(PERIODS.items()), initial=DEFAULT_PERIOD, required=False
    )
    # Which readers: those of the article's source, or of one translation (its own pages and revisions).
    language = forms.ChoiceField(label=_("Language"), choices=_language_choices, required=False)

    def __init__(self, *args, articles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article"].choices = [(a.pk, a.title) for a in articles]


class ArticleOutcomesView(ReportView):
    """For each article and period: what the checks found, by step and by revision, and what readers said."""

    page_title = _("Article outcomes")
    header_icon = "doc-full"
    template_name = "insights/outcomes.html"
    results_template_name = "insights/outcomes_results.html"
    index_url_name = "insights_outcomes"
    paginate_by = None
    list_export = [
        "revision",
        "revision_id",
        "language",
        "start",
        "end",
        "row",
        "step",
        "title",
        "check",
        "diagnoses",
        "with_cause",
        "incomplete",
        "all_passed",
        "already_here",
        "unfinished",
        "tickets",
        "self_service_rate",
        "order_arrived",
        "fixed",
        "checked",
        "passed",
        "failed",
        "unknown",
        "cause",
        "cause_rate",
        "unknown_reasons",
        "fixes_offered",
        "fixes_applied",
        "imported_after_fix",
        "helpful",
        "not_helpful",
    ]
    # The download is data (selectors.DATA_LANGUAGE): its column headings are English in every
    # editor's language, so files line up and scripts read them by name.
    export_headings = {
        "language": "Language",
        "revision": "Revision",
        "step": "Step",
        "title": "Title",
        "diagnoses": "Diagnoses",
        "incomplete": "Incomplete",
        "passed": "Passed",
        "failed": "Failed",
        "revision_id": "Revision id",
        "start": "From",
        "end": "To",
        "row": "Row",
        "check": "Check",
        "with_cause": "Most likely cause found",
        "all_passed": "All steps passed",
        "already_here": "Order already imported",
        "unfinished": "Unfinished",
        "tickets": "Ended in a ticket",
        "self_service_rate": "Self-service rate",
        "order_arrived": "Order imported within a day",
        "fixed": "Diagnoses with a fix applied",
        "checked": "Diagnoses that checked the step",
        "unknown": "Couldn't check",
        "cause": "Most likely cause",
        "cause_rate": "Most likely cause, share of diagnoses",
        "unknown_reasons": "Why it couldn't check",
        "fixes_offered": "Fixes offered",
        "fixes_applied": "Fixes applied",
        "imported_after_fix": "Order imported within a day of a fix",
        "helpful": "Helpful votes",
        "not_helpful": "Not helpful votes",
    }

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(OUTCOMES_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def articles(self) -> list[TroubleshootingPage]:
        return report_articles()

    @cached_property
    def filter_form(self) -> ReportFilterForm:
        return ReportFilterForm(self.request.GET or None, articles=self.articles)

    @cached_property
    def counting(self) -> bool:
        """Bring stale figures up to date; True while newer diagnoses are still being counted.

        With eager Celery (no scheduler, as in the demo) the count runs here,
        before the figures are read; with workers it is queued on bulk.
        """
        if not services.outcomes_stale():
            return False
        if services.outcomes_count_ask():
            try:
                tasks.aggregate_recent_outcomes.delay()
            except Exception:  # a broker down or a failed count still shows the figures there are
                logger.exception("Could not count the article outcomes")
                return True
        return services.outcomes_stale()

    @cached_property
    def report(self):
        self.counting  # noqa: B018 (the figures are read after any count it ran)
        form = self.filter_form
        cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
        by_pk = {a.pk: a for a in self.articles}
        article = by_pk.get(cleaned.get("article")) or (self.articles[0] if self.articles else None)
        if article is None:
            return None
        start, end = report_period(cleaned.get("days") or DEFAULT_PERIOD)
        return article_report(article, start=start, end=end, language=cleaned.get("language") or "")

    def get_queryset(self):
        return self.report.csv_rows() if self.report else []

    def to_row_dict(self, item):
        # An article row has no step columns and a step row no article ones: those stay empty.
        return {name: item.get(name, "") for name in self.list_export}

    def get_filename(self):
        if self.report is None:
            return "article-outcomes"
        language = f"-{self.report.language}" if self.report.language else ""
        return f"article-outcomes-{self.report.page.slug}{language}-{self.report.start}-{self.report.end}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.report
        context["report"] = report
        context["filter_form"] = self.filter_form
        context["counting"] = self.counting
        context["counted_at"] = services.outcomes_counted_at()
        if report is not None:
            context["charts"] = charts.outcome_charts(report)
            context["no_results"] = searches_without_results(start=report.start, end=report.end)
            context["no_clicks"] = searches_without_clicks(start=report.start, end=report.end)
        return context


# --- Readers: "Was this helpful?" and search clicks ---------------------------

READER_COOKIE = "kt_reader"
READER_COOKIE_AGE = 365 * 24 * 60 * 60


def _same_origin(request) -> bool:
    """The POST came from a page of this site (browsers send Origin with every POST)."""
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        return False
    return urlparse(origin).netloc == request.get_host() or origin in settings.CSRF_TRUSTED_ORIGINS


def _article(page_id) -> TroubleshootingPage:
    page = TroubleshootingPage.objects.live().public().filter(pk=page_id).first()
    if page is None:
        raise Http404(gettext("No such article."))
    return page


# Published articles are served to anonymous readers from a shared cache, so
# the form cannot carry a per-reader CSRF token; the Origin check stands in.
@csrf_exempt
@require_POST
def helpful_vote(request, page_id: int):
    """One vote per reader per revision: a second vote on the same revision replaces the first."""
    if not _same_origin(request):
        return HttpResponseForbidden(gettext("Send feedback from the article's page."))
    page = _article(page_id)
    answer = request.POST.get("helpful", "")
    if answer not in ("yes", "no"):
        return HttpResponseBadRequest(gettext("Answer yes or no."))
    token = request.COOKIES.get(READER_COOKIE, "")
    if not (request.user.is_authenticated or 16 <= len(token) <= 64):
        token = secrets.token_urlsafe(24)
    voter = voter_key(user_id=request.user.pk if request.user.is_authenticated else None, reader_token=token)
    try:
        services.helpful_vote_record(
            page=page,
            voter=voter,
            helpful=answer == "yes",
            comment=request.POST.get("comment", ""),
            address=client_address(request),
        )
        outcome = "thanks"
    except VoteRefused as exc:
        outcome = "unavailable" if exc.unavailable else "limited"
    if request.htmx:
        # The answer replaces part of the article: in the article's language, whatever this address's.
        with translation.override(page_language(page)):
            response = render(request, "insights/helpful.html#answer", {"page": page, "feedback": outcome})
    else:
        response = redirect(f"{page.url}?feedback={outcome}#helpful")
    if not request.user.is_authenticated:
        response.set_cookie(
            READER_COOKIE,
            token,
            max_age=READER_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@never_cache
@require_GET
def search_click(request, search_uuid):
    """A search result opened: remember it (for "searched, clicked nothing"), then go to the step."""
    page = _article(int_param(request.GET.get("page"), default=0))
    step_number = int_param(request.GET.get("step"), minimum=1, maximum=999)
    search = SearchLog.objects.filter(uuid=search_uuid).first()
    if search is not None:
        services.search_click_record(search=search, page=page, step=step_number)
    return redirect(page.url + (f"#step-{step_number}" if step_number else ""))
