"""An article's .checks file names its check set, so importing the article gives it that set."""

import pytest

from apps.help.article_text import ArticleFormatError, parse_check_set, parse_step_checks
from apps.help.services import article_import
from tests.conftest import wagtail_tree_ensure

pytestmark = pytest.mark.django_db

ARTICLE = b"""An Order Imported Twice
Intro.
Step 1. One
Text.
Still seeing it twice?
Open a ticket.
- Both numbers
"""


def test_the_check_set_line_sets_the_articles_check_set_and_its_steps_may_carry_that_sets_checks():
    wagtail_tree_ensure()

    page = article_import(
        data=ARTICLE,
        slug="twice",
        checks_text="Check set: order-imported-twice\nStep 1: store_connected_twice\n",
    ).page

    assert page.check_set == "order-imported-twice"
    assert page.steps[0].value["check"] == "store_connected_twice"
    assert page.body[1].value["heading"] == "Still seeing it twice?"


def test_without_a_check_set_line_a_step_of_another_set_is_refused_by_the_page():
    from django.core.exceptions import ValidationError

    wagtail_tree_ensure()

    with pytest.raises(ValidationError, match="not of the check set “An Order Did Not Import”"):
        article_import(data=ARTICLE, slug="twice", checks_text="Step 1: store_connected_twice\n")


def test_an_unknown_or_second_check_set_line_is_refused_with_its_line():
    with pytest.raises(ArticleFormatError, match="line 2: there is no check set called 'no-such-set'"):
        parse_check_set("# a comment\nCheck set: no-such-set\n", known_sets={"order-import"})
    with pytest.raises(ArticleFormatError, match="line 2: a second “Check set:” line"):
        parse_check_set("Check set: order-import\nCheck set: order-import\n", known_sets={"order-import"})
    assert parse_step_checks("Check set: order-import\nStep 1: a\n", known_keys={"a"}, step_count=1) == {
        1: "a"
    }
