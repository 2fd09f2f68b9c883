"""A German merchant and a French reader, in a real browser: the article in their language, checks that run on it."""

import re

import pytest
from playwright.sync_api import expect

from apps.checks.models import CheckRun
from tests.test_translations import catalogue_pairs

pytestmark = [pytest.mark.translations, pytest.mark.browser]

ENGLISH = "/help/order-did-not-import/"
GERMAN = "/de/help/eine-bestellung-wurde-nicht-importiert/"
FRENCH = "/fr/help/une-commande-na-pas-ete-importee/"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def reader(browser, request):
    """A browser whose reader asks for ``request.param`` (Accept-Language), as their system says."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=request.param)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page, base_url, *, next_url=ENGLISH):
    """Sign in as the demo merchant, in whatever language the sign-in page speaks."""
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.locator("#id_username").fill("merchant")
    page.locator("#id_password").fill("kitty-merchant")
    page.locator("form.form button[type=submit]").click()


def english_left(text: str, language: str) -> list[str]:
    """Every English sentence of the software found in ``text``, which should be in ``language``.

    The software's whole English vocabulary is its catalogues' msgids: each one whose translation
    differs is looked for by its literal pieces (placeholders cut out) long enough to be telling.
    """
    found = []
    for english, translated in catalogue_pairs(language):
        if english == translated:
            continue
        for piece in re.split(r"%\([a-z_]+\)[sd]|<[^>]+>|\n", english):
            piece = piece.strip(" .,:;“”()")
            # Three words or more: a name such as "Demo Marketplace" is also the stores' data.
            if len(piece.split()) >= 3 and piece in text and piece not in translated:
                found.append(piece)
    return sorted(set(found))


@pytest.mark.parametrize("reader", ["de-DE"], indirect=True)
def test_a_german_merchant_checks_every_step_of_the_german_article(demo_site, reader):
    page = reader
    # The link in an e-mail, a bookmark: the English address opens the German article.
    sign_in(page, demo_site.url, next_url=ENGLISH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Eine Bestellung wurde nicht importiert")
    assert page.url == demo_site.url + GERMAN
    assert page.locator("html").get_attribute("lang") == "de"
    expect(page.locator("#step-5")).to_contain_text("Prüfen Sie die Berechtigung des Plugins")

    expect(page.get_by_role("button", name="Anmelden")).to_have_count(0)  # signed in, in German
    page.locator("#check-subject").select_option(label="Demo Marketplace – Main store")
    page.locator("#check-order-number").fill("1004")
    page.get_by_role("button", name="Alle Schritte prüfen").click()

    summary = page.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done")
    expect(summary).to_contain_text("Wahrscheinlichste Ursache: Schritt 4.")
    step_4 = page.locator("#step-4")
    expect(step_4.locator("[data-check-status]")).to_have_attribute("data-check-status", "failed")
    expect(step_4).to_contain_text("MUG-RED-404")
    expect(step_4).to_contain_text(
        "Prüfen Sie, ob das Plugin Fehler meldet"
    )  # the step as the article writes it
    german_page = CheckRun.objects.filter(check_key="plugin_errors").latest("queued_at").page.specific
    assert german_page.url == GERMAN  # the runs belong to the German page (insights count it apart)

    # The whole page, header to ticket form, is German: no sentence of the software is left in English.
    whole = page.locator("body").inner_text()
    expect(step_4.locator(".check__verdict")).to_contain_text(
        "Fehlgeschlagen:"
    )  # read out before the verdict
    for german in ("Alle Schritte prüfen", "Erneut prüfen", "Ihr Konto prüfen", "Abmelden"):
        assert german in whole
    assert english_left(whole, "de") == []

    # Reading it again later shows the same results on the German page, in German.
    page.reload()
    expect(page.locator("#step-4 [data-check-status]")).to_have_attribute("data-check-status", "failed")
    assert english_left(page.locator("body").inner_text(), "de") == []


@pytest.mark.parametrize("reader", ["fr-FR"], indirect=True)
def test_the_french_article_fits_a_phone(demo_site, reader):
    page = reader
    page.set_viewport_size(PHONE)
    sign_in(page, demo_site.url, next_url=ENGLISH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Une commande n’a pas été importée")
    assert page.url == demo_site.url + FRENCH

    for step in range(1, 8):
        page.locator(f"#step-{step}").scroll_into_view_if_needed()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"step {step}"
    expect(page.get_by_role("navigation", name="Langue")).to_be_visible()
    assert english_left(page.locator("body").inner_text(), "fr") == []


@pytest.mark.parametrize("reader", ["de-DE"], indirect=True)
def test_the_switcher_opens_the_same_article_in_the_language_picked_and_remembers_it(demo_site, reader):
    page = reader
    page.goto(demo_site.url + ENGLISH)
    assert page.url == demo_site.url + GERMAN  # Accept-Language: German

    switcher = page.get_by_role("navigation", name="Sprache")
    switcher.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Une commande n’a pas été importée")

    page.get_by_role("navigation", name="Langue").get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("An Order Did Not Import")
    # Picked, so the English address stays English for this German browser.
    page.goto(demo_site.url + ENGLISH)
    expect(page.get_by_role("heading", level=1)).to_have_text("An Order Did Not Import")
    assert page.locator("html").get_attribute("lang") == "en"
