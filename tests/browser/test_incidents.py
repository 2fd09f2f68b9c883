"""A merchant on a platform with a confirmed incident reads it on the step, once, in an accessible note."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTICLE, sign_in
from tests.browser.test_page import axe_violations, check_every_step, choose
from tests.incidents.factories import confirmed_incident

pytestmark = [pytest.mark.browser]

WORDING = "Many Demo marketplace stores can't be reached right now — this is on the platform's side."


def test_the_note_is_on_the_affected_step_after_a_diagnosis_and_passes_axe(demo_site, browser):
    confirmed_incident(platform="sandbox", wording=WORDING)
    # axe is injected into the page, so the test bypasses the CSP (its own test is in test_csp.py).
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, demo_site.url)
        expect(page.locator(".incident-note")).to_have_count(0)  # no plugin chosen yet

        # Step 5 fails for this plugin: a step that passes is not touched by the incident.
        choose(page, "Gift shop", "5001")
        check_every_step(page)

        # The note arrives with the checks' answers, and is still there once the page is loaded again.
        for _ in range(2):
            note = page.locator("#step-5").get_by_role("status")
            expect(note).to_contain_text(f"Known problem: {WORDING}")
            expect(page.locator(".step .incident-note")).to_have_count(1)
            page.goto(f"{demo_site.url}{ARTICLE}")
        expect(page.locator("#support-ticket .incident-note")).to_contain_text(
            f"Support already knows: {WORDING}"
        )
        assert axe_violations(page) == []
    finally:
        context.close()
