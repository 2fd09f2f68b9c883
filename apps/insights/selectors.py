"""The editors' outcome report: read from the daily tables only, never from runs or accounts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import get_language_info, gettext
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, Revision

from apps.help.models import TroubleshootingPage
from kitty_troubleshoot.said import said

from .models import ArticleDay, HelpfulVote, SearchLog, StepDay

PERIODS = {7: _("Last 7 days"), 30: _("Last 30 days"), 90: _("Last 90 days")}
# The CSV/XLSX download is data: its headings and labels stay English whoever downloads it, so
# files from editors of different languages line up (the page itself is in the editor's language).
DATA_LANGUAGE = "en"
DEFAULT_PERIOD = 30
ARTICLE_FIELDS = (
    "diagnoses",
    "with_cause",
    "incomplete",
    "all_passed",
    "already_here",
    "unfinished",
    "tickets",
    "order_arrived",
    "fixed",
)
STEP_FIELDS = ("checked", "passed", "failed", "unknown", "cause")
COMMENTS_SHOWN = 5


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class FixFigures:
    key: str
    label: str
    offered: int = 0
    applied: int = 0
    imported: int = 0

    @property
    def applied_rate(self) -> float | None:
        return _rate(self.applied, self.offered)

    @property
    def imported_rate(self) -> float | None:
        return _rate(self.imported, self.applied)


@dataclass
class StepFigures:
    block_id: str
    number: int | None
    check_key: str
    title: str = ""
    checked: int = 0
    passed: int = 0
    failed: int = 0
    unknown: int = 0
    cause: int = 0
    reasons: Counter = field(default_factory=Counter)
    fixes: dict[str, FixFigures] = field(default_factory=dict)
    diagnoses: int = 0  # of the revision (or period) it belongs to: what rates are out of

    @property
    def cause_rate(self) -> float | None:
        return _rate(self.cause, self.diagnoses)

    @property
    def unknown_rate(self) -> float | None:
        return _rate(self.unknown, self.checked)

    @property
    def top_reasons(self) -> list[tuple[str, int]]:
        """The three commonest reasons, in the editor's language where a reason is a whole known sentence.

        Reasons are stored as the English the check said, names and numbers left out (services.reason_words);
        one said without any (e.g. "Waits on an earlier step that failed") is a message of some catalogue.
        """
        return [
            (gettext(reason) if reason else reason, count) for reason, count in self.reasons.most_common(3)
        ]

    @property
    def fix_list(self) -> list[FixFigures]:
        return sorted(self.fixes.values(), key=lambda f: (-f.offered, f.key))

    @property
    def label(self) -> str:
        if self.number and self.title:
            return said("Step %(number)s. %(title)s", number=self.number, title=self.title)
        if self.number:
            return said("Step %(number)s", number=self.number)
        return said("Step: %(title)s", title=self.title) if self.title else said("A step")


@dataclass
class RevisionFigures:
    revision_id: int
    label: str = ""
    language: str = ""  # the language of the page the revision is of; "" for figures of several
    published_at: object = None
    steps: dict[str, StepFigures] = field(default_factory=dict)
    helpful: int = 0
    not_helpful: int = 0
    comments: list[HelpfulVote] = field(default_factory=list)

    def __post_init__(self):
        for name in ARTICLE_FIELDS:
            setattr(self, name, 0)

    @property
    def self_service_rate(self) -> float | None:
        """Diagnoses that did not end in a ticket."""
        return _rate(self.diagnoses - self.tickets, self.diagnoses)

    @property
    def cause_found_rate(self) -> float | None:
        return _rate(self.with_cause, self.diagnoses)

    @property
    def ticket_rate(self) -> float | None:
        return _rate(self.tickets, self.diagnoses)

    @property
    def helpful_rate(self) -> float | None:
        return _rate(self.helpful, self.helpful + self.not_helpful)

    @property
    def step_list(self) -> list[StepFigures]:
        return sorted(self.steps.values(), key=lambda s: (s.number is None, s.number or 0, s.block_id))

    @property
    def fixes(self) -> list[tuple[StepFigures, FixFigures]]:
        return [(step, fix) for step in self.step_list for fix in step.fix_list]


@dataclass
class DayFigures:
    day: date
    diagnoses: int = 0
    tickets: int = 0


@dataclass
class ArticleReport:
    page: TroubleshootingPage
    start: date
    end: date  # inclusive
    revisions: list[RevisionFigures]  # newest first
    total: RevisionFigures
    days: list[DayFigures]
    language: str = ""  # the language the figures are of; "" for every language
    # One entry per language the article is in (the source first): did the translation help as much?
    languages: list[RevisionFigures] = field(default_factory=list)

    @property
    def latest_change(self) -> tuple[RevisionFigures, RevisionFigures] | None:
        """The newest revision with diagnoses or votes, and the one before it: did the last edit help?"""
        counted = [r for r in self.revisions if r.diagnoses or r.helpful or r.not_helpful]
        return (counted[0], counted[1]) if len(counted) > 1 else None

    def csv_rows(self) -> list[dict]:
        """One row per revision (the article) and one per step of it, newest revision first."""
        with translation.override(DATA_LANGUAGE):
            return self._csv_rows()

    def _csv_rows(self) -> list[dict]:
        rows = []
        for revision in [*self.revisions, self.total, *self.languages]:
            common = {
                "revision": str(revision.label),
                "revision_id": revision.revision_id or "",
                "language": revision.language or self.language or "all",
                "start": self.start,
                "end": self.end,
            }
            rows.append(
                {
                    **common,
                    "row": "language" if revision in self.languages else "article",
                    "step": "",
                    "title": self.page.title,
                    "check": "",
                    **{name: getattr(revision, name) for name in ARTICLE_FIELDS},
                    "self_service_rate": _percent(revision.self_service_rate),
                    "helpful": revision.helpful,
                    "not_helpful": revision.not_helpful,
                }
            )
            for step in revision.step_list if revision not in self.languages else ():
                fixes = step.fix_list
                rows.append(
                    {
                        **common,
                        "row": "step",
                        "step": step.number or "",
                        "title": step.title,
                        "check": step.check_key,
                        "diagnoses": step.diagnoses,
                        "checked": step.checked,
                        "passed": step.passed,
                        "failed": step.failed,
                        "unknown": step.unknown,
                        "cause": step.cause,
                        "cause_rate": _percent(step.cause_rate),
                        "unknown_reasons": "; ".join(f"{r} ({n})" for r, n in step.top_reasons),
                        "fixes_offered": sum(f.offered for f in fixes),
                        "fixes_applied": sum(f.applied for f in fixes),
                        "imported_after_fix": sum(f.imported for f in fixes),
                    }
                )
        return rows


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


def report_articles() -> list[TroubleshootingPage]:
    """The articles as their source pages: a translation is reported with its source, by language."""
    articles = TroubleshootingPage.objects.order_by("title").only("id", "title", "slug", "translation_key")
    return list(articles.filter(locale__language_code=settings.LANGUAGE_CODE))


def article_languages(page) -> dict[int, str]:
    """Page id → language of the article's every page (the source and its translations, drafts too)."""
    found = Page.objects.filter(translation_key=page.translation_key).values_list(
        "pk", "locale__language_code"
    )
    return dict(found)


