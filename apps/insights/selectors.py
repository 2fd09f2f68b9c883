"""The editors' outcome report: read from the daily tables only, never from runs or accounts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from wagtail.models import Revision

from apps.help.models import TroubleshootingPage

from .models import ArticleDay, HelpfulVote, SearchLog, StepDay

PERIODS = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
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
        return self.reasons.most_common(3)

    @property
    def fix_list(self) -> list[FixFigures]:
        return sorted(self.fixes.values(), key=lambda f: (-f.offered, f.key))

    @property
    def label(self) -> str:
        number = f"Step {self.number}" if self.number else "Step"
        return f"{number}. {self.title}" if self.title else number


@dataclass
class RevisionFigures:
    revision_id: int
    label: str = ""
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

    @property
    def latest_change(self) -> tuple[RevisionFigures, RevisionFigures] | None:
        """The newest revision with diagnoses or votes, and the one before it: did the last edit help?"""
        counted = [r for r in self.revisions if r.diagnoses or r.helpful or r.not_helpful]
        return (counted[0], counted[1]) if len(counted) > 1 else None

    def csv_rows(self) -> list[dict]:
        """One row per revision (the article) and one per step of it, newest revision first."""
        rows = []
        for revision in [*self.revisions, self.total]:
            common = {
                "revision": revision.label,
                "revision_id": revision.revision_id or "",
                "start": self.start,
                "end": self.end,
            }
            rows.append(
                {
                    **common,
                    "row": "article",
                    "step": "",
                    "title": self.page.title,
                    "check": "",
                    **{name: getattr(revision, name) for name in ARTICLE_FIELDS},
                    "self_service_rate": _percent(revision.self_service_rate),
                    "helpful": revision.helpful,
                    "not_helpful": revision.not_helpful,
                }
            )
            for step in revision.step_list:
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
    return list(TroubleshootingPage.objects.order_by("title").only("id", "title"))


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
            revision.label = "Revision not recorded" if not pk else f"Revision {pk} (deleted)"
            continue
        revision.published_at = found.created_at
        author = (found.user.get_full_name() or found.user.get_username()) if found.user else ""
        revision.label = f"Revision {pk} · {found.created_at:%d %b %Y}" + (
            f" · by {author}" if author else ""
        )
        titles = _step_titles(found.content)
        for step in revision.steps.values():
            step.title = titles.get(step.block_id) or live_titles.get(step.block_id, "")
    return live_titles


def article_report(page, *, start: date, end: date) -> ArticleReport:
    """The article's outcomes for days ``start``..``end``: per revision, per step, and overall."""
    figures: dict[int, RevisionFigures] = {}
    total = RevisionFigures(0, label="All revisions")
    days: dict[date, DayFigures] = {}

    def revision_of(pk: int) -> RevisionFigures:
        if pk not in figures:
            figures[pk] = RevisionFigures(pk)
        return figures[pk]

    in_period = {"page": page, "day__gte": start, "day__lte": end}
    for row in ArticleDay.objects.filter(**in_period).values("revision_id", "day", *ARTICLE_FIELDS):
        for target in (revision_of(row["revision_id"]), total):
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
    _votes(page, start, end, figures, total, revision_of)
    live_titles = _label_revisions(page, figures)
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
    return ArticleReport(page=page, start=start, end=end, revisions=ordered, total=total, days=every_day)


def _moments(start: date, end: date) -> dict:
    """A created_at filter for days ``start``..``end`` (UTC) that an index can serve."""
    first = datetime.combine(start, time.min, tzinfo=UTC)
    return {
        "created_at__gte": first,
        "created_at__lt": datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1),
    }


def _votes(page, start, end, figures, total, revision_of) -> None:
    votes = HelpfulVote.objects.filter(page=page, **_moments(start, end))
    counted = votes.values("revision_id").annotate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )
    for row in counted:
        revision = revision_of(row["revision_id"])
        revision.helpful, revision.not_helpful = row["yes"], row["no"]
        total.helpful += row["yes"]
        total.not_helpful += row["no"]
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
