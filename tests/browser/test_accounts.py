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

    # The check panel says which account it checks, and sends to the header's switcher: one per screen.
    panel = page.locator("#check-panel")
    expect(panel).to_contain_text("Checking the account Purrfect Prints.")
    expect(page.get_by_role("combobox", name="Account")).to_have_count(1)
    panel.get_by_role("link", name="switch accounts at the top of the page").click()
    expect(header.get_by_role("combobox", name="Account")).to_be_focused()
    header.get_by_role("combobox", name="Account").select_option(label="Whisker & Co.")
    header.get_by_role("button", name="Switch").click()

    expect(page).to_have_url(f"{demo_site.url}/help/order-did-not-import/")
    expect(panel).to_contain_text("Checking the account Whisker & Co.")
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


PHONE = {"width": 375, "height": 740}


def test_the_header_fits_a_phone_without_cutting_the_account_name(demo_site, page):
    page.set_viewport_size(PHONE)
    sign_in(page, demo_site.url)
    header = page.locator("header.site-header")
    account = header.get_by_role("combobox", name="Account")
    expect(account).to_be_visible()

    layout = page.evaluate(
        """() => {
            const select = document.getElementById("header-account");
            const style = getComputedStyle(select);
            const probe = document.createElement("span");
            probe.style.font = style.font;
            probe.style.whiteSpace = "pre";
            document.body.appendChild(probe);
            const names = Array.from(select.options, (option) => {
                probe.textContent = option.text;
                return probe.getBoundingClientRect().width;
            });
            probe.remove();
            const who = document.querySelector(".site-nav__who");
            const lineHeight = parseFloat(getComputedStyle(who).lineHeight);
            const box = select.getBoundingClientRect();
            return {
                pageWidth: document.documentElement.scrollWidth,
                viewport: window.innerWidth,
                selectRight: box.right,
                room: select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
                widestName: Math.max(...names),
                whoLines: Math.round(who.getBoundingClientRect().height / lineHeight),
            };
        }"""
    )
    assert layout["pageWidth"] <= layout["viewport"], "the page scrolls sideways"
    assert layout["selectRight"] <= layout["viewport"]
    # Each account's whole name fits in the select, however it is chosen (the arrow has its own room).
    assert layout["room"] >= layout["widestName"], layout
    assert layout["whoLines"] == 1, layout
    expect(header.get_by_text("Signed in as merchant")).to_be_visible()