def report_period(days: int, *, today: date | None = None) -> tuple[date, date]:
    end = today or timezone.now().date()
    return end - timedelta(days=days - 1), end


def _step_titles(content) -> dict[str, str]:
    """Each step's title by block id, from a revision's stored content."""
    body = (content or {}).get("body") if isinstance(content, dict) else None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    titles = {}
    for block in body or []:
        if isinstance(block, dict) and block.get("type") == "step" and isinstance(block.get("value"), dict):
            titles[str(block.get("id", ""))] = str(block["value"].get("title", ""))
    return titles


def _label_revisions(page, figures: dict[int, RevisionFigures]) -> dict[str, str]:
    """Name each revision as an editor knows it; return the newest known step titles."""
    revisions = Revision.objects.filter(pk__in=[pk for pk in figures if pk]).select_related("user")
    by_pk = {r.pk: r for r in revisions}
    live_titles = _step_titles(page.live_revision.content) if page.live_revision_id else {}
    for pk, revision in figures.items():
        found = by_pk.get(pk)
        if found is None:
            revision.label = (
                said("Revision %(number)s (deleted)", number=pk) if pk else said("Revision not recorded")
            )
            continue
        revision.published_at = found.created_at
        author = (found.user.get_full_name() or found.user.get_username()) if found.user else ""
        revision.label = (
            said(
                "Revision %(number)s · %(moment)s · by %(author)s",
                number=pk,
                moment=found.created_at,
                author=author,
            )
            if author
            else said("Revision %(number)s · %(moment)s", number=pk, moment=found.created_at)
        )
        titles = _step_titles(found.content)
        for step in revision.steps.values():
            step.title = titles.get(step.block_id) or live_titles.get(step.block_id, "")
    return live_titles


