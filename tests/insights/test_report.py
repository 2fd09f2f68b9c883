"""The outcome report in Wagtail's admin: figures per step and per revision, CSV, and who may see it."""

import csv
import io
import re

import pytest
from django.urls import reverse

from apps.insights.services import insights_aggregate_recent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/cms/reports/article-outcomes/"


@pytest.fixture
def counted(outcomes):
    insights_aggregate_recent()
    return outcomes


def figure(page: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert found, f"no {name} figure"
    return found.group(1)


def step_row(page: str, revision: int, number: int) -> str:
    table = re.search(rf'<table class="steps" data-revision="{revision}">(.*?)</table>', page, re.S)
    assert table, f"no step table for revision {revision}"
    row = re.search(rf'<tr data-step="{number}">(.*?)</tr>', table.group(1), re.S)
    assert row, f"no row for step {number}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(1))).strip()


def test_the_report_is_listed_under_reports_and_at_its_url(editor_client, counted):
    assert reverse("insights_outcomes") == URL
    response = editor_client.get("/cms/")
    assert "Article outcomes" in response.content.decode()


def test_editors_see_the_periods_figures(editor_client, counted):
    page = editor_client.get(URL).content.decode()

    assert figure(page, "diagnoses") == "6"
    assert figure(page, "with_cause") == "2"
    assert figure(page, "tickets") == "1"
    assert figure(page, "self_service") == "83%"  # 5 of 6 did without a ticket
    assert figure(page, "order_arrived") == "1"


def test_each_step_is_compared_across_revisions(editor_client, counted):
    page = editor_client.get(URL).content.decode()

    first, second = counted["first"], counted["second"]
    assert "1 (33%)" in step_row(page, first, 1)
    assert "0 (0%)" in step_row(page, second, 1)
    assert "The platform did not answer about order … at … (1)" in step_row(page, first, 2)
    assert "Import orders since a date: 2 → 1 → 1" in step_row(page, second, 3)
    assert "1 (33%)" in step_row(page, second, 3)


def test_the_report_draws_its_charts(editor_client, counted):
    page = editor_client.get(URL).content.decode()

    for chart in ("chart-days", "chart-cause", "chart-unknown", "chart-fixes"):
        assert f'<svg class="insights-chart" id="{chart}"' in page
    # One bar per revision for each step: 2 revisions x 7 steps.
    cause_chart = re.search(r'id="chart-cause".*?</svg>', page, re.S).group(0)
    assert len(re.findall(r"<rect [^>]*><title>", cause_chart)) == 14


def test_the_csv_has_a_row_per_revision_and_step(editor_client, counted):
    response = editor_client.get(URL, {"export": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    # two revisions and all of them, each an article row and 7 steps; and the one language it is read in
    assert len(rows) == 3 * 8 + 1
    article = next(r for r in rows if r["Row"] == "article" and r["Revision id"] == str(counted["first"]))
    assert (article["Diagnoses"], article["Ended in a ticket"], article["Self-service rate"]) == (
        "3",
        "1",
        "66.7%",
    )
    step = next(
        r
        for r in rows
        if r["Row"] == "step" and r["Revision id"] == str(counted["second"]) and r["Step"] == "3"
    )
    assert (step["Most likely cause"], step["Fixes offered"], step["Fixes applied"]) == ("1", "2", "1")
    assert step["Order imported within a day of a fix"] == "1"


def test_the_report_shows_no_merchant_or_order(editor_client, counted):
    page = editor_client.get(URL).content.decode()
    csv_text = b"".join(editor_client.get(URL, {"export": "csv"}).streaming_content).decode()

    for private in ("2001", "2002", "3001", "Demo Marketplace", "Merchant "):
        assert private not in page
        assert private not in csv_text


def test_the_report_answers_in_few_queries(editor_client, counted, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        editor_client.get(URL)


@pytest.mark.parametrize("who", ["merchant", "staff_without_permission"])
def test_others_cannot_see_the_report(client, counted, who):
    user = UserFactory(username=who, is_staff=who != "merchant")
    client.force_login(user)

    response = client.get(URL)

    assert response.status_code in (302, 403)
    assert "data-figure" not in response.content.decode()


def test_anonymous_readers_are_sent_to_sign_in(client, counted):
    response = client.get(URL)

    assert response.status_code == 302
    assert "/cms/login/" in response["Location"]


def test_the_report_downloads_as_a_spreadsheet_too(editor_client, counted):
    response = editor_client.get(URL, {"export": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        'attachment; filename="article-outcomes-order-did-not-import-'
    )


@pytest.mark.parametrize(
    "username,password,sees",
    [
        ("merchant", "kitty-merchant", False),
        ("editor", "kitty-editor", True),
        ("agent", "kitty-agent", False),
        ("admin", "kitty-admin", True),
    ],
)
def test_the_demos_editor_and_admin_see_the_report_and_no_one_else(client, counted, username, password, sees):
    from io import StringIO

    from django.core.management import call_command

    call_command("demo_setup", stdout=StringIO())
    assert client.login(username=username, password=password)

    response = client.get(URL)
    menu = client.get("/cms/").content.decode()

    assert (response.status_code == 200 and 'data-figure="diagnoses">6<' in response.content.decode()) is sees
    assert ("Article outcomes" in menu) is sees


def test_the_report_says_whether_the_last_edit_helped(editor_client, counted):
    page = editor_client.get(URL).content.decode()

    change = re.sub(r"\s+", " ", re.search(r'<p id="latest-change">(.*?)</p>', page, re.S).group(1))
    assert f"Since Revision {counted['second']} " in change
    assert f"compared with Revision {counted['first']} " in change
    # Second revision: 3 diagnoses, none ended in a ticket, 1 found a cause; the first: 1 ticket in 3.
    assert "self-service rate 100% (was 67%)" in change
    assert "most likely cause found 33% (was 33%)" in change
