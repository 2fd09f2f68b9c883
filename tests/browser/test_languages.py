"""A German merchant and a French reader, in a real browser: the article in their language, checks that run on it."""

import pytest
from playwright.sync_api import expect

from apps.checks.models import CheckRun

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
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill("merchant")
    page.get_by_label("Password").fill("kitty-merchant")
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("reader", ["de-DE"], indirect=True)
def test_a_german_merchant_checks_every_step_of_the_german_article(demo_site, reader):
    page = reader
    # The link in an e-mail, a bookmark: the English address opens the German article.
    sign_in(page, demo_site.url, next_url=ENGLISH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Eine Bestellung wurde nicht importiert")
    assert page.url == demo_site.url + GERMAN
    assert page.locator("html").get_attribute("lang") == "de"
    expect(page.locator("#step-5")).to_contain_text("Prüfen Sie die Berechtigung des Plugins")

    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    page.get_by_label("Order number", exact=True).fill("1004")
    page.get_by_role("button", name="Check every step").click()

    summary = page.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done")
    expect(summary).to_contain_text("Step 4")
    step_4 = page.locator("#step-4")
    expect(step_4.locator("[data-check-status]")).to_have_attribute("data-check-status", "failed")
    expect(step_4).to_contain_text("MUG-RED-404")
    expect(step_4).to_contain_text(
        "Prüfen Sie, ob das Plugin Fehler meldet"
    )  # the step as the article writes it
    german_page = CheckRun.objects.filter(check_key="plugin_errors").latest("queued_at").page.specific
    assert german_page.url == GERMAN  # the runs belong to the German page (insights count it apart)

    # Reading it again later shows the same results on the German page.
    page.reload()
    expect(page.locator("#step-4 [data-check-status]")).to_have_attribute("data-check-status", "failed")


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
    expect(page.get_by_role("navigation", name="Language")).to_be_visible()


@pytest.mark.parametrize("reader", ["de-DE"], indirect=True)
def test_the_switcher_opens_the_same_article_in_the_language_picked_and_remembers_it(demo_site, reader):
    page = reader
    page.goto(demo_site.url + ENGLISH)
    assert page.url == demo_site.url + GERMAN  # Accept-Language: German

    switcher = page.get_by_role("navigation", name="Language")
    switcher.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Une commande n’a pas été importée")

    page.get_by_role("navigation", name="Language").get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("An Order Did Not Import")
    # Picked, so the English address stays English for this German browser.
    page.goto(demo_site.url + ENGLISH)
    expect(page.get_by_role("heading", level=1)).to_have_text("An Order Did Not Import")
    assert page.locator("html").get_attribute("lang") == "en"
