"""A page not translated into (or not published in) the address's language is not found: never the English."""

import pytest

from apps.help.models import TroubleshootingPage


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_article_with_no_translation_is_not_found_under_another_languages_address(demo, client, language):
    # Without the demo's translations the help center is English only.
    assert client.get("/help/order-did-not-import/").status_code == 200

    answer = client.get(f"/{language}/help/order-did-not-import/")

    assert answer.status_code == 404
    assert "An Order Did Not Import" not in answer.content.decode()
    assert client.get(f"/{language}/help/").status_code == 404  # nor the help center's home


@pytest.mark.translations
def test_a_translation_that_is_not_published_is_not_found_and_the_source_is_not_served_instead(demo, client):
    english = TroubleshootingPage.objects.get(slug="order-did-not-import", locale__language_code="en")
    french = english.get_translations().get(locale__language_code="fr").specific
    assert client.get(french.url).status_code == 200
    german_url = english.get_translations().get(locale__language_code="de").url

    french.unpublish()

    assert client.get(french.url).status_code == 404
    assert client.get("/fr/help/order-did-not-import/").status_code == 404  # the English slug
    assert client.get(german_url).status_code == 200  # the other translation is untouched
    assert client.get("/fr/help/").status_code == 200  # the French home is still there
