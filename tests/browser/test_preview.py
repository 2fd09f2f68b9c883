"""Editors in a real browser: preview a draft's checks on the sandbox, and choose a step's check."""

import uuid

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]

NEW_STEP = "Is the plugin connected at all?"


def sign_in_to_wagtail(page, base_url, *, username="editor", password="kitty-editor"):
    page.goto(f"{base_url}/cms/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()


def draft_with_a_new_first_step():
    """The article's draft gains a step before Step 1, so the live steps all move down one."""
    from django.contrib.auth import get_user_model

    from apps.help.models import TroubleshootingPage

    article = TroubleshootingPage.objects.get(slug="order-did-not-import")
    draft = article.get_latest_revision_as_object()
    new_step = {
        "type": "step",
        "id": str(uuid.uuid4()),
        "value": {"title": NEW_STEP, "body": "<p>Look at it.</p>", "check": "plugin_authorized"},
    }
    draft.body = [new_step, *draft.body.raw_data]
    revision = draft.save_revision(user=get_user_model().objects.get(username="editor"))
    return article, revision


def test_editor_checks_every_step_of_a_draft_on_the_sandbox(demo_site, page):
    from apps.commerce.models import Membership, Merchant, Plugin

    # The editor is also an owner of a real account: the preview must not use it.
    real = Merchant.objects.get(name="Whisker & Co.")
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    Membership.objects.create(user=editor, merchant=real, role=Membership.Role.OWNER)
    real_outlet = Plugin.objects.get(merchant=real, name__contains="Outlet")
    article, revision = draft_with_a_new_first_step()

    sign_in_to_wagtail(page, demo_site.url)
    # History → Preview of the draft revision: Wagtail's own preview of it.
    page.goto(f"{demo_site.url}/cms/pages/{article.pk}/revisions/{revision.pk}/view/")

    banner = page.locator("#preview-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Preview — sandbox data")
    expect(page.locator("#step-1")).to_contain_text(f"Step 1. {NEW_STEP}")
    expect(page.locator("#step-8")).to_be_visible()

    page.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Outlet")
    page.get_by_label("Order number", exact=True).fill("2001")
    page.get_by_role("button", name="Check every step").click()

    summary = page.locator("#diagnosis-summary")
    expect(summary).to_have_attribute("data-summary-status", "done")
    # Import Orders is Step 1 on the live page; in the draft it is Step 2.
    expect(summary).to_contain_text("Most likely cause: Step 2.")
    expect(summary).to_contain_text("of 8 steps passed")
    expect(page.locator("#step-1 [data-check-status]")).not_to_have_attribute("data-check-status", "idle")
    expect(page.locator("#step-2 [data-check-status]")).to_have_attribute("data-check-status", "failed")

    # The owner-only fix is offered to the editor, and changes the sandbox alone.
    page.locator("#step-2").get_by_role("button", name="Turn on Import Orders").click()
    expect(page.locator("#step-2 [data-check-status]")).to_have_attribute("data-check-status", "passed")
    sandbox = Merchant.objects.get(preview_editor=editor)
    assert Plugin.objects.get(merchant=sandbox, name__contains="Outlet").import_orders
    real_outlet.refresh_from_db()
    assert not real_outlet.import_orders


def test_the_check_chooser_fits_the_page_editor_at_1280_px(demo_site, page):
    from apps.help.models import TroubleshootingPage

    article = TroubleshootingPage.objects.get(slug="order-did-not-import")
    assert page.viewport_size["width"] == 1280
    sign_in_to_wagtail(page, demo_site.url)
    page.goto(f"{demo_site.url}/cms/pages/{article.pk}/edit/")

    chooser = page.locator(".check-chooser").first
    expect(chooser).to_be_visible()
    expect(chooser).to_contain_text("Import Orders on?")
    expect(chooser).to_contain_text("The plugin's Import Orders toggle")
    expect(chooser).to_contain_text("An Order Did Not Import, Step 1")
    expect(chooser).to_contain_text("Turn on Import Orders (owners only)")
    expect(page.get_by_text("Shown as “Step N. <title>”.").first).to_be_visible()

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the editor scrolls sideways by {overflow}px"
    box = chooser.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280

    # A step's chooser takes a few hundred pixels, not a screenful: one line per check, and the
    # chosen check's description and fixes under them.
    choosers = page.locator(".check-chooser")
    heights = [choosers.nth(n).bounding_box()["height"] for n in range(choosers.count())]
    assert len(heights) == 7
    assert max(heights) <= 400, f"a check chooser is {max(heights):.0f}px tall"
    expect(chooser.get_by_text("The plugin's Import Orders toggle")).to_be_visible()
    expect(chooser.get_by_text("Would a sync bring it in?", exact=True)).to_be_visible()
    # The check the set runs before Step 1 is offered to no step: "Check every step" runs it first anyway.
    expect(chooser.get_by_text("Is the order already in Commerce Kitty?", exact=True)).to_be_hidden()
    expect(chooser.locator(".check-chooser__about:visible")).to_have_count(1)

    # A card picks its check: the second step's chooser now says Step 7's check, and both steps say so.
    second, seventh = choosers.nth(1), choosers.nth(6)
    second.get_by_text("Would a sync bring it in?").click()
    expect(second.get_by_label("Would a sync bring it in?")).to_be_checked()
    expect(second.get_by_role("alert")).to_have_text(
        "“Would a sync bring it in?” is also the check of Step 7. A check belongs to one step "
        "(a diagnosis runs each step's check once): choose another check, or No check."
    )
    expect(seventh.get_by_role("alert")).to_contain_text("is also the check of Step 2.")
    expect(choosers.nth(2).get_by_role("alert")).to_be_hidden()

    # Saving it anyway is refused, with the same words on the step.
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The page could not be saved due to validation errors")).to_be_visible()
    expect(page.get_by_text("“Would a sync bring it in?” is also the check of Step 2.").first).to_be_visible()

    # Another check on Step 2 ends both warnings.
    second = page.locator(".check-chooser").nth(1)
    second.get_by_text("On exactly one channel?").click()
    expect(page.locator(".check-chooser__twice:visible")).to_have_count(0)
