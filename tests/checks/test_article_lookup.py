"""The article a check is started on: looked up live, by its own type once that is known."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from apps.checks.selectors import live_article


def test_a_known_article_is_read_in_one_query_and_is_the_live_one(page):
    live_article(page.pk)  # its type is learned

    page.title = "An Order Did Not Import (edited)"
    page.save_revision().publish()
    with CaptureQueriesContext(connection) as queries:
        found = live_article(str(page.pk))

    assert found.title == "An Order Did Not Import (edited)"
    assert [step.block_type for step in found.body][:1] == ["step"]
    assert len(queries) == 1


def test_an_article_unpublished_after_it_was_seen_is_no_such_article(page):
    live_article(page.pk)
    page.unpublish()

    with pytest.raises(Http404):
        live_article(page.pk)


@pytest.mark.parametrize("page_id", ["", "x", "99999999", "99999999999999999999999", None])
def test_garbage_or_missing_ids_are_no_such_article(page, page_id):
    with pytest.raises(Http404):
        live_article(page_id)


def test_a_page_without_steps_is_no_such_article(page):
    home = Page.objects.get(pk=page.get_parent().pk)

    with pytest.raises(Http404):
        live_article(home.pk)
    with pytest.raises(Http404):  # asked again, once its type is known
        live_article(home.pk)
