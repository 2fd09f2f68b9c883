"""A support editor builds a new article in Wagtail's admin, checks it in preview and publishes it; a merchant uses it.

No code and no import file: the article is written in the page editor, each
step's check is picked by clicking its card, the preview runs the draft's
checks on the editor's sandbox account, and once it is published a merchant
runs them on their own account. Real Celery workers run every check.
"""

from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_preview import sign_in_to_wagtail
from tests.conftest import postgresql_required

pytestmark = [pytest.mark.browser]

TITLE = "Orders Arrive Late"
INTRO = "An order reached Commerce Kitty hours after the buyer placed it. Each step rules out one reason."
# A check's answer comes from a worker; on a busy machine that can take more than expect's 5 s.
ANSWERED = 30_000


@dataclass(frozen=True)
class Step:
    title: str
    body: str
    check: str  # the title on the check's card in the chooser; "" for no check


STEPS = [
    Step(
        "Has the buyer paid?",
        "Commerce Kitty imports an order once the platform says it is paid and confirmed.",
        "Paid and confirmed on the platform?",
    ),
    Step(
        "Is the platform slowing the plugin down?",
        "While a platform throttles the plugin, its orders wait until it lets the plugin in again.",
        "Plugin errors on this order?",
    ),
    Step(
        "When does the plugin sync next?",
        "Orders come in with each scheduled sync, so one placed just after a sync waits for the next.",
        "",
    ),
    Step(
        "Is Import Orders still on?",
        "With Import Orders off, new orders wait until it is turned on again.",
        "Import Orders on?",
    ),
]


def step_block(page, number: int):
    """The editor's block of Step ``number``: its header reads "Step N <title>"."""
    return page.locator("[data-streamfield-child]").filter(
        has=page.get_by_role("heading", name=f"Step {number}", exact=False)
    )


def write_step(page, number: int, step: Step) -> None:
    """Add a step at the end of the body and write it as an editor does: typing, then clicking a check's card."""
    page.get_by_role("button", name="Insert a block").last.click()
    page.get_by_role("option", name="Step").click()
    block = step_block(page, number)
    # A new step is numbered at once, and says nothing else until it has a title.
    expect(block.get_by_role("heading")).to_have_text(f"Step {number}")
    block.get_by_role("textbox", name="Title").fill(step.title)
    block.locator("[data-contentpath=body] [contenteditable=true]").click()
    page.keyboard.type(step.body)
    chooser = block.get_by_role("radiogroup", name="Check")
    card = step.check or "No check"
    chooser.get_by_text(card, exact=True).click()
    expect(chooser.get_by_role("radio", name=card, exact=True)).to_be_checked()


