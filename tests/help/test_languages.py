"""The demo's articles in German and French: real wagtail-localize translations with the source's checks."""

import pytest
from wagtail.models import Page
from wagtail_localize.models import Translation, TranslationSource

from apps.help.models import HelpIndexPage, TroubleshootingPage
from apps.help.services import article_import
from apps.help.translations import TranslationShapeError, article_translation_import
from tests.conftest import SEED_ARTICLE

ARTICLES = ["order-did-not-import", "order-imported-twice"]


pytestmark = pytest.mark.translations


def source(slug: str) -> TroubleshootingPage:
    return TroubleshootingPage.objects.get(slug=slug, locale__language_code="en")


def in_language(page: Page, language: str) -> TroubleshootingPage:
    return page.get_translations().get(locale__language_code=language).specific


@pytest.mark.parametrize("language", ["de", "fr"])
@pytest.mark.parametrize("slug", ARTICLES)
def test_each_translated_step_carries_the_source_steps_check_under_the_same_block_id(demo, slug, language):
    english = source(slug)
    translated = in_language(english, language)

    assert translated.live
    assert translated.check_steps() == english.check_steps()  # (block id, step number, check key)
    assert translated.check_set == english.check_set
    assert len(translated.steps) == len(english.steps)
    assert translated.title != english.title
    assert [step.value["title"] for step in translated.steps] != [
        step.value["title"] for step in english.steps
    ]


def test_the_german_article_is_written_in_german_and_step_5_is_about_the_plugins_authorization(demo):
    german = in_language(source("order-did-not-import"), "de")

    assert german.title == "Eine Bestellung wurde nicht importiert"
    assert german.url == "/de/help/eine-bestellung-wurde-nicht-importiert/"
    step_5 = german.steps[4].value
    assert "Berechtigung" in step_5["title"]
    assert "Sie" in str(step_5["body"])  # addressed as a merchant is, formally
    assert german.steps[4].value["check"] == "plugin_authorized"
    assert [str(item) for item in german.body[-1].value["ticket_items"]][
        0
    ] == "Die Bestellnummer auf der Plattform"


def test_the_french_article_is_written_in_french(demo):
    french = in_language(source("order-did-not-import"), "fr")

    assert french.title == "Une commande n’a pas été importée"
    assert french.steps[4].value["title"] == "Vérifiez l’autorisation du plugin"
    assert str(french.steps[0].value["body"]).startswith("<p>Ouvrez ")  # merchants are addressed as "vous"
    assert "vous tenez une piste" in str(french.steps[3].value["body"])


def test_the_help_center_home_is_translated_and_each_language_lists_its_own_articles(demo, client):
    homes = {home.locale.language_code: home for home in HelpIndexPage.objects.all()}
    assert set(homes) == {"en", "de", "fr"}
    assert homes["de"].title == "Hilfe-Center"

    german = client.get("/de/help/").content.decode()
    assert "Eine Bestellung wurde nicht importiert" in german
    assert "Eine Bestellung wurde doppelt importiert" in german
    assert "An Order Did Not Import" not in german


@pytest.mark.parametrize("language", ["de", "fr"])
def test_editors_find_every_translation_up_to_date_in_the_translation_editor(demo, language):
    translations = Translation.objects.filter(target_locale__language_code=language)

    assert translations.count() == 3  # the help center's home and both articles
    for translation in translations:
        total, translated = translation.get_progress()
        assert total == translated > 0, translation.source.object_repr
        # Who translated it, in the page's history, from its first revision on.
        page = translation.get_target_instance()
        assert all(revision.user is not None for revision in page.revisions.all())


def test_a_changed_source_shows_its_translations_out_of_date_until_they_are_translated_again(demo):
    english = source("order-did-not-import")
    german = in_language(english, "de")
    changed = SEED_ARTICLE.read_text().replace(
        "Turn it on, save, and wait a few minutes", "Turn it on, save, and wait five minutes"
    )
    article_import(data=changed.encode(), slug="order-did-not-import")

    # "Sync translated pages" (wagtail-localize) brings the change to the translations.
    TranslationSource.objects.get_for_instance(english).update_from_db()
    translation = Translation.objects.get(
        source__object_id=english.translation_key, target_locale=german.locale
    )
    total, translated = translation.get_progress()

    assert translated == total - 1  # the changed paragraph waits for its translator
    german.refresh_from_db()
    assert german.title == "Eine Bestellung wurde nicht importiert"  # published as it was until then


def test_a_translation_with_a_step_missing_is_refused_naming_the_difference(demo):
    german_text = (SEED_ARTICLE.parent / "de" / "order-did-not-import.txt").read_text()
    without_step_7 = german_text.split("Schritt 7.")[0] + german_text[german_text.index("Immer noch") :]

    with pytest.raises(TranslationShapeError, match="the translation has 6 steps, the source 7"):
        article_translation_import(
            source=source("order-did-not-import"), data=without_step_7.encode(), language="de"
        )


def test_a_translation_with_a_paragraph_missing_is_refused_naming_the_step(demo):
    german_text = (SEED_ARTICLE.parent / "de" / "order-did-not-import.txt").read_text()
    shorter = "\n".join(
        line
        for line in german_text.splitlines()
        if not line.startswith("Das ist einer der häufigsten Gründe")
    )

    with pytest.raises(
        TranslationShapeError, match="Step 2's text has 3 paragraphs and bullets in the source and 2"
    ):
        article_translation_import(
            source=source("order-did-not-import"), data=shorter.encode(), language="de"
        )
