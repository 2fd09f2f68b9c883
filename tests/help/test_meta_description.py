"""Each page says what it is about in <meta name="description">, from what the editors wrote."""

import html
import re

import pytest

from apps.help.models import HelpIndexPage
from apps.help.templatetags.help_meta import SITE_DESCRIPTION
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def description(client, url: str) -> str:
    page = client.get(url).content.decode()
    found = re.findall(r'<meta name="description" content="([^"]*)">', page)
    assert len(found) == 1, found
    head = page.split("</head>", 1)[0]
    assert '<meta name="description"' in head
    return html.unescape(found[0])


def test_an_article_is_described_by_its_search_description(client, article):
    article.search_description = "Why an order from a marketplace is missing, & how to bring it in."
    article.save_revision().publish()

    assert description(client, article.url) == article.search_description


def test_an_article_without_one_is_described_by_its_introduction(client, article):
    article.search_description = ""
    article.save_revision().publish()

    said = description(client, article.url)
    assert said.startswith("When a marketplace order shows up on the source platform")
    assert len(said) <= 160
    assert "<" not in said


def test_the_help_center_and_pages_outside_the_articles_have_the_sites_description(client, article):
    index = HelpIndexPage.objects.get(locale__language_code="en")
    index.intro = ""
    index.save_revision().publish()
    client.force_login(UserFactory())

    assert description(client, index.url) == SITE_DESCRIPTION
    assert description(client, "/notifications/") == SITE_DESCRIPTION
