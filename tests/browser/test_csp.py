"""Pages, htmx and Wagtail's admin work under the Content-Security-Policy: the browser reports no violation."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from wagtail.models import Page

from tests.conftest import wagtail_tree_ensure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script and is not subject to the page's policy.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, and every CSP complaint (or refused eval) the browser reports while on it."""
    complaints = []
    page.add_init_script(RECORD_VIOLATIONS)

    # A CSP refusal, or htmx refusing to eval (allowEval is off: "htmx:evalDisallowedError").
    def on_console(msg):
        if "Content Security Policy" in msg.text or "eval" in msg.text.lower():
            complaints.append(f"{msg.text} ({msg.location.get('url', '')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: complaints.append(f"page error: {exc}"))

    def violations() -> list[str]:
        try:
            recorded = page.evaluate("window.__cspViolations || []")
        except Exception:  # the page is navigating; the console listener still has everything
            recorded = []
        return complaints + recorded

    page.violations = violations
    return page


@pytest.fixture
def demo_site(live_server):
    from io import StringIO

    wagtail_tree_ensure()
    call_command("demo_setup", stdout=StringIO())
    return live_server


@pytest.fixture
def demo_site_with_worker(celery_worker, demo_site):
    """Checks run on a real worker, so the widgets poll (htmx triggers) while they wait."""
    return demo_site


def sign_in(page, base_url, username="merchant", password="kitty-merchant"):
    page.goto(f"{base_url}/accounts/login/?next=/help/order-did-not-import/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_every_response_carries_the_policy(demo_site, watched):
    response = watched.goto(f"{demo_site.url}/help/order-did-not-import/")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-eval" not in policy and "unsafe-inline" not in policy


def test_the_article_signed_out_has_no_violation(demo_site, watched):
    watched.goto(f"{demo_site.url}/help/order-did-not-import/")
    expect(watched.locator("#step-7")).to_be_visible()
    watched.get_by_label("Search the help center").fill("order") if watched.get_by_label(
        "Search the help center"
    ).count() else None

    assert watched.violations() == []


def test_the_login_page_has_no_violation(demo_site, watched):
    watched.goto(f"{demo_site.url}/accounts/login/")
    watched.get_by_label("Username").fill("merchant")
    watched.get_by_label("Password").fill("wrong")
    watched.get_by_role("button", name="Sign in").click()
    expect(watched.get_by_role("alert")).to_be_visible()

    assert watched.violations() == []


def test_the_article_signed_in_with_a_check_run_has_no_violation(demo_site_with_worker, watched):
    sign_in(watched, demo_site_with_worker.url)
    expect(watched.get_by_role("heading", name="An Order Did Not Import")).to_be_visible()
    watched.get_by_label("Plugin", exact=True).select_option(label="Demo Marketplace – Main store")
    watched.get_by_label("Order number", exact=True).fill("#1006")

    step_1 = watched.locator("#step-1")
    step_1.get_by_role("button", name="Check this now").click()
    expect(step_1.locator("[data-check-status]")).not_to_have_attribute("data-check-status", "running")
    watched.get_by_role("button", name="Check every step").click()
    expect(watched.locator("#diagnosis-summary")).to_have_attribute(
        "data-summary-status", "done", timeout=30_000
    )
    watched.locator("#still-missing").scroll_into_view_if_needed()

    assert watched.violations() == []


def test_wagtails_page_editor_has_no_violation(demo_site, watched):
    article = Page.objects.get(slug="order-did-not-import")

    login = watched.goto(f"{demo_site.url}/cms/login/")
    assert "unsafe-inline" not in login.headers["content-security-policy"]
    watched.get_by_label("Username").fill("editor")
    watched.get_by_label("Password").fill("kitty-editor")
    watched.locator("button[type=submit]").click()
    expect(watched).to_have_url(re.compile(r"/cms/$"))
    watched.goto(f"{demo_site.url}/cms/pages/{article.pk}/edit/")
    title = watched.locator("input[name=title]")
    expect(title).to_have_value("An Order Did Not Import")
    watched.wait_for_load_state("networkidle")
    # The editor's scripts run: the StreamField of steps is drawn, and typing marks the page as changed.
    expect(
        watched.locator("[data-streamfield-stream-container], .w-stream-field, [data-contentpath]").first
    ).to_be_visible()
    title.fill("An Order Did Not Import (draft)")
    watched.get_by_role("button", name=re.compile("Save draft")).click()
    expect(watched.locator(".messages, [role=status]").first).to_contain_text("updated")
    listing = watched.goto(f"{demo_site.url}/cms/pages/{article.get_parent().pk}/")
    expect(watched.get_by_text("An Order Did Not Import").first).to_be_visible()
    assert "unsafe-eval" not in listing.headers["content-security-policy"]

    assert watched.violations() == []


def test_the_api_tokens_page_has_no_violation_and_its_copy_button_copies(demo_site, watched):
    watched.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo_site.url)
    sign_in(watched, demo_site.url)
    expect(watched.get_by_role("heading", name="An Order Did Not Import")).to_be_visible()
    watched.get_by_role("link", name="API tokens").click()
    watched.get_by_label("Name").fill("Support bot")
    watched.get_by_role("checkbox", name="diagnose:").check()

    watched.get_by_role("button", name="Make the token").click()

    expect(watched.get_by_role("heading", name="Copy your new token now")).to_be_visible()
    shown = watched.get_by_label("Your new token").input_value()
    copy = watched.locator("[data-copy-from]")
    watched.get_by_role("button", name="Copy").click()  # shown by a script: this one runs under the policy
    expect(copy).to_have_text("Copied")
    assert watched.evaluate("navigator.clipboard.readText()") == shown

    assert watched.violations() == []