def article_report(page, *, start: date, end: date, language: str = "") -> ArticleReport:
    """The article's outcomes for days ``start``..``end``: per revision, per step, per language and overall.

    ``page`` is the article's source; its translations are pages of their own (a German reader's
    diagnosis is of the German page), counted with it, or alone with ``language``.
    """
    languages_of = article_languages(page)
    every_language = {
        code: RevisionFigures(0, label=get_language_info(code)["name_translated"], language=code)
        for code, _name in settings.LANGUAGES
    }
    pages = [pk for pk, code in languages_of.items() if not language or code == language]
    figures: dict[int, RevisionFigures] = {}
    total = RevisionFigures(0, label=said("All revisions"), language=language)
    days: dict[date, DayFigures] = {}

    def revision_of(pk: int) -> RevisionFigures:
        if pk not in figures:
            figures[pk] = RevisionFigures(pk)
        return figures[pk]

    in_period = {"page_id__in": pages, "day__gte": start, "day__lte": end}
    article_rows = ArticleDay.objects.filter(**in_period).values(
        "page_id", "revision_id", "day", *ARTICLE_FIELDS
    )
    for row in article_rows:
        revision_of(row["revision_id"]).language = languages_of.get(row["page_id"], "")
        by_language = every_language.get(languages_of.get(row["page_id"], ""))
        for target in (revision_of(row["revision_id"]), total, by_language):
            if target is None:
                continue
            for name in ARTICLE_FIELDS:
                setattr(target, name, getattr(target, name) + row[name])
        day = days.setdefault(row["day"], DayFigures(row["day"]))
        day.diagnoses += row["diagnoses"]
        day.tickets += row["tickets"]
    step_rows = StepDay.objects.filter(**in_period).values(
        "revision_id", "block_id", "step_number", "check_key", "unknown_reasons", "fixes", *STEP_FIELDS
    )
    for row in step_rows:
        for target in (revision_of(row["revision_id"]), total):
            step = target.steps.get(row["block_id"])
            if step is None:
                step = target.steps[row["block_id"]] = StepFigures(
                    row["block_id"], row["step_number"], row["check_key"]
                )
            for name in STEP_FIELDS:
                setattr(step, name, getattr(step, name) + row[name])
            step.reasons.update(row["unknown_reasons"] or {})
            for key, counts in (row["fixes"] or {}).items():
                fix = step.fixes.setdefault(key, FixFigures(key, counts.get("label", "")))
                fix.label = fix.label or counts.get("label", "")
                fix.offered += counts.get("offered", 0)
                fix.applied += counts.get("applied", 0)
                fix.imported += counts.get("imported", 0)
    _votes(pages, languages_of, start, end, figures, total, revision_of, every_language)
    shown = page
    if language and language != languages_of.get(page.pk):
        translated = [pk for pk, code in languages_of.items() if code == language]
        shown = TroubleshootingPage.objects.filter(pk__in=translated).first() or page
    live_titles = _label_revisions(shown, figures)
    for step in total.steps.values():
        step.title = live_titles.get(step.block_id) or next(
            (r.steps[step.block_id].title for r in figures.values() if step.block_id in r.steps), ""
        )
    for revision in [*figures.values(), total]:
        for step in revision.steps.values():
            step.diagnoses = revision.diagnoses
    ordered = sorted(figures.values(), key=lambda r: r.revision_id, reverse=True)
    for step in total.steps.values():  # numbered as in the newest revision that has it
        step.number = next((r.steps[step.block_id].number for r in ordered if step.block_id in r.steps), None)
    every_day = [
        days.get(start + timedelta(days=n), DayFigures(start + timedelta(days=n)))
        for n in range((end - start).days + 1)
    ]
    in_languages = [
        figures
        for code, figures in every_language.items()
        if code in languages_of.values() and not (language and code != language)
    ]
    return ArticleReport(
        page=page,
        start=start,
        end=end,
        revisions=ordered,
        total=total,
        days=every_day,
        language=language,
        languages=in_languages,
    )


def _moments(start: date, end: date) -> dict:
    """A created_at filter for days ``start``..``end`` (UTC) that an index can serve."""
    first = datetime.combine(start, time.min, tzinfo=UTC)
    return {
        "created_at__gte": first,
        "created_at__lt": datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1),
    }


def _votes(pages, languages_of, start, end, figures, total, revision_of, every_language) -> None:
    votes = HelpfulVote.objects.filter(page_id__in=pages, **_moments(start, end))
    counted = votes.values("page_id", "revision_id").annotate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )
    for row in counted:
        revision = revision_of(row["revision_id"])
        revision.language = revision.language or languages_of.get(row["page_id"], "")
        revision.helpful, revision.not_helpful = row["yes"], row["no"]
        for target in (total, every_language.get(languages_of.get(row["page_id"], ""))):
            if target is not None:
                target.helpful += row["yes"]
                target.not_helpful += row["no"]
    for revision in figures.values():
        revision.comments = list(
            votes.filter(revision_id=revision.revision_id)
            .exclude(comment="")
            .order_by("-created_at")[:COMMENTS_SHOWN]
        )


@dataclass
class QueryFigures:
    query: str
    searches: int
    results: int = 0


def searches_without_results(*, start: date, end: date, limit: int = 20) -> list[QueryFigures]:
    rows = (
        SearchLog.objects.filter(results=0, **_moments(start, end))
        .values("query")
        .annotate(searches=Count("pk"))
        .order_by("-searches", "query")[:limit]
    )
    return [QueryFigures(r["query"], r["searches"]) for r in rows]


def searches_without_clicks(*, start: date, end: date, limit: int = 20) -> list[QueryFigures]:
    """Queries that found something, and nobody opened any of it."""
    rows = (
        SearchLog.objects.filter(results__gt=0, **_moments(start, end))
        .values("query")
        .annotate(searches=Count("pk"), clicks=Count("clicked_page"))
        .filter(clicks=0)
        .order_by("-searches", "query")[:limit]
    )
    return [QueryFigures(r["query"], r["searches"]) for r in rows]
