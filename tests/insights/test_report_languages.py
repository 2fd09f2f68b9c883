"""The outcome report by language: a translation's readers are counted apart from the source's."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import Locale

from apps.insights.services import insights_aggregate_recent
from apps.support.models import SupportTicket
from tests.factories import PluginFactory
from tests.insights.conftest import diagnose

pytestmark = pytest.mark.django_db

URL = "/cms/reports/article-outcomes/"


@pytest.fixture
def german(article):
    """The article's German translation (a page of its own, sharing the source's translation key)."""
    translated = article.copy_for_translation(
        Locale.objects.get_or_create(language_code="de")[0], copy_parents=True
    )
    translated.title = "Eine Bestellung wurde nicht importiert"
    translated.save_revision().publish()
    translated.refresh_from_db()
    return translated


@pytest.fixture
def read_in_two_languages(article, german):
    """English: 2 diagnoses (Step 1 the cause and a ticket; all passed). German: 3, Step 3 the cause each time."""
    article.refresh_from_db()
    plugin = PluginFactory()
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    ticketed = diagnose(article, article.live_revision_id, now, {1: ("failed", "Import Orders is off.")},
                        plugin=plugin, order_number="2001")  # fmt: skip
    SupportTicket.objects.create(merchant_id=plugin.merchant_id, diagnosis=ticketed, order_number="2001",
                                 plugin_id=plugin.pk)  # fmt: skip
    diagnose(
        article, article.live_revision_id, now + timedelta(minutes=1), {}, plugin=plugin, order_number="2002"
    )
    for minute in range(3):
        diagnose(german, german.live_revision_id, now + timedelta(minutes=2 + minute),
                 {3: ("failed", "The order is older than the import date.")}, plugin=plugin,
                 order_number=f"30{minute}")  # fmt: skip
    insights_aggregate_recent()
    return {"en": article, "de": german}


def language_row(page: str, language: str) -> dict[str, str]:
    table = re.search(r'<table id="languages">(.*?)</table>', page, re.S)
    assert table, "no table by language"
    row = re.search(rf'<tr data-language="{language}">(.*?)</tr>', table.group(1), re.S)
    assert row, f"no row for {language}"
    return dict(re.findall(r'data-cell="(\w+)">([^<]*)<', row.group(1)))


def figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)


def test_the_report_reads_german_and_english_readers_apart(editor_client, read_in_two_languages):
    page = editor_client.get(URL).content.decode()

    assert figure(page, "diagnoses") == "5"  # one article: the source and its translation together
    assert language_row(page, "en") == {
        "diagnoses": "2",
        "with_cause": "1",
        "tickets": "1",
        "self_service": "50%",
    }
    assert language_row(page, "de") == {
        "diagnoses": "3",
        "with_cause": "3",
        "tickets": "0",
        "self_service": "100%",
    }


def test_the_report_lists_each_article_once_by_its_source(editor_client, read_in_two_languages):
    page = editor_client.get(URL).content.decode()
    articles = re.search(r'<select name="article".*?</select>', page, re.S).group(0)

    assert "An Order Did Not Import" in articles
    assert "Eine Bestellung wurde nicht importiert" not in articles


def test_the_language_filter_shows_one_languages_readers_and_its_own_revisions(
    editor_client, read_in_two_languages
):
    german = read_in_two_languages["de"]

    page = editor_client.get(URL, {"language": "de"}).content.decode()

    assert figure(page, "diagnoses") == "3"
    assert figure(page, "tickets") == "0"
    assert re.findall(r'<tr data-revision="(\d+)">', page) == [str(german.live_revision_id)]
    assert 'id="report-language"' in page


def test_the_csv_has_a_language_column_and_a_row_per_language(editor_client, read_in_two_languages):
    english, german = read_in_two_languages["en"], read_in_two_languages["de"]

    every = list(csv.DictReader(io.StringIO(
        b"".join(editor_client.get(URL, {"export": "csv"}).streaming_content).decode()
    )))  # fmt: skip
    only_german = list(csv.DictReader(io.StringIO(
        b"".join(editor_client.get(URL, {"export": "csv", "language": "de"}).streaming_content).decode()
    )))  # fmt: skip

    languages = {r["Language"]: r for r in every if r["Row"] == "language"}
    assert (languages["en"]["Diagnoses"], languages["en"]["Ended in a ticket"]) == ("2", "1")
    assert (languages["de"]["Diagnoses"], languages["de"]["Most likely cause found"]) == ("3", "3")
    by_revision = {
        r["Revision id"]: r["Language"] for r in every if r["Row"] == "article" and r["Revision id"]
    }
    assert by_revision == {str(english.live_revision_id): "en", str(german.live_revision_id): "de"}
    assert {r["Language"] for r in only_german} == {"de"}
    total = next(r for r in only_german if r["Row"] == "article" and r["Revision"] == "All revisions")
    assert total["Diagnoses"] == "3"
