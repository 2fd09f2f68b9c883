"""Filling the daily outcome tables from the check runs, and recording votes and searches."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import nh3
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.summary import summary_of_runs
from apps.checks.sets import get_set
from apps.commerce.models import Order
from apps.support.models import SupportTicket
from kitty_troubleshoot.limits import Limit, LimitRefused

from .models import ArticleDay, HelpfulVote, SearchLog, StepDay

BATCH_SIZE = 2000
# "Order imported afterwards": within this long of the fix (or of the diagnosis).
IMPORT_WINDOW = timedelta(days=1)
# A diagnosis is shared for 12 hours, tickets and imports come a day later: days
# this recent are counted again by every scheduled run.
RECOUNT_DAYS = 3
RUN_FIELDS = (
    "diagnosis_id",
    "page_revision_id",
    "block_id",
    "step_number",
    "check_key",
    "status",
    "summary",
    "data",
    "fixes_offered",
    "fixes_applied",
    "queued_at",
    "deadline",
)
STATE_FIELDS = {
    "cause": "with_cause",
    "incomplete": "incomplete",
    "passed": "all_passed",
    "already_here": "already_here",
    "nothing_here": "incomplete",  # nothing to diagnose (e.g. not in Commerce Kitty at all): no cause found
    "running": "unfinished",
}
# Quoted text, "#1234", dates, times and long numbers name an order, a plugin or a moment.
_SPECIFIC = re.compile(r"[“\"'‘][^”\"'’]*[”\"'’]|#\S+|\S*\d{3,}\S*|\d{1,2}:\d{2}\S*")
NO_REASON = gettext_noop("No reason given")
# Stored in English (the figures are data); the report reads it in the editor's language.
FOLLOWS_A_FAILED_STEP = gettext_noop("Waits on an earlier step that failed")


def counted_diagnoses() -> QuerySet[Diagnosis]:
    """The diagnoses the figures count: merchants' own on an article.

    Support's read-only re-checks from a ticket are not a reader's outcome,
    nor are an editor's checks of a draft in preview (on a sandbox account).
    Anything else to leave out is filtered here.
    """
    return Diagnosis.objects.filter(read_only=False, page__isnull=False, preview_session__isnull=True)


def reason_words(summary: str) -> str:
    """Why a step couldn't be checked, as a reason shared by many runs: no order, plugin or time in it."""
    text = _SPECIFIC.sub("…", summary or "")
    return " ".join(text.split())[:200] or NO_REASON


