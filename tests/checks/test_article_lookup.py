"""The article a check answers for: looked up live, by its own type, with as few queries as it takes."""

import pytest
from django.db import connection, reset_queries
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import Page

from apps.checks.models import CheckRun, Diagnosis
from apps.checks.selectors.articles import live_article
from tests.checks.conftest import plugin_named


def test_a_known_article_is_read_in_one_query_and_is_the_live_one(page):
    live_article(page.pk)  # its type is learned

    page.title = "An Order Did Not Import (edited)"
    page.save_revision().publish()
    with CaptureQueriesContext(connection) as queries:
        found = live_article(str(page.pk))

    assert found.title == "An Order Did Not Import (edited)"
    assert [step.block_type for step in found.body][:1] == ["step"]
    assert len(queries) == 1


def test_an_article_unpublished_after_it_was_seen_is_no_such_article(page):
    live_article(page.pk)
    page.unpublish()

    with pytest.raises(Http404):
        live_article(page.pk)


@pytest.mark.parametrize("page_id", ["", "x", "99999999", "99999999999999999999999", None])
def test_garbage_or_missing_ids_are_no_such_article(page, page_id):
    with pytest.raises(Http404):
        live_article(page_id)


def test_a_page_without_steps_is_no_such_article(page):
    home = Page.objects.get(pk=page.get_parent().pk)

    with pytest.raises(Http404):
        live_article(home.pk)
    with pytest.raises(Http404):  # asked again, once its type is known
        live_article(home.pk)


# --- A merchant's start and looks: what each reads ---------------------------------

RUNS_BY_STEP = 'ORDER BY "checks_checkrun"."block_id"'  # each step's latest run (latest_runs)


def _every_step(client, page, plugin, number="1001"):
    return client.post(
        reverse("checks:start_every_step"),
        {"page": page.pk, "subject": plugin.pk, "order_number": number},
        HTTP_HX_REQUEST="true",
    )


def _sql(queries) -> list[str]:
    return [q["sql"] for q in queries]


@pytest.mark.django_db
def test_a_first_check_of_every_step_shows_each_step_checking_without_reading_its_runs_back(
    merchant_client, demo, tasks_held
):
    page = Page.objects.get(slug="order-did-not-import")
    plugin = plugin_named("Main store")

    reset_queries()  # with DEBUG on, each request empties the log the context reads from
    with CaptureQueriesContext(connection) as queries:
        html = _every_step(merchant_client, page, plugin).content.decode()
    first = _sql(queries)

    assert html.count('data-check-status="running"') == 7  # every step says "Checking…"
    assert 'data-summary-status="running"' in html
    assert not [sql for sql in first if RUNS_BY_STEP in sql]  # the runs it made are the ones it shows

    # Checked again: the diagnosis has runs now, so they are looked for, and the ones in flight reused.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        again = _every_step(merchant_client, page, plugin).content.decode()

    assert again.count('data-check-status="running"') == 7
    assert [sql for sql in _sql(queries) if RUNS_BY_STEP in sql]
    assert CheckRun.objects.count() == 8  # 7 steps and "is it already here?", none started twice


@pytest.mark.django_db
def test_a_look_at_the_summary_or_a_step_reads_the_diagnosis_with_its_article_in_one_query(
    merchant_client, demo
):
    page = Page.objects.get(slug="order-did-not-import")
    plugin = plugin_named("Main store")
    _every_step(merchant_client, page, plugin, "1002")  # checks run inline here: all done
    diagnosis = Diagnosis.objects.get()
    run = diagnosis.runs.get(step_number=1)

    for url, done in (
        (reverse("checks:summary", args=[diagnosis.uuid]), 'data-summary-status="done"'),
        (reverse("checks:run", args=[run.uuid]), f'id="check-{run.block_id}" data-check-status="passed"'),
    ):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            html = merchant_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        sql = _sql(queries)

        assert done in html and "order #1002" in html
        assert (
            len([s for s in sql if 'FROM "checks_diagnosis"' in s or 'FROM "checks_checkrun" INNER' in s])
            == 1
        )
        assert not [s for s in sql if 'FROM "wagtailcore_page"' in s or 'FROM "help_' in s]
