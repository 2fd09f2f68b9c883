"""Without JavaScript, on real workers, every start and fix reaches its result by itself."""

import pytest
from playwright.sync_api import expect

from apps.checks.models import CheckRun
from tests.browser.conftest import sign_in
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser]

# The article refreshes itself once a second while checks run; a loaded machine may add a page load or two.
SHOWN_AFTER_THE_RUN_ENDS_MS = 5_000


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def ended(**lookup):
    def runs_ended():
        runs = CheckRun.objects.filter(**lookup)
        return runs.exists() and not runs.filter(status__in=CheckRun.IN_FLIGHT).exists()

    return runs_ended


def test_check_this_now_reaches_its_result_by_itself(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Wholesale")
    page.get_by_label("Order number", exact=True).fill("3001")

    page.locator("#step-2").get_by_role("button", name="Check this now").click()

    wait_for(ended(step_number=2))
    widget = page.locator("#step-2 [data-check-status]")
    expect(widget).to_have_attribute("data-check-status", "failed", timeout=SHOWN_AFTER_THE_RUN_ENDS_MS)
    expect(widget).to_contain_text("Wholesale portal")
    expect(page.locator("#step-2").get_by_role("button", name="Check again")).to_be_enabled()
    assert page.url.endswith("#step-2")


def test_check_every_step_reaches_the_cause_by_itself(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    page.get_by_label("Order number", exact=True).fill("#1006")

    page.get_by_role("button", name="Check every step").click()

    wait_for(ended(diagnosis__reference="1006"))
    summary = page.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done", timeout=SHOWN_AFTER_THE_RUN_ENDS_MS)
    expect(summary).to_contain_text("Most likely cause: Step 6.")
    expect(page.locator("#step-6 [data-check-status]")).to_have_attribute("data-check-status", "failed")
    assert page.url.endswith("#check-inputs")
    for button in page.locator(".check__button").all():
        expect(button).to_be_enabled()


def test_a_fix_reaches_the_check_after_it_by_itself(demo_site, page):
    sign_in(page, demo_site.url)
    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Wholesale")
    page.get_by_label("Order number", exact=True).fill("3001")
    step_2 = page.locator("#step-2")
    step_2.get_by_role("button", name="Check this now").click()
    expect(step_2.locator("[data-check-status]")).to_have_attribute("data-check-status", "failed")

    step_2.get_by_label("Channel to keep").select_option(label="Wholesale portal")
    step_2.get_by_role("button", name="Keep only this channel").click()

    wait_for(ended(step_number=2, fixes_applied__0__key__isnull=False))
    widget = step_2.locator("[data-check-status]")
    expect(widget).to_have_attribute("data-check-status", "passed", timeout=SHOWN_AFTER_THE_RUN_ENDS_MS)
    expect(step_2).to_contain_text("is on one channel: Wholesale portal")
    expect(step_2.get_by_role("button", name="Check again")).to_be_enabled()
