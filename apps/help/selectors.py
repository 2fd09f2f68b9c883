"""Reads of help content."""

from __future__ import annotations

import logging
import re
import unicodedata

from django.db import DatabaseError, transaction
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
