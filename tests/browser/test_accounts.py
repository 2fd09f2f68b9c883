"""A merchant in two accounts switches between them in a real browser, and the check panel follows."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser]


def test_switching_accounts_in_the_header_changes_the_plugins_to_check(demo_site, page):
    sign_in(page, demo_site.url)
    plugins = page.get_by_label("Plugin", exact=True).locator("option")
    expect(plugins).to_contain_text(["Demo Marketplace – Main store"])

    header = page.locator("header.site-header")
    header.get_by_role("combobox", name="Account").select_option(label="Purrfect Prints")
    header.get_by_role("button", name="Switch").click()

    expect(page.get_by_role("status")).to_contain_text("You are now working in “Purrfect Prints”.")
    expect(plugins).to_have_text(["Demo Marketplace – Print shop"])  # the only one, so chosen

    # Back again from the check panel's own switcher, landing on the panel.
    panel = page.locator("#check-panel")
    panel.get_by_role("combobox", name="Account").select_option(label="Whisker & Co.")
    panel.get_by_role("button", name="Switch").click()

    expect(page).to_have_url(f"{demo_site.url}/help/order-did-not-import/#check-panel")
    expect(plugins.filter(has_text="Print shop")).to_have_count(0)
    expect(plugins.filter(has_text="Main store")).to_have_count(1)


def test_a_tab_left_on_the_other_account_reloads_instead_of_checking(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Outlet")
    other_tab = page.context.new_page()
    other_tab.goto(f"{demo_site.url}/help/")
    other_tab.locator("header.site-header").get_by_role("combobox", name="Account").select_option(
        label="Purrfect Prints"
    )
    other_tab.locator("header.site-header").get_by_role("button", name="Switch").click()
    expect(other_tab.get_by_role("status")).to_contain_text("Purrfect Prints")

    page.locator("#step-1").get_by_role("button", name="Check this now").click()

    expect(page.get_by_role("status")).to_contain_text("You switched to “Purrfect Prints”")
    expect(page.get_by_label("Plugin", exact=True).locator("option")).to_have_text(
        ["Demo Marketplace – Print shop"]
    )
    expect(page.locator("#step-1 [data-check-status]")).to_have_attribute("data-check-status", "idle")
