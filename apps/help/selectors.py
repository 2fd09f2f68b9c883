"""Reads of help content."""

from __future__ import annotations

import html
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe
from wagtail.search.query import And, Phrase, PlainText, SearchQuery

from .models import HelpIndexPage, TroubleshootingPage

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200  # the search box's maxlength
HAS_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def help_search_text(raw: str) -> str:
    """What the reader typed, fit to search for and to show back in the search box.

    Control characters go (PostgreSQL refuses a NUL byte outright), runs of
    white space become one space, and the text is cut to the box's length.
    """
    printable = "".join(ch for ch in raw if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(printable.split())[:MAX_QUERY_LENGTH].rstrip()


def _search_query(text: str) -> SearchQuery | None:
    """Words and "quoted phrases", all of which must match; None when nothing is searchable.

    The backend never sees a double quote (an unpaired one is a syntax error
    in SQLite's full-text MATCH), nor a word without a letter or digit: it
    matches nothing, and PostgreSQL cannot combine its empty query with others.
    """
    parts: list[SearchQuery] = []
    for position, part in enumerate(text.split('"')):
        if position % 2:  # between a pair of quotes (or after an unpaired one)
            if HAS_LETTER_OR_DIGIT.search(part):
                parts.append(Phrase(part.strip()))
        else:
            words = [word for word in part.split() if HAS_LETTER_OR_DIGIT.search(word)]
            if words:
                parts.append(PlainText(" ".join(words)))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


def help_articles_for_index(index: HelpIndexPage, *, query: str = "") -> list[TroubleshootingPage]:
    """Live articles under the help center, best matches first when searching.

    A search the backend cannot run finds nothing rather than failing the page.
    """
    articles = TroubleshootingPage.objects.live().public().child_of(index)
    text = help_search_text(query)
    if not text:
        return list(articles.order_by("title"))
    search_query = _search_query(text)
    if search_query is None:
        return []
    try:
        # A savepoint: on PostgreSQL a failed statement would otherwise abort
        # the whole transaction and every query after it.
        with transaction.atomic():
            return list(articles.search(search_query))
    except DatabaseError:
        logger.exception("Help search failed for %r", text)
        return []


SNIPPET_CHARS = 180


@dataclass(frozen=True)
class SearchHit:
    """One article found by a search, pointing at the step that best matches it."""

    article: TroubleshootingPage
    step_number: int | None  # None: the match is in the title or introduction
    snippet: str  # escaped HTML, the words found in <mark>

    @property
    def anchor(self) -> str:
        return f"#step-{self.step_number}" if self.step_number else ""


def _plain_text(value) -> str:
    return " ".join(html.unescape(strip_tags(str(value))).split())


def _word_stems(text: str) -> list[str]:
    """The query's words cut to a stem, so "authorized" finds "authorization" (as the search backend does)."""
    words = [w for w in dict.fromkeys(re.findall(r"[^\W_]+", text.lower())) if len(w) > 1]
    return [w[: max(4, len(w) - 3)] if len(w) > 4 else w for w in words]


def _snippet(text: str, pattern: re.Pattern | None) -> str:
    """About SNIPPET_CHARS of ``text`` around the first word found, each found word marked."""
    found = pattern.search(text) if pattern else None
    start = max(0, (found.start() if found else 0) - SNIPPET_CHARS // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text) and text.rfind(" ", start, end) > start:
        end = text.rfind(" ", start, end)
    excerpt = text[start:end]
    parts, position = [], 0
    for match in pattern.finditer(excerpt) if pattern else []:
        parts.append(escape(excerpt[position : match.start()]))
        parts.append(format_html("<mark>{}</mark>", match.group(0)))
        position = match.end()
    parts.append(escape(excerpt[position:]))
    # Every part is escaped above: the text as HTML, only <mark> added.
    return mark_safe(("…" if start else "") + "".join(parts) + ("…" if end < len(text) else ""))


def search_hits(articles: list[TroubleshootingPage], query: str) -> list[SearchHit]:
    """Each found article with the step that matches most of the query's words, and a snippet of it."""
    stems = _word_stems(help_search_text(query))
    patterns = [re.compile(rf"\b{re.escape(stem)}\w*", re.I) for stem in stems]
    anywhere = re.compile("|".join(p.pattern for p in patterns), re.I) if patterns else None
    hits = []
    for article in articles:
        best, best_score = None, 0
        for number, block in enumerate(article.steps, start=1):
            text = f"{block.value.get('title', '')}. {_plain_text(block.value.get('body', ''))}"
            score = sum(1 for pattern in patterns if pattern.search(text))
            if score > best_score:
                best, best_score = (number, text), score
        if best is None:
            text = _plain_text(article.search_description or article.intro or article.title)
            hits.append(SearchHit(article, None, _snippet(text, anywhere)))
        else:
            hits.append(SearchHit(article, best[0], _snippet(best[1], anywhere)))
    return hits