def no_sideways_scrolling(page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
    choosers = page.locator(".check-chooser")
    for n in range(choosers.count()):
        choosers.nth(n).scroll_into_view_if_needed()
        box = choosers.nth(n).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"Step {n + 1}'s chooser: {box}"


def preview_ready(tab) -> None:
    """Wait until Wagtail's new preview tab shows the draft.

    The tab may open before the editor's page has stored the draft for it (Wagtail then says
    "Preview not available"); as an editor would, reload until it is there (bounded).
    """
    tab.wait_for_load_state()
    for _ in range(10):
        if tab.locator("#preview-banner").count():
            return
        tab.wait_for_timeout(300)
        tab.reload()


@pytest.fixture
def new_window(browser):
    """Opens a desktop browser window of its own (cookies and all) for each person; closes them after the test."""
    contexts = []

    def open_window():
        contexts.append(browser.new_context(viewport={"width": 1280, "height": 900}))
        window = contexts[-1].new_page()
        window.set_default_timeout(15_000)
        return window

    yield open_window
    for context in contexts:
        context.close()


def test_an_editor_builds_and_publishes_an_article_whose_checks_a_merchant_then_runs(demo_site, new_window):
    # A new page's editor sends its autosave and its preview at the same moment: the live server's shared
    # SQLite connection breaks on two transactions at once (then every later request fails), PostgreSQL does not.
    postgresql_required("the page editor's requests run at once, which needs PostgreSQL (set DATABASE_URL)")

    from apps.checks.models import CheckRun
    from apps.commerce.models import Merchant

    editor = new_window()
    sign_in_to_wagtail(editor, demo_site.url)

    # 1. Pages → the help center → Add child page: a troubleshooting article, the one kind it takes.
    sidebar = editor.get_by_role("complementary", name="Sidebar")
    sidebar.get_by_role("button", name="Pages").click()
    # The English help center: its German and French translations are listed after it, under the same title.
    sidebar.get_by_role("link", name="Help Center").first.click()
    expect(editor.get_by_role("heading", name="Help Center")).to_be_visible()
    editor.get_by_role("link", name="Add child page").click()
    expect(editor.get_by_role("heading", name="New: Troubleshooting article")).to_be_attached()
    editor.get_by_role("textbox", name="Title*").fill(TITLE)
    editor.locator("[data-contentpath=intro] [contenteditable=true]").click()
    editor.keyboard.type(INTRO)
    for number, step in enumerate(STEPS, start=1):
        write_step(editor, number, step)

    # Moving a step renumbers the steps' headers, as the article will.
    def title_of(number):
        return step_block(editor, number).get_by_role("textbox", name="Title")

    step_block(editor, 4).get_by_role("button", name="Move up").click()
    expect(title_of(3)).to_have_value(STEPS[3].title)
    expect(title_of(4)).to_have_value(STEPS[2].title)
    step_block(editor, 3).get_by_role("button", name="Move down").click()
    expect(title_of(4)).to_have_value(STEPS[3].title)

    # On a phone the chooser fits the screen.
    editor.set_viewport_size({"width": 375, "height": 740})
    no_sideways_scrolling(editor, 375)
    editor.set_viewport_size({"width": 1280, "height": 900})

    # 2. The preview panel shows the draft, numbered as readers will see it.
    editor.get_by_role("button", name="Toggle preview").click()
    panel = editor.frame_locator("#w-preview-iframe")
    # Wagtail validates the form as it stood when the panel opened; on a busy machine the last
    # keystrokes may reach the editor's stored value only after that ("Preview not available"),
    # and the panel updates itself at its next interval once they have: wait for that, not 5 s.
    expect(panel.locator("#preview-banner")).to_contain_text("Preview — sandbox data", timeout=30_000)
    for number, step in enumerate(STEPS, start=1):
        expect(panel.locator(f"#step-{number} h2")).to_have_text(f"Step {number}. {step.title}")
    expect(panel.locator("#step-3").get_by_role("button", name="Check this now")).to_have_count(0)

    # Full size in a tab of its own (the panel reloads itself as Wagtail autosaves the draft), its checks run
    # on the editor's sandbox account.
    with editor.context.expect_page() as opened:
        editor.get_by_role("link", name="Preview in new tab").click()
    preview = opened.value
    preview_ready(preview)
    expect(preview.locator("#preview-banner")).to_contain_text("Preview — sandbox data")
    preview.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    preview.get_by_label("Order number", exact=True).fill("1006")
    preview.locator("#step-1").get_by_role("button", name="Check this now").click()
    widget = preview.locator("#step-1 [data-check-status]")
    expect(widget).to_have_attribute("data-check-status", "failed", timeout=ANSWERED)
    expect(widget).to_contain_text("Failed: Order #1006 is not ready to import yet (“awaiting payment”)")
    expect(widget).to_contain_text("About order #1006 on “Demo Marketplace – Main store”")
    preview.close()
    # That was the editor's sandbox account's Main store, not the merchant's.
    sandbox = Merchant.objects.get(preview_editor__username="editor")
    assert {run.diagnosis.merchant_id for run in CheckRun.objects.select_related("diagnosis")} == {sandbox.pk}

    # 3. Publish.
    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Publish").click()
    expect(editor.get_by_text(f"Page '{TITLE}' has been published.")).to_be_visible()

    # 4. A merchant opens it from the help center and checks a late order on their own account.
    merchant = new_window()
    sign_in(merchant, demo_site.url)
    merchant.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Help Center").click()
    # Listed with its introduction: the editor wrote no separate search description.
    expect(merchant.locator(".article-card").filter(has_text=TITLE)).to_contain_text(INTRO)
    merchant.get_by_role("link", name=TITLE).click()
    expect(merchant.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    for number, step in enumerate(STEPS, start=1):
        section = merchant.locator(f"#step-{number}")
        expect(section.get_by_role("heading")).to_have_text(f"Step {number}. {step.title}")
        # The checks the editor attached, on the steps they chose; none on the step without one.
        expect(section.get_by_role("button", name="Check this now")).to_have_count(1 if step.check else 0)
        if step.check:
            expect(section).to_contain_text(step.check)

    merchant.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – EU store")
    merchant.get_by_label("Order number", exact=True).fill("4001")
    step_2 = merchant.locator("#step-2")
    step_2.get_by_role("button", name="Check this now").click()
    result = step_2.locator("[data-check-status]")
    expect(result).to_have_attribute("data-check-status", "failed", timeout=ANSWERED)
    expect(result).to_contain_text("Failed: The platform is throttling “Demo Marketplace – EU store”")
    expect(result.locator(".check__evidence")).to_contain_text("API rate limit")

    merchant.get_by_role("button", name="Check every step").click()
    summary = merchant.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done", timeout=ANSWERED)
    expect(summary).to_contain_text("Step 2 keeps the order out")
    expect(summary).to_contain_text("1 of 3 steps passed, 1 couldn't be checked.")
    step_1 = merchant.locator("#step-1 [data-check-status]")
    step_4 = merchant.locator("#step-4 [data-check-status]")
    expect(step_1).to_have_attribute("data-check-status", "unknown")
    expect(step_1).to_contain_text(
        "Couldn't check: Couldn't look order #4001 up on the platform: the platform is throttling the plugin."
    )
    expect(step_1.locator(".check__evidence")).to_contain_text("The platform is throttling")
    expect(step_4).to_have_attribute("data-check-status", "passed")
    expect(step_4).to_contain_text("Passed: Import Orders is on for “Demo Marketplace – EU store”")
    expect(merchant.locator("#step-3 [data-check-status]")).to_have_count(0)
