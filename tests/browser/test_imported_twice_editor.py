"""An editor of “An Order Imported Twice” is offered the checks of its check set, in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_preview import sign_in_to_wagtail

pytestmark = [pytest.mark.browser]


def test_a_steps_check_chooser_offers_the_pages_check_set_and_follows_the_set_chosen(demo_site, page):
    from apps.help.models import TroubleshootingPage

    article = TroubleshootingPage.objects.get(slug="order-imported-twice")
    sign_in_to_wagtail(page, demo_site.url)
    page.goto(f"{demo_site.url}/cms/pages/{article.pk}/edit/")

    first = page.locator(".check-chooser").first
    expect(first.get_by_text("Store connected through two plugins?", exact=True)).to_be_visible()
    expect(first.get_by_text("Plugin authorized?", exact=True)).to_be_visible()  # both sets may attach it
    expect(first.get_by_text("Import Orders on?", exact=True)).to_be_hidden()
    heights = [box["height"] for box in (c.bounding_box() for c in page.locator(".check-chooser").all())]
    assert max(heights) <= 400, f"a check chooser is {max(heights):.0f}px tall"

    page.locator("#id_check_set").select_option(label="An Order Did Not Import")

    expect(first.get_by_text("Import Orders on?", exact=True)).to_be_visible()
    # The step's own check stays in view, so the editor sees what saving would refuse.
    expect(first.get_by_text("Store connected through two plugins?", exact=True)).to_be_visible()
    expect(first.get_by_text("History imported again by a plugin added again?", exact=True)).to_be_hidden()
