"""The API tokens page: without JavaScript a token is made, shown once and revoked after a confirmation;
with it, the page passes axe on a desktop and a phone."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from apps.api.tokens import token_authenticate, token_create
from apps.commerce.models import Membership
from tests.browser.test_page import axe_violations
from tests.conftest import wagtail_tree_ensure
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server):
    from io import StringIO

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    return live_server


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in_to_tokens(page, base_url):
    page.goto(f"{base_url}/accounts/login/?next=/account/tokens/")
    page.get_by_label("Username").fill("merchant")
    page.get_by_label("Password").fill("kitty-merchant")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()


def test_a_token_is_made_shown_once_and_revoked_without_javascript(site, page):
    sign_in_to_tokens(page, site.url)
    page.get_by_label("Name").fill("Support bot")
    page.get_by_role("checkbox", name="diagnose:").check()
    page.get_by_label("Expires after").select_option(label="7 days")

    page.get_by_role("button", name="Make the token").click()

    new = page.get_by_label("Your new token")
    expect(new).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()  # without a script, select and copy
    raw = new.input_value()
    assert token_authenticate(raw).token.scopes == ["read", "diagnose"]
    row = page.locator("tr[data-token-state]", has_text="Support bot")
    expect(row).to_contain_text("never used")

    row.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke “Support bot”?")).to_be_visible()
    page.get_by_role("button", name="Revoke the token").click()

    expect(page.locator("tr[data-token-state=revoked]", has_text="Support bot")).to_be_visible()
    expect(page.get_by_label("Your new token")).to_have_count(0)  # shown once, and only then
    assert raw not in page.content()


@pytest.mark.parametrize("width,height", [(1280, 900), (390, 844)], ids=["desktop", "mobile"])
def test_the_page_with_a_new_token_and_a_teammates_passes_axe(site, browser, width, height):
    membership = Membership.objects.filter(user__username="merchant", role="owner").first()
    teammate = UserFactory(username="teammate")
    Membership.objects.create(user=teammate, merchant=membership.merchant, role=Membership.Role.STAFF)
    token_create(user=teammate, merchant_id=membership.merchant_id, name="Teammate's bot", scopes=["fix"])
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)  # for axe
    page = context.new_page()
    try:
        sign_in_to_tokens(page, site.url)
        page.get_by_label("Name").fill("Support bot")
        page.get_by_role("button", name="Make the token").click()
        expect(page.get_by_label("Your new token")).to_be_visible()
        expect(page.locator("tr[data-token-state]", has_text="Teammate's bot")).to_have_count(1)

        assert axe_violations(page) == []
        # Wide tables scroll in their own box; the page itself never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
