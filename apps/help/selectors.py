"""Reads of help content."""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import Count, Max
from django.utils import translation
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from wagtail.rich_text import get_text_for_indexing
from wagtail.search.query import And, Or, Phrase, PlainText, SearchQuery

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


# A typed word is read as an article's word spelled another way ("reauthorise" for
# "reauthorize", "catalogue" for "catalog", a letter missed) from this likeness up
# (difflib's ratio: 2 * matching characters / both lengths).
VARIANT_LIKENESS = 0.8
VARIANT_MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
WORD = re.compile(r"[^\W_]+")


def _article_words(index: HelpIndexPage) -> frozenset[str]:
    """Every word of the help center's live articles, lower case: the words a search can find.

    Computed again only when an article is published, moved or withdrawn.
    """
    articles = TroubleshootingPage.objects.live().public().child_of(index)
    state = articles.aggregate(count=Count("pk"), latest=Max("last_published_at"), newest=Max("pk"))
    latest = state["latest"].timestamp() if state["latest"] else 0
    key = f"help:words:{index.pk}:{state['count']}:{state['newest']}:{latest}"
    words = cache.get(key)
    if words is None:
        words = set()
        for article in articles.specific():
            text = " ".join(
                [article.title, _plain_text(article.intro), *(step_text(step) for step in article.steps)]
            )
            words.update(WORD.findall(text.lower()))
        words = frozenset(words)
        cache.set(key, words, 24 * 3600)
    return words


def spelling_variants(text: str, vocabulary: frozenset[str]) -> dict[str, list[str]]:
    """For each typed word the articles do not have, the articles' words it is likely a spelling of.

    Full-text search matches words (on PostgreSQL their English stems): British and
    American spellings, or a slip of one letter, have different stems and find nothing.
    The same variants feed the database query and the snippet's marks.
    """
    variants = {}
    for word in dict.fromkeys(WORD.findall(text.lower())):
        if len(word) < VARIANT_MIN_LENGTH or word in vocabulary:
            continue
        close = difflib.get_close_matches(word, vocabulary, n=3, cutoff=VARIANT_LIKENESS)
        if close:
            variants[word] = close
    return variants


def _search_query(text: str, variants: dict[str, list[str]] | None = None) -> SearchQuery | None:
    """Words and "quoted phrases", all of which must match; None when nothing is searchable.

    A word with spelling ``variants`` matches as itself or as any of them.
    The backend never sees a double quote (an unpaired one is a syntax error
    in SQLite's full-text MATCH), nor a word without a letter or digit: it
    matches nothing, and PostgreSQL cannot combine its empty query with others.
    """
    variants = variants or {}
    parts: list[SearchQuery] = []
    for position, part in enumerate(text.split('"')):
        if position % 2:  # between a pair of quotes (or after an unpaired one)
            if HAS_LETTER_OR_DIGIT.search(part):
                parts.append(Phrase(part.strip()))
        else:
            words = [word for word in part.split() if HAS_LETTER_OR_DIGIT.search(word)]
            plain = [word for word in words if word.lower() not in variants]
            if plain:
                parts.append(PlainText(" ".join(plain)))
            for word in words:
                if word.lower() in variants:
                    parts.append(Or([PlainText(word), *(PlainText(v) for v in variants[word.lower()])]))
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
    search_query = _search_query(text, spelling_variants(text, _article_words(index)))
    if search_query is None:
        return []
    try:
        # A savepoint: on PostgreSQL a failed statement would otherwise abort
        # the whole transaction and every query after it.
        # The index's own language parses the query (apps/help/search_backend.py): German words
        # are stemmed as German on /de/help/, whichever language the request is in.
        with transaction.atomic(), translation.override(index.locale.language_code):
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
    """Rich text as the search index reads it: paragraphs and list items stay separate words."""
    return " ".join(get_text_for_indexing(str(value)).split())


def step_text(block) -> str:
    """A step's title and body as one plain text, as its search snippet quotes it."""
    return f"{block.value.get('title', '')}. {_plain_text(block.value.get('body', ''))}"


def _stem(word: str) -> str:
    return word[: max(4, len(word) - 3)] if len(word) > 4 else word


def _word_patterns(text: str, variants: dict[str, list[str]]) -> list[re.Pattern]:
    """One pattern per typed word, cut to a stem so "authorized" finds "authorization" (as the
    search backend does), matching the word's spelling variants too."""
    words = [w for w in dict.fromkeys(WORD.findall(text.lower())) if len(w) > 1]
    return [
        re.compile("|".join(rf"\b{re.escape(_stem(w))}\w*" for w in [word, *variants.get(word, [])]), re.I)
        for word in words
    ]


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


def search_hits(
    articles: list[TroubleshootingPage], query: str, *, index: HelpIndexPage | None = None
) -> list[SearchHit]:
    """Each found article with the step that matches most of the query's words, and a snippet of it."""
    text = help_search_text(query)
    variants = spelling_variants(text, _article_words(index)) if index is not None else {}
    patterns = _word_patterns(text, variants)
    # A word found as typed counts more than one found as a spelling variant: "Berechtigungen" is
    # closer to "Berechtigung" (as typed, stemmed) than to its variant "Benachrichtigungen".
    as_typed = _word_patterns(text, {})
    anywhere = re.compile("|".join(p.pattern for p in patterns), re.I) if patterns else None
    hits = []
    for article in articles:
        best, best_score = None, 0
        for number, block in enumerate(article.steps, start=1):
            text = step_text(block)
            score = sum(1 for pattern in [*patterns, *as_typed] if pattern.search(text))
            if score > best_score:
                best, best_score = (number, text), score
        if best is None:
            text = _plain_text(article.search_description or article.intro or article.title)
            hits.append(SearchHit(article, None, _snippet(text, anywhere)))
        else:
            hits.append(SearchHit(article, best[0], _snippet(best[1], anywhere)))
    return hits
