"""A merchant finds why an order did not import, in a real browser, with the checks on a real worker."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser]


def test_merchant_keeps_one_channel_and_sees_step_2_pass(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Wholesale")
    page.get_by_label("Order number", exact=True).fill("3001")

    step_2 = page.locator("#step-2")
    step_2.get_by_role("button", name="Check this now").click()

    widget = step_2.locator("[data-check-status]")
    expect(widget).to_have_attribute("data-check-status", "failed")
    expect(widget).to_contain_text("Web store")
    expect(widget).to_contain_text("Wholesale portal")

    widget.get_by_label("Channel to keep").select_option(label="Wholesale portal")
    # A look that was on its way sends the same result again: the channel picked stays picked.
    swapped = page.evaluate(
        """() => new Promise((done) => {
            const widget = () => document.querySelector('#step-2 .check');
            widget().dataset.before = 'yes';
            const diagnosis = document.querySelector('#diagnosis-summary input[name=shown]').value;
            htmx.ajax('GET', `/checks/diagnoses/${diagnosis}/summary/?n=9`, {target: '#diagnosis-summary', swap: 'outerHTML'})
              .then(() => done(widget().dataset.before !== 'yes'));
        })"""
    )
    assert swapped
    expect(widget.get_by_label("Channel to keep")).to_have_value(re.compile(r".+"))
    widget.get_by_role("button", name="Keep only this channel").click()

    expect(step_2.locator("[data-check-status]")).to_have_attribute("data-check-status", "passed")
    expect(step_2).to_contain_text("is on one channel: Wholesale portal")


def test_check_every_step_points_at_the_cause(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    page.get_by_label("Order number", exact=True).fill("#1006")

    page.get_by_role("button", name="Check every step").click()

    summary = page.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done")
    expect(summary).to_contain_text("Most likely cause: Step 6.")
    summary.get_by_role("link").click()
    assert page.url.endswith("#step-6")
    expect(page.locator("#step-6 [data-check-status]")).to_have_attribute("data-check-status", "failed")


def test_garbage_order_number_is_refused_inline(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Order number", exact=True).fill("1001; DROP TABLE orders")

    page.locator("#step-6").get_by_role("button", name="Check this now").click()

    expect(page.locator("#step-6 [role=alert]")).to_contain_text("only letters, digits")


def test_still_missing_sends_one_ticket_carrying_the_diagnosis(demo_site, page):
    from apps.support.models import SupportTicket

    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    page.get_by_label("Order number", exact=True).fill("1006")
    page.get_by_role("button", name="Check every step").click()
    expect(page.locator("#diagnosis-summary")).to_have_attribute("data-summary-status", "done")

    # The form arrives filled from the finished diagnosis, without reloading the page.
    ticket = page.locator("#support-ticket")
    expect(ticket.get_by_label("Order number (from the source platform)")).to_have_value("1006")
    expect(ticket.get_by_label("Platform", exact=True)).to_have_value("Demo marketplace")
    expect(ticket.locator("#ticket-checks")).to_contain_text("Step 6")  # the checks go along on their own
    ticket.get_by_label("What you have already tried").fill("Asked the buyer to pay again.")
    ticket.get_by_role("button", name="Send to support").click()

    expect(page.locator("#support-ticket")).to_have_attribute("data-ticket-state", "sent")
    reference = SupportTicket.objects.get().reference
    expect(page.locator("#support-ticket")).to_contain_text(reference)


def test_ticket_form_follows_the_checks_but_keeps_what_the_merchant_typed(demo_site, page):
    sign_in(page, demo_site.url)
    ticket = page.locator("#support-ticket")
    expect(ticket).to_have_attribute("data-ticket-state", "no-diagnosis")
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    page.get_by_label("Order number", exact=True).fill("1007")

    page.locator("#step-6").get_by_role("button", name="Check this now").click()

    expect(ticket).to_have_attribute("data-ticket-state", "form")
    # What the merchant tried is theirs to write; the checks that go with the ticket are listed apart.
    expect(ticket.get_by_label("What you have already tried")).to_have_value("")
    tried = ticket.locator("#ticket-checks")
    expect(tried).to_contain_text("Step 6")
    expect(ticket.get_by_label("Order number (from the source platform)")).to_have_value("1007")

    page.locator("#step-1").get_by_role("button", name="Check this now").click()
    expect(page.locator("#step-1 [data-check-status]")).to_have_attribute("data-check-status", "passed")
    expect(tried).to_contain_text("Step 1")  # a pristine form follows the new result

    ticket.get_by_label("Anything else support should know (optional)").fill(
        "The buyer paid by bank transfer."
    )
    page.locator("#step-2").get_by_role("button", name="Check this now").click()
    expect(page.locator("#step-2 [data-check-status]")).to_have_attribute("data-check-status", "passed")
    page.wait_for_timeout(600)  # longer than the section's refresh delay
    expect(ticket.get_by_label("Anything else support should know (optional)")).to_have_value(
        "The buyer paid by bank transfer."
    )
    expect(tried).not_to_contain_text("Step 2")

    # Checks for another order: the typed form stays, with an offer to switch to them.
    page.get_by_label("Order number", exact=True).fill("1006")
    page.locator("#step-6").get_by_role("button", name="Check again").click()
    expect(ticket).to_contain_text("You have since checked order #1006")
    expect(ticket.get_by_label("Anything else support should know (optional)")).to_have_value(
        "The buyer paid by bank transfer."
    )
    ticket.get_by_role("button", name="Use the newer checks").click()
    expect(ticket.get_by_label("Order number (from the source platform)")).to_have_value("1006")


def test_a_fresh_order_with_an_unknown_sku_fails_step_4_on_the_first_try(demo_site, page):
    from apps.commerce.models import Plugin
    from tests.factories import fresh_order

    main = Plugin.objects.get(name="Demo Marketplace – Main store")
    # Placed a minute ago: no sync has seen it, so no notification names its SKU yet.
    fresh_order(main, lines=[{"sku": "TEAPOT-9", "quantity": 1, "title": "Teapot"}])
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    page.get_by_label("Order number", exact=True).fill("1010")

    page.get_by_role("button", name="Check every step").click()

    summary = page.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done")
    expect(summary).to_contain_text("Most likely cause: Step 4. Order #1010 has SKU TEAPOT-9")
    step_4 = page.locator("#step-4 [data-check-status]")
    expect(step_4).to_have_attribute("data-check-status", "failed")
    expect(step_4).to_contain_text("Order #1010 has SKU TEAPOT-9 that your catalog does not have.")
    step_7 = page.locator("#step-7")
    expect(step_7).to_contain_text("a sync would not bring it in")
    expect(step_7.get_by_role("button", name="Sync now")).to_have_count(0)
    step_7.get_by_role("link", name="See Step 4").click()
    assert page.url.endswith("#step-4")
