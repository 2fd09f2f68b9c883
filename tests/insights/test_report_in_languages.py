"""The editors' report and the readers' "Was this helpful?" in German and French."""

import pytest
from wagtail.models import Locale
from wagtail.users.models import UserProfile

from apps.insights.services import insights_aggregate_recent

pytestmark = pytest.mark.django_db

URL = "/cms/reports/article-outcomes/"


@pytest.fixture
def counted(outcomes):
    insights_aggregate_recent()
    return outcomes


@pytest.mark.parametrize(
    ("language", "words", "english"),
    [
        ("de", ["Nach Sprache", "Nach Version", "Wahrscheinlichste Ursache", "Selbsthilfequote", "Schritt 3"],
         ["By language", "Most likely cause", "Self-service rate", "Step 3"]),
        ("fr", ["Par langue", "Par révision", "Cause la plus probable", "Taux d’autonomie", "Étape 3"],
         ["By language", "Most likely cause", "Self-service rate", "Step 3"]),
    ],
)  # fmt: skip
def test_an_editor_reads_the_report_in_their_language(
    editor_client, editor, counted, language, words, english
):
    profile = UserProfile.get_for_user(editor)
    profile.preferred_language = language
    profile.save()

    page = editor_client.get(URL).content.decode()

    for word in words:
        assert word in page
    for sentence in english:
        assert sentence not in page


def test_the_csv_stays_english_data_for_a_german_editor(editor_client, editor, counted):
    profile = UserProfile.get_for_user(editor)
    profile.preferred_language = "de"
    profile.save()

    csv_text = b"".join(editor_client.get(URL, {"export": "csv"}).streaming_content).decode()

    assert csv_text.startswith("Revision,Revision id,Language,")
    assert "All revisions" in csv_text


@pytest.mark.parametrize(
    ("language", "thanks"),
    [("de", "Danke für Ihre Rückmeldung."), ("fr", "Merci de nous l’avoir dit.")],
)
def test_a_reader_of_a_translation_is_thanked_in_its_language(client, article, language, thanks):
    translated = article.copy_for_translation(
        Locale.objects.get_or_create(language_code=language)[0], copy_parents=True
    )
    translated.save_revision().publish()

    answer = client.post(
        f"/feedback/helpful/{translated.pk}/",
        {"helpful": "yes"},
        HTTP_ORIGIN="http://testserver",
        HTTP_HX_REQUEST="true",
    )

    assert answer.status_code == 200
    assert thanks in answer.content.decode()
    assert "Thank you" not in answer.content.decode()
