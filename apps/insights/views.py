"""The editors' outcome report (Wagtail admin), and readers' votes and search clicks."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.functional import cached_property
from wagtail.admin.views.reports import ReportView

from apps.help.models import TroubleshootingPage

from . import charts
from .selectors import (
    DEFAULT_PERIOD,
    PERIODS,
    article_report,
    report_articles,
    report_period,
    searches_without_clicks,
    searches_without_results,
)

OUTCOMES_PERMISSION = "insights.view_outcomes"


class ReportFilterForm(forms.Form):
    article = forms.TypedChoiceField(coerce=int, required=False)
    days = forms.TypedChoiceField(
        label="Period", coerce=int, choices=list(PERIODS.items()), initial=DEFAULT_PERIOD, required=False
    )

    def __init__(self, *args, articles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article"].choices = [(a.pk, a.title) for a in articles]


class ArticleOutcomesView(ReportView):
    """For each article and period: what the checks found, by step and by revision, and what readers said."""

    page_title = "Article outcomes"
    header_icon = "doc-full"
    template_name = "insights/outcomes.html"
    results_template_name = "insights/outcomes_results.html"
    index_url_name = "insights_outcomes"
    paginate_by = None
    list_export = [
        "revision",
        "revision_id",
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
    export_headings = {
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
    def report(self):
        form = self.filter_form
        cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
        by_pk = {a.pk: a for a in self.articles}
        article = by_pk.get(cleaned.get("article")) or (self.articles[0] if self.articles else None)
        if article is None:
            return None
        start, end = report_period(cleaned.get("days") or DEFAULT_PERIOD)
        return article_report(article, start=start, end=end)

    def get_queryset(self):
        return self.report.csv_rows() if self.report else []

    def to_row_dict(self, item):
        # An article row has no step columns and a step row no article ones: those stay empty.
        return {name: item.get(name, "") for name in self.list_export}

    def get_filename(self):
        if self.report is None:
            return "article-outcomes"
        return f"article-outcomes-{self.report.page.slug}-{self.report.start}-{self.report.end}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.report
        context["report"] = report
        context["filter_form"] = self.filter_form
        if report is not None:
            context["charts"] = charts.outcome_charts(report)
            context["no_results"] = searches_without_results(start=report.start, end=report.end)
            context["no_clicks"] = searches_without_clicks(start=report.start, end=report.end)
        return context
