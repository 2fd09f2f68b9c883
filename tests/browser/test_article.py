"""A reader opens the article in a real browser (Chromium driven by Playwright)."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_reader_sees_every_step_in_order_on_desktop_and_phone(live_server, page, article):
    page.goto(f"{live_server.url}/help/order-did-not-import/")

    assert page.title() == "An Order Did Not Import · Commerce Kitty Help"
    headings = page.locator("section.step h2").all_inner_texts()
    assert [h.split(".")[0] for h in headings] == [f"Step {n}" for n in range(1, 8)]
    assert page.locator("#still-missing").is_visible()

    page.set_viewport_size({"width": 375, "height": 740})
    step_7 = page.locator("#step-7")
    step_7.scroll_into_view_if_needed()
    assert step_7.is_visible()
    # Nothing wider than a phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_reader_searches_from_the_help_center(live_server, page, article):
    page.goto(f"{live_server.url}/help/")
    page.get_by_label("Search the help center").fill("order import")
    page.get_by_role("button", name="Search").click()

    page.get_by_role("link", name="An Order Did Not Import").click()

    # Through the search's click log, to the step that matches best.
    assert page.url.endswith("/help/order-did-not-import/#step-1")
