"""The right language without asking: the address, else the reader's choice, else Accept-Language."""

import re

import pytest
from django.test import Client

from apps.languages.models import LanguagePreference

ENGLISH = "/help/order-did-not-import/"
GERMAN = "/de/help/eine-bestellung-wurde-nicht-importiert/"
FRENCH = "/fr/help/une-commande-na-pas-ete-importee/"


pytestmark = pytest.mark.translations


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def test_an_english_address_opens_in_english_for_a_reader_who_asks_for_nothing_else(demo, client):
    response = client.get(ENGLISH)

    assert response.status_code == 200
    assert html_lang(response) == "en"
    assert "Accept-Language" in response["Vary"]


@pytest.mark.parametrize(
    ("accept", "expected"), [("de-DE,de;q=0.9,en;q=0.5", GERMAN), ("fr-CH, fr;q=0.9", FRENCH)]
)
def test_an_english_address_sends_a_reader_of_another_language_to_their_translation(
    demo, client, accept, expected
):
    response = client.get(ENGLISH + "?feedback=1", HTTP_ACCEPT_LANGUAGE=accept)

    assert response.status_code == 302
    assert response["Location"] == expected + "?feedback=1"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_a_language_in_the_address_wins_over_accept_language(demo, client):
    response = client.get(FRENCH, HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    assert html_lang(response) == "fr"
    assert "Une commande n’a pas été importée" in response.content.decode()


def test_a_signed_in_readers_saved_language_wins_over_accept_language(demo, client):
    from django.contrib.auth.models import User

    merchant = User.objects.get(username="merchant")
    LanguagePreference.objects.create(user=merchant, language="fr")
    client.force_login(merchant)

    response = client.get(ENGLISH, HTTP_ACCEPT_LANGUAGE="de")

    assert response["Location"] == FRENCH


def test_picking_a_language_saves_it_for_a_signed_in_reader_and_opens_the_same_article_in_it(demo):
    from django.contrib.auth.models import User

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="merchant"))
    page = client.get(ENGLISH).content.decode()
    token = re.search(
        r'<nav class="language-switcher".*?name="csrfmiddlewaretoken" value="([^"]+)"', page, re.S
    )

    response = client.post(
        "/language/", {"language": "de", "next": ENGLISH, "csrfmiddlewaretoken": token.group(1)}
    )

    assert response.status_code == 302
    assert response["Location"] == GERMAN
    assert LanguagePreference.objects.get(user__username="merchant").language == "de"
    # Wherever they sign in next, English addresses open in German.
    assert client.get(ENGLISH)["Location"] == GERMAN


def test_another_site_cannot_change_a_signed_in_readers_language(demo):
    from django.contrib.auth.models import User

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="merchant"))

    response = client.post("/language/", {"language": "fr", "next": ENGLISH})

    assert response.status_code == 403
    assert not LanguagePreference.objects.exists()


def test_a_signed_out_reader_who_picks_english_keeps_english_whatever_their_browser_says(demo):
    client = Client(enforce_csrf_checks=True)  # a cached page carries no CSRF token

    response = client.post("/language/", {"language": "en", "next": GERMAN})

    assert response["Location"] == ENGLISH
    assert response.cookies["django_language"].value == "en"
    assert client.get(ENGLISH, HTTP_ACCEPT_LANGUAGE="de").status_code == 200


def test_picking_a_language_on_a_page_outside_the_help_center_stays_on_it(demo, client):
    response = client.post("/language/", {"language": "de", "next": "/accounts/login/"})

    assert response["Location"] == "/accounts/login/"
    # One address in every language: the page speaks the language picked, whatever the browser says.
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert html_lang(page) == "de"
    assert "Melden Sie sich mit Ihrem Commerce-Kitty-Konto an" in page.content.decode()


def test_picking_a_language_never_leaves_the_site(demo, client):
    response = client.post("/language/", {"language": "fr", "next": "https://elsewhere.example/help/"})

    assert response["Location"] == "/fr/help/"


def test_a_language_the_site_does_not_have_is_refused(demo, client):
    assert client.post("/language/", {"language": "xx", "next": ENGLISH}).status_code == 400


def test_an_article_not_translated_yet_opens_in_english_for_everyone(demo, client):
    from apps.help.services import article_import

    article_import(data=b"Fresh Article\nIntro.\nStep 1. Look\nText.", slug="fresh-article")

    response = client.get("/help/fresh-article/", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    assert html_lang(response) == "en"


def test_the_cached_english_page_is_never_served_to_a_reader_of_another_language(demo, client):
    assert client.get(ENGLISH).status_code == 200
    assert client.get(ENGLISH).status_code == 200  # now from the cache

    assert client.get(ENGLISH, HTTP_ACCEPT_LANGUAGE="fr").status_code == 302


def test_every_article_names_its_translations_for_search_engines(demo, client):
    page = client.get(GERMAN).content.decode()
    alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))

    assert alternates == {
        "en": "http://testserver" + ENGLISH,
        "de": "http://testserver" + GERMAN,
        "fr": "http://testserver" + FRENCH,
        "x-default": "http://testserver" + ENGLISH,
    }
    assert html_lang(client.get(GERMAN)) == "de"


def test_the_switcher_offers_every_language_in_its_own_name_and_marks_the_pages_own(demo, client):
    page = client.get(FRENCH).content.decode()
    switcher = re.search(r'<nav class="language-switcher".*?</nav>', page, re.S).group(0)

    assert re.search(
        r'<span class="language-switcher__current" lang="fr" aria-current="true">Français</span>', switcher
    )
    assert re.search(
        r'<button type="submit" name="language" value="de" lang="de"[^>]*>Deutsch</button>', switcher
    )
    assert re.search(
        r'<button type="submit" name="language" value="en" lang="en"[^>]*>English</button>', switcher
    )
    assert f'name="next" value="{FRENCH}"' in switcher