@dataclass
class _StepTally:
    step_number: int | None
    check_key: str
    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    fixes: dict = field(default_factory=dict)

    def fix(self, key: str, label: str) -> dict:
        entry = self.fixes.setdefault(key, {"label": label, "offered": 0, "applied": 0, "imported": 0})
        if label and not entry["label"]:
            entry["label"] = label
        return entry


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _parse_moment(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _order_arrivals(diagnoses: list[tuple]) -> dict[tuple, list[datetime]]:
    """When each asked-about order was imported, by (merchant id, plugin id, order number)."""
    numbers = {d[5] for d in diagnoses if d[5]}
    if not numbers:
        return {}
    plugins = {d[3] for d in diagnoses if d[5]}
    arrivals: dict[tuple, list[datetime]] = defaultdict(list)
    rows = Order.objects.filter(plugin_id__in=plugins, number__in=numbers).values_list(
        "merchant_id", "plugin_id", "number", "imported_at"
    )
    for merchant_id, plugin_id, number, imported_at in rows:
        arrivals[(merchant_id, plugin_id, number)].append(imported_at)
    return arrivals


def _arrived(moments: list[datetime], after: datetime | None) -> bool:
    return after is not None and any(after <= m <= after + IMPORT_WINDOW for m in moments)


def _tally_batch(diagnoses: list[tuple], articles: dict, steps: dict) -> None:
    ids = [d[0] for d in diagnoses]
    runs_of: dict[int, list[CheckRun]] = defaultdict(list)
    runs = CheckRun.objects.filter(diagnosis_id__in=ids).order_by("diagnosis_id", "queued_at", "pk")
    for run in runs.only(*RUN_FIELDS).iterator(chunk_size=5000):
        runs_of[run.diagnosis_id].append(run)
    ticketed = set(SupportTicket.objects.filter(diagnosis_id__in=ids).values_list("diagnosis_id", flat=True))
    arrivals = _order_arrivals(diagnoses)
    for pk, page_id, merchant_id, subject_id, set_key, order_number, created_at in diagnoses:
        runs = runs_of.get(pk)
        if not runs:
            continue
        latest = {run.block_id: run for run in runs}  # ordered oldest first: the newest wins
        summary = summary_of_runs(latest, reference=order_number, check_set=get_set(set_key))
        revision_id = runs[-1].page_revision_id or 0
        moments = arrivals.get((merchant_id, subject_id, order_number), [])
        article = articles[(page_id, revision_id)]
        article["diagnoses"] += 1
        article[STATE_FIELDS.get(summary.state, "unfinished")] += 1
        article["tickets"] += pk in ticketed
        article["order_arrived"] += _arrived(moments, created_at)
        cause = summary.cause if summary.state == "cause" else None
        any_fix = False
        for widget in summary.ran:
            run = widget.run
            key = (page_id, revision_id, widget.block_id)
            tally = steps.get(key)
            if tally is None:
                tally = steps[key] = _StepTally(widget.step_number, widget.check_key)
            tally.counts["checked"] += 1
            if run.finished and run.status in ("passed", "failed", "unknown"):
                tally.counts[run.status] += 1
            if run.finished and run.status == "unknown":
                data = run.data if isinstance(run.data, dict) else {}
                tally.reasons[
                    FOLLOWS_A_FAILED_STEP if data.get("follows_from") else reason_words(run.summary)
                ] += 1
            if cause is not None and cause.block_id == widget.block_id:
                tally.counts["cause"] += 1
            any_fix |= _tally_fixes(tally, [r for r in runs if r.block_id == widget.block_id], moments)
        article["fixed"] += any_fix


def _tally_fixes(tally: _StepTally, runs: list[CheckRun], moments: list[datetime]) -> bool:
    """Count each fix once per diagnosis: offered, applied, and followed by the order's import."""
    offered: dict[str, str] = {}
    applied: dict[str, datetime | None] = {}
    for run in runs:
        for fix in run.fixes_offered or []:
            if isinstance(fix, dict) and fix.get("key"):
                offered.setdefault(fix["key"], str(fix.get("label", "")))
        for fix in run.fixes_applied or []:
            if isinstance(fix, dict) and fix.get("key"):
                at = _parse_moment(fix.get("at"))
                first = applied.get(fix["key"])
                applied[fix["key"]] = at if first is None or (at is not None and at < first) else first
    for key, label in offered.items():
        tally.fix(key, label)["offered"] += 1
    for key, at in applied.items():
        entry = tally.fix(key, offered.get(key, ""))
        entry["applied"] += 1
        entry["imported"] += _arrived(moments, at)
    return bool(applied)


def insights_aggregate_day(day: date) -> int:
    """Count again every diagnosis started on ``day`` (UTC) into the daily tables; returns how many.

    Idempotent: the day's rows are replaced as a whole, so running it twice,
    or for a day already counted, leaves the same figures.
    """
    start, end = _day_bounds(day)
    diagnoses = list(
        counted_diagnoses()
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by("pk")
        .values_list("pk", "page_id", "merchant_id", "subject_id", "check_set", "reference", "created_at")
    )
    articles: dict[tuple, Counter] = defaultdict(Counter)
    steps: dict[tuple, _StepTally] = {}
    for offset in range(0, len(diagnoses), BATCH_SIZE):
        _tally_batch(diagnoses[offset : offset + BATCH_SIZE], articles, steps)
    article_rows = [
        ArticleDay(page_id=page_id, revision_id=revision_id, day=day, **counts)
        for (page_id, revision_id), counts in articles.items()
    ]
    step_rows = [
        StepDay(
            page_id=page_id,
            revision_id=revision_id,
            day=day,
            block_id=block_id,
            step_number=tally.step_number,
            check_key=tally.check_key,
            unknown_reasons=dict(tally.reasons),
            fixes=tally.fixes,
            **tally.counts,
        )
        for (page_id, revision_id, block_id), tally in steps.items()
    ]
    with transaction.atomic():
        ArticleDay.objects.filter(day=day).delete()
        StepDay.objects.filter(day=day).delete()
        ArticleDay.objects.bulk_create(article_rows, batch_size=1000)
        StepDay.objects.bulk_create(step_rows, batch_size=1000)
    return sum(a["diagnoses"] for a in articles.values())


def insights_aggregate_days(days: Iterable[date]) -> int:
    return sum(insights_aggregate_day(day) for day in days)


def insights_aggregate_recent(*, today: date | None = None) -> int:
    """The scheduled count: the last few days, whose diagnoses may still gain runs, tickets or imports.

    Remembers what it counted (see ``outcomes_stale``) and lets the next
    stale read ask for a count again.
    """
    activity = outcomes_activity()  # before counting: what arrives meanwhile makes the figures stale
    today = today or timezone.now().date()
    try:
        counted = insights_aggregate_days(today - timedelta(days=n) for n in range(RECOUNT_DAYS - 1, -1, -1))
        cache.set(COUNTED_KEY, {"activity": activity, "at": timezone.now()}, None)
    finally:
        cache.delete(COUNT_ASKED_KEY)
    return counted


# --- Are the figures up to date? ----------------------------------------------
# Beat counts every hour; a site without beat (the demo: eager Celery, no
# scheduler) or whose beat has stopped would show figures that never move.
# Reading the report asks for a count when something happened since the last
# one. In production that is one message on the bulk queue (at most one
# waiting at a time) and the page says the figures are being brought up to
# date; with eager Celery the count runs before the page is drawn.

COUNTED_KEY = "insights:outcomes-counted"
COUNT_ASKED_KEY = "insights:outcomes-count-asked"
# A count asked for and never done (its message lost) is asked for again after this long.
COUNT_ASKED_FOR = 10 * 60
# Imports and finished runs change no id: the figures are recounted at least this often anyway.
COUNTED_AT_MOST_AGO = timedelta(hours=2)


def outcomes_activity() -> list[int]:
    """The newest diagnosis, run and ticket: ids only grow, so a new one means new figures.

    Three index lookups, cheap however many rows there are.
    """
    return [
        model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for model in (Diagnosis, CheckRun, SupportTicket)
    ]


def outcomes_counted_at() -> datetime | None:
    counted = cache.get(COUNTED_KEY)
    return counted.get("at") if isinstance(counted, dict) else None


def outcomes_stale(*, now: datetime | None = None) -> bool:
    """Whether diagnoses, runs or tickets came after the last count, or it is too old to trust."""
    counted = cache.get(COUNTED_KEY)
    if not isinstance(counted, dict) or not isinstance(counted.get("at"), datetime):
        return True
    if (now or timezone.now()) - counted["at"] > COUNTED_AT_MOST_AGO:
        return True
    return counted.get("activity") != outcomes_activity()


def outcomes_count_ask() -> bool:
    """Claim the right to ask for a count: False while one asked for is still to come."""
    return bool(cache.add(COUNT_ASKED_KEY, 1, COUNT_ASKED_FOR))


# --- "Was this helpful?" -----------------------------------------------------

VOTE_COMMENT_MAX = 1000
VOTES_PER_ADDRESS_PER_HOUR = 20


class VoteRefused(Exception):
    """Too many votes from one address (or they cannot be counted now): the message says when to try again."""

    def __init__(self, message: str, *, unavailable: bool = False):
        super().__init__(message)
        self.unavailable = unavailable


def voter_key(*, user_id: int | None = None, reader_token: str = "") -> str:
    """A keyed hash of who votes (an account, else the reader's cookie): votes tell apart, name nobody."""
    who = f"user:{user_id}" if user_id is not None else f"reader:{reader_token}"
    return hmac.new(settings.SECRET_KEY.encode(), who.encode(), hashlib.sha256).hexdigest()


def comment_clean(raw: str | None) -> str:
    """The comment as plain text: markup and control characters gone, cut to its length.

    Stored as text and escaped wherever it is shown; no HTML survives it.
    """
    text = "".join(
        ch for ch in (raw or "")[: VOTE_COMMENT_MAX * 4] if ch in "\n\t" or unicodedata.category(ch) != "Cc"
    )
    text = html.unescape(nh3.clean(text, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()[:VOTE_COMMENT_MAX]


# Per address: a reader without an account is known by nothing else that they cannot drop.
VOTE_LIMIT = Limit(
    name="insights:votes",
    allowed=VOTES_PER_ADDRESS_PER_HOUR,
    window=60 * 60,
    # The same sentences as templates/insights/helpful.html shows for "limited" and "unavailable".
    too_many="You have sent a lot of feedback in the last hour. Thank you! Try again later.",
    unavailable="We cannot take feedback right now. Thank you! Try again in a few minutes.",
)


def _vote_limit(address: str | None) -> None:
    try:
        VOTE_LIMIT.hit(address or "unknown")
    except LimitRefused as exc:
        raise VoteRefused(str(exc), unavailable=exc.unavailable) from None


def helpful_vote_record(
    *, page, voter: str, helpful: bool, comment: str = "", address: str | None
) -> HelpfulVote:
    """Record the reader's vote on the revision they read; voting again changes it, not adds one.

    Raises VoteRefused when the address has voted too often in the last hour.
    """
    _vote_limit(address)
    fields = {"helpful": helpful, "comment": comment_clean(comment), "created_at": timezone.now()}
    revision_id = page.live_revision_id or 0
    try:
        with transaction.atomic():
            vote, _ = HelpfulVote.objects.update_or_create(
                page=page, revision_id=revision_id, voter=voter, defaults=fields
            )
    except IntegrityError:  # the same reader's other tab voted at the same moment
        HelpfulVote.objects.filter(page=page, revision_id=revision_id, voter=voter).update(**fields)
        vote = HelpfulVote.objects.get(page=page, revision_id=revision_id, voter=voter)
    return vote


# --- Search --------------------------------------------------------------------


def search_query_normalize(text: str) -> str:
    return " ".join(text.lower().split())[:200]


def search_log(*, query: str, results: int) -> SearchLog | None:
    """Log one search (its normalized words and how many articles it found); nothing about who searched."""
    normalized = search_query_normalize(query)
    if not normalized:
        return None
    return SearchLog.objects.create(query=normalized, results=results)


def search_click_record(*, search: SearchLog, page, step: int | None) -> None:
    """The reader opened a result of this search: the first click is the one kept."""
    SearchLog.objects.filter(pk=search.pk, clicked_page__isnull=True).update(
        clicked_page=page, clicked_step=step
    )
