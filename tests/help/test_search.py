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
