"""The Article outcomes report in Wagtail's admin, in Chromium, as the demo's support editor."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.commerce.models import Plugin
from apps.help.models import TroubleshootingPage
from apps.insights.services import insights_aggregate_recent
from tests.insights.conftest import diagnose

pytestmark = [pytest.mark.browser]


def test_an_editor_reads_the_outcome_report_and_downloads_it(demo_site, page):
    article = TroubleshootingPage.objects.get(slug="order-did-not-import")
    plugin = Plugin.objects.get(name__contains="Main store")
    now = timezone.now() - timedelta(hours=1)
    for n in range(4):  # Step 3 the most likely cause in 3 of 4 diagnoses
        outcomes = {3: ("failed", "The order is older than the import date.")} if n < 3 else {}
        diagnose(article, article.live_revision_id, now, outcomes, plugin=plugin, order_number=f"77{n}")
    insights_aggregate_recent()

    page.goto(f"{demo_site.url}/cms/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("kitty-editor")
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/cms/$"))
    page.goto(f"{demo_site.url}/cms/reports/article-outcomes/")

    expect(page.get_by_role("heading", name=re.compile("Article outcomes"))).to_be_visible()
    expect(page.locator("[data-figure=diagnoses]")).to_have_text("4")
    cause_chart = page.locator("svg#chart-cause")
    expect(cause_chart).to_be_visible()
    assert cause_chart.bounding_box()["width"] > 300
    expect(cause_chart.locator("title").first).to_contain_text("most likely cause")
    expect(page.locator("svg#chart-days")).to_be_visible()
    row = page.locator("table.steps tr[data-step='3']")
    expect(row).to_contain_text("3 (75%)")
    # Nothing is wider than the window at 1,280 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    step_3 = next(
        r for r in rows if r["Row"] == "step" and r["Step"] == "3" and r["Revision"] != "All revisions"
    )
    assert (step_3["Diagnoses"], step_3["Most likely cause"], step_3["Most likely cause, share of diagnoses"]) == (
        "4", "3", "75.0%",
    )  # fmt: skip


def test_an_anonymous_reader_says_the_article_did_not_help(demo_site, page):
    from apps.insights.models import HelpfulVote

    page.goto(f"{demo_site.url}/help/order-did-not-import/")
    feedback = page.locator("#helpful")
    feedback.get_by_label("What was missing or unclear?").fill(
        "Step 3 <b>does not</b> say where the date is."
    )
    feedback.get_by_role("button", name="No").click()

    expect(feedback).to_contain_text("Thank you for telling us")
    vote = HelpfulVote.objects.get()
    assert (vote.helpful, vote.comment) == (False, "Step 3 does not say where the date is.")
    # The same reader voting again, after a reload, changes their vote rather than adding one.
    page.reload()
    page.locator("#helpful").get_by_role("button", name="Yes, it helped").click()
    expect(page.locator("#helpful")).to_contain_text("Thank you for telling us")
    assert list(HelpfulVote.objects.values_list("helpful", flat=True)) == [True]
