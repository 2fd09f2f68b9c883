"""Searching the help center: whatever a reader types, they get the page back, never an error."""

import html
import re

import pytest
from django.db import connection
from wagtail.query import PageQuerySet

from apps.help.models import TroubleshootingPage

pytestmark = pytest.mark.django_db

ARTICLE_LINK = 'href="/help/order-did-not-import/">An Order Did Not Import</a>'
# A search result links to the article through the click log (tests/insights/test_search_log.py).
ARTICLE_RESULT = re.compile(r'href="[^"]*\?page=\d+[^"]*">An Order Did Not Import</a>')


def search(client, query: str) -> tuple[str, str]:
    """The page a reader gets for ``query``: its HTML, and what the search box holds."""
    response = client.get("/help/", {"q": query})
    assert response.status_code == 200
    page = response.content.decode()
    box = re.search(r'<input id="help-search"[^>]*\svalue="([^"]*)"', page)
    assert box, "the search box is missing"
    return page, html.unescape(box.group(1))


# query typed -> (what the search box shows, whether the seed article is found)
ODD_QUERIES = {
    "a lone quote": ('"', '"', False),
    "an unpaired closing quote": ('order"', 'order"', True),
    "an unpaired opening quote": ('"did not import', '"did not import', True),
    "a quoted phrase": ('"did not import"', '"did not import"', True),
    "a NUL byte": ("order\x00", "order", True),
    "control characters": ("order\x01\x1b did\tnot\nimport", "order did not import", True),
    "only punctuation": ("?!...;:()*-+^", "?!...;:()*-+^", False),
    "a word and punctuation": ("order ?! -", "order ?! -", True),
    "emoji": ("🐱📦", "🐱📦", False),
    "very long": ("order " * 1000, ("order " * 1000)[:200], True),
}


@pytest.mark.parametrize("query,shown,found", ODD_QUERIES.values(), ids=ODD_QUERIES.keys())
def test_odd_search_answers_with_the_query_in_the_box(client, article, query, shown, found):
    page, box = search(client, query)

    assert box == shown
    text = html.unescape(page)
    assert f"Results for “{shown}”" in text
    if found:
        assert ARTICLE_RESULT.search(page)
    else:
        assert not ARTICLE_RESULT.search(page)
        assert f"No article matches “{shown}”. Try fewer words" in text


def test_search_box_keeps_at_most_200_characters(client, article):
    _, box = search(client, "x" * 5000)

    assert box == "x" * 200


def test_search_of_nothing_but_a_nul_byte_lists_every_article(client, article):
    page, box = search(client, "\x00")

    assert box == ""
    assert ARTICLE_LINK in page


def test_search_the_backend_cannot_run_finds_nothing_and_the_page_still_works(client, article, monkeypatch):
    def broken_search(self, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM help_search_table_that_is_not_there")

    monkeypatch.setattr(PageQuerySet, "search", broken_search)

    page, box = search(client, "order")

    assert box == "order"
    assert "No article matches “order”" in html.unescape(page)
    # On PostgreSQL the failed statement must not have aborted the transaction
    # the request runs in: reads after it still work.
    assert TroubleshootingPage.objects.live().count() == 1


def first_hit(page: str) -> tuple[str, str]:
    """The first result's step line and its snippet as a reader sees it (marks kept as *…*)."""
    card = re.search(r'<li class="article-card.*?</li>', page, re.S)
    assert card, "no result"
    step = re.search(r'<span class="article-card__step">([^<]*)</span>', card.group(0))
    snippet = re.search(r'<p class="article-card__snippet">(.*?)</p>', card.group(0), re.S).group(1)
    snippet = re.sub(r"</?mark>", "*", snippet)
    return (step.group(1) if step else ""), html.unescape(snippet)


@pytest.mark.parametrize(
    "query,step,marked",
    [
        ("reauthorise", "Step 5", "*Reauthorize*"),  # British spelling of the article's word
        ("click reauthorise", "Step 5", "*click* *Reauthorize*"),
        ("catalogue", "Step 4", "*catalog*"),
        ("duplicats", "Step 2", "*duplicates*"),  # a letter missed
    ],
)
def test_a_spelling_variant_finds_the_step_that_says_it_otherwise(client, article, query, step, marked):
    page, _ = search(client, query)

    assert ARTICLE_RESULT.search(page), f"{query!r} found nothing"
    found_step, snippet = first_hit(page)
    assert found_step == step
    assert marked in snippet


def test_a_word_far_from_any_in_the_articles_still_finds_nothing(client, article):
    page, _ = search(client, "reauthorise xylophone")

    assert not ARTICLE_RESULT.search(page)


def test_a_snippet_keeps_the_space_between_list_items(client, article):
    page, _ = search(client, "backfill")

    step, snippet = first_hit(page)
    assert step == "Step 3"
    # The body's list items were run together ("choices:Trigger", "action)Create").
    assert "two choices: Trigger a *backfill*" in snippet
    assert "action) Create the order" in snippet
